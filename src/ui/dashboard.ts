import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { DashboardFeedController } from './controllers/dashboard-feed';
import { HashRouteController } from './controllers/hash-route';
import { AdminApi, REFUSED_MESSAGE, SignedOut, Throttled } from './dashboard/api';
import './dashboard/session-view';
import './dashboard/sessions-list';

/** Kept for this tab only: gone when it closes, never in a URL or localStorage. */
const TOKEN_KEY = 'framewise-admin-token';

/**
 * The trainer's view: every session as it arrives at the backend, live — a filterable list,
 * and each session's timeline (`#session=<id>`). Needs the backend's admin credential, asked
 * for once per tab; everything below it shares one API client and one live feed.
 */
@customElement('fw-dashboard')
export class Dashboard extends LitElement {
  @state() private token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  @state() private api: AdminApi | undefined = this.token ? new AdminApi(this.token) : undefined;
  /** Shown on the sign-in form: why it is showing. */
  @state() private message = '';
  @state() private busy = false;
  private readonly feed = new DashboardFeedController(this, () => this.signOut(REFUSED_MESSAGE));
  private readonly route = new HashRouteController(this);
  private shownSession: string | undefined;

  static override styles = css`
    :host { display: block; padding: 16px; max-width: 1280px; margin: auto; }
    header { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
    h1 { flex: 1; font-size: 24px; margin: 8px 0; }
    .status { color: #94a3b8; }
    .status.live { color: #86efac; }
    .message { color: #fca5a5; }
    form { display: grid; gap: 8px; max-width: 360px; }
    input, button { font: inherit; padding: 6px 10px; }
    button { border-radius: 6px; border: 1px solid #475569; background: #1e293b; color: #e2e8f0; cursor: pointer; }
    button[type='submit'] { background: #38bdf8; color: #0f172a; border: 0; }
    small { color: #94a3b8; }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.token) this.feed.connect(this.token);
  }

  override render() {
    if (!this.token || !this.api) return this.renderSignIn();
    const session = this.route.get('session');
    return html`
      <header>
        <h1>Framewise sessions</h1>
        <span class="status ${this.feed.status}">Live feed: <span data-testid="live-status">${this.feed.status}</span></span>
        <button @click=${() => this.signOut('Signed out.')}>Sign out</button>
      </header>
      <main @signed-out=${() => this.signOut(REFUSED_MESSAGE)}>
        <fw-sessions-list .api=${this.api} .feed=${this.feed} ?hidden=${session !== undefined}></fw-sessions-list>
        ${session !== undefined ? html`<fw-session-view .api=${this.api} .feed=${this.feed} .sessionId=${session}></fw-session-view>` : nothing}
      </main>
    `;
  }

  override updated(): void {
    // Focus follows the view a link switched to, so that a screen reader hears where it went.
    const session = this.token ? this.route.get('session') : undefined;
    if (session === this.shownSession) return;
    const was = this.shownSession;
    this.shownSession = session;
    if (session !== undefined) this.renderRoot.querySelector('fw-session-view')?.focusHeading();
    else if (was !== undefined) void this.focusList();
  }

  private async focusList(): Promise<void> {
    const list = this.renderRoot.querySelector('fw-sessions-list');
    await list?.updateComplete;
    list?.renderRoot.querySelector<HTMLElement>('h2')?.focus();
  }

  private renderSignIn() {
    return html`
      <header><h1>Framewise sessions</h1></header>
      <main>
        <form aria-label="Sign in" @submit=${this.onSignIn}>
          <label for="admin-token">Admin token</label>
          <input id="admin-token" name="token" type="password" autocomplete="current-password" required />
          <small>The backend printed it when it first started (or it is its FRAMEWISE_ADMIN_TOKEN). It is kept for this tab only.</small>
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
      const api = new AdminApi(token);
      await api.devices();
      sessionStorage.setItem(TOKEN_KEY, token);
      this.token = token;
      this.api = api;
      this.feed.connect(token);
    } catch (err) {
      this.message =
        err instanceof SignedOut ? 'That admin token was refused. Check it and try again.' : err instanceof Throttled ? err.message : `The backend cannot be reached: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this.busy = false;
    }
  }

  /** Forgets the credential (this tab's storage, the client, the live socket) and shows the form, saying why. */
  private signOut(message: string): void {
    if (!this.token) return;
    this.feed.disconnect();
    sessionStorage.removeItem(TOKEN_KEY);
    this.token = '';
    this.api = undefined;
    this.message = message;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'fw-dashboard': Dashboard;
  }
}
