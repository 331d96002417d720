import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { validateSettings, type Settings } from '../settings';
import { defaultDeviceName } from '../sync/enroll';
import { DROP_POLICIES, type DropPolicy } from '@framewise/pipeline';
import { capacityFor, JUDGE_SOURCES, type JudgeSource } from '../vision/config';
import { PROVIDER_PREFERENCES, type ProviderPreference } from '../model/provider';
import type { LayoutView } from './controllers/layout-controller';

const JUDGE_NAMES: Record<JudgeSource, string> = { pool: "The overlay's detections (no extra cost)", detector: 'Its own run of the model (a core\'s share)' };

const PROVIDER_NAMES: Record<ProviderPreference, string> = { auto: 'Best available', webgpu: 'WebGPU', wasm: 'WASM (CPU)' };

/** Pipeline and backend settings, validated as you type, applied without a reload. The backend needs no secret here: the device enrols for its own. */
@customElement('fw-settings')
export class SettingsPanel extends LitElement {
  @property({ attribute: false }) settings: Settings | undefined;
  /** The layout in use and why (the layout controller's). */
  @property({ attribute: false }) layout: LayoutView | undefined;
  /** Re-calibrating is offered while nothing else runs the model. */
  @property({ type: Boolean }) canRecalibrate = false;
  @state() private draft: Settings | undefined;

  static override styles = css`
    details { background: #1e293b; border-radius: 6px; padding: 8px 12px; font-size: 14px; }
    form { display: grid; grid-template-columns: auto 1fr; gap: 6px 12px; align-items: center; margin-top: 8px; }
    input, select, button { font: inherit; }
    ul { color: #fca5a5; margin: 4px 0; }
    .stack { display: grid; gap: 2px; }
    small { color: #94a3b8; }
    button.secondary { margin-left: 8px; }
  `;

  private emit(type: 'settings-save' | 'enrol-again', detail: Settings): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  private applied = '';

  /** A pool or thread count typed in: the layout is chosen here from now on (starting from the one in use). */
  private onLayoutNumber(key: 'poolSize' | 'threadsPerWorker', value: number): void {
    const d = this.draft!;
    const base = d.layout === 'auto' && this.layout ? { poolSize: this.layout.layout.pool, threadsPerWorker: this.layout.layout.threads } : {};
    this.draft = { ...d, ...base, layout: 'manual', [key]: value };
  }

  private onLayoutMode(mode: Settings['layout']): void {
    const d = this.draft!;
    this.draft = mode === 'manual' && d.layout === 'auto' && this.layout ? { ...d, layout: mode, poolSize: this.layout.layout.pool, threadsPerWorker: this.layout.layout.threads } : { ...d, layout: mode };
  }

  private onPolicy(policy: DropPolicy): void {
    const d = this.draft!;
    this.draft = { ...d, locPolicy: policy, locCapacity: capacityFor(policy, { policy: d.locPolicy, capacity: d.locCapacity }) };
  }

  override willUpdate(changed: Map<string, unknown>): void {
    // The parent re-renders often: only new values (not a new object with the same values) reset the form.
    const incoming = JSON.stringify(this.settings ?? null);
    if (changed.has('settings') && this.settings && incoming !== this.applied) {
      this.applied = incoming;
      this.draft = this.settings;
    }
  }

  override render() {
    const d = this.draft;
    if (!d) return html``;
    const problems = validateSettings(d);
    const num = (key: keyof Settings) => (e: Event) => (this.draft = { ...d, [key]: Number((e.target as HTMLInputElement).value) });
    const text = (key: keyof Settings) => (e: Event) => (this.draft = { ...d, [key]: (e.target as HTMLInputElement).value });
    const auto = d.layout === 'auto';
    const shown = this.layout?.layout ?? { pool: d.poolSize, threads: d.threadsPerWorker };
    return html`<details>
      <summary>Settings</summary>
      <form @submit=${(e: Event) => e.preventDefault()}>
        <label for="layout">Layout</label>
        <span class="stack">
          <select id="layout" .value=${d.layout} @change=${(e: Event) => this.onLayoutMode((e.target as HTMLSelectElement).value as Settings['layout'])}>
            <option value="auto" ?selected=${d.layout === 'auto'}>Automatic (calibrated for this device)</option>
            <option value="manual" ?selected=${d.layout === 'manual'}>Chosen here</option>
          </select>
          <small data-testid="layout-summary">${this.layout?.summary ?? ''}</small>
          <span><button type="button" ?disabled=${!this.canRecalibrate} title="Measure the model alone at each layout again (a few seconds) and use the best"
            @click=${() => this.dispatchEvent(new CustomEvent('layout-recalibrate', { bubbles: true, composed: true }))}>Re-calibrate</button></span>
        </span>
        <label for="pool">Localization workers</label><input id="pool" type="number" min="1" max="16" .value=${String(auto ? shown.pool : d.poolSize)}
          @input=${(e: Event) => this.onLayoutNumber('poolSize', Number((e.target as HTMLInputElement).value))} />
        <label for="threads">WASM threads per worker</label><input id="threads" type="number" min="0" max="16" title="0: the cores shared out among the workers" .value=${String(auto ? shown.threads : d.threadsPerWorker)}
          @input=${(e: Event) => this.onLayoutNumber('threadsPerWorker', Number((e.target as HTMLInputElement).value))} />
        <label for="policy">Queue policy</label>
        <select id="policy" .value=${d.locPolicy} @change=${(e: Event) => this.onPolicy((e.target as HTMLSelectElement).value as DropPolicy)}>
          ${DROP_POLICIES.map((p) => html`<option value=${p} ?selected=${p === d.locPolicy}>${p}</option>`)}
        </select>
        <label for="capacity">Queue size</label><input id="capacity" type="number" min="1" max="1000" .value=${String(d.locCapacity)} @input=${num('locCapacity')} />
        <label for="judge">Judge the task on</label>
        <select id="judge" .value=${d.judge} @change=${text('judge')}>
          ${JUDGE_SOURCES.map((v) => html`<option value=${v} ?selected=${v === d.judge}>${JUDGE_NAMES[v]}</option>`)}
        </select>
        <label for="rate">Task checks per second (own model)</label><input id="rate" type="number" min="0" max="240" step="0.5" .value=${String(d.stateRate)} @input=${num('stateRate')} />
        <label for="score">Score threshold</label><input id="score" type="number" min="0.01" max="0.99" step="0.05" .value=${String(d.scoreThreshold)} @input=${num('scoreThreshold')} />
        <label for="provider">Run the model on</label>
        <select id="provider" .value=${d.provider} @change=${text('provider')}>
          ${PROVIDER_PREFERENCES.map((v) => [v, PROVIDER_NAMES[v]] as const).map(([v, l]) => html`<option value=${v} ?selected=${v === d.provider}>${l}</option>`)}
        </select>
        <label for="backend">Backend URL</label><input id="backend" type="url" placeholder="wss://…/sync (empty: the server this app came from)" .value=${d.backendUrl} @input=${text('backendUrl')} />
        <label for="device-name">Device name</label><input id="device-name" type="text" maxlength="80" placeholder=${defaultDeviceName()} .value=${d.deviceName} @input=${text('deviceName')} />
        <label for="enroll-code">Enrolment code</label>
        <span class="stack">
          <input id="enroll-code" type="password" autocomplete="off" aria-describedby="enroll-hint" .value=${d.enrollCode} @input=${text('enrollCode')} />
          <small id="enroll-hint">Only if the backend's operator gave you one. Used once to enrol this device; not stored.</small>
        </span>
        <span></span>
        <span>
          ${problems.length ? html`<ul data-testid="settings-problems">${problems.map((p) => html`<li>${p}</li>`)}</ul>` : ''}
          <button ?disabled=${problems.length > 0} @click=${() => this.emit('settings-save', d)}>Apply</button>
          <button class="secondary" ?disabled=${problems.length > 0} title="Forget this device's credential for the backend and ask it for a new one"
            @click=${() => this.emit('enrol-again', d)}>Enrol this device again</button>
        </span>
      </form>
    </details>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'fw-settings': SettingsPanel;
  }
}
