import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { PipelineStats } from '../pipeline/pipeline';

const ms = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(1));
const pct = (v: number) => `${(v * 100).toFixed(0)}%`;

/** The pipeline's numbers, as they are: per worker and per channel. */
@customElement('fw-hud')
export class Hud extends LitElement {
  @property({ attribute: false }) stats: PipelineStats | undefined;

  static override styles = css`
    :host { display: block; font: 12px/1.4 ui-monospace, monospace; }
    table { border-collapse: collapse; width: 100%; }
    th, td { padding: 2px 6px; text-align: right; border-bottom: 1px solid #334155; }
    th:first-child, td:first-child { text-align: left; }
    caption { text-align: left; font-weight: 600; padding: 6px 0 2px; }
    .summary { display: flex; gap: 16px; flex-wrap: wrap; }
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
      <table>
        <caption>Workers</caption>
        <tr><th>worker</th><th>provider</th><th>processed</th><th>dropped</th><th>drop rate</th><th>proc p50/p95 ms</th><th>latency p50/p95 ms</th><th>errors</th><th>restarts</th><th>last seen</th></tr>
        ${s.workers.map(
          (w) => html`<tr data-testid="worker-${w.workerId}">
            <td>${w.workerId}${w.ready ? '' : ' (starting)'}</td>
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
