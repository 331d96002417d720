// The pipeline's layout (localization workers × WASM threads per worker) for this device: which
// layouts a calibration measures, and which one it picks from what it measured. Pure: the
// measuring is calibrate.ts's, the remembering the store's, the applying the layout controller's.

/** Where the model runs during a calibration: on WASM the threads matter, on WebGPU only the pool. */
export type LayoutProvider = 'wasm' | 'webgpu';

export interface Layout {
  /** Localization workers. */
  readonly pool: number;
  /** WASM threads per worker. */
  readonly threads: number;
}

/** One layout, measured: the model alone (no camera), p workers at once, fed at the camera's rate. */
export interface LayoutMeasurement extends Layout {
  /** Results delivered per second. */
  readonly fps: number;
  /** Inference p50 per frame (the model's run), with all `pool` workers running at once (they share the cores). */
  readonly inferenceMs: number;
  /**
   * The worker's whole time per frame, p50: preprocess, the model, decode. The latency bound adds a
   * frame interval to it. Absent in a record kept before it was measured: the inference stands for it.
   */
  readonly processMs?: number;
  /** Capture → result on the page, p50: the inference plus the wait for a free worker and the hand-over. */
  readonly latencyMs: number;
  /** Results the figures are taken over. */
  readonly frames: number;
  /** Where the model ran ('wasm' or 'webgpu'). */
  readonly provider?: string;
  /** How long its workers took to start (load the model, warm it up), before anything was measured. */
  readonly startMs?: number;
  /** Set when the layout could not be measured (it never counts as a candidate). */
  readonly error?: string;
}

/** How a layout came to be chosen. */
export type LayoutOutcome = 'calibrated' | 'cancelled' | 'failed';

export interface LayoutChoice {
  readonly layout: Layout;
  readonly outcome: LayoutOutcome;
  /** In words, for Settings: what was measured and why this one. */
  readonly reason: string;
}

/** Two throughputs this close (a share of the faster) are a tie: the lower latency wins. */
export const FPS_TIE = 0.05;
/** The most workers a calibration tries. */
export const MAX_POOL = 4;
/** The most layouts a WASM calibration measures (a few seconds in all). */
export const MAX_CANDIDATES = 6;

/**
 * Cores left to the main thread (capture, drawing) and the task-state worker: none below four
 * cores (there a whole core would leave the model one thread; the page and the judge on the pool's
 * detections take a few percent of a core and share), one up to eight, then one in eight.
 */
export function reservedCores(cores: number): number {
  return cores < 4 ? 0 : Math.ceil(cores / 8);
}

/** WASM threads the pool may use in all: the cores less the reserve, at least 1. */
export function threadBudget(cores: number): number {
  const c = Math.max(1, Math.floor(cores) || 1);
  return Math.max(1, c - reservedCores(c));
}

/**
 * The layouts worth measuring on `cores` cores. WASM: pool p (1…4) × threads t (1, 2, 4, 8, … and the
 * whole budget), with p·t within the thread budget and at least half of it (a layout leaving most of
 * the machine idle is not worth the seconds), at most MAX_CANDIDATES, the most threads per worker first
 * when there are too many. WebGPU: one worker against two (more may only queue on one GPU), one thread each.
 */
export function candidateLayouts(cores: number, provider: LayoutProvider): Layout[] {
  if (provider === 'webgpu') return [{ pool: 1, threads: 1 }, { pool: 2, threads: 1 }];
  const budget = threadBudget(cores);
  const threadCounts = [...new Set([1, 2, 4, 8, 16, budget].filter((t) => t <= budget))].sort((a, b) => a - b);
  const out: Layout[] = [];
  for (const threads of threadCounts) {
    for (let pool = 1; pool <= MAX_POOL; pool++) {
      const used = pool * threads;
      if (used <= budget && used * 2 >= budget) out.push({ pool, threads });
    }
  }
  // Too many: keep the layouts with the most threads per worker (the fastest single inference, the lowest latency).
  const kept = out.length > MAX_CANDIDATES ? [...out].sort((a, b) => b.threads - a.threads || a.pool - b.pool).slice(0, MAX_CANDIDATES) : out;
  return kept.sort((a, b) => a.pool - b.pool || a.threads - b.threads);
}

export function layoutName(l: Layout): string {
  return `${l.pool} worker${l.pool === 1 ? '' : 's'} × ${l.threads} thread${l.threads === 1 ? '' : 's'}`;
}

const f1 = (v: number) => (Math.round(v * 10) / 10).toString();
const ms = (v: number) => Math.round(v).toString();
const sameLayout = (a: Layout, b: Layout) => a.pool === b.pool && a.threads === b.threads;
/** A frame's time in its worker (preprocess, model, decode); where only the inference was kept, that. */
const work = (m: LayoutMeasurement) => (m.processMs !== undefined && Number.isFinite(m.processMs) ? m.processMs : m.inferenceMs);

/**
 * The layout with the best throughput whose latency stays within its own processing per frame
 * (preprocess, model, decode: the worker's time) plus one frame interval: a frame may wait for a worker at most one frame's time, so a layout whose frames queue
 * behind busy workers is out, however many it delivers. Throughputs within FPS_TIE of the best are a tie: the lowest latency wins,
 * then the fewest threads in all, then the fewest workers. Where no layout keeps the latency, the
 * lowest latency wins; where none was measured, `fallback` is kept (`fallbackIs` says what it is). The reason names every layout.
 */
export function chooseLayout(measurements: readonly LayoutMeasurement[], frameIntervalMs: number, fallback: Layout, fallbackIs = 'the default'): LayoutChoice {
  const ok = measurements.filter((m) => !m.error && m.frames > 0 && m.fps > 0 && Number.isFinite(m.latencyMs) && Number.isFinite(m.inferenceMs));
  const failed = measurements.filter((m) => !ok.includes(m));
  const failures = failed.map((m) => `${layoutName(m)} failed (${m.error ?? 'no frame came back'})`);
  if (ok.length === 0) {
    const why = measurements.length === 0 ? 'nothing was measured' : `no layout could be measured: ${failures.join('; ')}`;
    return { layout: fallback, outcome: 'failed', reason: `Calibration failed (${why}): keeping ${layoutName(fallback)}, ${fallbackIs}.` };
  }
  const limit = (m: LayoutMeasurement) => work(m) + frameIntervalMs;
  const within = ok.filter((m) => m.latencyMs <= limit(m));
  let chosen: LayoutMeasurement;
  let tied: LayoutMeasurement[] = [];
  if (within.length > 0) {
    const top = Math.max(...within.map((m) => m.fps));
    tied = within.filter((m) => m.fps >= top * (1 - FPS_TIE));
    chosen = [...tied].sort((a, b) => a.latencyMs - b.latencyMs || a.pool * a.threads - b.pool * b.threads || a.pool - b.pool)[0]!;
  } else {
    chosen = [...ok].sort((a, b) => a.latencyMs - b.latencyMs || b.fps - a.fps || a.pool * a.threads - b.pool * b.threads)[0]!;
  }
  const head =
    within.length > 0
      ? `${layoutName(chosen)}: ${f1(chosen.fps)} fps, latency ${ms(chosen.latencyMs)} ms ≤ processing ${ms(work(chosen))} + ${ms(frameIntervalMs)} ms`
      : `${layoutName(chosen)}: ${f1(chosen.fps)} fps, latency ${ms(chosen.latencyMs)} ms, the lowest; no layout kept within its processing + ${ms(frameIntervalMs)} ms`;
  const others = ok
    .filter((m) => !sameLayout(m, chosen))
    .map((m) => {
      if (m.latencyMs > limit(m)) return `${layoutName(m)} gave ${f1(m.fps)} fps but ${ms(m.latencyMs)} ms latency > processing ${ms(work(m))} + ${ms(frameIntervalMs)} ms`;
      if (tied.includes(m)) return `${layoutName(m)} gave ${f1(m.fps)} fps (as fast, within ${FPS_TIE * 100}%) at ${ms(m.latencyMs)} ms`;
      return `${layoutName(m)} gave ${f1(m.fps)} fps`;
    });
  const reason = [head, ...others, ...failures].join('; ') + '.';
  return { layout: { pool: chosen.pool, threads: chosen.threads }, outcome: 'calibrated', reason };
}

/** A calibration cancelled: the layout in use stays (a previous calibration's, else the default), and it says so. */
export function cancelledChoice(previous: LayoutChoice | undefined, fallback: Layout): LayoutChoice {
  if (previous && previous.outcome === 'calibrated') {
    return { layout: previous.layout, outcome: 'cancelled', reason: `Calibration cancelled: keeping ${layoutName(previous.layout)}, the previous calibration's choice.` };
  }
  return { layout: fallback, outcome: 'cancelled', reason: `Calibration cancelled: keeping ${layoutName(fallback)}, the default.` };
}

/** What a calibration is remembered by: a different model, browser, core count or provider calibrates again. */
export interface LayoutKeyParts {
  /** The model's identity: its manifest id and name, and its bytes' size and SHA-256. */
  readonly model: { readonly id: string; readonly name: string; readonly bytes: number; readonly sha256: string };
  /** The browser and its version (the user agent, and the full version list where the browser gives one). */
  readonly browser: string;
  readonly cores: number;
  /** The provider asked for (auto, webgpu, wasm). */
  readonly provider: string;
}

export function layoutKey(p: LayoutKeyParts): string {
  return JSON.stringify([p.model.id, p.model.name, p.model.bytes, p.model.sha256, p.browser, p.cores, p.provider]);
}

/** Where the layout in use comes from, strongest first. */
export type LayoutSource = 'url' | 'manual' | 'calibrated' | 'default';

/**
 * The layout the pipeline starts with: URL parameters (`?pool=`, `?threads=`) beat a layout chosen in
 * Settings, which beats the calibrated one, which beats the default. A URL that names only one of the
 * two takes the other from what it beats.
 */
export function resolveLayout(o: { readonly url?: Partial<Layout>; readonly manual?: Layout; readonly calibrated?: Layout; readonly fallback: Layout }): { layout: Layout; source: LayoutSource } {
  const below = o.manual ? { layout: o.manual, source: 'manual' as const } : o.calibrated ? { layout: o.calibrated, source: 'calibrated' as const } : { layout: o.fallback, source: 'default' as const };
  if (o.url && (o.url.pool !== undefined || o.url.threads !== undefined)) return { layout: { pool: o.url.pool ?? below.layout.pool, threads: o.url.threads ?? below.layout.threads }, source: 'url' };
  return below;
}

/** A calibration as the store keeps it: what it was for, what it measured, and what it chose. */
export interface LayoutRecord {
  /** layoutKey(parts) */
  readonly key: string;
  readonly parts: LayoutKeyParts;
  /** ISO time of the calibration. */
  readonly at: string;
  readonly frameIntervalMs: number;
  /** Where the model ran ('wasm' or 'webgpu'). */
  readonly provider: LayoutProvider;
  readonly measurements: readonly LayoutMeasurement[];
  readonly choice: LayoutChoice;
}
