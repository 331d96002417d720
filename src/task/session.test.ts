import { describe, expect, it } from 'vitest';
import { newProgress, TaskSession } from './session';
import type { Task } from './types';

const task: Task = {
  id: 't',
  title: 'T',
  steps: [
    { instruction: 'a', require: [{ label: 'cup' }] },
    { instruction: 'b', require: [{ label: 'laptop' }], holdMs: 2000 },
  ],
};

describe('TaskSession', () => {
  it('records step times, derailments (once per episode) and completion', () => {
    const s = new TaskSession(task, newProgress('t', 0));
    expect(s.apply({ type: 'executing_task', step: 0, heldMs: 500, holdMs: 1000, missing: [], recovered: false, done: false }, 500)).toBe(false);
    expect(s.current.heldMs).toBe(500);
    expect(s.apply({ type: 'derailed', step: 0, reason: 'gone', since: 600 }, 600)).toBe(true);
    expect(s.apply({ type: 'derailed', step: 0, reason: 'gone', since: 600 }, 700)).toBe(false);
    expect(s.current.derailed).toBe('gone');
    s.apply({ type: 'executing_task', step: 0, heldMs: 0, holdMs: 1000, missing: ['cup'], recovered: true, done: false }, 800);
    expect(s.current.derailed).toBeNull();
    expect(s.apply({ type: 'completed_task', completedStep: 0, nextStep: 1, stepMs: 1200, by: 'seen' }, 1200)).toBe(true);
    expect(s.current).toMatchObject({ step: 1, holdMs: 2000, done: false });
    // A late verdict about step 0 changes nothing.
    expect(s.apply({ type: 'completed_task', completedStep: 0, nextStep: 1, stepMs: 1300, by: 'seen' }, 1300)).toBe(false);
    expect(s.apply({ type: 'completed_task', completedStep: 1, nextStep: null, stepMs: 3000, by: 'seen' }, 4200)).toBe(true);
    expect(s.current.done).toBe(true);
    expect(s.current.progress).toMatchObject({ step: 2, stepTimes: [1200, 3000], derailments: 1, completedAt: 4200 });
  });

  it('goes back a step when the worker says so, dropping the time of the step gone back to; a stale one changes nothing', () => {
    const s = new TaskSession(task, newProgress('t', 0));
    s.apply({ type: 'completed_task', completedStep: 0, nextStep: 1, stepMs: 1200, by: 'confirmed' }, 1200);
    expect(s.apply({ type: 'went_back', fromStep: 0, step: 0 }, 1300)).toBe(false);
    expect(s.apply({ type: 'went_back', fromStep: 1, step: 0 }, 1400)).toBe(true);
    expect(s.current).toMatchObject({ step: 0, done: false, holdMs: 1000 });
    expect(s.current.progress).toMatchObject({ step: 0, stepTimes: [], stepStartedAt: 1400 });
  });

  it('resumes from stored progress', () => {
    const s = new TaskSession(task, { ...newProgress('t', 0), step: 1, stepTimes: [900] });
    expect(s.current).toMatchObject({ step: 1, holdMs: 2000, done: false });
  });
});
