import Database from 'better-sqlite3';
import pg from 'pg';
import { contiguousFrom, type SyncEvent } from '../src/sync/protocol';

export interface SessionSummary {
  readonly sessionId: string;
  readonly events: number;
  readonly lastSeq: number;
  readonly firstTs: number;
  readonly lastTs: number;
  /** The newest state event's payload: what step the session is on. */
  readonly lastState: unknown;
}

export interface StoredEvent extends SyncEvent {
  readonly sessionId: string;
}

/**
 * Where events live. `append` is idempotent (unique on session + seq) and only ever
 * extends a session's gap-free prefix; it returns the highest seq stored without gaps.
 */
export interface EventStore {
  append(sessionId: string, events: readonly SyncEvent[]): Promise<number>;
  lastSeq(sessionId: string): Promise<number>;
  sessions(): Promise<SessionSummary[]>;
  events(sessionId: string, afterSeq?: number, limit?: number): Promise<StoredEvent[]>;
  /** Called with the session id whenever any instance stored events for it. */
  onAppend(listener: (sessionId: string) => void): void;
  close(): Promise<void>;
}

export class SqliteStore implements EventStore {
  private readonly db: Database.Database;
  private readonly listeners = new Set<(s: string) => void>();

  constructor(file: string) {
    this.db = new Database(file);
    // WAL: a crash (kill -9) loses nothing that was acknowledged.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS events (
      session_id TEXT NOT NULL, seq INTEGER NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
      PRIMARY KEY (session_id, seq))`);
  }

  async append(sessionId: string, events: readonly SyncEvent[]): Promise<number> {
    const insert = this.db.prepare('INSERT OR IGNORE INTO events (session_id, seq, ts, kind, payload) VALUES (?, ?, ?, ?, ?)');
    const stored = this.db.transaction(() => {
      const last = this.last(sessionId);
      const run = contiguousFrom(last, events);
      for (const e of run) insert.run(sessionId, e.seq, e.ts, e.kind, JSON.stringify(e.payload));
      return last + run.length;
    })();
    for (const l of this.listeners) l(sessionId);
    return stored;
  }

  async lastSeq(sessionId: string): Promise<number> {
    return this.last(sessionId);
  }

  async sessions(): Promise<SessionSummary[]> {
    const rows = this.db
      .prepare(`SELECT session_id, COUNT(*) n, MAX(seq) last_seq, MIN(ts) first_ts, MAX(ts) last_ts,
        (SELECT payload FROM events s WHERE s.session_id = e.session_id AND kind = 'state' ORDER BY seq DESC LIMIT 1) last_state
        FROM events e GROUP BY session_id ORDER BY last_ts DESC`)
      .all() as { session_id: string; n: number; last_seq: number; first_ts: number; last_ts: number; last_state: string | null }[];
    return rows.map((r) => ({ sessionId: r.session_id, events: r.n, lastSeq: r.last_seq, firstTs: r.first_ts, lastTs: r.last_ts, lastState: r.last_state ? JSON.parse(r.last_state) : null }));
  }

  async events(sessionId: string, afterSeq = 0, limit = 1000): Promise<StoredEvent[]> {
    const rows = this.db.prepare('SELECT seq, ts, kind, payload FROM events WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?').all(sessionId, afterSeq, limit) as { seq: number; ts: number; kind: SyncEvent['kind']; payload: string }[];
    return rows.map((r) => ({ sessionId, seq: r.seq, ts: r.ts, kind: r.kind, payload: JSON.parse(r.payload) }));
  }

  onAppend(listener: (sessionId: string) => void): void {
    this.listeners.add(listener);
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private last(sessionId: string): number {
    return (this.db.prepare('SELECT MAX(seq) m FROM events WHERE session_id = ?').get(sessionId) as { m: number | null }).m ?? 0;
  }
}

/** PostgreSQL, for several backend instances serving one deployment; they hear of each other's writes by NOTIFY. */
export class PostgresStore implements EventStore {
  private readonly listeners = new Set<(s: string) => void>();
  private listener: pg.Client | undefined;

  private constructor(private readonly pool: pg.Pool, private readonly table: string) {}

  static async open(url: string, table = 'framewise_events'): Promise<PostgresStore> {
    if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`bad table name ${table}`);
    const pool = new pg.Pool({ connectionString: url, max: 5 });
    await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (
      session_id TEXT NOT NULL, seq INTEGER NOT NULL, ts DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL, payload JSONB NOT NULL,
      PRIMARY KEY (session_id, seq))`);
    const store = new PostgresStore(pool, table);
    store.listener = new pg.Client({ connectionString: url });
    await store.listener.connect();
    await store.listener.query(`LISTEN ${table}`);
    store.listener.on('notification', (n) => {
      if (n.payload) for (const l of store.listeners) l(n.payload);
    });
    return store;
  }

  async append(sessionId: string, events: readonly SyncEvent[]): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // One writer per session at a time, across instances.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [sessionId]);
      const last = await this.lastWith(client, sessionId);
      const run = contiguousFrom(last, events);
      for (const e of run) {
        await client.query(`INSERT INTO ${this.table} (session_id, seq, ts, kind, payload) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, [sessionId, e.seq, e.ts, e.kind, JSON.stringify(e.payload)]);
      }
      await client.query(`SELECT pg_notify($1, $2)`, [this.table, sessionId]);
      await client.query('COMMIT');
      return last + run.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async lastSeq(sessionId: string): Promise<number> {
    return this.lastWith(this.pool, sessionId);
  }

  async sessions(): Promise<SessionSummary[]> {
    const { rows } = await this.pool.query(`SELECT session_id, COUNT(*)::int n, MAX(seq) last_seq, MIN(ts) first_ts, MAX(ts) last_ts,
      (SELECT payload FROM ${this.table} s WHERE s.session_id = e.session_id AND kind = 'state' ORDER BY seq DESC LIMIT 1) last_state
      FROM ${this.table} e GROUP BY session_id ORDER BY last_ts DESC`);
    return rows.map((r) => ({ sessionId: r.session_id, events: r.n, lastSeq: r.last_seq, firstTs: r.first_ts, lastTs: r.last_ts, lastState: r.last_state }));
  }

  async events(sessionId: string, afterSeq = 0, limit = 1000): Promise<StoredEvent[]> {
    const { rows } = await this.pool.query(`SELECT seq, ts, kind, payload FROM ${this.table} WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [sessionId, afterSeq, limit]);
    return rows.map((r) => ({ sessionId, seq: r.seq, ts: r.ts, kind: r.kind, payload: r.payload }));
  }

  onAppend(listener: (sessionId: string) => void): void {
    this.listeners.add(listener);
  }

  async close(): Promise<void> {
    await this.listener?.end();
    await this.pool.end();
  }

  private async lastWith(q: pg.Pool | pg.PoolClient, sessionId: string): Promise<number> {
    const { rows } = await q.query(`SELECT MAX(seq) m FROM ${this.table} WHERE session_id = $1`, [sessionId]);
    return rows[0]?.m ?? 0;
  }
}
