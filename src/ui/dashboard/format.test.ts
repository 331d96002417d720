import { describe, expect, it } from 'vitest';
import { OUTCOMES, STEP_STATUSES } from '../../sync/trainer-api';
import { formatDuration, formatStarted, isoDuration, OUTCOME_LABELS, STEP_STATUS_LABELS, stepsText } from './format';

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
