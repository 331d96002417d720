import { describe, expect, it } from 'vitest';
import type { SessionSummary } from '../../sync/trainer-api';
import { applyUpserts, compareNewest, filterFrom, filterParams, taskOptions } from './sessions-state';

const s = (id: string, firstTs: number, over: Partial<SessionSummary> = {}): SessionSummary => ({
  sessionId: id,
  deviceId: 'dev-a',
  deviceName: 'Bench A',
  events: 1,
  lastSeq: 1,
  // Received as it started, unless a test says otherwise.
  receivedTs: firstTs,
  firstTs,
  lastTs: firstTs,
  lastState: null,
  taskId: 'desk-setup',
  taskKey: 'desk-setup',
  taskTitle: 'Set up your desk',
  startedTs: firstTs,
  endedTs: null,
  durationMs: 0,
  completedTs: null,
  outcome: 'in-progress',
  stepsDone: 0,
  stepsTotal: 4,
  derailments: 0,
  live: true,
  ...over,
});
const ids = (list: readonly SessionSummary[]) => list.map((x) => x.sessionId);

describe('compareNewest', () => {
  it('orders as the server does: newest received, then newest start, then id descending', () => {
    const list = [s('session-a', 5), s('session-c', 9), s('session-b', 5)].sort(compareNewest);
    expect(ids(list)).toEqual(['session-c', 'session-b', 'session-a']);
    // A device whose clock runs far ahead does not put its session first: the server received it earlier.
    const clocks = [s('ahead', 1e16, { receivedTs: 100 }), s('right', 150, { receivedTs: 150 }), s('behind', -1e16, { receivedTs: 120 })].sort(compareNewest);
    expect(ids(clocks)).toEqual(['right', 'behind', 'ahead']);
  });
});

describe('filters', () => {
  it('drop empty controls and trim the search', () => {
    expect(filterFrom({ device: '', task: 'desk-setup', outcome: '', q: '  bench ' })).toEqual({ task: 'desk-setup', q: 'bench' });
    expect(filterFrom({ q: '   ' })).toEqual({});
  });
  it('become query parameters', () => {
    expect(filterParams({ device: 'dev-a', outcome: 'completed', q: 'a&b' }).toString()).toBe('device=dev-a&outcome=completed&q=a%26b');
    expect(filterParams({}).toString()).toBe('');
  });
});

describe('applyUpserts', () => {
  const list = [s('session-9', 900), s('session-5', 500), s('session-1', 100)];
  it('replaces a listed session where it stands', () => {
    const out = applyUpserts(list, [s('session-5', 500, { events: 7 })], {}, true);
    expect(ids(out)).toEqual(['session-9', 'session-5', 'session-1']);
    expect(out[1]!.events).toBe(7);
  });
  it('puts a new session in order', () => {
    expect(ids(applyUpserts(list, [s('session-new', 1000), s('session-3', 300)], {}, true))).toEqual(['session-new', 'session-9', 'session-5', 'session-3', 'session-1']);
  });
  it('leaves one older than the loaded rows to "Load more" while more pages exist', () => {
    expect(ids(applyUpserts(list, [s('session-0', 50), s('session-new', 1000)], {}, false))).toEqual(['session-new', 'session-9', 'session-5', 'session-1']);
    expect(ids(applyUpserts(list, [s('session-0', 50)], {}, true))).toEqual(['session-9', 'session-5', 'session-1', 'session-0']);
  });
  it('applies the filter: a non-matching newcomer is not listed, a listed one that stops matching goes', () => {
    const filter = { outcome: 'in-progress' as const };
    expect(ids(applyUpserts(list, [s('session-new', 1000, { outcome: 'completed' })], filter, true))).toEqual(ids(list));
    expect(ids(applyUpserts(list, [s('session-5', 500, { outcome: 'abandoned' })], filter, true))).toEqual(['session-9', 'session-1']);
    // Search is on names, case-insensitively, as the server searches.
    expect(ids(applyUpserts([], [s('session-new', 1000, { deviceName: 'Kiosk B' }), s('session-old', 10)], { q: 'KIOSK' }, true))).toEqual(['session-new']);
  });
  it('returns the same list when nothing arrived', () => {
    expect(applyUpserts(list, [], {}, true)).toBe(list);
  });
});

describe('taskOptions', () => {
  it('offers known tasks and those seen, by title, once per definition', () => {
    const known = [{ id: 'desk-setup', title: 'Set up your desk' }];
    const seen = [
      s('x', 1, { taskId: 'mine', taskKey: 'custom:000000000000000000a1b2c3', taskTitle: 'A custom one' }),
      s('y', 1, { taskId: 'desk-setup', taskKey: 'desk-setup', taskTitle: 'Set up your desk' }),
      s('z', 1, { taskId: null, taskKey: null, taskTitle: null }),
      s('w', 1, { taskId: 'untitled', taskKey: 'custom:000000000000000000d4e5f6', taskTitle: null, deviceName: 'Kiosk B' }),
      s('x2', 2, { taskId: 'mine', taskKey: 'custom:000000000000000000a1b2c3', taskTitle: 'A custom one' }),
    ];
    expect(taskOptions(known, seen)).toEqual([
      { id: 'custom:000000000000000000a1b2c3', title: 'A custom one · Bench A' },
      { id: 'desk-setup', title: 'Set up your desk' },
      { id: 'custom:000000000000000000d4e5f6', title: 'untitled · Kiosk B' },
    ]);
  });

  it('offers each definition of a custom task apart: another device, or the same device after the task was edited', () => {
    const shelf = (key: string, deviceName: string) => s(key, 1, { taskId: 'tidy-shelf', taskKey: key, taskTitle: 'Tidy the shelf', deviceName });
    const options = taskOptions([], [shelf('custom:aaaaaaaaaaaaaaaaaa111111', 'Bench A'), shelf('custom:aaaaaaaaaaaaaaaaaa222222', 'Bench A'), shelf('custom:bbbbbbbbbbbbbbbbbb333333', 'Kiosk B')]);
    expect(options).toEqual([
      { id: 'custom:aaaaaaaaaaaaaaaaaa111111', title: 'Tidy the shelf · Bench A · 111111' },
      { id: 'custom:aaaaaaaaaaaaaaaaaa222222', title: 'Tidy the shelf · Bench A · 222222' },
      { id: 'custom:bbbbbbbbbbbbbbbbbb333333', title: 'Tidy the shelf · Kiosk B' },
    ]);
  });
});
