import { expect, test, type Browser, type Page } from '@playwright/test';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { startServer } from '../test/server/spawn-server';
import { ADMIN, backendEnv } from './fixtures/backend';
import { guidedDevice, launchTrainerCamera } from './fixtures/ui';

/** Runs the built-in desk task on a device until `until` says so, then stops and waits until it is synced. */
async function run(page: Page, until: (page: Page) => Promise<void>) {
  await page.getByLabel('Task', { exact: true }).selectOption('desk-setup');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });
  await until(page);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('sync-pending')).toHaveText('0', { timeout: 20_000 });
}

// Not a test: renders the trainer's view for docs/ and the README from real guided sessions on the
// built app (FRAMEWISE_DOCS=1 npx playwright test --project docs-trainer).
test('trainer view screenshots', async ({ page }) => {
  test.setTimeout(240_000);
  if (!existsSync('dist/dashboard.html')) throw new Error('dist/ is missing: run vite build first');
  const port = 23500;
  const server = await startServer(backendEnv(port, { staticDir: resolve('dist'), origins: [`http://localhost:${port}`] }), port);
  let camera: Browser | undefined;
  try {
    const base = `http://localhost:${port}`;
    camera = await launchTrainerCamera();
    const bench = await guidedDevice(camera, base, 'Bench tablet A');
    const kiosk = await guidedDevice(camera, base, 'Kiosk B');
    await run(bench, (p) => expect(p.locator('fw-task-panel').getByTestId('summary')).toBeVisible({ timeout: 120_000 }));
    await run(kiosk, (p) => expect(p.locator('fw-task-panel').getByTestId('derail')).toBeVisible({ timeout: 90_000 }));

    await page.goto(`${base}/dashboard`);
    await page.getByLabel('Admin token').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.locator('fw-sessions-list tr.session')).toHaveCount(2);
    await page.getByLabel('Task', { exact: true }).selectOption('desk-setup');
    await expect(page.locator('fw-sessions-list fw-task-aggregate')).toContainText('2 sessions, 1 completed');
    await page.screenshot({ path: 'docs/trainer-list.png' });

    await page.locator('fw-sessions-list tr.session', { hasText: 'Bench tablet A' }).click();
    const view = page.locator('fw-session-view');
    await expect(view.locator('.step[role="row"]')).toHaveCount(4);
    await expect(view.locator('fw-task-aggregate')).toContainText('2 sessions');
    // Point at the derailment, as a trainer would, so that the readout says what it was.
    const chart = view.locator('fw-timeline-chart svg');
    const box = (await chart.boundingBox())!;
    const d = (await view.locator('fw-timeline-chart path.derail').getAttribute('d'))!;
    const [, x, y, w] = /^M([\d.]+) ([\d.]+)h([\d.]+)/.exec(d)!.map(Number);
    await page.mouse.move(box.x + x! + w! / 2, box.y + y! + 5);
    await expect(view.getByTestId('chart-readout')).toContainText('derailed');
    await page.screenshot({ path: 'docs/trainer-timeline.png' });
  } finally {
    await camera?.close();
    await server.kill('SIGTERM');
  }
});
