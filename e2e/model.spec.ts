import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { openTools } from './fixtures/ui';

const count = async (page: Page) => Number(await page.getByTestId('result-count').textContent());

async function startDetecting(page: Page) {
  await page.goto('/');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });
  await expect(page.getByTestId('last-result')).toContainText('objects', { timeout: 30_000 });
}

async function loadFile(page: Page, name: string, buffer: Buffer, layout: 'yolox' | 'yolov8', size: number) {
  await openTools(page);
  await page.locator('fw-model-picker summary').click();
  await page.getByLabel('Output layout').selectOption(layout);
  await page.getByLabel('Input size (px)').fill(String(size));
  await page.getByLabel('Input size (px)').dispatchEvent('change');
  await page.getByLabel('ONNX file').setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
}

test('a file that is not ONNX gets a clear error and the running model keeps detecting', async ({ page }) => {
  await startDetecting(page);
  await loadFile(page, 'holiday.jpg', readFileSync('.assets/coco/000000000285.jpg'), 'yolov8', 640);
  await expect(page.getByTestId('error')).toContainText('The model "holiday.jpg" cannot be used: holiday.jpg is not an ONNX model');
  await expect(page.getByTestId('error')).toContainText('Still running YOLOX-Nano');
  const before = await count(page);
  await expect.poll(() => count(page), { timeout: 15_000 }).toBeGreaterThan(before + 5);
  await expect(page.getByTestId('model-name')).toHaveText('YOLOX-Nano (COCO, 416)');
});

test('a detector whose output does not fit the chosen layout is refused with the shapes named', async ({ page }) => {
  await startDetecting(page);
  await loadFile(page, 'mine.onnx', readFileSync('public/models/yolox_nano.onnx'), 'yolov8', 416);
  await expect(page.getByTestId('error')).toContainText('[1, 3549, 85], not the YOLOv8 layout [1, 84, N]', { timeout: 30_000 });
  const before = await count(page);
  await expect.poll(() => count(page), { timeout: 15_000 }).toBeGreaterThan(before + 5);
});

test('a detector of the wrong input size is refused', async ({ page }) => {
  await startDetecting(page);
  await loadFile(page, 'mine.onnx', readFileSync('public/models/yolox_nano.onnx'), 'yolox', 320);
  await expect(page.getByTestId('error')).toContainText('the model rejected a [1, 3, 320, 320] input', { timeout: 30_000 });
});

test('a person\'s own detector from a file takes over without stopping the camera', async ({ page }) => {
  await startDetecting(page);
  await loadFile(page, 'my-yolox.onnx', readFileSync('public/models/yolox_nano.onnx'), 'yolox', 416);
  await expect(page.getByTestId('model-name')).toHaveText('my-yolox.onnx', { timeout: 30_000 });
  await expect(page.locator('[data-testid="error"]')).toHaveCount(0);
  await expect(page.getByTestId('status')).toHaveText('running');
  const before = await count(page);
  await expect.poll(() => count(page), { timeout: 15_000 }).toBeGreaterThan(before + 5);
  await expect(page.getByTestId('last-result')).toContainText('objects');
});

test('model bytes are cached: with the model unreachable, detection still starts', async ({ page, context }) => {
  await startDetecting(page);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('status')).toHaveText('idle');
  let blocked = 0;
  await context.route('**/models/yolox_nano.onnx', (route) => {
    blocked++;
    return route.abort('internetdisconnected');
  });
  await page.reload();
  await startDetecting(page);
  expect(blocked).toBe(0); // never even asked: Cache Storage answered
});

test('with the model unreachable and nothing cached, starting says why', async ({ page, context }) => {
  await context.route('**/models/yolox_nano.onnx', (route) => route.abort('internetdisconnected'));
  await page.goto('/');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('error')).toContainText('the model could not be downloaded from', { timeout: 30_000 });
  await expect(page.getByTestId('status')).toHaveText('idle');
  await expect.poll(() => page.workers().length).toBe(0);
});
