// npm run bench: the pipeline against the model's own limit (in the browser and native, same run),
// with a source that costs nothing and with the fake camera, each phase repeated; and the naive
// main-thread loop. One headless Chromium, the same frames and model. Prints a table and writes bench/results.json.
import { chromium } from '@playwright/test';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createServer } from 'vite';
import { chromiumArgs, chromiumPath } from '../e2e/browser';
import globalSetup from '../e2e/fixtures/global-setup';
import { COCO_DIR, FAKE_CAMERA_SLIDES, FAKE_CAMERA_Y4M } from '../e2e/fixtures/paths';
import { latencyOverHoldP50, prepareRealVideoClips, REAL_CLIPS, runClip as runRealClip, tableLine, TARGETS as REAL_TARGETS, unavailable, type ClipResult as RealClipResult } from '../e2e/real-video';
import { PROVIDER_PREFERENCES } from '../src/model/provider';
import type { DropPolicy } from '@framewise/pipeline';
import { measureNative, nativeInputs, type NativeRun } from './native';
import type { PipelineRun } from './page';
import { printLayoutSweep, runLayoutSweep, type Calibration, type SweepResult } from './layout-sweep';

/** Efficiency target: fps / min(input fps, what the model allows), on the median of the repeats. */
const EFFICIENCY_TARGET = 0.9;

/** Median with interpolation between the middle two: repeats are few. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = (s.length - 1) / 2;
  return (s[Math.floor(m)]! + s[Math.ceil(m)]!) / 2;
}

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    repeats: { type: 'string', default: '3' },
    soak: { type: 'string', default: '300' },
    pools: { type: 'string', default: '1,2' },
    provider: { type: 'string', default: 'wasm' },
    'no-tracking': { type: 'boolean', default: false },
    'no-real-video': { type: 'boolean', default: false },
    'no-native': { type: 'boolean', default: false },
    'no-layout': { type: 'boolean', default: false },
    /** `layout`: only the layout sweep (and the app's calibration), written to --out (default bench/layout-results.json). */
    only: { type: 'string' },
    'layout-duration': { type: 'string', default: '6' },
    'layout-repeats': { type: 'string', default: '2' },
    out: { type: 'string' },
  },
});
const seconds = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number of seconds, got "${v}"`);
  return n * 1000;
};
const durationMs = seconds('duration', args.duration!);
const warmupMs = seconds('warmup', args.warmup!);
const soakMs = seconds('soak', args.soak!);
const repeats = Number(args.repeats);
const pools = args.pools!.split(',').map(Number);
const provider = args.provider!;
if (!(PROVIDER_PREFERENCES as readonly string[]).includes(provider)) throw new Error(`--provider must be one of ${PROVIDER_PREFERENCES.join(', ')}, got "${provider}"`);
if (pools.some((n) => !Number.isInteger(n) || n < 1 || n > 16)) throw new Error(`--pools must list pool sizes from 1 to 16, got "${args.pools}"`);
if (!Number.isInteger(repeats) || repeats < 1 || repeats > 20) throw new Error(`--repeats must be a whole number from 1 to 20, got "${args.repeats}"`);
if (args.only !== undefined && args.only !== 'layout' && args.only !== 'calibration') throw new Error(`--only takes "layout" or "calibration", got "${args.only}"`);
const onlyLayout = args.only === 'layout';
/** Only the app's calibration, as a first start runs it: for a quick look, or to record a test fixture (src/vision/fixtures/). */
const onlyCalibration = args.only === 'calibration';
const layoutDurationMs = seconds('layout-duration', args['layout-duration']!);
const layoutRepeats = Number(args['layout-repeats']);
if (!Number.isInteger(layoutRepeats) || layoutRepeats < 1 || layoutRepeats > 20) throw new Error(`--layout-repeats must be a whole number from 1 to 20, got "${args['layout-repeats']}"`);
const outPath = args.out ?? (onlyLayout ? 'bench/layout-results.json' : onlyCalibration ? 'bench/calibration-results.json' : 'bench/results.json');

const SEED_QUEUE = { policy: 'drop-new', capacity: 5 } as const;
const queueName = (q: { policy: string; capacity: number }) => `${q.policy} ${q.capacity}`;
/** The fake camera's rate (e2e/fixtures/global-setup.ts); the memory source offers the same. */
const CAMERA_FPS = 30;
/** How long the model runs alone before each pipeline run, to measure its limit in that moment's conditions. */
const PAIRED_RAW_MS = 4000;

if (!existsSync('public/models/yolox_nano.onnx')) throw new Error('the model is missing: run npm run assets');
if (!existsSync(FAKE_CAMERA_Y4M)) await globalSetup();

const loadBefore = loadavg();
const vite = await createServer({ server: { port: 0, host: 'localhost' }, logLevel: 'error' });
await vite.listen();
const base = vite.resolvedUrls!.local[0]!;
const browser = await chromium.launch({
  executablePath: chromiumPath(),
  args: chromiumArgs(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${FAKE_CAMERA_Y4M}`, '--js-flags=--expose-gc', '--enable-precise-memory-info']),
});
const page = await browser.newPage({ viewport: { width: 640, height: 480 } });
page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
page.on('console', (m) => (m.type() === 'error' || process.env.BENCH_DEBUG) && console.error(`[console] ${m.text()}`));
page.on('response', (res) => res.status() >= 400 && console.error(`[http ${res.status()}] ${res.url()}`));
await page.goto(`${base}bench/bench.html`);
await page.waitForSelector('body[data-ready="true"]');
type Bench = { raw: Function; pipelineRun: Function; baseline: Function; cameraAlone: Function; calibrate: Function };
const call = <T>(fn: keyof Bench, ...a: unknown[]): Promise<T> =>
  page.evaluate(([f, list]) => ((window as unknown as { bench: Record<string, (...x: unknown[]) => unknown> }).bench[f as string]!(...(list as unknown[])) as Promise<T>), [fn, a] as const) as Promise<T>;
const step = (s: string) => console.error(`bench: ${s}…`);

const env = await page.evaluate(() => ({ cores: navigator.hardwareConcurrency, isolated: self.crossOriginIsolated, ua: navigator.userAgent }));
if (!env.isolated) throw new Error('the bench page is not cross-origin isolated: WASM threads would be off');
// The app's defaults, as the page sees them (its configuration reads Vite's environment).
const defaults = await page.evaluate((ps) => (window as unknown as { bench: { defaults: (p: number[]) => { queue: { policy: DropPolicy; capacity: number }; pool: number; threads: Record<number, number> } } }).bench.defaults(ps), pools);
/** The queue policies measured: the default, and the seed design's drop-new queue of 5 beside it. */
const DEFAULT_QUEUE = defaults.queue;
/** What each localization worker gets in the pipeline (threadsFor): the raw phase at the same count is its limit. */
const threadsIn = (pool: number) => defaults.threads[pool]!;
const threadCounts = [...new Set([1, 2, ...pools.map(threadsIn)])].sort();

if (onlyCalibration) {
  step(`the app's calibration (${provider}), as a first start runs it`);
  const c = await call<Calibration>('calibrate', provider);
  await browser.close();
  await vite.close();
  const ua = env.ua.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? env.ua;
  writeFileSync(outPath, JSON.stringify({ recorded: new Date().toISOString(), how: 'npm run bench -- --only calibration', load_average_before: loadBefore.map((x) => Math.round(x * 100) / 100), load_average_after: loadavg().map((x) => Math.round(x * 100) / 100), ...c, browser: ua, user_agent: c.browser }, null, 2));
  console.log(`\nThe app's calibration — ${ua}, ${c.cores} cores, ${c.provider}, load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')} → ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${c.seconds.toFixed(1)} s`);
  for (const m of c.measurements) console.log(`  ${m.pool} × ${m.threads}: ${m.fps.toFixed(1)} fps, inference p50 ${m.inferenceMs.toFixed(1)} ms, capture→result p50 ${m.latencyMs.toFixed(1)} ms, ${m.frames} frames, workers started in ${m.startMs} ms${m.error ? `, failed: ${m.error}` : ''}`);
  console.log(`  chose ${c.choice.reason}\n\nwritten to ${outPath}`);
  process.exit(0);
}

// The layout sweep (pool × threads), with the app's calibration run first: alone with --only layout, else first of all.
let layoutSweep: SweepResult | undefined;
if (!args['no-layout'] || onlyLayout) {
  layoutSweep = await runLayoutSweep(call, { provider, durationMs: layoutDurationMs, warmupMs: Math.min(warmupMs, 2000), repeats: layoutRepeats, cameraFps: CAMERA_FPS, step });
}
if (onlyLayout) {
  await browser.close();
  await vite.close();
  const loadAfter = loadavg();
  writeFileSync(outPath, JSON.stringify({ date: new Date().toISOString(), browser: env.ua.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? env.ua, cores: env.cores, host_cores: cpus().length, load_average_before: loadBefore, load_average_after: loadAfter, layout: layoutSweep }, null, 2));
  console.log(`\nFramewise benchmark, layout only — ${env.ua.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? env.ua}, ${env.cores} cores, load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')} → ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`);
  printLayoutSweep(layoutSweep!);
  console.log(`\nwritten to ${outPath}`);
  process.exit(0);
}

/** The median of each figure over repeated runs: the limits are measured as often as the pipeline is. */
function medianOf<T extends object>(runs: T[]): T {
  const out = { ...runs[0]! } as Record<string, unknown>;
  for (const [k, v] of Object.entries(out)) if (typeof v === 'number') out[k] = median(runs.map((x) => (x as Record<string, unknown>)[k] as number));
  return out as T;
}

type Raw = { inference_ms_p50: number; inference_ms_p95: number; preprocess_ms_p50: number; raw_fps: number; provider: string; provider_reason: string };
const raw: Record<number, Raw> = {};
const rawFpsRuns: Record<number, number[]> = {};
for (const t of threadCounts) {
  const runs: Raw[] = [];
  for (let i = 1; i <= repeats; i++) {
    step(`model alone in one worker (${provider}, ${t} thread${t > 1 ? 's' : ''}) for ${durationMs / 1000} s (run ${i} of ${repeats})`);
    runs.push(await call<Raw>('raw', durationMs, provider, t));
  }
  raw[t] = medianOf(runs);
  rawFpsRuns[t] = runs.map((x) => x.raw_fps);
}

// The native limit, in the same run on the same machine: onnxruntime-node on the same model.
const native: Record<number, NativeRun> = {};
if (!args['no-native']) {
  const inputs = await nativeInputs(FAKE_CAMERA_SLIDES.map((id) => join(COCO_DIR, `${id}.jpg`)));
  for (const t of threadCounts) {
    const runs: NativeRun[] = [];
    for (let i = 1; i <= repeats; i++) {
      step(`native: onnxruntime-node, ${t} thread${t > 1 ? 's' : ''}, for ${durationMs / 1000} s (run ${i} of ${repeats})`);
      runs.push(await measureNative({ modelPath: 'public/models/yolox_nano.onnx', inputs, threads: t, durationMs }));
    }
    native[t] = medianOf(runs);
  }
}

// The camera's rate per queue policy, with and without the capture budget (issue 23): the camera
// alone first (every frame closed at once: the source's own limit), then the live path at the
// default pool under each policy. A camera that delivers less than alone is pipeline-starved.
// First, while nothing else has held the fake camera's buffers (a terminated worker's frame is
// only freed by a collection).
const CAPTURE_QUEUES = [DEFAULT_QUEUE, SEED_QUEUE].filter((q, i, all) => all.findIndex((x) => queueName(x) === queueName(q)) === i);
const cameraAloneRuns: { fps: number; probe?: { budget: number; stalled: boolean } }[] = [];
interface CapturePhase {
  readonly queue: { readonly policy: DropPolicy; readonly capacity: number };
  readonly budget: boolean;
  readonly runs: PipelineRun[];
}
const capturePhases: CapturePhase[] = [];
for (let i = 1; i <= repeats; i++) {
  step(`camera alone, every frame closed at once (run ${i} of ${repeats})`);
  cameraAloneRuns.push(await call('cameraAlone', Math.min(durationMs, 5000)));
}
for (const queue of CAPTURE_QUEUES) {
  for (const budget of [true, false]) {
    const phase: CapturePhase = { queue, budget, runs: [] };
    for (let i = 1; i <= repeats; i++) {
      step(`capture: camera · pool ${defaults.pool} · ${queueName(queue)} · ${budget ? 'with' : 'without'} the capture budget (run ${i} of ${repeats})`);
      phase.runs.push(await call<PipelineRun>('pipelineRun', { poolSize: defaults.pool, source: 'camera', memoryFps: CAMERA_FPS, durationMs, warmupMs, provider, localization: queue, captureBudget: budget }));
    }
    capturePhases.push(phase);
  }
}

interface Phase {
  readonly name: string;
  readonly source: 'memory' | 'camera';
  readonly pool: number;
  readonly queue: { readonly policy: DropPolicy; readonly capacity: number };
  readonly runs: PipelineRun[];
  /** The model alone, measured just before each run: the limit in the machine's conditions of that moment. */
  readonly rawFps: number[];
}
const phases: Phase[] = [];
const queues = [DEFAULT_QUEUE, ...(queueName(DEFAULT_QUEUE) === queueName(SEED_QUEUE) ? [] : [SEED_QUEUE])];
for (const queue of queues) {
  for (const source of ['memory', 'camera'] as const) {
    for (const pool of pools) {
      const phase: Phase = { name: `${source} · pool ${pool} · ${queueName(queue)}`, source, pool, queue, runs: [], rawFps: [] };
      for (let i = 1; i <= repeats; i++) {
        step(`pipeline: ${phase.name} (run ${i} of ${repeats}), after the model alone for ${PAIRED_RAW_MS / 1000} s`);
        phase.rawFps.push((await call<Raw>('raw', PAIRED_RAW_MS, provider, threadsIn(pool))).raw_fps);
        phase.runs.push(await call<PipelineRun>('pipelineRun', { poolSize: pool, source, memoryFps: CAMERA_FPS, durationMs, warmupMs, provider, localization: queue }));
      }
      phases.push(phase);
    }
  }
}
// The judge's cost: the same live path (camera, the default pool and queue) with a task to judge,
// the judge on the pool's detections (the default) against the judge on its own detector (the seed design).
// The task's one step never completes on the fake camera's scenes, so every frame is judged.
const JUDGED_TASK = { id: 'bench-judge', title: 'Judged on every frame', steps: [{ instruction: 'Put a cup to the right of a giraffe', require: [{ label: 'cup' }, { label: 'giraffe' }], relations: [{ subject: 'cup', relation: 'right-of', object: 'giraffe' }] }] };
const JUDGES = ['detector', 'pool'] as const;
interface JudgePhase {
  readonly judge: (typeof JUDGES)[number];
  readonly runs: PipelineRun[];
  readonly rawFps: number[];
}
const judgePhases: JudgePhase[] = [];
for (const judge of JUDGES) {
  const phase: JudgePhase = { judge, runs: [], rawFps: [] };
  for (let i = 1; i <= repeats; i++) {
    step(`judge on ${judge === 'pool' ? "the pool's detections" : 'its own detector'}: camera · pool ${defaults.pool} · ${queueName(DEFAULT_QUEUE)}, a task judged (run ${i} of ${repeats})`);
    phase.rawFps.push((await call<Raw>('raw', PAIRED_RAW_MS, provider, threadsIn(defaults.pool))).raw_fps);
    phase.runs.push(await call<PipelineRun>('pipelineRun', { poolSize: defaults.pool, source: 'camera', memoryFps: CAMERA_FPS, durationMs, warmupMs, provider, localization: DEFAULT_QUEUE, judge, task: JUDGED_TASK }));
  }
  judgePhases.push(phase);
}
step('baseline: the naive main-thread loop');
const baseline = await call<Record<string, number>>('baseline', durationMs, warmupMs);
let soak: PipelineRun | undefined;
if (soakMs > 0) {
  step(`soak: camera, pool 2, ${queueName(DEFAULT_QUEUE)}, for ${soakMs / 1000} s`);
  soak = await call<PipelineRun>('pipelineRun', { poolSize: 2, source: 'camera', memoryFps: CAMERA_FPS, durationMs: soakMs, warmupMs: Math.max(warmupMs, 10_000), provider, localization: DEFAULT_QUEUE, sampleMemory: true });
}
// Identity on clips with known motion (the same clips and ground truth as e2e/tracking.spec.ts).
type ClipReport = import('../e2e/tracking-clips').ClipReport;
const tracking: ClipReport[] = [];
if (!args['no-tracking']) {
  const tp = await browser.newPage();
  await tp.goto(`${base}e2e/tracking.html`);
  await tp.waitForSelector('body[data-ready="true"]');
  type T = { CLIPS: (f: (id: string) => string) => import('../e2e/tracking-clips').ClipSpec[]; runClip: (c: unknown) => Promise<ClipReport> };
  const clips = await tp.evaluate(() => (window as unknown as { tracking: T }).tracking.CLIPS((id) => `/.assets/coco/${id}.jpg`));
  for (const clip of clips) {
    step(`tracking clip: ${clip.name}`);
    tracking.push(await tp.evaluate((c) => (window as unknown as { tracking: T }).tracking.runClip(c), clip));
  }
  await tp.close();
}
await browser.close();
// The real-video clips (the same clips, tasks and ground truth as e2e/real-video.spec.ts), each in a Chromium of its own.
const realVideo: RealClipResult[] = [];
const realVideoSkipped: string[] = [];
if (!args['no-real-video']) {
  prepareRealVideoClips((line) => console.error(line));
  for (const clip of REAL_CLIPS) {
    const why = unavailable(clip);
    if (why) {
      realVideoSkipped.push(why);
      continue;
    }
    step(`real-video clip: ${clip.name}`);
    realVideo.push(await runRealClip({ baseURL: base, launch: { executablePath: chromiumPath(), args: chromiumArgs() } }, clip, { durationMs: 150_000 }));
  }
}
await vite.close();

const loadAfter = loadavg();
const r = (v: number | undefined | null, d = 1) => (v === undefined || v === null || Number.isNaN(v) ? null : Math.round(v * 10 ** d) / 10 ** d);
/** Median and spread (min, max) over a phase's repeats. */
const summary = (xs: number[], d = 1) => ({ median: r(median(xs), d), min: r(Math.min(...xs), d), max: r(Math.max(...xs), d) });

const phaseResults = phases.map((ph) => {
  const threads = threadsIn(ph.pool);
  const runs = ph.runs;
  // What the model allows: pool × its own rate, as long as the machine has a core per worker
  // thread. The task-state worker runs the same model beside the pool (its busy time is measured
  // in the same run), so a pool can only use the cores it leaves.
  const limits = runs.map((x, i) => {
    const stateBusy = x.workers.filter((w) => w.role === 'state').reduce((a, w) => a + w.model_busy * threads, 0);
    return ph.rawFps[i]! * Math.min(ph.pool, (env.cores - stateBusy) / threads);
  });
  const limitFps = median(limits);
  const inputFps = runs.map((x) => x.input_fps);
  // What the input and the model allow together; a source slower than the model starves it.
  const allowed = runs.map((x, i) => Math.min(x.input_fps, limits[i]!));
  const locBusy = runs.map((x) => x.workers.filter((w) => w.role === 'localization').map((w) => w.model_busy));
  return {
    name: ph.name,
    source: ph.source,
    pool: ph.pool,
    queue: queueName(ph.queue),
    threads_per_worker: threadsIn(ph.pool),
    model_limit_fps: r(limitFps, 2),
    raw_fps_before_runs: ph.rawFps.map((v) => r(v, 2)),
    state_busy: summary(runs.map((x) => x.workers.filter((w) => w.role === 'state').reduce((a, w) => a + w.model_busy, 0)), 3),
    fps: summary(runs.map((x) => x.fps), 2),
    input_fps: summary(inputFps, 2),
    input_starved: median(inputFps) < limitFps,
    efficiency: summary(runs.map((x, i) => x.fps / allowed[i]!), 3),
    latency_ms_p50: summary(runs.map((x) => x.latency_ms_p50)),
    latency_ms_p95: summary(runs.map((x) => x.latency_ms_p95)),
    inference_ms_p50: summary(runs.map((x) => x.inference_ms_p50)),
    /** The latency target for this phase: the model's own time in it plus one input frame interval. */
    latency_target_ms: r(median(runs.map((x) => x.inference_ms_p50)) + 1000 / median(inputFps)),
    model_busy_localization: summary(locBusy.map((b) => b.reduce((a, x) => a + x, 0) / b.length), 3),
    model_busy_by_worker: runs[0]!.workers.map((w) => ({ id: w.id, busy: summary(runs.map((x) => x.workers.find((y) => y.id === w.id)?.model_busy ?? NaN), 3) })),
    main_long_tasks: Math.max(...runs.map((x) => x.main_long_tasks)),
    main_raf_fps: r(Math.min(...runs.map((x) => x.main_raf_fps))),
    leaked_frames: Math.max(...runs.map((x) => x.leaked_frames)),
  };
});
const judgeResults = judgePhases.map((ph) => {
  const threads = threadsIn(defaults.pool);
  const runs = ph.runs;
  // What two workers' models allow on the cores the judge leaves them (its busy time measured in the same run).
  const limits = runs.map((x, i) => ph.rawFps[i]! * Math.min(defaults.pool, (env.cores - x.judge_busy * threads) / threads));
  // From a change in front of the camera to the verdict that sees it: the wait for the next judged frame (half the interval, on average) and that verdict's age.
  const latency = runs.map((x) => x.verdict_age_ms_p50 + 500 / x.verdicts_per_s);
  return {
    judge: ph.judge,
    judge_busy: summary(runs.map((x) => x.judge_busy), 3),
    pool_fps: summary(runs.map((x) => x.fps), 2),
    input_fps: summary(runs.map((x) => x.input_fps), 2),
    pool_limit_fps: r(median(runs.map((x, i) => ph.rawFps[i]! * defaults.pool)), 2),
    pool_efficiency: summary(runs.map((x, i) => x.fps / Math.min(x.input_fps, ph.rawFps[i]! * defaults.pool)), 3),
    limit_with_judge_fps: r(median(limits), 2),
    latency_ms_p50: summary(runs.map((x) => x.latency_ms_p50)),
    verdicts_per_s: summary(runs.map((x) => x.verdicts_per_s), 2),
    verdict_age_ms_p50: summary(runs.map((x) => x.verdict_age_ms_p50)),
    verdict_latency_ms: summary(latency),
    leaked_frames: Math.max(...runs.map((x) => x.leaked_frames)),
  };
});
const mem = soak?.memory.filter((m) => Number.isFinite(m)) ?? [];
const ratio = (t: number) => (raw[t] && native[t] ? r(raw[t]!.inference_ms_p50 / native[t]!.inference_ms_p50, 2) : null);
const cameraAloneFps = median(cameraAloneRuns.map((x) => x.fps));
/** Below this share of what the camera delivers alone, a phase is pipeline-starved: frames it held kept the camera from delivering. */
const STARVED_BELOW = 0.9;
const captureResults = capturePhases.map((ph) => {
  const camera = summary(ph.runs.map((x) => x.input_fps), 2);
  return {
    queue: queueName(ph.queue),
    capture_budget: ph.budget,
    budget: ph.runs[0]!.capture.budget ?? null,
    camera_fps: camera,
    of_camera_alone: r(camera.median! / cameraAloneFps, 3),
    verdict: camera.median! < STARVED_BELOW * cameraAloneFps ? 'pipeline-starved' : cameraAloneFps < STARVED_BELOW * CAMERA_FPS ? 'source-limited' : 'full rate',
    held_max: Math.max(...ph.runs.map((x) => x.held_max)),
    copied_per_s: summary(ph.runs.map((x) => x.capture.copied / (durationMs / 1000 + warmupMs / 1000)), 1),
    held_series: ph.runs[0]!.held_series,
    pool_fps: summary(ph.runs.map((x) => x.fps), 2),
    latency_ms_p50: summary(ph.runs.map((x) => x.latency_ms_p50)),
  };
});
const results = {
  date: new Date().toISOString(),
  browser: env.ua.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? env.ua,
  provider: raw[1]?.provider,
  provider_reason: raw[1]?.provider_reason,
  cores: env.cores,
  host_cores: cpus().length,
  load_average_before: loadBefore.map((x) => r(x, 2)),
  load_average_after: loadAfter.map((x) => r(x, 2)),
  duration_s: durationMs / 1000,
  repeats,
  default_queue: queueName(DEFAULT_QUEUE),
  raw: Object.fromEntries(Object.entries(raw).map(([t, x]) => [`threads_${t}`, { inference_ms_p50: r(x.inference_ms_p50), inference_ms_p95: r(x.inference_ms_p95), preprocess_ms_p50: r(x.preprocess_ms_p50, 2), fps: r(x.raw_fps, 2), fps_runs: rawFpsRuns[Number(t)]!.map((v) => r(v, 2)) }])),
  native: Object.fromEntries(Object.entries(native).map(([t, x]) => [`threads_${t}`, { inference_ms_p50: r(x.inference_ms_p50), inference_ms_p95: r(x.inference_ms_p95), fps: r(x.fps, 2), onnxruntime: x.ort_version }])),
  browser_native_ratio: Object.fromEntries(threadCounts.map((t) => [`threads_${t}`, ratio(t)])),
  phases: phaseResults,
  judge: judgeResults,
  camera_alone: { fps: summary(cameraAloneRuns.map((x) => x.fps), 2), nominal_fps: CAMERA_FPS, probe: cameraAloneRuns[0]?.probe ?? null },
  capture: captureResults,
  baseline: { fps: r(baseline.fps, 2), latency_ms_p50: r(baseline.latency_ms_p50), latency_ms_p95: r(baseline.latency_ms_p95), preprocess_ms_p50: r(baseline.preprocess_ms_p50, 2), main_long_tasks: baseline.main_long_tasks, main_raf_fps: r(baseline.main_raf_fps) },
  soak: soak
    ? { seconds: soakMs / 1000, open_frames_max: soak.open_frames_max, leaked_frames: soak.leaked_frames, heap_growth_pct: mem.length >= 2 ? r(((mem.at(-1)! - mem[0]!) / mem[0]!) * 100) : null, heap_mb_start_end: mem.length >= 2 ? [r(mem[0]! / 2 ** 20), r(mem.at(-1)! / 2 ** 20)] : null }
    : null,
  real_video: realVideo.map((x) => ({
    clip: x.clip,
    steps: x.steps.map((st) => ({ instruction: st.instruction, truth: st.truth, target_ms: st.targetMs, latency_ms: st.latencyMs })),
    latency_over_hold_p50_ms: Number.isFinite(x.latencyOverHoldP50Ms) ? r(x.latencyOverHoldP50Ms, 0) : null,
    false_completions: x.falseCompletions,
    false_derailments: x.falseDerailments,
    identities: x.identities,
    drawn: x.seen,
  })),
  real_video_skipped: realVideoSkipped,
  tracking: tracking.map((t) => ({ clip: t.name, photo: t.photo, ground_truth: t.truth, frames: t.frames, idf1: r(t.idf1, 3), id_switches: t.idSwitches, ...(t.covered ? { covered_ids_before_after: [t.covered.before, t.covered.after] } : {}), ...(t.flipsPerMinute ? { presence_flips_per_min_raw: r(t.flipsPerMinute.raw), presence_flips_per_min_tracked: r(t.flipsPerMinute.tracked) } : {}) })),
};
writeFileSync(outPath, JSON.stringify({ ...results, layout: layoutSweep ?? null }, null, 2));

const defaultPhases = phaseResults.filter((x) => x.queue === results.default_queue);
const t1 = raw[1]!;
const capacity = 1 + DEFAULT_QUEUE.capacity; // the state slot and the localization queue
const checks: [string, boolean | null][] = [
  ...defaultPhases.map((x): [string, boolean] => [`${x.name}: efficiency ≥ ${EFFICIENCY_TARGET} (median ${x.efficiency.median})`, x.efficiency.median! >= EFFICIENCY_TARGET]),
  // The latency target is the live path's: the camera, with the default pool and queue.
  ...defaultPhases.filter((x) => x.source === 'camera' && x.pool === defaults.pool).map((x): [string, boolean] => [`${x.name} (the live path, defaults): latency p50 ≤ inference p50 + one input frame = ${x.latency_target_ms} ms (median ${x.latency_ms_p50.median})`, x.latency_ms_p50.median! <= x.latency_target_ms!]),
  ...judgeTargets(),
  ...captureResults.filter((c) => c.capture_budget).map((c): [string, boolean] => [`capture, ${c.queue} with the budget: the camera delivers ≥ ${STARVED_BELOW} of its rate alone (${c.of_camera_alone}), holding ≤ its budget ${c.budget} (held at most ${c.held_max})`, c.of_camera_alone! >= STARVED_BELOW && c.budget !== null && c.held_max <= c.budget]),
  ['preprocess_ms_p50 ≤ 10% of inference_ms_p50 (model alone, 1 thread)', t1.preprocess_ms_p50 <= 0.1 * t1.inference_ms_p50],
  ['main thread: 0 long tasks in every pipeline run', phaseResults.every((x) => x.main_long_tasks === 0)],
  ['main thread: ≥ 55 animation frames/s in every pipeline run', phaseResults.every((x) => x.main_raf_fps! >= 55)],
  ['no frame left open after any run', phaseResults.every((x) => x.leaked_frames === 0)],
  [`soak: open frames ≤ ${capacity} + pool size 2`, results.soak ? results.soak.open_frames_max <= capacity + 2 : null],
  ['soak: heap growth ≤ 10%', results.soak?.heap_growth_pct == null ? null : results.soak.heap_growth_pct <= 10],
  ...(tracking.length
    ? ([
        ['tracking: 0 ID switches on pan and zoom', tracking.filter((t) => t.name === 'pan' || t.name === 'zoom').every((t) => t.idSwitches === 0)],
        // The cluttered pan, against hand-made labels, is reported, not held to 0.9 (README, "Objects keep their identity").
        ['tracking: IDF1 ≥ 0.9 (pan, zoom, jitter, occlusion, steady)', tracking.filter((t) => t.name !== 'pan-cluttered').every((t) => t.idf1 >= 0.9)],
        ['tracking: the covered object keeps its id', tracking.filter((t) => t.covered).every((t) => t.covered!.before.length === 1 && t.covered!.after.join() === t.covered!.before.join())],
      ] as [string, boolean][])
    : []),
  ...(realVideo.length
    ? ([
        [`real video: ${REAL_TARGETS.falseCompletions} false completions`, realVideo.every((x) => x.falseCompletions <= REAL_TARGETS.falseCompletions)],
        ['real video: no derailment', realVideo.every((x) => x.falseDerailments === 0)],
        ...realVideo.map((x): [string, boolean] => [`real video ${x.clip}: completion latency − hold p50 ≤ ${REAL_TARGETS.latencyOverHoldP50Ms} ms (${Number.isFinite(x.latencyOverHoldP50Ms) ? Math.round(x.latencyOverHoldP50Ms) : 'a step never completed'})`, x.latencyOverHoldP50Ms <= REAL_TARGETS.latencyOverHoldP50Ms]),
        [`real video, all clips: completion latency − hold p50 ≤ ${REAL_TARGETS.latencyOverHoldP50Ms} ms (${Math.round(latencyOverHoldP50(realVideo))})`, latencyOverHoldP50(realVideo) <= REAL_TARGETS.latencyOverHoldP50Ms],
        [`real video: identities per appearance ≤ ${REAL_TARGETS.identitiesPerAppearance}`, realVideo.every((x) => Object.values(x.identities).every((v) => v.ids > 0 && v.perAppearance <= REAL_TARGETS.identitiesPerAppearance))],
      ] as [string, boolean][])
    : []),
];
/** The judge's targets: the default judge uses at most 0.15 of a core, leaves the pool 0.9 of what two models allow, and its verdicts come no later than the seed design's. */
function judgeTargets(): [string, boolean | null][] {
  const pool = judgeResults.find((j) => j.judge === 'pool');
  const own = judgeResults.find((j) => j.judge === 'detector');
  if (!pool || !own) return [];
  return [
    [`judge on the pool's detections: busy ≤ 0.15 of a core (median ${pool.judge_busy.median})`, pool.judge_busy.median! <= 0.15],
    [`judge on the pool's detections: pool fps ≥ 0.9 × what ${defaults.pool} workers' models allow (efficiency median ${pool.pool_efficiency.median})`, pool.pool_efficiency.median! >= 0.9],
    [`judge on the pool's detections: verdict latency ≤ the judge on its own detector's (${pool.verdict_latency_ms.median} vs ${own.verdict_latency_ms.median} ms)`, pool.verdict_latency_ms.median! <= own.verdict_latency_ms.median!],
  ];
}
// A goal, not a gate: where the browser stands against native at equal threads.
const goals: [string, boolean | null][] = threadCounts.map((t) => [`browser ≤ 2 × native at ${t} thread${t > 1 ? 's' : ''} (ratio ${ratio(t)})`, ratio(t) === null ? null : ratio(t)! <= 2]);

const spread = (x: { median: number | null; min: number | null; max: number | null }) => `${x.median} (${x.min}–${x.max})`;
console.log(`\nFramewise benchmark — ${results.browser}, ${results.provider}, ${env.cores} cores, load average ${results.load_average_before.join(' ')} → ${results.load_average_after.join(' ')}`);
console.log(`\nModel alone (one worker, back to back) and native (onnxruntime-node ${Object.values(native)[0]?.ort_version ?? '–'}), same model`);
for (const t of threadCounts) console.log(`  ${t} thread${t > 1 ? 's' : ' '}  browser ${raw[t]!.inference_ms_p50.toFixed(1)} ms p50, ${raw[t]!.raw_fps.toFixed(2)} fps, preprocess ${raw[t]!.preprocess_ms_p50.toFixed(2)} ms · native ${native[t] ? `${native[t]!.inference_ms_p50.toFixed(1)} ms p50, ${native[t]!.fps.toFixed(2)} fps` : '–'} · browser_native_ratio ${ratio(t) ?? '–'}`);
console.log(`\nPipeline: median (min–max) of ${repeats} runs of ${durationMs / 1000} s; default queue ${results.default_queue}`);
/** Why a phase got less input than its model allows: the camera held back by frames the pipeline kept, or the source's own rate. */
const starvedBy = (x: (typeof phaseResults)[number]) =>
  x.source === 'camera' && x.input_fps.median! < STARVED_BELOW * cameraAloneFps ? 'PIPELINE-STARVED' : x.input_starved ? 'source-limited' : 'no';
const cols = ['phase', 'fps', 'input fps', 'limit', 'efficiency', 'latency p50', 'target', 'inference p50', 'model busy', 'starved'];
const table = phaseResults.map((x) => [x.name, spread(x.fps), spread(x.input_fps), String(x.model_limit_fps), spread(x.efficiency), spread(x.latency_ms_p50), String(x.latency_target_ms), spread(x.inference_ms_p50), spread(x.model_busy_localization), starvedBy(x)]);
const widths = cols.map((c, i) => Math.max(c.length, ...table.map((row) => row[i]!.length)));
console.log('  ' + cols.map((c, i) => c.padEnd(widths[i]!)).join('  '));
for (const row of table) console.log('  ' + row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
if (judgeResults.length) {
  console.log(`\nThe judge's cost: camera · pool ${defaults.pool} · ${results.default_queue}, a task judged on every frame; median (min–max) of ${repeats} runs`);
  const jcols = ['judge', 'judge busy (cores)', 'pool fps', 'pool limit', 'efficiency', 'capture→drawn p50', 'verdicts/s', 'verdict age p50', 'verdict latency'];
  const jtable = judgeResults.map((j) => [j.judge === 'pool' ? "pool's detections" : 'own detector', spread(j.judge_busy), spread(j.pool_fps), String(j.pool_limit_fps), spread(j.pool_efficiency), spread(j.latency_ms_p50), spread(j.verdicts_per_s), spread(j.verdict_age_ms_p50), spread(j.verdict_latency_ms)]);
  const jw = jcols.map((c, i) => Math.max(c.length, ...jtable.map((row) => row[i]!.length)));
  console.log('  ' + jcols.map((c, i) => c.padEnd(jw[i]!)).join('  '));
  for (const row of jtable) console.log('  ' + row.map((c, i) => c.padEnd(jw[i]!)).join('  '));
  console.log("  verdict latency: from a change in front of the camera to the verdict on it = the verdict's age + half the interval between verdicts.");
  console.log("  A bigger model run by the judge alone was not measured: none can be provisioned here (the model is the one asset); its busy time would be its own inference time × the state rate.");
}
if (captureResults.length) {
  console.log(`\nThe camera's rate per policy: camera · pool ${defaults.pool}; the camera alone (every frame closed at once) delivers ${results.camera_alone.fps.median} fps (nominal ${CAMERA_FPS}), its probed budget ${results.camera_alone.probe?.budget ?? '–'}`);
  const ccols = ['queue', 'capture budget', 'camera fps', 'of alone', 'verdict', 'held max', 'copied/s', 'pool fps', 'capture→drawn p50', 'held every 250 ms (first run)'];
  const ctable = captureResults.map((c) => [c.queue, c.capture_budget ? `on (${c.budget})` : 'off', spread(c.camera_fps), String(c.of_camera_alone), c.verdict, String(c.held_max), spread(c.copied_per_s), spread(c.pool_fps), spread(c.latency_ms_p50), c.held_series.slice(0, 16).join(' ')]);
  const cw = ccols.map((c, i) => Math.max(c.length, ...ctable.map((row) => row[i]!.length)));
  console.log('  ' + ccols.map((c, i) => c.padEnd(cw[i]!)).join('  '));
  for (const row of ctable) console.log('  ' + row.map((c, i) => c.padEnd(cw[i]!)).join('  '));
  console.log('  held: camera-backed frames the pipeline holds (without the budget, every open frame, page and workers).');
}
console.log(`\nBaseline (naive main-thread loop): ${results.baseline.fps} fps, latency p50 ${results.baseline.latency_ms_p50} ms, ${results.baseline.main_long_tasks} long tasks, ${results.baseline.main_raf_fps} animation frames/s`);
if (results.soak) console.log(`Soak (${results.soak.seconds} s): open frames max ${results.soak.open_frames_max}, leaked ${results.soak.leaked_frames}, heap ${results.soak.heap_mb_start_end?.join(' → ')} MB (${results.soak.heap_growth_pct} %)`);
if (tracking.length) {
  console.log('\nTracking (IDF1, ID switches; targets: 0 switches on pan and zoom, IDF1 ≥ 0.9, the covered object keeps its id)');
  for (const t of tracking) {
    const extra = t.covered ? `covered ${t.covered.label}: id ${t.covered.before.join(',')} → ${t.covered.after.join(',')}` : t.flipsPerMinute ? `presence flips/min: ${t.flipsPerMinute.raw.toFixed(0)} raw, ${t.flipsPerMinute.tracked.toFixed(0)} tracked` : '';
    console.log(`  ${t.name.padEnd(14)} IDF1 ${t.idf1.toFixed(3)}  switches ${t.idSwitches}  (truth by ${t.truth})  ${extra}`);
  }
}
if (realVideo.length || realVideoSkipped.length) {
  console.log('\nReal video (e2e/real-video.ts: latency per step on screen, [its hold]; false completions; false derailments; identities per appearance)');
  for (const x of realVideo) console.log(`  ${tableLine(x)}`);
  for (const why of realVideoSkipped) console.log(`  skipped: ${why}`);
}
console.log('\nTargets (on medians)');
for (const [name, ok] of checks) console.log(`  ${ok === null ? 'n/a ' : ok ? 'pass' : 'MISS'}  ${name}`);
console.log('\nGoal');
for (const [name, ok] of goals) console.log(`  ${ok === null ? 'n/a ' : ok ? 'met ' : 'not yet'}  ${name}`);
if (layoutSweep) printLayoutSweep(layoutSweep);
console.log(`\nwritten to ${outPath}`);
