import { expect, test } from '@playwright/test';
import { openTools } from './fixtures/ui';

// Runs with Chromium's fake camera playing a slideshow of COCO photographs (see global-setup).
test('frames flow from the fake camera through both worker kinds to the dispatcher', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 20_000 });
  await expect.poll(async () => Number(await page.getByTestId('result-count').textContent()), { timeout: 20_000 }).toBeGreaterThan(30);

  await openTools(page);
  await page.getByText('Pipeline metrics').click();
  const hud = page.locator('fw-hud');
  await expect(hud.getByTestId('worker-state-1')).toBeVisible();
  await expect(hud.getByTestId('worker-localization-1')).toBeVisible();
  await expect(hud.getByTestId('worker-localization-2')).toBeVisible();
  // Which model runs where: the pool runs the detector; the judge runs none and judges what the pool saw.
  await expect(hud.getByTestId('runs-localization-1')).toHaveText('detector: YOLOX-Nano (COCO, 416)');
  await expect(hud.getByTestId('runs-state-1')).toHaveText('judge');
  await expect(hud.getByTestId('provider-state-1')).toHaveAttribute('title', "judges on the pool's detections (no model of its own)");
  // Real camera frames reach the detector: the slideshow's objects are found as the slides change.
  const seen = new Set<string>();
  await expect.poll(async () => {
    const text = (await page.getByTestId('last-result').textContent()) ?? '';
    for (const m of text.matchAll(/([a-z ]+) \d+%/g)) seen.add(m[1]!.trim());
    return seen.size;
  }, { timeout: 30_000, intervals: [250] }).toBeGreaterThanOrEqual(3);
  // No real GPU here: auto picks WASM and says so.
  await expect(hud.getByTestId('provider-localization-1')).toHaveText('wasm');
  await expect(hud.getByTestId('provider-localization-1')).toHaveAttribute('title', /software fallback|no WebGPU/);
  // The HUD's live plots have history and show the current input rate.
  await expect(hud.getByTestId('plots').locator('fw-sparkline').first()).toContainText(/input fps \d+/);
  // Wait for the condition: on a loaded machine the camera may be slower than the wall clock suggests.
  await expect.poll(async () => Number(await hud.getByTestId('frames-in').textContent()), { timeout: 30_000 }).toBeGreaterThan(30);

  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('status')).toHaveText('idle');
  await expect(hud.getByTestId('open-frames')).toHaveText('0');
  await expect.poll(() => page.workers().length).toBe(0);
  await expect(page.locator('[data-testid="error"]')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('a denied camera gets a clear message and a way forward', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/');
  // Simulate the person (or a policy) refusing the camera.
  await page.evaluate(() => {
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
  });
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('error')).toContainText('Camera permission was denied');
  await expect(page.getByRole('button', { name: 'Start camera' })).toBeEnabled();
  await context.close();
});

for (const viewport of [{ width: 1280, height: 800 }, { width: 420, height: 900 }]) {
  test(`boxes sit on the video picture at ${viewport.width}×${viewport.height}`, async ({ page }) => {
    await page.setViewportSize(viewport);
    await page.goto('/');
    await page.getByRole('button', { name: 'Start camera' }).click();
    // Read in the same task as a non-empty set of boxes: the slideshow moves on to scenes with none.
    const found = await page.waitForFunction(() => {
      const app = document.querySelector('fw-app')?.shadowRoot;
      if (!app) return undefined;
      const video = app.querySelector('video');
      const overlayEl = app.querySelector<HTMLElement>('fw-overlay');
      const boxes = JSON.parse(overlayEl?.dataset.boxes ?? '[]') as { x: number; y: number; w: number; h: number }[];
      if (!video || !overlayEl || boxes.length === 0) return undefined;
      const v = video.getBoundingClientRect();
      const o = overlayEl.getBoundingClientRect();
      const canvas = overlayEl.shadowRoot!.querySelector('canvas')!;
      const ctx = canvas.getContext('2d')!;
      const dpr = canvas.width / o.width;
      const b = boxes[0]!;
      // The stroke runs along the box's left edge: sample it half-way down.
      const px = ctx.getImageData(Math.round(b.x * dpr), Math.round((b.y + b.h / 2) * dpr), 1, 1).data;
      return { video: { w: v.width, h: v.height, vw: video.videoWidth, vh: video.videoHeight }, overlay: { x: o.x - v.x, y: o.y - v.y, w: o.width, h: o.height }, boxes, px: [...px] };
    }, undefined, { timeout: 30_000, polling: 'raf' });
    const geometry = (await found.jsonValue())!;
    // Every box on screen is a tracked object with its identity.
    for (const b of geometry.boxes as { id?: number }[]) expect(Number.isInteger(b.id)).toBe(true);
    // The overlay covers the video element exactly...
    expect(geometry.overlay).toEqual({ x: 0, y: 0, w: geometry.video.w, h: geometry.video.h });
    // ...and every box lies inside the part of it where the picture is (object-fit: contain).
    const scale = Math.min(geometry.video.w / geometry.video.vw, geometry.video.h / geometry.video.vh);
    const left = (geometry.video.w - geometry.video.vw * scale) / 2;
    const top = (geometry.video.h - geometry.video.vh * scale) / 2;
    for (const b of geometry.boxes) {
      expect(b.x).toBeGreaterThanOrEqual(left - 1);
      expect(b.y).toBeGreaterThanOrEqual(top - 1);
      expect(b.x + b.w).toBeLessThanOrEqual(left + geometry.video.vw * scale + 1);
      expect(b.y + b.h).toBeLessThanOrEqual(top + geometry.video.vh * scale + 1);
    }
    // And the box is really drawn there (the stroke colour, #38bdf8).
    const stroke = [0x38, 0xbd, 0xf8];
    geometry.px.slice(0, 3).forEach((c, i) => expect(Math.abs(c - stroke[i]!)).toBeLessThanOrEqual(8));
  });
}
