// One sync socket's conversation, without the socket: a message in, maybe a reply and maybe a
// close out. The socket adapter in app.ts feeds it in order; the fuzz test drives it directly.
import { asLog, type Log } from './log';
import { CLOSE, LIMITS, parseClientMessage, type ServerMessage } from '../src/sync/protocol';
import { parseDeviceToken, secretMatches } from './auth';
import type { DiskWatch } from './disk-watch';
import type { EventStore } from './store';
import type { BudgetVerdict, WriteBudgets } from './write-budget';

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
  /** Closed with CLOSE.quota: a device over its daily total, its sessions for the day, or far over its rate. */
  closedQuota: number;
  /** Closed with CLOSE.storageLow: the disk under the free-space watermark. */
  closedDiskLow: number;
  /** Closed with CLOSE.sessionFull: a message would have taken its session past the most events one may hold. */
  closedSessionFull: number;
  /** Messages held back to keep a device to its rate, and for how long in all. */
  rateWaits: number;
  rateWaitMs: number;
  stored: number;
}

export const newSyncStats = (): SyncStats => ({
  closedInvalid: 0,
  closedTooBig: 0,
  closedRate: 0,
  closedUnauthorised: 0,
  closedForbidden: 0,
  closedStorage: 0,
  closedQuota: 0,
  closedDiskLow: 0,
  closedSessionFull: 0,
  rateWaits: 0,
  rateWaitMs: 0,
  stored: 0,
});

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
  /** How far an event's `ts` may lie from `now`, either way (DEFAULT_MAX_CLOCK_SKEW_MS). */
  readonly maxClockSkewMs?: number;
  /** Each device's share of writes, shared by every sync socket of the server. */
  readonly budgets?: WriteBudgets;
  /** Writes are refused while the data's disk is under its free-space watermark. */
  readonly disk?: DiskWatch;
  /** How a message waits out its device's rate (tests: a clock that moves). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The most events one session may hold (DEFAULT_MAX_SESSION_EVENTS): a message that would take it past closes the socket with 4413. */
  readonly maxSessionEvents?: number;
}

/** An event's time may lie this far from the server's clock, either way: 7 days. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 7 * 86_400_000;

/** The most events one session may hold: a guided session sends a few verdicts a second, so hours of it. */
export const DEFAULT_MAX_SESSION_EVENTS = 100_000;

/** What a device is told when a session is full: the session named when the close reason has room for it. */
export function sessionFullReason(sessionId: string, held: number, max: number): string {
  const tail = `holds ${held} events; a session may hold at most ${max}; start a new session`;
  const named = `session ${sessionId} ${tail}`;
  return Buffer.byteLength(named) <= 120 ? named : `this session ${tail}`;
}

const DAY_MS = 86_400_000;
function inWords(ms: number): string {
  if (ms >= 365 * DAY_MS) return `${+(ms / (365.25 * DAY_MS)).toPrecision(3)} years`;
  if (ms < DAY_MS) return `${Math.round(ms / 1000)} s`;
  const days = +(ms / DAY_MS).toFixed(1);
  return `${days} ${days === 1 ? 'day' : 'days'}`;
}

/**
 * Why a batch's times cannot be true, or undefined: an event whose `ts` lies more than `skewMs`
 * from the server's clock (a device clock set years off, or a made-up time) would sort and
 * show as nonsense, so the batch is refused whole and nothing of it is stored.
 */
export function eventTimeProblem(events: readonly { readonly seq: number; readonly ts: number }[], now: number, skewMs: number): string | undefined {
  const bad = events.find((e) => !(Math.abs(e.ts - now) <= skewMs));
  if (!bad) return undefined;
  const off = bad.ts - now;
  return `event ${bad.seq}: ts ${bad.ts} is ${inWords(Math.abs(off))} ${off > 0 ? 'ahead of' : 'behind'} the server clock (limit ±${inWords(skewMs)})`;
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

const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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
    if (this.device !== undefined) {
      // A device whose writes would be refused costs no parsing.
      const early = (await this.diskLow(0)) ?? this.precheck(this.device, size);
      if (early) return early;
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
      const refused = (await this.diskLow(0, device)) ?? (await this.overBudgetAtHello(device, msg.sessionId));
      if (refused) return refused;
      const claim = await store.claimSession(msg.sessionId, device, this.now());
      if (claim.owner !== device) return this.forbidden(`session ${msg.sessionId} belongs to another device`);
      this.device = device;
      this.greeted.add(msg.sessionId);
      return { reply: { type: 'welcome', sessionId: msg.sessionId, ackedSeq: claim.lastSeq } };
    }

    if (this.device === undefined) return this.unauthorised('hello first');
    if (!this.greeted.has(msg.sessionId)) return this.forbidden(`no hello for session ${msg.sessionId} on this socket`);
    const badTime = eventTimeProblem(msg.events, now, this.opts.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS);
    if (badTime) {
      this.stats.closedInvalid++;
      this.log.warn({ peer: this.opts.peer, device: this.device, reason: badTime }, 'sync: event time outside the window');
      return this.close(CLOSE.invalid, badTime);
    }
    const low = await this.diskLow(size);
    if (low) return low;
    const { budgets } = this.opts;
    if (budgets) {
      const verdict = budgets.events(this.device, size, msg.events.length);
      if (!verdict.ok) return this.overBudget(this.device, verdict);
      if (verdict.waitMs > 0) {
        // Back-pressure: the ack waits, and a device that keeps one batch in flight slows to its share.
        this.stats.rateWaits++;
        this.stats.rateWaitMs += verdict.waitMs;
        await (this.opts.sleep ?? wait)(verdict.waitMs);
        if (this.closed) return {};
      }
    }
    const result = await store.append(this.device, msg.sessionId, msg.events, { ...(budgets ? { withUsage: true } : {}), maxEvents: this.opts.maxSessionEvents ?? DEFAULT_MAX_SESSION_EVENTS });
    if (!result.ok) {
      if (result.why === 'full') return this.sessionFull(msg.sessionId, result.held);
      return result.why === 'revoked' ? this.unauthorised('device revoked') : this.forbidden(`session ${msg.sessionId} belongs to another device`);
    }
    if (result.usage) budgets?.record(this.device, result.usage);
    this.stats.stored += result.stored;
    return { reply: { type: 'ack', sessionId: msg.sessionId, seq: result.seq } };
  }

  /** Under the disk's watermark: no write is taken (a hello claims a session, so it is one too). */
  private async diskLow(bytes: number, device = this.device): Promise<HandleOutcome | undefined> {
    const verdict = await this.opts.disk?.check(bytes);
    if (!verdict || verdict.ok) return undefined;
    // Refused at its hello, the device is still known (and counted as itself).
    this.device ??= device;
    this.stats.closedDiskLow++;
    this.log.error({ peer: this.opts.peer, device: this.device, freeBytes: verdict.freeBytes, close: verdict.code }, 'sync: writes refused, the disk is nearly full');
    return this.close(verdict.code, verdict.reason);
  }

  private precheck(device: string, size: number): HandleOutcome | undefined {
    const verdict = this.opts.budgets?.precheck(device, size);
    return verdict && !verdict.ok ? this.overBudget(device, verdict) : undefined;
  }

  /** A hello from a device over its daily total, or over its sessions for the day when the session is new. */
  private async overBudgetAtHello(device: string, sessionId: string): Promise<HandleOutcome | undefined> {
    const { budgets, store } = this.opts;
    if (!budgets) return undefined;
    budgets.record(device, await store.usage(device, this.now()));
    const daily = budgets.daily(device);
    if (!daily.ok) return this.overBudget(device, daily);
    const session = budgets.newSession(device);
    if (session.ok || this.greeted.has(sessionId)) return undefined;
    // Over the day's sessions: one this device already holds may still be resumed.
    const [existing] = await store.sessionsById([sessionId]);
    return existing?.deviceId === device ? undefined : this.overBudget(device, session);
  }

  private overBudget(device: string, verdict: Extract<BudgetVerdict, { ok: false }>): HandleOutcome {
    this.stats.closedQuota++;
    this.device ??= device;
    this.log.warn({ peer: this.opts.peer, device, limit: verdict.limit, retryAfterMs: verdict.retryAfterMs, close: verdict.code }, 'sync: device over its share');
    return this.close(verdict.code, verdict.reason);
  }

  private sessionFull(sessionId: string, held: number): HandleOutcome {
    const max = this.opts.maxSessionEvents ?? DEFAULT_MAX_SESSION_EVENTS;
    this.stats.closedSessionFull++;
    this.log.warn({ peer: this.opts.peer, device: this.device, sessionId, held, max, close: CLOSE.sessionFull }, 'sync: session full');
    return this.close(CLOSE.sessionFull, sessionFullReason(sessionId, held, max));
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
