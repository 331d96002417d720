// The SQLite writer thread: for each file the process's stores open, the only connection that
// writes to it. Each request is one of the store's writes; those that arrive while a group
// commits form the next group (see SqliteDialect's group commit). Started by SqliteStore, one per
// process; a file is opened (tables made, lagging facts folded) by `open` and closed, once its
// queued writes are done, by `close`.
import { parentPort } from 'node:worker_threads';
import { openDatabase, SqliteConnectionStore, SqliteDialect } from './sqlite-store';
import type { WriterError, WriterReply, WriterRequest } from './sqlite-writer-protocol';

const port = parentPort!;
const send = (m: WriterReply) => port.postMessage(m);
const asError = (err: unknown): WriterError => {
  const code = (err as { code?: unknown }).code;
  return { message: err instanceof Error ? err.message : String(err), ...(typeof code === 'string' ? { code } : {}) };
};

const databases = new Map<number, { dialect: SqliteDialect; store: SqliteConnectionStore }>();

async function open(db: number, file: string, trace: boolean): Promise<void> {
  const dialect = new SqliteDialect(openDatabase(file, trace ? (sql) => send({ type: 'trace', db, sql }) : undefined), 'group');
  const store = new SqliteConnectionStore(dialect, {});
  store.onChange((change) => send({ type: 'change', db, change }));
  try {
    await store.ready;
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  databases.set(db, { dialect, store });
}

async function run(m: WriterRequest): Promise<unknown> {
  if (m.method === 'open') return open(m.db, m.args[0] as string, m.args[1] as boolean);
  const opened = databases.get(m.db);
  if (!opened) throw new Error(`no database ${m.db} is open on the writer thread`);
  const { store, dialect } = opened;
  switch (m.method) {
    case 'close':
      databases.delete(m.db);
      return store.close();
    case 'stats':
      return { ...dialect.stats };
    case 'createDevice':
      return store.createDevice(...(m.args as Parameters<typeof store.createDevice>));
    case 'revokeDevice':
      return store.revokeDevice(...(m.args as Parameters<typeof store.revokeDevice>));
    case 'claimSession':
      return store.claimSession(...(m.args as Parameters<typeof store.claimSession>));
    case 'append':
      return store.append(...(m.args as Parameters<typeof store.append>));
    case 'deleteSessionsBefore':
      return store.deleteSessionsBefore(...(m.args as Parameters<typeof store.deleteSessionsBefore>));
    case 'pruneUsage':
      return store.pruneUsage(...(m.args as Parameters<typeof store.pruneUsage>));
  }
}

port.on('message', (m: WriterRequest) => {
  run(m).then(
    (value) => send({ type: 'result', id: m.id, ok: true, value }),
    (err: unknown) => send({ type: 'result', id: m.id, ok: false, error: asError(err) }),
  );
});
