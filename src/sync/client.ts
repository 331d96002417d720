import { assertNever } from '../util/assert-never';
import { sleep } from '../util/sleep';
import { reconnecting } from './backoff';
import { EnrolmentRefused } from './enroll';
import type { Batch, Outbox } from './outbox';
import { Connection, SocketClosed } from './connection';
import { CLOSE, retryAfterOf } from './protocol';
import type { HeldSession, SyncStatus } from './sync-status';
import { judgeAck, judgeWelcome, type Verdict } from './verdicts';
import { syncProtocols } from './protocol';

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
  /** The clock `retryAt` is told in (tests move it). */
  readonly now?: () => number;
  /** How the client waits until the backend takes writes again (tests: a clock that moves). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
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

/** The backend asked this device to come back later (CLOSE.quota, CLOSE.storageLow): nothing it did not acknowledge is lost, and nothing is sent before then. */
export class SyncDeferred extends Error {
  override name = 'SyncDeferred';
  constructor(
    readonly code: number,
    readonly told: string,
    readonly retryAfterMs: number,
  ) {
    super(told);
  }
}

/** A deferral whose close reason said no time is retried after this long. */
export const DEFERRED_DEFAULT_MS = 60_000;
/** The least a deferral waits, whatever the backend says, so that it never loops hot. */
export const DEFERRED_MIN_MS = 1_000;
/** Devices told the same time (midnight UTC) come back spread over up to this long. */
export const DEFERRED_SPREAD_MS = 30_000;

/** What the page shows while a deferral lasts. */
export function deferredMessage(told: string, retryAt: number): string {
  const what = told.charAt(0).toUpperCase() + told.slice(1);
  return `${what}. Its events are kept on this device and sending resumes by itself at ${new Date(retryAt).toLocaleTimeString()}.`;
}

/** A reply claimed more than this device sent or recorded: nothing is deleted on its word. */
export class UntrustedReply extends Error {
  override name = 'UntrustedReply';
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
      await reconnecting(() => this.attemptOrWait(), {
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

  /** An attempt; when the backend asks this device to wait, the wait, whole: the next attempt follows it at once. */
  private async attemptOrWait(): Promise<void> {
    try {
      await this.attempt();
    } catch (err) {
      if (!(err instanceof SyncDeferred)) throw err;
      const now = this.opts.now ?? Date.now;
      const waitMs = Math.round(Math.max(DEFERRED_MIN_MS, err.retryAfterMs) + Math.random() * Math.min(DEFERRED_SPREAD_MS, err.retryAfterMs / 10));
      const retryAt = now() + waitMs;
      this.update({ state: 'waiting', error: deferredMessage(err.told, retryAt), retryAt });
      await (this.opts.sleep ?? sleep)(waitMs, this.abort.signal);
      if (!this.stopped) this.update({ state: 'connecting', error: undefined, retryAt: undefined });
    }
  }

  /** One connection's worth of work. Resolves only after progress (the next starts at once); throws otherwise (the next waits). */
  private async attempt(): Promise<void> {
    const token = typeof this.opts.credential === 'string' ? this.opts.credential : await this.opts.credential.token(() => this.update({ state: 'enrolling' }));
    // Connect only with something to send: the first message must be a hello, and an idle socket is a burden on the backend.
    // The batch waited for is the first one sent (it is not read again).
    let next = await this.waitForBatch();
    if (!next) return;
    if (this.status.state !== 'offline') this.update({ state: 'connecting' });
    // The token as a second subprotocol too: the backend then admits this socket to the devices' share even when strangers fill the rest.
    const conn = await Connection.open(this.opts.url, this.abort.signal, this.opts.ackTimeoutMs ?? 10_000, syncProtocols(token));
    this.socket = conn;
    this.update({ state: 'connected', error: undefined });
    let progressed = false;
    const greeted = new Set<string>();
    let inFlight: { sessionId: string; kind: 'hello' | 'events' } | undefined;
    let lastSent = -Infinity;
    try {
      for (;;) {
        if (this.stopped) return;
        if (!next) {
          const wait = lastSent + MIN_SEND_INTERVAL_MS - performance.now();
          if (wait > 0) await sleep(wait, this.abort.signal);
        }
        const batch = next ?? (await this.outbox.nextBatch(new Set(this.held.keys())));
        next = undefined;
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
      await this.afterFailure(err, inFlight, progressed);
    } finally {
      if (this.socket === conn) this.socket = undefined;
    }
  }

  /**
   * Why a connection ended, and what follows: a refused credential stops the retries; a session
   * the backend will not take is held so that the others go on; a reply that claimed too much is
   * counted; the next attempt starts at once after progress, else after the backoff (a throw).
   */
  private async afterFailure(err: unknown, inFlight: { readonly sessionId: string; readonly kind: 'hello' | 'events' } | undefined, progressed: boolean): Promise<void> {
    if (err instanceof SocketClosed) {
      this.update({ closes: { ...this.status.closes, [err.code]: (this.status.closes[err.code] ?? 0) + 1 } });
      if (err.code === CLOSE.unauthorised) throw new SyncRefused(CREDENTIAL_REFUSED);
      if (err.code === CLOSE.quota || err.code === CLOSE.storageLow) {
        // What was refused is still in the outbox: it goes once the backend takes writes again.
        const told = retryAfterOf(err.reason);
        throw new SyncDeferred(err.code, told?.message ?? (err.reason || `the backend asked this device to wait (${err.code})`), told?.retryAfterMs ?? DEFERRED_DEFAULT_MS);
      }
      if (inFlight && err.code === CLOSE.forbidden) {
        const sid = inFlight.sessionId;
        await this.hold(sid, 'forbidden', (n) => `${n} events of session ${sid} refused by the backend: another device owns that session. They are kept on this device.`);
        progressed = true;
      } else if (inFlight?.kind === 'events' && err.code === CLOSE.sessionFull) {
        // The backend takes no more of this session, ever: it is held (kept here, shown), and the other sessions go on.
        const sid = inFlight.sessionId;
        await this.hold(sid, 'full', (n) => `Session ${sid} is full on the backend (${err.reason || `${err.code}`}). Its ${n} unsent events are kept on this device; a new session syncs as usual.`);
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
      default:
        return assertNever(verdict);
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
