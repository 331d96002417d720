import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** Runs the last of a burst of calls once the burst is `ms` old (a search box typed into); nothing runs after the host has left. */
export class DebounceController implements ReactiveController {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(host: ReactiveControllerHost, private readonly ms: number) {
    host.addController(this);
  }

  run(fn: () => void): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      fn();
    }, this.ms);
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    this.cancel();
  }
}
