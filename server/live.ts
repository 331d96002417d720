// The dashboard's live feed. After the admin's hello a client gets the first page of sessions,
// then only the summaries that changed, coalesced, fetched by id, and only while someone
// listens; a session is pushed once more when it falls quiet, since its `live` (and perhaps
// its outcome) changes then without a write. Timelines are not pushed: a page showing one
// fetches it again when that session's summary arrives. A client that does not read is not
// written to: its updates wait (merged) until its buffer drains, and one that stays behind for
// too long is cut off, so a stalled dashboard costs a bounded amount of memory.
import { asLog, type Log } from './log';
import type { WebSocket } from 'ws';
import { CLOSE, LIMITS } from '../src/sync/protocol';
import { parseLiveClientMessage, type LiveServerMessage } from '../src/sync/live-protocol';
import { type SessionSummary } from '../src/sync/trainer-api';
import { sameSecret } from './auth';
import type { EventStore } from './store';

export interface LiveStats {
  liveClients: number;
  liveSent: number;
  /** Updates held back because a client's buffer was full. */
  liveSkipped: number;
  /** Bytes those would have added to the buffers. */
  liveWithheldBytes: number;
  liveStalledTerminated: number;
  liveRefreshes: number;
}

export const newLiveStats = (): LiveStats => ({ liveClients: 0, liveSent: 0, liveSkipped: 0, liveWithheldBytes: 0, liveStalledTerminated: 0, liveRefreshes: 0 });

/** Judges a hello's admin token: right, wrong (4401), or not compared because too many wrong ones came (1008, retry later). */
export type AdminTokenCheck = (token: string) => Promise<'ok' | 'wrong' | { readonly retryAfterS: number }>;

export interface LiveOptions {
  readonly store: EventStore;
  readonly adminToken: string;
  readonly stats: LiveStats;
  /** A pino-style logger, or a line sink (tests). */
  readonly log: Log | ((line: string) => void);
  /** A client whose socket buffers more than this gets nothing more until it drains. */
  readonly maxBufferedBytes?: number;
  /** A client over the limit for this long is terminated. */
  readonly stallMs: number;
  readonly coalesceMs?: number;
  readonly firstPageSize?: number;
}

interface Client {
  authed: boolean;
  /** Session ids that changed since this client was last sent an update. */
  readonly pending: Set<string>;
  /** Send the first page again (after hello, after missed notifications, or when too much piled up). */
  full: boolean;
  overSince: number | undefined;
  helloTimer: ReturnType<typeof setTimeout> | undefined;
}

/** Past this many waiting ids a client gets the first page again instead of a long list of changes. */
const MAX_PENDING = 500;

export class LiveHub {
  private readonly clients = new Map<WebSocket, Client>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing = false;
  private again = false;
  private retry = false;
  private readonly maxBuffered: number;
  /** Sessions changed since the last flush, for the withheld-bytes figure. */
  private readonly changedThisRound = new Set<string>();
  /** Size of each session's last summary as sent; bounded, it only feeds a statistic. */
  private readonly lastSize = new Map<string, number>();
  /** When each recently written session falls quiet (stops being live) unless written again. */
  private readonly quietAt = new Map<string, number>();
  private quietTimer: ReturnType<typeof setTimeout> | undefined;

  private readonly log: Log;

  constructor(private readonly opts: LiveOptions) {
    this.log = asLog(opts.log);
    this.maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
  }

  /** Whether a round of updates is scheduled or running (nothing is, while nobody watches). */
  get busy(): boolean {
    return this.timer !== undefined || this.flushing;
  }

  /**
   * A new /live socket: it has LIMITS.helloTimeoutMs to say hello with the admin token, which
   * `check` judges (the server's: counted and slowed per client; by default a plain comparison).
   */
  add(ws: WebSocket, check: AdminTokenCheck = async (token) => (sameSecret(token, this.opts.adminToken) ? 'ok' : 'wrong')): void {
    const client: Client = { authed: false, pending: new Set(), full: true, overSince: undefined, helloTimer: undefined };
    this.clients.set(ws, client);
    this.opts.stats.liveClients = this.clients.size;
    client.helloTimer = setTimeout(() => {
      if (!client.authed) ws.close(CLOSE.unauthorised, 'no hello in time');
    }, LIMITS.helloTimeoutMs);
    let greeted = false;
    ws.on('message', (data, isBinary) => {
      // The feed is one-way after hello; one hello per socket is judged.
      if (greeted) return;
      greeted = true;
      void (async () => {
        const raw = isBinary ? '' : data.toString();
        const parsed = parseLiveClientMessage(raw);
        if (!parsed.ok) return ws.close(CLOSE.unauthorised, 'expected a hello with the admin token');
        const outcome = await check(parsed.msg.token);
        if (ws.readyState !== ws.OPEN) return;
        if (outcome === 'wrong') {
          this.log.warn('live feed: wrong admin token (4401)');
          return ws.close(CLOSE.unauthorised, 'wrong admin token');
        }
        if (outcome !== 'ok') {
          this.log.warn({ retryAfterS: outcome.retryAfterS }, 'live feed: too many wrong admin tokens (1008)');
          return ws.close(CLOSE.policy, `too many wrong admin tokens; retry in ${outcome.retryAfterS} s`);
        }
        client.authed = true;
        clearTimeout(client.helloTimer);
        this.schedule(0);
      })().catch((err: unknown) => {
        this.log.error({ err: String(err) }, 'live feed failed');
        ws.terminate();
      });
    });
    ws.on('close', () => {
      clearTimeout(client.helloTimer);
      this.clients.delete(ws);
      this.opts.stats.liveClients = this.clients.size;
    });
  }

  /** Something was stored in this session (here or on another instance). */
  changed(sessionId: string): void {
    this.expectQuiet(sessionId);
    this.notify(sessionId);
  }

  /**
   * A session stops being live when nothing arrives for the store's window, and nothing is
   * written then to say so: its summary is pushed again once the window has passed. The window
   * is the same for every session, so the map's order (re-inserted on each write) is the order
   * in which they fall quiet.
   */
  private expectQuiet(sessionId: string): void {
    this.quietAt.delete(sessionId);
    // A second past the window: the store judges by its own receive time, taken before this.
    this.quietAt.set(sessionId, Date.now() + this.opts.store.liveWindowMs + 1000);
    if (!this.quietTimer) this.armQuiet();
  }

  private armQuiet(): void {
    const next = this.quietAt.values().next();
    if (next.done) return;
    this.quietTimer = setTimeout(() => {
      this.quietTimer = undefined;
      const now = Date.now();
      for (const [id, at] of this.quietAt) {
        if (at > now) break;
        this.quietAt.delete(id);
        this.notify(id);
      }
      this.armQuiet();
    }, Math.max(0, next.value - Date.now()));
    this.quietTimer.unref?.();
  }

  private notify(sessionId: string): void {
    let any = false;
    if (this.changedThisRound.size < MAX_PENDING) this.changedThisRound.add(sessionId);
    for (const c of this.clients.values()) {
      if (!c.authed) continue;
      any = true;
      if (c.full) continue;
      c.pending.add(sessionId);
      if (c.pending.size > MAX_PENDING) {
        c.pending.clear();
        c.full = true;
      }
    }
    // Nobody watching: no query at all.
    if (any) this.schedule(this.opts.coalesceMs ?? 200);
  }

  /** Notifications may have been missed: every client gets the first page again. */
  refresh(): void {
    this.opts.stats.liveRefreshes++;
    for (const c of this.clients.values()) {
      c.full = true;
      c.pending.clear();
    }
    this.schedule(0);
  }

  close(): void {
    clearTimeout(this.timer);
    clearTimeout(this.quietTimer);
    this.quietAt.clear();
    for (const [ws, c] of this.clients) {
      clearTimeout(c.helloTimer);
      ws.close(CLOSE.shutdown, 'server shutting down');
    }
  }

  private schedule(ms: number): void {
    if (this.flushing) {
      this.again = true;
      return;
    }
    if (this.timer && ms > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      const now = Date.now();
      const ready: [WebSocket, Client][] = [];
      for (const [ws, c] of this.clients) {
        if (!c.authed || ws.readyState !== ws.OPEN || (!c.full && !c.pending.size)) continue;
        if (ws.bufferedAmount > this.maxBuffered) {
          c.overSince ??= now;
          if (now - c.overSince > this.opts.stallMs) {
            this.opts.stats.liveStalledTerminated++;
            this.log.warn({ stallMs: this.opts.stallMs }, 'live feed: a dashboard stopped reading its updates; disconnected');
            ws.terminate();
          }
          continue;
        }
        c.overSince = undefined;
        ready.push([ws, c]);
      }
      // What each is owed, taken now: changes and refreshes that arrive while the queries run wait for the next round.
      const owed = ready.map(([ws, c]) => {
        const entry = { ws, c, full: c.full, ids: c.full ? [] : [...c.pending] };
        c.full = false;
        c.pending.clear();
        return entry;
      });
      const ids = new Set<string>();
      let needFirst = false;
      for (const o of owed) {
        if (o.full) needFirst = true;
        else for (const id of o.ids) ids.add(id);
      }
      const [first, changed] = await Promise.all([
        needFirst ? this.opts.store.sessions(this.opts.firstPageSize ?? 50).then((p) => p.sessions) : Promise.resolve([] as SessionSummary[]),
        ids.size ? this.opts.store.sessionsById([...ids]) : Promise.resolve([] as SessionSummary[]),
      ]);
      const byId = new Map(changed.map((s) => [s.sessionId, s]));
      for (const s of [...first, ...changed]) {
        if (this.lastSize.size > 10_000) this.lastSize.clear();
        this.lastSize.set(s.sessionId, JSON.stringify(s).length);
      }
      const firstText = needFirst ? JSON.stringify({ type: 'sessions', sessions: first } satisfies LiveServerMessage) : '';
      for (const { ws, full, ids: mine } of owed) {
        if (ws.readyState !== ws.OPEN) continue;
        const sessions = full ? undefined : mine.map((id) => byId.get(id)).filter((s): s is SessionSummary => !!s);
        if (sessions && !sessions.length) continue;
        ws.send(sessions ? JSON.stringify({ type: 'sessions', sessions } satisfies LiveServerMessage) : firstText);
        this.opts.stats.liveSent++;
      }
      // Those still behind: count what a feed that ignored their buffers would have queued for them this round.
      const roundBytes = [...this.changedThisRound].reduce((n, id) => n + (this.lastSize.get(id) ?? 0), 0);
      this.changedThisRound.clear();
      for (const [ws, c] of this.clients) {
        if (c.authed && c.overSince !== undefined && ws.readyState === ws.OPEN && (c.full || c.pending.size)) {
          this.opts.stats.liveSkipped++;
          this.opts.stats.liveWithheldBytes += roundBytes;
        }
      }
      // Someone is behind: look again later, both to deliver once they drain and to cut them off if they never do.
      if ([...this.clients.values()].some((c) => c.overSince !== undefined)) this.schedule(this.opts.coalesceMs ?? 200);
    } catch (err) {
      // Whatever was owed is sent in full once the store answers again.
      this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'live feed: could not read session summaries; retrying');
      for (const c of this.clients.values()) if (c.authed) c.full = true;
      this.retry = true;
    } finally {
      this.flushing = false;
      if (this.retry) {
        this.retry = false;
        this.again = false;
        this.schedule(1000);
      } else if (this.again) {
        this.again = false;
        this.schedule(this.opts.coalesceMs ?? 200);
      }
    }
  }
}
