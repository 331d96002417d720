// The store's one algorithm (append, catch-up, paging, summaries, change events) over SQL that
// both SQLite and PostgreSQL run. What differs between them is the Dialect: placeholders,
// column types, list parameters, how rows are inserted in bulk, transactions and locks, and
// notifications to other instances.
import type { Device, EventKind, SyncEvent } from '../src/sync/protocol';
import type { SessionFilter, SessionsPage, SessionSummary } from '../src/sync/trainer-api';
import { emptyFacts, FACT_KINDS, FACTS_VERSION, foldEvents, sameUnderCurrentRules, type SessionFacts } from './session-facts';
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
type OwnerRow = { device_id: string; last_seq: number; revoked_at: number | null; name: string | null; facts: string | null; facts_version: number };
type RawRow = { seq: number; ts: number; kind: RawEvent['kind']; payload: string };
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
    });
  }

  private owner(q: SqlRunner, sessionId: string): Promise<OwnerRow | undefined> {
    return q
      .all<OwnerRow>(`SELECT s.device_id, ${this.d.num('s.last_seq')} AS last_seq, d.revoked_at, d.name, s.facts, ${this.d.num('s.facts_version')} AS facts_version FROM ${this.t.sessions} s LEFT JOIN ${this.t.devices} d ON d.device_id = s.device_id WHERE s.session_id = ?`, [sessionId])
      .then((rows) => rows[0]);
  }

  private async eventsOfKinds(q: SqlRunner, sessionId: string, afterSeq: number, toSeq: number, kinds: readonly string[]): Promise<RawEvent[]> {
    if (!kinds.length) return [];
    const kind = this.d.inList('kind', kinds);
    const rows = await q.all<RawRow>(`SELECT ${this.d.num('seq')} AS seq, ts, kind, payload FROM ${this.t.events} WHERE session_id = ? AND seq > ? AND seq <= ? AND ${kind.sql} ORDER BY seq`, [sessionId, afterSeq, toSeq, ...kind.params]);
    return rows.map((r) => ({ sessionId, ...r }));
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
      const claimed = await q.run(`INSERT INTO ${this.t.sessions} (session_id, device_id, created_at) VALUES (?, ?, ?) ON CONFLICT (session_id) DO NOTHING`, [sessionId, deviceId, at]);
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
      const kept = keptFacts(owner);
      const missed = kept.seq < owner.last_seq ? await this.eventsOfKinds(q, sessionId, kept.seq, owner.last_seq, FACT_KINDS) : [];
      const cols = factsColumns({ ...nextFacts(kept, owner.last_seq, missed, delta.run), seq: delta.lastSeq }, owner.name ?? '', deviceId);
      await this.d.insertEvents(q, sessionId, delta.run, delta.payloads);
      const { real, int } = this.d.types;
      // Typed placeholders: PostgreSQL cannot infer a parameter's type inside COALESCE or GREATEST on its own.
      await q.run(
        `UPDATE ${this.t.sessions} SET events = events + ?, last_seq = ?, first_ts = COALESCE(first_ts, CAST(? AS ${real})),
           last_ts = ${this.d.greatest}(COALESCE(last_ts, CAST(? AS ${real})), CAST(? AS ${real})), last_state = COALESCE(CAST(? AS TEXT), last_state), received_at = ?,
           facts = ?, facts_seq = CAST(? AS ${int}), task_id = ?, task_key = ?, completed_ts = ?, ended_ts = ?, search = ?, facts_version = CAST(? AS ${int})
         WHERE session_id = ?`,
        [delta.run.length, delta.lastSeq, delta.firstTs, delta.maxTs, delta.maxTs, delta.lastState, at, cols.facts, cols.factsSeq, cols.taskId, cols.taskKey, cols.completedTs, cols.endedTs, cols.search, FACTS_VERSION, sessionId],
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
        return gone ? { sessions: gone, events: await q.run(`DELETE FROM ${events} WHERE session_id = ?`, [sessionId]) } : { sessions: 0, events: 0 };
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
