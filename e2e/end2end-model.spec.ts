// An NMS-free end-to-end detector (YOLOv10 / YOLO26 layout, [1, N, 6]) in the real browser:
// a model built by the test with known output boxes is handed to the pipeline as a person's
// own file is (bytes + manifest, input name left to the model), run on the WASM provider the
// app picks without a real GPU, and its detections are compared with boxes worked out by hand.
import { expect, test, type Page } from '@playwright/test';
import type { Detection } from '../src/model/decode';
import { end2endManifest, type ModelManifest } from '../src/model/manifest';
import { constantDetectorModel, end2endModel, type End2EndRow } from './fixtures/onnx-builder';
import { openHarness, type HarnessWindow } from './harness-types';

const INPUT = 640;
// Same as a user-loaded model: '' = the model's only input, whatever its name.
const manifest = end2endManifest({ id: 'user:yolov10-fixture.onnx', name: 'yolov10-fixture.onnx', size: INPUT, inputName: '' });

// In model-input pixels. An 800×600 frame lands in the 640 square at scale 0.8, 640×480, centred: 80 px padding above.
const ROWS: readonly End2EndRow[] = [
  [64, 120, 384, 440, 0.9, 16], // dog
  [600, 40, 700, 200, 0.75, 0], // person, past the right edge and into the top padding
  [100, 180, 200, 280, 0.875, 2], // car
  [104, 180, 204, 280, 0.8, 2], // car, IoU 0.92 with the one above: NMS would drop it, the model kept it
  [10, 100, 20, 110, 0.2, 2], // under the 0.3 threshold: not a detection
  [0, 0, 0, 0, 0, 0], // an unused slot, as YOLOv10 pads its 300 rows
];

// By hand: x = u / 0.8, y = (v − 80) / 0.8, clamped to 800×600.
const EXPECTED: readonly Pick<Detection, 'label' | 'x' | 'y' | 'w' | 'h'>[] = [
  { label: 'dog', x: 80, y: 50, w: 400, h: 400 },
  { label: 'person', x: 750, y: 0, w: 50, h: 150 }, // x2 875 → 800, y1 −50 → 0
  { label: 'car', x: 125, y: 125, w: 125, h: 125 },
  { label: 'car', x: 130, y: 125, w: 125, h: 125 },
];

/** Runs the real pipeline (worker, detector, decode) with `bytes` as the model over one 800×600 frame. */
function detectWith(page: Page, bytes: Uint8Array, m: ModelManifest) {
  return page.evaluate(
    async ([model, m]) => {
      const canvas = new OffscreenCanvas(800, 600);
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = '#6a8';
      ctx.fillRect(0, 0, 800, 600);
      const frame = URL.createObjectURL(await canvas.convertToBlob({ type: 'image/png' }));
      const source = { bytes: new Uint8Array(model).buffer, fileName: m.name };
      return (window as unknown as HarnessWindow).fw.detectImages([frame], 'wasm', 1, { model: { manifest: m, source }, captureModelInput: false });
    },
    [Array.from(bytes), m] as const,
  );
}

test('an end-to-end [1, N, 6] detector gives its boxes in source pixels, without NMS', async ({ page }) => {
  test.setTimeout(120_000);
  await openHarness(page);
  const run = await detectWith(page, end2endModel(INPUT, ROWS), manifest);
  expect(run.results).toHaveLength(1);
  const r = run.results[0]!;
  expect(r.error).toBeUndefined();
  expect([r.width, r.height, r.provider]).toEqual([800, 600, 'wasm']);
  expect(r.detections.map((d) => [d.label, d.score])).toEqual([
    ['dog', Math.fround(0.9)],
    ['person', Math.fround(0.75)],
    ['car', Math.fround(0.875)],
    ['car', Math.fround(0.8)],
  ]);
  r.detections.forEach((d, i) => {
    const e = EXPECTED[i]!;
    for (const k of ['x', 'y', 'w', 'h'] as const) expect(Math.abs(d[k] - e[k]), `${e.label} #${i} ${k}: ${d[k]} vs ${e[k]}`).toBeLessThanOrEqual(1);
  });
});

test('an output that is not [1, N, 6] is refused with the shape it has and the one it needs', async ({ page }) => {
  test.setTimeout(120_000);
  await openHarness(page);
  // A YOLOv8-style head for two classes ([1, 4 + 2, N]) mistaken for an end-to-end one.
  const transposed = constantDetectorModel({ inputSize: INPUT, outputDims: [1, 6, 3], values: new Array(18).fill(1) });
  await expect(detectWith(page, transposed, manifest)).rejects.toThrow("the model's output is [1, 6, 3], not the end-to-end layout [1, N, 6] (x1, y1, x2, y2, score, class)");
  const sevenColumns = constantDetectorModel({ inputSize: INPUT, outputDims: [1, 3, 7], values: new Array(21).fill(1) });
  await expect(detectWith(page, sevenColumns, manifest)).rejects.toThrow("the model's output is [1, 3, 7], not the end-to-end layout [1, N, 6]");
});
