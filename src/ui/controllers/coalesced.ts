import type { ReactiveController, ReactiveControllerHost } from 'lit';

/**
 * A fetch asked for far more often than it is worth running (a timeline refetched on each live
 * upsert, several a second): at most one runs, and requests made meanwhile become one more run
 * after it. The task reports its own errors. Nothing new starts once the host has left.
 */
export class CoalescedController implements ReactiveController {
  private running = false;
  private again = false;
  private connected = false;

  constructor(host: ReactiveControllerHost, private readonly task: () => Promise<void>) {
    host.addController(this);
  }

  request(): void {
    if (!this.connected) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.loop();
  }

  hostConnected(): void {
    this.connected = true;
  }

  hostDisconnected(): void {
    this.connected = false;
    this.again = false;
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      do {
        this.again = false;
        await this.task().catch(() => {});
      } while (this.again && this.connected);
    } finally {
      this.running = false;
    }
  }
}
