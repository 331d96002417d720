import { describe, expect, it } from 'vitest';
import type { DropReason } from './protocol.js';
import { Channel } from './channel.js';

function harness(policy: ConstructorParameters<typeof Channel>[1], capacity: number) {
  const delivered: [number, string][] = [];
  const dropped: [number, DropReason][] = [];
  const ch = new Channel<number>('test', policy, capacity, {
    deliver: (item, id) => delivered.push([item, id]),
    dropped: (item, reason) => dropped.push([item, reason]),
  });
  const balanced = () => {
    const s = ch.stats();
    expect(s.offered).toBe(s.delivered + s.dropped + s.queued + s.blocked);
  };
  return { ch, delivered, dropped, balanced };
}

describe('Channel', () => {
  it('latest-only keeps only the newest waiting frame and hands it over when the consumer frees up', () => {
    const { ch, delivered, dropped, balanced } = harness('latest-only', 1);
    ch.addConsumer('w');
    for (let i = 1; i <= 10; i++) ch.offer(i);
    expect(delivered).toEqual([[1, 'w']]);
    expect(dropped.map(([i]) => i)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(new Set(dropped.map(([, r]) => r))).toEqual(new Set(['superseded']));
    ch.release('w');
    expect(delivered.at(-1)).toEqual([10, 'w']);
    balanced();
  });

  it('latest-only feeding a pool: each worker that frees up takes the newest frame, never an older one', () => {
    const { ch, delivered, dropped, balanced } = harness('latest-only', 1);
    ch.addConsumer('a');
    ch.addConsumer('b');
    ch.offer(1);
    ch.offer(2);
    expect(delivered).toEqual([[1, 'a'], [2, 'b']]);
    for (let i = 3; i <= 7; i++) ch.offer(i); // both busy: only 7 waits
    ch.release('b');
    expect(delivered.at(-1)).toEqual([7, 'b']);
    for (let i = 8; i <= 9; i++) ch.offer(i);
    ch.release('a');
    expect(delivered.at(-1)).toEqual([9, 'a']);
    expect(dropped.map(([i]) => i)).toEqual([3, 4, 5, 6, 8]);
    balanced();
  });

  it('drop-new keeps the oldest `capacity` frames', () => {
    const { ch, delivered, dropped, balanced } = harness('drop-new', 5);
    ch.addConsumer('w');
    for (let i = 1; i <= 20; i++) ch.offer(i);
    for (let i = 0; i < 5; i++) ch.release('w');
    expect(delivered.map(([i]) => i)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(dropped.map(([i]) => i)).toEqual([7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(dropped.every(([, r]) => r === 'queue-full')).toBe(true);
    balanced();
  });

  it('drop-oldest keeps the newest `capacity` frames', () => {
    const { ch, delivered, dropped, balanced } = harness('drop-oldest', 5);
    ch.addConsumer('w');
    for (let i = 1; i <= 20; i++) ch.offer(i);
    for (let i = 0; i < 5; i++) ch.release('w');
    expect(delivered.map(([i]) => i)).toEqual([1, 16, 17, 18, 19, 20]);
    expect(dropped.every(([, r]) => r === 'evicted')).toBe(true);
    balanced();
  });

  it('block parks the producer instead of dropping, and resumes it in order', async () => {
    const { ch, delivered, dropped, balanced } = harness('block', 2);
    ch.addConsumer('w');
    expect(ch.offer(1)).toBeUndefined(); // straight to the consumer
    expect(ch.offer(2)).toBeUndefined();
    expect(ch.offer(3)).toBeUndefined();
    const parked = ch.offer(4);
    expect(parked).toBeInstanceOf(Promise);
    let resumed = false;
    void parked!.then(() => (resumed = true));
    balanced();
    await Promise.resolve();
    expect(resumed).toBe(false);
    ch.release('w');
    await Promise.resolve();
    expect(resumed).toBe(true);
    for (let i = 0; i < 3; i++) ch.release('w');
    expect(delivered.map(([i]) => i)).toEqual([1, 2, 3, 4]);
    expect(dropped).toEqual([]);
    balanced();
  });

  it('spreads frames across a pool and never gives a consumer more than its credits', () => {
    const { ch, delivered, balanced } = harness('drop-new', 5);
    ch.addConsumer('a');
    ch.addConsumer('b');
    for (let i = 1; i <= 4; i++) ch.offer(i);
    expect(delivered).toEqual([[1, 'a'], [2, 'b']]);
    expect(ch.stats().inFlight).toBe(2);
    expect(ch.stats().queued).toBe(2);
    ch.release('b');
    expect(delivered.at(-1)).toEqual([3, 'b']);
    ch.release('a');
    expect(delivered.at(-1)).toEqual([4, 'a']);
    ch.release('a');
    expect(() => ch.release('a')).toThrow(/released more than it was given/);
    balanced();
  });

  it('paused consumers get nothing until resumed', () => {
    const { ch, delivered } = harness('drop-new', 5);
    ch.addConsumer('w', 1, true);
    ch.offer(1);
    expect(delivered).toEqual([]);
    ch.resume('w');
    expect(delivered).toEqual([[1, 'w']]);
  });

  it('close drops everything queued or parked as shutdown, and later offers too', async () => {
    const { ch, dropped, balanced } = harness('block', 1);
    ch.addConsumer('w');
    ch.offer(1);
    ch.offer(2);
    const parked = ch.offer(3);
    ch.close();
    await parked;
    ch.offer(4);
    expect(dropped).toEqual([[2, 'shutdown'], [3, 'shutdown'], [4, 'shutdown']]);
    expect(ch.stats().droppedBy.shutdown).toBe(3);
    balanced();
  });

  it('rejects impossible sizes', () => {
    expect(() => harness('latest-only', 2)).toThrow(/latest-only has capacity 1/);
    expect(() => harness('drop-new', 0)).toThrow(/capacity must be a whole number/);
  });

  it('counts add up under a random mix of offers and releases, for every policy', () => {
    for (const policy of ['latest-only', 'drop-new', 'drop-oldest'] as const) {
      const { ch, delivered, dropped, balanced } = harness(policy, policy === 'latest-only' ? 1 : 5);
      ch.addConsumer('a');
      ch.addConsumer('b');
      let seed = 42;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      for (let i = 1; i <= 2000; i++) {
        ch.offer(i);
        for (const id of ['a', 'b']) if (rand() < 0.2 && delivered.filter(([, w]) => w === id).length > 0) {
          try { ch.release(id); } catch { /* had no credit out */ }
        }
        balanced();
      }
      const seen = [...delivered.map(([i]) => i), ...dropped.map(([i]) => i)];
      expect(new Set(seen).size).toBe(seen.length); // nothing delivered or dropped twice
    }
  });
});

/** A clock that moves only when told to: timers fire in order as it advances. */
function manualClock() {
  let t = 0;
  let nextId = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => t,
    setTimeout: (fn: () => void, ms: number) => {
      timers.set(++nextId, { at: t + ms, fn });
      return nextId;
    },
    clearTimeout: (id: unknown) => void timers.delete(id as number),
    pending: () => timers.size,
    advance(ms: number) {
      const end = t + ms;
      for (;;) {
        const due = [...timers].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        t = due[1].at;
        due[1].fn();
      }
      t = end;
    },
  };
}

describe('Channel rate limit (delayed credit return)', () => {
  function limited(policy: ConstructorParameters<typeof Channel>[1], capacity: number, maxRate: number) {
    const clock = manualClock();
    const delivered: [number, string][] = [];
    const dropped: [number, DropReason][] = [];
    const ch = new Channel<number>('limited', policy, capacity, {
      deliver: (item, id) => delivered.push([item, id]),
      dropped: (item, reason) => dropped.push([item, reason]),
    }, { maxRate, clock });
    return { ch, clock, delivered, dropped };
  }

  it('holds a credit released early until the next start is due, then delivers the newest item', () => {
    const { ch, clock, delivered, dropped } = limited('latest-only', 1, 4); // one start per 250 ms
    ch.addConsumer('w');
    ch.offer(1);
    expect(delivered).toEqual([[1, 'w']]);
    clock.advance(10);
    ch.release('w'); // finished after 10 ms: the credit waits until 250 ms
    ch.offer(2);
    ch.offer(3);
    expect(delivered).toEqual([[1, 'w']]);
    expect(dropped).toEqual([[2, 'superseded']]);
    expect(ch.stats().inFlight).toBe(0); // held back, not in flight
    clock.advance(239);
    expect(delivered).toEqual([[1, 'w']]);
    clock.advance(1);
    expect(delivered).toEqual([[1, 'w'], [3, 'w']]);
  });

  it('a consumer slower than the rate gets its credit back at once', () => {
    const { ch, clock, delivered } = limited('drop-new', 5, 10); // 100 ms apart
    ch.addConsumer('w');
    ch.offer(1);
    ch.offer(2);
    clock.advance(150);
    ch.release('w');
    expect(delivered.map(([i]) => i)).toEqual([1, 2]);
    expect(clock.pending()).toBe(0);
  });

  it('spaces starts across the whole pool, not per consumer', () => {
    const { ch, clock, delivered } = limited('drop-new', 5, 10);
    ch.addConsumer('a');
    ch.addConsumer('b');
    for (let i = 1; i <= 4; i++) ch.offer(i);
    // Both start at once (each had a credit); after that, starts are due at 200, 300, … ms.
    expect(delivered).toEqual([[1, 'a'], [2, 'b']]);
    ch.release('a');
    ch.release('b');
    clock.advance(199);
    expect(delivered.length).toBe(2);
    clock.advance(1);
    expect(delivered.length).toBe(4);
  });

  it('without a rate, release gives the credit straight back', () => {
    const { ch, clock, delivered } = limited('drop-new', 5, 0);
    ch.addConsumer('w');
    ch.offer(1);
    ch.offer(2);
    ch.release('w');
    expect(delivered.map(([i]) => i)).toEqual([1, 2]);
    expect(clock.pending()).toBe(0);
  });

  it('reset and close cancel a held credit, and a held credit cannot be released twice', () => {
    const { ch, clock, delivered } = limited('latest-only', 1, 1);
    ch.addConsumer('w');
    ch.offer(1);
    ch.release('w');
    expect(() => ch.release('w')).toThrow(/released more than it was given/);
    expect(clock.pending()).toBe(1);
    ch.resetConsumer('w', true); // a restart: the timer goes with the old worker
    expect(clock.pending()).toBe(0);
    ch.offer(2);
    expect(delivered.map(([i]) => i)).toEqual([1]);
    ch.resume('w');
    expect(delivered.map(([i]) => i)).toEqual([1, 2]);
    ch.release('w');
    expect(clock.pending()).toBe(1);
    ch.close();
    expect(clock.pending()).toBe(0);
    expect(ch.idle).toBe(true);
  });

  it('counts add up under a random mix of offers, releases and time, with a rate limit', () => {
    const { ch, clock, delivered, dropped } = limited('drop-oldest', 3, 30);
    ch.addConsumer('a');
    ch.addConsumer('b');
    const out = new Map<string, number>([['a', 0], ['b', 0]]);
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 1; i <= 1000; i++) {
      const before = delivered.length;
      ch.offer(i);
      for (const [, id] of delivered.slice(before)) out.set(id, out.get(id)! + 1);
      for (const id of ['a', 'b']) if (out.get(id)! > 0 && rand() < 0.5) {
        out.set(id, out.get(id)! - 1);
        const b = delivered.length;
        ch.release(id);
        for (const [, d] of delivered.slice(b)) out.set(d, out.get(d)! + 1);
      }
      const b = delivered.length;
      clock.advance(rand() * 20);
      for (const [, d] of delivered.slice(b)) out.set(d, out.get(d)! + 1);
      const s = ch.stats();
      expect(s.offered).toBe(s.delivered + s.dropped + s.queued + s.blocked);
      expect(s.inFlight).toBe(out.get('a')! + out.get('b')!);
    }
    const seen = [...delivered.map(([i]) => i), ...dropped.map(([i]) => i)];
    expect(new Set(seen).size).toBe(seen.length);
  });
});
