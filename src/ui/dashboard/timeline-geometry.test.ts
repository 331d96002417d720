import { describe, expect, it } from 'vitest';
import type { SessionSummary, SessionTimeline, TimelineStep } from '../../sync/trainer-api';
import { axisTicks, barAt, derailmentBars, instructionMarks, rectsPath, stepBars, ticksPath, timelineSpan, timeScale } from './timeline-geometry';

const summary = (over: Partial<SessionSummary> = {}): SessionSummary => ({
  sessionId: 'session-0001',
  deviceId: 'd1',
  deviceName: 'bench',
  events: 10,
  lastSeq: 10,
  receivedTs: 1_000,
  firstTs: 1_000,
  lastTs: 11_000,
  lastState: null,
  taskId: 'desk-setup',
  taskKey: 'desk-setup',
  taskTitle: 'Set up your desk',
  startedTs: 1_000,
  endedTs: null,
  durationMs: 10_000,
  completedTs: null,
  outcome: 'in-progress',
  stepsDone: 1,
  stepsTotal: 3,
  derailments: 1,
  live: true,
  ...over,
});

const step = (index: number, over: Partial<TimelineStep> = {}): TimelineStep => ({
  index,
  instruction: `step ${index}`,
  status: 'not-reached',
  startedTs: null,
  completedTs: null,
  durationMs: null,
  completedBy: null,
  derailments: [],
  instructions: [],
  derailmentsTotal: over.derailments?.length ?? 0,
  derailmentsNext: null,
  instructionsTotal: over.instructions?.length ?? 0,
  instructionsNext: null,
  ...over,
});

const timeline: SessionTimeline = {
  session: summary(),
  steps: [
    step(0, { status: 'completed', startedTs: 1_000, completedTs: 5_000, durationMs: 4_000, instructions: [{ ts: 1_000, text: 'go' }] }),
    step(1, {
      status: 'started',
      startedTs: 5_000,
      derailments: [{ step: 1, reason: 'The laptop left the view — bring it back', startTs: 7_000, endTs: 9_000, durationMs: 2_000, ongoing: false }],
      instructions: [{ ts: 5_000, text: 'next' }],
    }),
    step(2),
  ],
};

describe('timelineSpan and timeScale', () => {
  it('runs from the session start to the newest thing known', () => {
    expect(timelineSpan(timeline)).toEqual({ t0: 1_000, t1: 11_000 });
    const late = { ...timeline, steps: [step(0, { derailments: [{ step: 0, reason: 'x', startTs: 2_000, endTs: 14_000, durationMs: null, ongoing: true }] })] };
    expect(timelineSpan(late).t1).toBe(14_000);
  });
  it('is never empty, so a session of one event still has a scale', () => {
    const one = { session: summary({ lastTs: 1_000 }), steps: [] };
    expect(timelineSpan(one)).toEqual({ t0: 1_000, t1: 1_001 });
  });
  it('maps time to x linearly, clamped to the chart, and back', () => {
    const s = timeScale({ t0: 1_000, t1: 11_000 }, 500);
    expect(s.x(1_000)).toBe(0);
    expect(s.x(6_000)).toBe(250);
    expect(s.x(11_000)).toBe(500);
    expect(s.x(0)).toBe(0);
    expect(s.x(20_000)).toBe(500);
    expect(s.ts(250)).toBe(6_000);
  });
});

describe('bars and marks', () => {
  const span = timelineSpan(timeline);
  const scale = timeScale(span, 1_000);
  it('draws a bar per step worked on, an open one to the end', () => {
    expect(stepBars(timeline.steps, span, scale)).toEqual([
      { index: 0, x: 0, w: 400, open: false },
      { index: 1, x: 400, w: 600, open: true },
    ]);
  });
  it('keeps a very short step visible', () => {
    const short = [step(0, { startedTs: 1_000, completedTs: 1_001 })];
    expect(stepBars(short, span, scale, 2)[0]!.w).toBe(2);
  });
  it('marks derailments over their time and instructions where given', () => {
    expect(derailmentBars(timeline.steps, scale)).toEqual([{ index: 1, which: 0, x: 600, w: 200, open: false }]);
    expect(instructionMarks(timeline.steps, scale)).toEqual([0, 400]);
  });
  it('writes many rectangles as one path', () => {
    expect(rectsPath([{ x: 0, w: 400 }, { x: 400.123, w: 10 }], 2, 20)).toBe('M0 2h400v20h-400zM400.12 2h10v20h-10z');
    expect(ticksPath([0, 12.5], 1, 4)).toBe('M0 1v4M12.5 1v4');
    expect(rectsPath([], 0, 1)).toBe('');
  });
});

describe('axisTicks', () => {
  it('picks a round step that fits', () => {
    expect(axisTicks(10_000, 6)).toEqual([0, 2_000, 4_000, 6_000, 8_000, 10_000]);
    expect(axisTicks(95_000, 8)).toEqual([0, 15_000, 30_000, 45_000, 60_000, 75_000, 90_000]);
    expect(axisTicks(0, 5)).toEqual([0]);
  });
  it('never gives more ticks than asked for, even for days', () => {
    for (const d of [1, 999, 61_000, 3_600_000 * 30, 86_400_000 * 40]) expect(axisTicks(d, 7).length).toBeLessThanOrEqual(8);
  });
});

describe('barAt', () => {
  const bars = [
    { x: 0, w: 10 },
    { x: 10, w: 1 },
    { x: 30, w: 5 },
  ];
  it('finds the bar under the pointer', () => {
    expect(barAt(bars, 5)).toBe(bars[0]);
    expect(barAt(bars, 10.5)).toBe(bars[1]);
    expect(barAt(bars, 33)).toBe(bars[2]);
  });
  it('finds the nearest within the slop, or none', () => {
    expect(barAt(bars, 13, 4)).toBe(bars[1]);
    expect(barAt(bars, 27, 4)).toBe(bars[2]);
    expect(barAt(bars, 20, 4)).toBeUndefined();
    expect(barAt([], 3)).toBeUndefined();
  });
  it('searches a thousand bars', () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({ x: i, w: 1, i }));
    expect(barAt(many, 500.5)!.i).toBe(500);
  });
});
