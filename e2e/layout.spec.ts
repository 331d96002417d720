import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { openTools } from './fixtures/ui';

// The pipeline sizes itself (issue 23): a first start calibrates the layout (pool × threads) for
// this device and model, shown and cancellable; the choice is kept in IndexedDB and applied.
// Under automation the app calibrates only when asked (?calibrate=auto): every other test keeps
// today's default layout and pays nothing. Runs with the fake camera, to see the layout applied.
// The workers run the probe (30 ms a frame, no model): the lifecycle is under test here, and a
// model's first frame on a two-core machine loaded by other work can outlast the watchdog and
// fail the calibration (which then keeps the default and says so). The model itself is measured
// by `npm run bench -- --only calibration` (a recording: src/vision/fixtures/). The key still
// hashes the configured model's bytes. Nothing here is timed: each step waits for what the page says.
const APP = '/?calibrate=auto&processor=probe&probeDelay=30';

test.describe.configure({ timeout: 240_000 });

type Layout = { pool: number; threads: number; source: string; outcome: string | null; at: string | null };
declare global {
  interface Window {
    fwLayouts: Layout[];
    fwCalibrations: number;
  }
}

/** Records every layout the page settles on, and every calibration it starts, from the first script on. */
async function watch(page: Page): Promise<void> {
  await page.addInitScript(() => {
    window.fwLayouts = [];
    window.fwCalibrations = 0;
    addEventListener('framewise:layout', (e) => window.fwLayouts.push((e as CustomEvent<Layout>).detail));
    addEventListener('framewise:calibrating', () => window.fwCalibrations++);
  });
}

const settled = (page: Page) => page.evaluate(() => window.fwLayouts.at(-1) ?? null);
const calibrations = (page: Page) => page.evaluate(() => window.fwCalibrations);
const keptLayouts = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<{ key: string; at: string; outcome: string; layout: { pool: number; threads: number } }[]>((resolve, reject) => {
        const req = indexedDB.open('framewise');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const all = req.result.transaction('layouts').objectStore('layouts').getAll();
          all.onsuccess = () => {
            req.result.close();
            resolve(all.result.map((r: { key: string; at: string; choice: { outcome: string; layout: { pool: number; threads: number } } }) => ({ key: r.key, at: r.at, outcome: r.choice.outcome, layout: r.choice.layout })));
          };
        };
      }),
  );

const violations = async (page: Page) => (await new AxeBuilder({ page }).analyze()).violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);

async function openSettings(page: Page): Promise<void> {
  await openTools(page);
  const summary = page.getByTestId('layout-summary');
  if (!(await summary.isVisible())) await page.getByText('Settings', { exact: true }).click();
}

const name = (l: { pool: number; threads: number }) => `${l.pool} worker${l.pool === 1 ? '' : 's'} × ${l.threads} thread${l.threads === 1 ? '' : 's'}`;

test('a first start calibrates (shown), applies and keeps the layout; a reload does not calibrate again; another model does', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await watch(page);
  await page.goto(APP);
  const banner = page.getByTestId('calibration');
  await expect(banner).toContainText(/Calibrating for this device… \(layout \d of \d: \d workers? × \d threads?\)/, { timeout: 30_000 });
  await expect(page.getByRole('button', { name: 'Start camera' })).toBeDisabled();
  await expect(banner).toBeHidden({ timeout: 180_000 });

  await expect.poll(() => settled(page)).toMatchObject({ source: 'calibrated', outcome: 'calibrated' });
  const chosen = (await settled(page))!;
  const kept = await keptLayouts(page);
  expect(kept).toHaveLength(1);
  expect(kept[0]).toMatchObject({ outcome: 'calibrated', layout: { pool: chosen.pool, threads: chosen.threads } });
  await openSettings(page);
  await expect(page.getByTestId('layout-summary')).toContainText(`Layout: ${name(chosen)} (calibrated: ${name(chosen)}: `);
  await expect(page.getByLabel('Layout', { exact: true })).toHaveValue('auto');
  await expect(page.getByLabel('Localization workers')).toHaveValue(String(chosen.pool));
  await expect(page.getByLabel('WASM threads per worker')).toHaveValue(String(chosen.threads));
  expect(await violations(page)).toEqual([]);

  // Applied: the camera starts with the calibrated pool.
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });
  await page.getByText('Pipeline metrics').click();
  const hud = page.locator('fw-hud');
  await expect(hud.getByTestId(`worker-localization-${chosen.pool}`)).toBeVisible({ timeout: 30_000 });
  await expect(hud.getByTestId(`worker-localization-${chosen.pool + 1}`)).toHaveCount(0);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('status')).toHaveText('idle');

  // A reload finds the kept calibration: no calibration, the same layout.
  await page.reload();
  await expect.poll(() => settled(page)).toMatchObject({ source: 'calibrated', pool: chosen.pool, threads: chosen.threads, at: kept[0]!.at });
  expect(await calibrations(page)).toBe(0);
  await expect(banner).toHaveCount(0);
  expect(await keptLayouts(page)).toEqual(kept);

  // Another model (other bytes at the same address: an unknown protobuf field appended, which
  // onnxruntime would skip) is another key: the next start calibrates again and keeps a second record.
  const other = Buffer.concat([readFileSync('public/models/yolox_nano.onnx'), Buffer.from([0xc0, 0x3e, 0x01])]);
  await page.route('**/models/yolox_nano.onnx', (route) => route.fulfill({ body: other, contentType: 'application/octet-stream' }));
  await page.evaluate(() => caches.delete('framewise-models-v1'));
  await page.reload();
  await expect.poll(() => calibrations(page), { timeout: 30_000 }).toBe(1);
  await expect(banner).toBeVisible();
  await expect(banner).toBeHidden({ timeout: 180_000 });
  await expect.poll(() => settled(page)).toMatchObject({ outcome: 'calibrated' });
  const both = await keptLayouts(page);
  expect(both).toHaveLength(2);
  expect(both.map((r) => r.key)).toContain(kept[0]!.key);
  expect(errors).toEqual([]);
});

test('Cancel stops the calibration, keeps the default layout and says so; Settings can re-calibrate', async ({ page }) => {
  await watch(page);
  await page.goto(APP);
  const banner = page.getByTestId('calibration');
  await expect(banner).toContainText('Calibrating for this device…', { timeout: 30_000 });
  expect(await violations(page)).toEqual([]);
  await banner.getByRole('button', { name: 'Cancel' }).click();
  await expect(banner).toBeHidden({ timeout: 60_000 });
  const notice = page.getByTestId('calibration-notice');
  await expect(notice).toHaveText(/^Calibration cancelled: keeping \d workers? × \d threads?, the default\.$/);
  await expect.poll(() => settled(page)).toMatchObject({ source: 'default', outcome: 'cancelled' });
  const layout = (await settled(page))!;
  await expect(page.getByRole('button', { name: 'Start camera' })).toBeEnabled();
  await openSettings(page);
  await expect(page.getByTestId('layout-summary')).toHaveText(`Layout: ${name(layout)} (default: Calibration cancelled: keeping ${name(layout)}, the default.)`);
  expect(await keptLayouts(page)).toMatchObject([{ outcome: 'cancelled' }]);

  // Not asked again at the next start (Settings offers it).
  await page.reload();
  await expect.poll(() => settled(page)).toMatchObject({ source: 'default', outcome: 'cancelled' });
  expect(await calibrations(page)).toBe(0);

  // Re-calibrate from Settings, cancelled again: the kept record stays as it was.
  await openSettings(page);
  await page.getByRole('button', { name: 'Re-calibrate' }).click();
  await expect(banner).toBeVisible();
  await banner.getByRole('button', { name: 'Cancel' }).click();
  await expect(banner).toBeHidden({ timeout: 60_000 });
  await expect(notice).toContainText('Calibration cancelled');
  expect(await keptLayouts(page)).toMatchObject([{ outcome: 'cancelled' }]);
});

test('an explicit ?pool= skips the calibration, and Settings says where the layout came from', async ({ page }) => {
  await watch(page);
  await page.goto(`${APP}&pool=1`);
  await expect.poll(() => settled(page)).toMatchObject({ source: 'url', pool: 1 });
  expect(await calibrations(page)).toBe(0);
  await openSettings(page);
  await expect(page.getByTestId('layout-summary')).toContainText('(set by the page address (?pool=, ?threads=))');
});
