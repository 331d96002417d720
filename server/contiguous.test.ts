import { describe, expect, it } from 'vitest';
import type { SyncEvent } from '../src/sync/protocol';
import { contiguousFrom } from './contiguous';

const ev = (seq: number): SyncEvent => ({ seq, ts: 1_790_000_000_000 + seq, kind: 'state', payload: { task: 'desk-setup', step: 2, event: { type: 'executing_task', step: 2, heldMs: 800, holdMs: 1000, missing: [], recovered: false, done: false } } });

describe('the gap-free prefix', () => {
  it('stores only the run that extends what is stored: resends skipped, gaps wait', () => {
    expect(contiguousFrom(0, [ev(1), ev(2), ev(4)]).map((e) => e.seq)).toEqual([1, 2]);
    expect(contiguousFrom(2, [ev(1), ev(2), ev(3)]).map((e) => e.seq)).toEqual([3]);
    expect(contiguousFrom(5, [ev(7)])).toEqual([]);
    // Out of order in the message: sorted first, then the run is taken.
    expect(contiguousFrom(0, [ev(3), ev(1), ev(2)]).map((e) => e.seq)).toEqual([1, 2, 3]);
  });
});
