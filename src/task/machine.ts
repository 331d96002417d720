import { assertNever } from '../util/assert-never';
import { checkStep, objectsOf, type Scene, type StepCheck } from './predicates';
import { DEFAULTS, stepTargetMs, type DerailRule, type StepEnding, type Task } from './types';

/** What the task-state worker says about one frame. */
export type TaskEvent =
  | {
      readonly type: 'executing_task';
      readonly step: number;
      /** How long the condition has held, towards `holdMs`; for a wait step, how long it has waited, towards its duration. */
      readonly heldMs: number;
      readonly holdMs: number;
      readonly missing: readonly string[];
      /** True on the first frame back on track after a derailment. */
      readonly recovered: boolean;
      /** Every step is complete. */
      readonly done: boolean;
    }
  | { readonly type: 'completed_task'; readonly completedStep: number; readonly nextStep: number | null; readonly stepMs: number; readonly by: StepEnding }
  /** The person went back a step: `step` starts again. */
  | { readonly type: 'went_back'; readonly fromStep: number; readonly step: number }
  | { readonly type: 'derailed'; readonly step: number; readonly reason: string; readonly since: number }
  | { readonly type: 'error'; readonly message: string };

/** What a person can tell the state worker: `next` confirms a confirm step (and skips any other), `back` returns a step. */
export const TASK_COMMANDS = ['next', 'back'] as const;
export interface TaskCommand {
  readonly type: (typeof TASK_COMMANDS)[number];
  /** The step the person saw when they said it: a command for a step already left behind is stale and ignored. */
  readonly step: number;
}

export interface MachineState {
  readonly step: number;
  readonly stepStartedAt: number;
  /** When the condition started holding (null: not holding). */
  readonly holdSince: number | null;
  /** Last time the condition held: misses shorter than the grace period do not reset the hold. */
  readonly lastHeldAt: number | null;
  /** Analysed frames on which the condition held since `holdSince`. */
  readonly heldFrames: number;
  /** A wait step's time so far: only intervals between analysed frames, not derailed, and no longer than the gap bound. */
  readonly waitedMs: number;
  /** The capture time of the last frame analysed (null before the first). */
  readonly lastFrameAt: number | null;
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
  /** A longer gap between analysed frames restarts a hold (default DEFAULTS.maxGapMs). */
  readonly maxGapMs?: number;
}

export function startState(now: number, step = 0, task?: Task): MachineState {
  return {
    step,
    stepStartedAt: now,
    holdSince: null,
    lastHeldAt: null,
    heldFrames: 0,
    waitedMs: 0,
    lastFrameAt: null,
    lastSeen: {},
    forbiddenSince: {},
    derailed: null,
    done: task ? step >= task.steps.length : false,
  };
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
      // An alarm is judged on how sure the detector is now, not at its most sure: a false positive
      // that once scored high (a strap read as a phone) must not stay "in view" on that peak.
      const minScore = rule.minScore ?? DEFAULTS.forbiddenMinScore;
      if (objectsOf(scene, rule.label, 0).some((b) => (b.scoreNow ?? b.score) >= minScore)) forbiddenSince[i] ??= now;
      else delete forbiddenSince[i];
      const since = forbiddenSince[i];
      if (since !== undefined && now - since >= (rule.minMs ?? DEFAULTS.forbiddenMinMs)) reason ??= `A ${rule.label} is in view — it does not belong here`;
    }
  });
  return { reason, lastSeen, forbiddenSince };
}

/** The step ends now: the next one starts, derail rules' memory carried over (an object that must stay is still watched). */
function complete(task: Task, state: MachineState, now: number, by: StepEnding): { state: MachineState; event: TaskEvent } {
  const next = state.step + 1;
  const done = next >= task.steps.length;
  return {
    state: { ...startState(now, next), lastSeen: state.lastSeen, forbiddenSince: state.forbiddenSince, lastFrameAt: state.lastFrameAt, done },
    event: { type: 'completed_task', completedStep: state.step, nextStep: done ? null : next, stepMs: now - state.stepStartedAt, by },
  };
}

/**
 * One evaluation of the task on the newest analysed frame (`now` is its capture time). A
 * watched step completes only when its condition has held for its hold time, on at least
 * DEFAULTS.minHoldFrames analysed frames, with no gap between analysed frames longer than the
 * gap bound (a frame that failed never reaches here, so "nothing seen" is only ever what a
 * frame showed); misses shorter than the grace period do not reset the hold. A wait step
 * counts only the time between analysed frames. While derailed, holds and waits pause. A
 * confirm step waits for the person (see `command`).
 */
export function advance(task: Task, state: MachineState, scene: Scene, now: number, opts: MachineOptions = {}): { state: MachineState; event: TaskEvent; check?: StepCheck } {
  if (state.done || state.step >= task.steps.length) {
    return { state: { ...state, done: true, lastFrameAt: now }, event: { type: 'executing_task', step: task.steps.length, heldMs: 0, holdMs: 0, missing: [], recovered: false, done: true } };
  }
  const step = task.steps[state.step]!;
  const interval = state.lastFrameAt === null ? null : now - state.lastFrameAt;
  const gapped = interval !== null && interval > (opts.maxGapMs ?? DEFAULTS.maxGapMs);
  const derail = derailReason(task, state, scene, now);
  if (derail.reason) {
    const derailed = state.derailed?.reason === derail.reason ? state.derailed : { reason: derail.reason, since: now };
    return {
      state: { ...state, lastSeen: derail.lastSeen, forbiddenSince: derail.forbiddenSince, derailed, holdSince: null, lastHeldAt: null, heldFrames: 0, lastFrameAt: now },
      event: { type: 'derailed', step: state.step, reason: derailed.reason, since: derailed.since },
    };
  }
  const recovered = state.derailed !== null;
  const base: MachineState = { ...state, lastSeen: derail.lastSeen, forbiddenSince: derail.forbiddenSince, derailed: null, lastFrameAt: now };
  const executing = (s: MachineState, heldMs: number, holdMs: number, missing: readonly string[] = []) => ({
    state: s,
    event: { type: 'executing_task', step: state.step, heldMs, holdMs, missing, recovered, done: false } as const,
  });
  switch (step.kind) {
    case 'confirm':
      return executing(base, 0, 0);
    case 'wait': {
      // Time counts only between analysed frames while on track: a paused camera or a derailment does not wait.
      const counted = interval !== null && !gapped && !recovered ? interval : 0;
      const waitedMs = state.waitedMs + counted;
      if (waitedMs >= step.durationMs) return complete(task, { ...base, waitedMs }, now, 'waited');
      return executing({ ...base, waitedMs }, waitedMs, step.durationMs);
    }
    case undefined:
    case 'see': {
      const holdMs = stepTargetMs(step);
      const check = checkStep(step, scene);
      const graceMs = opts.graceMs ?? 500;
      // A gap in analysis: what happened in it is unknown, so a hold starts over.
      let holdSince = gapped ? null : state.holdSince;
      let lastHeldAt = gapped ? null : state.lastHeldAt;
      let heldFrames = gapped ? 0 : state.heldFrames;
      if (check.met) {
        holdSince ??= now;
        lastHeldAt = now;
        heldFrames++;
      } else if (lastHeldAt === null || now - lastHeldAt > graceMs) {
        holdSince = null;
        lastHeldAt = null;
        heldFrames = 0;
      }
      const held: MachineState = { ...base, holdSince, lastHeldAt, heldFrames };
      const heldMs = holdSince === null ? 0 : now - holdSince;
      if (check.met && heldMs >= holdMs && heldFrames >= DEFAULTS.minHoldFrames) return { ...complete(task, held, now, 'seen'), check };
      return { ...executing(held, heldMs, holdMs, check.missing.map((m) => m.label)), check };
    }
    default:
      return assertNever(step);
  }
}

/**
 * A person's command, applied by the state worker in order with the frames (at `now`, the
 * capture time of the frame it arrived before). Null when it does not apply: it was meant for
 * another step (the camera got there first), or there is no step to go back to.
 */
export function command(task: Task, state: MachineState, cmd: TaskCommand, now: number): { state: MachineState; event: TaskEvent } | null {
  if (state.done || cmd.step !== state.step || state.step >= task.steps.length) return null;
  switch (cmd.type) {
    case 'next':
      return complete(task, { ...state, lastFrameAt: now }, now, task.steps[state.step]!.kind === 'confirm' ? 'confirmed' : 'skipped');
    case 'back': {
      if (state.step === 0) return null;
      const to = state.step - 1;
      return {
        state: { ...startState(now, to), lastSeen: state.lastSeen, forbiddenSince: state.forbiddenSince, lastFrameAt: now },
        event: { type: 'went_back', fromStep: state.step, step: to },
      };
    }
    default:
      return assertNever(cmd.type);
  }
}
