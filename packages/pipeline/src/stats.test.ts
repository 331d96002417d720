import { describe, expect, it } from 'vitest';
import { dropRate, percentile, RollingWindow, WorkerTally } from './stats.js';

describe('stats', () => {
  it('nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 95)).toBe(95);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeUndefined();
  });

  it('a rolling window forgets the oldest samples', () => {
    const w = new RollingWindow(3);
    for (const x of [100, 1, 2, 3]) w.add(x);
    expect(w.percentile(1)).toBe(1); // 100 was forgotten
    expect(w.percentile(100)).toBe(3);
  });

  it('drop rate is dropped over everything that arrived', () => {
    expect(dropRate(0, 0)).toBe(0);
    expect(dropRate(30, 90)).toBe(0.75);
  });
});

describe('WorkerTally', () => {
  const live = { ready: true, inFlight: 1, lastSeenMsAgo: 12, info: undefined };

  it('counts results, errors and restarts for one worker id, with rolling percentiles', () => {
    const t = new WorkerTally('localization-1', 'localization');
    for (let i = 1; i <= 10; i++) t.result(i, 100 + i);
    t.error();
    t.restarts++;
    const m = t.metrics(live, 10, 3000);
    expect(m).toMatchObject({ workerId: 'localization-1', role: 'localization', ready: true, processed: 10, errors: 1, restarts: 1, dropped: 10, dropRate: 0.5, inFlight: 1, lastSeenMsAgo: 12 });
    expect(m.processMsP50).toBe(5);
    expect(m.processMsP95).toBe(10);
    expect(m.latencyMsP95).toBe(110);
  });

  it('the watchdog waits max(floor, 3 × recent p95)', () => {
    const t = new WorkerTally('state-1', 'state');
    expect(t.watchdogTimeoutMs(400)).toBe(400);
    for (let i = 0; i < 20; i++) t.result(200, 0);
    expect(t.watchdogTimeoutMs(400)).toBe(600);
    expect(t.metrics(live, 0, 400).watchdogTimeoutMs).toBe(600);
  });
});

describe('RateCounter', () => {
  it('counts the events of the last second on its own clock', async () => {
    const { RateCounter } = await import('./stats.js');
    let t = 0;
    const c = new RateCounter(() => t);
    for (let i = 0; i < 30; i++) c.mark((t = i * 50)); // 20 a second for 1.5 s
    expect(c.perSecond()).toBe(21); // marks at 450…1450 ms are within [t − 1000, t]
    t = 3000;
    expect(c.perSecond()).toBe(0);
  });
});
