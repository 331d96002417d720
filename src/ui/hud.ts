import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { dropRate } from '@framewise/pipeline';
import type { VisionStats } from '../vision/vision-pipeline';
import './sparkline';

/** One minute of history at the HUD's 2 Hz refresh. */
const HISTORY = 120;

interface Sample {
  readonly inFps: number;
  readonly outFps: number;
  readonly latencyMs: number;
  readonly dropPct: number;
}

const ms = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(1));
const pct = (v: number) => `${(v * 100).toFixed(0)}%`;

/** The pipeline's numbers, as they are: per worker and per channel. */
@customElement('fw-hud')
export class Hud extends LitElement {
  @property({ attribute: false }) stats: VisionStats | undefined;
  private history: Sample[] = [];
  private lastDrops = { processed: 0, dropped: 0 };

  override willUpdate(changed: Map<string, unknown>): void {
    const s = this.stats;
    if (!changed.has('stats') || !s) return;
    // Rates over the last interval, not since the start: a plot of what is happening now.
    const loc = s.channels.localization;
    const processed = loc.delivered;
    const d = { processed: processed - this.lastDrops.processed, dropped: loc.dropped - this.lastDrops.dropped };
    this.lastDrops = { processed, dropped: loc.dropped };
    const lat = s.workers.filter((w) => w.role === 'localization').map((w) => w.latencyMsP50 ?? 0);
    this.history = [...this.history, { inFps: s.inputFps, outFps: s.outputFps, latencyMs: lat.length ? Math.max(...lat) : 0, dropPct: dropRate(Math.max(0, d.processed), Math.max(0, d.dropped)) * 100 }].slice(-HISTORY);
  }

  static override styles = css`
    :host { display: block; font: 12px/1.4 ui-monospace, monospace; }
    table { border-collapse: collapse; width: 100%; }
    th, td { padding: 2px 6px; text-align: right; border-bottom: 1px solid #334155; }
    th:first-child, td:first-child { text-align: left; }
    caption { text-align: left; font-weight: 600; padding: 6px 0 2px; }
    .summary, .plots { display: flex; gap: 16px; flex-wrap: wrap; }
    .plots { margin-top: 8px; }
  `;

  override render() {
    const s = this.stats;
    if (!s) return nothing;
    return html`
      <div class="summary" data-testid="hud-summary">
        <span>in <b data-testid="input-fps">${s.inputFps}</b> fps</span>
        <span>out <b data-testid="output-fps">${s.outputFps}</b> fps</span>
        <span>frames <b data-testid="frames-in">${s.framesIn}</b></span>
        <span>open frames <b data-testid="open-frames">${s.openFrames.page}</b> (in workers ${s.openFrames.inWorkers})</span>
      </div>
      <div class="plots" data-testid="plots">
        <fw-sparkline label="input fps" .values=${this.history.map((h) => h.inFps)}></fw-sparkline>
        <fw-sparkline label="output fps" .values=${this.history.map((h) => h.outFps)}></fw-sparkline>
        <fw-sparkline label="latency p50" unit=" ms" .values=${this.history.map((h) => h.latencyMs)}></fw-sparkline>
        <fw-sparkline label="drop rate" unit="%" .values=${this.history.map((h) => h.dropPct)}></fw-sparkline>
      </div>
      <table>
        <caption>Workers</caption>
        <tr><th>worker</th><th>runs</th><th>provider</th><th>processed</th><th>dropped</th><th>drop rate</th><th>proc p50/p95 ms</th><th>latency p50/p95 ms</th><th>errors</th><th>restarts</th><th>last seen</th></tr>
        ${s.workers.map(
          (w) => html`<tr data-testid="worker-${w.workerId}">
            <td>${w.workerId}${w.ready ? '' : ' (starting)'}</td>
            <td data-testid="runs-${w.workerId}">${w.info ? w.info.processor : '–'}</td>
            <td data-testid="provider-${w.workerId}" title=${w.info?.reason ?? ''}>${w.info ? w.info.provider : '–'}</td><td>${w.processed}</td><td>${w.dropped.toFixed(0)}</td><td>${pct(w.dropRate)}</td>
            <td>${ms(w.processMsP50)} / ${ms(w.processMsP95)}</td><td>${ms(w.latencyMsP50)} / ${ms(w.latencyMsP95)}</td>
            <td>${w.errors}</td><td>${w.restarts}</td><td>${Math.round(w.lastSeenMsAgo)} ms</td>
          </tr>`,
        )}
      </table>
      <table>
        <caption>Channels</caption>
        <tr><th>channel</th><th>policy</th><th>offered</th><th>delivered</th><th>dropped</th><th>queued</th><th>in flight</th></tr>
        ${Object.values(s.channels).map(
          (c) => html`<tr data-testid="channel-${c.name}">
            <td>${c.name}</td><td>${c.policy} (${c.capacity})</td><td>${c.offered}</td><td>${c.delivered}</td>
            <td title=${Object.entries(c.droppedBy).map(([k, v]) => `${k}: ${v}`).join(', ')}>${c.dropped}</td><td>${c.queued}</td><td>${c.inFlight}</td>
          </tr>`,
        )}
      </table>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'fw-hud': Hud;
  }
}
