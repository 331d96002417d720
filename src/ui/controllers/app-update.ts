import { html, nothing, type ReactiveController, type ReactiveControllerHost } from 'lit';
import { registerServiceWorker } from '../../pwa';

/**
 * The service worker's news for the person: a new version waiting (applied only on consent and
 * only between sessions, since applying reloads the page), and the first time the app works offline.
 */
export class AppUpdateController implements ReactiveController {
  private apply: (() => Promise<void>) | undefined;
  private offlineReady = false;
  private registered = false;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {
    if (this.registered) return; // a service worker is registered once per page, however often the element moves
    this.registered = true;
    registerServiceWorker(
      (apply) => ((this.apply = apply), this.host.requestUpdate()),
      () => ((this.offlineReady = true), this.host.requestUpdate()),
    );
  }

  notices(idle: boolean) {
    return html`${this.apply && idle ? html`<div class="notice" role="status" data-testid="update">A new version of Framewise is ready. <button @click=${() => this.apply?.()}>Update now</button></div>` : nothing}
      ${this.offlineReady ? html`<div class="notice" role="status" data-testid="offline-ready">Framewise now works offline. <button @click=${() => ((this.offlineReady = false), this.host.requestUpdate())} aria-label="Dismiss">✕</button></div>` : nothing}`;
  }
}
