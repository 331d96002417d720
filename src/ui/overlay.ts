import { LitElement, css, html, type PropertyValues } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { Instruction } from '../task/instructions';
import type { Box } from '../task/predicates';
import { fitContain } from './geometry';

/** An object to draw: a tracked one carries its identity, shown beside its label. */
export type OverlayBox = Box;

export interface OverlayFrame {
  readonly width: number;
  readonly height: number;
  readonly boxes: readonly OverlayBox[];
  /** When a step is active: what to highlight and where things must go, as the judge gave it. */
  readonly instruction?: Instruction;
  /** The frame the judge gave `instruction` for. */
  readonly verdictSeq?: number;
}

/** How a box is drawn: to take away (red, dashed), to move (yellow), mattering (blue), or receding. */
export type BoxStyle = 'remove' | 'focus' | 'relevant' | 'other';
const BOX_COLOURS: Readonly<Record<BoxStyle, string>> = { remove: '#ef4444', focus: '#facc15', relevant: '#38bdf8', other: 'rgba(148, 163, 184, 0.45)' };

/** The same object: by track identity when both have one, else by place. */
const sameBox = (a: OverlayBox, b: OverlayBox) => (a.id !== undefined && b.id !== undefined ? a.id === b.id : a.label === b.label && a.x === b.x && a.y === b.y);

/**
 * Boxes and labels over the video, drawn from the latest result at the next animation frame
 * after it changes (never per message, and not at all while nothing changes), mapped through the video's `object-fit: contain` box so
 * they sit right for any camera resolution and aspect ratio.
 */
@customElement('fw-overlay')
export class Overlay extends LitElement {
  @property({ attribute: false }) frame: OverlayFrame | undefined;

  static override styles = css`
    :host { position: absolute; inset: 0; pointer-events: none; }
    canvas { width: 100%; height: 100%; display: block; }
  `;

  /** The pending animation frame's id, 0 when no draw is scheduled: nothing runs while nothing changes. */
  private raf = 0;
  private drawn: OverlayFrame | undefined;
  // The video box can change size without a new frame (rotation, full screen, a panel opening).
  private readonly resized = new ResizeObserver(() => this.schedule());

  override connectedCallback(): void {
    super.connectedCallback();
    this.resized.observe(this);
    this.schedule();
  }

  override disconnectedCallback(): void {
    this.resized.disconnect();
    cancelAnimationFrame(this.raf);
    this.raf = 0;
    super.disconnectedCallback();
  }

  override updated(changed: PropertyValues<this>): void {
    if (changed.has('frame')) this.schedule();
  }

  /** One draw at the next animation frame, however many results arrive before it. */
  private schedule(): void {
    if (this.raf !== 0) return;
    this.raf = requestAnimationFrame(() => {
      this.raf = 0;
      this.draw();
    });
  }

  override render() {
    return html`<canvas></canvas>`;
  }

  private drawArrow(ctx: CanvasRenderingContext2D, from: { x: number; y: number }, to: { x: number; y: number }, dpr: number): void {
    const angle = Math.atan2(to.y - from.y, to.x - from.x);
    const head = 16 * dpr;
    ctx.strokeStyle = ctx.fillStyle = '#facc15';
    ctx.lineWidth = 4 * dpr;
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(to.x, to.y);
    ctx.lineTo(to.x - head * Math.cos(angle - 0.45), to.y - head * Math.sin(angle - 0.45));
    ctx.lineTo(to.x - head * Math.cos(angle + 0.45), to.y - head * Math.sin(angle + 0.45));
    ctx.closePath();
    ctx.fill();
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
    const ins = f.instruction;
    // How each box is drawn: one of a small set of styles, so tests and tools can read what the person sees.
    const styleOf = (d: OverlayBox): BoxStyle =>
      ins?.remove?.some((r) => sameBox(r, d)) ? 'remove' : ins?.focus && sameBox(ins.focus, d) ? 'focus' : !ins || ins.highlight.some((h) => sameBox(h, d)) ? 'relevant' : 'other';
    this.dataset.boxes = JSON.stringify(f.boxes.map((d) => ({ id: d.id, label: d.label, style: styleOf(d), x: (offsetX + d.x * scale) / dpr, y: (offsetY + d.y * scale) / dpr, w: (d.w * scale) / dpr, h: (d.h * scale) / dpr })));
    // What the screen says of the step, and the verdict it comes from: tests compare the two.
    this.dataset.verdict = JSON.stringify(ins ? { seq: f.verdictSeq, step: ins.step, met: ins.met, text: ins.text } : null);
    this.dataset.zones = JSON.stringify((ins?.scopes ?? []).map((r) => ({ x: (offsetX + r.x * scale) / dpr, y: (offsetY + r.y * scale) / dpr, w: (r.w * scale) / dpr, h: (r.h * scale) / dpr })));
    ctx.font = `${13 * dpr}px system-ui, sans-serif`;
    ctx.textBaseline = 'bottom';
    const px = (p: { x: number; y: number }) => ({ x: offsetX + p.x * scale, y: offsetY + p.y * scale });
    for (const r of ins?.scopes ?? []) {
      // Where the step counts objects: outlined, so that what lies outside plainly does not count.
      const a = px(r);
      ctx.setLineDash([4 * dpr, 4 * dpr]);
      ctx.lineWidth = 2 * dpr;
      ctx.strokeStyle = '#c4b5fd';
      ctx.strokeRect(a.x, a.y, r.w * scale, r.h * scale);
      ctx.setLineDash([]);
      ctx.fillStyle = '#c4b5fd';
      ctx.fillText('counted here', a.x + 6 * dpr, a.y + 20 * dpr);
    }
    if (ins?.target?.kind === 'zone') {
      const r = ins.target.rect;
      const a = px(r);
      ctx.fillStyle = 'rgba(74, 222, 128, 0.18)';
      ctx.fillRect(a.x, a.y, r.w * scale, r.h * scale);
      ctx.setLineDash([8 * dpr, 6 * dpr]);
      ctx.strokeStyle = '#4ade80';
      ctx.strokeRect(a.x, a.y, r.w * scale, r.h * scale);
      ctx.setLineDash([]);
    }
    for (const d of f.boxes) {
      // With a step active, the objects that matter stand out and the rest recede.
      const style = styleOf(d);
      const relevant = style !== 'other';
      const colour = BOX_COLOURS[style];
      const x = offsetX + d.x * scale;
      const y = offsetY + d.y * scale;
      ctx.lineWidth = (relevant ? 3 : 1) * dpr;
      ctx.strokeStyle = colour;
      if (style === 'remove') ctx.setLineDash([10 * dpr, 5 * dpr]); // not only colour: dashed too
      ctx.strokeRect(x, y, d.w * scale, d.h * scale);
      ctx.setLineDash([]);
      if (!relevant) continue;
      const text = `${style === 'remove' ? 'remove: ' : ''}${d.id !== undefined ? `#${d.id} ` : ''}${d.label} ${(d.score * 100).toFixed(0)}%`;
      const tw = ctx.measureText(text).width + 8 * dpr;
      ctx.fillStyle = colour;
      ctx.fillRect(x, Math.max(0, y - 18 * dpr), tw, 18 * dpr);
      ctx.fillStyle = '#0f172a';
      ctx.fillText(text, x + 4 * dpr, Math.max(18 * dpr, y) - 3 * dpr);
    }
    if (ins?.target?.kind === 'arrow') this.drawArrow(ctx, px(ins.target.from), px(ins.target.to), dpr);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'fw-overlay': Overlay;
  }
}
