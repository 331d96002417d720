import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { guard } from 'lit/directives/guard.js';
import type { SessionSummary, TaskAggregate } from '../../sync/trainer-api';
import { CoalescedController } from '../controllers/coalesced';
import { ProgressiveController } from '../controllers/progressive';
import { SubscriptionController, type Subscribable } from '../controllers/subscription';
import { problem, type AdminApi } from './api';
import { formatDuration, isoDuration } from './format';
import { dashboardStyles } from './styles';

/**
 * A task's figures across all its sessions (of one definition of it): how long each step takes (median and p90, with a
 * bar each so the slow steps stand out) and where people derail most. Fetched again when a
 * session of the task changes.
 */
@customElement('fw-task-aggregate')
export class TaskAggregateView extends LitElement {
  @property({ attribute: false }) api: AdminApi | undefined;
  @property({ attribute: false }) feed: Subscribable<readonly SessionSummary[]> | undefined;
  /** Which definition of the task (a summary's taskKey; a built-in task's id). */
  @property() taskKey = '';
  @state() private aggregate: TaskAggregate | undefined;
  @state() private error = '';
  private readonly rows = new ProgressiveController(this);
  private readonly refresh = new CoalescedController(this, () => this.load());

  constructor() {
    super();
    new SubscriptionController(this, () => this.feed, (sessions) => {
      if (this.taskKey && sessions.some((s) => s.taskKey === this.taskKey)) this.refresh.request();
    });
  }

  static override styles = [
    dashboardStyles,
    css`
      .figures { --columns: 3.5em minmax(0, 3fr) 4.5em 5.5em 5.5em minmax(80px, 2fr) 7.5em 8em; }
      .bars { display: block; position: relative; height: 14px; margin-top: 3px; }
      .bars span { position: absolute; left: 0; height: 6px; border-radius: 2px; }
      .bars .median { top: 0; background: #38bdf8; }
      .bars .p90 { top: 7px; background: #64748b; }
    `,
  ];

  override willUpdate(changed: Map<string, unknown>): void {
    if ((changed.has('taskKey') || changed.has('api')) && this.taskKey && this.api) {
      this.aggregate = undefined;
      this.refresh.request();
    }
  }

  private async load(): Promise<void> {
    const { api, taskKey } = this;
    if (!api || !taskKey) return;
    try {
      const a = await api.aggregate(taskKey);
      if (taskKey !== this.taskKey) return;
      this.aggregate = a;
      this.error = '';
    } catch (err) {
      this.error = problem(this, err, 'load the task figures');
    }
  }

  override render() {
    const a = this.aggregate;
    if (!a) return html`<p class="muted" role="status">${this.error || 'Loading the task’s figures…'}</p>`;
    const longest = Math.max(1, ...a.steps.map((s) => s.p90Ms ?? 0));
    const shown = this.rows.count(a, a.steps.length);
    const name = (i: number) => `Step ${i + 1}${a.steps[i]?.instruction ? ` (${a.steps[i]!.instruction})` : ''}`;
    return html`
      <section aria-labelledby="aggregate-h" data-testid="aggregate">
        <h3 id="aggregate-h">${a.taskTitle ?? a.taskId} across sessions</h3>
        <p>${a.sessions} ${a.sessions === 1 ? 'session' : 'sessions'}, ${a.completed} completed. Times are over the sessions that completed each step.</p>
        <p data-testid="most-derailed">
          ${a.mostDerailed.length
            ? html`Most derailments: ${a.mostDerailed.slice(0, 5).map((i, k) => html`${k ? ', ' : ''}<strong>${name(i)}</strong>: ${a.steps[i]!.derailments} in ${a.steps[i]!.derailedSessions} ${a.steps[i]!.derailedSessions === 1 ? 'session' : 'sessions'}`)}.`
            : 'No derailments in any session of this task.'}
        </p>
        ${this.error ? html`<p class="error">${this.error}</p>` : nothing}
        <div class="rows figures" role="table" aria-labelledby="aggregate-h">
          <div role="rowgroup">
            <div class="row head" role="row"><span role="columnheader" class="num">Step</span><span role="columnheader">Instruction</span><span role="columnheader" class="num">Timed</span><span role="columnheader" class="num">Median</span><span role="columnheader" class="num">p90</span><span role="columnheader">Median and p90, drawn</span><span role="columnheader" class="num">Derailments</span><span role="columnheader" class="num">Time derailed</span></div>
          </div>
          <div role="rowgroup">
            ${a.steps.slice(0, shown).map((s) =>
              guard([s, longest], () => html`<div role="row" class="row body" data-step=${s.index}>
                <span role="cell" class="num">${s.index + 1}</span>
                <span role="cell">${s.instruction ?? html`<span class="muted">not recorded</span>`}</span>
                <span role="cell" class="num">${s.timed}</span>
                <span role="cell" class="num" data-testid="median">${s.medianMs === null ? '–' : html`<time datetime=${isoDuration(s.medianMs)}>${formatDuration(s.medianMs)}</time>`}</span>
                <span role="cell" class="num" data-testid="p90">${s.p90Ms === null ? '–' : html`<time datetime=${isoDuration(s.p90Ms)}>${formatDuration(s.p90Ms)}</time>`}</span>
                <span role="cell"><span class="bars" aria-hidden="true">
                  ${s.medianMs === null ? nothing : html`<span class="median" style="width:${(100 * s.medianMs) / longest}%"></span>`}
                  ${s.p90Ms === null ? nothing : html`<span class="p90" style="width:${(100 * s.p90Ms) / longest}%"></span>`}
                </span></span>
                <span role="cell" class="num">${s.derailments}</span>
                <span role="cell" class="num">${formatDuration(s.derailedMs)}</span>
              </div>`),
            )}
          </div>
        </div>
      </section>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'fw-task-aggregate': TaskAggregateView;
  }
}
