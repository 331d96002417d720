import { checkStep, objectsOf, type Scene, type StepCheck } from './predicates';
import { DEFAULTS, type DerailRule, type Task } from './types';

/** What the task-state worker says about one frame. */
export type TaskEvent =
  | {
      readonly type: 'executing_task';
      readonly step: number;
      /** How long the condition has held, towards `holdMs`. */
      readonly heldMs: number;
      readonly holdMs: number;
      readonly missing: readonly string[];
      /** True on the first frame back on track after a derailment. */
      readonly recovered: boolean;
      /** Every step is complete. */
      readonly done: boolean;
    }
  | { readonly type: 'completed_task'; readonly completedStep: number; readonly nextStep: number | null; readonly stepMs: number }
  | { readonly type: 'derailed'; readonly step: number; readonly reason: string; readonly since: number }
  | { readonly type: 'error'; readonly message: string };

export interface MachineState {
  readonly step: number;
  readonly stepStartedAt: number;
  /** When the condition started holding (null: not holding). */
  readonly holdSince: number | null;
  /** Last time the condition held: misses shorter than the grace period do not reset the hold. */
  readonly lastHeldAt: number | null;
  /** Last time each must-stay rule's object was seen during the current step (by rule index). */
  readonly lastSeen: Readonly<Record<number, number>>;
  /** Since when each forbidden rule's object has been in view (by rule index). */
  readonly forbiddenSince: Readonly<Record<number, number>>;
  readonly derailed: { readonly reason: string; readonly since: number } | null;
  readonly done: boolean;
}

export interface MachineOptions {
  /** A miss shorter than this keeps the hold going (default 500 ms): detectors flicker. */
  readonly graceMs?: number;
}

export function startState(now: number, step = 0, task?: Task): MachineState {
  return { step, stepStartedAt: now, holdSince: null, lastHeldAt: null, lastSeen: {}, forbiddenSince: {}, derailed: null, done: task ? step >= task.steps.length : false };
}

const applies = (rule: DerailRule, step: number) => rule.steps === undefined || rule.steps.includes(step);

function derailReason(task: Task, state: MachineState, scene: Scene, now: number): { reason: string | null; lastSeen: Record<number, number>; forbiddenSince: Record<number, number> } {
  const lastSeen: Record<number, number> = { ...state.lastSeen };
  const forbiddenSince: Record<number, number> = { ...state.forbiddenSince };
  let reason: string | null = null;
  (task.derail ?? []).forEach((rule, i) => {
    if (!applies(rule, state.step)) {
      delete lastSeen[i];
      delete forbiddenSince[i];
      return;
    }
    if (rule.kind === 'must-stay') {
      if (objectsOf(scene, rule.label).length > 0) lastSeen[i] = now;
      // Only an object that was there can leave: absence counts from its last sighting.
      const seen = lastSeen[i];
      if (seen !== undefined && now - seen > (rule.maxAbsentMs ?? DEFAULTS.maxAbsentMs)) reason ??= `The ${rule.label} left the view — bring it back`;
    } else {
      if (objectsOf(scene, rule.label, rule.minScore ?? DEFAULTS.forbiddenMinScore).length > 0) forbiddenSince[i] ??= now;
      else delete forbiddenSince[i];
      const since = forbiddenSince[i];
      if (since !== undefined && now - since >= (rule.minMs ?? DEFAULTS.forbiddenMinMs)) reason ??= `A ${rule.label} is in view — it does not belong here`;
    }
  });
  return { reason, lastSeen, forbiddenSince };
}

/**
 * One evaluation of the task on the newest frame. A step completes only when its
 * condition has held for its hold time; misses shorter than the grace period do not
 * reset the hold; while derailed, the hold is paused.
 */
export function advance(task: Task, state: MachineState, scene: Scene, now: number, opts: MachineOptions = {}): { state: MachineState; event: TaskEvent; check?: StepCheck } {
  if (state.done || state.step >= task.steps.length) {
    return { state: { ...state, done: true }, event: { type: 'executing_task', step: task.steps.length, heldMs: 0, holdMs: 0, missing: [], recovered: false, done: true } };
  }
  const step = task.steps[state.step]!;
  const holdMs = step.holdMs ?? DEFAULTS.holdMs;
  const derail = derailReason(task, state, scene, now);
  if (derail.reason) {
    const derailed = state.derailed?.reason === derail.reason ? state.derailed : { reason: derail.reason, since: now };
    return {
      state: { ...state, lastSeen: derail.lastSeen, forbiddenSince: derail.forbiddenSince, derailed, holdSince: null, lastHeldAt: null },
      event: { type: 'derailed', step: state.step, reason: derailed.reason, since: derailed.since },
    };
  }
  const recovered = state.derailed !== null;
  const check = checkStep(step, scene);
  const graceMs = opts.graceMs ?? 500;
  let holdSince = state.holdSince;
  let lastHeldAt = state.lastHeldAt;
  if (check.met) {
    holdSince ??= now;
    lastHeldAt = now;
  } else if (lastHeldAt === null || now - lastHeldAt > graceMs) {
    holdSince = null;
    lastHeldAt = null;
  }
  const base = { ...state, lastSeen: derail.lastSeen, forbiddenSince: derail.forbiddenSince, derailed: null, holdSince, lastHeldAt };
  const heldMs = holdSince === null ? 0 : now - holdSince;
  if (check.met && heldMs >= holdMs) {
    const next = state.step + 1;
    const done = next >= task.steps.length;
    return {
      state: { ...startState(now, next), lastSeen: derail.lastSeen, forbiddenSince: derail.forbiddenSince, done },
      event: { type: 'completed_task', completedStep: state.step, nextStep: done ? null : next, stepMs: now - state.stepStartedAt },
      check,
    };
  }
  return {
    state: base,
    event: { type: 'executing_task', step: state.step, heldMs, holdMs, missing: check.missing.map((m) => m.label), recovered, done: false },
    check,
  };
}
