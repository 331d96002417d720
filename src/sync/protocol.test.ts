import { describe, expect, it } from 'vitest';
import { contiguousFrom, parseClientMessage, type SyncEvent } from './protocol';

const ev = (seq: number): SyncEvent => ({ seq, ts: 1, kind: 'state', payload: { n: seq } });

describe('sync protocol', () => {
  it('accepts hello and well-formed events', () => {
    expect(parseClientMessage(JSON.stringify({ type: 'hello', sessionId: 'abcdefgh' }))).toEqual({ ok: true, msg: { type: 'hello', sessionId: 'abcdefgh' } });
    expect(parseClientMessage(JSON.stringify({ type: 'events', sessionId: 'abcdefgh', events: [ev(1), ev(2)] })).ok).toBe(true);
  });

  it.each([
    ['{', 'not JSON'],
    ['[]', 'not an object'],
    [JSON.stringify({ type: 'hello', sessionId: 'x' }), 'bad sessionId'],
    [JSON.stringify({ type: 'hello', sessionId: 'abcdefgh', extra: 1 }), 'unexpected fields in hello'],
    [JSON.stringify({ type: 'drop-table', sessionId: 'abcdefgh' }), 'unknown type "drop-table"'],
    [JSON.stringify({ type: 'events', sessionId: 'abcdefgh', events: [] }), 'events must be 1–200 items'],
    [JSON.stringify({ type: 'events', sessionId: 'abcdefgh', events: [ev(2), ev(1)] }), 'events[1].seq out of order'],
    [JSON.stringify({ type: 'events', sessionId: 'abcdefgh', events: [{ ...ev(1), seq: 0.5 }] }), 'events[0].seq must be a whole number ≥ 1'],
    [JSON.stringify({ type: 'events', sessionId: 'abcdefgh', events: [{ ...ev(1), kind: 'rm' }] }), 'events[0].kind unknown'],
    [JSON.stringify({ type: 'events', sessionId: 'abcdefgh', events: [{ ...ev(1), payload: 'x'.repeat(20000) }] }), 'events[0].payload missing or over 16384 bytes'],
    [JSON.stringify({ type: 'events', sessionId: 'abcdefgh', events: [{ ...ev(1), admin: true }] }), 'events[0] has unexpected fields'],
  ])('rejects %s', (raw, reason) => {
    expect(parseClientMessage(raw)).toEqual({ ok: false, reason });
  });

  it('stores only the run that extends what is stored: resends skipped, gaps wait', () => {
    expect(contiguousFrom(0, [ev(1), ev(2), ev(4)]).map((e) => e.seq)).toEqual([1, 2]);
    expect(contiguousFrom(2, [ev(1), ev(2), ev(3)]).map((e) => e.seq)).toEqual([3]);
    expect(contiguousFrom(5, [ev(7)])).toEqual([]);
  });
});
