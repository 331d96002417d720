import { expect, test, type Page } from '@playwright/test';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { startServer, type ServerProcess } from '../test/server/spawn-server';
import { NEEDS_CODE } from '../src/sync/enroll';
import { CREDENTIAL_REFUSED } from '../src/sync/client';
import { ADMIN, allSessions, backendEnv, storedEvents } from './fixtures/backend';
import { openTools } from './fixtures/ui';

// The built app as `npm start` serves it: one process with the PWA, the sync endpoint and the dashboard.
let server: ServerProcess;

const servedEnv = (port: number, extra: Record<string, string> = {}) => backendEnv(port, { staticDir: resolve('dist'), origins: [`http://localhost:${port}`], extra });

test.beforeAll(async () => {
  if (!existsSync('dist/index.html')) throw new Error('dist/ is missing: npm test builds it before the browser tests (vite build)');
  const port = 21000 + Math.floor(Math.random() * 1000);
  server = await startServer(servedEnv(port), port);
});
test.afterAll(async () => server?.kill('SIGTERM'));

/** The credentials this device keeps, read straight from IndexedDB. */
const keptCredentials = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<{ backend: string; deviceId: string; token: string; name: string }[]>((done, fail) => {
        const req = indexedDB.open('framewise-outbox');
        req.onsuccess = () => {
          const all = req.result.transaction('credentials').objectStore('credentials').getAll();
          all.onsuccess = () => (req.result.close(), done(all.result));
          all.onerror = () => fail(all.error);
        };
        req.onerror = () => fail(req.error);
      }),
  );

const adminGet = async (base: string, path: string) => (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json();

test('a guided session on the built app reaches the backend and shows on the dashboard', async ({ page, context }) => {
  test.setTimeout(90_000);
  const base = `http://localhost:${server.port}`;
  const errors: string[] = [];
  const urls: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => urls.push(r.url()));
  page.on('websocket', (ws) => urls.push(ws.url()));
  await page.goto(`${base}/`);
  expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  await page.getByLabel('Task', { exact: true }).selectOption('desk-setup');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });
  await expect(page.getByTestId('sync-status')).toContainText('synced', { timeout: 30_000 });
  await expect(page.getByTestId('last-result')).toContainText('objects', { timeout: 30_000 });
  // Verdicts and instructions sync as they happen: wait until the backend holds both, then stop.
  await expect
    .poll(async () => {
      const sessions = await allSessions(base);
      const kinds = new Set((await Promise.all(sessions.map((s) => storedEvents(base, s.sessionId)))).flat().map((e) => e.kind));
      return kinds.has('state') && kinds.has('instruction');
    }, { timeout: 30_000 })
    .toBe(true);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('status')).toHaveText('idle');
  await expect(page.getByTestId('sync-pending')).toHaveText('0', { timeout: 20_000 });

  // The app enrolled itself once: its own credential, kept in IndexedDB, never in a URL or localStorage.
  const creds = await keptCredentials(page);
  expect(creds).toEqual([expect.objectContaining({ backend: `ws://localhost:${server.port}/sync`, name: expect.stringMatching(/^Framewise on .+ \(.+\)$/) })]);
  const token = creds[0]!.token;
  expect(urls.filter((u) => u.includes(token))).toEqual([]);
  expect(await page.evaluate((t) => JSON.stringify({ ...localStorage }).includes(t), token)).toBe(false);
  const devices = (await adminGet(base, '/api/devices')) as { deviceId: string; name: string }[];
  expect(devices.map((d) => d.deviceId)).toContain(creds[0]!.deviceId);

  const dash = await context.newPage();
  await dash.goto(`${base}/dashboard`);
  await dash.getByLabel('Admin token').fill(ADMIN);
  await dash.getByRole('button', { name: 'Sign in' }).click();
  await expect(dash.getByTestId('live-status')).toHaveText('live');
  const row = dash.locator('tr.session').first();
  await expect(row).toContainText('desk-setup');
  await expect(row).toContainText(creds[0]!.name);
  await row.click();
  const events = dash.getByTestId('events');
  await expect(events).toContainText('session-start');
  await expect(events).toContainText('session-end');
  await expect(events).toContainText('state');
  await expect(events).toContainText('instruction');
  expect(errors).toEqual([]);
});

test('changing the backend in Settings mid-session loses nothing of the running session', async ({ page }) => {
  test.setTimeout(90_000);
  const base = `http://localhost:${server.port}`;
  await page.goto(`${base}/`);
  await page.getByLabel('Task', { exact: true }).selectOption('desk-setup'); // task verdicts are recorded all along
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('sync-status')).toContainText('synced', { timeout: 30_000 });
  await openTools(page);
  await page.getByText('Settings', { exact: true }).click();
  await expect(page.getByLabel('Backend token')).toHaveCount(0); // no shared secret to type any more
  await page.getByLabel('Backend URL').fill(`ws://localhost:${server.port}/sync`);
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByTestId('sync-status')).toContainText('synced', { timeout: 30_000 });
  // Events recorded after the change reach the backend through the new client.
  const stored = async () => (await Promise.all((await allSessions(base)).map((s) => storedEvents(base, s.sessionId)))).flat().length;
  const atChange = await stored();
  await expect.poll(stored, { timeout: 30_000 }).toBeGreaterThan(atChange);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('status')).toHaveText('idle');
  await expect(page.getByTestId('sync-pending')).toHaveText('0', { timeout: 20_000 });
  await expect(page.locator('[data-testid="error"]')).toHaveCount(0);
  await expect(page.getByTestId('sync-held')).toHaveCount(0);
  const sessions = await allSessions(base);
  const events = await Promise.all(sessions.map((s) => storedEvents(base, s.sessionId)));
  // The session that ran across the change ended on the server too.
  expect(events.filter((e) => e.some((x) => x.kind === 'session-start') && e.some((x) => x.kind === 'session-end')).length).toBe(sessions.length);
});

test('enrolment with a code: refused without it and with a wrong one, synced with the right one; a revoked device is told to enrol again, and can', async ({ page }) => {
  test.setTimeout(180_000);
  const port = 25000 + Math.floor(Math.random() * 1000);
  const CODE = 'bench-7-4412';
  const coded = await startServer(servedEnv(port, { FRAMEWISE_ENROLL_CODE: CODE }), port);
  const base = `http://localhost:${port}`;
  const record = async () => {
    await page.getByRole('button', { name: 'Start camera' }).click();
    await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });
    await expect(page.getByTestId('last-result')).toContainText('objects', { timeout: 30_000 });
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect(page.getByTestId('status')).toHaveText('idle');
  };
  const pending = async () => Number(await page.getByTestId('sync-pending').textContent());
  try {
    await page.goto(`${base}/`);
    // The backend says a code is needed: nothing is tried without one, and the person is told what to do.
    await expect(page.getByTestId('sync-status')).toContainText('sync refused', { timeout: 20_000 });
    await expect(page.getByTestId('sync-problem')).toHaveText(NEEDS_CODE);
    await record();
    await expect.poll(pending).toBeGreaterThan(1); // kept

    await openTools(page);
    await page.getByText('Settings', { exact: true }).click();
    await page.getByLabel('Enrolment code').fill('not-the-code');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page.getByTestId('sync-problem')).toContainText('refused to enrol this device: the enrolment code is wrong', { timeout: 20_000 });
    expect(await pending()).toBeGreaterThan(1);

    await page.getByLabel('Enrolment code').fill(CODE);
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page.getByTestId('sync-pending')).toHaveText('0', { timeout: 30_000 });
    await expect(page.getByTestId('sync-status')).toContainText('synced');
    expect(await page.evaluate((c) => JSON.stringify({ ...localStorage }).includes(c), CODE)).toBe(false);
    const [cred] = await keptCredentials(page);

    // The operator revokes this device: its next connection is refused, with what to do about it, and no retry loop.
    expect((await fetch(`${base}/api/devices/${cred!.deviceId}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } })).ok).toBe(true);
    await page.reload();
    await record();
    await expect(page.getByTestId('sync-status')).toContainText('sync refused', { timeout: 30_000 });
    await expect(page.getByTestId('sync-problem')).toHaveText(CREDENTIAL_REFUSED);
    await expect.poll(pending).toBeGreaterThan(1); // the session's start and end, kept

    await openTools(page);
    await page.getByText('Settings', { exact: true }).click();
    await page.getByLabel('Enrolment code').fill(CODE);
    await page.getByRole('button', { name: 'Enrol this device again' }).click();
    await expect(page.getByTestId('sync-pending')).toHaveText('0', { timeout: 30_000 });
    const [renewed] = await keptCredentials(page);
    expect(renewed!.deviceId).not.toBe(cred!.deviceId);
    const sessions = await allSessions(base);
    expect(sessions.length).toBe(2);
    for (const s of sessions) {
      const ev = await storedEvents(base, s.sessionId);
      expect(ev.map((e) => e.seq)).toEqual(ev.map((_, i) => i + 1));
      expect(ev.at(-1)!.kind).toBe('session-end');
    }
  } finally {
    await coded.kill('SIGTERM');
  }
});
