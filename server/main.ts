// One process: the built PWA, the sync endpoint and the dashboard, on SQLite unless DATABASE_URL names PostgreSQL.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createApp } from './app';
import { PostgresStore, SqliteStore, type EventStore } from './store';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? 'localhost';
const token = process.env.FRAMEWISE_TOKEN ?? 'framewise-dev-token';
const origins = (process.env.FRAMEWISE_ORIGINS ?? `http://localhost:${port},http://127.0.0.1:${port}`).split(',').map((s) => s.trim());

async function openStore(): Promise<{ store: EventStore; where: string }> {
  if (process.env.DATABASE_URL) return { store: await PostgresStore.open(process.env.DATABASE_URL, process.env.FRAMEWISE_PG_TABLE), where: 'PostgreSQL' };
  const file = resolve(process.env.FRAMEWISE_DB ?? 'data/framewise.sqlite');
  mkdirSync(dirname(file), { recursive: true });
  return { store: new SqliteStore(file), where: file };
}

const { store, where } = await openStore();
const app = createApp({
  store,
  token,
  allowedOrigins: origins,
  staticDir: process.env.FRAMEWISE_STATIC ?? resolve('dist'),
  pingIntervalMs: Number(process.env.FRAMEWISE_PING_MS ?? 15_000),
});
app.server.listen(port, host, () => {
  console.log(`framewise: app on http://${host}:${port}/  dashboard http://${host}:${port}/dashboard?token=${encodeURIComponent(token)}  events in ${where}`);
  if (!process.env.FRAMEWISE_TOKEN) console.log('framewise: using the default token; set FRAMEWISE_TOKEN for anything but a local trial');
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void app.close().then(() => store.close()).then(() => process.exit(0));
  });
}
