import { chromium, expect, test, type Page } from '@playwright/test';
import { chromiumArgs, chromiumPath } from './browser';
import { appendFileSync, cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startServer, type ServerProcess } from '../test/server/spawn-server';
import { backendEnv } from './fixtures/backend';

// The built PWA, served by the real server from a copy of dist/ (so a test can ship a "new version").
let server: ServerProcess;
let staticDir: string;

test.beforeAll(async () => {
  if (!existsSync('dist/sw.js')) throw new Error('dist/ is missing: npm test builds it before the browser tests (vite build)');
  const dir = mkdtempSync(join(tmpdir(), 'fw-pwa-'));
  staticDir = join(dir, 'dist');
  cpSync(resolve('dist'), staticDir, { recursive: true });
  const port = 22000 + Math.floor(Math.random() * 1000);
  server = await startServer(backendEnv(port, { staticDir, origins: [`http://localhost:${port}`] }), port);
});
test.afterAll(async () => server?.kill('SIGTERM'));

const base = () => `http://localhost:${server.port}/`;

async function installed(page: Page) {
  await page.goto(base());
  await page.evaluate(() => navigator.serviceWorker.ready);
  // Precaching (44 MB: shell, both WASM builds, the model) is done when the app says so.
  await expect(page.getByTestId('offline-ready')).toBeVisible({ timeout: 60_000 });
}

test('Chrome considers the app installable', async () => {
  test.setTimeout(90_000);
  // Not incognito (Playwright's default contexts are): installability is judged for a real profile.
  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'fw-profile-')), { executablePath: chromiumPath(), args: chromiumArgs() });
  const page = context.pages()[0] ?? (await context.newPage());
  await installed(page);
  const cdp = await context.newCDPSession(page);
  const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: unknown[] };
  expect(installabilityErrors).toEqual([]);
  const manifest = await (await page.request.get(`${base()}manifest.webmanifest`)).json();
  expect(manifest).toMatchObject({ name: 'Framewise', display: 'standalone' });
  await context.close();
});

test('after one online visit, the app opens and detects offline', async ({ page, context }) => {
  test.setTimeout(120_000);
  await installed(page);
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole('button', { name: 'Start camera' })).toBeVisible();
  expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('last-result')).toContainText('objects', { timeout: 60_000 });
  await expect(page.getByTestId('sync-status')).not.toContainText('synced');
  await context.setOffline(false);
});

test('a new version is offered between sessions, never during one, and applied on consent', async ({ page }) => {
  test.setTimeout(120_000);
  await installed(page);
  await page.reload(); // a returning visit: the page is now controlled by the service worker
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });
  // Ship a new version: a changed service worker.
  appendFileSync(join(staticDir, 'sw.js'), `\n// release ${Date.now()}\n`);
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
  // Wait for the condition that would offer it (the new version installed and waiting), then check it is held back.
  await expect.poll(() => page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration())?.waiting), { timeout: 30_000 }).toBe(true);
  await expect(page.getByTestId('update')).toHaveCount(0); // mid-session: not offered
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('update')).toBeVisible({ timeout: 30_000 });
  await Promise.all([page.waitForEvent('load', { timeout: 30_000 }), page.getByRole('button', { name: 'Update now' }).click()]);
  await expect(page.getByTestId('update')).toHaveCount(0);
  const waiting = await page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration())?.waiting);
  expect(waiting).toBe(false);
  expect(await page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
});
