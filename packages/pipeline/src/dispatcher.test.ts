import { describe, expect, it } from 'vitest';
import { Dispatcher } from './dispatcher.js';
import type { PipelineResult } from './results.js';

const out = (seq: number, role: 'state' | 'localization' = 'localization'): PipelineResult => ({
  type: 'output', role, workerId: 'w', seq, captureTs: 0, width: 1, height: 1, latencyMs: 0, processMs: 0,
  output: { kind: 'probe', meanLuma: 0 },
});

describe('Dispatcher', () => {
  it('live ordering discards results older than what was already delivered', () => {
    const d = new Dispatcher({ state: 'latest', localization: 'latest' });
    const seen: number[] = [];
    d.subscribe((r) => seen.push(r.seq));
    for (const seq of [1, 3, 2, 4, 4, 6, 5]) d.push(out(seq));
    expect(seen).toEqual([1, 3, 4, 6]);
    expect(d.stats('localization')).toMatchObject({ delivered: 4, discarded: 3 });
  });

  it('complete ordering holds results back until every earlier frame is accounted for', () => {
    const d = new Dispatcher({ state: 'latest', localization: 'complete' });
    const seen: number[] = [];
    d.subscribe((r) => seen.push(r.seq));
    d.push(out(2));
    d.push(out(4));
    expect(seen).toEqual([]);
    d.push(out(1));
    expect(seen).toEqual([1, 2]);
    d.skip('localization', 3);
    expect(seen).toEqual([1, 2, 4]);
    expect(d.stats('localization').pending).toBe(0);
  });

  it('hands out frozen results and keeps roles apart', () => {
    const d = new Dispatcher({ state: 'latest', localization: 'latest' });
    const seen: PipelineResult[] = [];
    d.subscribe((r) => seen.push(r));
    d.push(out(5, 'localization'));
    d.push(out(1, 'state'));
    expect(seen.map((r) => [r.role, r.seq])).toEqual([['localization', 5], ['state', 1]]);
    expect(Object.isFrozen(seen[0])).toBe(true);
  });
});
