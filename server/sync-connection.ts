// One sync socket's conversation, without the socket: a message in, maybe a reply and maybe a
// close out. The socket adapter in app.ts feeds it in order; the fuzz test drives it directly.
import { asLog, type Log } from './log';
import { CLOSE, LIMITS, parseClientMessage, type ServerMessage } from '../src/sync/protocol';
import { parseDeviceToken, secretMatches } from './auth';
import type { EventStore } from './store';

export interface HandleOutcome {
  readonly reply?: ServerMessage;
  readonly close?: { readonly code: number; readonly reason: string };
}

export interface SyncStats {
  closedInvalid: number;
  closedTooBig: number;
  closedRate: number;
  closedUnauthorised: number;
  closedForbidden: number;
  closedStorage: number;
  stored: number;
}

export const newSyncStats = (): SyncStats => ({ closedInvalid: 0, closedTooBig: 0, closedRate: 0, closedUnauthorised: 0, closedForbidden: 0, closedStorage: 0, stored: 0 });

export interface SyncConnectionOptions {
  readonly store: EventStore;
  /** Token bucket: sustained messages per second, and burst. */
  readonly rate?: { readonly perSecond: number; readonly burst: number };
  /** Sessions one socket may greet; a client needs one per outbox session it is sending. */
  readonly maxSessions?: number;
  /**
   * Asked once, when the first hello has proved the device (before its session is claimed):
   * a close (e.g. the device already holds its most sockets) refuses the socket.
   */
  readonly admit?: (deviceId: string) => { readonly code: number; readonly reason: string } | undefined;
  readonly stats?: SyncStats;
  /** A pino-style logger, or a line sink (tests); none: silent. */
  readonly log?: Log | ((line: string) => void);
  readonly now?: () => number;
  /** Who is on the other end, for the log. */
  readonly peer?: string;
}

/** Checks a device token against the store: the device id on success, in constant time per token. */
export async function verifyDeviceToken(store: EventStore, token: string): Promise<string | undefined> {
  const parsed = parseDeviceToken(token);
  const device = parsed ? await store.device(parsed.deviceId) : undefined;
  const ok = secretMatches(parsed?.secret ?? token, device?.secretHash);
  return ok && device && device.revokedAt === null ? device.deviceId : undefined;
}

/**
 * A close frame carries at most 123 bytes of reason (ws throws past that), and a reason may name
 * what the client sent (a field's name, in any script): cut to whole characters within 120 bytes.
 */
function closeReason(reason: string): string {
  let out = '';
  let bytes = 0;
  for (const ch of reason) {
    bytes += Buffer.byteLength(ch);
    if (bytes > 120) break;
    out += ch;
  }
  return out;
}

export class SyncConnection {
  /** The device this socket speaks for, once a hello proved it. */
  device: string | undefined;
  private readonly greeted = new Set<string>();
  private tokens: number;
  private refilled: number;
  private closed = false;
  private readonly rate: { readonly perSecond: number; readonly burst: number };
  private readonly stats: SyncStats;
  private readonly log: Log;
  private readonly now: () => number;

  constructor(private readonly opts: SyncConnectionOptions) {
    this.rate = opts.rate ?? { perSecond: 100, burst: 200 };
    this.stats = opts.stats ?? newSyncStats();
    this.log = asLog(opts.log);
    this.now = opts.now ?? Date.now;
    this.tokens = this.rate.burst;
    this.refilled = this.now();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Never throws: whatever arrives, the answer is an outcome. */
  async handle(data: string | Buffer, isBinary = false): Promise<HandleOutcome> {
    if (this.closed) return {};
    try {
      return await this.handleUnsafe(data, isBinary);
    } catch (err) {
      this.log.error({ peer: this.opts.peer, err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'sync: internal error');
      this.stats.closedStorage++;
      return this.close(CLOSE.storage, 'server error; retry');
    }
  }

  /** The socket was closed from outside (revocation, shutdown): later messages are ignored. */
  markClosed(): void {
    this.closed = true;
  }

  private close(code: number, reason: string): HandleOutcome {
    this.closed = true;
    return { close: { code, reason: closeReason(reason) } };
  }

  private async handleUnsafe(data: string | Buffer, isBinary: boolean): Promise<HandleOutcome> {
    const now = this.now();
    this.tokens = Math.min(this.rate.burst, this.tokens + ((now - this.refilled) / 1000) * this.rate.perSecond);
    this.refilled = now;
    if (--this.tokens < 0) {
      this.stats.closedRate++;
      this.log.warn({ peer: this.opts.peer }, 'sync: rate limit exceeded');
      return this.close(CLOSE.policy, 'rate limit exceeded');
    }
    const size = typeof data === 'string' ? data.length : data.byteLength;
    if (size > LIMITS.maxMessageBytes) {
      this.stats.closedTooBig++;
      return this.close(CLOSE.tooBig, `message over ${LIMITS.maxMessageBytes} bytes`);
    }
    const parsed = isBinary ? ({ ok: false, reason: 'binary message' } as const) : parseClientMessage(typeof data === 'string' ? data : data.toString('utf8'));
    if (!parsed.ok) {
      this.stats.closedInvalid++;
      this.log.warn({ peer: this.opts.peer, reason: parsed.reason }, 'sync: invalid message');
      return this.close(CLOSE.invalid, parsed.reason);
    }
    const msg = parsed.msg;
    const { store } = this.opts;

    if (msg.type === 'hello') {
      const device = await verifyDeviceToken(store, msg.token);
      if (!device) return this.unauthorised('bad or revoked device token');
      if (this.device !== undefined && this.device !== device) return this.forbidden('one device per socket');
      const notAdmitted = this.device === undefined ? this.opts.admit?.(device) : undefined;
      if (notAdmitted) {
        this.log.warn({ peer: this.opts.peer, device, reason: notAdmitted.reason, close: notAdmitted.code }, 'sync: socket refused');
        return this.close(notAdmitted.code, notAdmitted.reason);
      }
      if (!this.greeted.has(msg.sessionId) && this.greeted.size >= (this.opts.maxSessions ?? 256)) {
        this.stats.closedRate++;
        return this.close(CLOSE.policy, 'too many sessions on one socket');
      }
      const claim = await store.claimSession(msg.sessionId, device, this.now());
      if (claim.owner !== device) return this.forbidden(`session ${msg.sessionId} belongs to another device`);
      this.device = device;
      this.greeted.add(msg.sessionId);
      return { reply: { type: 'welcome', sessionId: msg.sessionId, ackedSeq: claim.lastSeq } };
    }

    if (this.device === undefined) return this.unauthorised('hello first');
    if (!this.greeted.has(msg.sessionId)) return this.forbidden(`no hello for session ${msg.sessionId} on this socket`);
    const result = await store.append(this.device, msg.sessionId, msg.events);
    if (!result.ok) return result.why === 'revoked' ? this.unauthorised('device revoked') : this.forbidden(`session ${msg.sessionId} belongs to another device`);
    this.stats.stored += result.stored;
    return { reply: { type: 'ack', sessionId: msg.sessionId, seq: result.seq } };
  }

  private unauthorised(reason: string): HandleOutcome {
    this.stats.closedUnauthorised++;
    this.log.warn({ peer: this.opts.peer, reason, close: 4401 }, 'sync: unauthorised');
    return this.close(CLOSE.unauthorised, reason);
  }

  private forbidden(reason: string): HandleOutcome {
    this.stats.closedForbidden++;
    this.log.warn({ peer: this.opts.peer, reason, close: 4403 }, 'sync: forbidden');
    return this.close(CLOSE.forbidden, reason);
  }
}
