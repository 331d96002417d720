// npm run bench: the pipeline against the model's own limit and against the naive main-thread loop,
// in one headless Chromium, on the same fake-camera frames and model. Prints a table and writes bench/results.json.
import { chromium } from '@playwright/test';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { createServer } from 'vite';
import { chromiumArgs, chromiumPath } from '../e2e/browser';
import globalSetup from '../e2e/fixtures/global-setup';
import { FAKE_CAMERA_Y4M } from '../e2e/fixtures/paths';
import { PROVIDER_PREFERENCES } from '../src/model/provider';
import { DROP_POLICIES } from '../src/pipeline';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    soak: { type: 'string', default: '300' },
    pools: { type: 'string', default: '1,2' },
    provider: { type: 'string', default: 'wasm' },
    'loc-policy': { type: 'string', default: 'drop-new' },
    'loc-capacity': { type: 'string', default: '5' },
    'no-tracking': { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results.json' },
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
const pools = args.pools!.split(',').map(Number);
const provider = args.provider!;
if (!(PROVIDER_PREFERENCES as readonly string[]).includes(provider)) throw new Error(`--provider must be one of ${PROVIDER_PREFERENCES.join(', ')}, got "${provider}"`);
if (pools.some((n) => !Number.isInteger(n) || n < 1 || n > 16)) throw new Error(`--pools must list pool sizes from 1 to 16, got "${args.pools}"`);
const localization = { policy: args['loc-policy']!, capacity: Number(args['loc-capacity']) };
const LIVE_POLICIES = DROP_POLICIES.filter((p) => p !== 'block');
if (!(LIVE_POLICIES as readonly string[]).includes(localization.policy)) throw new Error(`--loc-policy must be one of ${LIVE_POLICIES.join(', ')} (a live camera never blocks), got "${localization.policy}"`);

if (!existsSync('public/models/yolox_nano.onnx')) throw new Error('the model is missing: run npm run assets');
if (!existsSync(FAKE_CAMERA_Y4M)) await globalSetup();

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
type Bench = { raw: Function; pipelineRun: Function; baseline: Function; cores: number; isolated: boolean; ua: string };
const call = <T>(fn: keyof Bench, ...a: unknown[]): Promise<T> =>
  page.evaluate(([f, list]) => ((window as unknown as { bench: Record<string, (...x: unknown[]) => unknown> }).bench[f as string]!(...(list as unknown[])) as Promise<T>), [fn, a] as const) as Promise<T>;
const step = (s: string) => console.error(`bench: ${s}…`);

const env = await page.evaluate(() => ({ cores: navigator.hardwareConcurrency, isolated: self.crossOriginIsolated, ua: navigator.userAgent }));
if (!env.isolated) throw new Error('the bench page is not cross-origin isolated: WASM threads would be off');
const threads = Math.max(1, Math.floor(env.cores / 3));

step(`model alone in one worker (${provider}) for ${durationMs / 1000} s`);
const raw = await call<Record<string, number | string>>('raw', durationMs, provider, threads);

type Run = { fps: number; latency_ms_p50: number; latency_ms_p95: number; main_long_tasks: number; main_raf_fps: number; open_frames_max: number; leaked_frames: number; memory: number[]; input_fps: number; dropped: number };
const runs: Record<string, Run> = {};
for (const n of pools) {
  step(`pipeline, pool ${n}, task-state worker running`);
  runs[`pool${n}_with_state`] = await call<Run>('pipelineRun', { poolSize: n, pauseState: false, durationMs, warmupMs, provider, localization });
  step(`pipeline, pool ${n}, task-state worker paused`);
  runs[`pool${n}`] = await call<Run>('pipelineRun', { poolSize: n, pauseState: true, durationMs, warmupMs, provider, localization });
}
step('baseline: the naive main-thread loop');
const baseline = await call<Record<string, number>>('baseline', durationMs, warmupMs);
let soak: Run | undefined;
if (soakMs > 0) {
  step(`soak: pool 2 with the task-state worker for ${soakMs / 1000} s`);
  soak = await call<Run>('pipelineRun', { poolSize: 2, pauseState: false, durationMs: soakMs, warmupMs: Math.max(warmupMs, 10_000), provider, localization, sampleMemory: true });
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
await vite.close();

const pool1 = runs.pool1_with_state;
const r = (v: number | undefined, d = 1) => (v === undefined || Number.isNaN(v) ? null : Math.round(v * 10 ** d) / 10 ** d);
const mem = soak?.memory.filter((m) => Number.isFinite(m)) ?? [];
const results = {
  inference_ms_p50: r(raw.inference_ms_p50 as number),
  inference_ms_p95: r(raw.inference_ms_p95 as number),
  preprocess_ms_p50: r(raw.preprocess_ms_p50 as number, 2),
  raw_fps: r(raw.raw_fps as number, 2),
  // The pool1 figure is with the task-state worker running at its default rate.
  pipeline_fps_pool1: r(pool1?.fps, 2),
  pipeline_fps_pool1_state_paused: r(runs.pool1?.fps, 2),
  pipeline_fps_pool2: r(runs.pool2?.fps, 2),
  pipeline_fps_pool2_with_state: r(runs.pool2_with_state?.fps, 2),
  ratio_pool1_to_raw: pool1 ? r(pool1.fps / (raw.raw_fps as number), 3) : null,
  ratio_pool2_to_pool1_state_paused: runs.pool2 && runs.pool1 ? r(runs.pool2.fps / runs.pool1.fps, 3) : null,
  latency_ms_p50: r(pool1?.latency_ms_p50),
  latency_ms_p95: r(pool1?.latency_ms_p95),
  main_long_tasks: Math.max(...Object.values(runs).map((x) => x.main_long_tasks)),
  main_raf_fps: r(Math.min(...Object.values(runs).map((x) => x.main_raf_fps))),
  input_fps: r(pool1?.input_fps),
  baseline_fps: r(baseline.fps, 2),
  baseline_latency_ms_p50: r(baseline.latency_ms_p50),
  baseline_latency_ms_p95: r(baseline.latency_ms_p95),
  baseline_preprocess_ms_p50: r(baseline.preprocess_ms_p50, 2),
  baseline_main_long_tasks: baseline.main_long_tasks,
  baseline_main_raf_fps: r(baseline.main_raf_fps),
  soak_seconds: soakMs / 1000,
  soak_open_frames_max: soak?.open_frames_max ?? null,
  soak_leaked_frames: soak?.leaked_frames ?? null,
  soak_heap_growth_pct: mem.length >= 2 ? r(((mem.at(-1)! - mem[0]!) / mem[0]!) * 100) : null,
  soak_heap_mb_start_end: mem.length >= 2 ? [r(mem[0]! / 2 ** 20), r(mem.at(-1)! / 2 ** 20)] : null,
  localization_queue: `${localization.policy} (${localization.capacity})`,
  provider: raw.provider,
  provider_reason: raw.provider_reason,
  browser: env.ua.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? env.ua,
  cores: env.cores,
  host_cores: cpus().length,
  threads_per_worker: threads,
  duration_s: durationMs / 1000,
  date: new Date().toISOString(),
  tracking: tracking.map((t) => ({ clip: t.name, photo: t.photo, frames: t.frames, idf1: r(t.idf1, 3), id_switches: t.idSwitches, ...(t.covered ? { covered_ids_before_after: [t.covered.before, t.covered.after] } : {}), ...(t.flipsPerMinute ? { presence_flips_per_min_raw: r(t.flipsPerMinute.raw), presence_flips_per_min_tracked: r(t.flipsPerMinute.tracked) } : {}) })),
};
writeFileSync(args.out!, JSON.stringify(results, null, 2));

const capacity = 1 + localization.capacity; // the state slot and the localization queue
const checks: [string, boolean | null][] = [
  ['ratio_pool1_to_raw ≥ 0.95', results.ratio_pool1_to_raw === null ? null : results.ratio_pool1_to_raw >= 0.95],
  ['pipeline_fps_pool2 ≥ 1.5 × pool1 (state paused)', results.ratio_pool2_to_pool1_state_paused === null ? null : results.ratio_pool2_to_pool1_state_paused >= 1.5],
  ['latency_ms_p50 ≤ inference_ms_p50 + 40', results.latency_ms_p50 === null ? null : results.latency_ms_p50 <= results.inference_ms_p50! + 40],
  ['latency_ms_p95 ≤ 2 × inference_ms_p95', results.latency_ms_p95 === null ? null : results.latency_ms_p95 <= 2 * results.inference_ms_p95!],
  ['preprocess_ms_p50 ≤ 10% of inference_ms_p50', results.preprocess_ms_p50! <= 0.1 * results.inference_ms_p50!],
  ['main_long_tasks = 0', results.main_long_tasks === 0],
  ['main_raf_fps ≥ 55', results.main_raf_fps! >= 55],
  [`soak_open_frames_max ≤ ${capacity} + pool size 2`, results.soak_open_frames_max === null ? null : results.soak_open_frames_max <= capacity + 2],
  ['soak_heap_growth_pct ≤ 10', results.soak_heap_growth_pct === null ? null : results.soak_heap_growth_pct <= 10],
  ...(tracking.length
    ? ([
        ['tracking: 0 ID switches on pan and zoom', tracking.filter((t) => t.name === 'pan' || t.name === 'zoom').every((t) => t.idSwitches === 0)],
        ['tracking: IDF1 ≥ 0.9 (pan, zoom, jitter, occlusion, steady)', tracking.filter((t) => t.name !== 'pan-cluttered').every((t) => t.idf1 >= 0.9)],
        ['tracking: the covered object keeps its id', tracking.filter((t) => t.covered).every((t) => t.covered!.before.length === 1 && t.covered!.after.join() === t.covered!.before.join())],
      ] as [string, boolean][])
    : []),
];
const rows = Object.entries(results).filter(([k, v]) => k !== 'tracking' && (typeof v !== 'object' || v === null || Array.isArray(v)));
const width = Math.max(...rows.map(([k]) => k.length));
console.log('\nFramewise benchmark');
for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${Array.isArray(v) ? v.join(' → ') : v}`);
if (tracking.length) {
  console.log('\nTracking (IDF1, ID switches; targets: 0 switches on pan and zoom, IDF1 ≥ 0.9, the covered object keeps its id)');
  for (const t of tracking) {
    const extra = t.covered ? `covered ${t.covered.label}: id ${t.covered.before.join(',')} → ${t.covered.after.join(',')}` : t.flipsPerMinute ? `presence flips/min: ${t.flipsPerMinute.raw.toFixed(0)} raw, ${t.flipsPerMinute.tracked.toFixed(0)} tracked` : '';
    console.log(`  ${t.name.padEnd(14)} IDF1 ${t.idf1.toFixed(3)}  switches ${t.idSwitches}  ${extra}`);
  }
}
console.log('\nTargets');
for (const [name, ok] of checks) console.log(`  ${ok === null ? 'n/a ' : ok ? 'pass' : 'MISS'}  ${name}`);
console.log(`\nwritten to ${args.out}`);
