// The store's one algorithm (append, catch-up, paging, summaries, change events) over SQL that
// both SQLite and PostgreSQL run. What differs between them is the Dialect: placeholders,
// column types, list parameters, how rows are inserted in bulk, transactions and locks, and
// notifications to other instances.
import type { Device, EventKind, SyncEvent } from '../src/sync/protocol';
import type { SessionFilter, SessionsPage, SessionSummary } from '../src/sync/trainer-api';
import { emptyFacts, FACT_KINDS, FACTS_VERSION, foldEvents, sameUnderCurrentRules, TIMELINE_KINDS, type FactsNote, type SessionFacts } from './session-facts';
import {
  encodeCursor,
  factsColumns,
  NEWEST_FIRST,
  nextFacts,
  parseFacts,
  rawToFold,
  sessionConditions,
  taskKey,
  dayOf,
  storeClock,
  summaryDelta,
  summaryFromRow,
  type AppendOptions,
  type AppendResult,
  type Deleted,
  type DeviceUsage,
  type ClaimResult,
  type DeviceRecord,
  type RawEvent,
  type SessionsCursor,
  type EventStore,
  type StoreChange,
  type StoreOptions,
  type SummaryRow,
  type TimeCursor,
  type TimelineHead,
  type TimelineItem,
  type TimelineListRead,
} from './store';

/** Runs statements written with `?` placeholders, in order, on one connection (or inside one transaction). */
export interface SqlRunner {
  all<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Returns how many rows the statement changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

export interface TableNames {
  readonly devices: string;
  readonly sessions: string;
  readonly events: string;
  /** Per device and day: what it stored (AppendOptions.withUsage, EventStore.usage). */
  readonly usage: string;
  /** Each session's timeline items (derailments that ended, instructions given), kept on write. */
  readonly timeline: string;
  /** Per session and step: how many items each of its timeline lists holds. */
  readonly timelineSteps: string;
}

/** Everything that differs between the two databases; the store's algorithm is written once above it. */
export interface Dialect {
  readonly kind: EventStore['kind'];
  readonly tables: TableNames;
  /** Column types: a float, and a counter that must read back as a JS number (see `num`). */
  readonly types: { readonly real: string; readonly int: string };
  /** Appended to CREATE TABLE for the events table (SQLite: WITHOUT ROWID). */
  readonly eventsTableSuffix: string;
  /** The substring-position function that `sessionConditions` uses. */
  readonly instr: 'instr' | 'strpos';
  /** The larger of two values (SQLite's scalar MAX, PostgreSQL's GREATEST). */
  readonly greatest: 'MAX' | 'GREATEST';
  /** An integer column read as a JS number (PostgreSQL returns BIGINT as a string). */
  num(column: string): string;
  /** `column IN (values)`, with its parameters, in this dialect's way of passing a list. */
  inList(column: string, values: readonly string[]): { readonly sql: string; readonly params: readonly unknown[] };
  /** Reads outside a transaction. */
  read<T>(fn: (q: SqlRunner) => Promise<T>): Promise<T>;
  /** A write transaction; with `lock`, one writer per key at a time (across instances where there are several). */
  write<T>(lock: string | null, fn: (q: SqlRunner) => Promise<T>): Promise<T>;
  /** Adds a column to an existing table unless it is there. */
  addColumn(q: SqlRunner, table: string, name: string, type: string): Promise<void>;
  /** Inserts one run of events (the rows are contiguous and new). */
  insertEvents(q: SqlRunner, sessionId: string, run: readonly SyncEvent[], payloads: readonly string[]): Promise<void>;
  /** Tells other instances of a change, delivered at commit; a single-instance store has none to tell. */
  notify(q: SqlRunner, change: StoreChange): Promise<void>;
  /** Hears other instances' changes (and `resync` after notifications may have been missed). */
  listen(onChange: (change: StoreChange) => void): Promise<void>;
  close(): Promise<void>;
}

interface DeviceRow {
  device_id: string;
  name: string;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
}
type OwnerRow = { device_id: string; last_seq: number; revoked_at: number | null; name: string | null; facts: string | null; facts_version: number; timeline_seq: number; timeline_version: number };
type RawRow = { seq: number; ts: number; kind: RawEvent['kind']; payload: string };
type ItemRow = { step: number; kind: TimelineItem['kind']; seq: number; ts: number; end_ts: number | null; text: string };
type HeadRow = SummaryRow & { t_step: number | null; t_derailments: number | null; t_instructions: number | null };

const itemFromRow = (r: ItemRow): TimelineItem => ({ step: r.step, kind: r.kind, seq: r.seq, ts: r.ts, endTs: r.end_ts, text: r.text });

/** What a fold's note keeps in the timeline tables. */
const itemOf = (n: FactsNote, seq: number): TimelineItem =>
  n.type === 'derailment'
    ? { step: n.derailment.step, kind: 'derailment', seq, ts: n.derailment.startTs, endTs: n.derailment.endTs, text: n.derailment.reason }
    : { step: n.step, kind: 'instruction', seq, ts: n.instruction.ts, endTs: null, text: n.instruction.text };

/** Events read at once when a timeline is folded again from its events (at open, or after an older instance wrote). */
const REBUILD_PAGE = 5_000;
/** Rows in one multi-row INSERT: well under SQLite's parameters and compound limits. */
const INSERT_CHUNK = 100;
/** Lists read in one statement (a UNION ALL of one bounded select per list; SQLite allows 500 terms). */
const LISTS_CHUNK = 100;
/** Sessions whose timelines are folded again side by side at open (SQLite's writer commits them in groups). */
const REBUILD_CONCURRENCY = 8;
type UsageRow = { bytes: number; events: number; sessions: number };

/** The facts to fold on from: those kept, unless they were kept under older rules (then the session is folded again from its first event). */
const keptFacts = (o: Pick<OwnerRow, 'facts' | 'facts_version'>): SessionFacts => (Number(o.facts_version) >= FACTS_VERSION ? parseFacts(o.facts) : emptyFacts());

const deviceFromRow = (r: DeviceRow): DeviceRecord => ({ deviceId: r.device_id, name: r.name, secretHash: r.secret_hash, createdAt: r.created_at, revokedAt: r.revoked_at });
const publicDevice = ({ deviceId, name, createdAt, revokedAt }: DeviceRecord): Device => ({ deviceId, name, createdAt, revokedAt });

/** Summary columns added after the first release: added to existing tables at open, then filled from their events. */
const factColumns = (d: Dialect): [string, string][] => [
  ['facts', 'TEXT'],
  ['facts_seq', `${d.types.int} NOT NULL DEFAULT 0`],
  ['task_id', 'TEXT'],
  ['completed_ts', d.types.real],
  ['ended_ts', d.types.real],
  ['received_at', d.types.real],
  ['search', "TEXT NOT NULL DEFAULT ''"],
  ['task_key', 'TEXT'],
  ['facts_version', `${d.types.int} NOT NULL DEFAULT 0`],
  // The timeline tables hold what the events up to timeline_seq say, folded under the rules of timeline_version (FACTS_VERSION).
  ['timeline_seq', `${d.types.int} NOT NULL DEFAULT 0`],
  ['timeline_version', `${d.types.int} NOT NULL DEFAULT 0`],
];

/** The session list's rows: bounded statements, since SQLite limits the number of parameters. */
const BY_ID_CHUNK = 500;

export class SqlStore implements EventStore {
  readonly kind: EventStore['kind'];
  readonly liveWindowMs: number;
  private readonly now: () => number;
  private readonly listeners = new Set<(c: StoreChange) => void>();
  private readonly t: TableNames;
  private readonly summaryColumns: string;

  protected constructor(
    private readonly d: Dialect,
    opts: StoreOptions,
  ) {
    ({ now: this.now, liveWindowMs: this.liveWindowMs } = storeClock(opts));
    this.kind = d.kind;
    this.t = d.tables;
    this.summaryColumns = `s.session_id, s.device_id, s.created_at, d.name, ${d.num('s.events')} AS events, ${d.num('s.last_seq')} AS last_seq, s.first_ts, s.last_ts, s.last_state, s.facts, s.received_at, s.task_key`;
  }

  /** Settles when the store is open; every operation waits for it, and fails with it if opening failed. */
  private opened: Promise<void> = Promise.resolve();

  /** Creates the tables (idempotent), then folds the facts of sessions that lag their events. */
  protected open(owner = true): Promise<void> {
    this.opened = (async () => {
      // A store that only reads (SQLite's, beside its writer thread) leaves the schema to the writer.
      if (owner) {
        await this.migrate();
        await this.upgradeFacts();
        await this.catchUp();
        await this.catchUpTimelines();
      }
      await this.d.listen((change) => this.emit(change));
    })();
    return this.opened;
  }

  private async migrate(): Promise<void> {
    const { devices, sessions, events, usage } = this.t;
    const { real, int } = this.d.types;
    // Instances starting together would race on CREATE TABLE IF NOT EXISTS (a unique violation in pg_type).
    await this.d.write(`framewise-schema:${sessions}`, async (q) => {
      await q.run(`CREATE TABLE IF NOT EXISTS ${devices} (
        device_id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL, created_at ${real} NOT NULL, revoked_at ${real})`);
      await q.run(`CREATE TABLE IF NOT EXISTS ${sessions} (
        session_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, created_at ${real} NOT NULL,
        events ${int} NOT NULL DEFAULT 0, last_seq ${int} NOT NULL DEFAULT 0,
        first_ts ${real}, last_ts ${real}, last_state TEXT)`);
      // Payloads are TEXT, not JSON(B): PostgreSQL's JSONB refuses \u0000, reorders keys and drops
      // duplicates, so it would neither accept what SQLite accepts nor read back what was sent.
      await q.run(`CREATE TABLE IF NOT EXISTS ${events} (
        session_id TEXT NOT NULL, seq ${int} NOT NULL, ts ${real} NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
        PRIMARY KEY (session_id, seq))${this.d.eventsTableSuffix}`);
      for (const [name, type] of factColumns(this.d)) await this.d.addColumn(q, sessions, name, type);
      // Lists are ordered by when the server received each session (created_at, its clock), not by a device's times:
      // the indexes of the order by first event time that came before are replaced.
      for (const old of ['newest', 'device', 'task']) await q.run(`DROP INDEX IF EXISTS ${sessions}_${old}`);
      const order = 'created_at DESC, first_ts DESC, session_id DESC';
      await q.run(`CREATE INDEX IF NOT EXISTS ${sessions}_recv ON ${sessions} (${order}) WHERE first_ts IS NOT NULL`);
      await q.run(`CREATE INDEX IF NOT EXISTS ${sessions}_dev_recv ON ${sessions} (device_id, ${order}) WHERE first_ts IS NOT NULL`);
      // A task's list and aggregate go by its definition's key (taskKey in store.ts), not by the id a device gave it.
      await q.run(`CREATE INDEX IF NOT EXISTS ${sessions}_task_recv ON ${sessions} (task_key, ${order}) WHERE first_ts IS NOT NULL`);
      await q.run(`CREATE TABLE IF NOT EXISTS ${usage} (
        device_id TEXT NOT NULL, day ${int} NOT NULL, bytes ${int} NOT NULL DEFAULT 0, events ${int} NOT NULL DEFAULT 0, sessions ${int} NOT NULL DEFAULT 0,
        PRIMARY KEY (device_id, day))`);
      // Retention looks for sessions by when they last received something.
      await q.run(`CREATE INDEX IF NOT EXISTS ${sessions}_received ON ${sessions} ((COALESCE(received_at, created_at)))`);
      // A timeline's lists, kept on write: paged per step and list in order of the event that told each item, and
      // per step in time order (the CSV's order: a derailment before an instruction given at the same time).
      const { timeline, timelineSteps } = this.t;
      await q.run(`CREATE TABLE IF NOT EXISTS ${timeline} (
        session_id TEXT NOT NULL, step ${int} NOT NULL, kind TEXT NOT NULL, seq ${int} NOT NULL, ts ${real} NOT NULL, end_ts ${real}, text TEXT NOT NULL,
        PRIMARY KEY (session_id, step, kind, seq))${this.d.eventsTableSuffix}`);
      await q.run(`CREATE INDEX IF NOT EXISTS ${timeline}_time ON ${timeline} (session_id, step, ts, kind, seq)`);
      await q.run(`CREATE TABLE IF NOT EXISTS ${timelineSteps} (
        session_id TEXT NOT NULL, step ${int} NOT NULL, derailments ${int} NOT NULL DEFAULT 0, instructions ${int} NOT NULL DEFAULT 0,
        PRIMARY KEY (session_id, step))${this.d.eventsTableSuffix}`);
    });
  }

  private owner(q: SqlRunner, sessionId: string): Promise<OwnerRow | undefined> {
    return q
      .all<OwnerRow>(
        `SELECT s.device_id, ${this.d.num('s.last_seq')} AS last_seq, d.revoked_at, d.name, s.facts, ${this.d.num('s.facts_version')} AS facts_version,
           ${this.d.num('s.timeline_seq')} AS timeline_seq, ${this.d.num('s.timeline_version')} AS timeline_version
         FROM ${this.t.sessions} s LEFT JOIN ${this.t.devices} d ON d.device_id = s.device_id WHERE s.session_id = ?`,
        [sessionId],
      )
      .then((rows) => rows[0]);
  }

  private async eventsOfKinds(q: SqlRunner, sessionId: string, afterSeq: number, toSeq: number, kinds: readonly string[], limit?: number): Promise<RawEvent[]> {
    if (!kinds.length) return [];
    const kind = this.d.inList('kind', kinds);
    const rows = await q.all<RawRow>(
      `SELECT ${this.d.num('seq')} AS seq, ts, kind, payload FROM ${this.t.events} WHERE session_id = ? AND seq > ? AND seq <= ? AND ${kind.sql} ORDER BY seq${limit === undefined ? '' : ' LIMIT ?'}`,
      [sessionId, afterSeq, toSeq, ...kind.params, ...(limit === undefined ? [] : [limit])],
    );
    return rows.map((r) => ({ sessionId, ...r }));
  }

  /** Keeps timeline items (new ones, in the caller's transaction) and adds them to their steps' counts. */
  private async keepItems(q: SqlRunner, sessionId: string, items: readonly TimelineItem[]): Promise<void> {
    if (!items.length) return;
    const { timeline, timelineSteps } = this.t;
    for (let i = 0; i < items.length; i += INSERT_CHUNK) {
      const chunk = items.slice(i, i + INSERT_CHUNK);
      await q.run(
        `INSERT INTO ${timeline} (session_id, step, kind, seq, ts, end_ts, text) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        chunk.flatMap((it) => [sessionId, it.step, it.kind, it.seq, it.ts, it.endTs, it.text]),
      );
    }
    const counts = new Map<number, { derailments: number; instructions: number }>();
    for (const it of items) {
      const c = counts.get(it.step) ?? { derailments: 0, instructions: 0 };
      if (it.kind === 'derailment') c.derailments++;
      else c.instructions++;
      counts.set(it.step, c);
    }
    for (const [step, c] of counts) {
      await q.run(
        `INSERT INTO ${timelineSteps} (session_id, step, derailments, instructions) VALUES (?, ?, ?, ?)
         ON CONFLICT (session_id, step) DO UPDATE SET derailments = ${timelineSteps}.derailments + excluded.derailments, instructions = ${timelineSteps}.instructions + excluded.instructions`,
        [sessionId, step, c.derailments, c.instructions],
      );
    }
  }

  /**
   * Folds a session's timeline again from its first event up to `toSeq`, a page of events at a
   * time, in the caller's transaction: for tables from before the timeline was kept, or a session
   * an older instance wrote to meanwhile.
   */
  private async rebuildTimeline(q: SqlRunner, sessionId: string, toSeq: number): Promise<void> {
    await q.run(`DELETE FROM ${this.t.timeline} WHERE session_id = ?`, [sessionId]);
    await q.run(`DELETE FROM ${this.t.timelineSteps} WHERE session_id = ?`, [sessionId]);
    let facts = emptyFacts();
    let after = 0;
    for (;;) {
      const page = await this.eventsOfKinds(q, sessionId, after, toSeq, TIMELINE_KINDS, REBUILD_PAGE);
      if (!page.length) return;
      const items: TimelineItem[] = [];
      facts = foldEvents(facts, page.map(rawToFold), (n, seq) => items.push(itemOf(n, seq)));
      await this.keepItems(q, sessionId, items);
      after = page.at(-1)!.seq;
      if (page.length < REBUILD_PAGE) return;
    }
  }

  /**
   * Facts kept under older rules (facts_version) that this version's fold would keep the same
   * need only their task key: set in batches, each row only if its facts are still those read
   * (another instance may have appended since). The rest, a built-in task's facts that believed a
   * device, are left to catchUp, which folds them again from their events. Folding every session
   * again would take a large store minutes to open (2,000 sessions of 66 fact events on SQLite:
   * 20.6 s folded again, 0.1 s given their keys).
   */
  private async upgradeFacts(): Promise<void> {
    const { sessions } = this.t;
    const stale = await this.d.read((q) =>
      q.all<{ session_id: string; device_id: string; facts: string }>(
        `SELECT session_id, device_id, facts FROM ${sessions} WHERE first_ts IS NOT NULL AND facts IS NOT NULL AND facts_seq >= last_seq AND facts_version < ?`,
        [FACTS_VERSION],
      ),
    );
    const keep = stale.flatMap((r) => {
      const f = parseFacts(r.facts);
      return sameUnderCurrentRules(f) ? [[taskKey(f, r.device_id), FACTS_VERSION, r.session_id, FACTS_VERSION, r.facts] as const] : [];
    });
    for (let i = 0; i < keep.length; i += BY_ID_CHUNK) {
      await this.d.write(null, async (q) => {
        for (const params of keep.slice(i, i + BY_ID_CHUNK)) await q.run(`UPDATE ${sessions} SET task_key = ?, facts_version = ? WHERE session_id = ? AND facts_version < ? AND facts = ?`, params);
      });
    }
  }

  /**
   * Sessions whose facts lag their events (tables from before the facts existed, or written by an
   * older instance during a rolling upgrade), or were kept under older rules (facts_version below
   * FACTS_VERSION: folded again from the first event), are folded from their events, once, at open. Each is
   * re-checked under the append's lock: another instance may have caught it up, or appended, since
   * the list was read, and folding the same events twice would count them twice.
   */
  private async catchUp(): Promise<void> {
    const lagging = await this.d.read((q) =>
      q.all<{ session_id: string }>(`SELECT session_id FROM ${this.t.sessions} WHERE first_ts IS NOT NULL AND (facts_seq < last_seq OR facts_version < ?)`, [FACTS_VERSION]),
    );
    for (const { session_id: sessionId } of lagging) {
      await this.d.write(sessionId, async (q) => {
        const owner = (await this.owner(q, sessionId))!;
        const kept = keptFacts(owner);
        if (kept.seq >= owner.last_seq && owner.facts_version >= FACTS_VERSION) return;
        const facts = foldEvents(kept, (await this.eventsOfKinds(q, sessionId, kept.seq, owner.last_seq, FACT_KINDS)).map(rawToFold));
        // Every fact kind is folded, so the facts now stand at the stored sequence even when its last events were detections.
        const cols = factsColumns({ ...facts, seq: owner.last_seq }, owner.name ?? '', owner.device_id);
        await q.run(`UPDATE ${this.t.sessions} SET facts = ?, facts_seq = ?, task_id = ?, task_key = ?, completed_ts = ?, ended_ts = ?, search = ?, facts_version = ? WHERE session_id = ?`, [
          cols.facts,
          cols.factsSeq,
          cols.taskId,
          cols.taskKey,
          cols.completedTs,
          cols.endedTs,
          cols.search,
          FACTS_VERSION,
          sessionId,
        ]);
      });
    }
  }

  /**
   * Sessions whose timeline tables lag their events (stored before they were kept, or written by an
   * older instance) are folded again from their events, at open, each under its append lock and
   * re-checked there, a few side by side.
   */
  private async catchUpTimelines(): Promise<void> {
    const { sessions } = this.t;
    const lagging = await this.d.read((q) =>
      q.all<{ session_id: string }>(`SELECT session_id FROM ${sessions} WHERE first_ts IS NOT NULL AND (timeline_seq < last_seq OR timeline_version < ?)`, [FACTS_VERSION]),
    );
    let next = 0;
    const worker = async () => {
      while (next < lagging.length) {
        const sessionId = lagging[next++]!.session_id;
        await this.d.write(sessionId, async (q) => {
          const owner = await this.owner(q, sessionId);
          if (!owner || (owner.timeline_seq >= owner.last_seq && owner.timeline_version >= FACTS_VERSION)) return;
          await this.rebuildTimeline(q, sessionId, owner.last_seq);
          await q.run(`UPDATE ${sessions} SET timeline_seq = ?, timeline_version = ? WHERE session_id = ?`, [owner.last_seq, FACTS_VERSION, sessionId]);
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(REBUILD_CONCURRENCY, lagging.length) }, worker));
  }

  async createDevice(dev: DeviceRecord): Promise<void> {
    await this.opened;
    await this.d.write(null, (q) => q.run(`INSERT INTO ${this.t.devices} (device_id, name, secret_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, NULL)`, [dev.deviceId, dev.name, dev.secretHash, dev.createdAt]));
  }

  async device(deviceId: string): Promise<DeviceRecord | undefined> {
    await this.opened;
    const rows = await this.d.read((q) => q.all<DeviceRow>(`SELECT * FROM ${this.t.devices} WHERE device_id = ?`, [deviceId]));
    return rows[0] && deviceFromRow(rows[0]);
  }

  async devices(): Promise<Device[]> {
    await this.opened;
    const rows = await this.d.read((q) => q.all<DeviceRow>(`SELECT * FROM ${this.t.devices} ORDER BY created_at, device_id`));
    return rows.map((r) => publicDevice(deviceFromRow(r)));
  }

  async revokeDevice(deviceId: string, at: number): Promise<Device | undefined> {
    await this.opened;
    const changed = await this.d.write(null, async (q) => {
      const n = await q.run(`UPDATE ${this.t.devices} SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL`, [at, deviceId]);
      if (n > 0) await this.d.notify(q, { type: 'revoke', deviceId });
      return n > 0;
    });
    if (changed) this.emit({ type: 'revoke', deviceId });
    const d = await this.device(deviceId);
    return d && publicDevice(d);
  }

  async claimSession(sessionId: string, deviceId: string, at: number): Promise<ClaimResult> {
    await this.opened;
    return this.d.write(null, async (q) => {
      // A new session's timeline is kept from its first event, under this version's rules.
      const claimed = await q.run(`INSERT INTO ${this.t.sessions} (session_id, device_id, created_at, timeline_version) VALUES (?, ?, ?, ?) ON CONFLICT (session_id) DO NOTHING`, [
        sessionId,
        deviceId,
        at,
        FACTS_VERSION,
      ]);
      if (claimed > 0) await this.count(q, deviceId, at, { bytes: 0, events: 0, sessions: 1 });
      const owner = await this.owner(q, sessionId);
      if (!owner) throw new Error(`session ${sessionId} vanished after it was claimed`);
      return { owner: owner.device_id, lastSeq: owner.last_seq };
    });
  }

  /**
   * Idempotent (unique on session + seq), only ever extends the session's gap-free prefix, checks
   * in the same transaction that the session is the device's and the device is not revoked, and
   * keeps the session's summary in that transaction; resolves after the commit.
   */
  async append(deviceId: string, sessionId: string, events: readonly SyncEvent[], opts: AppendOptions = {}): Promise<AppendResult> {
    const at = opts.at ?? this.now();
    await this.opened;
    const result = await this.d.write(sessionId, async (q): Promise<AppendResult> => {
      const owner = await this.owner(q, sessionId);
      if (!owner || owner.device_id !== deviceId) return { ok: false, why: 'forbidden' };
      if (owner.revoked_at !== null) return { ok: false, why: 'revoked' };
      const delta = summaryDelta(owner.last_seq, events);
      if (!delta) return { ok: true, seq: owner.last_seq, stored: 0, ...(opts.withUsage ? { usage: await this.usageIn(q, deviceId, at) } : {}) };
      // Past the session's cap nothing of the run is stored: the device is told to start a new session.
      if (opts.maxEvents !== undefined && delta.lastSeq > opts.maxEvents) return { ok: false, why: 'full', held: owner.last_seq };
      const kept = keptFacts(owner);
      // The timeline's lists are kept with the facts, from the same fold, when both stand at the stored sequence; otherwise folded again below.
      const timelineKept = owner.timeline_seq >= owner.last_seq && owner.timeline_version >= FACTS_VERSION && kept.seq >= owner.last_seq;
      const items: TimelineItem[] = [];
      let facts: SessionFacts;
      if (timelineKept) facts = foldEvents(kept, delta.run, (n, seq) => items.push(itemOf(n, seq)));
      else {
        const missed = kept.seq < owner.last_seq ? await this.eventsOfKinds(q, sessionId, kept.seq, owner.last_seq, FACT_KINDS) : [];
        facts = nextFacts(kept, owner.last_seq, missed, delta.run);
      }
      const cols = factsColumns({ ...facts, seq: delta.lastSeq }, owner.name ?? '', deviceId);
      await this.d.insertEvents(q, sessionId, delta.run, delta.payloads);
      if (timelineKept) await this.keepItems(q, sessionId, items);
      else await this.rebuildTimeline(q, sessionId, delta.lastSeq);
      const { real, int } = this.d.types;
      // Typed placeholders: PostgreSQL cannot infer a parameter's type inside COALESCE or GREATEST on its own.
      await q.run(
        `UPDATE ${this.t.sessions} SET events = events + ?, last_seq = ?, first_ts = COALESCE(first_ts, CAST(? AS ${real})),
           last_ts = ${this.d.greatest}(COALESCE(last_ts, CAST(? AS ${real})), CAST(? AS ${real})), last_state = COALESCE(CAST(? AS TEXT), last_state), received_at = ?,
           facts = ?, facts_seq = CAST(? AS ${int}), task_id = ?, task_key = ?, completed_ts = ?, ended_ts = ?, search = ?, facts_version = CAST(? AS ${int}),
           timeline_seq = CAST(? AS ${int}), timeline_version = CAST(? AS ${int})
         WHERE session_id = ?`,
        [delta.run.length, delta.lastSeq, delta.firstTs, delta.maxTs, delta.maxTs, delta.lastState, at, cols.facts, cols.factsSeq, cols.taskId, cols.taskKey, cols.completedTs, cols.endedTs, cols.search, FACTS_VERSION, delta.lastSeq, FACTS_VERSION, sessionId],
      );
      const bytes = delta.payloads.reduce((n, p) => n + Buffer.byteLength(p), 0);
      const usage = await this.count(q, deviceId, at, { bytes, events: delta.run.length, sessions: 0 });
      await this.d.notify(q, { type: 'append', sessionId });
      return { ok: true, seq: delta.lastSeq, stored: delta.run.length, ...(opts.withUsage ? { usage } : {}) };
    });
    if (result.ok && result.stored > 0) this.emit({ type: 'append', sessionId });
    return result;
  }

  /** Adds to the device's usage of the day of `at`, in the caller's transaction; returns the day's totals. */
  private async count(q: SqlRunner, deviceId: string, at: number, add: Omit<DeviceUsage, 'day'>): Promise<DeviceUsage> {
    const { usage } = this.t;
    const day = dayOf(at);
    const { num } = this.d;
    const [row] = await q.all<UsageRow>(
      `INSERT INTO ${usage} (device_id, day, bytes, events, sessions) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (device_id, day) DO UPDATE SET bytes = ${usage}.bytes + excluded.bytes, events = ${usage}.events + excluded.events, sessions = ${usage}.sessions + excluded.sessions
       RETURNING ${num('bytes')} AS bytes, ${num('events')} AS events, ${num('sessions')} AS sessions`,
      [deviceId, day, add.bytes, add.events, add.sessions],
    );
    return { day, bytes: row!.bytes, events: row!.events, sessions: row!.sessions };
  }

  private async usageIn(q: SqlRunner, deviceId: string, at: number): Promise<DeviceUsage> {
    const day = dayOf(at);
    const { num } = this.d;
    const [row] = await q.all<UsageRow>(`SELECT ${num('bytes')} AS bytes, ${num('events')} AS events, ${num('sessions')} AS sessions FROM ${this.t.usage} WHERE device_id = ? AND day = ?`, [deviceId, day]);
    return { day, bytes: row?.bytes ?? 0, events: row?.events ?? 0, sessions: row?.sessions ?? 0 };
  }

  async usage(deviceId: string, at: number): Promise<DeviceUsage> {
    await this.opened;
    return this.d.read((q) => this.usageIn(q, deviceId, at));
  }

  async deleteSessionsBefore(before: number, limit: number): Promise<Deleted> {
    await this.opened;
    const { sessions, events } = this.t;
    const stale = `COALESCE(received_at, created_at) < ?`;
    const candidates = await this.d.read((q) => q.all<{ session_id: string }>(`SELECT session_id FROM ${sessions} WHERE ${stale} ORDER BY COALESCE(received_at, created_at) LIMIT ?`, [before, limit]));
    let deleted = { sessions: 0, events: 0 };
    for (const { session_id: sessionId } of candidates) {
      // Under the append's lock, and only if it is still stale: a device may have just sent it more.
      const n = await this.d.write(sessionId, async (q) => {
        const gone = await q.run(`DELETE FROM ${sessions} WHERE session_id = ? AND ${stale}`, [sessionId, before]);
        if (!gone) return { sessions: 0, events: 0 };
        await q.run(`DELETE FROM ${this.t.timeline} WHERE session_id = ?`, [sessionId]);
        await q.run(`DELETE FROM ${this.t.timelineSteps} WHERE session_id = ?`, [sessionId]);
        return { sessions: gone, events: await q.run(`DELETE FROM ${events} WHERE session_id = ?`, [sessionId]) };
      });
      deleted = { sessions: deleted.sessions + n.sessions, events: deleted.events + n.events };
    }
    // Whoever shows lists refreshes: rows may have gone.
    if (deleted.sessions) this.emit({ type: 'resync' });
    return deleted;
  }

  async pruneUsage(beforeDay: number): Promise<number> {
    await this.opened;
    return this.d.write(null, (q) => q.run(`DELETE FROM ${this.t.usage} WHERE day < ?`, [beforeDay]));
  }

  async sessions(limit: number, cursor?: SessionsCursor, filter: SessionFilter = {}): Promise<SessionsPage> {
    await this.opened;
    const now = this.now();
    const values: (string | number)[] = [];
    const where = sessionConditions(filter, cursor, now - this.liveWindowMs, (value) => (values.push(value), '?'), this.d.instr);
    const rows = await this.d.read((q) => q.all<SummaryRow>(`${this.summarySelect(where.join(' AND '))} ORDER BY ${NEWEST_FIRST} LIMIT ?`, [...values, limit + 1]));
    const page = rows.slice(0, limit).map((r) => summaryFromRow(r, now, this.liveWindowMs));
    const last = page.at(-1);
    return { sessions: page, next: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async sessionsById(ids: readonly string[]): Promise<SessionSummary[]> {
    await this.opened;
    if (!ids.length) return [];
    const rows = await this.d.read(async (q) => {
      const out: SummaryRow[] = [];
      for (let i = 0; i < ids.length; i += BY_ID_CHUNK) {
        const list = this.d.inList('s.session_id', ids.slice(i, i + BY_ID_CHUNK));
        out.push(...(await q.all<SummaryRow>(this.summarySelect(`s.first_ts IS NOT NULL AND ${list.sql}`), list.params)));
      }
      return out;
    });
    const now = this.now();
    return rows.sort((a, b) => b.created_at - a.created_at || b.first_ts - a.first_ts || (a.session_id < b.session_id ? 1 : -1)).map((r) => summaryFromRow(r, now, this.liveWindowMs));
  }

  async events(sessionId: string, afterSeq: number, limit: number): Promise<RawEvent[]> {
    await this.opened;
    const rows = await this.d.read((q) => q.all<RawRow>(`SELECT ${this.d.num('seq')} AS seq, ts, kind, payload FROM ${this.t.events} WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?`, [sessionId, afterSeq, limit]));
    return rows.map((r) => ({ sessionId, seq: r.seq, ts: r.ts, kind: r.kind, payload: r.payload }));
  }

  async sessionEvents(sessionId: string, kinds: readonly EventKind[], toSeq: number): Promise<RawEvent[]> {
    await this.opened;
    return this.d.read((q) => this.eventsOfKinds(q, sessionId, 0, toSeq, kinds));
  }

  async timelineHead(sessionId: string): Promise<TimelineHead | undefined> {
    await this.opened;
    const { num } = this.d;
    // One statement: the facts and the counts are of one instant, whatever commits meanwhile.
    const rows = await this.d.read((q) =>
      q.all<HeadRow>(
        `SELECT ${this.summaryColumns}, ${num('t.step')} AS t_step, ${num('t.derailments')} AS t_derailments, ${num('t.instructions')} AS t_instructions
         FROM ${this.t.sessions} s LEFT JOIN ${this.t.devices} d ON d.device_id = s.device_id LEFT JOIN ${this.t.timelineSteps} t ON t.session_id = s.session_id
         WHERE s.session_id = ? AND s.first_ts IS NOT NULL`,
        [sessionId],
      ),
    );
    const first = rows[0];
    if (!first) return undefined;
    const lists = rows.flatMap((r) => (r.t_step === null ? [] : [{ step: r.t_step, derailments: r.t_derailments ?? 0, instructions: r.t_instructions ?? 0 }]));
    return { session: summaryFromRow(first, this.now(), this.liveWindowMs), facts: parseFacts(first.facts), lists: lists.sort((a, b) => a.step - b.step) };
  }

  async timelineItems(sessionId: string, lists: readonly TimelineListRead[], toSeq: number): Promise<TimelineItem[]> {
    await this.opened;
    const wanted = lists.filter((l) => l.limit > 0);
    if (!wanted.length) return [];
    const { num } = this.d;
    const cols = `${num('step')} AS step, kind, ${num('seq')} AS seq, ts, end_ts, text`;
    const rows = await this.d.read(async (q) => {
      const out: ItemRow[] = [];
      // One bounded select per list, a UNION ALL of them per statement: an index range each, never the session's whole list.
      for (let i = 0; i < wanted.length; i += LISTS_CHUNK) {
        const chunk = wanted.slice(i, i + LISTS_CHUNK);
        const sql = chunk
          .map((_, k) => `SELECT * FROM (SELECT ${cols} FROM ${this.t.timeline} WHERE session_id = ? AND step = ? AND kind = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?) AS l${k}`)
          .join(' UNION ALL ');
        out.push(...(await q.all<ItemRow>(sql, chunk.flatMap((l) => [sessionId, l.step, l.kind, l.afterSeq, toSeq, l.limit]))));
      }
      return out;
    });
    // UNION ALL promises no order: each list in order of seq, the lists as asked.
    const byList = new Map<string, TimelineItem[]>();
    for (const r of rows) {
      const key = `${r.step}:${r.kind}`;
      const list = byList.get(key);
      if (list) list.push(itemFromRow(r));
      else byList.set(key, [itemFromRow(r)]);
    }
    return wanted.flatMap((l) => (byList.get(`${l.step}:${l.kind}`) ?? []).sort((a, b) => a.seq - b.seq));
  }

  async timelineItemsByTime(sessionId: string, step: number, after: TimeCursor | undefined, toSeq: number, limit: number): Promise<TimelineItem[]> {
    await this.opened;
    const { num } = this.d;
    const { real, int } = this.d.types;
    // PostgreSQL wants the parameters' types spelled out; SQLite plans the whole row value as the index range only without them.
    const from = !after ? '' : this.d.kind === 'postgres' ? ` AND (ts, kind, seq) > (CAST(? AS ${real}), CAST(? AS TEXT), CAST(? AS ${int}))` : ' AND (ts, kind, seq) > (?, ?, ?)';
    const rows = await this.d.read((q) =>
      q.all<ItemRow>(
        `SELECT ${num('step')} AS step, kind, ${num('seq')} AS seq, ts, end_ts, text FROM ${this.t.timeline}
         WHERE session_id = ? AND step = ? AND seq <= ?${from} ORDER BY ts, kind, seq LIMIT ?`,
        [sessionId, step, toSeq, ...(after ? [after.ts, after.kind, after.seq] : []), limit],
      ),
    );
    return rows.map(itemFromRow);
  }

  async taskFacts(taskKey: string): Promise<SessionFacts[]> {
    await this.opened;
    const rows = await this.d.read((q) => q.all<{ facts: string | null }>(`SELECT facts FROM ${this.t.sessions} s WHERE s.task_key = ? AND s.first_ts IS NOT NULL ORDER BY ${NEWEST_FIRST}`, [taskKey]));
    return rows.map((r) => parseFacts(r.facts));
  }

  onChange(listener: (c: StoreChange) => void): void {
    this.listeners.add(listener);
  }

  close(): Promise<void> {
    return this.d.close();
  }

  private summarySelect(where: string): string {
    return `SELECT ${this.summaryColumns} FROM ${this.t.sessions} s LEFT JOIN ${this.t.devices} d ON d.device_id = s.device_id WHERE ${where}`;
  }

  private emit(change: StoreChange): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch {
        // A listener's failure is its own; the write has committed.
      }
    }
  }
}
