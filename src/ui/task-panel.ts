import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { SessionView } from '../task/session';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The current instruction in large type, the step list with progress, a derail banner, and the summary at the end. */
@customElement('fw-task-panel')
export class TaskPanel extends LitElement {
  @property({ attribute: false }) view: SessionView | undefined;
  /** What the localization workers say about the current step (where things are, where they go). */
  @property() instruction = '';

  static override styles = css`
    :host { display: block; }
    .instruction { font-size: clamp(22px, 3.2vw, 34px); font-weight: 650; line-height: 1.2; margin: 4px 0 8px; }
    .hint { font-size: 18px; color: #7dd3fc; min-height: 1.3em; }
    .derail { background: #b45309; color: #fff; padding: 10px 14px; border-radius: 6px; font-size: 18px; font-weight: 600; }
    ol { padding-left: 1.4em; margin: 8px 0; }
    li { padding: 3px 0; color: #94a3b8; }
    li.current { color: #f8fafc; font-weight: 600; }
    li.done { color: #86efac; }
    li.done::marker { content: '✓ '; }
    progress { width: 100%; height: 8px; }
    .summary { background: #14532d; padding: 12px 16px; border-radius: 8px; }
    table { border-collapse: collapse; }
    td { padding: 2px 12px 2px 0; }
  `;

  override render() {
    const v = this.view;
    if (!v) return html`<p>Pick a task to be guided through it.</p>`;
    if (v.done) return this.renderSummary(v);
    const step = v.task.steps[v.step]!;
    return html`
      ${v.derailed ? html`<div class="derail" role="alert" data-testid="derail">${v.derailed}</div>` : nothing}
      <div class="instruction" aria-live="polite" data-testid="instruction">${step.instruction}</div>
      <div class="hint" aria-live="polite" data-testid="hint">${this.instruction && this.instruction !== step.instruction ? this.instruction : ''}</div>
      <progress max=${v.holdMs || 1} value=${Math.min(v.heldMs, v.holdMs)} aria-label="Holding the step"></progress>
      <ol data-testid="steps">
        ${v.task.steps.map(
          (s, i) => html`<li class=${i < v.step ? 'done' : i === v.step ? 'current' : ''} aria-current=${i === v.step ? 'step' : 'false'}>${s.instruction}</li>`,
        )}
      </ol>
    `;
  }

  private renderSummary(v: SessionView) {
    const p = v.progress;
    const total = (p.completedAt ?? p.stepStartedAt) - p.startedAt;
    return html`<div class="summary" data-testid="summary" role="status">
      <h2>Done: ${v.task.title}</h2>
      <p>${v.task.steps.length} steps in ${seconds(total)}, ${p.derailments} ${p.derailments === 1 ? 'derailment' : 'derailments'}.</p>
      <table>
        ${v.task.steps.map((s, i) => html`<tr><td>${i + 1}. ${s.instruction}</td><td>${p.stepTimes[i] === undefined ? '–' : seconds(p.stepTimes[i]!)}</td></tr>`)}
      </table>
      <button @click=${() => this.dispatchEvent(new CustomEvent('task-restart', { bubbles: true, composed: true }))}>Do it again</button>
    </div>`;
  }
}
