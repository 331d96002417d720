import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import type { OutputDecoder } from '../src/model/manifest';
import { end2endModel } from './fixtures/onnx-builder';
import { openTools } from './fixtures/ui';

const count = async (page: Page) => Number(await page.getByTestId('result-count').textContent());

async function startDetecting(page: Page) {
  await page.goto('/');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });
  await expect(page.getByTestId('last-result')).toContainText('objects', { timeout: 30_000 });
}

async function loadFile(page: Page, name: string, buffer: Buffer | Uint8Array, layout: OutputDecoder, size: number) {
  await openTools(page);
  await page.locator('fw-model-picker summary').click();
  await page.getByLabel('Output layout').selectOption(layout);
  await page.getByLabel('Input size (px)').fill(String(size));
  await page.getByLabel('Input size (px)').dispatchEvent('change');
  await page.getByLabel('ONNX file').setInputFiles({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(buffer) });
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

test('an NMS-free end-to-end detector picked in the model menu takes over, its boxes shown as they come', async ({ page }) => {
  await startDetecting(page);
  // Known boxes whatever the camera shows: a dog and two overlapping cars (kept: the model did its own NMS), one under the threshold.
  const rows = [[64, 120, 384, 440, 0.9, 16], [100, 180, 200, 280, 0.875, 2], [104, 180, 204, 280, 0.8, 2], [10, 100, 20, 110, 0.2, 2]] as const;
  await loadFile(page, 'yolov10n.onnx', end2endModel(640, rows), 'end2end', 640);
  await expect(page.getByTestId('model-name')).toHaveText('yolov10n.onnx', { timeout: 30_000 });
  await expect(page.locator('[data-testid="error"]')).toHaveCount(0);
  await expect(page.getByTestId('last-result')).toContainText('3 objects (dog 90%, car 88%, car 80%)', { timeout: 15_000 });
});

test('a model whose output is not [1, N, 6] is refused for the end-to-end layout, with the shapes named', async ({ page }) => {
  await startDetecting(page);
  await loadFile(page, 'mine.onnx', readFileSync('public/models/yolox_nano.onnx'), 'end2end', 416);
  await expect(page.getByTestId('error')).toContainText('[1, 3549, 85], not the end-to-end layout [1, N, 6]', { timeout: 30_000 });
  await expect(page.getByTestId('status')).toHaveText('running');
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
