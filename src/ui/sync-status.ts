import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { SyncStatus } from '../sync/client';

/** Connected or not, how much is waiting, and when the backend last confirmed. */
@customElement('fw-sync-status')
export class SyncStatusView extends LitElement {
  @property({ attribute: false }) status: SyncStatus | undefined;
  /** Why sync is off, when it is. */
  @property() off = '';

  static override styles = css`
    :host { font-size: 13px; color: #94a3b8; }
    .dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 4px; background: #64748b; }
    .connected { background: #22c55e; }
    .offline, .connecting { background: #f59e0b; }
  `;

  override render() {
    const s = this.status;
    if (!s) return html`<span data-testid="sync-status" title=${this.off}><span class="dot"></span>sync off</span>`;
    const label = { connected: 'synced', connecting: 'connecting', offline: 'offline', standby: 'another tab syncs', stopped: 'sync stopped' }[s.state];
    return html`<span data-testid="sync-status" role="status" title=${s.error ?? ''}>
      <span class="dot ${s.state}"></span>${label} · <span data-testid="sync-pending">${s.pending}</span> pending${s.lastAck ? html` · last ack ${new Date(s.lastAck.at).toLocaleTimeString()}` : ''}
    </span>`;
  }
}
