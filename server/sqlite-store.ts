// One instance, one file. better-sqlite3 is synchronous: a transaction has committed (WAL,
// synchronous=FULL, so it survives a kill -9 or a power cut) when the call returns.
import Database from 'better-sqlite3';
import type { Device, EventKind, SessionFilter, SessionSummary, SyncEvent } from '../src/sync/protocol';
import { FACT_KINDS, foldEvents, type SessionFacts } from './session-facts';
import {
  encodeCursor,
  factsColumns,
  nextFacts,
  parseFacts,
  rawToFold,
  sessionConditions,
  storeClock,
  summaryDelta,
  summaryFromRow,
  type AppendResult,
  type ClaimResult,
  type DeviceRecord,
  type RawEvent,
  type SessionsCursor,
  type SessionsPage,
  type Store,
  type StoreChange,
  type StoreOptions,
  type SummaryRow,
} from './store';

interface DeviceRow {
  device_id: string;
  name: string;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
}

const deviceFromRow = (r: DeviceRow): DeviceRecord => ({ deviceId: r.device_id, name: r.name, secretHash: r.secret_hash, createdAt: r.created_at, revokedAt: r.revoked_at });
const publicDevice = ({ deviceId, name, createdAt, revokedAt }: DeviceRecord): Device => ({ deviceId, name, createdAt, revokedAt });

const SUMMARY_COLUMNS = 's.session_id, s.device_id, d.name, s.events, s.last_seq, s.first_ts, s.last_ts, s.last_state, s.facts, s.received_at';
const FROM_SUMMARIES = 'FROM fw_sessions s LEFT JOIN fw_devices d ON d.device_id = s.device_id';

/** Summary columns added after the first release: added to an existing file at open, then filled from its events. */
const FACT_COLUMNS: [string, string][] = [
  ['facts', 'TEXT'],
  ['facts_seq', 'INTEGER NOT NULL DEFAULT 0'],
  ['task_id', 'TEXT'],
  ['completed_ts', 'REAL'],
  ['ended_ts', 'REAL'],
  ['received_at', 'REAL'],
  ['search', "TEXT NOT NULL DEFAULT ''"],
];

type RawRow = { seq: number; ts: number; kind: RawEvent['kind']; payload: string };

export interface SqliteOptions extends StoreOptions {
  /** Hears every SQL statement run: lets a test see which tables a request touches. */
  readonly trace?: (sql: string) => void;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly liveWindowMs: number;
  private readonly now: () => number;
  private readonly db: Database.Database;
  /** List statements by their SQL: a filter combination is prepared once. */
  private readonly lists = new Map<string, Database.Statement<unknown[], SummaryRow>>();
  private readonly listeners = new Set<(c: StoreChange) => void>();
  private readonly q;

  constructor(file: string, opts: SqliteOptions = {}) {
    ({ now: this.now, liveWindowMs: this.liveWindowMs } = storeClock(opts));
    this.db = new Database(file, opts.trace ? { verbose: (sql) => opts.trace!(String(sql)) } : {});
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    // New table names: the old `events` table kept no owner, and its rows cannot be attributed to a device.
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS fw_devices (
        device_id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL, created_at REAL NOT NULL, revoked_at REAL);
      CREATE TABLE IF NOT EXISTS fw_sessions (
        session_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, created_at REAL NOT NULL,
        events INTEGER NOT NULL DEFAULT 0, last_seq INTEGER NOT NULL DEFAULT 0,
        first_ts REAL, last_ts REAL, last_state TEXT);
      CREATE INDEX IF NOT EXISTS fw_sessions_newest ON fw_sessions (first_ts DESC, session_id DESC) WHERE first_ts IS NOT NULL;
      CREATE TABLE IF NOT EXISTS fw_events (
        session_id TEXT NOT NULL, seq INTEGER NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)) WITHOUT ROWID;`);
    const have = new Set(this.db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('fw_sessions')").all().map((c) => c.name));
    for (const [name, type] of FACT_COLUMNS) if (!have.has(name)) this.db.exec(`ALTER TABLE fw_sessions ADD COLUMN ${name} ${type}`);
    this.db.exec(`
      CREATE INDEX IF NOT EXISTS fw_sessions_device ON fw_sessions (device_id, first_ts DESC, session_id DESC) WHERE first_ts IS NOT NULL;
      CREATE INDEX IF NOT EXISTS fw_sessions_task ON fw_sessions (task_id, first_ts DESC, session_id DESC) WHERE first_ts IS NOT NULL;`);
    const db = this.db;
    this.q = {
      insertDevice: db.prepare('INSERT INTO fw_devices (device_id, name, secret_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, NULL)'),
      device: db.prepare<[string], DeviceRow>('SELECT * FROM fw_devices WHERE device_id = ?'),
      devices: db.prepare<[], DeviceRow>('SELECT * FROM fw_devices ORDER BY created_at, device_id'),
      revoke: db.prepare('UPDATE fw_devices SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL'),
      claim: db.prepare('INSERT INTO fw_sessions (session_id, device_id, created_at) VALUES (?, ?, ?) ON CONFLICT (session_id) DO NOTHING'),
      owner: db.prepare<[string], { device_id: string; last_seq: number; revoked_at: number | null; name: string | null; facts: string | null }>(
        'SELECT s.device_id, s.last_seq, d.revoked_at, d.name, s.facts FROM fw_sessions s LEFT JOIN fw_devices d ON d.device_id = s.device_id WHERE s.session_id = ?',
      ),
      insertEvent: db.prepare('INSERT INTO fw_events (session_id, seq, ts, kind, payload) VALUES (?, ?, ?, ?, ?)'),
      summarise: db.prepare(`UPDATE fw_sessions SET events = events + @count, last_seq = @lastSeq, first_ts = COALESCE(first_ts, @firstTs),
        last_ts = MAX(COALESCE(last_ts, @maxTs), @maxTs), last_state = COALESCE(@lastState, last_state), received_at = @receivedAt,
        facts = @facts, facts_seq = @factsSeq, task_id = @taskId, completed_ts = @completedTs, ended_ts = @endedTs, search = @search
        WHERE session_id = @sessionId`),
      refold: db.prepare(`UPDATE fw_sessions SET facts = @facts, facts_seq = @factsSeq, task_id = @taskId, completed_ts = @completedTs, ended_ts = @endedTs, search = @search
        WHERE session_id = @sessionId`),
      lagging: db.prepare<[], { session_id: string }>('SELECT session_id FROM fw_sessions WHERE first_ts IS NOT NULL AND facts_seq < last_seq'),
      factEvents: db.prepare<[string, number, number], RawRow>(
        `SELECT seq, ts, kind, payload FROM fw_events WHERE session_id = ? AND seq > ? AND seq <= ? AND kind IN (${FACT_KINDS.map((k) => `'${k}'`).join(', ')}) ORDER BY seq`,
      ),
      events: db.prepare<[string, number, number], RawRow>('SELECT seq, ts, kind, payload FROM fw_events WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
      taskFacts: db.prepare<[string], { facts: string | null }>(
        'SELECT facts FROM fw_sessions WHERE task_id = ? AND first_ts IS NOT NULL ORDER BY first_ts DESC, session_id DESC',
      ),
    };
    this.catchUp();
  }

  /** Sessions whose facts lag their events (a file from before the facts existed) are folded from their events, once, at open. */
  private catchUp(): void {
    for (const { session_id } of this.q.lagging.all()) {
      this.db.transaction(() => {
        const owner = this.q.owner.get(session_id)!;
        const kept = parseFacts(owner.facts);
        const facts = foldEvents(kept, this.q.factEvents.all(session_id, kept.seq, owner.last_seq).map((e) => rawToFold({ sessionId: session_id, ...e })));
        // Every fact kind is folded, so the facts now stand at the stored sequence even when its last events were detections.
        this.q.refold.run({ sessionId: session_id, ...factsColumns({ ...facts, seq: owner.last_seq }, owner.name ?? '') });
      }).immediate();
    }
  }

  async createDevice(d: DeviceRecord): Promise<void> {
    this.q.insertDevice.run(d.deviceId, d.name, d.secretHash, d.createdAt);
  }

  async device(deviceId: string): Promise<DeviceRecord | undefined> {
    const r = this.q.device.get(deviceId);
    return r && deviceFromRow(r);
  }

  async devices(): Promise<Device[]> {
    return this.q.devices.all().map((r) => publicDevice(deviceFromRow(r)));
  }

  async revokeDevice(deviceId: string, at: number): Promise<Device | undefined> {
    const changed = this.q.revoke.run(at, deviceId).changes > 0;
    const r = this.q.device.get(deviceId);
    if (changed) this.emit({ type: 'revoke', deviceId });
    return r && publicDevice(deviceFromRow(r));
  }

  async claimSession(sessionId: string, deviceId: string, at: number): Promise<ClaimResult> {
    return this.db.transaction(() => {
      this.q.claim.run(sessionId, deviceId, at);
      const r = this.q.owner.get(sessionId)!;
      return { owner: r.device_id, lastSeq: r.last_seq };
    }).immediate();
  }

  async append(deviceId: string, sessionId: string, events: readonly SyncEvent[]): Promise<AppendResult> {
    const result = this.db.transaction((): AppendResult => {
      const owner = this.q.owner.get(sessionId);
      if (!owner || owner.device_id !== deviceId) return { ok: false, why: 'forbidden' };
      if (owner.revoked_at !== null) return { ok: false, why: 'revoked' };
      const delta = summaryDelta(owner.last_seq, events);
      if (!delta) return { ok: true, seq: owner.last_seq, stored: 0 };
      const kept = parseFacts(owner.facts);
      const missed = kept.seq < owner.last_seq ? this.q.factEvents.all(sessionId, kept.seq, owner.last_seq).map((e) => ({ sessionId, ...e })) : [];
      const facts = nextFacts(kept, owner.last_seq, missed, delta.run);
      delta.run.forEach((e, i) => this.q.insertEvent.run(sessionId, e.seq, e.ts, e.kind, delta.payloads[i]!));
      this.q.summarise.run({
        sessionId,
        count: delta.run.length,
        lastSeq: delta.lastSeq,
        firstTs: delta.firstTs,
        maxTs: delta.maxTs,
        lastState: delta.lastState,
        receivedAt: this.now(),
        ...factsColumns({ ...facts, seq: delta.lastSeq }, owner.name ?? ''),
      });
      return { ok: true, seq: delta.lastSeq, stored: delta.run.length };
    }).immediate();
    if (result.ok && result.stored > 0) this.emit({ type: 'append', sessionId });
    return result;
  }

  async sessions(limit: number, cursor?: SessionsCursor, filter: SessionFilter = {}): Promise<SessionsPage> {
    const now = this.now();
    const values: (string | number)[] = [];
    const where = sessionConditions(filter, cursor, now - this.liveWindowMs, (value) => (values.push(value), '?'), 'instr');
    const sql = `SELECT ${SUMMARY_COLUMNS} ${FROM_SUMMARIES} WHERE ${where.join(' AND ')} ORDER BY s.first_ts DESC, s.session_id DESC LIMIT ?`;
    let statement = this.lists.get(sql);
    if (!statement) this.lists.set(sql, (statement = this.db.prepare<unknown[], SummaryRow>(sql)));
    const rows = statement.all(...values, limit + 1);
    const page = rows.slice(0, limit).map((r) => summaryFromRow(r, now, this.liveWindowMs));
    const last = page.at(-1);
    return { sessions: page, next: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async sessionsById(ids: readonly string[]): Promise<SessionSummary[]> {
    if (!ids.length) return [];
    const rows: SummaryRow[] = [];
    // Bounded statements: SQLite limits the number of parameters.
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      rows.push(
        ...(this.db
          .prepare(`SELECT ${SUMMARY_COLUMNS} ${FROM_SUMMARIES} WHERE s.first_ts IS NOT NULL AND s.session_id IN (${chunk.map(() => '?').join(',')})`)
          .all(...chunk) as SummaryRow[]),
      );
    }
    const now = this.now();
    return rows.sort((a, b) => b.first_ts - a.first_ts || (a.session_id < b.session_id ? 1 : -1)).map((r) => summaryFromRow(r, now, this.liveWindowMs));
  }

  async events(sessionId: string, afterSeq: number, limit: number): Promise<RawEvent[]> {
    return this.q.events.all(sessionId, afterSeq, limit).map((r) => ({ sessionId, seq: r.seq, ts: r.ts, kind: r.kind, payload: r.payload }));
  }

  async sessionEvents(sessionId: string, kinds: readonly EventKind[], toSeq: number): Promise<RawEvent[]> {
    if (!kinds.length) return [];
    return this.db
      .prepare<unknown[], RawRow>(`SELECT seq, ts, kind, payload FROM fw_events WHERE session_id = ? AND seq <= ? AND kind IN (${kinds.map(() => '?').join(', ')}) ORDER BY seq`)
      .all(sessionId, toSeq, ...kinds)
      .map((r) => ({ sessionId, ...r }));
  }

  async taskFacts(taskId: string): Promise<SessionFacts[]> {
    return this.q.taskFacts.all(taskId).map((r) => parseFacts(r.facts));
  }

  onChange(listener: (c: StoreChange) => void): void {
    this.listeners.add(listener);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
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
