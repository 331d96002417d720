import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { SyncState, SyncStatus } from '../sync/sync-status';

/** Whether the browser promised to keep this origin's storage (the outbox) under storage pressure. */
export type StoragePersistence = 'persisted' | 'not-persisted' | 'unsupported';

const LABEL: Record<SyncState, string> = {
  enrolling: 'enrolling this device',
  idle: 'synced',
  connecting: 'connecting',
  connected: 'synced',
  offline: 'offline',
  standby: 'another tab syncs',
  refused: 'sync refused',
  waiting: 'sync paused by the backend',
  stopped: 'sync stopped',
};

const STORAGE: Record<StoragePersistence, string> = {
  persisted: 'storage persistent',
  'not-persisted': 'storage not persistent: the browser may clear unsent events when space runs low',
  unsupported: 'storage persistence unsupported by this browser',
};

/** Connected or not, how much is waiting, when the backend last confirmed, and what it refused. */
@customElement('fw-sync-status')
export class SyncStatusView extends LitElement {
  @property({ attribute: false }) status: SyncStatus | undefined;
  /** Why sync is off, when it is. */
  @property() off = '';
  @property() storage: StoragePersistence | undefined;

  static override styles = css`
    :host { display: block; font-size: 13px; color: #94a3b8; }
    .dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; margin-right: 4px; background: #64748b; }
    .connected, .idle { background: #22c55e; }
    .offline, .connecting, .enrolling, .waiting { background: #f59e0b; }
    .refused { background: #ef4444; }
    .problem { color: #fca5a5; margin: 4px 0 0; }
    ul { margin: 4px 0 0; padding-left: 18px; color: #fcd34d; }
  `;

  override render() {
    const s = this.status;
    const storage = this.storage ? html` · <span data-testid="storage-status">${STORAGE[this.storage]}</span>` : nothing;
    if (!s) return html`<span data-testid="sync-status" title=${this.off}><span class="dot"></span>sync off</span>${storage}`;
    // The reason matters whenever the app is not plainly synced.
    const problem = s.error && s.state !== 'connected' && s.state !== 'idle' && s.state !== 'stopped' ? s.error : '';
    return html`<span data-testid="sync-status" role="status" title=${s.error ?? ''}>
        <span class="dot ${s.state}"></span>${LABEL[s.state]} · <span data-testid="sync-pending">${s.pending}</span> pending${s.lastAck ? html` · last ack ${new Date(s.lastAck.at).toLocaleTimeString()}` : ''}
      </span>${storage}
      ${problem ? html`<p class="problem" role=${s.state === 'refused' ? 'alert' : 'status'} data-testid="sync-problem">${problem}</p>` : nothing}
      ${s.held.length
        ? html`<ul data-testid="sync-held" aria-label="Sessions kept on this device and not sent">
            ${s.held.map((h) => html`<li data-session=${h.sessionId} data-reason=${h.reason}>${h.message}</li>`)}
          </ul>`
        : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'fw-sync-status': SyncStatusView;
  }
}
