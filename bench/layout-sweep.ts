// The layout sweep (issue 23): pool × threads per worker → fps, capture → drawn latency and
// efficiency, on the memory source at the camera's rate, with the app's own calibration run first
// and its choice marked. Called by bench/run.ts (`npm run bench -- --only layout` runs it alone).
import { chooseLayout, layoutName, type Layout, type LayoutChoice, type LayoutMeasurement } from '../src/vision/layout';
import type { PipelineRun } from './page';

export interface Calibration {
  readonly cores: number;
  readonly provider: 'wasm' | 'webgpu';
  readonly frameIntervalMs: number;
  readonly layouts: Layout[];
  readonly measurements: LayoutMeasurement[];
  readonly choice: LayoutChoice;
  readonly fallback: Layout;
  readonly seconds: number;
  readonly browser: string;
}

type Raw = { inference_ms_p50: number; raw_fps: number };
type Call = <T>(fn: 'raw' | 'pipelineRun' | 'calibrate', ...a: unknown[]) => Promise<T>;

export interface SweepRow {
  readonly layout: Layout;
  readonly fps: { median: number; min: number; max: number };
  readonly input_fps: number;
  readonly latency_ms_p50: { median: number; min: number; max: number };
  readonly inference_ms_p50: number;
  /** The worker's whole time per frame p50 (preprocess, model, decode). */
  readonly process_ms_p50: number;
  /** The model alone at this thread count, one worker, just before each run: its rate and inference p50. */
  readonly alone_fps: number;
  readonly alone_inference_ms_p50: number;
  /** What the model allows at this layout: pool × the model-alone rate, capped by the cores (cores / threads workers at most). */
  readonly model_limit_fps: number;
  /** fps / min(input fps, model limit). */
  readonly efficiency: number;
  /** Capture → drawn p50 ≤ this layout's processing p50 + one frame interval (no frame waited longer than a frame for a worker). */
  readonly within_latency: boolean;
  /** That bound, in ms. */
  readonly latency_bound_ms: number;
  readonly calibrated: boolean;
  readonly today_default: boolean;
  readonly leaked_frames: number;
}

export interface SweepResult {
  readonly calibration: Calibration;
  readonly rows: SweepRow[];
  /** One frame interval at the camera's rate: what each layout's bound adds to its inference. */
  readonly frame_interval_ms: number;
  /** chooseLayout on the sweep's own (longer) figures: agrees with the calibration or not. */
  readonly sweep_choice: LayoutChoice;
  readonly duration_s: number;
  readonly repeats: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = (s.length - 1) / 2;
  return (s[Math.floor(m)]! + s[Math.ceil(m)]!) / 2;
};
const r = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const spread = (xs: number[], d = 1) => ({ median: r(median(xs), d), min: r(Math.min(...xs), d), max: r(Math.max(...xs), d) });
const same = (a: Layout, b: Layout) => a.pool === b.pool && a.threads === b.threads;

export async function runLayoutSweep(
  call: Call,
  o: { provider: string; durationMs: number; warmupMs: number; repeats: number; cameraFps: number; step: (s: string) => void },
): Promise<SweepResult> {
  o.step('layout: the app\'s calibration, as a first start runs it');
  const calibration = await call<Calibration>('calibrate', o.provider);
  const layouts = [...calibration.layouts];
  if (!layouts.some((l) => same(l, calibration.fallback))) layouts.push(calibration.fallback);
  const rows: SweepRow[] = [];
  const interval = 1000 / o.cameraFps;
  const PAIRED_MS = 3000;
  for (const layout of layouts) {
    const runs: PipelineRun[] = [];
    const alone: Raw[] = [];
    for (let i = 1; i <= o.repeats; i++) {
      // The model alone just before each run (one worker, the layout's threads): its limit in that moment's conditions.
      o.step(`layout: the model alone, one worker, ${layout.threads} thread${layout.threads > 1 ? 's' : ''}, for ${PAIRED_MS / 1000} s, then memory · ${layoutName(layout)} at ${o.cameraFps} fps for ${o.durationMs / 1000} s (run ${i} of ${o.repeats})`);
      alone.push(await call<Raw>('raw', PAIRED_MS, o.provider, layout.threads));
      runs.push(await call<PipelineRun>('pipelineRun', { poolSize: layout.pool, threads: layout.threads, source: 'memory', memoryFps: o.cameraFps, durationMs: o.durationMs, warmupMs: o.warmupMs, provider: o.provider, localization: { policy: 'latest-only', capacity: 1 } }));
    }
    const limits = alone.map((a) => a.raw_fps * Math.min(layout.pool, calibration.cores / layout.threads));
    const fps = spread(runs.map((x) => x.fps), 2);
    rows.push({
      layout,
      fps,
      input_fps: r(median(runs.map((x) => x.input_fps)), 2),
      latency_ms_p50: spread(runs.map((x) => x.latency_ms_p50)),
      inference_ms_p50: r(median(runs.map((x) => x.inference_ms_p50))),
      process_ms_p50: r(median(runs.map((x) => x.process_ms_p50))),
      alone_fps: r(median(alone.map((a) => a.raw_fps)), 2),
      alone_inference_ms_p50: r(median(alone.map((a) => a.inference_ms_p50))),
      model_limit_fps: r(median(limits), 2),
      efficiency: r(median(runs.map((x, i) => x.fps / Math.min(x.input_fps, limits[i]!))), 3),
      within_latency: false,
      latency_bound_ms: 0,
      calibrated: same(layout, calibration.choice.layout),
      today_default: same(layout, calibration.fallback),
      leaked_frames: Math.max(...runs.map((x) => x.leaked_frames)),
    });
  }
  // The bound as the calibration draws it: each layout's own inference in the pipeline + one frame interval.
  for (const [i, x] of rows.entries()) {
    const bound = x.process_ms_p50 + interval;
    rows[i] = { ...x, within_latency: x.latency_ms_p50.median <= bound, latency_bound_ms: r(bound) };
  }
  const sweepMeasurements: LayoutMeasurement[] = rows.map((x) => ({ ...x.layout, fps: x.fps.median, inferenceMs: x.inference_ms_p50, processMs: x.process_ms_p50, latencyMs: x.latency_ms_p50.median, frames: 1 }));
  return {
    calibration,
    rows,
    frame_interval_ms: r(interval),
    sweep_choice: chooseLayout(sweepMeasurements, 1000 / o.cameraFps, calibration.fallback),
    duration_s: o.durationMs / 1000,
    repeats: o.repeats,
  };
}

export function printLayoutSweep(s: SweepResult, log: (line: string) => void = console.log): void {
  const c = s.calibration;
  log(`\nLayout sweep (${c.provider}, ${c.cores} cores): memory source at the camera's rate, latest-only; median (min–max) of ${s.repeats} runs of ${s.duration_s} s`);
  log(`  latency bound (as the calibration draws it): each layout's processing p50 (preprocess, model, decode) + one frame interval (${s.frame_interval_ms} ms)`);
  const cols = ['layout', 'fps', 'capture→drawn p50 (ms)', 'inference p50 (ms)', 'processing p50 (ms)', 'alone (ms)', 'model limit', 'efficiency', 'within bound', ''];
  const table = s.rows.map((x) => [
    `${x.layout.pool} × ${x.layout.threads}`,
    `${x.fps.median} (${x.fps.min}–${x.fps.max})`,
    `${x.latency_ms_p50.median} (${x.latency_ms_p50.min}–${x.latency_ms_p50.max})`,
    String(x.inference_ms_p50),
    String(x.process_ms_p50),
    String(x.alone_inference_ms_p50),
    String(x.model_limit_fps),
    String(x.efficiency),
    `${x.within_latency ? 'yes' : 'no'} (≤ ${x.latency_bound_ms})`,
    [x.calibrated ? '◀ calibrated' : '', x.today_default ? '(the old default)' : ''].filter(Boolean).join(' '),
  ]);
  const w = cols.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  log('  ' + cols.map((h, i) => h.padEnd(w[i]!)).join('  '));
  for (const row of table) log('  ' + row.map((v, i) => v.padEnd(w[i]!)).join('  '));
  log(`  The app's calibration (${r(c.seconds)} s, ${c.layouts.length} layouts):`);
  for (const m of c.measurements) log(`    ${layoutName(m)}: ${r(m.fps)} fps, inference p50 ${r(m.inferenceMs)} ms, capture→result p50 ${r(m.latencyMs)} ms, ${m.frames} frames, workers started in ${m.startMs ?? "?"} ms${m.error ? `, failed: ${m.error}` : ''}`);
  log(`    chose ${c.choice.reason}`);
  log(`  chooseLayout on the sweep's own figures: ${layoutName(s.sweep_choice.layout)}${same(s.sweep_choice.layout, c.choice.layout) ? ' (agrees)' : ' (DISAGREES with the calibration)'}`);
}
