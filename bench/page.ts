// The benchmark's page: every measurement runs here, in the same browser, on the same camera frames and model.
import * as Comlink from 'comlink';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { CameraSource, MemorySource, percentile, type FrameSource } from '@framewise/pipeline';
import { DEFAULT_CONFIG, threadsFor, type JudgeSource, type PipelineConfig } from '../src/vision/config';
import type { Task } from '../src/task/types';
import type { DetectionsOutput } from '../src/shared/protocol';
import { createVisionPipeline, setTask } from '../src/vision/vision-pipeline';
import { decode } from '../src/model/decode';
import { letterbox, rgbaToTensor } from '../src/model/letterbox';
import { YOLOX_NANO } from '../src/model/manifest';
import { loadModelBytes } from '../src/model/model-bytes';
import type { ProviderPreference } from '../src/model/provider';
import type { RawApi } from './raw-worker';
import { calibrationLayouts, calibrationProvider, CALIBRATION_FRAME_INTERVAL_MS, measureLayouts } from '../src/vision/calibrate';
import { chooseLayout } from '../src/vision/layout';
import { defaultLayout } from '../src/vision/config';

const MODEL_URL = new URL('/models/yolox_nano.onnx', location.origin).href;

/** Main-thread smoothness over a window: long tasks (> 50 ms) and requestAnimationFrame rate. */
function watchMainThread() {
  let longTasks = 0;
  const obs = new PerformanceObserver((list) => (longTasks += list.getEntries().length));
  obs.observe({ type: 'longtask' });
  let frames = 0;
  let raf = 0;
  const t0 = performance.now();
  const tick = () => {
    frames++;
    raf = requestAnimationFrame(tick);
  };
  raf = requestAnimationFrame(tick);
  return () => {
    cancelAnimationFrame(raf);
    obs.disconnect();
    return { longTasks, rafFps: frames / ((performance.now() - t0) / 1000) };
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const p = (v: number[], q: number) => percentile(v, q) ?? NaN;

/** Real frames from the fake camera, varied (one every ~10 frames), copied once: the raw phase and the memory source reuse them. */
let captured: VideoFrame[] | undefined;
async function cameraFrames(): Promise<VideoFrame[]> {
  if (captured) return captured;
  const camera = new CameraSource({ width: 640, height: 480 });
  await camera.open();
  const frames: VideoFrame[] = [];
  // Copies, not the camera's own frames: holding those would drain its capture pool.
  const copy = new OffscreenCanvas(640, 480).getContext('2d')!;
  for (let i = 0; frames.length < 12; i++) {
    const f = (await camera.next()) as VideoFrame;
    if (i % 10 === 0) {
      copy.canvas.width = f.displayWidth;
      copy.canvas.height = f.displayHeight;
      copy.drawImage(f, 0, 0);
      frames.push(new VideoFrame(copy.canvas, { timestamp: f.timestamp }));
    }
    f.close();
  }
  camera.stop();
  captured = frames;
  return frames;
}

async function raw(durationMs: number, provider: ProviderPreference, threads: number) {
  const frames = (await cameraFrames()).map((f) => f.clone());
  const worker = new Worker(new URL('./raw-worker.ts', import.meta.url), { type: 'module' });
  worker.onerror = (e) => console.error(`raw worker: ${e.message}`);
  const api = Comlink.wrap<RawApi>(worker);
  const r = await api.run(Comlink.transfer(frames, frames), durationMs, provider, threads);
  worker.terminate();
  return {
    inference_ms_p50: p(r.inference, 50),
    inference_ms_p95: p(r.inference, 95),
    preprocess_ms_p50: p(r.preprocess, 50),
    raw_fps: r.runs / (r.elapsedMs / 1000),
    provider: r.provider,
    provider_reason: r.reason,
  };
}

export interface PipelineRunOptions {
  readonly poolSize: number;
  /** WASM threads per worker (default: the app's, the cores shared out). */
  readonly threads?: number;
  readonly source: 'camera' | 'memory';
  /** The memory source's rate: the fake camera's, so both phases offer the same input. */
  readonly memoryFps: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly provider: ProviderPreference;
  readonly localization: PipelineConfig['localization'];
  readonly sampleMemory?: boolean;
  /** What the state worker judges on (default: the app's). */
  readonly judge?: JudgeSource;
  /** A task for the judge to evaluate on every frame it judges (default: none, as with no task chosen). */
  readonly task?: Task;
  /** False: the camera's frames are not announced as the capturer's (no capture budget): how it ran before. */
  readonly captureBudget?: boolean;
}

/** The camera with nothing held: each frame closed the moment it arrives. What it delivers is the source's own limit. */
async function cameraAlone(durationMs: number) {
  const camera = new CameraSource({ width: 640, height: 480 });
  await camera.open();
  // A camera that delivers nothing (its buffers still held elsewhere) fails the run rather than hanging it.
  const next = () => Promise.race([camera.next(), sleep(10_000).then(() => Promise.reject(new Error('the camera delivered no frame for 10 s')))]);
  for (let i = 0; i < 10; i++) (await next())?.close();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < durationMs) {
    (await next())?.close();
    n++;
  }
  const fps = n / ((performance.now() - t0) / 1000);
  camera.stop();
  return { fps, probe: camera.probe };
}

async function pipelineRun(opts: PipelineRunOptions) {
  const config: PipelineConfig = { ...DEFAULT_CONFIG, poolSize: opts.poolSize, threadsPerWorker: opts.threads ?? DEFAULT_CONFIG.threadsPerWorker, provider: opts.provider, localization: opts.localization, judge: opts.judge ?? DEFAULT_CONFIG.judge };
  const pipeline = await createVisionPipeline(config);
  if (opts.task) setTask(pipeline, opts.task);
  let source: FrameSource;
  if (opts.source === 'camera') {
    const camera = new CameraSource({ width: 640, height: 480 });
    (document.getElementById('video') as HTMLVideoElement).srcObject = await camera.open();
    source = opts.captureBudget === false ? { label: 'camera (no capture budget)', next: () => camera.next(), stop: () => camera.stop() } : camera;
  } else {
    source = new MemorySource((await cameraFrames()).map((f) => f.clone()), { fps: opts.memoryFps });
  }
  let measuring = false;
  let results = 0;
  const latency: number[] = [];
  const inference: number[] = [];
  /** The worker's whole time per frame (preprocess, model, decode): what a layout's latency bound adds a frame to. */
  const processing: number[] = [];
  // Time each worker spent in inference, from every answer (also those the dispatcher then discards as stale).
  const inferenceMsBy = new Map<string, number>();
  // The judge's cost: all its processing time (model or none), from every answer it gave.
  let judgeMs = 0;
  // When each frame was captured, for the age of the frame a verdict is about.
  const captured = new Map<number, number>();
  const verdictAge: number[] = [];
  let verdicts = 0;
  pipeline.onEvent((e) => {
    if (measuring && e.type === 'answer' && e.result.role === 'state' && e.result.type === 'output') judgeMs += e.result.processMs;
  });
  pipeline.subscribe((r) => {
    if (r.role === 'localization') captured.set(r.seq, r.captureTs);
    if (!measuring || r.role !== 'state' || r.type !== 'output' || r.output.kind === 'probe' || !r.output.task) return;
    // A judge with its own model judges the frame it was given; one on the pool's detections, the pool's frame it names.
    const at = r.output.kind === 'verdict' ? captured.get(r.output.judgedSeq) : r.captureTs;
    verdicts++;
    if (at !== undefined) verdictAge.push(performance.now() - at);
    if (captured.size > 256) for (const k of [...captured.keys()].slice(0, 128)) captured.delete(k);
  });
  pipeline.onEvent((e) => {
    if (!measuring || e.type !== 'answer' || e.result.type !== 'output' || e.result.output.kind !== 'detections') return;
    const out = e.result.output as DetectionsOutput;
    inferenceMsBy.set(e.result.workerId, (inferenceMsBy.get(e.result.workerId) ?? 0) + out.inferenceMs);
  });
  const overlay = (document.getElementById('overlay') as HTMLCanvasElement).getContext('2d')!;
  pipeline.subscribe((r) => {
    if (!measuring || r.role !== 'localization' || r.type !== 'output' || r.output.kind !== 'detections') return;
    results++;
    const out = r.output;
    inference.push(out.inferenceMs);
    processing.push(r.processMs);
    // "Rendered": the boxes are drawn in the next animation frame.
    requestAnimationFrame(() => {
      overlay.clearRect(0, 0, 640, 480);
      overlay.strokeStyle = '#38bdf8';
      for (const d of out.detections) overlay.strokeRect(d.x, d.y, d.w, d.h);
      latency.push(performance.now() - r.captureTs);
    });
  });
  const running = pipeline.run(source);
  await sleep(opts.warmupMs);
  let openMax = 0;
  let heldMax = 0;
  const memory: number[] = [];
  // Capturer-backed frames held, every 250 ms: the camera's buffers the pipeline keeps from it.
  const heldSeries: number[] = [];
  let ticks = 0;
  const sampler = setInterval(() => {
    const s = pipeline.stats();
    openMax = Math.max(openMax, s.openFrames.page + s.openFrames.inWorkers);
    // Without the budget the pipeline does not know which frames are the camera's: every open one is
    // (a frame held by two groups counts twice there, once with the budget's own count).
    const held = opts.captureBudget !== false ? s.capture.held : s.openFrames.page + s.openFrames.inWorkers;
    heldMax = Math.max(heldMax, held);
    if (ticks++ % 12 === 0) heldSeries.push(held);
  }, 20);
  const memSampler = opts.sampleMemory ? setInterval(() => void heapBytes().then((b) => memory.push(b)), Math.max(2000, opts.durationMs / 20)) : undefined;
  if (opts.sampleMemory) memory.push(await heapBytes());
  const before = pipeline.stats();
  const stop = watchMainThread();
  measuring = true;
  const t0 = performance.now();
  await sleep(opts.durationMs);
  measuring = false;
  const main = stop();
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  clearInterval(memSampler);
  if (opts.sampleMemory) memory.push(await heapBytes());
  const after = pipeline.stats();
  await pipeline.stopSource();
  await running;
  const report = await pipeline.shutdown();
  const loc = after.channels.localization;
  const locBefore = before.channels.localization;
  return {
    fps: results / seconds,
    input_fps: (after.framesIn - before.framesIn) / seconds,
    latency_ms_p50: p(latency, 50),
    latency_ms_p95: p(latency, 95),
    inference_ms_p50: p(inference, 50),
    process_ms_p50: p(processing, 50),
    dropped: loc.dropped - locBefore.dropped,
    main_long_tasks: main.longTasks,
    main_raf_fps: main.rafFps,
    open_frames_max: openMax,
    /** Camera-backed frames held (camera phases): the most at once, and every 250 ms. */
    held_max: opts.source === 'camera' ? heldMax : 0,
    held_series: opts.source === 'camera' ? heldSeries : [],
    capture: after.capture,
    leaked_frames: report.leakedFrames,
    memory,
    judge_busy: judgeMs / 1000 / seconds,
    verdicts_per_s: verdicts / seconds,
    verdict_age_ms_p50: p(verdictAge, 50),
    verdict_age_ms_p95: p(verdictAge, 95),
    workers: after.workers.map((w) => ({ id: w.workerId, role: w.role, provider: w.info?.provider, model_busy: (inferenceMsBy.get(w.workerId) ?? 0) / 1000 / seconds })),
  };
}
export type PipelineRun = Awaited<ReturnType<typeof pipelineRun>>;

/** Heap in use after a collection: the page and (where the browser can say) its workers. */
async function heapBytes(): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  const ua = (performance as { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }> }).measureUserAgentSpecificMemory;
  if (ua && self.crossOriginIsolated) {
    const m = await Promise.race([ua.call(performance), sleep(20_000).then(() => undefined)]);
    if (m) return m.bytes;
  }
  return (performance as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? NaN;
}

/** The naive way most web demos work: one main-thread loop, canvas → getImageData → tensor → session.run → draw. */
async function baseline(durationMs: number, warmupMs: number) {
  const ort = await import('onnxruntime-web/wasm');
  ort.env.wasm.wasmPaths = { wasm: wasmUrl };
  ort.env.wasm.numThreads = self.crossOriginIsolated ? threadsFor(DEFAULT_CONFIG, navigator.hardwareConcurrency || 2) : 1;
  const session = await ort.InferenceSession.create(new Uint8Array(await loadModelBytes(MODEL_URL)), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const video = document.getElementById('video') as HTMLVideoElement;
  const camera = new CameraSource({ width: 640, height: 480 });
  video.srcObject = await camera.open();
  await video.play();
  const size = YOLOX_NANO.input.size;
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const overlay = (document.getElementById('overlay') as HTMLCanvasElement).getContext('2d')!;
  let measuring = false;
  let running = true;
  let results = 0;
  const latency: number[] = [];
  const preprocess: number[] = [];
  const loop = async () => {
    while (running) {
      await new Promise((r) => requestAnimationFrame(r));
      const t0 = performance.now();
      const lb = letterbox(video.videoWidth, video.videoHeight, size, 'top-left');
      ctx.fillStyle = 'rgb(114,114,114)';
      ctx.fillRect(0, 0, size, size);
      ctx.drawImage(video, 0, 0, lb.width, lb.height);
      const tensor = rgbaToTensor(ctx.getImageData(0, 0, size, size).data, YOLOX_NANO);
      const t1 = performance.now();
      const out = (await session.run({ images: new ort.Tensor('float32', tensor, [1, 3, size, size]) })).output!;
      const dets = decode(YOLOX_NANO, out.data as Float32Array, out.dims, lb, video.videoWidth, video.videoHeight);
      overlay.clearRect(0, 0, 640, 480);
      overlay.strokeStyle = '#f43f5e';
      for (const d of dets) overlay.strokeRect(d.x, d.y, d.w, d.h);
      if (measuring) {
        results++;
        preprocess.push(t1 - t0);
        latency.push(performance.now() - t0);
      }
    }
  };
  const done = loop();
  await sleep(warmupMs);
  const stop = watchMainThread();
  measuring = true;
  const t0 = performance.now();
  await sleep(durationMs);
  measuring = false;
  const main = stop();
  const seconds = (performance.now() - t0) / 1000;
  running = false;
  await done;
  camera.stop();
  await session.release();
  return { fps: results / seconds, latency_ms_p50: p(latency, 50), latency_ms_p95: p(latency, 95), preprocess_ms_p50: p(preprocess, 50), main_long_tasks: main.longTasks, main_raf_fps: main.rafFps };
}

/** The app's defaults the runner needs: the localization queue, and the WASM threads each worker gets per pool size. */
function defaults(pools: number[]) {
  const cores = navigator.hardwareConcurrency || 2;
  return { queue: DEFAULT_CONFIG.localization, pool: DEFAULT_CONFIG.poolSize, threads: Object.fromEntries(pools.map((n) => [n, threadsFor({ ...DEFAULT_CONFIG, poolSize: n }, cores)])) };
}

/** The app's own calibration (src/vision/calibrate.ts), exactly as a first start runs it: its layouts, measurements and choice. */
async function calibrate(provider: ProviderPreference, opts: { warmupMs?: number; measureMs?: number } = {}) {
  const cores = navigator.hardwareConcurrency || 2;
  const config: PipelineConfig = { ...DEFAULT_CONFIG, provider };
  const where = await calibrationProvider(config);
  const layouts = calibrationLayouts(cores, where);
  const t0 = performance.now();
  const result = await measureLayouts({ config, layouts, ...opts });
  const fallback = defaultLayout(cores);
  return { cores, provider: where, frameIntervalMs: CALIBRATION_FRAME_INTERVAL_MS, layouts, measurements: result.measurements, choice: chooseLayout(result.measurements, CALIBRATION_FRAME_INTERVAL_MS, fallback), fallback, seconds: (performance.now() - t0) / 1000, browser: navigator.userAgent };
}

(window as unknown as { bench: unknown }).bench = { raw, pipelineRun, baseline, defaults, cameraAlone, calibrate };
document.body.dataset.ready = 'true';
