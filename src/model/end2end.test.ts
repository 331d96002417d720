import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { constantDetectorModel, end2endModel, INPUT_NAME, OUTPUT_NAME, type End2EndRow } from '../../e2e/fixtures/onnx-builder';
import { decode, end2endCandidates, nms, type Detection } from './decode';
import { letterbox, type Letterbox } from './letterbox';
import { checkOutputShape, end2endManifest, OUTPUT_DECODERS, yolov8Manifest } from './manifest';
import { assertLooksLikeOnnx } from './model-bytes';

const m = end2endManifest({ id: 'e2e', name: 'YOLOv10-style', size: 640 });

// An 800×600 frame in a 640 square, Ultralytics style (centred, round): scale 640/800 = 0.8,
// resized to 640×480, padded (640 − 480) / 2 = 80 px above and below.
const SRC_W = 800;
const SRC_H = 600;
const LB: Letterbox = { scale: 0.8, width: 640, height: 480, padX: 0, padY: 80, size: 640 };

/** The known rows every test below reads, in model-input pixels. */
const ROWS: readonly End2EndRow[] = [
  // A dog; its class arrives as a float a hair under 16, as a float tensor may carry it.
  [64, 120, 384, 440, 0.9, 15.9999],
  // A person reaching past the right edge and up into the top padding.
  [600, 40, 700, 200, 0.75, 0],
  // Below the default threshold (0.3).
  [10, 100, 20, 110, 0.25, 2],
];

/** ROWS in the 800×600 source, worked out by hand: x = (u − padX) / 0.8, y = (v − 80) / 0.8, clamped to the frame. */
const EXPECTED: readonly Detection[] = [
  // x 64/0.8 = 80, y (120−80)/0.8 = 50, x2 384/0.8 = 480, y2 (440−80)/0.8 = 450.
  { classId: 16, label: 'dog', score: Math.fround(0.9), x: 80, y: 50, w: 400, h: 400 },
  // x 600/0.8 = 750, x2 700/0.8 = 875 → 800; y (40−80)/0.8 = −50 → 0, y2 (200−80)/0.8 = 150.
  { classId: 0, label: 'person', score: Math.fround(0.75), x: 750, y: 0, w: 50, h: 150 },
];

const rows = (...r: readonly End2EndRow[]) => Float32Array.from(r.flat());

function expectDetections(got: readonly Detection[], want: readonly Detection[]) {
  expect(got.map((d) => [d.classId, d.label])).toEqual(want.map((d) => [d.classId, d.label]));
  got.forEach((d, i) => {
    const w = want[i]!;
    expect(Object.keys(d).sort()).toEqual(['classId', 'h', 'label', 'score', 'w', 'x', 'y']);
    for (const k of ['score', 'x', 'y', 'w', 'h'] as const) expect(d[k], `${d.label}.${k}`).toBeCloseTo(w[k], 4);
  });
}

describe('decode (end-to-end [1, N, 6])', () => {
  it('is one of the layouts a manifest can name', () => {
    expect(OUTPUT_DECODERS).toContain('end2end');
    expect(m.output.decoder).toBe('end2end');
    // The same preprocessing as the YOLOv8-style exports it comes from.
    expect(m.input).toEqual(yolov8Manifest({ id: 'v8', name: 'v8', size: 640 }).input);
  });

  it('maps known rows from the letterboxed input back to source pixels, clamped to the frame', () => {
    expect(letterbox(SRC_W, SRC_H, 640, m.input.placement, m.input.fit)).toEqual(LB);
    expectDetections(decode(m, rows(...ROWS), [1, ROWS.length, 6], LB, SRC_W, SRC_H), EXPECTED);
  });

  it('keeps rows at or above the threshold, the manifest\'s unless one is given', () => {
    const data = rows([0, 80, 8, 88, 0.5, 1], [0, 80, 8, 88, 0.25, 1]);
    expect(decode(m, data, [1, 2, 6], LB, SRC_W, SRC_H).map((d) => d.score)).toEqual([0.5]);
    expect(decode(m, data, [1, 2, 6], LB, SRC_W, SRC_H, 0.2).map((d) => d.score)).toEqual([0.5, 0.25]);
    expect(decode(m, data, [1, 2, 6], LB, SRC_W, SRC_H, 0.6)).toEqual([]);
    // At exactly the threshold a row is kept, as with the other layouts.
    expect(decode(m, data, [1, 2, 6], LB, SRC_W, SRC_H, 0.5).map((d) => d.score)).toEqual([0.5]);
  });

  it('runs no NMS: two heavily overlapping boxes of one class both stay, in the model\'s order', () => {
    const overlapping = rows([100, 180, 200, 280, 0.9, 2], [104, 180, 204, 280, 0.8, 2]);
    const candidates = end2endCandidates(m, overlapping, [1, 2, 6], 0.3);
    // Guard: NMS at the manifest's IoU would have merged them, so the test can tell.
    expect(nms(candidates, m.nmsIou)).toHaveLength(1);
    const got = decode(m, overlapping, [1, 2, 6], LB, SRC_W, SRC_H);
    expect(got.map((d) => [d.label, d.score, d.x])).toEqual([
      ['car', Math.fround(0.9), 125],
      ['car', Math.fround(0.8), 130],
    ]);
  });

  it('skips rows that cannot be boxes, and stops at the end of the data', () => {
    const good: End2EndRow = [64, 120, 384, 440, 0.9, 16];
    const bad: End2EndRow[] = [
      [NaN, 120, 384, 440, 0.9, 16],
      [64, 120, Infinity, 440, 0.9, 16],
      [64, 120, 384, -Infinity, 0.9, 16],
      [64, 120, 384, 440, NaN, 16],
      [64, 120, 384, 440, Infinity, 16],
      [64, 120, 384, 440, 0.9, 80], // COCO has 80 labels: 0–79
      [64, 120, 384, 440, 0.9, -1],
      [64, 120, 384, 440, 0.9, NaN],
      [384, 120, 64, 440, 0.9, 16], // x2 < x1
      [64, 440, 384, 120, 0.9, 16], // y2 < y1
    ];
    const data = rows(...bad, good);
    expectDetections(decode(m, data, [1, bad.length + 1, 6], LB, SRC_W, SRC_H), [EXPECTED[0]!]);
    // Dims that promise more rows than the data holds, or a partial row: no crash, no phantom box.
    expectDetections(decode(m, rows(good).subarray(0, 6), [1, 50, 6], LB, SRC_W, SRC_H), [EXPECTED[0]!]);
    expect(decode(m, new Float32Array(3), [1, 1, 6], LB, SRC_W, SRC_H)).toEqual([]);
  });

  it('names a class outside a short label list nowhere: it is skipped', () => {
    const two = end2endManifest({ id: 'two', name: 'two', labels: ['ripe', 'unripe'] });
    const got = decode(two, rows([64, 120, 384, 440, 0.9, 1], [64, 120, 384, 440, 0.9, 2]), [1, 2, 6], LB, SRC_W, SRC_H);
    expect(got.map((d) => d.label)).toEqual(['unripe']);
  });
});

describe('checkOutputShape (end-to-end)', () => {
  const sentence = (shape: string) => `the model's output is ${shape}, not the end-to-end layout [1, N, 6] (x1, y1, x2, y2, score, class)`;

  it('accepts [1, N, 6] for any N ≥ 1', () => {
    expect(checkOutputShape(m, [1, 300, 6])).toBeUndefined();
    expect(checkOutputShape(m, [1, 1, 6])).toBeUndefined();
  });

  it('names the shape it got and the layout it wanted for anything else', () => {
    expect(checkOutputShape(m, [1, 84, 8400])).toBe(sentence('[1, 84, 8400]'));
    expect(checkOutputShape(m, [1, 6, 300])).toBe(sentence('[1, 6, 300]'));
    expect(checkOutputShape(m, [1, 300, 7])).toBe(sentence('[1, 300, 7]'));
    expect(checkOutputShape(m, [1, 0, 6])).toBe(sentence('[1, 0, 6]'));
    expect(checkOutputShape(m, [2, 300, 6])).toBe(sentence('[2, 300, 6]'));
    expect(checkOutputShape(m, [300, 6])).toBe(sentence('[300, 6]'));
    expect(checkOutputShape(m, [1, 1, 300, 6])).toBe(sentence('[1, 1, 300, 6]'));
  });

  it('an end-to-end model loaded as YOLOv8-style is still refused, by the YOLOv8 sentence', () => {
    expect(checkOutputShape(yolov8Manifest({ id: 'v8', name: 'v8' }), [1, 300, 6])).toMatch(/not the YOLOv8 layout \[1, 84, N\]/);
  });
});

describe('a built ONNX end-to-end model, run by onnxruntime', () => {
  const S = 640;
  async function run(bytes: Uint8Array, fill: (i: number) => number) {
    const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
    try {
      expect([session.inputNames, session.outputNames]).toEqual([[INPUT_NAME], [OUTPUT_NAME]]);
      const input = Float32Array.from({ length: 3 * S * S }, (_, i) => fill(i));
      const out = (await session.run({ [INPUT_NAME]: new ort.Tensor('float32', input, [1, 3, S, S]) }))[OUTPUT_NAME]!;
      return { dims: [...out.dims], data: out.data as Float32Array };
    } finally {
      await session.release();
    }
  }

  it('looks like ONNX to the app (ModelProto starts with ir_version)', () => {
    expect(() => assertLooksLikeOnnx(end2endModel(S, ROWS).slice().buffer, 'built.onnx')).not.toThrow();
  });

  it('outputs exactly the known rows whatever the frame, and they decode to the known source boxes', async () => {
    const bytes = end2endModel(S, ROWS);
    const grey = await run(bytes, () => 114 / 255);
    const noise = await run(bytes, (i) => ((i * 2654435761) % 1000) / 999);
    expect(grey.dims).toEqual([1, ROWS.length, 6]);
    expect([...grey.data]).toEqual([...rows(...ROWS)]);
    expect([...noise.data]).toEqual([...grey.data]);
    expectDetections(decode(m, grey.data, grey.dims, LB, SRC_W, SRC_H), EXPECTED);
  });

  it('a wrong-shaped model runs, and the shape check names what is wrong', async () => {
    const transposed = await run(constantDetectorModel({ inputSize: S, outputDims: [1, 6, 3], values: new Array(18).fill(1) }), () => 0.5);
    expect(transposed.dims).toEqual([1, 6, 3]);
    expect(checkOutputShape(m, transposed.dims)).toBe("the model's output is [1, 6, 3], not the end-to-end layout [1, N, 6] (x1, y1, x2, y2, score, class)");
    const sevenColumns = await run(constantDetectorModel({ inputSize: S, outputDims: [1, 3, 7], values: new Array(21).fill(1) }), () => 0.5);
    expect(checkOutputShape(m, sevenColumns.dims)).toMatch(/^the model's output is \[1, 3, 7\], not the end-to-end layout/);
  });

  it('the builder refuses values that do not fill the shape', () => {
    expect(() => constantDetectorModel({ inputSize: S, outputDims: [1, 2, 6], values: [1, 2, 3] })).toThrow(/3 values for dims \[1, 2, 6\] \(12 expected\)/);
  });
});
