// Where devices, sessions and events live: SQLite (one instance) or PostgreSQL (several).
// Both keep payloads as the JSON text that was received, so they accept the same payloads and
// read them back byte for byte.
import { contiguousFrom } from './contiguous';
import { searchText } from '../src/sync/session-filter';
import { LIVE_WINDOW_MS, type SessionFilter, type SessionsPage, type SessionSummary } from '../src/sync/trainer-api';
import { SessionIdSchema, type Device, type EventKind, type SyncEvent } from '../src/sync/protocol';
import * as v from 'valibot';
import { createHash } from 'node:crypto';
import { builtin, emptyFacts, foldEvents, summaryFacts, type SessionFacts } from './session-facts';

export interface DeviceRecord extends Device {
  /** Hex SHA-256 of the device's secret. */
  readonly secretHash: string;
}

/** An event as stored: the payload is the exact JSON text that was received. */
export interface RawEvent {
  readonly sessionId: string;
  readonly seq: number;
  readonly ts: number;
  readonly kind: EventKind;
  readonly payload: string;
}

export type ClaimResult = { readonly owner: string; readonly lastSeq: number };

export type AppendResult =
  /** `usage`: the device's usage of the day after this append, when asked for (AppendOptions.withUsage). */
  | { readonly ok: true; readonly seq: number; readonly stored: number; readonly usage?: DeviceUsage }
  /** `forbidden`: the session is not this device's; `revoked`: the device's credential was revoked. */
  | { readonly ok: false; readonly why: 'forbidden' | 'revoked' }
  /** The run would take the session past AppendOptions.maxEvents: nothing of it was stored; `held`: the events it holds. */
  | { readonly ok: false; readonly why: 'full'; readonly held: number };

export type StoreChange =
  | { readonly type: 'append'; readonly sessionId: string }
  | { readonly type: 'revoke'; readonly deviceId: string }
  /** Changes may have been missed (PostgreSQL's LISTEN connection was lost and is back): whoever caches must refresh. */
  | { readonly type: 'resync' };

/** What a device stored on one day (UTC, from the server's clock): counted in the transaction that stores it. */
export interface DeviceUsage {
  /** Days since the epoch, UTC: Math.floor(ms / DAY_MS). */
  readonly day: number;
  /** The stored events' payloads, as UTF-8 JSON text. */
  readonly bytes: number;
  readonly events: number;
  /** Sessions it opened (claimed) that day. */
  readonly sessions: number;
}

export const DAY_MS = 86_400_000;
export const dayOf = (ms: number) => Math.floor(ms / DAY_MS);

export interface AppendOptions {
  /** When it was received (the server's clock); the store's clock by default. */
  readonly at?: number;
  /** Return the device's usage of the day after this append. */
  readonly withUsage?: boolean;
  /** The most events one session may hold (FRAMEWISE_MAX_SESSION_EVENTS): a run that would take it past is refused whole. */
  readonly maxEvents?: number;
}

/** What a timeline's lists hold, as the store keeps them: a derailment once it ended, an instruction when given. */
export type TimelineItemKind = 'derailment' | 'instruction';

/** One kept item of a timeline: `seq` is the event that told it (a derailment's end, an instruction's event). */
export interface TimelineItem {
  readonly step: number;
  readonly kind: TimelineItemKind;
  readonly seq: number;
  /** A derailment's start, an instruction's time. */
  readonly ts: number;
  /** A derailment's end; null for an instruction. */
  readonly endTs: number | null;
  /** A derailment's reason, an instruction's words. */
  readonly text: string;
}

/** How many items one step's lists hold, as kept (a derailment still open is in the facts, not here). */
export interface TimelineListCounts {
  readonly step: number;
  readonly derailments: number;
  readonly instructions: number;
}

/** A session's summary, its kept facts and its timeline's list counts, read at one instant (one statement). */
export interface TimelineHead {
  readonly session: SessionSummary;
  readonly facts: SessionFacts;
  readonly lists: readonly TimelineListCounts[];
}

/** One list of one step to read: the items with seq above `afterSeq`, at most `limit`. */
export interface TimelineListRead {
  readonly step: number;
  readonly kind: TimelineItemKind;
  readonly afterSeq: number;
  readonly limit: number;
}

/** Where a page of a step's items in time order ended (the CSV's order: time, derailments before instructions, then seq). */
export interface TimeCursor {
  readonly ts: number;
  readonly kind: TimelineItemKind;
  readonly seq: number;
}

/** What one pass of retention deleted. */
export interface Deleted {
  readonly sessions: number;
  readonly events: number;
}

export interface StoreOptions {
  /** The server's clock: when an append is received, and what liveness is judged against. */
  readonly now?: () => number;
  /** How long a session stays live after its newest event is received (LIVE_WINDOW_MS; tests shorten it). */
  readonly liveWindowMs?: number;
}

export const storeClock = (opts: StoreOptions) => ({ now: opts.now ?? Date.now, liveWindowMs: opts.liveWindowMs ?? LIVE_WINDOW_MS });

/**
 * `append` is idempotent (unique on session + seq), only ever extends a session's gap-free
 * prefix, checks in the same transaction that the session is the device's and the device is
 * not revoked, and maintains the session's summary in that transaction. It resolves only
 * after the commit.
 */
export interface EventStore {
  readonly kind: 'sqlite' | 'postgres';
  readonly liveWindowMs: number;
  createDevice(device: DeviceRecord): Promise<void>;
  device(deviceId: string): Promise<DeviceRecord | undefined>;
  devices(): Promise<Device[]>;
  /** Marks the device revoked (once; a second call keeps the first time). Undefined when there is no such device. */
  revokeDevice(deviceId: string, at: number): Promise<Device | undefined>;
  /** Records `deviceId` as the owner of a session nobody has claimed; returns the owner either way. */
  claimSession(sessionId: string, deviceId: string, at: number): Promise<ClaimResult>;
  append(deviceId: string, sessionId: string, events: readonly SyncEvent[], opts?: AppendOptions): Promise<AppendResult>;
  /** What the device stored on the day of `at` (zeros when nothing). */
  usage(deviceId: string, at: number): Promise<DeviceUsage>;
  /**
   * Retention: deletes at most `limit` sessions that received nothing since `before` (server
   * clock; a session that never received an event, since it was claimed), with their events.
   * Each is deleted under its append lock, rechecked there.
   */
  deleteSessionsBefore(before: number, limit: number): Promise<Deleted>;
  /** Forgets usage counts of days before `day`. */
  pruneUsage(beforeDay: number): Promise<number>;
  /** Sessions with at least one event that `filter` matches, newest first by when the server received them (then first event time, then id), `limit` at a time; from the summary table alone. */
  sessions(limit: number, cursor?: SessionsCursor, filter?: SessionFilter): Promise<SessionsPage>;
  sessionsById(ids: readonly string[]): Promise<SessionSummary[]>;
  events(sessionId: string, afterSeq: number, limit: number): Promise<RawEvent[]>;
  /** One session's events of these kinds, in order, up to `toSeq`: what its timeline is folded from. */
  sessionEvents(sessionId: string, kinds: readonly EventKind[], toSeq: number): Promise<RawEvent[]>;
  /** The session's summary, facts and timeline list counts, read together; undefined when there is no such session (with events). */
  timelineHead(sessionId: string): Promise<TimelineHead | undefined>;
  /** Kept timeline items of these lists, each list in order of seq, none above `toSeq`; lists in the order asked. */
  timelineItems(sessionId: string, lists: readonly TimelineListRead[], toSeq: number): Promise<TimelineItem[]>;
  /** Kept timeline items of one step in time order (see TimeCursor), after `after`, none above `toSeq`, at most `limit`. */
  timelineItemsByTime(sessionId: string, step: number, after: TimeCursor | undefined, toSeq: number, limit: number): Promise<TimelineItem[]>;
  /** The kept facts of every session of one definition of a task (its taskKey), newest first: what its aggregate is computed from, without reading events. */
  taskFacts(taskKey: string): Promise<SessionFacts[]>;
  onChange(listener: (change: StoreChange) => void): void;
  close(): Promise<void>;
}

/**
 * Where the previous page ended. Pages are ordered by (receivedTs, firstTs, sessionId)
 * descending: the server's own clock when the session arrived first, so that no device's clock
 * decides what is newest; the device's start time orders sessions that arrived in the same
 * millisecond (a backlog synced at once). Each is fixed once the session is listed: stable.
 */
export interface SessionsCursor {
  readonly receivedTs: number;
  readonly firstTs: number;
  readonly sessionId: string;
}

export function encodeCursor(c: SessionsCursor): string {
  return Buffer.from(JSON.stringify([c.receivedTs, c.firstTs, c.sessionId])).toString('base64url');
}

// A cursor from before the list was ordered by receipt has two entries: refused (400), not misread.
const CursorSchema = v.tuple([v.pipe(v.number(), v.finite()), v.pipe(v.number(), v.finite()), SessionIdSchema]);

export function decodeCursor(text: string): SessionsCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(text)) return undefined;
  try {
    const parsed = v.safeParse(CursorSchema, JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return parsed.success ? { receivedTs: parsed.output[0], firstTs: parsed.output[1], sessionId: parsed.output[2] } : undefined;
  } catch {
    return undefined;
  }
}

/** What one append changes in a session's summary: computed once, written by either store. */
export interface SummaryDelta {
  readonly run: readonly SyncEvent[];
  readonly payloads: readonly string[];
  readonly lastSeq: number;
  /** Time of event 1 when this run starts the session, else null (the stored one stays). */
  readonly firstTs: number | null;
  readonly maxTs: number;
  /** JSON text of the newest state event in the run, else null (the stored one stays). */
  readonly lastState: string | null;
}

export function summaryDelta(stored: number, events: readonly SyncEvent[]): SummaryDelta | undefined {
  // -0 is written as 0: SQLite would read it back as 0 and PostgreSQL as -0, and the stores must agree.
  const run = contiguousFrom(stored, events).map((e) => (Object.is(e.ts, -0) ? { ...e, ts: 0 } : e));
  if (!run.length) return undefined;
  const payloads = run.map((e) => JSON.stringify(e.payload));
  let lastState: string | null = null;
  for (let i = run.length - 1; i >= 0; i--) {
    if (run[i]!.kind === 'state') {
      lastState = payloads[i]!;
      break;
    }
  }
  return {
    run,
    payloads,
    lastSeq: stored + run.length,
    firstTs: stored === 0 ? run[0]!.ts : null,
    maxTs: run.reduce((m, e) => Math.max(m, e.ts), -Infinity),
    lastState,
  };
}

export interface SummaryRow {
  session_id: string;
  device_id: string;
  /** The server's clock when the session was first claimed (its first hello): when it was received. */
  created_at: number;
  name: string | null;
  events: number | string;
  last_seq: number | string;
  first_ts: number;
  last_ts: number;
  last_state: string | null;
  facts: string | null;
  received_at: number | null;
  task_key: string | null;
}

export function summaryFromRow(r: SummaryRow, now: number, liveWindowMs: number): SessionSummary {
  return {
    sessionId: r.session_id,
    deviceId: r.device_id,
    deviceName: r.name ?? '',
    events: Number(r.events),
    lastSeq: Number(r.last_seq),
    receivedTs: r.created_at,
    firstTs: r.first_ts,
    lastTs: r.last_ts,
    lastState: r.last_state === null ? null : JSON.parse(r.last_state),
    taskKey: r.task_key,
    ...summaryFacts(parseFacts(r.facts), r.first_ts, r.last_ts, r.received_at, now, liveWindowMs),
  };
}

/** The facts column as written by factsColumns; a row from before it existed has none yet. */
export const parseFacts = (text: string | null): SessionFacts => (text === null ? emptyFacts() : (JSON.parse(text) as SessionFacts));

/**
 * Which definition of a task a session followed: what its list filter and its aggregate go by.
 * A built-in task's is its id (the server's own definition, whoever recorded it). A custom task
 * is defined by the device that recorded it: its key is a hash of that device, the task's id,
 * title and step instructions, so that sessions of definitions that differ, or of another
 * device's task of the same name, are never counted together.
 */
export function taskKey(f: Pick<SessionFacts, 'taskId' | 'taskTitle' | 'stepInstructions'>, deviceId: string): string | null {
  if (f.taskId === null) return null;
  if (builtin(f.taskId)) return f.taskId;
  const definition = JSON.stringify([deviceId, f.taskId, f.taskTitle, f.stepInstructions]);
  return `custom:${createHash('sha256').update(definition).digest('hex').slice(0, 24)}`;
}

/** The summary columns kept from the facts: the facts themselves, and what lists filter on. */
export interface FactsColumns {
  readonly facts: string;
  readonly factsSeq: number;
  readonly taskId: string | null;
  readonly taskKey: string | null;
  readonly completedTs: number | null;
  readonly endedTs: number | null;
  readonly search: string;
}

export const factsColumns = (f: SessionFacts, deviceName: string, deviceId: string): FactsColumns => ({
  facts: JSON.stringify(f),
  factsSeq: f.seq,
  taskId: f.taskId,
  taskKey: taskKey(f, deviceId),
  completedTs: f.completedTs,
  endedTs: f.endedTs,
  search: searchText(deviceName, f.taskTitle, f.taskId),
});

/**
 * A session's facts after an append: what was kept, caught up first from the stored events when
 * it lags them (rows written before the facts existed, or by an older instance during a rolling
 * upgrade), then this run.
 */
export function nextFacts(kept: SessionFacts, storedSeq: number, missed: readonly RawEvent[], run: readonly SyncEvent[]): SessionFacts {
  const caughtUp = kept.seq < storedSeq ? foldEvents(kept, missed.map(rawToFold)) : kept;
  return foldEvents(caughtUp, run);
}

export const rawToFold = (e: RawEvent) => ({ seq: e.seq, ts: e.ts, kind: e.kind, payload: JSON.parse(e.payload) as unknown });

/** The sessions list's order, newest first (see SessionsCursor); compareNewest in the dashboard is the same. */
export const NEWEST_FIRST = 's.created_at DESC, s.first_ts DESC, s.session_id DESC';

/**
 * The WHERE clauses of a sessions list, over the summary table only. `param` binds a value and
 * returns its placeholder; `instr` is the store's substring-position function.
 */
export function sessionConditions(filter: SessionFilter, cursor: SessionsCursor | undefined, liveSince: number, param: (value: string | number) => string, instr: 'instr' | 'strpos'): string[] {
  const where = ['s.first_ts IS NOT NULL'];
  if (filter.device !== undefined) where.push(`s.device_id = ${param(filter.device)}`);
  if (filter.task !== undefined) where.push(`s.task_key = ${param(filter.task)}`);
  // matchesFilter in src/sync/session-filter.ts, and outcomeOf and isLive in session-facts.ts, in SQL.
  if (filter.q !== undefined) where.push(`${instr}(s.search, ${param(filter.q.toLowerCase())}) > 0`);
  if (filter.outcome === 'completed') where.push('s.completed_ts IS NOT NULL');
  else if (filter.outcome === 'in-progress') where.push(`s.completed_ts IS NULL AND s.ended_ts IS NULL AND s.received_at >= ${param(liveSince)}`);
  else if (filter.outcome === 'abandoned') where.push(`s.completed_ts IS NULL AND (s.ended_ts IS NOT NULL OR s.received_at IS NULL OR s.received_at < ${param(liveSince)})`);
  if (cursor) {
    // Bound twice rather than reused, and in the order they are written: SQLite's placeholders are positional.
    const received = [param(cursor.receivedTs), param(cursor.receivedTs)];
    const started = [param(cursor.firstTs), param(cursor.firstTs)];
    where.push(`(s.created_at < ${received[0]} OR (s.created_at = ${received[1]} AND (s.first_ts < ${started[0]} OR (s.first_ts = ${started[1]} AND s.session_id < ${param(cursor.sessionId)}))))`);
  }
  return where;
}

/** Serialises stored events for the API without re-encoding payloads: what was sent is what is read. */
export function eventsJson(events: readonly RawEvent[]): string {
  return `[${events.map((e) => `{"sessionId":${JSON.stringify(e.sessionId)},"seq":${e.seq},"ts":${JSON.stringify(e.ts)},"kind":${JSON.stringify(e.kind)},"payload":${e.payload}}`).join(',')}]`;
}
