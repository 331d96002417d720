import { LitElement, css, html, nothing, svg } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { SessionTimeline } from '../../sync/trainer-api';
import { ElementWidthController } from '../controllers/element-width';
import { formatDuration, offsetText } from './format';
import { axisTicks, barAt, derailmentBars, instructionMarks, rectsPath, stepBars, ticksPath, timelineSpan, timeScale, type Bar, type DerailmentBar } from './timeline-geometry';

const LAYOUT = { axisH: 18, stepY: 24, stepH: 36, markY: 62, markH: 7, derailY: 74, derailH: 14, height: 94 } as const;
/** Below this many pixels a bar has no room for its step number. */
const LABEL_MIN_W = 18;

/**
 * A session at a glance: one bar per step from when it started to when it was completed
 * (alternating shades, so neighbours stay apart), the instructions given as ticks under them,
 * and the derailments in red beneath. Drawn as a few paths whatever the number of steps; the
 * pointer finds a step by position. The same figures are in the steps table, for reading.
 */
@customElement('fw-timeline-chart')
export class TimelineChart extends LitElement {
  @property({ attribute: false }) timeline: SessionTimeline | undefined;
  /** The step (and, on the derailment lane, which of its derailments) under the pointer. */
  @state() private hover: { readonly index: number; readonly which: number | undefined } | undefined;
  private readonly size = new ElementWidthController(this);

  static override styles = css`
    :host { display: block; }
    svg { display: block; width: 100%; height: ${LAYOUT.height}px; cursor: crosshair; }
    .grid { stroke: #334155; stroke-width: 1; }
    .axis { fill: #cbd5e1; font-size: 11px; }
    .even { fill: #38bdf8; }
    .odd { fill: #a5b4fc; }
    .open { fill: #fbbf24; }
    .label { fill: #0f172a; font-size: 11px; font-weight: 600; pointer-events: none; }
    .marks { stroke: #e2e8f0; stroke-width: 1; }
    .derail { fill: #f87171; }
    .hover { fill: none; stroke: #f8fafc; stroke-width: 2; }
    .readout { min-height: 1.4em; margin: 4px 0 0; font-size: 13px; color: #cbd5e1; }
    .legend { display: flex; gap: 14px; flex-wrap: wrap; margin: 4px 0 0; padding: 0; list-style: none; font-size: 12px; color: #cbd5e1; }
    .swatch { display: inline-block; width: 12px; height: 10px; margin-right: 4px; vertical-align: -1px; }
  `;

  override render() {
    const t = this.timeline;
    const width = this.size.width;
    if (!t) return nothing;
    const span = timelineSpan(t);
    const duration = span.t1 - span.t0;
    // Every derailment counted, though the chart marks only those the timeline carries (each step's first ones).
    const derailCount = t.steps.reduce((n, s) => n + s.derailmentsTotal, 0);
    const worked = t.steps.filter((s) => s.startedTs !== null).length;
    const label = `Timeline of ${t.steps.length} ${t.steps.length === 1 ? 'step' : 'steps'} over ${formatDuration(duration)}: ${worked} worked on in this session, ${derailCount} ${derailCount === 1 ? 'derailment' : 'derailments'}. The steps table below has every figure.`;
    const legend = html`<ul class="legend" aria-hidden="true">
      <li><span class="swatch" style="background:#38bdf8"></span><span class="swatch" style="background:#a5b4fc"></span>a step, from start to completed</li>
      <li><span class="swatch" style="background:#fbbf24"></span>step under way</li>
      <li><span class="swatch" style="background:#f87171"></span>derailed</li>
      <li><span class="swatch" style="background:#e2e8f0;width:2px"></span>instruction given</li>
    </ul>`;
    if (width <= 0) return html`<div role="img" aria-label=${label} style="height:${LAYOUT.height}px"></div>${legend}`;

    const scale = timeScale(span, width);
    const bars = stepBars(t.steps, span, scale);
    const done = bars.filter((b) => !b.open);
    const derails = derailmentBars(t.steps, scale);
    const ticks = axisTicks(duration, Math.max(1, Math.floor(width / 90)));
    const tickXs = ticks.map((ms) => scale.x(span.t0 + ms));
    const hv = this.hover;
    const hoverPath = !hv
      ? ''
      : hv.which === undefined
        ? rectsPath(bars.filter((b) => b.index === hv.index), LAYOUT.stepY, LAYOUT.stepH)
        : rectsPath(derails.filter((b) => b.index === hv.index && b.which === hv.which), LAYOUT.derailY, LAYOUT.derailH);
    return html`
      <svg role="img" aria-label=${label} width=${width} height=${LAYOUT.height} viewBox="0 0 ${width} ${LAYOUT.height}"
        @pointermove=${(e: PointerEvent) => this.track(e, bars, derails)} @pointerleave=${() => (this.hover = undefined)} @click=${() => this.pick()}>
        <path class="grid" d=${ticksPath(tickXs, LAYOUT.axisH, LAYOUT.height - LAYOUT.axisH)}></path>
        ${ticks.map((ms, i) => svg`<text class="axis" x=${Math.min(width - 2, tickXs[i]! + 2)} y="12" text-anchor=${tickXs[i]! > width - 40 ? 'end' : 'start'}>${offsetText(ms)}</text>`)}
        <path class="even" d=${rectsPath(done.filter((b) => b.index % 2 === 0), LAYOUT.stepY, LAYOUT.stepH)}></path>
        <path class="odd" d=${rectsPath(done.filter((b) => b.index % 2 === 1), LAYOUT.stepY, LAYOUT.stepH)}></path>
        <path class="open" d=${rectsPath(bars.filter((b) => b.open), LAYOUT.stepY, LAYOUT.stepH)}></path>
        ${bars.filter((b) => b.w >= LABEL_MIN_W).map((b) => svg`<text class="label" x=${b.x + b.w / 2} y=${LAYOUT.stepY + LAYOUT.stepH / 2 + 4} text-anchor="middle">${b.index + 1}</text>`)}
        <path class="marks" d=${ticksPath(instructionMarks(t.steps, scale), LAYOUT.markY, LAYOUT.markH)}></path>
        <path class="derail" d=${rectsPath(derails, LAYOUT.derailY, LAYOUT.derailH)}></path>
        ${hoverPath ? svg`<path class="hover" d=${hoverPath}></path>` : nothing}
      </svg>
      <p class="readout" data-testid="chart-readout">${this.readout(t)}</p>
      ${legend}
    `;
  }

  private track(e: PointerEvent, bars: readonly Bar[], derails: readonly DerailmentBar[]): void {
    const box = (e.currentTarget as SVGElement).getBoundingClientRect();
    const x = e.clientX - box.left;
    const derailment = e.clientY - box.top >= LAYOUT.derailY - 4 ? barAt(derails, x) : undefined;
    const bar = derailment ?? barAt(bars, x);
    const next = bar ? { index: bar.index, which: derailment?.which } : undefined;
    if (next?.index !== this.hover?.index || next?.which !== this.hover?.which) this.hover = next;
  }

  private readout(t: SessionTimeline): string {
    const h = this.hover;
    if (!h) return 'Point at a bar for its step; click to go to its row.';
    const step = t.steps[h.index];
    if (!step) return '';
    const title = `Step ${step.index + 1}${step.instruction ? `: ${step.instruction}` : ''}`;
    if (h.which !== undefined) {
      const d = step.derailments[h.which];
      return d ? `${title} — derailed for ${formatDuration(d.durationMs)}${d.ongoing ? ' so far' : ''}: ${d.reason}` : title;
    }
    const took = step.durationMs === null ? 'under way' : `took ${formatDuration(step.durationMs)}`;
    return `${title} — ${took}, ${step.derailmentsTotal} ${step.derailmentsTotal === 1 ? 'derailment' : 'derailments'}`;
  }

  private pick(): void {
    const h = this.hover;
    if (h) this.dispatchEvent(new CustomEvent('step-pick', { detail: { index: h.index }, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'fw-timeline-chart': TimelineChart;
  }
}
