// PostgreSQL, for several instances serving one deployment. They hear of each other's writes and
// revocations by LISTEN/NOTIFY. A lost connection (failover, pg_terminate_backend, a network
// blip) is an error to log, never a crash: the pool replaces its clients, the LISTEN client
// reconnects with backoff, and after a reconnect the caches that NOTIFY keeps fresh are told to
// refresh, since notifications sent meanwhile are gone.
import { backOff } from 'exponential-backoff';
import pg from 'pg';
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

export interface PostgresOptions extends StoreOptions {
  readonly url: string;
  /** Table names are `<prefix>_devices`, `<prefix>_sessions`, `<prefix>_events`; the NOTIFY channel is `<prefix>`. */
  readonly prefix?: string;
  /** Shown in pg_stat_activity, so an operator (or a test) can find this server's connections. */
  readonly applicationName?: string;
  readonly poolSize?: number;
  readonly statementTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

interface DeviceRow {
  device_id: string;
  name: string;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
}
const deviceFromRow = (r: DeviceRow): DeviceRecord => ({ deviceId: r.device_id, name: r.name, secretHash: r.secret_hash, createdAt: r.created_at, revokedAt: r.revoked_at });
const publicDevice = ({ deviceId, name, createdAt, revokedAt }: DeviceRecord): Device => ({ deviceId, name, createdAt, revokedAt });

/** Summary columns added after the first release: added to existing tables at open, then filled from their events. */
const FACT_COLUMNS: [string, string][] = [
  ['facts', 'TEXT'],
  ['facts_seq', 'BIGINT NOT NULL DEFAULT 0'],
  ['task_id', 'TEXT'],
  ['completed_ts', 'DOUBLE PRECISION'],
  ['ended_ts', 'DOUBLE PRECISION'],
  ['received_at', 'DOUBLE PRECISION'],
  ['search', "TEXT NOT NULL DEFAULT ''"],
];

type OwnerRow = { device_id: string; last_seq: number; revoked_at: number | null; name: string | null; facts: string | null };
type RawRow = { seq: number; ts: number; kind: RawEvent['kind']; payload: string };

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly liveWindowMs: number;
  private readonly now: () => number;
  private readonly listeners = new Set<(c: StoreChange) => void>();
  private listener: pg.Client | undefined;
  private closing = false;
  private reconnecting: Promise<void> | undefined;
  private readonly t: { devices: string; sessions: string; events: string; channel: string };
  private readonly log: (line: string) => void;
  private readonly clientConfig: pg.ClientConfig;

  private constructor(private readonly pool: pg.Pool, prefix: string, clientConfig: pg.ClientConfig, log: (line: string) => void, opts: StoreOptions) {
    ({ now: this.now, liveWindowMs: this.liveWindowMs } = storeClock(opts));
    this.t = { devices: `${prefix}_devices`, sessions: `${prefix}_sessions`, events: `${prefix}_events`, channel: prefix };
    this.clientConfig = clientConfig;
    this.log = log;
  }

  static async open(opts: PostgresOptions): Promise<PostgresStore> {
    const prefix = opts.prefix ?? 'framewise_v2';
    if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix)) throw new Error(`FRAMEWISE_PG_TABLE must be a lower-case SQL name of at most 41 characters, got "${prefix}"`);
    const log = opts.log ?? ((line: string) => console.error(line));
    const statementTimeout = opts.statementTimeoutMs ?? 10_000;
    const clientConfig: pg.ClientConfig = {
      connectionString: opts.url,
      application_name: opts.applicationName ?? 'framewise',
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
      // The server ends a statement that runs too long; the client gives up a little later if even that answer is lost.
      statement_timeout: statementTimeout,
      query_timeout: statementTimeout + 2_000,
      idle_in_transaction_session_timeout: statementTimeout * 3,
      keepAlive: true,
    };
    const pool = new pg.Pool({ ...clientConfig, max: opts.poolSize ?? 10, idleTimeoutMillis: 30_000 });
    // An idle client that loses its connection is reported here; the pool discards it and opens another on demand.
    pool.on('error', (err) => log(`postgres: idle connection lost (${err.message}); the pool replaces it`));
    const store = new PostgresStore(pool, prefix, clientConfig, log, opts);
    try {
      await store.migrate();
      await store.catchUp();
      await store.listen();
    } catch (err) {
      store.closing = true;
      await store.listener?.end().catch(() => {});
      await pool.end().catch(() => {});
      throw err;
    }
    return store;
  }

  private async migrate(): Promise<void> {
    const { devices, sessions, events } = this.t;
    await this.transaction(async (c) => {
      // Instances starting together would race on CREATE TABLE IF NOT EXISTS (a unique violation in pg_type).
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`framewise-schema:${this.t.channel}`]);
      // Payloads are TEXT, not JSONB: JSONB refuses \u0000, reorders keys and drops duplicates, so it would
      // neither accept what SQLite accepts nor read back what was sent.
      await c.query(`CREATE TABLE IF NOT EXISTS ${devices} (
        device_id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL, revoked_at DOUBLE PRECISION)`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${sessions} (
        session_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
        events BIGINT NOT NULL DEFAULT 0, last_seq BIGINT NOT NULL DEFAULT 0,
        first_ts DOUBLE PRECISION, last_ts DOUBLE PRECISION, last_state TEXT)`);
      await c.query(`CREATE INDEX IF NOT EXISTS ${sessions}_newest ON ${sessions} (first_ts DESC, session_id DESC) WHERE first_ts IS NOT NULL`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${events} (
        session_id TEXT NOT NULL, seq BIGINT NOT NULL, ts DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
        PRIMARY KEY (session_id, seq))`);
      for (const [name, type] of FACT_COLUMNS) await c.query(`ALTER TABLE ${sessions} ADD COLUMN IF NOT EXISTS ${name} ${type}`);
      await c.query(`CREATE INDEX IF NOT EXISTS ${sessions}_device ON ${sessions} (device_id, first_ts DESC, session_id DESC) WHERE first_ts IS NOT NULL`);
      await c.query(`CREATE INDEX IF NOT EXISTS ${sessions}_task ON ${sessions} (task_id, first_ts DESC, session_id DESC) WHERE first_ts IS NOT NULL`);
    });
  }

  private ownerSql(): string {
    return `SELECT s.device_id, s.last_seq::float8 AS last_seq, d.revoked_at, d.name, s.facts FROM ${this.t.sessions} s LEFT JOIN ${this.t.devices} d ON d.device_id = s.device_id WHERE s.session_id = $1`;
  }

  private async factEvents(c: pg.PoolClient, sessionId: string, afterSeq: number, toSeq: number): Promise<RawEvent[]> {
    const { rows } = await c.query<RawRow>(`SELECT seq::float8 AS seq, ts, kind, payload FROM ${this.t.events} WHERE session_id = $1 AND seq > $2 AND seq <= $3 AND kind = ANY($4::text[]) ORDER BY seq`, [
      sessionId,
      afterSeq,
      toSeq,
      FACT_KINDS,
    ]);
    return rows.map((r) => ({ sessionId, ...r }));
  }

  /** Sessions whose facts lag their events (tables from before the facts existed) are folded from their events, once, at open. */
  private async catchUp(): Promise<void> {
    const { rows } = await this.pool.query<{ session_id: string }>(`SELECT session_id FROM ${this.t.sessions} WHERE first_ts IS NOT NULL AND facts_seq < last_seq`);
    for (const { session_id } of rows) {
      await this.transaction(async (c) => {
        // The append's lock: an instance already running may be writing this session.
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [session_id]);
        const owner = (await c.query<OwnerRow>(this.ownerSql(), [session_id])).rows[0]!;
        const kept = parseFacts(owner.facts);
        if (kept.seq >= owner.last_seq) return;
        const facts = foldEvents(kept, (await this.factEvents(c, session_id, kept.seq, owner.last_seq)).map(rawToFold));
        const cols = factsColumns({ ...facts, seq: owner.last_seq }, owner.name ?? '');
        await c.query(`UPDATE ${this.t.sessions} SET facts = $2, facts_seq = $3, task_id = $4, completed_ts = $5, ended_ts = $6, search = $7 WHERE session_id = $1`, [
          session_id,
          cols.facts,
          cols.factsSeq,
          cols.taskId,
          cols.completedTs,
          cols.endedTs,
          cols.search,
        ]);
      });
    }
  }

  private async listen(): Promise<void> {
    const client = new pg.Client(this.clientConfig);
    const lost = (why: string) => {
      if (this.listener !== client) return;
      this.listener = undefined;
      client.end().catch(() => {});
      if (this.closing) return;
      this.log(`postgres: LISTEN connection lost (${why}); reconnecting`);
      this.reconnectListener();
    };
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('ended'));
    client.on('notification', (n) => {
      const p = n.payload ?? '';
      if (p.startsWith('s:')) this.emit({ type: 'append', sessionId: p.slice(2) });
      else if (p.startsWith('r:')) this.emit({ type: 'revoke', deviceId: p.slice(2) });
    });
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${this.t.channel}`);
    } catch (err) {
      if (this.listener === client) this.listener = undefined;
      client.end().catch(() => {});
      throw err;
    }
  }

  private reconnectListener(): void {
    this.reconnecting ??= backOff(
      async () => {
        if (this.closing) return;
        await this.listen();
      },
      {
        startingDelay: 100,
        maxDelay: 5_000,
        jitter: 'full',
        numOfAttempts: Number.MAX_SAFE_INTEGER,
        retry: (err: unknown, attempt: number) => {
          if (this.closing) return false;
          if (attempt % 10 === 1) this.log(`postgres: LISTEN reconnect attempt ${attempt} failed (${err instanceof Error ? err.message : String(err)})`);
          return true;
        },
      },
    ).then(
      () => {
        this.reconnecting = undefined;
        if (this.closing || !this.listener) return;
        this.log('postgres: LISTEN reconnected; refreshing what notifications keep fresh');
        this.emit({ type: 'resync' });
      },
      () => {
        this.reconnecting = undefined;
      },
    );
  }

  /** Runs `fn` in a transaction on one pooled client; a client whose connection failed is discarded, not reused. */
  private async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let failure: Error | undefined;
    // Between two queries a checked-out client has no other listener: an 'error' there would be unhandled.
    const onError = (err: Error) => {
      failure = err;
      this.log(`postgres: connection lost in a transaction (${err.message})`);
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      failure ??= err instanceof Error ? err : new Error(String(err));
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.removeListener('error', onError);
      client.release(failure);
    }
  }

  async createDevice(d: DeviceRecord): Promise<void> {
    await this.pool.query(`INSERT INTO ${this.t.devices} (device_id, name, secret_hash, created_at) VALUES ($1, $2, $3, $4)`, [d.deviceId, d.name, d.secretHash, d.createdAt]);
  }

  async device(deviceId: string): Promise<DeviceRecord | undefined> {
    const { rows } = await this.pool.query<DeviceRow>(`SELECT * FROM ${this.t.devices} WHERE device_id = $1`, [deviceId]);
    return rows[0] && deviceFromRow(rows[0]);
  }

  async devices(): Promise<Device[]> {
    const { rows } = await this.pool.query<DeviceRow>(`SELECT * FROM ${this.t.devices} ORDER BY created_at, device_id`);
    return rows.map((r) => publicDevice(deviceFromRow(r)));
  }

  async revokeDevice(deviceId: string, at: number): Promise<Device | undefined> {
    const { rowCount } = await this.pool.query(
      `WITH revoked AS (UPDATE ${this.t.devices} SET revoked_at = $2 WHERE device_id = $1 AND revoked_at IS NULL RETURNING device_id)
       SELECT pg_notify($3, 'r:' || device_id) FROM revoked`,
      [deviceId, at, this.t.channel],
    );
    if (rowCount) this.emit({ type: 'revoke', deviceId });
    return (await this.device(deviceId).then((d) => d && publicDevice(d))) ?? undefined;
  }

  async claimSession(sessionId: string, deviceId: string, at: number): Promise<ClaimResult> {
    await this.pool.query(`INSERT INTO ${this.t.sessions} (session_id, device_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (session_id) DO NOTHING`, [sessionId, deviceId, at]);
    const { rows } = await this.pool.query<{ device_id: string; last_seq: number }>(`SELECT device_id, last_seq::float8 AS last_seq FROM ${this.t.sessions} WHERE session_id = $1`, [sessionId]);
    if (!rows[0]) throw new Error(`session ${sessionId} vanished after it was claimed`);
    return { owner: rows[0].device_id, lastSeq: rows[0].last_seq };
  }

  async append(deviceId: string, sessionId: string, events: readonly SyncEvent[]): Promise<AppendResult> {
    const { sessions, events: table, channel } = this.t;
    const result = await this.transaction(async (c): Promise<AppendResult> => {
      // One writer per session at a time, across instances; a separate statement, so the read below sees what the previous writer committed.
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [sessionId]);
      const { rows } = await c.query<OwnerRow>(this.ownerSql(), [sessionId]);
      const owner = rows[0];
      if (!owner || owner.device_id !== deviceId) return { ok: false, why: 'forbidden' };
      if (owner.revoked_at !== null) return { ok: false, why: 'revoked' };
      const delta = summaryDelta(owner.last_seq, events);
      if (!delta) return { ok: true, seq: owner.last_seq, stored: 0 };
      const kept = parseFacts(owner.facts);
      const missed = kept.seq < owner.last_seq ? await this.factEvents(c, sessionId, kept.seq, owner.last_seq) : [];
      const cols = factsColumns({ ...nextFacts(kept, owner.last_seq, missed, delta.run), seq: delta.lastSeq }, owner.name ?? '');
      // One round trip for the rows, the summary and the notification (delivered at COMMIT).
      await c.query(
        `WITH ins AS (
           INSERT INTO ${table} (session_id, seq, ts, kind, payload)
           SELECT $1, u.seq, u.ts, u.kind, u.payload FROM unnest($2::int8[], $3::float8[], $4::text[], $5::text[]) AS u(seq, ts, kind, payload)
           RETURNING 1),
         upd AS (
           UPDATE ${sessions} SET events = events + $6, last_seq = $7, first_ts = COALESCE(first_ts, $8::float8),
             last_ts = GREATEST(COALESCE(last_ts, $9::float8), $9::float8), last_state = COALESCE($10::text, last_state),
             received_at = $12::float8, facts = $13::text, facts_seq = $14::int8, task_id = $15::text, completed_ts = $16::float8, ended_ts = $17::float8, search = $18::text
           WHERE session_id = $1 RETURNING 1)
         SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM upd) AS updated, pg_notify($11, 's:' || $1)`,
        [
          sessionId,
          delta.run.map((e) => e.seq),
          delta.run.map((e) => e.ts),
          delta.run.map((e) => e.kind),
          delta.payloads,
          delta.run.length,
          delta.lastSeq,
          delta.firstTs,
          delta.maxTs,
          delta.lastState,
          channel,
          this.now(),
          cols.facts,
          cols.factsSeq,
          cols.taskId,
          cols.completedTs,
          cols.endedTs,
          cols.search,
        ],
      );
      return { ok: true, seq: delta.lastSeq, stored: delta.run.length };
    });
    if (result.ok && result.stored > 0) this.emit({ type: 'append', sessionId });
    return result;
  }

  private summarySelect(where: string): string {
    return `SELECT s.session_id, s.device_id, d.name, s.events::float8 AS events, s.last_seq::float8 AS last_seq, s.first_ts, s.last_ts, s.last_state, s.facts, s.received_at
      FROM ${this.t.sessions} s LEFT JOIN ${this.t.devices} d ON d.device_id = s.device_id WHERE ${where}`;
  }

  async sessions(limit: number, cursor?: SessionsCursor, filter: SessionFilter = {}): Promise<SessionsPage> {
    const now = this.now();
    const values: (string | number)[] = [];
    const where = sessionConditions(filter, cursor, now - this.liveWindowMs, (value) => `$${values.push(value)}`, 'strpos');
    const { rows } = await this.pool.query<SummaryRow>(`${this.summarySelect(where.join(' AND '))} ORDER BY s.first_ts DESC, s.session_id DESC LIMIT $${values.length + 1}`, [...values, limit + 1]);
    const page = rows.slice(0, limit).map((r) => summaryFromRow(r, now, this.liveWindowMs));
    const last = page.at(-1);
    return { sessions: page, next: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async sessionsById(ids: readonly string[]): Promise<SessionSummary[]> {
    if (!ids.length) return [];
    const now = this.now();
    const { rows } = await this.pool.query<SummaryRow>(`${this.summarySelect('s.first_ts IS NOT NULL AND s.session_id = ANY($1::text[])')} ORDER BY s.first_ts DESC, s.session_id DESC`, [ids]);
    return rows.map((r) => summaryFromRow(r, now, this.liveWindowMs));
  }

  async sessionEvents(sessionId: string, kinds: readonly EventKind[], toSeq: number): Promise<RawEvent[]> {
    const { rows } = await this.pool.query<RawRow>(`SELECT seq::float8 AS seq, ts, kind, payload FROM ${this.t.events} WHERE session_id = $1 AND seq <= $2 AND kind = ANY($3::text[]) ORDER BY seq`, [
      sessionId,
      toSeq,
      kinds,
    ]);
    return rows.map((r) => ({ sessionId, ...r }));
  }

  async taskFacts(taskId: string): Promise<SessionFacts[]> {
    const { rows } = await this.pool.query<{ facts: string | null }>(
      `SELECT facts FROM ${this.t.sessions} WHERE task_id = $1 AND first_ts IS NOT NULL ORDER BY first_ts DESC, session_id DESC`,
      [taskId],
    );
    return rows.map((r) => parseFacts(r.facts));
  }

  async events(sessionId: string, afterSeq: number, limit: number): Promise<RawEvent[]> {
    const { rows } = await this.pool.query<{ seq: number; ts: number; kind: RawEvent['kind']; payload: string }>(
      `SELECT seq::float8 AS seq, ts, kind, payload FROM ${this.t.events} WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [sessionId, afterSeq, limit],
    );
    return rows.map((r) => ({ sessionId, seq: r.seq, ts: r.ts, kind: r.kind, payload: r.payload }));
  }

  onChange(listener: (c: StoreChange) => void): void {
    this.listeners.add(listener);
  }

  async close(): Promise<void> {
    this.closing = true;
    const l = this.listener;
    this.listener = undefined;
    await l?.end().catch(() => {});
    await this.pool.end().catch(() => {});
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
