import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** Something that calls its listeners with values until they unsubscribe. */
export interface Subscribable<T> {
  subscribe(listener: (value: T) => void): () => void;
}

/**
 * Listens to whatever source the host currently holds (a property that may be set after
 * connection, or replaced): follows it on every update, and lets go when the host leaves the page.
 */
export class SubscriptionController<T> implements ReactiveController {
  private source: Subscribable<T> | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(host: ReactiveControllerHost, private readonly current: () => Subscribable<T> | undefined, private readonly listener: (value: T) => void) {
    host.addController(this);
  }

  hostConnected(): void {
    this.follow();
  }

  hostUpdated(): void {
    this.follow();
  }

  hostDisconnected(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.source = undefined;
  }

  private follow(): void {
    const next = this.current();
    if (next === this.source) return;
    this.unsubscribe?.();
    this.source = next;
    this.unsubscribe = next?.subscribe((value) => this.listener(value));
  }
}
