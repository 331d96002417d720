import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';

/** A tiny line plot of recent values, drawn on a canvas only when the values change. */
@customElement('fw-sparkline')
export class Sparkline extends LitElement {
  @property({ attribute: false }) values: readonly number[] = [];
  @property() label = '';
  @property() unit = '';

  static override styles = css`
    :host { display: inline-grid; gap: 2px; font: 11px ui-monospace, monospace; color: #94a3b8; }
    canvas { width: 160px; height: 36px; background: #0b1220; border-radius: 4px; }
  `;

  override render() {
    const last = this.values.at(-1);
    return html`<span>${this.label} <b>${last === undefined ? '–' : last.toFixed(this.unit === '%' ? 0 : 1)}${this.unit}</b></span>
      <canvas width="160" height="36" role="img" aria-label="${this.label} over the last minute"></canvas>`;
  }

  override updated(): void {
    const canvas = this.renderRoot.querySelector('canvas');
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const v = this.values;
    if (v.length < 2) return;
    const max = Math.max(...v, 1e-9);
    ctx.strokeStyle = '#38bdf8';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    v.forEach((y, i) => {
      const px = (i / (v.length - 1)) * (canvas.width - 2) + 1;
      const py = canvas.height - 2 - (y / max) * (canvas.height - 4);
      if (i === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    });
    ctx.stroke();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'fw-sparkline': Sparkline;
  }
}
