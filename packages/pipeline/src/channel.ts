import { DROP_REASONS, type DropPolicy, type DropReason } from './protocol.js';

/** What a channel does with items: the side effects live with its owner. */
export interface ChannelSink<T> {
  deliver(item: T, consumerId: string): void;
  dropped(item: T, reason: DropReason): void;
}

/** A group's queue, as its owner configures it. */
export interface ChannelConfig {
  readonly policy: DropPolicy;
  readonly capacity: number;
  /** Most frames started per second by the whole group; 0 or absent = no limit. */
  readonly maxRate?: number;
}

export interface ChannelStats {
  readonly name: string;
  readonly policy: DropPolicy;
  readonly capacity: number;
  readonly offered: number;
  readonly delivered: number;
  readonly dropped: number;
  readonly droppedBy: Readonly<Record<DropReason, number>>;
  readonly queued: number;
  /** Producers parked by the `block` policy, each holding one item. */
  readonly blocked: number;
  readonly inFlight: number;
}

interface Consumer {
  credits: number;
  readonly maxCredits: number;
  paused: boolean;
  /** Credits released but held back by the rate limit, and the timer that gives them back. */
  held: number;
  timer: unknown;
}

/** Time as the channel sees it; tests pass a manual clock. */
export interface ChannelClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

export interface ChannelOptions {
  /**
   * Most items started per second across all consumers; 0 (the default) = no limit.
   * Enforced by returning credits late: a consumer that finishes early gets its credit
   * back only when the next start is due, and the queue keeps following its policy meanwhile
   * (a latest-only slot keeps refreshing with newer items).
   */
  readonly maxRate?: number;
  readonly clock?: ChannelClock;
}

const REAL_CLOCK: ChannelClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
};

/**
 * A bounded queue in front of one or more consumers, with credit-based flow control:
 * a consumer gets an item only while it has a credit, and gets the credit back when it
 * acknowledges (`release`). At most `capacity` items wait in the queue, plus one per
 * credit in flight; what happens to the item that does not fit is the policy:
 *
 * - `latest-only`: capacity 1, the newest item replaces the waiting one;
 * - `drop-new`: the arriving item is dropped;
 * - `drop-oldest`: the oldest waiting item is dropped;
 * - `block`: nothing is dropped; `offer` returns a promise that resolves once the item
 *   is queued, and the producer is expected to wait for it.
 *
 * With `maxRate`, starts are spaced at least 1000 / maxRate ms apart by delaying the
 * credits that `release` returns (see ChannelOptions); a held-back credit is not in flight.
 *
 * Invariant, checked by the tests: offered = delivered + dropped + queued + blocked.
 */
export class Channel<T> {
  private readonly queue: T[] = [];
  private readonly waiting: { item: T; resume: () => void }[] = [];
  private readonly consumers = new Map<string, Consumer>();
  private offered = 0;
  private delivered = 0;
  private readonly droppedBy: Record<DropReason, number> = { superseded: 0, 'queue-full': 0, evicted: 0, shutdown: 0 };
  private closed = false;
  private readonly minIntervalMs: number;
  private readonly clock: ChannelClock;
  /** When the next start is due under the rate limit. */
  private nextStartAt = -Infinity;

  constructor(
    readonly name: string,
    readonly policy: DropPolicy,
    readonly capacity: number,
    private readonly sink: ChannelSink<T>,
    options: ChannelOptions = {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`channel ${name}: capacity must be a whole number ≥ 1, got ${capacity}`);
    if (policy === 'latest-only' && capacity !== 1) throw new RangeError(`channel ${name}: latest-only has capacity 1, got ${capacity}`);
    const maxRate = options.maxRate ?? 0;
    if (!(maxRate >= 0)) throw new RangeError(`channel ${name}: maxRate must be ≥ 0, got ${maxRate}`);
    this.minIntervalMs = maxRate > 0 ? 1000 / maxRate : 0;
    this.clock = options.clock ?? REAL_CLOCK;
  }

  addConsumer(id: string, credits = 1, paused = false): void {
    this.consumers.set(id, { credits, maxCredits: credits, paused, held: 0, timer: undefined });
    this.pump();
  }

  /** Forgets a consumer's in-flight items (their owner releases them) and gives all credits back, held-back ones too. */
  resetConsumer(id: string, paused: boolean): void {
    const c = this.consumer(id);
    this.cancelHeld(c);
    c.credits = c.maxCredits;
    c.paused = paused;
    this.pump();
  }

  pause(id: string): void {
    this.consumer(id).paused = true;
  }

  resume(id: string): void {
    this.consumer(id).paused = false;
    this.pump();
  }

  /** The consumer finished one item: one credit back, now or (rate limit) when the next start is due. */
  release(id: string): void {
    const c = this.consumer(id);
    if (c.credits + c.held >= c.maxCredits) throw new Error(`channel ${this.name}: ${id} released more than it was given`);
    const wait = this.nextStartAt - this.clock.now();
    if (wait <= 0 || this.closed) {
      c.credits++;
      this.pump();
      return;
    }
    c.held++;
    c.timer ??= this.clock.setTimeout(() => {
      c.timer = undefined;
      c.credits += c.held;
      c.held = 0;
      this.pump();
    }, wait);
  }

  offer(item: T): Promise<void> | undefined {
    this.offered++;
    if (this.closed) {
      this.drop(item, 'shutdown');
      return undefined;
    }
    this.queue.push(item);
    this.pump();
    if (this.queue.length <= this.capacity) return undefined;
    // Over capacity: the policy decides who goes.
    switch (this.policy) {
      case 'latest-only':
        this.drop(this.queue.shift()!, 'superseded');
        return undefined;
      case 'drop-oldest':
        this.drop(this.queue.shift()!, 'evicted');
        return undefined;
      case 'drop-new':
        this.drop(this.queue.pop()!, 'queue-full');
        return undefined;
      case 'block': {
        this.queue.pop();
        return new Promise<void>((resume) => this.waiting.push({ item, resume }));
      }
      default: {
        const unhandled: never = this.policy;
        throw new Error(`unhandled ${String(unhandled)}`);
      }
    }
  }

  /** Drops everything still queued or parked (reason `shutdown`); later offers are dropped too. */
  close(): void {
    this.closed = true;
    for (const c of this.consumers.values()) this.cancelHeld(c);
    for (const item of this.queue.splice(0)) this.drop(item, 'shutdown');
    for (const w of this.waiting.splice(0)) {
      this.drop(w.item, 'shutdown');
      w.resume();
    }
  }

  /** True when nothing is queued, parked or in flight. */
  get idle(): boolean {
    return this.queue.length === 0 && this.waiting.length === 0 && this.inFlight === 0;
  }

  get inFlight(): number {
    let n = 0;
    for (const c of this.consumers.values()) n += c.maxCredits - c.credits - c.held;
    return n;
  }

  stats(): ChannelStats {
    const dropped = DROP_REASONS.reduce((sum, r) => sum + this.droppedBy[r], 0);
    return {
      name: this.name,
      policy: this.policy,
      capacity: this.capacity,
      offered: this.offered,
      delivered: this.delivered,
      dropped,
      droppedBy: { ...this.droppedBy },
      queued: this.queue.length,
      blocked: this.waiting.length,
      inFlight: this.inFlight,
    };
  }

  private pump(): void {
    for (;;) {
      if (this.queue.length === 0) break;
      const target = this.freeConsumer();
      if (target === undefined) break;
      const [id, c] = target;
      const item = this.queue.shift()!;
      c.credits--;
      this.delivered++;
      if (this.minIntervalMs > 0) this.nextStartAt = Math.max(this.nextStartAt, this.clock.now()) + this.minIntervalMs;
      this.sink.deliver(item, id);
      // Room was made: admit one parked producer.
      const w = this.waiting.shift();
      if (w) {
        this.queue.push(w.item);
        w.resume();
      }
    }
  }

  private freeConsumer(): [string, Consumer] | undefined {
    // The consumer with the most free credits: spreads work across a pool.
    let best: [string, Consumer] | undefined;
    for (const entry of this.consumers) {
      const c = entry[1];
      if (c.paused || c.credits === 0) continue;
      if (!best || c.credits > best[1].credits) best = entry;
    }
    return best;
  }

  private cancelHeld(c: Consumer): void {
    if (c.timer !== undefined) this.clock.clearTimeout(c.timer);
    c.timer = undefined;
    c.credits += c.held;
    c.held = 0;
  }

  private drop(item: T, reason: DropReason): void {
    this.droppedBy[reason]++;
    this.sink.dropped(item, reason);
  }

  private consumer(id: string): Consumer {
    const c = this.consumers.get(id);
    if (!c) throw new Error(`channel ${this.name}: unknown consumer ${id}`);
    return c;
  }
}
