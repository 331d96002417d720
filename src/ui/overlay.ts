import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { Detection } from '../model/decode';
import { fitContain } from './geometry';

export interface OverlayFrame {
  readonly width: number;
  readonly height: number;
  readonly detections: readonly Detection[];
}

/**
 * Boxes and labels over the video, drawn from the latest result once per animation
 * frame (never per message), mapped through the video's `object-fit: contain` box so
 * they sit right for any camera resolution and aspect ratio.
 */
@customElement('fw-overlay')
export class Overlay extends LitElement {
  @property({ attribute: false }) frame: OverlayFrame | undefined;

  static override styles = css`
    :host { position: absolute; inset: 0; pointer-events: none; }
    canvas { width: 100%; height: 100%; display: block; }
  `;

  private raf = 0;
  private drawn: OverlayFrame | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    const tick = () => {
      this.draw();
      this.raf = requestAnimationFrame(tick);
    };
    this.raf = requestAnimationFrame(tick);
  }

  override disconnectedCallback(): void {
    cancelAnimationFrame(this.raf);
    super.disconnectedCallback();
  }

  override render() {
    return html`<canvas></canvas>`;
  }

  private draw(): void {
    const canvas = this.renderRoot.querySelector('canvas');
    if (!canvas) return;
    const dpr = devicePixelRatio || 1;
    const w = Math.round(canvas.clientWidth * dpr);
    const h = Math.round(canvas.clientHeight * dpr);
    const resized = canvas.width !== w || canvas.height !== h;
    if (!resized && this.drawn === this.frame) return;
    if (resized) {
      canvas.width = w;
      canvas.height = h;
    }
    this.drawn = this.frame;
    const ctx = canvas.getContext('2d')!;
    ctx.clearRect(0, 0, w, h);
    const f = this.frame;
    if (!f) return;
    const { scale, offsetX, offsetY } = fitContain(f.width, f.height, w, h);
    // Where the boxes went, in CSS pixels of this element: for tests and assistive tooling.
    this.dataset.boxes = JSON.stringify(f.detections.map((d) => ({ label: d.label, x: (offsetX + d.x * scale) / dpr, y: (offsetY + d.y * scale) / dpr, w: (d.w * scale) / dpr, h: (d.h * scale) / dpr })));
    ctx.lineWidth = 2 * dpr;
    ctx.font = `${13 * dpr}px system-ui, sans-serif`;
    ctx.textBaseline = 'bottom';
    for (const d of f.detections) {
      const x = offsetX + d.x * scale;
      const y = offsetY + d.y * scale;
      ctx.strokeStyle = '#38bdf8';
      ctx.strokeRect(x, y, d.w * scale, d.h * scale);
      const text = `${d.label} ${(d.score * 100).toFixed(0)}%`;
      const tw = ctx.measureText(text).width + 8 * dpr;
      ctx.fillStyle = '#38bdf8';
      ctx.fillRect(x, Math.max(0, y - 18 * dpr), tw, 18 * dpr);
      ctx.fillStyle = '#0f172a';
      ctx.fillText(text, x + 4 * dpr, Math.max(18 * dpr, y) - 3 * dpr);
    }
  }
}
