// Two real server processes on one real PostgreSQL: skipped, saying so, where none is reachable.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type ServerProcess } from './spawn-server';

const URL_ = process.env.FRAMEWISE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const TOKEN = 'pg-token-123';
const TABLE = `fw_test_${process.pid}_${Date.now()}`;

async function reachable(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: URL_, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await c.end().catch(() => {});
  }
}

const why = await reachable();
if (why) console.warn(`PostgreSQL tests skipped: no PostgreSQL at ${URL_} (${why}); set FRAMEWISE_TEST_PG to run them`);

describe.skipIf(why !== undefined)('two instances on one PostgreSQL', () => {
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    const env = { DATABASE_URL: URL_, FRAMEWISE_PG_TABLE: TABLE, FRAMEWISE_TOKEN: TOKEN, FRAMEWISE_ORIGINS: '*', FRAMEWISE_STATIC: '/nonexistent' };
    const base = 20000 + Math.floor(Math.random() * 1000);
    servers.push(await startServer(env, base), await startServer(env, base + 1));
  }, 40_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.kill('SIGTERM')));
    const c = new pg.Client({ connectionString: URL_ });
    await c.connect();
    await c.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await c.end();
  });

  const send = async (s: ServerProcess, sessionId: string, n: number) => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/sync?token=${TOKEN}`);
    await new Promise((r) => ws.once('open', r));
    const acks: number[] = [];
    for (let from = 1; from <= n; from += 25) {
      const events = Array.from({ length: Math.min(25, n - from + 1) }, (_, i) => ({ seq: from + i, ts: Date.now(), kind: 'state', payload: { i: from + i } }));
      ws.send(JSON.stringify({ type: 'events', sessionId, events }));
      acks.push(await new Promise<number>((r) => ws.once('message', (d) => r(JSON.parse(d.toString()).seq))));
    }
    ws.close();
    return acks.at(-1);
  };
  const sessions = async (s: ServerProcess) =>
    ((await (await fetch(`${s.url}/api/sessions`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { sessionId: string; events: number }[]).sort((a, b) => a.sessionId.localeCompare(b.sessionId));

  it('stores one client per instance, and each instance lists both sessions, live too', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    // A dashboard watching instance A hears of writes made through instance B (LISTEN/NOTIFY).
    const live = new WebSocket(`ws://127.0.0.1:${a.port}/live?token=${TOKEN}`);
    const heard = new Promise<string[]>((resolve) =>
      live.on('message', (d) => {
        const ids = (JSON.parse(d.toString()).sessions as { sessionId: string }[]).map((s) => s.sessionId);
        if (ids.includes('session-pg-b')) resolve(ids);
      }),
    );
    await new Promise((r) => live.once('open', r));
    expect(await send(a, 'session-pg-a', 60)).toBe(60);
    expect(await send(b, 'session-pg-b', 40)).toBe(40);
    expect(await send(b, 'session-pg-a', 60)).toBe(60); // the same session resent through the other instance: no duplicates
    expect(await heard).toEqual(expect.arrayContaining(['session-pg-a', 'session-pg-b']));
    live.close();
    const expected = [{ sessionId: 'session-pg-a', events: 60 }, { sessionId: 'session-pg-b', events: 40 }];
    expect((await sessions(a)).map(({ sessionId, events }) => ({ sessionId, events }))).toEqual(expected);
    expect((await sessions(b)).map(({ sessionId, events }) => ({ sessionId, events }))).toEqual(expected);
  });
});
