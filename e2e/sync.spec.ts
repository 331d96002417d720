import { expect, test, type Page } from '@playwright/test';
import { startServer, type ServerProcess } from '../test/server/spawn-server';
import { backendEnv, enrolDevice, storedEvents } from './fixtures/backend';
import { startProxy, type CuttableProxy } from './fixtures/proxy';
import { openHarness, type HarnessWindow } from './harness-types';

let server: ServerProcess;
let proxy: CuttableProxy;
let env: Record<string, string>;
let port: number;
/** This test's device: enrolled through the API, as the PWA does for itself. */
let TOKEN: string;

test.beforeEach(async () => {
  port = 19000 + Math.floor(Math.random() * 1000);
  proxy = await startProxy(port);
  // The page reaches the backend through the proxy, whose address must pass the Host allow-list.
  env = backendEnv(port, { hosts: [`127.0.0.1:${proxy.port}`] });
  server = await startServer(env, port);
  TOKEN = (await enrolDevice(server.url, 'sync e2e tablet')).token;
});
test.afterEach(async () => {
  await proxy.close();
  await server.kill('SIGTERM');
});

const fw = (page: Page) => page.evaluateHandle(() => (window as unknown as HarnessWindow).fw);
async function stored(sessionId: string): Promise<number[]> {
  return (await storedEvents(server.url, sessionId)).map((e) => {
    expect((e.payload as { frame: number }).frame).toBe(e.seq); // the right event under each number
    return e.seq;
  });
}
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

test('1,000 events arrive exactly once, in order, through 5 server kills and 5 cut sockets', async ({ page }) => {
  test.setTimeout(180_000);
  await openHarness(page);
  const h = await fw(page);
  await h.evaluate((f, [db, url, token]) => f.startSync(db, url, token), [`outbox-${Date.now()}`, `ws://127.0.0.1:${proxy.port}/sync`, TOKEN] as const);
  const writing = h.evaluate((f) => f.writeEvents('session-1000-events', 1, 1000, 6));
  let kills = 0;
  let cuts = 0;
  for (let round = 0; round < 10; round++) {
    await page.waitForTimeout(500);
    if (round % 2 === 0) {
      await server.kill('SIGKILL');
      kills++;
      await page.waitForTimeout(300);
      server = await startServer(env, port);
    } else {
      proxy.cut();
      cuts++;
    }
  }
  await writing;
  await expect.poll(() => stored('session-1000-events').then((s) => s.length), { timeout: 90_000, intervals: [500] }).toBe(1000);
  expect(await stored('session-1000-events')).toEqual(range(1000));
  const statuses = await h.evaluate((f) => f.sync.statuses);
  expect(statuses.at(-1)!.pending).toBe(0);
  const reconnects = statuses.at(-1)!.reconnects;
  console.log(`sync: 1000 sent, ${(await stored('session-1000-events')).length} stored, ${kills} kills, ${cuts} cuts, ${reconnects} reconnects`);
  expect(reconnects).toBeGreaterThanOrEqual(5);
});

test('a reload mid-session and an offline period lose nothing', async ({ page, context }) => {
  test.setTimeout(120_000);
  const db = `outbox-${Date.now()}`;
  const url = `ws://127.0.0.1:${proxy.port}/sync`;
  await openHarness(page);
  let h = await fw(page);
  await h.evaluate((f, [d, u, t]) => f.startSync(d, u, t), [db, url, TOKEN] as const);
  // Write, and reload before the writer is done: what was appended is in IndexedDB.
  void h.evaluate((f) => f.writeEvents('session-reload', 1, 400, 2)).catch(() => {});
  await page.waitForTimeout(300);
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  h = await fw(page);
  const written = await h.evaluate(async (f, d) => {
    const o = await f.Outbox.open(d);
    const p = await o.progress('session-reload');
    o.close();
    return p!.appended;
  }, db);
  // Cut off mid-way: some appended, not all 400.
  expect(written).toBeGreaterThan(0);
  expect(written).toBeLessThan(400);
  await h.evaluate((f, [d, u, t]) => f.startSync(d, u, t), [db, url, TOKEN] as const);
  await expect.poll(() => stored('session-reload').then((s) => s.length), { timeout: 30_000 }).toBe(written);

  // Offline: the browser is offline and the network is down; events pile up in the outbox and all go once back.
  await context.setOffline(true);
  proxy.setDown(true);
  await h.evaluate((f, from) => f.writeEvents('session-reload', from, 100, 0), written + 1);
  // The client notices the dead connection (a close, or at worst its 10 s ack timeout).
  // (The pending count follows the outbox within a moment.)
  await expect.poll(() => h.evaluate((f) => f.sync.client!.current.state), { timeout: 20_000 }).not.toBe('connected');
  await expect.poll(() => h.evaluate((f) => f.sync.client!.current.pending), { timeout: 5_000 }).toBeGreaterThanOrEqual(100);
  const offline = await h.evaluate((f) => f.sync.client!.current);
  // At least the 100 new ones (a few already stored may still await an ack that the outage ate: they are resent, deduplicated).
  expect(offline.pending).toBeGreaterThanOrEqual(100);
  expect((await stored('session-reload')).length).toBe(written);
  await context.setOffline(false);
  proxy.setDown(false);
  await expect.poll(() => stored('session-reload').then((s) => s.length), { timeout: 60_000 }).toBe(written + 100);
  expect(await stored('session-reload')).toEqual(range(written + 100));
});

test('one sender per origin: with two tabs open only one syncs, and the other takes over when it closes', async ({ context }) => {
  test.setTimeout(60_000);
  const db = `outbox-${Date.now()}`;
  const url = `ws://127.0.0.1:${proxy.port}/sync`;
  const a = await context.newPage();
  const b = await context.newPage();
  for (const p of [a, b]) {
    await openHarness(p);
    await (await fw(p)).evaluate((f, [d, u, t]) => f.startSync(d, u, t), [db, url, TOKEN] as const);
  }
  await (await fw(a)).evaluate((f) => f.writeEvents('session-tab-a', 1, 20, 0));
  await (await fw(b)).evaluate((f) => f.writeEvents('session-tab-b', 1, 20, 0));
  await expect.poll(async () => [(await stored('session-tab-a')).length, (await stored('session-tab-b')).length], { timeout: 20_000 }).toEqual([20, 20]);
  const states = await Promise.all([a, b].map(async (p) => (await fw(p)).evaluate((f) => f.sync.client!.current.state)));
  expect(states.sort()).toEqual(['connected', 'standby']);
  const holder = states[0] === 'connected' ? a : b;
  const other = holder === a ? b : a;
  await holder.close();
  await (await fw(other)).evaluate((f) => f.writeEvents('session-tab-b', 21, 10, 0));
  await expect.poll(() => stored('session-tab-b').then((s) => s.length), { timeout: 20_000 }).toBe(30);
});
