import { expect, test } from '@playwright/test';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startServer, type ServerProcess } from '../server/spawn-server';

// The built app as `npm start` serves it: one process with the PWA, the sync endpoint and the dashboard.
const TOKEN = 'product-token';
let server: ServerProcess;

test.beforeAll(async () => {
  if (!existsSync('dist/index.html')) throw new Error('dist/ is missing: npm test builds it before the browser tests (vite build)');
  const dir = mkdtempSync(join(tmpdir(), 'fw-product-'));
  server = await startServer({ FRAMEWISE_TOKEN: TOKEN, FRAMEWISE_DB: join(dir, 'events.sqlite'), FRAMEWISE_STATIC: resolve('dist') }, 21000 + Math.floor(Math.random() * 1000));
});
test.afterAll(async () => server?.kill('SIGTERM'));

test('a guided session on the built app reaches the backend and shows on the dashboard', async ({ page, context }) => {
  test.setTimeout(90_000);
  const base = `http://localhost:${server.port}`;
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/`);
  expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  await page.getByLabel('Task', { exact: true }).selectOption('desk-setup');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });
  await expect(page.getByTestId('sync-status')).toContainText('synced', { timeout: 30_000 });
  await expect(page.getByTestId('last-result')).toContainText('objects', { timeout: 30_000 });
  await page.waitForTimeout(3000);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('status')).toHaveText('idle');
  await expect(page.getByTestId('sync-pending')).toHaveText('0', { timeout: 20_000 });

  const dash = await context.newPage();
  await dash.goto(`${base}/dashboard?token=${TOKEN}`);
  await expect(dash.getByTestId('live-status')).toHaveText('live');
  const row = dash.locator('tr.session').first();
  await expect(row).toContainText('desk-setup');
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
  await page.getByText('Settings').click();
  await page.getByLabel('Backend URL').fill(`ws://localhost:${server.port}/sync`);
  await page.getByLabel('Backend token').fill(TOKEN);
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByTestId('sync-status')).toContainText('synced', { timeout: 30_000 });
  await page.waitForTimeout(1500);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('status')).toHaveText('idle');
  await expect(page.getByTestId('sync-pending')).toHaveText('0', { timeout: 20_000 });
  await expect(page.locator('[data-testid="error"]')).toHaveCount(0);
  const sessions = (await (await fetch(`${base}/api/sessions`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { sessionId: string }[];
  const events = await Promise.all(
    sessions.map(async (s) => (await (await fetch(`${base}/api/sessions/${s.sessionId}/events?limit=5000`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { kind: string }[]),
  );
  // The session that ran across the change ended on the server too.
  expect(events.filter((e) => e.some((x) => x.kind === 'session-start') && e.some((x) => x.kind === 'session-end')).length).toBe(sessions.length);
});
