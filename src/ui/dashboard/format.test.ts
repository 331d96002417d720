import { describe, expect, it } from 'vitest';
import { OUTCOMES, STEP_STATUSES } from '../../sync/trainer-api';
import { BAD_TIME, badTimeNote, formatClock, formatDuration, formatStarted, isoDuration, isoInstant, isShowableTime, OUTCOME_LABELS, STEP_STATUS_LABELS, stepsText } from './format';

describe('formatDuration', () => {
  it('shows tenths of a second below a minute', () => {
    expect(formatDuration(0)).toBe('0.0 s');
    expect(formatDuration(4_249)).toBe('4.2 s');
    expect(formatDuration(4_250)).toBe('4.3 s');
    expect(formatDuration(59_940)).toBe('59.9 s');
  });
  it('rounds across the minute once, at the precision shown', () => {
    expect(formatDuration(59_960)).toBe('1 min 00 s');
    expect(formatDuration(65_400)).toBe('1 min 05 s');
    expect(formatDuration(3_599_400)).toBe('59 min 59 s');
  });
  it('shows hours and minutes past an hour', () => {
    expect(formatDuration(3_600_000)).toBe('1 h 00 min');
    expect(formatDuration(5_430_000)).toBe('1 h 31 min');
  });
  it('says unknown with a dash and keeps a sign', () => {
    expect(formatDuration(null)).toBe('–');
    expect(formatDuration(Number.NaN)).toBe('–');
    expect(formatDuration(-1_500)).toBe('−1.5 s');
  });
});

describe('isoDuration', () => {
  it('writes an HTML duration with milliseconds', () => {
    expect(isoDuration(12_345)).toBe('PT12.345S');
    expect(isoDuration(12_000)).toBe('PT12S');
    expect(isoDuration(7)).toBe('PT0.007S');
    expect(isoDuration(-5)).toBe('PT0S');
  });
});

describe('labels', () => {
  it('name every outcome and step status of the protocol', () => {
    expect(Object.keys(OUTCOME_LABELS).sort()).toEqual([...OUTCOMES].sort());
    expect(Object.keys(STEP_STATUS_LABELS).sort()).toEqual([...STEP_STATUSES].sort());
  });
  it('write steps done of a known or unknown total', () => {
    expect(stepsText(2, 4)).toBe('2 / 4');
    expect(stepsText(1, null)).toBe('1 / ?');
  });
  it('give the date only for a session that did not start today', () => {
    const now = new Date(2025, 4, 20, 15, 0, 0).getTime();
    expect(formatStarted(new Date(2025, 4, 20, 9, 5, 7).getTime(), now)).not.toMatch(/2025/);
    expect(formatStarted(new Date(2025, 4, 19, 9, 5, 7).getTime(), now)).toMatch(/2025/);
  });
});

describe('a stored time that is not a date', () => {
  // What a device could store before the server judged times: the audit's 1e16, the ends of a double, and what JSON cannot carry but a bug could hand over.
  const bad = [1e16, -1e16, 8.64e15 + 1, -8.64e15 - 1, Number.MAX_VALUE, -Number.MAX_VALUE, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];

  it('is formatted as a placeholder, never thrown on', () => {
    // What the list used to do with it, and why one such row blanked it.
    expect(() => new Date(1e16).toISOString()).toThrow(RangeError);
    expect(() => new Intl.DateTimeFormat(undefined, { hour: '2-digit' }).format(1e16)).toThrow(RangeError);
    for (const ts of bad) {
      expect(isShowableTime(ts), String(ts)).toBe(false);
      expect(formatStarted(ts, Date.UTC(2026, 11, 6)), String(ts)).toBe(BAD_TIME);
      expect(formatClock(ts), String(ts)).toBe(BAD_TIME);
      expect(isoInstant(ts), String(ts)).toBeUndefined();
      expect(() => isoDuration(ts), String(ts)).not.toThrow();
      expect(() => formatDuration(ts), String(ts)).not.toThrow();
    }
    expect(badTimeNote(1e16)).toBe('The device recorded ts = 10000000000000000, which is not a date');
  });

  it('stops at what a Date holds: its last millisecond either way is still a date', () => {
    for (const ts of [8.64e15, -8.64e15, 0, -0, -1, 1.5, Date.UTC(2026, 11, 6, 13, 22)]) {
      expect(isShowableTime(ts), String(ts)).toBe(true);
      expect(formatStarted(ts, Date.UTC(2026, 11, 6))).not.toBe(BAD_TIME);
      expect(formatClock(ts)).not.toBe(BAD_TIME);
    }
    expect(isoInstant(8.64e15)).toBe('+275760-09-13T00:00:00.000Z');
    expect(isoInstant(Date.UTC(2026, 11, 6, 13, 22))).toBe('2026-12-06T13:22:00.000Z');
    // A bad "now" (a page whose clock is wrong) still gives the date with the time.
    expect(formatStarted(Date.UTC(2026, 11, 6, 13, 22), Number.NaN)).toMatch(/2026/);
  });
});
