// The benchmark's native reference (bench/native.ts): its inputs follow the model's contract and its
// numbers hang together. Short on purpose: the timing itself is the benchmark's business.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { measureNative, nativeInputs, nativeInputsFromRgba } from '../bench/native';

const MODEL = 'public/models/yolox_nano.onnx';
const LANDSCAPE = '.assets/coco/000000000139.jpg'; // 640×426: the bottom rows are padding
const PORTRAIT = '.assets/coco/000000000285.jpg'; // 586×640: the right columns are padding
const SIZE = 416;
const PLANE = SIZE * SIZE;

// Provisioned by `node scripts/assets.mjs --if-needed`; without them there is nothing to measure.
const provisioned = [MODEL, LANDSCAPE, PORTRAIT].every((p) => existsSync(p));

describe.skipIf(!provisioned)('native benchmark', () => {
  it('builds the letterboxed BGR 0–255 input from real photographs', async () => {
    const [landscape, portrait] = await nativeInputs([LANDSCAPE, PORTRAIT]);
    for (const t of [landscape!, portrait!]) {
      expect(t.length).toBe(3 * PLANE);
      let min = Infinity;
      let max = -Infinity;
      for (const v of t) (min = Math.min(min, v)), (max = Math.max(max, v));
      expect(min).toBeGreaterThanOrEqual(0);
      expect(max).toBeLessThanOrEqual(255);
      // Raw levels, not normalised: a photograph spans most of the range.
      expect(max - min).toBeGreaterThan(100);
    }
    const at = (t: Float32Array, c: number, x: number, y: number) => t[c * PLANE + y * SIZE + x];
    for (let c = 0; c < 3; c++) {
      expect(at(landscape!, c, SIZE - 1, SIZE - 1)).toBe(114);
      expect(at(portrait!, c, SIZE - 1, SIZE - 1)).toBe(114);
    }
    // The image sits at the top-left: a landscape photo fills the top row to the right edge.
    expect([0, 1, 2].some((c) => at(landscape!, c, SIZE - 1, 0) !== 114)).toBe(true);
  });

  it('refuses pixels whose size does not match their dimensions', () => {
    expect(() => nativeInputsFromRgba([{ rgba: new Uint8Array(10), width: 2, height: 2 }])).toThrow(/2×2×4/);
  });

  it('measures onnxruntime-node one frame at a time for the requested time', async () => {
    const inputs = await nativeInputs([LANDSCAPE, PORTRAIT]);
    const durationMs = 1000;
    const r = await measureNative({ modelPath: MODEL, inputs, threads: 1, durationMs, warmupRuns: 1 });
    expect(r.threads).toBe(1);
    expect(r.ort_version).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.runs).toBeGreaterThanOrEqual(1);
    expect(r.inference_ms_p50).toBeGreaterThan(0);
    expect(r.inference_ms_p50).toBeLessThanOrEqual(r.inference_ms_p95);
    // fps is runs over the measured time, which is at least the requested time and holds the runs.
    const elapsedMs = (r.runs / r.fps) * 1000;
    expect(elapsedMs).toBeGreaterThanOrEqual(durationMs);
    expect(elapsedMs).toBeGreaterThanOrEqual(Math.floor(r.runs / 2) * r.inference_ms_p50);
    expect(elapsedMs).toBeLessThan(durationMs + 10 * r.inference_ms_p95 + 1000);
  }, 60_000);
});
