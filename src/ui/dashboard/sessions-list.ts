import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { guard } from 'lit/directives/guard.js';
import { repeat } from 'lit/directives/repeat.js';
import { BUILTIN_TASKS } from '../../task/builtin';
import { EXPORT_FORMATS, OUTCOMES, type ExportFormat, type SessionFilter, type SessionSummary } from '../../sync/trainer-api';
import { type Device } from '../../sync/protocol';
import { CoalescedController } from '../controllers/coalesced';
import { DebounceController } from '../controllers/debounce';
import { ProgressiveController } from '../controllers/progressive';
import { SubscriptionController, type Subscribable } from '../controllers/subscription';
import { problem, type AdminApi } from './api';
import { formatDuration, formatStarted, isoDuration, OUTCOME_LABELS, stepsText } from './format';
import { applyUpserts, filterFrom, taskOptions, type SeenTask } from './sessions-state';
import { dashboardStyles } from './styles';
import { timeText } from './time-text';
import './task-aggregate';

const PAGE = 50;
/** Typing pauses this long before the list is asked for again. */
const SEARCH_DEBOUNCE_MS = 300;

/** The link to a session's timeline: a fragment, so the list stays loaded and Back returns to it. */
export const sessionHref = (sessionId: string) => `#session=${encodeURIComponent(sessionId)}`;

/**
 * Every session, newest first, a page at a time from the server, narrowed by device, task,
 * outcome and a search on names; kept current by the live feed (each upsert placed, replaced or
 * dropped as the filter says); exportable as the server's CSV or JSON of the same filter.
 */
@customElement('fw-sessions-list')
export class SessionsList extends LitElement {
  @property({ attribute: false }) api: AdminApi | undefined;
  @property({ attribute: false }) feed: Subscribable<readonly SessionSummary[]> | undefined;
  @state() private filter: SessionFilter = {};
  @state() private sessions: readonly SessionSummary[] = [];
  @state() private next: string | null = null;
  @state() private loading = false;
  @state() private error = '';
  @state() private devices: readonly Device[] = [];
  @state() private exporting: ExportFormat | undefined;
  /** Tasks seen in any session shown so far, by task key: the task filter offers them beside the built-in ones. */
  @state() private seenTasks = new Map<string, SeenTask>();
  private search = '';
  /** Each reload; an answer to an older one is dropped. */
  private generation = 0;
  private readonly searchDebounce = new DebounceController(this, SEARCH_DEBOUNCE_MS);
  private readonly rows = new ProgressiveController(this);
  private readonly refreshDevices = new CoalescedController(this, () => this.loadDevices());

  constructor() {
    super();
    new SubscriptionController(this, () => this.feed, (incoming) => {
      this.sessions = applyUpserts(this.sessions, incoming, this.filter, this.next === null);
      this.noteTasks(incoming);
      // A device enrolled since the device list was fetched.
      if (incoming.some((s) => !this.devices.some((d) => d.deviceId === s.deviceId))) this.refreshDevices.request();
    });
  }

  static override styles = [
    dashboardStyles,
    css`
      form.filters { display: flex; flex-wrap: wrap; gap: 10px 16px; align-items: end; margin: 8px 0; }
      .field { display: grid; gap: 3px; }
      .field label { font-size: 13px; color: #cbd5e1; }
      /*
       * A table in its markup and roles, laid out as grid rows: table layout measured every row
       * again for each slice added (a long task at a few hundred rows), while a grid row off
       * screen is skipped (content-visibility). The explicit roles keep the table semantics that
       * some browsers drop once a table's display changes.
       */
      table.sessions, table.sessions thead, table.sessions tbody { display: block; }
      table.sessions tr { display: grid; grid-template-columns: minmax(0, 11fr) minmax(0, 12fr) 7.5em 6em 7.5em 4.5em 6.5em 5em; gap: 0 8px; border-bottom: 1px solid #334155; }
      table.sessions tbody tr { content-visibility: auto; contain-intrinsic-size: auto 40px; }
      table.sessions th, table.sessions td { display: block; border-bottom: 0; overflow-wrap: anywhere; }
      tr.session { cursor: pointer; }
      tr.session:hover { background: #1e293b; }
      .task-id { display: block; font-size: 12px; color: #94a3b8; }
      .count { flex: 1; }
    `,
  ];

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('api') && this.api) {
      void this.reload();
      this.refreshDevices.request();
    }
  }

  private async loadDevices(): Promise<void> {
    if (!this.api) return;
    try {
      this.devices = await this.api.devices();
    } catch (err) {
      this.error = problem(this, err, 'list the devices');
    }
  }

  /** The first page under the current filter, replacing whatever was listed. */
  private async reload(): Promise<void> {
    const api = this.api;
    if (!api) return;
    const generation = ++this.generation;
    this.loading = true;
    try {
      const page = await api.sessions(this.filter, null, PAGE);
      if (generation !== this.generation) return;
      this.sessions = page.sessions;
      this.next = page.next;
      this.error = '';
      this.noteTasks(page.sessions);
    } catch (err) {
      if (generation === this.generation) this.error = problem(this, err, 'list the sessions');
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }

  private async loadMore(): Promise<void> {
    const api = this.api;
    if (!api || !this.next || this.loading) return;
    const generation = this.generation;
    this.loading = true;
    try {
      const page = await api.sessions(this.filter, this.next, PAGE);
      if (generation !== this.generation) return;
      // A live upsert may already have placed one of these.
      const listed = new Set(this.sessions.map((s) => s.sessionId));
      this.sessions = [...this.sessions, ...page.sessions.filter((s) => !listed.has(s.sessionId))];
      this.next = page.next;
      this.noteTasks(page.sessions);
    } catch (err) {
      if (generation === this.generation) this.error = problem(this, err, 'load more sessions');
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }

  private noteTasks(sessions: readonly SessionSummary[]): void {
    const fresh = sessions.filter((s) => s.taskKey !== null && !this.seenTasks.has(s.taskKey));
    if (!fresh.length) return;
    const seen = new Map(this.seenTasks);
    for (const s of fresh) seen.set(s.taskKey!, { taskKey: s.taskKey, taskId: s.taskId, taskTitle: s.taskTitle, deviceName: s.deviceName });
    this.seenTasks = seen;
  }

  private setFilter(values: { device?: string; task?: string; outcome?: string; q?: string }): void {
    this.filter = filterFrom({ device: this.filter.device, task: this.filter.task, outcome: this.filter.outcome, q: this.search, ...values });
    void this.reload();
  }

  private onSearch(e: Event): void {
    this.search = (e.target as HTMLInputElement).value;
    this.searchDebounce.run(() => this.setFilter({}));
  }

  private async export(format: ExportFormat): Promise<void> {
    if (!this.api) return;
    this.exporting = format;
    try {
      await this.api.exportSessions(this.filter, format);
    } catch (err) {
      this.error = problem(this, err, `export the list as ${format.toUpperCase()}`);
    } finally {
      this.exporting = undefined;
    }
  }

  override render() {
    const f = this.filter;
    const tasks = taskOptions(BUILTIN_TASKS, this.seenTasks.values());
    const names = new Map<string, number>();
    for (const d of this.devices) names.set(d.name, (names.get(d.name) ?? 0) + 1);
    const deviceLabel = (d: Device) => `${d.name}${(names.get(d.name) ?? 0) > 1 ? ` · ${d.deviceId.slice(0, 8)}` : ''}${d.revokedAt !== null ? ' (revoked)' : ''}`;
    // Keyed by the reload, not the array: a live upsert must not start the rows over.
    const shown = this.rows.count(this.generation, this.sessions.length);
    const filtered = Object.keys(f).length > 0;
    return html`
      <section aria-labelledby="sessions-h">
        <h2 id="sessions-h" tabindex="-1">Sessions</h2>
        <form class="filters" role="search" aria-label="Filter sessions" @submit=${(e: Event) => e.preventDefault()}>
          <div class="field">
            <label for="filter-device">Device</label>
            <select id="filter-device" @change=${(e: Event) => this.setFilter({ device: (e.target as HTMLSelectElement).value })}>
              <option value="" ?selected=${!f.device}>All devices</option>
              ${this.devices.map((d) => html`<option value=${d.deviceId} ?selected=${f.device === d.deviceId}>${deviceLabel(d)}</option>`)}
            </select>
          </div>
          <div class="field">
            <label for="filter-task">Task</label>
            <select id="filter-task" @change=${(e: Event) => this.setFilter({ task: (e.target as HTMLSelectElement).value })}>
              <option value="" ?selected=${!f.task}>All tasks</option>
              ${tasks.map((t) => html`<option value=${t.id} ?selected=${f.task === t.id}>${t.title}</option>`)}
            </select>
          </div>
          <div class="field">
            <label for="filter-outcome">Outcome</label>
            <select id="filter-outcome" @change=${(e: Event) => this.setFilter({ outcome: (e.target as HTMLSelectElement).value })}>
              <option value="" ?selected=${!f.outcome}>Any outcome</option>
              ${OUTCOMES.map((o) => html`<option value=${o} ?selected=${f.outcome === o}>${OUTCOME_LABELS[o]}</option>`)}
            </select>
          </div>
          <div class="field">
            <label for="filter-q">Search names</label>
            <input id="filter-q" type="search" maxlength="100" placeholder="Device or task" .value=${this.search} @input=${this.onSearch} />
          </div>
        </form>
        <div class="actions">
          <span class="count muted" role="status" data-testid="list-count">${this.loading ? 'Loading…' : `${this.sessions.length}${this.next ? '+' : ''} ${this.sessions.length === 1 && !this.next ? 'session' : 'sessions'}${filtered ? ' match' : ''}`}</span>
          ${EXPORT_FORMATS.map(
            (fmt) => html`<button ?disabled=${this.exporting !== undefined} @click=${() => this.export(fmt)}>Export ${filtered ? 'these' : 'all'} as ${fmt.toUpperCase()}</button>`,
          )}
        </div>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
        <table class="sessions" role="table" aria-labelledby="sessions-h" data-testid="sessions">
          <thead role="rowgroup">
            <tr role="row"><th role="columnheader" scope="col">Device</th><th role="columnheader" scope="col">Task</th><th role="columnheader" scope="col">Started</th><th role="columnheader" scope="col" class="num">Duration</th><th role="columnheader" scope="col">Outcome</th><th role="columnheader" scope="col" class="num">Steps</th><th role="columnheader" scope="col" class="num">Derailments</th><th role="columnheader" scope="col">Live</th></tr>
          </thead>
          <tbody role="rowgroup">
            ${repeat(
              this.sessions.slice(0, shown),
              (s) => s.sessionId,
              // Keyed, and redrawn only when its summary changed: a live upsert on top moves rows, it does not redraw them all.
              (s) => guard([s], () => this.renderRow(s)),
            )}
          </tbody>
        </table>
        ${!this.loading && !this.sessions.length ? html`<p class="muted">${filtered ? 'No session matches these filters.' : 'No sessions yet: they appear here as devices sync.'}</p>` : nothing}
        ${this.next ? html`<p><button data-testid="load-more" ?disabled=${this.loading} @click=${() => this.loadMore()}>Load more</button></p>` : nothing}
        ${f.task ? html`<fw-task-aggregate .api=${this.api} .feed=${this.feed} .taskKey=${f.task}></fw-task-aggregate>` : nothing}
      </section>
    `;
  }

  private renderRow(s: SessionSummary) {
    const open = () => (location.hash = sessionHref(s.sessionId).slice(1));
    return html`<tr class="session" role="row" data-session=${s.sessionId} @click=${(e: Event) => (e.target as Element).closest('a') || open()}>
      <td role="cell" data-testid="device"><a href=${sessionHref(s.sessionId)}>${s.deviceName}</a></td>
      <td role="cell" data-testid="task">${s.taskTitle ?? s.taskId ?? html`<span class="muted">no task</span>`}${s.taskTitle && s.taskId ? html`<span class="task-id">${s.taskId}</span>` : nothing}</td>
      <td role="cell" data-testid="started">${timeText(s.startedTs, formatStarted)}</td>
      <td role="cell" class="num" data-testid="duration">${s.durationMs === null ? '–' : html`<time datetime=${isoDuration(s.durationMs)}>${formatDuration(s.durationMs)}</time>`}</td>
      <td role="cell"><span class="badge ${s.outcome}" data-testid="outcome">${OUTCOME_LABELS[s.outcome]}</span></td>
      <td role="cell" class="num" data-testid="steps">${stepsText(s.stepsDone, s.stepsTotal)}</td>
      <td role="cell" class="num" data-testid="derailments">${s.derailments}</td>
      <td role="cell" data-testid="live">${s.live ? html`<span class="badge live">● Live</span>` : html`<span class="muted">No</span>`}</td>
    </tr>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'fw-sessions-list': SessionsList;
  }
}
