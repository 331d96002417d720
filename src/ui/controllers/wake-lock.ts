import type { ReactiveController, ReactiveControllerHost } from 'lit';

export type WakeLockState = 'off' | 'held' | 'unsupported' | 'refused';

/**
 * Keeps the screen on while the person is being guided (their hands are busy). The browser drops
 * the lock whenever the page is hidden, so it is asked for again when the page shows.
 */
export class WakeLockController implements ReactiveController {
  state: WakeLockState = 'off';
  private sentinel: WakeLockSentinel | undefined;
  private wanted = false;
  private readonly onVisible = () => {
    if (this.wanted && document.visibilityState === 'visible' && !this.sentinel) void this.acquire();
  };

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {
    document.addEventListener('visibilitychange', this.onVisible);
  }

  hostDisconnected(): void {
    document.removeEventListener('visibilitychange', this.onVisible);
    void this.set(false);
  }

  async set(wanted: boolean): Promise<void> {
    if (wanted === this.wanted) return;
    this.wanted = wanted;
    if (wanted && !this.sentinel) await this.acquire();
    if (!wanted && this.sentinel) {
      const s = this.sentinel;
      this.sentinel = undefined;
      await s.release().catch(() => {});
      this.update('off');
    }
  }

  private async acquire(): Promise<void> {
    if (!('wakeLock' in navigator)) return this.update('unsupported');
    try {
      const s = await navigator.wakeLock.request('screen');
      if (!this.wanted) return void s.release();
      this.sentinel = s;
      s.addEventListener('release', () => {
        if (this.sentinel === s) this.sentinel = undefined;
        this.update(this.wanted ? 'refused' : 'off');
      });
      this.update('held');
    } catch {
      // Refused (e.g. battery saver, or the page is not visible): said in the UI, tried again when it shows.
      this.update('refused');
    }
  }

  private update(state: WakeLockState): void {
    if (state === this.state) return;
    this.state = state;
    this.host.requestUpdate();
  }
}
