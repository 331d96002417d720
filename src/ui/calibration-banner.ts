import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { layoutName } from '../vision/layout';
import type { CalibrationProgress } from './controllers/layout-controller';

/** A calibration running (which layout of how many, Cancel), or what became of one. The lifecycle is the layout controller's. */
@customElement('fw-calibration')
export class CalibrationBanner extends LitElement {
  @property({ type: Boolean }) running = false;
  @property({ attribute: false }) progress: CalibrationProgress | undefined;
  /** Said after a calibration that was cancelled or failed. */
  @property() notice = '';

  static override styles = css`
    :host { display: block; }
    .box { background: #1e3a8a; padding: 8px 12px; border-radius: 6px; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
    progress { flex: 1; min-width: 120px; }
    button { font: inherit; padding: 6px 12px; border-radius: 6px; border: 1px solid #334155; background: #1e293b; color: #e2e8f0; cursor: pointer; }
  `;

  override render() {
    if (this.running) {
      const p = this.progress;
      const step = p ? ` (layout ${p.index + 1} of ${p.total}: ${layoutName(p.layout)})` : '';
      return html`<div class="box" role="status" data-testid="calibration">
        <span>Calibrating for this device…${step} The model runs alone for a few seconds to find how many workers and threads suit it.</span>
        <progress max=${p?.total ?? 1} value=${p ? p.index : 0} aria-label="Layouts measured"></progress>
        <button @click=${() => this.dispatchEvent(new CustomEvent('calibration-cancel', { bubbles: true, composed: true }))}>Cancel</button>
      </div>`;
    }
    return this.notice ? html`<div class="box" role="status" data-testid="calibration-notice">${this.notice}</div>` : nothing;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'fw-calibration': CalibrationBanner;
  }
}
