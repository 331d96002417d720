import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';

interface SessionRow {
  readonly sessionId: string;
  readonly events: number;
  readonly lastSeq: number;
  readonly firstTs: number;
  readonly lastTs: number;
  readonly lastState: { readonly task?: string; readonly step?: number; readonly event?: { readonly type?: string; readonly reason?: string } } | null;
}

interface EventRow {
  readonly seq: number;
  readonly ts: number;
  readonly kind: string;
  readonly payload: unknown;
}

const time = (ts: number) => new Date(ts).toLocaleTimeString();

/** Sessions as they arrive at the backend, live: the supervisor's view. */
@customElement('fw-dashboard')
export class Dashboard extends LitElement {
  @state() private sessions: readonly SessionRow[] = [];
  @state() private selected: string | undefined;
  @state() private events: readonly EventRow[] = [];
  @state() private status = 'connecting';
  private readonly token = new URLSearchParams(location.search).get('token') ?? '';
  private socket: WebSocket | undefined;

  static override styles = css`
    :host { display: block; padding: 16px; max-width: 1100px; margin: auto; }
    table { border-collapse: collapse; width: 100%; font-size: 14px; }
    th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #334155; }
    tr.session { cursor: pointer; }
    tr.session:hover, tr[aria-selected='true'] { background: #1e293b; }
    .status { color: #94a3b8; }
    pre { margin: 0; white-space: pre-wrap; font-size: 12px; }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.token) {
      this.status = 'add ?token=… to the address (the server prints the link)';
      return;
    }
    this.connect(0);
  }

  override disconnectedCallback(): void {
    this.socket?.close();
    super.disconnectedCallback();
  }

  override render() {
    return html`
      <h1>Framewise sessions</h1>
      <p class="status" data-testid="live-status">${this.status}</p>
      <table data-testid="sessions">
        <tr><th>session</th><th>events</th><th>task / step</th><th>last verdict</th><th>started</th><th>last event</th></tr>
        ${this.sessions.map(
          (s) => html`<tr class="session" tabindex="0" aria-selected=${s.sessionId === this.selected} data-session=${s.sessionId}
              @click=${() => this.open(s.sessionId)} @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && this.open(s.sessionId)}>
            <td>${s.sessionId}</td><td>${s.events}</td>
            <td>${s.lastState?.task ?? '–'}${s.lastState?.step !== undefined ? ` · step ${s.lastState.step + 1}` : ''}</td>
            <td>${s.lastState?.event?.type ?? '–'}${s.lastState?.event?.reason ? `: ${s.lastState.event.reason}` : ''}</td>
            <td>${time(s.firstTs)}</td><td>${time(s.lastTs)}</td>
          </tr>`,
        )}
      </table>
      ${this.selected
        ? html`<h2>${this.selected}</h2>
            <table data-testid="events">
              <tr><th>#</th><th>time</th><th>kind</th><th>payload</th></tr>
              ${this.events.map((e) => html`<tr><td>${e.seq}</td><td>${time(e.ts)}</td><td>${e.kind}</td><td><pre>${JSON.stringify(e.payload)}</pre></td></tr>`)}
            </table>`
        : nothing}
    `;
  }

  private connect(attempt: number): void {
    const url = new URL('/live', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', this.token);
    const ws = new WebSocket(url);
    this.socket = ws;
    ws.onopen = () => {
      attempt = 0;
      this.status = 'live';
    };
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data)) as { type: string; sessions?: SessionRow[] };
      if (msg.type === 'sessions' && msg.sessions) {
        this.sessions = msg.sessions;
        if (this.selected) void this.load(this.selected);
      }
    };
    ws.onclose = () => {
      this.status = 'reconnecting…';
      setTimeout(() => this.connect(attempt + 1), Math.min(15_000, 500 * 2 ** attempt));
    };
  }

  private open(sessionId: string): void {
    this.selected = sessionId;
    void this.load(sessionId);
  }

  private async load(sessionId: string): Promise<void> {
    const res = await fetch(`/api/sessions/${encodeURIComponent(sessionId)}/events?limit=5000`, { headers: { authorization: `Bearer ${this.token}` } });
    if (res.ok) this.events = ((await res.json()) as EventRow[]).slice(-200).reverse();
  }
}
