import { LitElement, css, html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { configFromUrl, ConfigError, DEFAULT_CONFIG, type PipelineConfig } from '../pipeline/config';
import { applySettings, loadSettings, saveSettings, settingsFrom, type Settings } from '../settings';
import './settings-panel';
import { Pipeline, type PipelineStats } from '../pipeline/pipeline';
import type { PipelineResult } from '../pipeline/results';
import type { ProcessorOutput } from '../shared/protocol';
import { CameraSource, CameraError } from '../pipeline/sources/camera';
import './hud';
import './overlay';
import './model-picker';
import type { ModelChangeEvent, ModelChoice } from './model-picker';
import type { OverlayFrame } from './overlay';
import { LiveScene } from '../guide/live-scene';
import './task-panel';
import './task-picker';
import { TaskGuide } from '../task/guide';
import { Store } from '../store/db';
import type { Task } from '../task/types';
import './sync-status';
import { Outbox } from '../sync/outbox';
import { SyncClient, type SyncStatus } from '../sync/client';
import { Recorder } from '../sync/recorder';
import { discoverSyncTarget } from '../sync/setup';
import { DeviceCredentials } from '../sync/credentials';
import { defaultDeviceName } from '../sync/enroll';
import type { StoragePersistence } from './sync-status';
import { registerServiceWorker } from '../pwa';
import './analysis-panel';
import { analyseFile } from '../analysis/runner';
import type { Analysis } from '../analysis/export';

function describe(o: ProcessorOutput): string {
  if (o.kind === 'probe') return `mean luma ${o.meanLuma.toFixed(1)}`;
  const found = o.detections.map((d) => `${d.label} ${(d.score * 100).toFixed(0)}%`).join(', ');
  return `${o.detections.length} objects${found ? ` (${found})` : ''} on ${o.provider}, inference ${o.inferenceMs.toFixed(0)} ms`;
}

/** The live page: camera → pipeline → what the workers say, with the numbers beside it. */
@customElement('fw-app')
export class App extends LitElement {
  @state() private status: 'idle' | 'starting' | 'running' | 'stopping' = 'idle';
  @state() private error = '';
  @state() private stats: PipelineStats | undefined;
  @state() private lastResult: PipelineResult | undefined;
  @state() private results = 0;
  @state() private overlay: OverlayFrame | undefined;
  @state() private model: ModelChoice | undefined;
  @state() private modelBusy = false;

  private pipeline: Pipeline | undefined;
  private camera: CameraSource | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private config: PipelineConfig | undefined;
  private guide: TaskGuide;
  @state() private guideVersion = 0;
  @state() private syncStatus: SyncStatus | undefined;
  /** A new version is waiting; applying it reloads, so it is offered only between sessions. */
  @state() private applyUpdate: (() => Promise<void>) | undefined;
  @state() private offlineReady = false;
  @state() private analysis: { done: number; total: number; startedAt: number; elapsedMs: number; abort: AbortController } | undefined;
  @state() private analysisResult: Analysis | undefined;
  private store: Store | undefined;
  @state() private settings: Settings | undefined;
  @state() private providerNotice = '';
  private outbox: Outbox | undefined;
  private sync: SyncClient | undefined;
  /** Each (re)start of sync; an older start still awaiting discovery gives way to a newer one. */
  private syncGeneration = 0;
  @state() private syncOff = '';
  @state() private storagePersistence: StoragePersistence | undefined;
  private recorder: Recorder | undefined;

  constructor() {
    super();
    this.guide = new TaskGuide(undefined, () => this.guideVersion++, (m) => (this.error = m));
  }

  static override styles = css`
    :host { display: grid; gap: 12px; padding: 12px; max-width: 1100px; margin: auto; }
    header { display: flex; align-items: center; gap: 12px; }
    h1 { font-size: 20px; margin: 0; flex: 1; }
    button { font: inherit; padding: 8px 16px; border-radius: 6px; border: 0; background: #38bdf8; color: #0f172a; cursor: pointer; }
    button:disabled { opacity: 0.5; cursor: default; }
    .stage { position: relative; }
    video { width: 100%; height: 60vh; object-fit: contain; background: #000; border-radius: 8px; display: block; }
    .error { background: #7f1d1d; padding: 8px 12px; border-radius: 6px; }
    .notice { background: #1e3a8a; padding: 8px 12px; border-radius: 6px; display: flex; gap: 12px; align-items: center; }
    .last { font: 13px ui-monospace, monospace; }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    try {
      this.settings = loadSettings();
      this.config = configFromUrl(location.search, this.settings ? applySettings(DEFAULT_CONFIG, this.settings) : DEFAULT_CONFIG);
    } catch (err) {
      this.error = err instanceof ConfigError ? err.message : String(err);
    }
    void Store.open()
      .then((store) => {
        this.store = store;
        this.guide = new TaskGuide(store, () => this.guideVersion++, (m) => (this.error = m));
        return this.guide.load();
      })
      .catch((err: unknown) => (this.error = `Saved tasks and progress are unavailable (${err instanceof Error ? err.message : String(err)}); built-in tasks still work.`));
    void this.startSync();
    registerServiceWorker(
      (apply) => (this.applyUpdate = apply),
      () => (this.offlineReady = true),
    );
  }

  /**
   * The outbox always records; it is sent wherever a backend is configured, under this
   * device's own credential for that backend (enrolled for once, kept in IndexedDB).
   * `reenrol` forgets the kept credential first (the person asked to enrol again).
   */
  private async startSync(reenrol = false): Promise<void> {
    const generation = ++this.syncGeneration;
    try {
      // One outbox for the page's lifetime: a running session's recorder keeps appending to it.
      this.outbox ??= await Outbox.open();
    } catch (err) {
      this.error = `Events cannot be kept on this device (${err instanceof Error ? err.message : String(err)}); guidance still works.`;
      return;
    }
    if (!this.storagePersistence) void this.requestPersistence();
    this.sync?.stop();
    this.sync = undefined;
    this.syncStatus = undefined;
    const target = await discoverSyncTarget(this.settings?.backendUrl ?? '');
    if (generation !== this.syncGeneration) return;
    if (!target) {
      this.syncOff = 'No backend: this app was not served by one and none is set in Settings. Every event is kept on this device.';
      return;
    }
    const outbox = this.outbox;
    const credentials = new DeviceCredentials(outbox, target, () => ({ name: this.settings?.deviceName.trim() || defaultDeviceName(), code: this.settings?.enrollCode || undefined }));
    if (reenrol) await credentials.forget();
    if (generation !== this.syncGeneration) return;
    this.sync = new SyncClient(outbox, { url: target.syncUrl, credential: credentials, onStatus: (s) => (this.syncStatus = s) });
    this.sync.start();
  }

  /** Asks the browser to keep the outbox under storage pressure, and shows what it said. */
  private async requestPersistence(): Promise<void> {
    const storage = navigator.storage as StorageManager | undefined;
    if (!storage?.persist) {
      this.storagePersistence = 'unsupported';
      return;
    }
    try {
      this.storagePersistence = (await storage.persisted?.()) || (await storage.persist()) ? 'persisted' : 'not-persisted';
    } catch {
      this.storagePersistence = 'unsupported';
    }
  }

  /** Saves settings and applies them: the pipeline is rebuilt if running, the sync reconnects if its target changed. */
  private async onSettings(s: Settings, reenrol = false): Promise<void> {
    if (!this.config) return;
    // A new code matters when this device is not enrolled yet (or was refused); a kept credential is otherwise used as is.
    const backendChanged = reenrol || s.backendUrl !== (this.settings?.backendUrl ?? '') || (!!s.enrollCode && this.syncStatus?.state === 'refused');
    saveSettings(s);
    this.settings = s;
    const next = applySettings(this.config, s);
    if (this.status === 'running') {
      const ok = await this.switchPipeline(this.model ? { ...next, model: this.model } : next, 'These settings');
      if (!ok) return;
    }
    this.config = next;
    if (backendChanged) await this.startSync(reenrol);
  }

  override render() {
    const busy = this.status === 'starting' || this.status === 'stopping' || this.modelBusy;
    return html`
      <header>
        <h1>Framewise</h1>
        <span data-testid="status">${this.status}</span>
        ${this.status === 'running'
          ? html`<button @click=${this.stop} ?disabled=${busy}>Stop</button>`
          : html`<button @click=${this.start} ?disabled=${busy || !this.config || !!this.analysis}>Start camera</button>`}
      </header>
      <fw-sync-status .status=${this.syncStatus} .off=${this.syncOff} .storage=${this.storagePersistence}></fw-sync-status>
      ${this.error ? html`<div class="error" role="alert" data-testid="error">${this.error}</div>` : ''}
      ${this.applyUpdate && this.status === 'idle'
        ? html`<div class="notice" role="status" data-testid="update">A new version of Framewise is ready.
            <button @click=${() => this.applyUpdate?.()}>Update now</button></div>`
        : ''}
      ${this.offlineReady ? html`<div class="notice" role="status" data-testid="offline-ready">Framewise now works offline.
            <button @click=${() => (this.offlineReady = false)} aria-label="Dismiss">✕</button></div>` : ''}
      <fw-task-picker .tasks=${this.guide.tasks} .selected=${this.guide.session?.task.id ?? ''}
        @task-select=${(e: CustomEvent<string>) => this.guide.select(e.detail)}
        @task-save=${(e: CustomEvent<Task>) => this.guide.save(e.detail)}></fw-task-picker>
      <fw-model-picker .current=${this.model?.manifest.name ?? this.config?.model.manifest.name ?? ''} ?busy=${busy}
        @model-change=${this.onModelChange} @model-error=${(e: CustomEvent<string>) => (this.error = e.detail)}></fw-model-picker>
      <fw-settings .settings=${this.settings ?? (this.config ? settingsFrom(this.config) : undefined)} @settings-save=${(e: CustomEvent<Settings>) => this.onSettings(e.detail)}
        @enrol-again=${(e: CustomEvent<Settings>) => this.onSettings(e.detail, true)}></fw-settings>
      ${this.providerNotice ? html`<div class="notice" role="status" data-testid="provider-notice">${this.providerNotice}</div>` : ''}
      <div class="stage">
        <video muted playsinline autoplay></video>
        <fw-overlay .frame=${this.overlay}></fw-overlay>
      </div>
      <fw-analysis-panel ?disabled=${this.status !== 'idle' || !this.config} ?running=${!!this.analysis}
        .done=${this.analysis?.done ?? this.analysisResult?.rows.length ?? 0} .total=${this.analysis?.total ?? this.analysisResult?.totalFrames ?? 0}
        .elapsedMs=${this.analysis?.elapsedMs ?? 0} .result=${this.analysisResult}
        @analysis-start=${(e: CustomEvent<File>) => this.analyse(e.detail)} @analysis-cancel=${() => this.analysis?.abort.abort()}></fw-analysis-panel>
      <fw-task-panel .view=${this.guide.session?.current} .instruction=${this.guide.instruction?.text ?? ''}
        @task-restart=${() => this.guide.restart()}></fw-task-panel>
      <div class="last" data-testid="last-result" aria-live="off">
        results: <span data-testid="result-count">${this.results}</span>
        ${this.lastResult
          ? this.lastResult.type === 'output'
            ? html` · last: frame ${this.lastResult.seq} from ${this.lastResult.workerId}, ${describe(this.lastResult.output)}, ${this.lastResult.latencyMs.toFixed(0)} ms after capture`
            : html` · last: frame ${this.lastResult.seq} failed: ${this.lastResult.message}`
          : ''}
      </div>
      <details class="hud"><summary>Pipeline metrics</summary><fw-hud .stats=${this.stats}></fw-hud></details>
    `;
  }

  private async start(): Promise<void> {
    if (!this.config) return;
    this.error = '';
    this.status = 'starting';
    try {
      this.camera = new CameraSource();
      const stream = await this.camera.open();
      this.renderRoot.querySelector('video')!.srcObject = stream;
      const config = this.currentConfig();
      this.attach(await Pipeline.create(config));
      if (this.outbox) {
        // A full disk costs the record, not the guidance: say so and go on.
        this.recorder = await Recorder.start(this.outbox, { task: this.guide.session?.task.id ?? null, model: config.model.manifest.id, poolSize: config.poolSize, userAgent: navigator.userAgent }, (m) => (this.error = m)).catch((err: unknown) => {
          this.error = err instanceof Error ? err.message : String(err);
          return undefined;
        });
      }
      this.status = 'running';
      this.timer = setInterval(() => {
        this.stats = this.pipeline?.stats();
        this.noticeProvider();
      }, 500);
    } catch (err) {
      this.error = err instanceof CameraError ? err.message : `Could not start: ${err instanceof Error ? err.message : String(err)}`;
      this.camera?.stop();
      this.status = 'idle';
    }
  }

  private async analyse(file: File): Promise<void> {
    if (!this.config || this.analysis) return;
    this.error = '';
    this.analysisResult = undefined;
    const abort = new AbortController();
    const startedAt = performance.now();
    this.analysis = { done: 0, total: 0, startedAt, elapsedMs: 0, abort };
    try {
      const result = await analyseFile(file, this.currentConfig(), {
        signal: abort.signal,
        outbox: this.outbox,
        onError: (m) => (this.error = m),
        onProgress: (done, total) => (this.analysis = { done, total, startedAt, elapsedMs: performance.now() - startedAt, abort }),
      });
      this.analysisResult = result;
      await this.store?.saveAnalysis(result).catch((err: unknown) => (this.error = `The results could not be saved on this device: ${err instanceof Error ? err.message : String(err)}. Export them now.`));
      const failed = result.rows.filter((r) => r.error);
      if (failed.length) this.error = `${failed.length} frame${failed.length > 1 ? 's' : ''} could not be analysed and ${failed.length > 1 ? 'were' : 'was'} skipped (frame ${failed.map((r) => r.frame).join(', ')}): ${failed[0]!.error}`;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    } finally {
      this.analysis = undefined;
    }
  }

  /** Says so when the model runs on WASM although WebGPU was wanted or would have been tried. */
  private noticeProvider(): void {
    if (this.providerNotice || this.config?.provider === 'wasm') return;
    const fallback = this.stats?.workers.find((w) => w.info?.provider === 'wasm');
    if (fallback?.info) this.providerNotice = `Running the model on the CPU (WASM), which is slower: ${fallback.info.reason.split(';')[0]}.`;
  }

  private currentConfig(model = this.model): PipelineConfig {
    return model ? { ...this.config!, model } : this.config!;
  }

  /** Makes `p` the running pipeline, reading the camera. */
  private attach(p: Pipeline): void {
    this.pipeline = p;
    this.guide.attach(p);
    // A new pipeline numbers frames from 1 again: identities start again with it.
    const scene = new LiveScene(p.config.scoreThreshold);
    p.dispatcher.subscribe((r) => {
      if (this.pipeline !== p) return;
      this.results++;
      this.lastResult = r;
      this.guide.onResult(r);
      this.recorder?.onResult(r, this.guide.session?.task.id, this.guide.session?.current.step);
      if (!scene.onResult(r)) return;
      // One instruction, built here from the tracked objects: the panel, the overlay and the record all use it.
      this.guide.onScene(scene.current);
      const ins = this.guide.instruction;
      if (ins) this.recorder?.onInstruction(ins, this.guide.session?.task.id, r.seq);
      const { width, height, tracks } = scene.current;
      this.overlay = { width, height, boxes: tracks, instruction: ins };
    });
    void p.run(this.camera!).then(() => {
      if (this.pipeline === p && this.camera?.endedByDevice) {
        this.error = 'The camera stopped (unplugged or taken by another app). Reconnect it and press Start camera.';
        void this.stop();
      }
    });
  }

  /**
   * A new model is tried in a new pipeline; only once its workers are warm does it take
   * over the camera. If it cannot start, the error says why and the old one runs on.
   */
  private async onModelChange(e: ModelChangeEvent): Promise<void> {
    if (!this.config) return;
    const choice = e.detail === 'builtin' ? this.config.model : e.detail;
    if (await this.switchPipeline(this.currentConfig(choice), `The model "${choice.manifest.name}"`)) this.model = choice;
  }

  /**
   * Tries `config` in a fresh pipeline; only once its workers are warm does it take over
   * the camera (when running). If it cannot start, the error says why and nothing changes.
   */
  private async switchPipeline(config: PipelineConfig, what: string): Promise<boolean> {
    this.modelBusy = true;
    this.error = '';
    try {
      const next = await Pipeline.create(config);
      const prev = this.pipeline;
      if (this.status === 'running' && prev) {
        await prev.detachSource();
        this.attach(next);
        await prev.shutdown();
      } else {
        await next.shutdown(); // checked; it runs when the camera starts
      }
      return true;
    } catch (err) {
      const running = (this.model ?? this.config!.model).manifest.name;
      this.error = `${what} cannot be used: ${err instanceof Error ? err.message : String(err)}. ${this.status === 'running' ? `Still running ${running}.` : `Keeping ${running}.`}`;
      return false;
    } finally {
      this.modelBusy = false;
    }
  }

  private async stop(): Promise<void> {
    if (this.status !== 'running') return;
    this.status = 'stopping';
    clearInterval(this.timer);
    const p = this.pipeline;
    this.pipeline = undefined;
    const recorder = this.recorder;
    this.recorder = undefined;
    if (p) {
      const framesIn = p.framesIn;
      const report = await p.shutdown();
      await recorder?.end({ framesIn, leakedFrames: report.leakedFrames, progress: this.guide.session?.current.progress ?? null });
      this.stats = p.stats();
      if (report.leakedFrames > 0) this.error = `Shutdown found ${report.leakedFrames} frames still open (closed now).`;
    }
    this.camera = undefined;
    this.guide.attach(undefined);
    this.overlay = undefined;
    this.status = 'idle';
  }
}
