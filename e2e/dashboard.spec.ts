import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { startServer, type ServerProcess } from '../test/server/spawn-server';
import { ADMIN, backendEnv, DeviceSocket, enrolDevice, verdictEvent, type Device } from './fixtures/backend';
import { completed, derailed, DESK, executing, LAPTOP_LEFT, Recording } from '../test/server/guided-sessions';

// The supervisor's dashboard on the built app: the admin credential is asked for once, kept
// for the tab only (sessionStorage), sent as a header and as the live feed's first message.
let server: ServerProcess;
let device: Device;
let base: string;

test.beforeAll(async () => {
  if (!existsSync('dist/dashboard.html')) throw new Error('dist/ is missing: npm test builds it before the browser tests (vite build)');
  const port = 26000 + Math.floor(Math.random() * 1000);
  server = await startServer(backendEnv(port, { staticDir: resolve('dist'), origins: [`http://localhost:${port}`] }), port);
  base = `http://localhost:${port}`;
  device = await enrolDevice(server.url, 'dashboard bench tablet');
  // More sessions than one page holds.
  const socket = await DeviceSocket.open(server.url);
  for (let i = 1; i <= 55; i++) {
    const id = `session-dash-${String(i).padStart(3, '0')}`;
    await socket.hello(id, device.token);
    await socket.send(id, [1, 2, 3].map((seq) => verdictEvent(seq, 'dashboard bench tablet')));
  }
  socket.close();
});
test.afterAll(async () => server?.kill('SIGTERM'));

async function axe(page: Page, screen: string) {
  const r = await new AxeBuilder({ page }).analyze();
  const found = r.violations.map((v) => `${v.id} (${v.nodes.length}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  console.log(`axe dashboard ${screen}: ${r.violations.length} violations${found.length ? `: ${found.join('; ')}` : ''}`);
  expect(found, screen).toEqual([]);
}

test('signs in with the admin token once (kept for the tab, never in a URL), pages and live updates, signs out, refuses a wrong or stale token', async ({ page, context }) => {
  test.setTimeout(60_000);
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  page.on('websocket', (ws) => urls.push(ws.url()));
  await page.goto(`${base}/dashboard`);
  const form = page.getByRole('form', { name: 'Sign in' });
  await expect(form).toBeVisible();
  await axe(page, 'sign-in');

  await page.getByLabel('Admin token').fill('not-the-admin-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signin-message')).toHaveText('That admin token was refused. Check it and try again.');
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

  await page.getByLabel('Admin token').fill(ADMIN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('live-status')).toHaveText('live');
  await expect(page.locator('tr.session')).toHaveCount(50);
  await page.getByTestId('load-more').click();
  await expect(page.locator('tr.session')).toHaveCount(55);
  await expect(page.getByTestId('load-more')).toHaveCount(0);
  expect(await page.evaluate(() => sessionStorage.getItem('framewise-admin-token'))).toBe(ADMIN);
  expect(await page.evaluate((t) => JSON.stringify({ ...localStorage }).includes(t), ADMIN)).toBe(false);

  // Live: a session that starts now appears on top, without a reload.
  const socket = await DeviceSocket.open(server.url);
  await socket.hello('session-dash-live', device.token);
  await socket.send('session-dash-live', [1, 2].map((seq) => verdictEvent(seq, 'dashboard bench tablet')));
  await expect(page.locator('tr.session').first()).toHaveAttribute('data-session', 'session-dash-live', { timeout: 10_000 });
  await expect(page.locator('tr.session')).toHaveCount(56);
  await expect(page.locator('tr.session').first().getByTestId('live')).toHaveText('● Live');
  await page.locator('tr.session').first().click();
  await expect(page).toHaveURL(/#session=session-dash-live$/);
  await expect(page.getByTestId('events')).toContainText('desk-setup');
  await page.getByText('Recorded events', { exact: false }).click();
  await axe(page, 'sessions and events');
  // An open session follows its new events.
  await socket.send('session-dash-live', [verdictEvent(3, 'dashboard bench tablet')]);
  await expect(page.getByTestId('events').locator('tbody tr')).toHaveCount(3, { timeout: 10_000 });
  socket.close();

  // The same tab stays signed in across a reload; another tab is not signed in.
  await page.reload();
  await expect(page.getByTestId('live-status')).toHaveText('live');
  const other = await context.newPage();
  await other.goto(`${base}/dashboard`);
  await expect(other.getByRole('form', { name: 'Sign in' })).toBeVisible();
  await other.close();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(form).toBeVisible();
  await expect(page.getByTestId('signin-message')).toHaveText('Signed out.');
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

  // A token that stopped working (changed on the backend) brings the form back, saying why.
  await page.evaluate(() => sessionStorage.setItem('framewise-admin-token', 'an-old-admin-token'));
  await page.reload();
  await expect(page.getByTestId('signin-message')).toHaveText('The admin token was refused (changed, or the backend was reset). Sign in again.');
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

  expect(urls.filter((u) => u.includes(ADMIN) || u.includes('token='))).toEqual([]);
});

test('a step with more derailments and instructions than a timeline carries shows the rest page by page', async ({ page }) => {
  test.setTimeout(60_000);
  // The desk task: step 2 derails 60 times, an instruction given each time it does and each time it is back on track.
  const start = Date.now() - 120_000;
  const rec = new Recording(DESK, start).verdict(start + 250, executing(0)).verdict(start + 1_000, completed(0, 1, 1_000));
  for (let i = 0; i < 60; i++) {
    const ts = start + 2_000 + i * 1_000;
    rec.verdict(ts, derailed(1, LAPTOP_LEFT, ts)).instruction(ts, 1, 'Bring a laptop into view');
    rec.verdict(ts + 600, executing(1, { recovered: true })).instruction(ts + 600, 1, 'Bring a keyboard into view');
  }
  const socket = await DeviceSocket.open(server.url);
  await socket.hello('session-dash-derailing', device.token);
  for (let i = 0; i < rec.events.length; i += 100) await socket.send('session-dash-derailing', rec.events.slice(i, i + 100));
  socket.close();

  await page.goto(`${base}/dashboard`);
  await page.getByLabel('Admin token').fill(ADMIN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.goto(`${base}/dashboard#session=session-dash-derailing`);
  const step = page.locator('.step[data-step="1"]');
  await expect(step.getByTestId('derailment')).toHaveCount(50);
  await expect(step.getByTestId('given')).toHaveCount(50);
  await expect(page.getByTestId('session-facts').getByTestId('derailments')).toHaveText('60');
  await step.getByTestId('more-derailments').click();
  await expect(step.getByTestId('derailment')).toHaveCount(60);
  await expect(step.getByTestId('more-derailments')).toHaveCount(0);
  await expect(step.getByTestId('more-instructions')).toHaveText('Show more instructions (50 of 120 shown)');
  await step.getByTestId('more-instructions').click();
  await expect(step.getByTestId('given')).toHaveCount(120);
  await expect(step.getByTestId('more-instructions')).toHaveCount(0);
  // In order: the last one given is the last shown.
  await expect(step.getByTestId('given').last()).toContainText('Bring a keyboard into view');
  await axe(page, 'a long timeline, shown further');
});
