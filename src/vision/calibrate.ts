// The calibration's measuring, on the page: the model alone (no camera) at each candidate layout,
// in the app's own pipeline and workers, fed synthetic frames at the camera's rate. What it picks
// is layout.ts's; when it runs, and what is kept, the layout controller's.
import { percentile, SyntheticSource } from '@framewise/pipeline';
import { loadModelBytes } from '../model/model-bytes';
import { chooseProvider } from '../workers/detector/choose-provider';
import { sleep } from '../util/sleep';
import type { PipelineConfig } from './config';
import { candidateLayouts, type Layout, type LayoutKeyParts, type LayoutMeasurement, type LayoutProvider } from './layout';
import { createVisionPipeline } from './vision-pipeline';

/** The longest a layout's workers may take over their first frames before the measuring starts anyway. */
const WARMUP_CAP_MS = 10_000;

/** The frame interval a calibration feeds at, and holds the latency to: a 30 fps camera's. */
export const CALIBRATION_FRAME_INTERVAL_MS = 1000 / 30;

export interface MeasureOptions {
  /** The app's configuration: its model, provider, score thresholds, processor (the probe runs no model: tests). Its pool, threads, queue and judge are the calibration's. */
  readonly config: PipelineConfig;
  readonly layouts: readonly Layout[];
  readonly frameIntervalMs?: number;
  /** Per layout, once every worker has answered its first frame: results before this are not counted. */
  readonly warmupMs?: number;
  /** Per layout: how long results are counted. */
  readonly measureMs?: number;
  readonly signal?: AbortSignal;
  /** Before each layout: its index (from 0) and the count. */
  readonly onProgress?: (index: number, total: number, layout: Layout) => void;
}

export interface MeasureResult {
  readonly measurements: LayoutMeasurement[];
  readonly cancelled: boolean;
}


/**
 * Each layout in turn: a fresh pipeline of `pool` workers with `threads` WASM threads each (the
 * state worker beside them, judging on the pool's detections as in the app), a latest-only queue,
 * synthetic 640×480 frames at the camera's rate; once every worker has answered a first frame and
 * `warmupMs` more have passed, every result's inference time
 * and capture → result latency for `measureMs`. A layout that cannot start is measured as failed.
 * Cancelling stops the layout being measured at once and measures no more.
 */
export async function measureLayouts(o: MeasureOptions): Promise<MeasureResult> {
  const interval = o.frameIntervalMs ?? CALIBRATION_FRAME_INTERVAL_MS;
  const warmupMs = o.warmupMs ?? 300;
  const measureMs = o.measureMs ?? 2500;
  const measurements: LayoutMeasurement[] = [];
  for (const [i, layout] of o.layouts.entries()) {
    if (o.signal?.aborted) return { measurements, cancelled: true };
    o.onProgress?.(i, o.layouts.length, layout);
    measurements.push(await measureOne(o.config, layout, interval, warmupMs, measureMs, o.signal));
    if (o.signal?.aborted) return { measurements: measurements.slice(0, -1), cancelled: true };
  }
  return { measurements, cancelled: false };
}

async function measureOne(base: PipelineConfig, layout: Layout, interval: number, warmupMs: number, measureMs: number, signal?: AbortSignal): Promise<LayoutMeasurement> {
  const config: PipelineConfig = {
    ...base,
    poolSize: layout.pool,
    threadsPerWorker: layout.threads,
    localization: { policy: 'latest-only', capacity: 1 },
    judge: 'pool',
    judgeModel: undefined,
    captureModelInput: false,
    // A first frame slowed by start-up (or by other work on the machine) is warm-up here, not a hang.
    watchdogFloorMs: Math.max(base.watchdogFloorMs, WARMUP_CAP_MS),
  };
  let pipeline;
  const started = performance.now();
  try {
    pipeline = await createVisionPipeline(config);
  } catch (err) {
    return { ...layout, fps: 0, inferenceMs: NaN, latencyMs: NaN, frames: 0, error: err instanceof Error ? err.message : String(err) };
  }
  const startMs = performance.now() - started;
  const inference: number[] = [];
  const processing: number[] = [];
  const latency: number[] = [];
  let provider: string | undefined;
  let failure: string | undefined;
  let counting = false;
  // Warm: every worker has answered once (its first frame carries first-run costs, as the bench's model-alone run also leaves out).
  const answered = new Set<string>();
  let warm = () => {};
  const allWarm = new Promise<void>((resolve) => (warm = resolve));
  pipeline.subscribe((r) => {
    if (r.role !== 'localization') return;
    answered.add(r.workerId);
    if (answered.size >= layout.pool) warm();
    if (r.type === 'error') {
      failure ??= r.message;
      return;
    }
    if (!counting) return;
    // The probe (tests, demos: `?processor=probe`) runs no model: its processing time stands for the inference.
    if (r.output.kind === 'detections') provider = r.output.provider;
    inference.push(r.output.kind === 'detections' ? r.output.inferenceMs : r.processMs);
    processing.push(r.processMs);
    latency.push(performance.now() - r.captureTs);
  });
  const source = new SyntheticSource({ fps: 1000 / interval, count: Infinity, width: 640, height: 480 });
  const running = pipeline.run(source);
  await Promise.race([allWarm, sleep(WARMUP_CAP_MS, signal)]);
  await sleep(warmupMs, signal);
  counting = true;
  const t0 = performance.now();
  await sleep(measureMs, signal);
  counting = false;
  const seconds = (performance.now() - t0) / 1000;
  await pipeline.stopSource();
  await running.catch(() => undefined);
  await pipeline.shutdown();
  const frames = inference.length;
  return {
    ...layout,
    fps: frames / seconds,
    inferenceMs: percentile(inference, 50) ?? NaN,
    processMs: percentile(processing, 50) ?? NaN,
    latencyMs: percentile(latency, 50) ?? NaN,
    frames,
    startMs: Math.round(startMs),
    ...(provider ? { provider } : {}),
    ...(frames === 0 ? { error: failure ?? 'no frame came back' } : {}),
  };
}

/** Where the model will run for `config`, and so which layouts are worth measuring. */
export async function calibrationProvider(config: PipelineConfig): Promise<LayoutProvider> {
  return (await chooseProvider(config.provider)).provider;
}

export function calibrationLayouts(cores: number, provider: LayoutProvider): Layout[] {
  return candidateLayouts(cores, provider);
}

async function sha256(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The browser and its version: the user agent, with the full version list where the browser gives one. */
export async function browserIdentity(): Promise<string> {
  type UAData = { getHighEntropyValues(hints: string[]): Promise<{ fullVersionList?: { brand: string; version: string }[] }> };
  const data = (navigator as Navigator & { userAgentData?: UAData }).userAgentData;
  const full = await data
    ?.getHighEntropyValues(['fullVersionList'])
    .then((v) => v.fullVersionList?.map((b) => `${b.brand}/${b.version}`).join(', '))
    .catch(() => undefined);
  return full ? `${navigator.userAgent} (${full})` : navigator.userAgent;
}

/** What a calibration for `config` on this device is remembered by: the model's bytes (hashed), the browser, the cores, the provider. */
export async function layoutKeyParts(config: PipelineConfig, cores = navigator.hardwareConcurrency || 2): Promise<LayoutKeyParts> {
  const source = config.model.source;
  const bytes = 'url' in source ? await loadModelBytes(new URL(source.url, document.baseURI).href) : source.bytes;
  return {
    model: { id: config.model.manifest.id, name: config.model.manifest.name, bytes: bytes.byteLength, sha256: await sha256(bytes) },
    browser: await browserIdentity(),
    cores,
    provider: config.provider,
  };
}
