import { expect, test } from '@playwright/test';

// Runs with Chromium's fake camera playing a slideshow of COCO photographs (see global-setup).
test('frames flow from the fake camera through both worker kinds to the dispatcher', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 20_000 });
  await expect.poll(async () => Number(await page.getByTestId('result-count').textContent()), { timeout: 20_000 }).toBeGreaterThan(30);

  const hud = page.locator('fw-hud');
  await expect(hud.getByTestId('worker-state-1')).toBeVisible();
  await expect(hud.getByTestId('worker-localization-1')).toBeVisible();
  await expect(hud.getByTestId('worker-localization-2')).toBeVisible();
  // Real camera frames reach the detector: the slideshow's objects are found as the slides change.
  const seen = new Set<string>();
  for (let i = 0; i < 40 && seen.size < 3; i++) {
    const text = (await page.getByTestId('last-result').textContent()) ?? '';
    for (const m of text.matchAll(/([a-z ]+) \d+%/g)) seen.add(m[1]!.trim());
    await page.waitForTimeout(250);
  }
  expect(seen.size).toBeGreaterThanOrEqual(3);
  // No real GPU here: auto picks WASM and says so.
  await expect(hud.getByTestId('provider-localization-1')).toHaveText('wasm');
  await expect(hud.getByTestId('provider-localization-1')).toHaveAttribute('title', /software fallback|no WebGPU/);
  const framesIn = Number(await hud.getByTestId('frames-in').textContent());
  expect(framesIn).toBeGreaterThan(30);

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
