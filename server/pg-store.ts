// PostgreSQL, for several instances serving one deployment. They hear of each other's writes and
// revocations by LISTEN/NOTIFY. A lost connection (failover, pg_terminate_backend, a network
// blip) is an error to log, never a crash: the pool replaces its clients, the LISTEN client
// reconnects with backoff, and after a reconnect the caches that NOTIFY keeps fresh are told to
// refresh, since notifications sent meanwhile are gone.
import { asLog, type Log } from './log';
import { backOff } from 'exponential-backoff';
import pg from 'pg';
import type { SyncEvent } from '../src/sync/protocol';
import { SqlStore, type Dialect, type SqlRunner, type TableNames } from './sql-store';
import type { StoreChange, StoreOptions } from './store';

export interface PostgresOptions extends StoreOptions {
  readonly url: string;
  /** Table names are `<prefix>_devices`, `<prefix>_sessions`, `<prefix>_events`; the NOTIFY channel is `<prefix>`. */
  readonly prefix?: string;
  /** Shown in pg_stat_activity, so an operator (or a test) can find this server's connections. */
  readonly applicationName?: string;
  readonly poolSize?: number;
  readonly statementTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** A pino-style logger, or a line sink (tests); none: silent. */
  readonly log?: Log | ((line: string) => void);
}

/** The store's SQL is written with `?`; PostgreSQL numbers its parameters. */
const numbered = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

const runnerOf = (c: pg.Pool | pg.PoolClient): SqlRunner => ({
  all: async <R>(sql: string, params: readonly unknown[] = []) => (await c.query(numbered(sql), params as unknown[])).rows as R[],
  run: async (sql: string, params: readonly unknown[] = []) => (await c.query(numbered(sql), params as unknown[])).rowCount ?? 0,
});

class PostgresDialect implements Dialect {
  readonly kind = 'postgres';
  readonly tables: TableNames;
  readonly types = { real: 'DOUBLE PRECISION', int: 'BIGINT' };
  readonly eventsTableSuffix = '';
  readonly instr = 'strpos';
  readonly greatest = 'GREATEST';
  private readonly channel: string;
  private listener: pg.Client | undefined;
  private closing = false;
  private reconnecting: Promise<void> | undefined;
  private onChange: (change: StoreChange) => void = () => {};

  constructor(
    private readonly pool: pg.Pool,
    prefix: string,
    private readonly clientConfig: pg.ClientConfig,
    private readonly log: Log,
  ) {
    this.tables = { devices: `${prefix}_devices`, sessions: `${prefix}_sessions`, events: `${prefix}_events`, usage: `${prefix}_usage`, timeline: `${prefix}_timeline`, timelineSteps: `${prefix}_timeline_steps` };
    this.channel = prefix;
  }

  num(column: string): string {
    return `${column}::float8`;
  }

  inList(column: string, values: readonly string[]) {
    return { sql: `${column} = ANY(?::text[])`, params: [values] };
  }

  read<T>(fn: (q: SqlRunner) => Promise<T>): Promise<T> {
    return fn(runnerOf(this.pool));
  }

  /** Runs `fn` in a transaction on one pooled client; a client whose connection failed is discarded, not reused. */
  async write<T>(lock: string | null, fn: (q: SqlRunner) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let failure: Error | undefined;
    // Between two queries a checked-out client has no other listener: an 'error' there would be unhandled.
    const onError = (err: Error) => {
      failure = err;
      this.log.error({ err: err.message }, 'postgres: connection lost in a transaction');
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      // One writer per key at a time, across instances; a statement of its own, so what follows sees what the previous writer committed.
      if (lock !== null) await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lock]);
      const result = await fn(runnerOf(client));
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

  async addColumn(q: SqlRunner, table: string, name: string, type: string): Promise<void> {
    await q.run(`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${name} ${type}`);
  }

  async insertEvents(q: SqlRunner, sessionId: string, run: readonly SyncEvent[], payloads: readonly string[]): Promise<void> {
    // One round trip for the whole run.
    await q.run(
      `INSERT INTO ${this.tables.events} (session_id, seq, ts, kind, payload)
       SELECT ?, u.seq, u.ts, u.kind, u.payload FROM unnest(?::int8[], ?::float8[], ?::text[], ?::text[]) AS u(seq, ts, kind, payload)`,
      [sessionId, run.map((e) => e.seq), run.map((e) => e.ts), run.map((e) => e.kind), payloads],
    );
  }

  async notify(q: SqlRunner, change: StoreChange): Promise<void> {
    // Delivered at COMMIT, to every instance (this one included).
    const payload = change.type === 'append' ? `s:${change.sessionId}` : change.type === 'revoke' ? `r:${change.deviceId}` : undefined;
    if (payload !== undefined) await q.all('SELECT pg_notify(?, ?)', [this.channel, payload]);
  }

  async listen(onChange: (change: StoreChange) => void): Promise<void> {
    this.onChange = onChange;
    await this.connectListener();
  }

  async close(): Promise<void> {
    this.closing = true;
    const l = this.listener;
    this.listener = undefined;
    await l?.end().catch(() => {});
    await this.pool.end().catch(() => {});
  }

  private async connectListener(): Promise<void> {
    const client = new pg.Client(this.clientConfig);
    const lost = (why: string) => {
      if (this.listener !== client) return;
      this.listener = undefined;
      client.end().catch(() => {});
      if (this.closing) return;
      this.log.warn({ why }, 'postgres: LISTEN connection lost; reconnecting');
      this.reconnectListener();
    };
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('ended'));
    client.on('notification', (n) => {
      const p = n.payload ?? '';
      if (p.startsWith('s:')) this.onChange({ type: 'append', sessionId: p.slice(2) });
      else if (p.startsWith('r:')) this.onChange({ type: 'revoke', deviceId: p.slice(2) });
    });
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
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
        await this.connectListener();
      },
      {
        startingDelay: 100,
        maxDelay: 5_000,
        jitter: 'full',
        numOfAttempts: Number.MAX_SAFE_INTEGER,
        retry: (err: unknown, attempt: number) => {
          if (this.closing) return false;
          if (attempt % 10 === 1) this.log.warn({ attempt, err: err instanceof Error ? err.message : String(err) }, 'postgres: LISTEN reconnect failed');
          return true;
        },
      },
    ).then(
      () => {
        this.reconnecting = undefined;
        if (this.closing || !this.listener) return;
        this.log.info('postgres: LISTEN reconnected; refreshing what notifications keep fresh');
        this.onChange({ type: 'resync' });
      },
      () => {
        this.reconnecting = undefined;
      },
    );
  }
}

export class PostgresStore extends SqlStore {
  static async open(opts: PostgresOptions): Promise<PostgresStore> {
    const prefix = opts.prefix ?? 'framewise_v2';
    if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix)) throw new Error(`FRAMEWISE_PG_TABLE must be a lower-case SQL name of at most 41 characters, got "${prefix}"`);
    const log = asLog(opts.log);
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
    pool.on('error', (err) => log.warn({ err: err.message }, 'postgres: idle connection lost; the pool replaces it'));
    const dialect = new PostgresDialect(pool, prefix, clientConfig, log);
    const store = new PostgresStore(dialect, opts);
    try {
      await store.open();
    } catch (err) {
      await dialect.close();
      throw err;
    }
    return store;
  }
}
