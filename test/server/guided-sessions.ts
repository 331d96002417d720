// Guided sessions as the app records them, for the tests: the payloads of
// src/ui/controllers/live-session.ts (session-start, session-end), src/guide/live-record.ts
// (state, instruction) and src/task/machine.ts (the verdicts), typed with the app's own types
// so that a change of shape there breaks these at compile time. The `step` a state event
// carries is the page's, after its TaskSession applied the verdict, as live-session.ts does.
import { clip, labelCounts } from '../../src/sync/payloads';
import type { EventKind, SyncEvent } from '../../src/sync/protocol';
import { BUILTIN_TASKS } from '../../src/task/builtin';
import { instructionFor } from '../../src/task/instructions';
import { advance, startState, type TaskEvent } from '../../src/task/machine';
import type { Box } from '../../src/task/predicates';
import { newProgress, TaskSession } from '../../src/task/session';
import type { StepEnding, Task } from '../../src/task/types';

const builtin = (id: string) => BUILTIN_TASKS.find((t) => t.id === id)!;
/** 4 steps; the laptop must stay in view from step 2 on. */
export const DESK = builtin('desk-setup');
/** 3 steps; the bowl must stay in view from step 2 on. */
export const FRUIT = builtin('fruit-bowl');
/** The machine's words for the desk task's derailment (src/task/machine.ts). */
export const LAPTOP_LEFT = 'The laptop left the view — bring it back';

export const executing = (step: number, extra: Partial<Extract<TaskEvent, { type: 'executing_task' }>> = {}): TaskEvent => ({
  type: 'executing_task',
  step,
  heldMs: 0,
  holdMs: 1000,
  missing: [],
  recovered: false,
  done: false,
  ...extra,
});
export const completed = (completedStep: number, nextStep: number | null, stepMs: number, by: StepEnding = 'seen'): TaskEvent => ({ type: 'completed_task', completedStep, nextStep, stepMs, by });
export const derailed = (step: number, reason: string, since: number): TaskEvent => ({ type: 'derailed', step, reason, since });
/** What the worker says on every frame once every step is complete. */
export const allDone = (steps: number): TaskEvent => executing(steps, { holdMs: 0, done: true });

/** One session's events, numbered from 1, as the recorder appends them. */
export class Recording {
  readonly events: SyncEvent[] = [];
  readonly guide: TaskSession | undefined;
  private frame = 0;

  /** `resumeAt`: the page's stored progress (a session resumed after a reload starts on that step). */
  constructor(readonly task: Task | undefined, start: number, opts: { resumeAt?: number; start?: Record<string, unknown> } = {}) {
    if (task) this.guide = new TaskSession(task, { ...newProgress(task.id, start), step: opts.resumeAt ?? 0 });
    this.record(start, 'session-start', opts.start ?? { task: task?.id ?? null, taskTitle: task?.title ?? null, model: 'yolo11n-coco', poolSize: 2, userAgent: 'Mozilla/5.0 (Linux; Android 14) Chrome/131' });
  }

  record(ts: number, kind: EventKind, payload: unknown): this {
    this.events.push({ seq: this.events.length + 1, ts, kind, payload });
    return this;
  }

  verdict(ts: number, event: TaskEvent, objects: Record<string, number> = { laptop: 1 }): this {
    this.guide?.apply(event, ts);
    return this.record(ts, 'state', { task: this.task?.id, step: this.guide?.current.step, frame: ++this.frame, event, objects });
  }

  instruction(ts: number, step: number, text: string, met = false): this {
    return this.record(ts, 'instruction', { task: this.task?.id, step, frame: this.frame, text: clip(text), met });
  }

  detections(ts: number): this {
    return this.record(ts, 'detections', { frame: ++this.frame, time: ts / 1000, labels: ['cup'], boxes: [[0, 0.9, 10, 10, 50, 50]], omitted: 0 });
  }

  end(ts: number, payload?: Record<string, unknown>): this {
    return this.record(ts, 'session-end', payload ?? { framesIn: this.frame * 8, leakedFrames: 0, progress: this.guide?.current.progress ?? null });
  }
}

const box = (label: string, x: number, y: number, w = 100, h = 100): Box => ({ label, score: 0.9, x, y, w, h });

/**
 * A session of the fruit-bowl task run through the app's own state machine and instruction
 * builder, frame by frame (4 a second), on scenes scripted in time: the bowl comes at 2 s, the
 * apple at 5 s; in step 3 the bowl is taken away at 7 s (a derailment once it has been gone
 * 2 s) and brought back at 10 s, and the banana comes at 11 s. What the page's TaskSession
 * makes of the verdicts is the oracle the server's derivations are checked against.
 */
export function simulatedFruitBowl(start: number, untilMs = 14_000): Recording {
  const rec = new Recording(FRUIT, start);
  const scene = (t: number): Box[] => [
    ...(t >= 2_000 && !(t >= 7_000 && t < 10_000) ? [box('bowl', 270, 190)] : []),
    ...(t >= 5_000 ? [box('apple', 380, 200, 60, 60)] : []),
    ...(t >= 11_000 ? [box('banana', 180, 200, 80, 50)] : []),
  ];
  let state = startState(start, 0, FRUIT);
  let said = '';
  for (let t = 0; t <= untilMs; t += 250) {
    const now = start + t;
    const detections = scene(t);
    const r = advance(FRUIT, state, { width: 640, height: 480, detections }, now);
    state = r.state;
    rec.verdict(now, r.event, labelCounts(detections));
    // TaskGuide.onScene builds the instruction for the page's step from the same objects; LiveRecord keeps it when its words change.
    const page = rec.guide!.current;
    if (page.done) continue;
    const ins = instructionFor(FRUIT.steps[page.step]!, page.step, { width: 640, height: 480, detections });
    if (ins.text !== said) rec.instruction(now, ins.step, (said = ins.text), ins.met);
  }
  return rec;
}
