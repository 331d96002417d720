import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { HandsFreeCommand } from '../guide/hands-free';
import type { TaskProgressView } from '../task/session';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The current instruction in large type, the step list with progress, a derail banner, and the summary at the end. */
@customElement('fw-task-panel')
export class TaskPanel extends LitElement {
  @property({ attribute: false }) view: TaskProgressView | undefined;
  /** What the localization workers say about the current step (where things are, where they go). */
  @property() instruction = '';
  /** Whether a command can reach the state worker (the camera runs): next and back need it. */
  @property({ type: Boolean }) live = false;

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
    .controls { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0 4px; }
    /* Touch targets of at least 48 px: gloved or wet hands. */
    .controls button { min-height: 48px; min-width: 48px; padding: 0 16px; font-size: 16px; }
    .controls button.confirm { min-height: 64px; flex: 1 1 100%; font-size: 22px; font-weight: 650; background: #15803d; color: #fff; border: 0; border-radius: 8px; }
    .controls button.confirm:disabled { background: #475569; }
    .countdown { font-size: clamp(28px, 5vw, 48px); font-weight: 700; font-variant-numeric: tabular-nums; color: #fde68a; }
    .keys { font-size: 14px; color: #cbd5e1; margin: 2px 0; }
    kbd { border: 1px solid #64748b; border-radius: 3px; padding: 0 4px; font-family: inherit; }
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
      ${step.kind === 'wait'
        ? html`<div class="countdown" role="timer" data-testid="countdown">${Math.max(0, Math.ceil((v.holdMs - v.heldMs) / 1000))} s left</div>
            <progress max=${v.holdMs || 1} value=${Math.min(v.heldMs, v.holdMs)} aria-label="Waiting"></progress>`
        : step.kind === 'confirm'
          ? nothing
          : html`<progress max=${v.holdMs || 1} value=${Math.min(v.heldMs, v.holdMs)} aria-label="Holding the step"></progress>`}
      <div class="controls" role="group" aria-label="Step controls">
        ${step.kind === 'confirm'
          ? html`<button class="confirm" data-testid="confirm" ?disabled=${!this.live} @click=${() => this.command('next')}>Done — next step</button>`
          : nothing}
        <button data-testid="repeat" @click=${() => this.command('repeat')}>Repeat</button>
        <button data-testid="back" ?disabled=${!this.live || v.step === 0} @click=${() => this.command('back')}>Back a step</button>
        ${step.kind === 'confirm' ? nothing : html`<button data-testid="skip" ?disabled=${!this.live} @click=${() => this.command('next')}>Skip step</button>`}
      </div>
      <p class="keys" data-testid="keys">Keys: <kbd>Space</kbd> or <kbd>Enter</kbd> ${step.kind === 'confirm' ? 'done' : 'skip'} · <kbd>R</kbd> repeat · <kbd>B</kbd> back</p>
      <ol data-testid="steps">
        ${v.task.steps.map(
          (s, i) => html`<li class=${i < v.step ? 'done' : i === v.step ? 'current' : ''} aria-current=${i === v.step ? 'step' : 'false'}>${s.instruction}</li>`,
        )}
      </ol>
    `;
  }

  private command(c: HandsFreeCommand): void {
    this.dispatchEvent(new CustomEvent<HandsFreeCommand>('task-command', { detail: c, bubbles: true, composed: true }));
  }

  private renderSummary(v: TaskProgressView) {
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

declare global {
  interface HTMLElementTagNameMap {
    'fw-task-panel': TaskPanel;
  }
}
