import { describe, expect, it } from 'vitest';
import { dropRate, percentile, RollingWindow } from './stats';

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
    expect([...w.values()].sort()).toEqual([1, 2, 3]);
    expect(w.percentile(100)).toBe(3);
  });

  it('drop rate is dropped over everything that arrived', () => {
    expect(dropRate(0, 0)).toBe(0);
    expect(dropRate(30, 90)).toBe(0.75);
  });
});
