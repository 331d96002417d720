import { YOLOX_NANO } from '../model/manifest';
import { PROVIDER_PREFERENCES, type ProviderPreference } from '../model/provider';
import { ConfigError, channelProblems, timingProblems, type DropPolicy } from '@framewise/pipeline';
import type { ModelSource, ProbeScript } from '../shared/protocol';
import type { ModelManifest } from '../model/manifest';

export { ConfigError };

export interface ChannelSettings {
  readonly policy: DropPolicy;
  readonly capacity: number;
}

/**
 * What the task-state worker judges the step on: `pool`, the pool's detections of the frames it
 * analysed (the judge runs no model: it costs next to nothing and sees what the screen shows);
 * `detector`, its own run of the model on the newest frame (the seed design; it costs a core's
 * share, at `state.maxRate` frames a second).
 */
export const JUDGE_SOURCES = ['pool', 'detector'] as const;
export type JudgeSource = (typeof JUDGE_SOURCES)[number];

/** Every knob of the pipeline, in one typed object. */
export interface PipelineConfig {
  /** Localization workers in the pool. */
  readonly poolSize: number;
  /** The pool's shared queue. */
  readonly localization: ChannelSettings;
  /** The task-state worker's slot. */
  readonly state: ChannelSettings & {
    /**
     * Most frames per second the state worker starts when it runs a model (task state changes at
     * human speed); 0 = no limit. A judge on the pool's detections takes every frame it can: each
     * only asks for the verdict on the newest detections, so it waits for no tick.
     */
    readonly maxRate: number;
  };
  /** What the state worker judges on. */
  readonly judge: JudgeSource;
  /**
   * The model a judge on its own detector runs (e.g. a bigger one than the overlay's, for
   * verdicts); absent: the pool's. Its labels must include every label a task uses.
   */
  readonly judgeModel?: { readonly manifest: ModelManifest; readonly source: ModelSource };
  /** A hung worker is restarted after max(this, 3 × its recent p95 processing time). */
  readonly watchdogFloorMs: number;
  readonly heartbeatMs: number;
  /** How long shutdown waits for in-flight frames before terminating workers. */
  readonly drainTimeoutMs: number;
  /** What the workers run on each frame: the detector, or the probe (no model; for tests and demos). */
  readonly processor: 'detector' | 'probe';
  readonly model: { readonly manifest: ModelManifest; readonly source: ModelSource };
  /** WebGPU, WASM, or auto (WebGPU on a real adapter, else WASM). */
  readonly provider: ProviderPreference;
  /** WASM threads per worker; 0 = share the cores out across all workers. */
  readonly threadsPerWorker: number;
  /** Detections below this score are not shown and start no track. */
  readonly scoreThreshold: number;
  /** Boxes from here up to scoreThreshold only keep existing tracks alive (ByteTrack's second association). */
  readonly trackLowScore: number;
  /** Behaviour of the probe processor. */
  readonly probe: ProbeScript;
  /** Tests only: each result carries the exact tensor the model ran on. */
  readonly captureModelInput?: boolean;
  /** Tests only: each detector worker destroys its WebGPU device after this many frames. */
  readonly loseGpuDeviceAfterFrames?: number;
  /** Tests only: frames (by seq) the detector treats as unreadable. */
  readonly failFrames?: readonly number[];
}

/** A bounded queue's size when none is given: the seed design's 5. */
export const QUEUE_CAPACITY = 5;

/**
 * The queue's size after its policy changes to `policy`: latest-only holds exactly one frame;
 * leaving it for a real queue gives the usual size; otherwise the size stays.
 */
export function capacityFor(policy: DropPolicy, previous: { policy: DropPolicy; capacity: number }): number {
  if (policy === 'latest-only') return 1;
  return previous.policy === 'latest-only' ? QUEUE_CAPACITY : previous.capacity;
}

export const DEFAULT_CONFIG: PipelineConfig = Object.freeze<PipelineConfig>({
  poolSize: 2,
  // A free worker takes the newest frame: capture → drawn stays within the inference plus one
  // frame interval (bench/ and the README's Performance section); drop-new 5 waits behind up to 5.
  localization: { policy: 'latest-only', capacity: 1 },
  state: { policy: 'latest-only', capacity: 1, maxRate: 4 },
  judge: 'pool',
  watchdogFloorMs: 3000,
  heartbeatMs: 500,
  drainTimeoutMs: 5000,
  processor: 'detector',
  model: { manifest: YOLOX_NANO, source: { url: `${import.meta.env.BASE_URL}models/yolox_nano.onnx` } },
  provider: 'auto',
  threadsPerWorker: 0,
  scoreThreshold: 0.3,
  trackLowScore: 0.1,
  probe: { delayMs: 0 },
});

/** WASM threads each worker gets: the cores shared out, at least one. */
export function threadsFor(c: PipelineConfig, cores: number): number {
  if (c.threadsPerWorker > 0) return c.threadsPerWorker;
  return Math.max(1, Math.floor(cores / (c.poolSize + 1)));
}


/** Problems with a configuration, each naming its field; empty when it is valid. */
export function validateConfig(c: PipelineConfig): string[] {
  const problems: string[] = [];
  const whole = (v: number, name: string, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) problems.push(`${name} must be a whole number from ${min} to ${max}, got ${v}`);
  };
  whole(c.poolSize, 'poolSize', 1, 16);
  problems.push(...channelProblems('localization', c.localization), ...channelProblems('state', c.state));
  problems.push(...timingProblems(c));
  if (!(JUDGE_SOURCES as readonly string[]).includes(c.judge)) problems.push(`judge must be ${JUDGE_SOURCES.join(' or ')}, got "${c.judge}"`);
  if (!['detector', 'probe'].includes(c.processor)) problems.push(`processor must be detector or probe, got "${c.processor}"`);
  if (!PROVIDER_PREFERENCES.includes(c.provider)) problems.push(`provider must be ${PROVIDER_PREFERENCES.join(', ')}, got "${c.provider}"`);
  whole(c.threadsPerWorker, 'threadsPerWorker', 0, 16);
  if (!(c.scoreThreshold > 0 && c.scoreThreshold < 1)) problems.push(`scoreThreshold must be between 0 and 1, got ${c.scoreThreshold}`);
  // Above scoreThreshold it simply has no effect (no box is both confident and uncertain).
  if (!(c.trackLowScore > 0 && c.trackLowScore < 1)) problems.push(`trackLowScore must be between 0 and 1, got ${c.trackLowScore}`);
  if (!(c.probe.delayMs >= 0)) problems.push(`probe.delayMs must be ≥ 0, got ${c.probe.delayMs}`);
  return problems;
}

/**
 * URL parameters that override the configuration:
 * `pool`, `locPolicy`, `locCapacity`, `statePolicy`, `stateCapacity`, `stateRate`,
 * `judge`, `watchdogFloor`, `heartbeat`, `drainTimeout`, `processor`, `provider`, `threads`, `score`, `probeDelay`;
 * and, only where `faultInjection` is on (any build but production: the dev server, tests), `failFrames`.
 * Throws a ConfigError listing every bad parameter.
 */
export function configFromUrl(search: string, base: PipelineConfig = DEFAULT_CONFIG, faultInjection = import.meta.env.MODE !== 'production'): PipelineConfig {
  const params = new URLSearchParams(search);
  const problems: string[] = [];
  const num = (key: string, fallback: number): number => {
    const raw = params.get(key);
    if (raw === null) return fallback;
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v)) {
      problems.push(`URL parameter ${key}="${raw}" is not a number`);
      return fallback;
    }
    return v;
  };
  const policy = (key: string, fallback: DropPolicy): DropPolicy => (params.get(key) as DropPolicy | null) ?? fallback;

  const statePolicy = policy('statePolicy', base.state.policy);
  const locPolicy = policy('locPolicy', base.localization.policy);
  const config: PipelineConfig = {
    poolSize: num('pool', base.poolSize),
    localization: { policy: locPolicy, capacity: num('locCapacity', capacityFor(locPolicy, base.localization)) },
    state: {
      policy: statePolicy,
      capacity: num('stateCapacity', statePolicy === 'latest-only' ? 1 : base.state.capacity),
      maxRate: num('stateRate', base.state.maxRate),
    },
    judge: (params.get('judge') as JudgeSource | null) ?? base.judge,
    watchdogFloorMs: num('watchdogFloor', base.watchdogFloorMs),
    heartbeatMs: num('heartbeat', base.heartbeatMs),
    drainTimeoutMs: num('drainTimeout', base.drainTimeoutMs),
    processor: (params.get('processor') as PipelineConfig['processor'] | null) ?? base.processor,
    model: base.model,
    provider: (params.get('provider') as ProviderPreference | null) ?? base.provider,
    threadsPerWorker: num('threads', base.threadsPerWorker),
    scoreThreshold: num('score', base.scoreThreshold),
    trackLowScore: num('trackLow', base.trackLowScore),
    probe: { ...base.probe, delayMs: num('probeDelay', base.probe.delayMs) },
    ...(params.has('failFrames') && faultInjection ? { failFrames: (params.get('failFrames') ?? '').split(',').map(Number).filter(Number.isInteger) } : {}),
  };
  if (params.has('failFrames') && !faultInjection) problems.push('URL parameter failFrames (fault injection) is only accepted by test and development builds, not by this production build');
  problems.push(...validateConfig(config));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * Whether this page calibrates the layout on its own (`?calibrate=`): `auto` when no calibration is
 * kept for this device and model, `off` never (a kept one still applies; Settings can re-calibrate).
 * Unset: `auto`, except under automation (`navigator.webdriver`: tests and the benchmark), where a
 * first-load calibration would cost every test several seconds of both cores: there it is `off`
 * unless the URL asks. Explicit `?pool=` or `?threads=` skip it too (layout.ts, resolveLayout).
 */
export type CalibrationMode = 'auto' | 'off';

export function calibrationFromUrl(search: string, automated: boolean): CalibrationMode {
  const v = new URLSearchParams(search).get('calibrate');
  if (v === null) return automated ? 'off' : 'auto';
  if (v !== 'auto' && v !== 'off') throw new ConfigError([`URL parameter calibrate must be auto or off, got "${v}"`]);
  return v;
}

/** The layout the URL names (`?pool=`, `?threads=`): either may be absent. Validated by configFromUrl. */
export function layoutFromUrl(search: string): { pool?: number; threads?: number } {
  const params = new URLSearchParams(search);
  const pool = params.get('pool');
  const threads = params.get('threads');
  return { ...(pool === null ? {} : { pool: Number(pool) }), ...(threads === null ? {} : { threads: Number(threads) }) };
}

/** Today's one size: the default pool, with the cores shared out among its workers (threadsFor). */
export function defaultLayout(cores: number): { pool: number; threads: number } {
  return { pool: DEFAULT_CONFIG.poolSize, threads: threadsFor(DEFAULT_CONFIG, cores) };
}
