import { chromium, expect, test, type Page } from '@playwright/test';
import { chromiumArgs, chromiumPath } from './browser';
import { FAKE_CAMERA_Y4M } from './fixtures/paths';
import { openTools } from './fixtures/ui';

// Each failure a person can meet, with what the app says and that it keeps its head.
const count = async (page: Page) => Number(await page.getByTestId('result-count').textContent());
const start = async (page: Page) => {
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });
};

test('no camera: says so and points to video files', async ({ page }) => {
  await page.goto('/');
  await page.evaluate(() => {
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Requested device not found', 'NotFoundError'));
  });
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('error')).toHaveText('No camera was found. Plug one in, or analyse a video file instead.');
  await expect(page.getByLabel('Analyse a video file')).toBeEnabled();
});

test('camera unplugged mid-session: stops cleanly and says how to go on', async ({ page }) => {
  await page.goto('/');
  await start(page);
  await page.evaluate(() => {
    const video = document.querySelector('fw-app')!.shadowRoot!.querySelector('video')!;
    const track = (video.srcObject as MediaStream).getVideoTracks()[0]!;
    track.stop();
    track.dispatchEvent(new Event('ended')); // what the browser fires when the device goes away
  });
  await expect(page.getByTestId('error')).toContainText('The camera stopped (unplugged or taken by another app)');
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 15_000 });
  await expect.poll(() => page.workers().length).toBe(0);
  await expect(page.getByRole('button', { name: 'Start camera' })).toBeEnabled();
});

test('no WebGPU: falls back to WASM and says so', async () => {
  // A browser without the WebGPU flags: no adapter at all.
  const args = chromiumArgs(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${FAKE_CAMERA_Y4M}`]).filter((a) => !a.includes('webgpu'));
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...args, '--disable-features=WebGPU'] });
  const page = await browser.newPage({ baseURL: test.info().project.use.baseURL });
  await page.goto('/?provider=webgpu');
  await start(page);
  await expect(page.getByTestId('provider-notice')).toContainText(/Running the model on the CPU \(WASM\), which is slower: WebGPU requested but (this browser has no WebGPU|no WebGPU adapter)/, { timeout: 20_000 });
  await expect(page.getByTestId('last-result')).toContainText('on wasm');
  await browser.close();
});

test('storage full: the person is told, and detection goes on', async ({ page }) => {
  await page.goto('/');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(page.url()).origin, quotaSize: 1 });
  await page.getByLabel('Task', { exact: true }).selectOption('desk-setup');
  await start(page);
  await expect(page.getByTestId('error')).toContainText(/Storage is full|out of storage/, { timeout: 20_000 });
  const before = await count(page);
  await expect.poll(() => count(page), { timeout: 15_000 }).toBeGreaterThan(before + 3);
  await expect(page.getByTestId('status')).toHaveText('running');
});

test('backend unreachable: detection goes on and the outbox keeps every event', async ({ page }) => {
  await page.goto('/?sync=ws://127.0.0.1:9/sync');
  await expect(page.getByTestId('sync-status')).toContainText(/offline|connecting/, { timeout: 15_000 });
  await expect(page.getByTestId('sync-problem')).toContainText('Cannot reach 127.0.0.1:9 to enrol this device');
  await page.getByLabel('Task', { exact: true }).selectOption('desk-setup');
  await start(page);
  await expect.poll(() => count(page), { timeout: 20_000 }).toBeGreaterThan(10);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('sync-status')).toContainText('offline');
  await expect.poll(async () => Number(await page.getByTestId('sync-pending').textContent()), { timeout: 10_000 }).toBeGreaterThan(2);
});

test('settings are validated, applied to a running pipeline without a reload, and kept', async ({ page }) => {
  await page.goto('/');
  await start(page);
  await openTools(page);
  await page.getByText('Settings').click();
  await page.getByLabel('Localization workers').fill('0');
  await expect(page.getByTestId('settings-problems')).toContainText('poolSize must be a whole number from 1 to 16, got 0');
  await expect(page.getByRole('button', { name: 'Apply' })).toBeDisabled();
  await page.getByLabel('Localization workers').fill('1');
  await page.getByLabel('Score threshold').fill('0.6');
  await page.getByRole('button', { name: 'Apply' }).click();
  await openTools(page);
  await page.getByText('Pipeline metrics').click();
  await expect(page.locator('fw-hud').getByTestId('worker-localization-2')).toHaveCount(0, { timeout: 30_000 });
  await expect(page.locator('fw-hud').getByTestId('worker-localization-1')).toBeVisible();
  await expect(page.getByTestId('status')).toHaveText('running');
  const before = await count(page);
  await expect.poll(() => count(page), { timeout: 15_000 }).toBeGreaterThan(before + 3);
  await page.getByRole('button', { name: 'Stop' }).click();
  await page.reload();
  await openTools(page);
  await page.getByText('Settings').click();
  await expect(page.getByLabel('Localization workers')).toHaveValue('1');
  await expect(page.getByLabel('Score threshold')).toHaveValue('0.6');
});

test('another tab upgrading the saved data: this tab lets go at once and says to reload', async ({ page, context }) => {
  await page.goto('/');
  // The app has its saved tasks open (IndexedDB "framewise").
  await expect.poll(() => page.evaluate(async () => (await indexedDB.databases()).some((d) => d.name === 'framewise' && d.version === 3)), { timeout: 15_000 }).toBe(true);
  await expect(page.getByLabel('Task', { exact: true })).toBeVisible();
  // A newer release in another tab opens the same database at a higher version. A tab that kept
  // its old connection open would block that upgrade for as long as it stays open.
  const other = await context.newPage();
  await other.goto('/');
  const outcome = await other.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const req = indexedDB.open('framewise', 4);
        let blocked = false;
        req.onblocked = () => (blocked = true);
        req.onsuccess = () => {
          req.result.close();
          resolve(blocked ? 'opened after being blocked' : 'opened');
        };
        req.onerror = () => resolve(`error: ${req.error?.message}`);
        setTimeout(() => resolve(blocked ? 'still blocked' : 'no answer'), 10_000);
      }),
  );
  expect(outcome).toBe('opened');
  await expect(page.getByTestId('error')).toHaveText('A newer version of Framewise was opened in another tab: reload this tab to keep saving here.');
});
