import { assertNever } from '../util/assert-never';
import type { TaskEvent } from './machine';
import { stepTargetMs, type Task } from './types';

/** A task's progress as stored: enough to resume after a reload and to summarise at the end. */
export interface Progress {
  readonly taskId: string;
  readonly step: number;
  readonly startedAt: number;
  readonly stepStartedAt: number;
  /** Milliseconds each completed step took, in order. */
  readonly stepTimes: readonly number[];
  readonly derailments: number;
  readonly completedAt?: number;
}

export interface TaskProgressView {
  readonly task: Task;
  readonly step: number;
  readonly done: boolean;
  readonly heldMs: number;
  readonly holdMs: number;
  readonly missing: readonly string[];
  readonly derailed: string | null;
  readonly progress: Progress;
}

export function newProgress(taskId: string, now: number): Progress {
  return { taskId, step: 0, startedAt: now, stepStartedAt: now, stepTimes: [], derailments: 0 };
}

/**
 * The page's view of the task as the state worker reports it: the verdicts come from the
 * worker, this only records them (step times, derailments) for the UI and for storage.
 */
export class TaskSession {
  private view: TaskProgressView;

  constructor(readonly task: Task, progress: Progress) {
    const done = progress.step >= task.steps.length;
    this.view = { task, step: progress.step, done, heldMs: 0, holdMs: this.targetMs(progress.step), missing: [], derailed: null, progress };
  }

  get current(): TaskProgressView {
    return this.view;
  }

  /** Applies one verdict; returns true when the stored progress changed (a step, a derailment). */
  apply(e: TaskEvent, now: number): boolean {
    const v = this.view;
    switch (e.type) {
      case 'executing_task':
        // A verdict about a step already left behind (in flight when the step changed) is stale.
        if (e.step !== v.step && !e.done) return false;
        this.view = { ...v, heldMs: e.heldMs, holdMs: e.holdMs, missing: e.missing, derailed: null };
        return false;
      case 'derailed': {
        if (e.step !== v.step) return false;
        const fresh = v.derailed === null;
        const progress = fresh ? { ...v.progress, derailments: v.progress.derailments + 1 } : v.progress;
        this.view = { ...v, derailed: e.reason, heldMs: 0, progress };
        return fresh;
      }
      case 'completed_task': {
        if (e.completedStep !== v.step) return false;
        const next = e.nextStep ?? this.task.steps.length;
        const progress: Progress = {
          ...v.progress,
          step: next,
          stepStartedAt: now,
          stepTimes: [...v.progress.stepTimes, e.stepMs],
          ...(e.nextStep === null ? { completedAt: now } : {}),
        };
        this.view = { ...v, step: next, done: e.nextStep === null, heldMs: 0, holdMs: this.targetMs(next), missing: [], derailed: null, progress };
        return true;
      }
      case 'went_back': {
        if (e.fromStep !== v.step) return false;
        // The step gone back to is done again, so its time so far no longer stands.
        const progress: Progress = { ...v.progress, step: e.step, stepStartedAt: now, stepTimes: v.progress.stepTimes.slice(0, e.step) };
        this.view = { ...v, step: e.step, done: false, heldMs: 0, holdMs: this.targetMs(e.step), missing: [], derailed: null, progress };
        return true;
      }
      case 'error':
        return false;
      default:
        return assertNever(e);
    }
  }

  private targetMs(step: number): number {
    const s = this.task.steps[step];
    return s ? stepTargetMs(s) : 0;
  }
}
