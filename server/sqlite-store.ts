// One instance, one file. better-sqlite3 is synchronous: a transaction has committed (WAL,
// synchronous=FULL, so it survives a kill -9 or a power cut) when COMMIT returns.
//
// Writes are kept off the request path: a writer thread (server/sqlite-writer.ts) owns the only
// connection that writes, and commits in groups: every write that arrived while it was busy runs
// in one transaction, each in a savepoint of its own (one that fails is rolled back alone), and
// one COMMIT (one fsync) makes them all durable; each is answered only after that commit. Reads
// run here, on a connection of their own: under WAL they see the last commit and never wait for
// a write, its CPU or its fsync. An in-memory database (one connection by nature), or `writer:
// 'inline'`, keeps the older shape: one connection and one queue on this thread, so nothing else
// can run on the connection between the statements of a transaction.
import Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import type { SyncEvent } from '../src/sync/protocol';
import { SqlStore, type Dialect, type SqlRunner, type TableNames } from './sql-store';
import type { AppendOptions, AppendResult, ClaimResult, Deleted, DeviceRecord, StoreChange, StoreOptions } from './store';
import type { Device } from '../src/sync/protocol';
import type { WriterReply, WriterRequest, WriterStats } from './sqlite-writer-protocol';

export interface SqliteOptions extends StoreOptions {
  /** Hears every SQL statement run (the writer thread's too, before the write they belong to resolves): lets a test see which tables a request touches. */
  readonly trace?: (sql: string) => void;
  /** `thread` (the default for a file): writes on a writer thread with group commit, reads here. `inline`: everything on this thread, one queue. */
  readonly writer?: 'thread' | 'inline';
}

/** Prepared statements are kept by their SQL; list statements vary with their length, so the cache is bounded. */
const STATEMENT_CACHE = 256;
/** Most writes in one group commit: bounds how long one transaction holds the file. */
const MAX_GROUP = 512;
/**
 * A group takes no more writes once it has run this long: a write that arrives behind a burst of
 * large ones waits for at most about this much work (and one fsync) before its own group starts.
 */
const MAX_GROUP_MS = 50;

export const SQLITE_TABLES: TableNames = { devices: 'fw_devices', sessions: 'fw_sessions', events: 'fw_events', usage: 'fw_usage', timeline: 'fw_timeline', timelineSteps: 'fw_timeline_steps' };

/** The connection settings every connection to the file uses. */
export function openDatabase(file: string, trace?: (sql: string) => void): Database.Database {
  const db = new Database(file, trace ? { verbose: (sql) => trace(String(sql)) } : {});
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  return db;
}

interface Op {
  readonly fn: (q: SqlRunner) => Promise<unknown>;
  /** A write runs in a savepoint of its own; a read needs none. */
  readonly write: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * `serial`: one queue, one transaction per write (the inline store). `group`: the writer
 * thread's group commit. `read`: the reading connection beside a writer thread; it never writes.
 */
type Mode = 'serial' | 'group' | 'read';

export class SqliteDialect implements Dialect {
  readonly kind = 'sqlite';
  // New table names: the old `events` table kept no owner, and its rows cannot be attributed to a device.
  readonly tables = SQLITE_TABLES;
  readonly types = { real: 'REAL', int: 'INTEGER' };
  readonly eventsTableSuffix = ' WITHOUT ROWID';
  readonly instr = 'instr';
  readonly greatest = 'MAX';
  readonly stats: WriterStats = { groups: 0, writes: 0, failedGroups: 0 };
  private readonly statements = new Map<string, Database.Statement>();
  private tail: Promise<unknown> = Promise.resolve();
  private readonly queue: Op[] = [];
  private draining: Promise<void> | undefined;
  private readonly runner: SqlRunner = {
    all: async <R>(sql: string, params: readonly unknown[] = []) => this.statement(sql).all(...params) as R[],
    run: async (sql: string, params: readonly unknown[] = []) => this.statement(sql).run(...params).changes,
  };
  /** Set by `listen` where changes come from elsewhere (the writer thread). */
  onListen: ((onChange: (change: StoreChange) => void) => Promise<void>) | undefined;
  onClose: (() => Promise<void>) | undefined;

  constructor(
    private db: Database.Database | undefined,
    private readonly mode: Mode = 'serial',
  ) {}

  /** The reading connection is opened once the writer thread has made the tables. */
  attach(db: Database.Database): void {
    this.db = db;
  }

  private get conn(): Database.Database {
    if (!this.db) throw new Error('the SQLite store is not open yet');
    return this.db;
  }

  num(column: string): string {
    return column;
  }

  inList(column: string, values: readonly string[]) {
    return { sql: `${column} IN (${values.map(() => '?').join(', ')})`, params: values };
  }

  read<T>(fn: (q: SqlRunner) => Promise<T>): Promise<T> {
    if (this.mode === 'group') return this.enqueue(fn, false);
    // Beside a writer, reads need no queue: each statement sees the last commit.
    if (this.mode === 'read') return fn(this.runner);
    return this.serial(() => fn(this.runner));
  }

  write<T>(_lock: string | null, fn: (q: SqlRunner) => Promise<T>): Promise<T> {
    if (this.mode === 'read') return Promise.reject(new Error('this SQLite connection only reads: writes go through the writer thread'));
    if (this.mode === 'group') return this.enqueue(fn, true);
    // One connection, one queue: the queue is the lock.
    return this.serial(async () => {
      this.conn.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.runner);
        this.conn.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.conn.inTransaction) this.conn.exec('ROLLBACK');
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

  async listen(onChange: (change: StoreChange) => void): Promise<void> {
    await this.onListen?.(onChange);
  }

  async close(): Promise<void> {
    await this.tail;
    await this.draining;
    await this.onClose?.();
    if (this.db?.open) this.db.close();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => {});
    return result;
  }

  // ---- group commit (the writer thread) ----

  private enqueue<T>(fn: (q: SqlRunner) => Promise<T>, write: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, write, resolve: resolve as (v: unknown) => void, reject });
      // Everything that arrives before the next turn of the event loop joins the same group.
      this.draining ??= new Promise<void>((r) => setImmediate(r)).then(() => this.drain());
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) await this.runGroup();
    } finally {
      this.draining = undefined;
    }
  }

  /**
   * One transaction for the whole group, a savepoint per write, answers after the COMMIT: a
   * write that fails is rolled back alone; a COMMIT that fails (a full disk) fails them all,
   * and none of them was answered as stored.
   */
  private async runGroup(): Promise<void> {
    const db = this.conn;
    const group: Op[] = [];
    const done: { op: Op; value: unknown }[] = [];
    let lost: unknown;
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      // The file stayed locked (busy_timeout): what has waited for it fails, and is retried by its sender.
      this.stats.failedGroups++;
      for (const op of this.queue.splice(0, MAX_GROUP)) op.reject(err);
      return;
    }
    const started = performance.now();
    // Queued writes join until the group is full or has run MAX_GROUP_MS; the rest form the next.
    while (this.queue.length && lost === undefined && group.length < MAX_GROUP && (group.length === 0 || performance.now() - started < MAX_GROUP_MS)) {
      const op = this.queue.shift()!;
      group.push(op);
      if (op.write) db.exec('SAVEPOINT write');
      try {
        const value = await op.fn(this.runner);
        if (op.write) db.exec('RELEASE write');
        done.push({ op, value });
      } catch (err) {
        op.reject(err);
        if (!op.write) continue;
        try {
          // Some errors (a full disk, I/O) roll the whole transaction back: then the group is lost.
          if (!db.inTransaction) throw err;
          db.exec('ROLLBACK TO write');
          db.exec('RELEASE write');
        } catch {
          lost = err;
        }
      }
    }
    if (lost === undefined) {
      try {
        db.exec('COMMIT');
      } catch (err) {
        lost = err;
      }
    }
    if (lost !== undefined) {
      if (db.inTransaction) db.exec('ROLLBACK');
      this.stats.failedGroups++;
      for (const d of done) d.op.reject(lost);
      return;
    }
    this.stats.groups++;
    this.stats.writes += group.filter((op) => op.write).length;
    for (const d of done) d.op.resolve(d.value);
  }

  private statement(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size >= STATEMENT_CACHE) this.statements.clear();
      this.statements.set(sql, (s = this.conn.prepare(sql)));
    }
    return s;
  }
}

/** The store on one connection: this thread's inline store, and the writer thread's (group commit). */
export class SqliteConnectionStore extends SqlStore {
  readonly ready: Promise<void>;

  constructor(
    readonly dialect: SqliteDialect,
    opts: StoreOptions,
  ) {
    super(dialect, opts);
    this.ready = this.open();
    // Whoever needs to know awaits `ready`; the queued operations fail on their own.
    this.ready.catch(() => {});
  }
}

/** Answers from the writer thread, by request id. */
interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
}

/** A writer thread with no database open ends after this long: one process's stores, opened one after another (tests), share one. */
const WRITER_LINGER_MS = 2_000;

/**
 * The writer thread, seen from here: one per process, serving every SQLite file its stores open
 * (each with its own connection and group commit there). Requests out; answers, changes and
 * trace lines in, by database.
 */
class SharedWriter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private readonly databases = new Map<number, { onChange: (change: StoreChange) => void; trace?: (sql: string) => void }>();
  private nextId = 1;
  private nextDb = 1;
  private failure: Error | undefined;
  private linger: ReturnType<typeof setTimeout> | undefined;
  readonly exited: Promise<void>;

  constructor() {
    // The server runs its TypeScript through tsx; a worker gets no loader of its own (Node 20), so it registers one first.
    const entry = new URL('./sqlite-writer.ts', import.meta.url).href;
    const boot = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}; register(); await import(${JSON.stringify(entry)});`;
    this.worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`));
    // An idle writer does not keep the process alive; a pending request does (see call).
    this.worker.unref();
    this.exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
    this.worker.on('message', (m: WriterReply) => {
      switch (m.type) {
        case 'trace':
          return this.databases.get(m.db)?.trace?.(m.sql);
        case 'change':
          return this.databases.get(m.db)?.onChange(m.change);
        case 'result': {
          const p = this.pending.get(m.id);
          this.pending.delete(m.id);
          if (this.pending.size === 0) this.worker.unref();
          if (m.ok) p?.resolve(m.value);
          else p?.reject(rebuild(m.error));
          return;
        }
      }
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the SQLite writer thread stopped (exit code ${code})`)));
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Opens a file on the writer thread (its tables made, lagging facts folded): its id there. */
  async open(file: string, onChange: (change: StoreChange) => void, trace: ((sql: string) => void) | undefined): Promise<number> {
    clearTimeout(this.linger);
    const db = this.nextDb++;
    this.databases.set(db, { onChange, trace });
    try {
      await this.call(db, 'open', [file, trace !== undefined]);
    } catch (err) {
      this.forget(db);
      throw err;
    }
    return db;
  }

  call<T>(db: number, method: WriterRequest['method'], args: readonly unknown[]): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.ref();
      this.worker.postMessage({ id, db, method, args } satisfies WriterRequest);
    });
  }

  /** Closes a file on the writer thread once its queued writes are done; the thread ends a little after its last file. */
  async close(db: number): Promise<void> {
    try {
      if (!this.failure) await this.call(db, 'close', []);
    } finally {
      this.forget(db);
    }
  }

  private forget(db: number): void {
    this.databases.delete(db);
    if (this.databases.size > 0) return;
    clearTimeout(this.linger);
    this.linger = setTimeout(() => {
      if (this.databases.size > 0) return;
      if (writer === this) writer = undefined;
      void this.worker.terminate();
    }, WRITER_LINGER_MS);
    this.linger.unref();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    if (writer === this) writer = undefined;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }
}

let writer: SharedWriter | undefined;

/** One store's file on the writer thread. */
class WriterThread {
  private readonly thread: SharedWriter;
  private readonly db: Promise<number>;
  private onChange: (change: StoreChange) => void = () => {};
  readonly ready: Promise<void>;

  constructor(file: string, trace: ((sql: string) => void) | undefined) {
    if (!writer || writer.failed) writer = new SharedWriter();
    this.thread = writer;
    this.db = this.thread.open(file, (change) => this.onChange(change), trace);
    this.db.catch(() => {});
    this.ready = this.db.then(() => undefined);
  }

  listen(onChange: (change: StoreChange) => void): void {
    this.onChange = onChange;
  }

  async call<T>(request: Omit<WriterRequest, 'id' | 'db'>): Promise<T> {
    return this.thread.call<T>(await this.db, request.method, request.args);
  }

  async close(): Promise<void> {
    const db = await this.db.catch(() => undefined);
    if (db !== undefined) await this.thread.close(db);
  }
}

const rebuild = (e: { message: string; code?: string }): Error => Object.assign(new Error(e.message), e.code === undefined ? {} : { code: e.code });

export class SqliteStore extends SqlStore {
  /** Settles once the tables exist and lagging facts are folded; operations queue behind it anyway. */
  readonly ready: Promise<void>;
  private readonly writer: WriterThread | undefined;
  private readonly clock: () => number;

  constructor(file: string, opts: SqliteOptions = {}) {
    const threaded = (opts.writer ?? 'thread') === 'thread' && file !== ':memory:' && file !== '';
    const dialect = new SqliteDialect(threaded ? undefined : openDatabase(file, opts.trace), threaded ? 'read' : 'serial');
    super(dialect, opts);
    this.clock = opts.now ?? Date.now;
    if (!threaded) {
      this.ready = this.open();
    } else {
      const writer = (this.writer = new WriterThread(file, opts.trace));
      dialect.onListen = async (onChange) => {
        writer.listen(onChange);
        await writer.ready;
        dialect.attach(openDatabase(file, opts.trace));
      };
      dialect.onClose = () => writer.close();
      this.ready = this.open(false);
    }
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

  /** Writes begun and not yet answered: closing waits for them. */
  private readonly writing = new Set<Promise<unknown>>();

  /** A write on the writer thread, once the store is open. */
  private write<T>(method: WriterRequest['method'], args: readonly unknown[]): Promise<T> {
    const p = this.ready.then(() => this.writer!.call<T>({ method, args }));
    this.writing.add(p);
    const done = () => this.writing.delete(p);
    p.then(done, done);
    return p;
  }

  /** Closes once every write begun before it is answered. */
  override async close(): Promise<void> {
    await Promise.allSettled([...this.writing]);
    return super.close();
  }

  /** The writer thread's group commits so far (none inline). */
  async writerStats(): Promise<WriterStats> {
    return this.writer ? this.write<WriterStats>('stats', []) : { groups: 0, writes: 0, failedGroups: 0 };
  }

  // Writes: on the writer thread when there is one, with this store's clock.

  override async createDevice(device: DeviceRecord): Promise<void> {
    if (!this.writer) return super.createDevice(device);
    return this.write('createDevice', [device]);
  }

  override async revokeDevice(deviceId: string, at: number): Promise<Device | undefined> {
    if (!this.writer) return super.revokeDevice(deviceId, at);
    return this.write('revokeDevice', [deviceId, at]);
  }

  override async claimSession(sessionId: string, deviceId: string, at: number): Promise<ClaimResult> {
    if (!this.writer) return super.claimSession(sessionId, deviceId, at);
    return this.write('claimSession', [sessionId, deviceId, at]);
  }

  override async append(deviceId: string, sessionId: string, events: readonly SyncEvent[], opts: AppendOptions = {}): Promise<AppendResult> {
    if (!this.writer) return super.append(deviceId, sessionId, events, opts);
    return this.write('append', [deviceId, sessionId, events, { ...opts, at: opts.at ?? this.clock() }]);
  }

  override async deleteSessionsBefore(before: number, limit: number): Promise<Deleted> {
    if (!this.writer) return super.deleteSessionsBefore(before, limit);
    return this.write('deleteSessionsBefore', [before, limit]);
  }

  override async pruneUsage(beforeDay: number): Promise<number> {
    if (!this.writer) return super.pruneUsage(beforeDay);
    return this.write('pruneUsage', [beforeDay]);
  }
}
