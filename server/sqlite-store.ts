// One instance, one file. better-sqlite3 is synchronous: a transaction has committed (WAL,
// synchronous=FULL, so it survives a kill -9 or a power cut) when COMMIT returns. The store's
// algorithm is async (it is shared with PostgreSQL), so every operation here runs in one queue:
// nothing else can run on the connection between the statements of a transaction.
import Database from 'better-sqlite3';
import { SqlStore, type Dialect, type SqlRunner } from './sql-store';
import type { StoreOptions } from './store';

export interface SqliteOptions extends StoreOptions {
  /** Hears every SQL statement run: lets a test see which tables a request touches. */
  readonly trace?: (sql: string) => void;
}

/** Prepared statements are kept by their SQL; list statements vary with their length, so the cache is bounded. */
const STATEMENT_CACHE = 256;

class SqliteDialect implements Dialect {
  readonly kind = 'sqlite';
  // New table names: the old `events` table kept no owner, and its rows cannot be attributed to a device.
  readonly tables = { devices: 'fw_devices', sessions: 'fw_sessions', events: 'fw_events' };
  readonly types = { real: 'REAL', int: 'INTEGER' };
  readonly eventsTableSuffix = ' WITHOUT ROWID';
  readonly instr = 'instr';
  readonly greatest = 'MAX';
  private readonly statements = new Map<string, Database.Statement>();
  private tail: Promise<unknown> = Promise.resolve();
  private readonly runner: SqlRunner = {
    all: async <R>(sql: string, params: readonly unknown[] = []) => this.statement(sql).all(...params) as R[],
    run: async (sql: string, params: readonly unknown[] = []) => this.statement(sql).run(...params).changes,
  };

  constructor(private readonly db: Database.Database) {}

  num(column: string): string {
    return column;
  }

  inList(column: string, values: readonly string[]) {
    return { sql: `${column} IN (${values.map(() => '?').join(', ')})`, params: values };
  }

  read<T>(fn: (q: SqlRunner) => Promise<T>): Promise<T> {
    return this.serial(() => fn(this.runner));
  }

  write<T>(_lock: string | null, fn: (q: SqlRunner) => Promise<T>): Promise<T> {
    // One connection, one queue: the queue is the lock.
    return this.serial(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.runner);
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async addColumn(q: SqlRunner, table: string, name: string, type: string): Promise<void> {
    const have = await q.all<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`);
    if (!have.some((c) => c.name === name)) await q.run(`ALTER TABLE ${table} ADD COLUMN ${name} ${type}`);
  }

  async insertEvents(q: SqlRunner, sessionId: string, run: readonly { seq: number; ts: number; kind: string }[], payloads: readonly string[]): Promise<void> {
    for (let i = 0; i < run.length; i++) {
      const e = run[i]!;
      await q.run(`INSERT INTO ${this.tables.events} (session_id, seq, ts, kind, payload) VALUES (?, ?, ?, ?, ?)`, [sessionId, e.seq, e.ts, e.kind, payloads[i]]);
    }
  }

  async notify(): Promise<void> {
    // One instance: nobody else to tell.
  }

  async listen(): Promise<void> {}

  async close(): Promise<void> {
    await this.tail;
    if (this.db.open) this.db.close();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => {});
    return result;
  }

  private statement(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size >= STATEMENT_CACHE) this.statements.clear();
      this.statements.set(sql, (s = this.db.prepare(sql)));
    }
    return s;
  }
}

export class SqliteStore extends SqlStore {
  /** Settles once the tables exist and lagging facts are folded; operations queue behind it anyway. */
  readonly ready: Promise<void>;

  constructor(file: string, opts: SqliteOptions = {}) {
    const db = new Database(file, opts.trace ? { verbose: (sql) => opts.trace!(String(sql)) } : {});
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    super(new SqliteDialect(db), opts);
    this.ready = this.open();
    // Whoever needs to know awaits `ready` (SqliteStore.open); the queued operations fail on their own.
    this.ready.catch(() => {});
  }

  /** Opens the file and fails, rather than serving, when its tables cannot be made or caught up. */
  static async open(file: string, opts: SqliteOptions = {}): Promise<SqliteStore> {
    const store = new SqliteStore(file, opts);
    try {
      await store.ready;
    } catch (err) {
      await store.close().catch(() => {});
      throw err;
    }
    return store;
  }
}
