import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { guard } from 'lit/directives/guard.js';
import { EXPORT_FORMATS, type Derailment, type ExportFormat, type GivenInstruction, type SessionSummary, type SessionTimeline, type StoredEvent, type TimelineItemKind, type TimelineStep } from '../../sync/trainer-api';
import { CoalescedController } from '../controllers/coalesced';
import { ProgressiveController } from '../controllers/progressive';
import { SubscriptionController, type Subscribable } from '../controllers/subscription';
import { problem, type AdminApi } from './api';
import { formatClock, formatDuration, formatStarted, isoDuration, OUTCOME_LABELS, STEP_ENDING_LABELS, STEP_STATUS_LABELS, stepsText } from './format';
import { dashboardStyles } from './styles';
import { timeText } from './time-text';
import './task-aggregate';
import './timeline-chart';

/** Raw events shown under the timeline: the newest ones, enough to see what the app sent. */
const EVENTS_SHOWN = 200;

/** The pages of a step's list loaded beyond what the timeline carries, and where the next one starts. */
interface MoreItems {
  readonly items: readonly (Derailment | GivenInstruction)[];
  readonly next: string | null;
}
const listKey = (step: number, kind: TimelineItemKind) => `${step}:${kind}`;

const at = (ts: number | null) => (ts === null ? '–' : timeText(ts, formatClock));
const took = (ms: number | null) => (ms === null ? '–' : html`<time datetime=${isoDuration(ms)}>${formatDuration(ms)}</time>`);

/**
 * One session as a timeline: who and what, how it ended, a chart to take in at a glance, and a
 * row per step with its times, derailments and the instructions given. Live: a summary from the
 * feed updates the header at once and fetches the timeline again (the backend does not push
 * timelines), coalesced so that a session sending several verdicts a second costs one fetch at a time.
 */
@customElement('fw-session-view')
export class SessionView extends LitElement {
  @property({ attribute: false }) api: AdminApi | undefined;
  @property({ attribute: false }) feed: Subscribable<readonly SessionSummary[]> | undefined;
  @property() sessionId = '';
  @state() private timeline: SessionTimeline | undefined;
  @state() private events: readonly StoredEvent[] | undefined;
  @state() private error = '';
  @state() private exporting: ExportFormat | undefined;
  @state() private picked: number | undefined;
  /** Each step's lists as far as they were shown further ("show more"), by listKey. */
  @state() private more: ReadonlyMap<string, MoreItems> = new Map();
  @state() private loadingMore: string | undefined;
  private eventsOpen = false;
  private readonly rows = new ProgressiveController(this);
  private readonly refreshTimeline = new CoalescedController(this, () => this.loadTimeline());
  private readonly refreshEvents = new CoalescedController(this, () => this.loadEvents());

  constructor() {
    super();
    new SubscriptionController(this, () => this.feed, (sessions) => {
      const mine = sessions.find((s) => s.sessionId === this.sessionId);
      if (!mine || !this.timeline) return;
      // The header is current at once; the steps follow when the timeline comes back.
      this.timeline = { ...this.timeline, session: mine };
      this.refreshTimeline.request();
      if (this.eventsOpen) this.refreshEvents.request();
    });
  }

  static override styles = [
    dashboardStyles,
    css`
      nav { margin: 8px 0; }
      h2 { outline: none; }
      dl.facts { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 8px 0; }
      dl.facts div { display: grid; gap: 2px; }
      dt { font-size: 12px; color: #94a3b8; }
      dd { margin: 0; font-size: 15px; }
      .steps { --columns: 3.5em minmax(0, 2fr) 6.5em 6.5em 6.5em 5.5em minmax(0, 2fr) minmax(0, 2fr); }
      .row.picked { background: #1e293b; }
      .row.step > :first-child { font-weight: 600; }
      details { margin-top: 20px; }
      summary { cursor: pointer; font-weight: 600; }
      pre { margin: 0; white-space: pre-wrap; word-break: break-all; font-size: 12px; }
      code { font-size: 13px; }
      button.more { display: block; margin-top: 4px; font-size: 12px; padding: 2px 8px; }
    `,
  ];

  override willUpdate(changed: Map<string, unknown>): void {
    if ((changed.has('sessionId') || changed.has('api')) && this.sessionId && this.api) {
      this.timeline = undefined;
      this.events = undefined;
      this.error = '';
      this.picked = undefined;
      this.more = new Map();
      this.loadingMore = undefined;
      this.refreshTimeline.request();
      this.refreshEvents.request();
    }
  }

  /** Moves focus to the heading, so that a screen reader hears where the click led. */
  focusHeading(): void {
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('h2')?.focus());
  }

  private async loadTimeline(): Promise<void> {
    const { api, sessionId } = this;
    if (!api || !sessionId) return;
    try {
      const t = await api.timeline(sessionId);
      if (sessionId === this.sessionId) {
        this.timeline = t;
        this.error = '';
        // A list shown to its end may have ended with the derailment then still open: it is read again from its start when asked.
        const stale = [...this.more].filter(([, m]) => m.items.some((i) => 'ongoing' in i && i.ongoing));
        if (stale.length) this.more = new Map([...this.more].filter(([k]) => !stale.some(([s]) => s === k)));
      }
    } catch (err) {
      if (sessionId === this.sessionId) this.error = problem(this, err, 'load this session');
    }
  }

  private async loadEvents(): Promise<void> {
    const { api, sessionId } = this;
    if (!api || !sessionId) return;
    try {
      const rows = await api.events(sessionId);
      if (sessionId === this.sessionId) this.events = rows.slice(-EVENTS_SHOWN).reverse();
    } catch (err) {
      if (sessionId === this.sessionId) this.error = problem(this, err, 'load the recorded events');
    }
  }

  private async export(format: ExportFormat): Promise<void> {
    if (!this.api) return;
    this.exporting = format;
    try {
      await this.api.exportSession(this.sessionId, format);
    } catch (err) {
      this.error = problem(this, err, `export this session as ${format.toUpperCase()}`);
    } finally {
      this.exporting = undefined;
    }
  }

  /** The next page of a step's list, after what is shown. */
  private async showMore(step: TimelineStep, kind: TimelineItemKind): Promise<void> {
    const { api, sessionId } = this;
    const key = listKey(step.index, kind);
    const had = this.more.get(key);
    const after = had ? had.next : kind === 'derailments' ? step.derailmentsNext : step.instructionsNext;
    if (!api || after === null || this.loadingMore !== undefined) return;
    this.loadingMore = key;
    try {
      const page = await api.timelineItems(sessionId, step.index, kind, after);
      if (sessionId !== this.sessionId) return;
      this.more = new Map([...this.more, [key, { items: [...(had?.items ?? []), ...page.items], next: page.next }]]);
    } catch (err) {
      if (sessionId === this.sessionId) this.error = problem(this, err, `load more ${kind} of step ${step.index + 1}`);
    } finally {
      this.loadingMore = undefined;
    }
  }

  /** A list as shown: the timeline's first items, then the pages loaded; and whether there is more. */
  private shown(step: TimelineStep, kind: 'derailments'): { items: readonly Derailment[]; next: string | null; total: number };
  private shown(step: TimelineStep, kind: 'instructions'): { items: readonly GivenInstruction[]; next: string | null; total: number };
  private shown(step: TimelineStep, kind: TimelineItemKind): { items: readonly (Derailment | GivenInstruction)[]; next: string | null; total: number } {
    const more = this.more.get(listKey(step.index, kind));
    const first = kind === 'derailments' ? step.derailments : step.instructions;
    const next = kind === 'derailments' ? step.derailmentsNext : step.instructionsNext;
    return { items: more ? [...first, ...more.items] : first, next: more ? more.next : next, total: kind === 'derailments' ? step.derailmentsTotal : step.instructionsTotal };
  }

  private moreButton(step: TimelineStep, kind: TimelineItemKind, shown: number, total: number) {
    const loading = this.loadingMore === listKey(step.index, kind);
    return html`<button class="more" data-testid=${`more-${kind}`} ?disabled=${this.loadingMore !== undefined} @click=${() => this.showMore(step, kind)}>
      ${loading ? 'Loading…' : `Show more ${kind} (${shown} of ${total} shown)`}
    </button>`;
  }

  private pick(index: number): void {
    this.picked = index;
    void this.updateComplete.then(() => this.renderRoot.querySelector(`.step[data-step="${index}"]`)?.scrollIntoView({ block: 'center' }));
  }

  override render() {
    const t = this.timeline;
    const s = t?.session;
    // One heading whatever the state, so that focus put on it while loading stays there.
    return html`
      <nav aria-label="Back"><a href="#">← All sessions</a></nav>
      <article aria-labelledby="session-h">
        <h2 id="session-h" tabindex="-1" data-testid="session-title">${s ? `${s.deviceName} · ${s.taskTitle ?? s.taskId ?? 'no task'}` : html`Session <code>${this.sessionId}</code>`}</h2>
        ${t ? this.renderTimeline(t) : html`<p class=${this.error ? 'error' : 'muted'} role="status">${this.error || 'Loading the timeline…'}</p>`}
      </article>
    `;
  }

  private renderTimeline(t: SessionTimeline) {
    const s = t.session;
    const shown = this.rows.count(s.sessionId, t.steps.length);
    return html`
        <dl class="facts" data-testid="session-facts">
          <div><dt>Outcome</dt><dd><span class="badge ${s.outcome}" data-testid="outcome">${OUTCOME_LABELS[s.outcome]}</span> ${s.live ? html`<span class="badge live" data-testid="live">● Live</span>` : nothing}</dd></div>
          <div><dt>Started</dt><dd>${timeText(s.startedTs, formatStarted)}</dd></div>
          <div><dt>Duration</dt><dd data-testid="duration">${took(s.durationMs)}</dd></div>
          <div><dt>Steps done</dt><dd data-testid="steps-done">${stepsText(s.stepsDone, s.stepsTotal)}</dd></div>
          <div><dt>Derailments</dt><dd data-testid="derailments">${s.derailments}</dd></div>
          <div><dt>Device</dt><dd>${s.deviceName}</dd></div>
          <div><dt>Session</dt><dd><code>${s.sessionId}</code></dd></div>
        </dl>
        <div class="actions">
          ${EXPORT_FORMATS.map(
            (f) => html`<button ?disabled=${this.exporting !== undefined} @click=${() => this.export(f)}>Export this session as ${f.toUpperCase()}</button>`,
          )}
        </div>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}

        <h3>Timeline</h3>
        <fw-timeline-chart .timeline=${t} @step-pick=${(e: CustomEvent<{ index: number }>) => this.pick(e.detail.index)}></fw-timeline-chart>

        <h3 id="steps-h">Steps</h3>
        <div class="rows steps" role="table" data-testid="steps" aria-labelledby="steps-h">
          <div role="rowgroup">
            <div class="row head" role="row"><span role="columnheader" class="num">Step</span><span role="columnheader">Instruction</span><span role="columnheader">Status</span><span role="columnheader">Started</span><span role="columnheader">Completed</span><span role="columnheader" class="num">Took</span><span role="columnheader">Derailments</span><span role="columnheader">Instructions given</span></div>
          </div>
          <div role="rowgroup">
            ${t.steps
              .slice(0, shown)
              .map((step) =>
                guard([step, step.index === this.picked, this.more.get(listKey(step.index, 'derailments')), this.more.get(listKey(step.index, 'instructions')), this.loadingMore], () => this.renderStep(step)),
              )}
          </div>
        </div>
        ${shown < t.steps.length ? html`<p class="muted" role="status">Showing ${shown} of ${t.steps.length} steps…</p>` : nothing}

        ${s.taskKey ? html`<fw-task-aggregate .api=${this.api} .feed=${this.feed} .taskKey=${s.taskKey}></fw-task-aggregate>` : nothing}

        <details @toggle=${(e: Event) => this.toggleEvents(e)}>
          <summary>Recorded events (the newest ${EVENTS_SHOWN})</summary>
          <table data-testid="events">
            <thead><tr><th scope="col" class="num">#</th><th scope="col">Time</th><th scope="col">Kind</th><th scope="col">Payload</th></tr></thead>
            <tbody>
              ${(this.events ?? []).map((e) => html`<tr><td class="num">${e.seq}</td><td>${timeText(e.ts, formatClock)}</td><td>${e.kind}</td><td><pre>${JSON.stringify(e.payload)}</pre></td></tr>`)}
            </tbody>
          </table>
        </details>
    `;
  }

  private renderStep(step: TimelineStep) {
    const derailments = this.shown(step, 'derailments');
    const given = this.shown(step, 'instructions');
    return html`<div role="row" class="row body step ${step.status}${step.index === this.picked ? ' picked' : ''}" data-step=${step.index}>
      <span role="cell" class="num">${step.index + 1}</span>
      <span role="cell" data-testid="instruction">${step.instruction ?? html`<span class="muted">not recorded</span>`}</span>
      <span role="cell"><span data-testid="status">${STEP_STATUS_LABELS[step.status]}</span>${step.completedBy ? html`<br /><span class="muted" data-testid="completed-by">${STEP_ENDING_LABELS[step.completedBy]}</span>` : nothing}</span>
      <span role="cell">${at(step.startedTs)}</span>
      <span role="cell">${at(step.completedTs)}</span>
      <span role="cell" class="num" data-testid="took">${took(step.durationMs)}</span>
      <span role="cell">
        ${derailments.items.length
          ? html`<ul class="plain">
              ${derailments.items.map(
                (d) => html`<li class="derailment" data-testid="derailment"><span data-testid="reason">${d.reason}</span> — ${took(d.durationMs)}${d.ongoing ? ' so far' : ''}, from ${formatClock(d.startTs)}</li>`,
              )}
            </ul>`
          : derailments.next === null
            ? html`<span class="muted">none</span>`
            : nothing}
        ${derailments.next !== null ? this.moreButton(step, 'derailments', derailments.items.length, derailments.total) : nothing}
      </span>
      <span role="cell">
        ${given.items.length
          ? html`<ol class="plain">${given.items.map((i) => html`<li data-testid="given">${at(i.ts)} ${i.text}</li>`)}</ol>`
          : given.next === null
            ? html`<span class="muted">none</span>`
            : nothing}
        ${given.next !== null ? this.moreButton(step, 'instructions', given.items.length, given.total) : nothing}
      </span>
    </div>`;
  }

  private toggleEvents(e: Event): void {
    this.eventsOpen = (e.target as HTMLDetailsElement).open;
    if (this.eventsOpen) this.refreshEvents.request();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'fw-session-view': SessionView;
  }
}
