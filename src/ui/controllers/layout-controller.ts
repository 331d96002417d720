import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { Store } from '../../store/db';
import { defaultLayout, threadsFor, type CalibrationMode, type PipelineConfig } from '../../vision/config';
import { CALIBRATION_FRAME_INTERVAL_MS, calibrationLayouts, calibrationProvider, layoutKeyParts, measureLayouts } from '../../vision/calibrate';
import { cancelledChoice, chooseLayout, layoutKey, layoutName, resolveLayout, type Layout, type LayoutRecord, type LayoutSource } from '../../vision/layout';

export interface LayoutDeps {
  readonly store: () => Store | undefined;
  /** The app's configuration now (its model and provider are what a calibration is for). */
  readonly config: () => PipelineConfig | undefined;
  /** Sets the pool and threads the pipeline starts with. */
  readonly apply: (layout: Layout) => void;
  readonly onError: (message: string) => void;
}

export interface LayoutContext {
  /** What the page address names (`?pool=`, `?threads=`): explicit beats calibrated. */
  readonly url: { readonly pool?: number; readonly threads?: number };
  /** A layout chosen in Settings, if one is. */
  readonly manual: Layout | undefined;
  readonly mode: CalibrationMode;
}

/** What Settings shows of the layout. */
export interface LayoutView {
  readonly layout: Layout;
  readonly source: LayoutSource;
  /** The line Settings shows: the layout, where it comes from and why. */
  readonly summary: string;
  /** The kept calibration for this device and model, if any. */
  readonly record?: LayoutRecord;
}

export interface CalibrationProgress {
  readonly index: number;
  readonly total: number;
  readonly layout: Layout;
}

/**
 * The pipeline's layout for this device: looks up the calibration kept for this device and model,
 * runs one where there is none (shown, cancellable), keeps it, and applies it unless the page
 * address or Settings chose a layout. Announces each calibration as a `framewise:calibrating` event and
 * each settled layout as a `framewise:layout` event (for tests: they wait on conditions, not time).
 */
export class LayoutController implements ReactiveController {
  status: 'idle' | 'checking' | 'calibrating' = 'idle';
  progress: CalibrationProgress | undefined;
  /** Said once a calibration ends other than as planned (cancelled, failed). */
  notice = '';
  record: LayoutRecord | undefined;
  private ctx: LayoutContext = { url: {}, manual: undefined, mode: 'off' };
  private abort: AbortController | undefined;
  private readonly cores = navigator.hardwareConcurrency || 2;

  constructor(private readonly host: ReactiveControllerHost, private readonly deps: LayoutDeps) {
    host.addController(this);
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    this.abort?.abort();
  }

  get calibrating(): boolean {
    return this.status === 'calibrating';
  }

  get busy(): boolean {
    return this.status !== 'idle';
  }

  private get fallback(): Layout {
    return defaultLayout(this.cores);
  }

  /** The layout in use and why. */
  get view(): LayoutView {
    const calibrated = this.record?.choice.outcome === 'calibrated' ? this.record.choice.layout : undefined;
    const { layout, source } = this.resolved(calibrated);
    const shown = { pool: layout.pool, threads: layout.threads || threadsFor({ poolSize: layout.pool, threadsPerWorker: 0 } as PipelineConfig, this.cores) };
    const why =
      source === 'url'
        ? 'set by the page address (?pool=, ?threads=)'
        : source === 'manual'
          ? `chosen here${calibrated ? `; calibrated: ${layoutName(calibrated)}` : ''}`
          : source === 'calibrated'
            ? `calibrated: ${this.record!.choice.reason}`
            : this.record
              ? `default: ${this.record.choice.reason}`
              : this.status === 'calibrating'
                ? 'default, until the calibration ends'
                : this.ctx.mode === 'off'
                  ? 'default: not calibrated on this device (calibration off for this page)'
                  : 'default: not calibrated on this device yet';
    return { layout: shown, source, summary: `Layout: ${layoutName(shown)} (${why})`, ...(this.record ? { record: this.record } : {}) };
  }

  /** The layout to start with (threads 0: the cores shared out), and where it comes from. */
  private resolved(calibrated = this.record?.choice.outcome === 'calibrated' ? this.record.choice.layout : undefined): { layout: Layout; source: LayoutSource } {
    const config = this.deps.config();
    const r = resolveLayout({ url: this.ctx.url, manual: this.ctx.manual, calibrated, fallback: this.fallback });
    // The page address's pool keeps the configuration's own threads for it (configFromUrl's), as before.
    return r.source === 'url' && config ? { layout: { pool: config.poolSize, threads: config.threadsPerWorker }, source: 'url' } : r;
  }

  /** At start, once the store is open: look up, calibrate if needed, apply. */
  async start(ctx: LayoutContext): Promise<void> {
    this.ctx = ctx;
    const store = this.deps.store();
    const explicit = ctx.url.pool !== undefined || ctx.url.threads !== undefined;
    if (!explicit && store && (ctx.mode === 'auto' || (await store.countLayouts()) > 0)) {
      await this.lookup();
      if (!this.record && !ctx.manual && ctx.mode === 'auto') return this.calibrate();
    }
    this.settle();
  }

  /** Settings changed: a layout chosen there (or none); `next`, the configuration for a new provider, which is another calibration's key. */
  async update(manual: Layout | undefined, next: PipelineConfig | undefined): Promise<void> {
    this.ctx = { ...this.ctx, manual };
    if (next) {
      this.record = undefined;
      await this.lookup(next);
    }
    this.settle();
  }

  /** The pool and threads of `config` replaced by the layout in use. */
  withLayout(config: PipelineConfig): PipelineConfig {
    const { layout, source } = this.resolved();
    return source === 'url' ? config : { ...config, poolSize: layout.pool, threadsPerWorker: layout.threads };
  }

  /** Measures the candidate layouts now (the person asked, or none is kept), keeps the choice and applies it. */
  async calibrate(): Promise<void> {
    const config = this.deps.config();
    const store = this.deps.store();
    if (!config || this.calibrating) return;
    const abort = (this.abort = new AbortController());
    this.set({ status: 'calibrating', notice: '', progress: undefined });
    dispatchEvent(new CustomEvent('framewise:calibrating'));
    try {
      const parts = await layoutKeyParts(config, this.cores);
      const provider = await calibrationProvider(config);
      const layouts = calibrationLayouts(this.cores, provider);
      const frameIntervalMs = CALIBRATION_FRAME_INTERVAL_MS;
      const result = await measureLayouts({ config, layouts, frameIntervalMs, signal: abort.signal, onProgress: (index, total, layout) => this.set({ progress: { index, total, layout } }) });
      const previous = this.record;
      if (result.cancelled) {
        const choice = cancelledChoice(previous?.choice, this.fallback);
        this.set({ notice: choice.reason });
        // A first calibration cancelled is kept as such (it is not run again at every start; Settings re-calibrates); a later one keeps the previous.
        if (!previous) await this.keep(store, { key: layoutKey(parts), parts, at: new Date().toISOString(), frameIntervalMs, provider, measurements: result.measurements, choice });
      } else {
        const kept = previous?.choice.outcome === 'calibrated' ? previous.choice.layout : undefined;
        const choice = chooseLayout(result.measurements, frameIntervalMs, kept ?? this.fallback, kept ? "the previous calibration's choice" : 'the default');
        const record: LayoutRecord = { key: layoutKey(parts), parts, at: new Date().toISOString(), frameIntervalMs, provider, measurements: result.measurements, choice };
        if (choice.outcome === 'failed') {
          // Not kept: a machine busy with other work can fail it; the next start tries again. A previous calibration stays.
          this.set({ notice: choice.reason });
          if (!kept) this.record = record;
        } else {
          await this.keep(store, record);
        }
      }
    } catch (err) {
      this.set({ notice: `Calibration failed (${err instanceof Error ? err.message : String(err)}): keeping ${layoutName(this.view.layout)}.` });
    } finally {
      this.abort = undefined;
      this.set({ status: 'idle', progress: undefined });
      this.settle();
    }
  }

  cancel(): void {
    this.abort?.abort();
  }

  private async keep(store: Store | undefined, record: LayoutRecord): Promise<void> {
    this.record = record;
    await store?.saveLayout(record).catch((err: unknown) => this.deps.onError(`The calibration could not be kept on this device (${err instanceof Error ? err.message : String(err)}); it applies until the page is closed.`));
  }

  private async lookup(config = this.deps.config()): Promise<void> {
    const store = this.deps.store();
    if (!config || !store) return;
    this.set({ status: 'checking' });
    try {
      this.record = await store.getLayout(layoutKey(await layoutKeyParts(config, this.cores)));
    } catch (err) {
      this.deps.onError(`The kept calibration could not be read (${err instanceof Error ? err.message : String(err)}); using the default layout.`);
    } finally {
      this.set({ status: 'idle' });
    }
  }

  /** Applies the layout in use and says which it is. */
  private settle(): void {
    const view = this.view;
    const { layout, source } = this.resolved();
    if (source !== 'url') this.deps.apply(layout);
    this.host.requestUpdate();
    dispatchEvent(new CustomEvent('framewise:layout', { detail: { pool: view.layout.pool, threads: view.layout.threads, source: view.source, outcome: this.record?.choice.outcome ?? null, at: this.record?.at ?? null } }));
  }

  private set(patch: Partial<Pick<LayoutController, 'status' | 'progress' | 'notice'>>): void {
    Object.assign(this, patch);
    this.host.requestUpdate();
  }
}
