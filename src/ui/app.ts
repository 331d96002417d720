import { LitElement, html, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { calibrationFromUrl, configFromUrl, ConfigError, DEFAULT_CONFIG, layoutFromUrl } from '../vision/config';
import { applySettings, loadSettings, saveSettings, settingsFrom, type Settings } from '../settings';
import { Store } from '../store/db';
import { STORAGE_TAKEN_OVER } from '../platform/storage';
import type { Task } from '../task/types';
import { appStyles } from './app-styles';
import { AppUpdateController } from './controllers/app-update';
import { GuideController } from './controllers/guide-controller';
import { HandsFreeController } from './controllers/hands-free';
import { voiceControlText, type HandsFreeCommand } from '../guide/hands-free';
import { LayoutController } from './controllers/layout-controller';
import { LiveSessionController } from './controllers/live-session';
import { SyncController } from './controllers/sync-controller';
import type { ModelChangeEvent } from './model-picker';
import type { Overlay } from './overlay';
import './analysis-panel';
import './calibration-banner';
import './hud';
import './model-picker';
import './overlay';
import './result-line';
import './settings-panel';
import './sync-status';
import './task-panel';
import './task-picker';

/** The live page: wiring and layout. The guide comes first; developer tools wait in a drawer. */
@customElement('fw-app')
export class App extends LitElement {
  @state() private error = '';
  @state() private settings: Settings | undefined;
  @state() private toolsOpen = false;
  @state() private fullscreen = false;
  @query('video') private video!: HTMLVideoElement;
  @query('fw-overlay') private overlay!: Overlay;
  private store: Store | undefined;
  private readonly report = (m: string) => (this.error = m);
  private readonly guide = new GuideController(this, this.report);
  private readonly sync = new SyncController(this, () => ({ backendUrl: this.settings?.backendUrl ?? '', deviceName: this.settings?.deviceName ?? '', enrollCode: this.settings?.enrollCode ?? '' }), this.report);
  private readonly live = new LiveSessionController(this, {
    guide: this.guide.guide,
    outbox: () => this.sync.outbox,
    store: () => this.store,
    video: () => this.video,
    draw: (frame) => this.overlay && (this.overlay.frame = frame),
    onError: this.report,
  });
  /** The pool × threads layout: calibrated for this device and model, unless the address or Settings chose one. */
  private readonly layout = new LayoutController(this, {
    store: () => this.store,
    // The model in use: one picked in the model menu is the one Re-calibrate measures and a kept calibration is looked up for.
    config: () => this.live.config && (this.live.model ? { ...this.live.config, model: this.live.model } : this.live.config),
    apply: (l) => this.live.config && (this.live.config = { ...this.live.config, poolSize: l.pool, threadsPerWorker: l.threads }),
    onError: this.report,
  });
  private readonly appUpdate = new AppUpdateController(this);
  /** Next, repeat and back from the keyboard and, where it stays on the device, the voice. */
  private readonly handsFree = new HandsFreeController(this, (c) => this.onCommand(c));
  private readonly onFullscreen = () => (this.fullscreen = document.fullscreenElement === this);

  static override styles = appStyles;

  override connectedCallback(): void {
    super.connectedCallback();
    let calibrate: ReturnType<typeof calibrationFromUrl> = 'off';
    try {
      this.settings = loadSettings();
      this.live.config = configFromUrl(location.search, this.settings ? applySettings(DEFAULT_CONFIG, this.settings) : DEFAULT_CONFIG);
      calibrate = calibrationFromUrl(location.search, navigator.webdriver);
    } catch (err) {
      this.error = err instanceof ConfigError ? err.message : String(err);
    }
    const layout = { url: layoutFromUrl(location.search), manual: manualLayout(this.settings), mode: calibrate };
    void Store.open('framewise', STORAGE_TAKEN_OVER((message) => (this.error = message)))
      .then((store) => ((this.store = store), this.guide.load(store)))
      .catch((err: unknown) => (this.error = `Saved tasks and progress are unavailable (${err instanceof Error ? err.message : String(err)}); built-in tasks still work.`))
      .then(() => this.layout.start(layout));
    document.addEventListener('fullscreenchange', this.onFullscreen);
  }

  override disconnectedCallback(): void {
    document.removeEventListener('fullscreenchange', this.onFullscreen);
    super.disconnectedCallback();
  }

  override updated(): void {
    // The screen stays on and the voice speaks only while a task is being guided.
    const guiding = this.live.status === 'running' && !!this.guide.guide.session && !this.guide.guide.session.current.done;
    void this.guide.setActive(guiding);
    this.handsFree.setActive(guiding, this.guide.guide.lang);
  }

  private onCommand(c: HandsFreeCommand): void {
    const g = this.guide.guide;
    if (c === 'repeat') g.repeat();
    else g.command(c);
  }

  /** Saves settings and applies them: the pipeline is rebuilt if running, the sync reconnects if its target changed. */
  private async onSettings(s: Settings, reenrol = false): Promise<void> {
    const config = this.live.config;
    if (!config) return;
    // A new code matters when this device is not enrolled yet (or was refused); a kept credential is otherwise used as is.
    const backendChanged = reenrol || s.backendUrl !== (this.settings?.backendUrl ?? '') || (!!s.enrollCode && this.sync.status?.state === 'refused');
    const providerChanged = s.provider !== config.provider;
    saveSettings(s);
    this.settings = s;
    await this.layout.update(manualLayout(s), providerChanged ? applySettings(config, s) : undefined);
    const next = this.layout.withLayout(applySettings(config, s));
    if (this.live.status === 'running' && !(await this.live.switchPipeline(this.live.model ? { ...next, model: this.live.model } : next, 'These settings'))) return;
    this.live.config = next;
    if (backendChanged) await this.sync.start(reenrol);
  }

  override render() {
    const live = this.live;
    const g = this.guide.guide;
    const running = live.status === 'running';
    return html`
      <header>
        <h1>Framewise</h1>
        <span data-testid="status">${live.status}</span>
        ${running
          ? html`<button @click=${() => live.stop()} ?disabled=${live.busy}>Stop</button>`
          : html`<button @click=${() => ((this.error = ''), live.start())} ?disabled=${live.busy || !live.config || !!live.analysis || this.layout.calibrating}>Start camera</button>`}
        <button class="quiet" @click=${() => live.switchCamera()} ?disabled=${live.busy} title="Now: ${live.facing === 'environment' ? 'rear' : 'front'} camera">Switch camera</button>
        <button class="quiet" data-testid="mute" aria-pressed=${this.guide.speech.muted} @click=${() => this.guide.toggleMute()}>${this.guide.speech.muted ? 'Unmute voice' : 'Mute voice'}</button>
        <button class="quiet" @click=${() => (this.fullscreen ? document.exitFullscreen() : this.requestFullscreen())} ?hidden=${!document.fullscreenEnabled}>${this.fullscreen ? 'Leave full screen' : 'Full screen'}</button>
        <button class="quiet" aria-expanded=${this.toolsOpen} aria-controls="tools" @click=${() => (this.toolsOpen = !this.toolsOpen)}>Tools</button>
      </header>
      <main>
        ${this.error ? html`<div class="error" role="alert" data-testid="error">${this.error}</div>` : nothing}
        <fw-calibration ?running=${this.layout.calibrating} .progress=${this.layout.progress} .notice=${this.layout.notice} @calibration-cancel=${() => this.layout.cancel()}></fw-calibration>
        <section class="guide" aria-label="Guide">
          <div class="stage">
            <video muted playsinline autoplay aria-label="Camera view"></video>
            <fw-overlay></fw-overlay>
          </div>
          <div>
            <fw-task-panel .view=${g.session?.current} .instruction=${g.instruction?.text ?? ''} ?live=${running}
              @task-restart=${() => g.restart()} @task-command=${(e: CustomEvent<HandsFreeCommand>) => this.onCommand(e.detail)}></fw-task-panel>
            <p class="aids">${this.guide.aids(running)}</p>
            ${this.handsFree.voice.kind === 'off' ? nothing : html`<p class="aids" role="status" data-testid="voice-control">${voiceControlText(this.handsFree.voice)}</p>`}
          </div>
        </section>
        <fw-task-picker .tasks=${g.tasks} .selected=${g.selectedId} @task-select=${(e: CustomEvent<string>) => ((this.error = ""), g.select(e.detail))}></fw-task-picker>
        <fw-sync-status .status=${this.sync.status} .off=${this.sync.off} .storage=${this.sync.storage}></fw-sync-status>
        ${this.appUpdate.notices(live.status === 'idle')}
        ${live.providerNotice ? html`<div class="notice" role="status" data-testid="provider-notice">${live.providerNotice}</div>` : nothing}
        <fw-result-line .results=${live.results} .last=${live.lastResult}></fw-result-line>
        <aside id="tools" aria-label="Tools" ?hidden=${!this.toolsOpen}>
          <fw-task-picker tools .tasks=${g.tasks} .selected=${g.selectedId} .model=${live.judgedModel} @task-save=${(e: CustomEvent<Task>) => g.save(e.detail)}></fw-task-picker>
          <fw-model-picker .current=${live.activeModel?.name ?? ''} .judgeModel=${live.judgeModel?.manifest.name ?? ''} .labels=${live.activeModel?.labels ?? []} ?busy=${live.busy}
            @model-change=${(e: ModelChangeEvent) => e.detail === 'builtin' ? live.config && live.changeModel(live.config.model) : e.detail === 'judge-off' ? live.changeJudgeModel(undefined) : live.loadOwnModel(e.detail)} @model-error=${(e: CustomEvent<string>) => (this.error = e.detail)}></fw-model-picker>
          <fw-settings .settings=${this.settings ?? (live.config ? settingsFrom(live.config) : undefined)} .layout=${this.layout.view} ?canRecalibrate=${live.status === 'idle' && !live.busy && !live.analysis && !this.layout.busy && !!live.config}
            @layout-recalibrate=${() => this.layout.calibrate()} @settings-save=${(e: CustomEvent<Settings>) => this.onSettings(e.detail)}
            @enrol-again=${(e: CustomEvent<Settings>) => this.onSettings(e.detail, true)}></fw-settings>
          <fw-analysis-panel ?disabled=${live.status !== 'idle' || !live.config} ?running=${!!live.analysis}
            .done=${live.analysis?.done ?? live.analysisResult?.rows.length ?? 0} .total=${live.analysis?.total ?? live.analysisResult?.totalFrames ?? 0}
            .elapsedMs=${live.analysis?.elapsedMs ?? 0} .result=${live.analysisResult}
            @analysis-start=${(e: CustomEvent<File>) => ((this.error = ''), live.analyse(e.detail))} @analysis-cancel=${() => live.analysis?.abort.abort()}></fw-analysis-panel>
          <details class="hud"><summary>Pipeline metrics</summary><fw-hud .stats=${live.stats}></fw-hud></details>
        </aside>
      </main>
    `;
  }
}

/** The layout chosen in Settings, if one is. */
function manualLayout(s: Settings | undefined): { pool: number; threads: number } | undefined {
  return s?.layout === 'manual' ? { pool: s.poolSize, threads: s.threadsPerWorker } : undefined;
}

declare global {
  interface HTMLElementTagNameMap {
    'fw-app': App;
  }
}
