import { reconnecting, sleep } from './backoff';
import { EnrolmentRefused } from './enroll';
import type { Batch, Outbox } from './outbox';
import { CLOSE, parseServerMessage, type ClientMessage, type ServerMessage } from './protocol';

export type SyncState =
  /** Asking the backend for this device's credential. */
  | 'enrolling'
  /** Nothing to send; no socket open. */
  | 'idle'
  | 'connecting'
  | 'connected'
  /** The last attempt failed; retrying with backoff. */
  | 'offline'
  /** Another tab holds the sync lock and sends for this origin. */
  | 'standby'
  /** The backend will not take this device (enrolment refused, credential revoked); nothing is retried until the person acts. */
  | 'refused'
  | 'stopped';

/** A session kept on this device that is not being sent; it never holds up the others. */
export interface HeldSession {
  readonly sessionId: string;
  readonly reason: 'forbidden' | 'lost' | 'rejected' | 'unsendable';
  /** Events of it still kept here. */
  readonly events: number;
  /** For `lost`: how many acknowledged events the backend no longer has. */
  readonly lost?: number;
  readonly message: string;
}

export interface SyncStatus {
  readonly state: SyncState;
  readonly pending: number;
  readonly lastAck?: { readonly sessionId: string; readonly seq: number; readonly at: number };
  /** Why the last attempt failed, or why the backend refuses this device. */
  readonly error?: string;
  readonly reconnects: number;
  readonly held: readonly HeldSession[];
  /** Replies that claimed more than this device sent, and were not believed. */
  readonly distrusted: number;
  /** Close codes seen, with how often. */
  readonly closes: Readonly<Record<number, number>>;
}

/** Where the device token comes from: a fixed one, or one kept (and enrolled for when missing) per backend. */
export interface CredentialSource {
  /** Throws EnrolmentRefused when the backend will not enrol this device; anything else is retried. */
  token(onEnrolling: () => void): Promise<string>;
}

export interface SyncOptions {
  /** ws:// or wss:// URL of the sync endpoint. */
  readonly url: string;
  readonly credential: string | CredentialSource;
  readonly onStatus?: (s: SyncStatus) => void;
  /** Name of the Web Lock that makes one tab per origin the sender. */
  readonly lockName?: string;
  readonly ackTimeoutMs?: number;
  /** First and longest wait between failed attempts (defaults 0.5 s and 30 s). */
  readonly backoff?: { readonly startingDelay?: number; readonly maxDelay?: number };
}

/**
 * Least time between two events messages on one socket: well under the backend's rate limit
 * (100 messages/s), and events that trickle in meanwhile join the next batch.
 */
const MIN_SEND_INTERVAL_MS = 25;

export const CREDENTIAL_REFUSED =
  "The backend refused this device's credential (revoked, or the backend no longer knows this device). Enrol again from Settings → Enrol this device again; every event is kept on this device until then.";

/** The backend will not take this device; retrying cannot help. */
export class SyncRefused extends Error {
  override name = 'SyncRefused';
}

/** A reply claimed more than this device sent or recorded: nothing is deleted on its word. */
export class UntrustedReply extends Error {
  override name = 'UntrustedReply';
}

class SocketClosed extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`connection closed (${code}${reason ? `: ${reason}` : ''})`);
  }
}

export type Verdict =
  | { readonly kind: 'advance'; readonly to: number }
  | { readonly kind: 'none' }
  | { readonly kind: 'untrusted'; readonly message: string }
  | { readonly kind: 'lost'; readonly lost: number; readonly holds: number; readonly had: number };

/**
 * What a welcome may change: the backend can hold at most what this device appended (an
 * earlier connection may have sent and lost the ack), never more; holding less than this
 * device already deleted means the backend lost them.
 */
export function judgeWelcome(sessionId: string, ackedSeq: number, local: { readonly appended: number; readonly acked: number }): Verdict {
  if (ackedSeq > local.appended) {
    return { kind: 'untrusted', message: `The backend says it holds session ${sessionId} up to #${ackedSeq}, but this device has only recorded up to #${local.appended}: not trusted. Nothing was deleted here; reconnecting.` };
  }
  if (ackedSeq < local.acked) return { kind: 'lost', lost: local.acked - ackedSeq, holds: ackedSeq, had: local.acked };
  return ackedSeq > local.acked ? { kind: 'advance', to: ackedSeq } : { kind: 'none' };
}

/** What an ack for the batch `first..last` may change: nothing above `last` (what was sent) is believed. */
export function judgeAck(sessionId: string, seq: number, batch: { readonly first: number; readonly last: number }): Verdict {
  if (seq > batch.last) {
    return { kind: 'untrusted', message: `The backend acknowledged #${seq} of session ${sessionId}, but this device has only sent up to #${batch.last}: not trusted. Nothing was deleted here; reconnecting.` };
  }
  if (seq < batch.first - 1) return { kind: 'lost', lost: batch.first - 1 - seq, holds: seq, had: batch.first - 1 };
  return seq === batch.first - 1 ? { kind: 'none' } : { kind: 'advance', to: seq };
}

/**
 * Sends the outbox to the backend, in order, resuming from the server's acknowledged
 * sequence after every reconnect or reload. Only the tab holding the Web Lock sends.
 * A session the backend will not take is held back (kept, reported) and never blocks the others.
 */
export class SyncClient {
  private status: SyncStatus = { state: 'standby', pending: 0, reconnects: 0, held: [], distrusted: 0, closes: {} };
  private readonly abort = new AbortController();
  private socket: Connection | undefined;
  private stopped = false;
  private unwatch: (() => void) | undefined;
  private readonly held = new Map<string, HeldSession>();

  constructor(
    private readonly outbox: Outbox,
    private readonly opts: SyncOptions,
  ) {}

  start(): void {
    void this.refreshPending();
    // Pending counts follow the outbox in every state, offline and standby included.
    let queued = false;
    this.unwatch = this.outbox.watch(() => {
      if (queued) return;
      queued = true;
      setTimeout(() => {
        queued = false;
        void this.refreshPending();
      }, 100);
    });
    navigator.locks
      .request(this.opts.lockName ?? 'framewise-sync', { signal: this.abort.signal }, () => this.loop())
      .catch((err: unknown) => {
        if (!this.stopped) this.update({ state: 'stopped', error: String(err) });
      });
  }

  /** Stops at once: the socket is closed and the lock released, even in the middle of a backoff wait. */
  stop(): void {
    this.stopped = true;
    this.unwatch?.();
    this.abort.abort();
    this.socket?.close(1000, 'stopped');
    this.update({ state: 'stopped' });
  }

  get current(): SyncStatus {
    return this.status;
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    this.update({ state: 'connecting' });
    try {
      await reconnecting(() => this.attempt(), {
        signal: this.abort.signal,
        startingDelay: this.opts.backoff?.startingDelay,
        maxDelay: this.opts.backoff?.maxDelay,
        isFatal: (err) => err instanceof SyncRefused || err instanceof EnrolmentRefused,
        onFailure: (err) => {
          if (this.stopped) return;
          this.update({ state: 'offline', error: err instanceof Error ? err.message : String(err), reconnects: this.status.reconnects + 1 });
        },
      });
    } catch (err) {
      // Refused: the lock is released, and nothing retries until the person enrols again.
      if (!this.stopped) this.update({ state: 'refused', error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** One connection's worth of work. Resolves only after progress (the next starts at once); throws otherwise (the next waits). */
  private async attempt(): Promise<void> {
    const token = typeof this.opts.credential === 'string' ? this.opts.credential : await this.opts.credential.token(() => this.update({ state: 'enrolling' }));
    // Connect only with something to send: the first message must be a hello, and an idle socket is a burden on the backend.
    if (!(await this.waitForBatch())) return;
    if (this.status.state !== 'offline') this.update({ state: 'connecting' });
    const conn = await Connection.open(this.opts.url, this.abort.signal, this.opts.ackTimeoutMs ?? 10_000);
    this.socket = conn;
    this.update({ state: 'connected', error: undefined });
    let progressed = false;
    const greeted = new Set<string>();
    let inFlight: { sessionId: string; kind: 'hello' | 'events' } | undefined;
    let lastSent = -Infinity;
    try {
      for (;;) {
        if (this.stopped) return;
        const wait = lastSent + MIN_SEND_INTERVAL_MS - performance.now();
        if (wait > 0) await sleep(wait, this.abort.signal);
        const batch = await this.outbox.nextBatch(new Set(this.held.keys()));
        if (!batch) {
          await this.refreshPending();
          await Promise.race([this.outbox.waitForEvents(5000), conn.closed]);
          conn.check();
          continue;
        }
        if (batch.unsendable) {
          await this.hold(batch.sessionId, 'unsendable', (n) => `Session ${batch.sessionId}: event #${batch.unsendable.seq} (${(batch.unsendable.bytes / 1024).toFixed(1)} KiB) is over the backend's limit and can never be sent; the session's ${n} events are kept on this device.`);
          progressed = true;
          continue;
        }
        const sessionId = batch.sessionId;
        if (!greeted.has(sessionId)) {
          inFlight = { sessionId, kind: 'hello' };
          conn.send({ type: 'hello', sessionId, token });
          const welcome = await conn.receive('welcome', sessionId, this.opts.ackTimeoutMs ?? 10_000);
          inFlight = undefined;
          const local = (await this.outbox.progress(sessionId)) ?? { appended: batch.events.at(-1)!.seq, acked: batch.events[0]!.seq - 1 };
          if (await this.apply(sessionId, judgeWelcome(sessionId, welcome.ackedSeq, local))) progressed = true;
          greeted.add(sessionId);
          continue;
        }
        const range = { first: batch.events[0]!.seq, last: batch.events.at(-1)!.seq };
        inFlight = { sessionId, kind: 'events' };
        conn.send({ type: 'events', sessionId, events: batch.events });
        lastSent = performance.now();
        const ack = await conn.receive('ack', sessionId, this.opts.ackTimeoutMs ?? 10_000);
        inFlight = undefined;
        const verdict = judgeAck(sessionId, ack.seq, range);
        // Stored nothing and said so: sending the same batch again at once would loop hot.
        if (verdict.kind === 'none') throw new Error(`the backend stored none of session ${sessionId} from #${range.first}; retrying later`);
        if (await this.apply(sessionId, verdict)) progressed = true;
      }
    } catch (err) {
      conn.close(1000, 'client retrying');
      if (this.stopped) return;
      if (err instanceof SocketClosed) {
        this.update({ closes: { ...this.status.closes, [err.code]: (this.status.closes[err.code] ?? 0) + 1 } });
        if (err.code === CLOSE.unauthorised) throw new SyncRefused(CREDENTIAL_REFUSED);
        if (inFlight && err.code === CLOSE.forbidden) {
          const sid = inFlight.sessionId;
          await this.hold(sid, 'forbidden', (n) => `${n} events of session ${sid} refused by the backend: another device owns that session. They are kept on this device.`);
          progressed = true;
        } else if (inFlight?.kind === 'events' && (err.code === CLOSE.invalid || err.code === CLOSE.tooBig)) {
          // The same batch would be refused again: set the session aside so the others go on.
          const sid = inFlight.sessionId;
          await this.hold(sid, 'rejected', (n) => `${n} events of session ${sid} refused by the backend (${err.code}${err.reason ? `: ${err.reason}` : ''}). They are kept on this device and not sent again.`);
          progressed = true;
        }
      }
      if (err instanceof UntrustedReply) {
        this.update({ distrusted: this.status.distrusted + 1 });
        throw err;
      }
      if (!progressed) throw err;
      // Progress was made: reconnect at once, and say why the connection ended.
      this.update({ state: 'connecting', error: err instanceof Error ? err.message : String(err), reconnects: this.status.reconnects + 1 });
    } finally {
      if (this.socket === conn) this.socket = undefined;
    }
  }

  /** Applies a welcome's or ack's verdict; true when it moved something on. */
  private async apply(sessionId: string, verdict: Verdict): Promise<boolean> {
    switch (verdict.kind) {
      case 'untrusted':
        throw new UntrustedReply(verdict.message);
      case 'lost':
        await this.hold(
          sessionId,
          'lost',
          (n) =>
            `The backend lost ${verdict.lost} events of session ${sessionId}: it holds up to #${verdict.holds}, but had acknowledged up to #${verdict.had}, which this device then deleted. The ${n} later events are kept on this device and not sent to it.`,
          verdict.lost,
        );
        return true;
      case 'advance':
        await this.outbox.ack(sessionId, verdict.to);
        this.update({ lastAck: { sessionId, seq: verdict.to, at: Date.now() } });
        await this.refreshPending();
        return true;
      case 'none':
        return false;
    }
  }

  private async hold(sessionId: string, reason: HeldSession['reason'], message: (events: number) => string, lost?: number): Promise<void> {
    const events = await this.outbox.sessionPending(sessionId);
    this.held.set(sessionId, { sessionId, reason, events, message: message(events), ...(lost !== undefined ? { lost } : {}) });
    this.update({ held: [...this.held.values()] });
  }

  /** The first batch to send, once there is one; undefined when stopped. */
  private async waitForBatch(): Promise<Batch | undefined> {
    for (;;) {
      if (this.stopped) return undefined;
      const batch = await this.outbox.nextBatch(new Set(this.held.keys()));
      if (batch) return batch;
      if (this.status.state !== 'offline' && this.status.state !== 'idle') this.update({ state: 'idle' });
      await this.refreshPending();
      await Promise.race([this.outbox.waitForEvents(5000), new Promise((r) => this.abort.signal.addEventListener('abort', r, { once: true }))]);
    }
  }

  private async refreshPending(): Promise<void> {
    const pending = await this.outbox.pendingCount();
    const held = await Promise.all([...this.held.values()].map(async (h) => ({ ...h, events: await this.outbox.sessionPending(h.sessionId) })));
    // `message` keeps the count from when it was held; `events` is current.
    this.update({ pending, held });
  }

  private update(patch: Partial<SyncStatus>): void {
    if (this.stopped && patch.state && patch.state !== 'stopped') patch = { ...patch, state: 'stopped' };
    this.status = { ...this.status, ...patch };
    this.opts.onStatus?.(this.status);
  }
}

/** One WebSocket: parsed, schema-checked replies, waited for by type and session. */
class Connection {
  private readonly inbox: ServerMessage[] = [];
  private readonly waiters = new Set<() => void>();
  private failure: Error | undefined;
  readonly closed: Promise<void>;

  private constructor(private readonly ws: WebSocket) {
    let onClosed!: () => void;
    this.closed = new Promise((r) => (onClosed = r));
    ws.onmessage = (e) => {
      const parsed = typeof e.data === 'string' ? parseServerMessage(e.data) : ({ ok: false, reason: 'binary message' } as const);
      if (!parsed.ok) {
        this.fail(new Error(`the backend sent an unreadable reply (${parsed.reason})`));
        ws.close(CLOSE.invalid, 'unreadable reply');
        return;
      }
      // A backend that floods replies nobody waits for must not grow this without bound.
      if (this.inbox.length >= 64) this.inbox.shift();
      this.inbox.push(parsed.msg);
      this.wake();
    };
    ws.onclose = (e) => {
      this.fail(new SocketClosed(e.code, e.reason));
      onClosed();
    };
  }

  static open(url: string, signal: AbortSignal, timeoutMs: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const conn = new Connection(ws);
      const timer = setTimeout(() => {
        ws.close();
        reject(new Error(`the sync server did not answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const onAbort = () => ws.close(1000, 'stopped');
      signal.addEventListener('abort', onAbort, { once: true });
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(conn);
      };
      void conn.closed.then(() => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        // Never opened: name the likely cause rather than a bare 1006.
        const f = conn.failure;
        reject(f instanceof SocketClosed && f.code === 1006 ? new Error('cannot reach the sync server') : f);
      });
    });
  }

  send(m: ClientMessage): void {
    this.check();
    this.ws.send(JSON.stringify(m));
  }

  /** Throws why the connection is unusable, if it is. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  async receive<T extends ServerMessage['type']>(type: T, sessionId: string, timeoutMs: number): Promise<Extract<ServerMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type && m.sessionId === sessionId);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Extract<ServerMessage, { type: T }>;
      this.check();
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} from the backend within ${timeoutMs / 1000} s`);
      await new Promise<void>((r) => {
        const t = setTimeout(done, left);
        this.waiters.add(done);
        function done() {
          clearTimeout(t);
          r();
        }
      });
    }
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  private wake(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }
}
