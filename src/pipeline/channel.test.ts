import { describe, expect, it } from 'vitest';
import type { DropReason } from '../shared/protocol';
import { Channel } from './channel';

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
