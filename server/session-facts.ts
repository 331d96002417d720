// What a guided session's events say about it, folded one event at a time. The store keeps the
// fold's state on the session's summary row and advances it with each append, so listing,
// filtering and aggregating never read events; a timeline folds the same way from the first
// event, collecting what the summary does not keep. One fold for both, so they cannot disagree.
import { assertNever } from '../src/util/assert-never';
import * as v from 'valibot';
import { BUILTIN_TASKS } from '../src/task/builtin';
import type { StepEnding } from '../src/task/types';
import { LIVE_WINDOW_MS, type Derailment, type GivenInstruction, type Outcome, type SessionSummary, type TimelineStep } from '../src/sync/trainer-api';
import { RecordedEndSchema, RecordedInstructionSchema, RecordedStartSchema, RecordedStateSchema, type RecordedTaskEvent } from '../src/sync/recorded';
import { type EventKind } from '../src/sync/protocol';

/** A step this session worked on. */
export interface StepFacts {
  readonly index: number;
  startedTs: number;
  completedTs: number | null;
  /** How it was completed (absent in facts kept before it was recorded: read as seen). */
  completedBy?: StepEnding | null;
  derailments: number;
  derailedMs: number;
}

export interface OpenDerailment {
  readonly step: number;
  readonly reason: string;
  readonly startTs: number;
}

/** The fold's state: JSON, kept on the summary row. */
export interface SessionFacts {
  /** The last event folded in. */
  seq: number;
  taskId: string | null;
  taskTitle: string | null;
  stepsTotal: number | null;
  /** Step instructions recorded at session start (a custom task); built-in tasks are looked up instead. */
  stepInstructions: string[] | null;
  startedTs: number | null;
  /** The step being worked on: steps before it are done. Null before the first verdict. */
  step: number | null;
  /** The step this session began on: steps before it were done in an earlier session. */
  firstStep: number | null;
  /** Steps worked on here, in order of index. */
  steps: StepFacts[];
  derailments: number;
  derail: OpenDerailment | null;
  completedTs: number | null;
  endedTs: number | null;
}

export const emptyFacts = (): SessionFacts => ({
  seq: 0,
  taskId: null,
  taskTitle: null,
  stepsTotal: null,
  stepInstructions: null,
  startedTs: null,
  step: null,
  firstStep: null,
  steps: [],
  derailments: 0,
  derail: null,
  completedTs: null,
  endedTs: null,
});

/** What a timeline collects beyond the facts. */
export type FactsNote =
  | { readonly type: 'derailment'; readonly derailment: Omit<Derailment, 'durationMs' | 'ongoing'> }
  | { readonly type: 'instruction'; readonly step: number; readonly instruction: GivenInstruction };

/**
 * The rules the fold follows. Facts kept under older rules are folded again from the session's
 * events when the store opens (or on the next append): version 1 believed a device's title and
 * steps for a built-in task, and step numbers past its last step.
 */
export const FACTS_VERSION = 2;

/**
 * Whether facts kept under version 1 are what this version folds from the same events, so that
 * only their task key need be added: version 1 differed only for built-in tasks, where it took
 * the device's title and steps and folded verdicts on steps the task does not have, each of
 * which leaves a mark checked here (a title or length not the task's, instructions of its own, a
 * step past the last, completion short of it). Facts that fail are folded again from the events.
 */
export function sameUnderCurrentRules(f: SessionFacts): boolean {
  const known = builtin(f.taskId);
  if (!known) return true;
  const steps = known.steps.length;
  return (
    f.taskTitle === known.title &&
    f.stepInstructions === null &&
    f.stepsTotal === steps &&
    (f.step ?? 0) <= steps &&
    (f.firstStep ?? 0) <= steps &&
    f.steps.every((s) => s.index < steps) &&
    (f.derail === null || f.derail.step < steps) &&
    (f.completedTs === null || f.step === steps)
  );
}

/** The kinds the fold reads: a session's detections never change what it says about the task. */
export const FACT_KINDS: readonly EventKind[] = ['session-start', 'session-end', 'state'];
export const TIMELINE_KINDS: readonly EventKind[] = [...FACT_KINDS, 'instruction'];

export interface FoldEvent {
  readonly seq: number;
  readonly ts: number;
  readonly kind: EventKind;
  readonly payload: unknown;
}

/** A built-in task: the server knows its title and steps, and believes no device's word on them. */
export const builtin = (taskId: string | null) => (taskId === null ? undefined : BUILTIN_TASKS.find((t) => t.id === taskId));
/** Sums of times from a device can be absurd; a sum that stops being finite keeps its last finite value. */
const addFinite = (a: number, b: number) => (Number.isFinite(a + b) ? a + b : a);
const span = (from: number | null, to: number | null) => (from === null || to === null || !Number.isFinite(to - from) ? null : to - from);

/**
 * The facts after `events` (in sequence order, continuing `prev`); `note` hears what a timeline
 * needs, with the sequence number of the event that told it (at most one note per event). `prev`
 * is not changed.
 */
export function foldEvents(prev: SessionFacts, events: readonly FoldEvent[], note?: (n: FactsNote, seq: number) => void): SessionFacts {
  const f: SessionFacts = structuredClone(prev);
  for (const e of events) {
    if (e.seq <= f.seq) continue;
    f.seq = e.seq;
    f.startedTs ??= e.ts;
    const heard = note && ((n: FactsNote) => note(n, e.seq));
    if (e.kind === 'session-start') start(f, e.payload);
    else if (e.kind === 'state') verdict(f, e.ts, e.payload, heard);
    else if (e.kind === 'instruction') instruction(f, e.ts, e.payload, heard);
    else if (e.kind === 'session-end') end(f, e.ts, e.payload, heard);
  }
  return f;
}

/**
 * The session's task. A built-in task's title and steps are the server's own, whatever the
 * device says; a custom task's are what its session start recorded (see taskKey in store.ts:
 * they are kept per device and definition).
 */
function adoptTask(f: SessionFacts, taskId: string, title: string | null, steps?: readonly string[]): void {
  f.taskId = taskId;
  const known = builtin(taskId);
  if (known) {
    f.taskTitle = known.title;
    f.stepsTotal = known.steps.length;
    f.stepInstructions = null;
    return;
  }
  f.taskTitle = title;
  if (steps?.length) {
    f.stepInstructions = [...steps];
    f.stepsTotal = steps.length;
  }
}

function start(f: SessionFacts, payload: unknown): void {
  const p = v.safeParse(RecordedStartSchema, payload);
  if (!p.success || f.taskId !== null || typeof p.output.task !== 'string') return;
  adoptTask(f, p.output.task, p.output.taskTitle ?? null, p.output.steps);
}

/**
 * Whether a verdict speaks of steps a built-in task does not have (a made-up verdict, or one
 * from an app whose copy of the task differs): such a verdict is not folded. The worker reports
 * a finished task as `executing_task` at the step after the last, done.
 */
function beyondTask(f: SessionFacts, e: RecordedTaskEvent): boolean {
  const steps = builtin(f.taskId)?.steps.length;
  if (steps === undefined) return false;
  switch (e.type) {
    case 'executing_task':
      return e.done ? e.step !== steps : e.step >= steps;
    case 'completed_task':
      return e.completedStep >= steps || (e.nextStep === null ? e.completedStep !== steps - 1 : e.nextStep >= steps);
    case 'went_back':
      return e.fromStep >= steps || e.step >= steps;
    case 'derailed':
      return e.step >= steps;
    case 'error':
      return false;
    default:
      return assertNever(e);
  }
}

/** A step reached: the first verdict places the session (a resumed one starts past step 0); steps only move forward. */
function reach(f: SessionFacts, step: number, ts: number): boolean {
  if (f.step === null) {
    f.step = step;
    f.firstStep = step;
    f.steps.push({ index: step, startedTs: f.startedTs ?? ts, completedTs: null, derailments: 0, derailedMs: 0 });
    return true;
  }
  // Behind the current step: a task restarted within the session, which is not followed.
  if (step < f.step) return false;
  if (step > f.step) begin(f, step, ts);
  return true;
}

function begin(f: SessionFacts, step: number, ts: number): void {
  f.step = step;
  if (!f.steps.some((s) => s.index === step)) f.steps.push({ index: step, startedTs: ts, completedTs: null, derailments: 0, derailedMs: 0 });
}

const stepFacts = (f: SessionFacts, index: number) => f.steps.find((s) => s.index === index);

function closeDerailment(f: SessionFacts, ts: number, note?: (n: FactsNote) => void): void {
  const d = f.derail;
  if (!d) return;
  f.derail = null;
  const s = stepFacts(f, d.step);
  if (s) s.derailedMs = addFinite(s.derailedMs, Math.max(0, ts - d.startTs));
  note?.({ type: 'derailment', derailment: { step: d.step, reason: d.reason, startTs: d.startTs, endTs: ts } });
}

function verdict(f: SessionFacts, ts: number, payload: unknown, note?: (n: FactsNote) => void): void {
  const p = v.safeParse(RecordedStateSchema, payload);
  if (!p.success) return;
  const { task, event: e } = p.output;
  if (task !== undefined) {
    // A session started without a task takes the first one it is guided through; another task chosen mid-session is not followed.
    if (f.taskId === null) adoptTask(f, task, null);
    else if (task !== f.taskId) return;
  }
  if (beyondTask(f, e)) return;
  switch (e.type) {
    case 'executing_task':
      if (e.done) {
        // Every step is complete: the worker reports the task's length as the step.
        closeDerailment(f, ts, note);
        f.stepsTotal ??= e.step;
        f.completedTs ??= ts;
        if (f.step === null || e.step > f.step) f.step = e.step;
        f.firstStep ??= e.step;
        return;
      }
      if (reach(f, e.step, ts)) closeDerailment(f, ts, note);
      return;
    case 'completed_task': {
      if (!reach(f, e.completedStep, ts) || e.completedStep !== f.step) return;
      closeDerailment(f, ts, note);
      const done = stepFacts(f, e.completedStep)!;
      done.completedTs = ts;
      done.completedBy = e.by ?? 'seen';
      if (e.nextStep === null) {
        f.step = e.completedStep + 1;
        f.stepsTotal = e.completedStep + 1;
        f.completedTs ??= ts;
      } else begin(f, Math.max(e.nextStep, e.completedStep + 1), ts);
      return;
    }
    case 'went_back': {
      // The person went back a step: it is open again (its first start kept), and the step left stays started.
      if (f.step === null || e.fromStep !== f.step || e.step >= e.fromStep) return;
      closeDerailment(f, ts, note);
      f.step = e.step;
      const again = stepFacts(f, e.step);
      if (again) Object.assign(again, { completedTs: null, completedBy: null });
      else begin(f, e.step, ts);
      return;
    }
    case 'derailed': {
      if (!reach(f, e.step, ts)) return;
      // The machine keeps one derailment while its reason stands; a new reason is a new derailment, with its own start.
      if (f.derail && f.derail.step === e.step && f.derail.reason === e.reason) return;
      closeDerailment(f, ts, note);
      f.derail = { step: e.step, reason: e.reason, startTs: ts };
      f.derailments++;
      stepFacts(f, e.step)!.derailments++;
      return;
    }
    case 'error':
      return;
    default:
      return assertNever(e);
  }
}

function instruction(f: SessionFacts, ts: number, payload: unknown, note?: (n: FactsNote) => void): void {
  if (!note) return;
  const p = v.safeParse(RecordedInstructionSchema, payload);
  if (!p.success || (p.output.task !== undefined && f.taskId !== null && p.output.task !== f.taskId)) return;
  const steps = builtin(f.taskId)?.steps.length;
  if (steps !== undefined && p.output.step >= steps) return;
  note({ type: 'instruction', step: p.output.step, instruction: { ts, text: p.output.text } });
}

function end(f: SessionFacts, ts: number, payload: unknown, note?: (n: FactsNote) => void): void {
  closeDerailment(f, ts, note);
  f.endedTs ??= ts;
  // Without a task there is nothing to complete but the session itself: a cancelled file analysis did not.
  if (f.taskId === null && f.completedTs === null) {
    const p = v.safeParse(RecordedEndSchema, payload);
    if (!(p.success && p.output.cancelled === true)) f.completedTs = ts;
  }
}

// ---- projections ----

/** Live: not ended, and an event received within the window (server time); written as the stores' SQL compares it. */
export const isLive = (f: Pick<SessionFacts, 'endedTs'>, receivedAt: number | null, now: number, windowMs = LIVE_WINDOW_MS) =>
  f.endedTs === null && receivedAt !== null && receivedAt >= now - windowMs;

export function outcomeOf(f: Pick<SessionFacts, 'completedTs' | 'endedTs'>, live: boolean): Outcome {
  if (f.completedTs !== null) return 'completed';
  return f.endedTs !== null || !live ? 'abandoned' : 'in-progress';
}

export type SummaryFacts = Pick<SessionSummary, 'taskId' | 'taskTitle' | 'startedTs' | 'endedTs' | 'durationMs' | 'completedTs' | 'outcome' | 'stepsDone' | 'stepsTotal' | 'derailments' | 'live'>;

export function summaryFacts(f: SessionFacts, firstTs: number, lastTs: number, receivedAt: number | null, now: number, windowMs = LIVE_WINDOW_MS): SummaryFacts {
  const live = isLive(f, receivedAt, now, windowMs);
  // A built-in task is shown as the server knows it, even from facts kept before the device's word stopped counting.
  const known = builtin(f.taskId);
  return {
    taskId: f.taskId,
    taskTitle: known?.title ?? f.taskTitle,
    startedTs: firstTs,
    endedTs: f.endedTs,
    durationMs: span(firstTs, f.endedTs ?? lastTs),
    completedTs: f.completedTs,
    outcome: outcomeOf(f, live),
    stepsDone: known ? Math.min(f.step ?? 0, known.steps.length) : (f.step ?? 0),
    stepsTotal: known?.steps.length ?? f.stepsTotal,
    derailments: f.derailments,
    live,
  };
}

/** The task's step instructions, where known: a built-in task's own, else what the session start recorded. */
export const stepInstructions = (f: Pick<SessionFacts, 'taskId' | 'stepInstructions'>): readonly string[] | undefined =>
  builtin(f.taskId)?.steps.map((s) => s.instruction) ?? f.stepInstructions ?? undefined;

/** A derailment still open at `lastTs`, the newest event's time: it lasts, for now, to then. */
export const ongoingDerailment = (d: OpenDerailment, lastTs: number): Derailment => ({ step: d.step, reason: d.reason, startTs: d.startTs, endTs: lastTs, durationMs: span(d.startTs, lastTs), ongoing: true });

/** A derailment that ended at `endTs`. */
export const endedDerailment = (d: Omit<Derailment, 'durationMs' | 'ongoing'>): Derailment => ({ ...d, durationMs: span(d.startTs, d.endTs), ongoing: false });

/**
 * How many rows a timeline has: one per step of the task when its length is known, else up to
 * the furthest step anything mentions (`furthestGiven`: the furthest step an instruction was
 * given on, or -1). Indices are bounded (MAX_TASK_STEPS) by the payload schemas.
 */
export function timelineLength(f: SessionFacts, furthestGiven: number): number {
  let count = Math.max(f.stepsTotal ?? 0, f.step ?? 0, furthestGiven + 1);
  for (const s of f.steps) count = Math.max(count, s.index + 1);
  // A built-in task has its own number of steps.
  return builtin(f.taskId)?.steps.length ?? count;
}

/** One row of a timeline, without its lists: what the facts say about step `index`. */
export function stepRow(f: SessionFacts, index: number, instructions: readonly string[] | undefined): Omit<TimelineStep, 'derailments' | 'instructions' | 'derailmentsTotal' | 'derailmentsNext' | 'instructionsTotal' | 'instructionsNext'> {
  const s = stepFacts(f, index);
  const status = s?.completedTs != null ? 'completed' : s ? 'started' : f.firstStep !== null && index < f.firstStep ? 'done-earlier' : 'not-reached';
  return {
    index,
    instruction: instructions?.[index] ?? null,
    status,
    startedTs: s?.startedTs ?? null,
    completedTs: s?.completedTs ?? null,
    durationMs: s ? span(s.startedTs, s.completedTs) : null,
    completedBy: s?.completedTs != null ? (s.completedBy ?? 'seen') : null,
  };
}

/**
 * A session's steps from all its events (in order, up to `lastTs`, the newest event's time):
 * one row per step of the task when its length is known, else per step seen, every list whole.
 * The pure fold: the store keeps the same on write (server/timeline-pages.ts reads it back in
 * pages), and the tests hold the two against each other.
 */
export function timelineSteps(events: readonly FoldEvent[], lastTs: number): TimelineStep[] {
  const derailments: Derailment[] = [];
  const given: { step: number; instruction: GivenInstruction }[] = [];
  const f = foldEvents(emptyFacts(), events, (n) => {
    if (n.type === 'derailment') derailments.push(endedDerailment(n.derailment));
    else given.push(n);
  });
  if (f.derail) derailments.push(ongoingDerailment(f.derail, lastTs));
  const instructions = stepInstructions(f);
  const count = timelineLength(f, given.reduce((m, g) => Math.max(m, g.step), -1));
  return Array.from({ length: count }, (_, index): TimelineStep => {
    const mine = derailments.filter((d) => d.step === index);
    const said = given.filter((g) => g.step === index).map((g) => g.instruction);
    return { ...stepRow(f, index, instructions), derailments: mine, instructions: said, derailmentsTotal: mine.length, derailmentsNext: null, instructionsTotal: said.length, instructionsNext: null };
  });
}
