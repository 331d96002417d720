import { assertNever } from '../util/assert-never';
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { VisionResult } from '../vision/vision-pipeline';
import type { ProcessorOutput } from '../shared/protocol';

function describe(o: ProcessorOutput): string {
  switch (o.kind) {
    case 'probe':
      return `mean luma ${o.meanLuma.toFixed(1)}`;
    case 'verdict':
      return `verdict on frame ${o.judgedSeq}`;
    case 'detections': {
      const found = o.detections.map((d) => `${d.label} ${(d.score * 100).toFixed(0)}%`).join(', ');
      return `${o.detections.length} objects${found ? ` (${found})` : ''} on ${o.provider}, inference ${o.inferenceMs.toFixed(0)} ms`;
    }
    default:
      return assertNever(o);
  }
}

/** How many results so far and what the newest one said: a one-line log for the curious. */
@customElement('fw-result-line')
export class ResultLine extends LitElement {
  @property({ type: Number }) results = 0;
  @property({ attribute: false }) last: VisionResult | undefined;

  static override styles = css`
    :host { display: block; font: 13px ui-monospace, monospace; color: #94a3b8; overflow-wrap: anywhere; }
  `;

  override render() {
    const last = this.last;
    const tail = !last ? '' : last.type === 'output' ? ` · last: frame ${last.seq} from ${last.workerId}, ${describe(last.output)}, ${last.latencyMs.toFixed(0)} ms after capture` : ` · last: frame ${last.seq} failed: ${last.message}`;
    return html`<div data-testid="last-result" aria-live="off">results: <span data-testid="result-count">${this.results}</span>${tail}</div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'fw-result-line': ResultLine;
  }
}
