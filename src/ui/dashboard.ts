import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import * as v from 'valibot';
import { SessionsPageSchema, type SessionSummary } from '../sync/protocol';
import { LiveFeed, SignedOut } from './live-feed';

interface EventRow {
  readonly seq: number;
  readonly ts: number;
  readonly kind: string;
  readonly payload: unknown;
}

/** Kept for this tab only: gone when it closes, never in a URL or localStorage. */
const TOKEN_KEY = 'framewise-admin-token';
const PAGE = 50;

const time = (ts: number) => new Date(ts).toLocaleTimeString();

interface LastState {
  readonly task?: string;
  readonly step?: number;
  readonly event?: { readonly type?: string; readonly reason?: string };
}
const lastState = (s: SessionSummary): LastState | undefined => (s.lastState && typeof s.lastState === 'object' ? (s.lastState as LastState) : undefined);

/** Sessions as they arrive at the backend, live: the supervisor's view. Needs the backend's admin credential. */
@customElement('fw-dashboard')
export class Dashboard extends LitElement {
  @state() private token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  @state() private sessions: readonly SessionSummary[] = [];
  @state() private next: string | null = null;
  @state() private selected: string | undefined;
  @state() private events: readonly EventRow[] = [];
  @state() private status = 'connecting';
  /** Shown on the sign-in form: why it is showing. */
  @state() private message = '';
  @state() private busy = false;
  private live: LiveFeed | undefined;

  static override styles = css`
    :host { display: block; padding: 16px; max-width: 1100px; margin: auto; }
    header { display: flex; align-items: baseline; gap: 12px; }
    h1 { flex: 1; }
    table { border-collapse: collapse; width: 100%; font-size: 14px; }
    th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #334155; }
    tr.session { cursor: pointer; }
    tr.session:hover, tr[aria-selected='true'] { background: #1e293b; }
    .status { color: #94a3b8; }
    .message { color: #fca5a5; }
    form { display: grid; gap: 8px; max-width: 360px; }
    input, button { font: inherit; padding: 6px 10px; }
    pre { margin: 0; white-space: pre-wrap; font-size: 12px; }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.token) void this.enter(this.token);
  }

  override disconnectedCallback(): void {
    this.live?.stop();
    super.disconnectedCallback();
  }

  override render() {
    if (!this.token) return this.renderSignIn();
    return html`
      <header>
        <h1>Framewise sessions</h1>
        <button @click=${() => this.signOut('Signed out.')}>Sign out</button>
      </header>
      <main>
      <p class="status" data-testid="live-status">${this.status}</p>
      <table data-testid="sessions">
        <tr><th>session</th><th>device</th><th>events</th><th>task / step</th><th>last verdict</th><th>started</th><th>last event</th></tr>
        ${this.sessions.map((s) => {
          const st = lastState(s);
          return html`<tr class="session" tabindex="0" aria-selected=${s.sessionId === this.selected} data-session=${s.sessionId}
              @click=${() => this.open(s.sessionId)} @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && this.open(s.sessionId)}>
            <td>${s.sessionId}</td><td>${s.deviceName}</td><td>${s.events}</td>
            <td>${st?.task ?? '–'}${typeof st?.step === 'number' ? ` · step ${st.step + 1}` : ''}</td>
            <td>${st?.event?.type ?? '–'}${st?.event?.reason ? `: ${st.event.reason}` : ''}</td>
            <td>${time(s.firstTs)}</td><td>${time(s.lastTs)}</td>
          </tr>`;
        })}
      </table>
      ${this.next ? html`<button data-testid="load-more" ?disabled=${this.busy} @click=${() => this.loadMore()}>Load more</button>` : nothing}
      ${this.selected
        ? html`<h2>${this.selected}</h2>
            <table data-testid="events">
              <tr><th>#</th><th>time</th><th>kind</th><th>payload</th></tr>
              ${this.events.map((e) => html`<tr><td>${e.seq}</td><td>${time(e.ts)}</td><td>${e.kind}</td><td><pre>${JSON.stringify(e.payload)}</pre></td></tr>`)}
            </table>`
        : nothing}
      </main>
    `;
  }

  private renderSignIn() {
    return html`
      <header><h1>Framewise sessions</h1></header>
      <main>
      <form aria-label="Sign in" @submit=${this.onSignIn}>
        <label for="admin-token">Admin token</label>
        <input id="admin-token" name="token" type="password" autocomplete="current-password" required />
        <small class="status">The backend printed it when it first started (or it is its FRAMEWISE_ADMIN_TOKEN). It is kept for this tab only.</small>
        <button type="submit" ?disabled=${this.busy}>Sign in</button>
        ${this.message ? html`<p class="message" role="alert" data-testid="signin-message">${this.message}</p>` : nothing}
      </form>
      </main>
    `;
  }

  private async onSignIn(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const input = (e.target as HTMLFormElement).elements.namedItem('token') as HTMLInputElement;
    const token = input.value.trim();
    if (!token) return;
    this.busy = true;
    this.message = '';
    try {
      // Checked before it is kept: a wrong token never reaches sessionStorage.
      const page = await this.fetchPage(token, null);
      sessionStorage.setItem(TOKEN_KEY, token);
      this.token = token;
      this.sessions = page.sessions;
      this.next = page.next;
      this.connectLive(token);
    } catch (err) {
      this.message = err instanceof SignedOut ? 'That admin token was refused. Check it and try again.' : `The backend cannot be reached: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this.busy = false;
    }
  }

  private async enter(token: string): Promise<void> {
    try {
      const page = await this.fetchPage(token, null);
      this.sessions = page.sessions;
      this.next = page.next;
    } catch (err) {
      if (err instanceof SignedOut) return this.signOut('The admin token was refused (changed, or the backend was reset). Sign in again.');
      this.status = `cannot list sessions: ${err instanceof Error ? err.message : String(err)}`;
    }
    this.connectLive(token);
  }

  private signOut(message: string): void {
    this.live?.stop();
    this.live = undefined;
    sessionStorage.removeItem(TOKEN_KEY);
    this.token = '';
    this.sessions = [];
    this.next = null;
    this.selected = undefined;
    this.events = [];
    this.status = 'connecting';
    this.message = message;
  }

  private async api(token: string, path: string): Promise<unknown> {
    const res = await fetch(path, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
    if (res.status === 401 || res.status === 403) throw new SignedOut();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.json();
  }

  private async fetchPage(token: string, cursor: string | null) {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (cursor) q.set('cursor', cursor);
    const parsed = v.safeParse(SessionsPageSchema, await this.api(token, `/api/sessions?${q}`));
    if (!parsed.success) throw new Error('the backend sent a session list this dashboard cannot read');
    return parsed.output;
  }

  private async loadMore(): Promise<void> {
    if (!this.next) return;
    this.busy = true;
    try {
      const page = await this.fetchPage(this.token, this.next);
      this.merge(page.sessions, false);
      this.next = page.next;
    } catch (err) {
      if (err instanceof SignedOut) this.signOut('The admin token was refused (changed, or the backend was reset). Sign in again.');
      else this.status = `cannot load more: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this.busy = false;
    }
  }

  /** Upserts: a session already listed is replaced in place; a new one goes on top (live) or at the end (an older page). */
  private merge(incoming: readonly SessionSummary[], onTop: boolean): void {
    const byId = new Map(incoming.map((s) => [s.sessionId, s]));
    const kept = this.sessions.map((s) => byId.get(s.sessionId) ?? s);
    const known = new Set(this.sessions.map((s) => s.sessionId));
    const added = incoming.filter((s) => !known.has(s.sessionId));
    this.sessions = onTop ? [...added, ...kept] : [...kept, ...added];
  }

  /** The live feed: summaries upserted on top as they change; a refused credential signs out. */
  private connectLive(token: string): void {
    this.live?.stop();
    const feed = new LiveFeed(token, {
      onSessions: (sessions) => {
        this.merge(sessions, true);
        if (this.selected && sessions.some((s) => s.sessionId === this.selected)) void this.load(this.selected);
      },
      onStatus: (status) => (this.status = status),
      onSignedOut: () => this.live === feed && this.signOut('The admin token was refused (changed, or the backend was reset). Sign in again.'),
    });
    this.live = feed;
  }

  private open(sessionId: string): void {
    this.selected = sessionId;
    void this.load(sessionId);
  }

  private async load(sessionId: string): Promise<void> {
    try {
      const body = await this.api(this.token, `/api/sessions/${encodeURIComponent(sessionId)}/events?limit=5000`);
      const rows = (Array.isArray(body) ? body : ((body as { events?: unknown }).events ?? [])) as EventRow[];
      if (this.selected === sessionId) this.events = rows.slice(-200).reverse();
    } catch (err) {
      if (err instanceof SignedOut) this.signOut('The admin token was refused (changed, or the backend was reset). Sign in again.');
    }
  }
}
