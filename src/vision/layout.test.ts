import { describe, expect, it } from 'vitest';
import loaded2core from './fixtures/layout-2core-loaded.json';
import recorded2core from './fixtures/layout-2core.json';
import { calibrationFromUrl, ConfigError, defaultLayout, layoutFromUrl } from './config';
import { cancelledChoice, candidateLayouts, chooseLayout, layoutKey, layoutName, resolveLayout, threadBudget, type Layout, type LayoutKeyParts, type LayoutMeasurement } from './layout';

const CAMERA_30 = 1000 / 30;
const m = (pool: number, threads: number, fps: number, inferenceMs: number, latencyMs: number, extra: Partial<LayoutMeasurement> = {}): LayoutMeasurement => ({ pool, threads, fps, inferenceMs, latencyMs, frames: Math.round(fps * 1.5), ...extra });
const names = (ls: Layout[]) => ls.map((l) => `${l.pool}×${l.threads}`);
const TODAY_2CORE = defaultLayout(2);

describe('candidate layouts', () => {
  it('WASM: pool × threads within the cores less the reserve, at least half of them used', () => {
    expect(names(candidateLayouts(1, 'wasm'))).toEqual(['1×1']);
    expect(names(candidateLayouts(2, 'wasm'))).toEqual(['1×1', '1×2', '2×1']);
    // Four cores and up leave one to the main thread and the state worker.
    expect(threadBudget(4)).toBe(3);
    expect(names(candidateLayouts(4, 'wasm'))).toEqual(['1×2', '1×3', '2×1', '3×1']);
    expect(threadBudget(8)).toBe(7);
    expect(names(candidateLayouts(8, 'wasm'))).toEqual(['1×4', '1×7', '2×2', '3×2', '4×1']);
    expect(threadBudget(16)).toBe(14);
    expect(names(candidateLayouts(16, 'wasm'))).toEqual(['1×8', '1×14', '2×4', '3×4', '4×2']);
  });

  it('never more threads than the budget, never more than 6 layouts, whatever the cores', () => {
    for (let cores = 1; cores <= 64; cores++) {
      const ls = candidateLayouts(cores, 'wasm');
      expect(ls.length).toBeGreaterThan(0);
      expect(ls.length).toBeLessThanOrEqual(6);
      for (const l of ls) expect(l.pool * l.threads).toBeLessThanOrEqual(threadBudget(cores));
    }
    expect(names(candidateLayouts(0, 'wasm'))).toEqual(['1×1']); // hardwareConcurrency unknown
  });

  it('WebGPU: one worker against two, whatever the cores', () => {
    expect(names(candidateLayouts(2, 'webgpu'))).toEqual(['1×1', '2×1']);
    expect(names(candidateLayouts(16, 'webgpu'))).toEqual(['1×1', '2×1']);
  });

  it("today's default on two cores is 2 workers × 1 thread", () => {
    expect(TODAY_2CORE).toEqual({ pool: 2, threads: 1 });
    expect(layoutName(TODAY_2CORE)).toBe('2 workers × 1 thread');
  });
});

describe('chooseLayout on recorded measurements', () => {
  it('2 cores, recorded here: two single-thread workers give twice the frames and no frame waits a frame interval for a worker, so they win', () => {
    const ms = recorded2core.measurements as LayoutMeasurement[];
    const choice = chooseLayout(ms, recorded2core.frameIntervalMs, TODAY_2CORE);
    expect(choice.outcome).toBe('calibrated');
    expect(choice.layout).toEqual({ pool: 2, threads: 1 });
    expect(choice.reason).toBe('2 workers × 1 thread: 20 fps, latency 102 ms ≤ processing 79 + 33 ms; 1 worker × 1 thread gave 10.7 fps; 1 worker × 2 threads gave 10 fps.');
    // At a 60 fps camera's interval every layout's frames wait longer than that: the lowest latency wins, and the reason says so.
    const fast = chooseLayout(ms, 1000 / 60, TODAY_2CORE);
    expect(fast.layout).toEqual({ pool: 1, threads: 2 });
    expect(fast.reason).toMatch(/^1 worker × 2 threads: 10 fps, latency 90 ms, the lowest; no layout kept within its processing \+ 17 ms; /);
    expect(fast.reason).toContain('2 workers × 1 thread gave 20 fps but 102 ms latency > processing 79 + 17 ms');
  });

  it('2 cores, recorded here under load: no layout kept within its bound, so the lowest latency wins, and the reason says so', () => {
    const ms = loaded2core.measurements as LayoutMeasurement[];
    const choice = chooseLayout(ms, loaded2core.frameIntervalMs, TODAY_2CORE);
    expect(choice.layout).toEqual({ pool: 1, threads: 1 });
    expect(choice.reason).toMatch(/^1 worker × 1 thread: 7\.9 fps, latency 124 ms, the lowest; no layout kept within its processing \+ 33 ms/);
    expect(choice.reason).toContain('2 workers × 1 thread gave 6.7 fps but 244 ms latency > processing 168 + 33 ms');
  });

  it('2 cores, quiet (the README\'s model-alone figures: 71 ms at 1 thread, 53 ms at 2): one worker with both threads is as fast as two single-thread workers (within 5%), with less latency', () => {
    const choice = chooseLayout([m(1, 1, 13.1, 71, 96), m(1, 2, 17.6, 53, 79), m(2, 1, 18.2, 104, 128)], CAMERA_30, TODAY_2CORE);
    expect(choice.outcome).toBe('calibrated');
    expect(choice.layout).toEqual({ pool: 1, threads: 2 });
    expect(choice.reason).toBe('1 worker × 2 threads: 17.6 fps, latency 79 ms ≤ processing 53 + 33 ms; 1 worker × 1 thread gave 13.1 fps; 2 workers × 1 thread gave 18.2 fps (as fast, within 5%) at 128 ms.');
  });

  it('8 cores at a 30 fps camera: every layout keeps up, so the lowest latency among the fastest wins', () => {
    const ms = [m(1, 4, 29.5, 28, 46), m(1, 7, 29.6, 22, 40), m(2, 2, 29.8, 45, 62), m(3, 2, 29.9, 52, 70), m(4, 1, 29.9, 80, 101)];
    const choice = chooseLayout(ms, CAMERA_30, defaultLayout(8));
    expect(choice.layout).toEqual({ pool: 1, threads: 7 });
    expect(choice.reason).toContain('1 worker × 4 threads gave 29.5 fps (as fast, within 5%) at 46 ms');
    expect(choice.reason).toContain('4 workers × 1 thread gave 29.9 fps (as fast, within 5%) at 101 ms');
  });

  it('16 cores, a heavier model: two workers give the most frames within the latency bound; with three and four, frames queue for a worker', () => {
    const ms = [m(1, 8, 15.1, 65, 82), m(1, 14, 16.4, 60, 76), m(2, 4, 26.0, 75, 89), m(3, 4, 29.5, 95, 140), m(4, 2, 29.8, 120, 170)];
    const choice = chooseLayout(ms, CAMERA_30, defaultLayout(16));
    expect(choice.layout).toEqual({ pool: 2, threads: 4 });
    expect(choice.reason).toMatch(/^2 workers × 4 threads: 26 fps, latency 89 ms ≤ processing 75 \+ 33 ms;/);
    expect(choice.reason).toContain('3 workers × 4 threads gave 29.5 fps but 140 ms latency > processing 95 + 33 ms');
    expect(choice.reason).toContain('4 workers × 2 threads gave 29.8 fps but 170 ms latency > processing 120 + 33 ms');
  });

  it('WebGPU: a second worker only queues on the one GPU, so one worker wins', () => {
    const choice = chooseLayout([m(1, 1, 29.7, 12, 30, { provider: 'webgpu' }), m(2, 1, 29.9, 23, 41, { provider: 'webgpu' })], CAMERA_30, TODAY_2CORE);
    expect(choice.layout).toEqual({ pool: 1, threads: 1 });
    expect(choice.reason).toContain('2 workers × 1 thread gave 29.9 fps (as fast, within 5%) at 41 ms');
  });

  it('WebGPU on a GPU with room for two: the second worker wins when it adds frames within the bound', () => {
    const choice = chooseLayout([m(1, 1, 14, 60, 85), m(2, 1, 24, 70, 90)], CAMERA_30, TODAY_2CORE);
    expect(choice.layout).toEqual({ pool: 2, threads: 1 });
  });
});

describe('chooseLayout: ties, failures, nothing measured', () => {
  it('a tie in fps and latency goes to the fewest threads, then the fewest workers', () => {
    expect(chooseLayout([m(1, 2, 20, 50, 80), m(1, 1, 20, 50, 80)], CAMERA_30, TODAY_2CORE).layout).toEqual({ pool: 1, threads: 1 });
    expect(chooseLayout([m(2, 1, 20, 50, 80), m(1, 2, 20, 50, 80)], CAMERA_30, TODAY_2CORE).layout).toEqual({ pool: 1, threads: 2 });
  });

  it('within 5% the lower latency wins; beyond it the faster', () => {
    expect(chooseLayout([m(1, 2, 19.1, 53, 70), m(2, 1, 20, 60, 80)], CAMERA_30, TODAY_2CORE).layout).toEqual({ pool: 1, threads: 2 });
    expect(chooseLayout([m(1, 2, 18.9, 53, 70), m(2, 1, 20, 60, 80)], CAMERA_30, TODAY_2CORE).layout).toEqual({ pool: 2, threads: 1 });
  });

  it('the latency bound is exact: at the bound passes, just over fails', () => {
    expect(chooseLayout([m(1, 2, 15, 50, 83), m(2, 1, 20, 50, 83)], 33, TODAY_2CORE).layout).toEqual({ pool: 2, threads: 1 });
    expect(chooseLayout([m(1, 2, 15, 50, 83), m(2, 1, 20, 50, 83.1)], 33, TODAY_2CORE).layout).toEqual({ pool: 1, threads: 2 });
  });

  it("the bound is the worker's whole time per frame (preprocess, model, decode) where it was measured, else the inference", () => {
    // Two workers: 20 fps, inference 80 ms but 95 ms in the worker in all, 125 ms capture → result: no frame waited a frame interval.
    const two = m(2, 1, 20, 80, 125, { processMs: 95 });
    const one = m(1, 2, 15, 50, 80, { processMs: 62 });
    const choice = chooseLayout([one, two], CAMERA_30, TODAY_2CORE);
    expect(choice.layout).toEqual({ pool: 2, threads: 1 });
    expect(choice.reason).toBe('2 workers × 1 thread: 20 fps, latency 125 ms ≤ processing 95 + 33 ms; 1 worker × 2 threads gave 15 fps.');
    // Without the worker's time (a record kept before it was measured) the inference stands for it, and the same two workers queue.
    const { processMs: _, ...old } = two;
    expect(chooseLayout([one, old], CAMERA_30, TODAY_2CORE).layout).toEqual({ pool: 1, threads: 2 });
  });

  it('a layout that failed, or gave no frame, is never chosen, and the reason names it', () => {
    const choice = chooseLayout([m(1, 2, 0, NaN, NaN, { frames: 0, error: 'out of memory' }), m(2, 1, 12, 100, 120), m(1, 1, 0, NaN, NaN, { frames: 0 })], CAMERA_30, TODAY_2CORE);
    expect(choice.layout).toEqual({ pool: 2, threads: 1 });
    expect(choice.reason).toContain('1 worker × 2 threads failed (out of memory)');
    expect(choice.reason).toContain('1 worker × 1 thread failed (no frame came back)');
  });

  it('nothing measured, or nothing that ran: the default is kept, and the reason says why', () => {
    expect(chooseLayout([], CAMERA_30, TODAY_2CORE)).toEqual({ layout: TODAY_2CORE, outcome: 'failed', reason: 'Calibration failed (nothing was measured): keeping 2 workers × 1 thread, the default.' });
    const all = chooseLayout([m(1, 1, 0, NaN, NaN, { frames: 0, error: 'the model could not be loaded' })], CAMERA_30, TODAY_2CORE);
    expect(all.layout).toEqual(TODAY_2CORE);
    expect(all.outcome).toBe('failed');
    expect(all.reason).toBe('Calibration failed (no layout could be measured: 1 worker × 1 thread failed (the model could not be loaded)): keeping 2 workers × 1 thread, the default.');
  });

  it("a re-calibration that fails keeps the previous calibration's choice, and says so", () => {
    expect(chooseLayout([], CAMERA_30, { pool: 1, threads: 2 }, "the previous calibration's choice").reason).toBe("Calibration failed (nothing was measured): keeping 1 worker × 2 threads, the previous calibration's choice.");
  });

  it('cancelled: the previous calibration\'s layout stays, else the default, and it says which', () => {
    expect(cancelledChoice(undefined, TODAY_2CORE)).toEqual({ layout: TODAY_2CORE, outcome: 'cancelled', reason: 'Calibration cancelled: keeping 2 workers × 1 thread, the default.' });
    const previous = chooseLayout([m(1, 2, 17.6, 53, 79)], CAMERA_30, TODAY_2CORE);
    expect(cancelledChoice(previous, TODAY_2CORE)).toEqual({ layout: { pool: 1, threads: 2 }, outcome: 'cancelled', reason: "Calibration cancelled: keeping 1 worker × 2 threads, the previous calibration's choice." });
    // A previous run that was itself cancelled or failed is no calibration to keep.
    expect(cancelledChoice(cancelledChoice(undefined, TODAY_2CORE), TODAY_2CORE).layout).toEqual(TODAY_2CORE);
  });
});

describe('what a calibration is kept by, and which layout applies', () => {
  const parts: LayoutKeyParts = { model: { id: 'yolox-nano', name: 'YOLOX-Nano (COCO, 416)', bytes: 3660092, sha256: '695e75' }, browser: 'Chrome/156.0.7000.1', cores: 2, provider: 'auto' };
  it('another model (bytes), browser version, core count or provider is another key', () => {
    const k = layoutKey(parts);
    expect(layoutKey({ ...parts })).toBe(k);
    expect(layoutKey({ ...parts, model: { ...parts.model, sha256: '000000' } })).not.toBe(k);
    expect(layoutKey({ ...parts, model: { ...parts.model, bytes: 1 } })).not.toBe(k);
    expect(layoutKey({ ...parts, browser: 'Chrome/157.0.7010.0' })).not.toBe(k);
    expect(layoutKey({ ...parts, cores: 4 })).not.toBe(k);
    expect(layoutKey({ ...parts, provider: 'wasm' })).not.toBe(k);
  });

  it('the page address beats Settings, which beats the calibration, which beats the default', () => {
    const fallback = TODAY_2CORE;
    const calibrated = { pool: 1, threads: 2 };
    expect(resolveLayout({ fallback })).toEqual({ layout: fallback, source: 'default' });
    expect(resolveLayout({ fallback, calibrated })).toEqual({ layout: calibrated, source: 'calibrated' });
    expect(resolveLayout({ fallback, calibrated, manual: { pool: 3, threads: 0 } })).toEqual({ layout: { pool: 3, threads: 0 }, source: 'manual' });
    expect(resolveLayout({ fallback, calibrated, manual: { pool: 3, threads: 0 }, url: { pool: 1 } })).toEqual({ layout: { pool: 1, threads: 0 }, source: 'url' });
    expect(resolveLayout({ fallback, calibrated, url: {} })).toEqual({ layout: calibrated, source: 'calibrated' });
  });

  it('the URL: ?calibrate= auto or off (off by default under automation), ?pool= and ?threads=', () => {
    expect(calibrationFromUrl('', false)).toBe('auto');
    expect(calibrationFromUrl('', true)).toBe('off');
    expect(calibrationFromUrl('?calibrate=auto', true)).toBe('auto');
    expect(calibrationFromUrl('?calibrate=off', false)).toBe('off');
    expect(() => calibrationFromUrl('?calibrate=yes', false)).toThrow(ConfigError);
    expect(layoutFromUrl('?pool=1&threads=2')).toEqual({ pool: 1, threads: 2 });
    expect(layoutFromUrl('?score=0.5')).toEqual({});
  });
});
