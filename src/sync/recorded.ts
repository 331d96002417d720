// What a guided session records: each event kind's payload, declared once. The page writes them
// (Recorder.record is typed by kind with RecordedPayloads); the server reads what it needs of them
// with the schemas below, which accept any extra field so that older and newer records both read.
import * as v from 'valibot';
import type { Instruction } from '../task/instructions';
import type { TaskEvent } from '../task/machine';
import type { Progress } from '../task/session';
import { STEP_ENDINGS } from '../task/types';
import type { CompactFrame } from './payloads';

/** Past this many steps a recorded step index is taken for noise and ignored (no real task has that many). */
export const MAX_TASK_STEPS = 1000;
const StepIndex = v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.maxValue(MAX_TASK_STEPS - 1));

/**
 * The `session-start` payload of a camera session (src/ui/controllers/live-session.ts:
 * `{task, taskTitle, steps, model, modelName, labels | labelCount, poolSize, userAgent}`); a video file's analysis records
 * `{mode: 'file', …}` and no task. `steps`, the task's step instructions in order, is absent
 * from sessions recorded before it was: for those the server knows a custom task's step
 * instructions only for the built-in tasks, and its step count only once it is completed.
 */
export const RecordedStartSchema = v.looseObject({
  task: v.optional(v.nullable(v.string())),
  taskTitle: v.optional(v.nullable(v.string())),
  steps: v.optional(v.pipe(v.array(v.string()), v.maxLength(MAX_TASK_STEPS))),
});

/** The state worker's verdict on one frame (src/task/machine.ts `TaskEvent`), as far as the server reads it. */
export const RecordedTaskEventSchema = v.variant('type', [
  v.looseObject({ type: v.literal('executing_task'), step: StepIndex, done: v.boolean() }),
  // `by` is absent from verdicts recorded before confirm and wait steps existed: those were seen.
  v.looseObject({ type: v.literal('completed_task'), completedStep: StepIndex, nextStep: v.nullable(StepIndex), by: v.optional(v.picklist(STEP_ENDINGS)) }),
  v.looseObject({ type: v.literal('went_back'), fromStep: StepIndex, step: StepIndex }),
  v.looseObject({ type: v.literal('derailed'), step: StepIndex, reason: v.string() }),
  v.looseObject({ type: v.literal('error'), message: v.string() }),
]);
export type RecordedTaskEvent = v.InferOutput<typeof RecordedTaskEventSchema>;

/** A `state` event (src/guide/live-record.ts): `{task, step, frame, event, objects}`; `task` is absent when no task was selected. */
export const RecordedStateSchema = v.looseObject({ task: v.optional(v.string()), event: RecordedTaskEventSchema });

/** An `instruction` event: the words the person was shown and told, when they changed. */
export const RecordedInstructionSchema = v.looseObject({ task: v.optional(v.string()), step: StepIndex, text: v.string() });

/** A `session-end` event: a camera session's `{framesIn, leakedFrames, progress}`, a file analysis's `{frames, failed, cancelled}`. */
export const RecordedEndSchema = v.looseObject({ cancelled: v.optional(v.boolean()) });

// ---- what the page writes: one payload type per event kind ----

/** A camera session's start: the task (if any) with its step instructions, and the model that judged it. */
export interface CameraSessionStart {
  readonly task: string | null;
  readonly taskTitle: string | null;
  /** The task's step instructions, in order: a custom task's timeline is complete with them. */
  readonly steps?: readonly string[];
  readonly model: string;
  readonly modelName: string;
  /** The model's labels, or only their count when the list is too long for an event. */
  readonly labels?: readonly string[];
  readonly labelCount?: number;
  readonly poolSize: number;
  readonly userAgent: string;
}

/** A video file's analysis: no task. */
export interface FileSessionStart {
  readonly mode: 'file';
  readonly file: string;
  readonly frames: number;
  readonly fps: number;
}

export interface CameraSessionEnd {
  readonly framesIn: number;
  readonly leakedFrames: number;
  /** The task's progress when the camera stopped (src/task/session.ts), null without a task. */
  readonly progress: Progress | null;
}

export interface FileSessionEnd {
  readonly frames: number;
  readonly failed: number;
  readonly cancelled: boolean;
}

/** The judge's verdict on one frame: the frame judged, and how many objects of each label were seen on it. */
export interface StatePayload {
  readonly task: string | undefined;
  readonly step: number | undefined;
  readonly frame: number;
  readonly event: TaskEvent;
  readonly objects: Readonly<Record<string, number>>;
}

/** The words (and marks) the person was shown and told, when they changed. */
export interface InstructionPayload {
  readonly task: string | undefined;
  readonly step: number;
  readonly frame: number;
  readonly text: string;
  readonly met: boolean;
  readonly focus: Instruction['focus'];
  readonly target: Instruction['target'];
}

/** A frame that could not be analysed: live (the worker that failed) or in a file (where in it). */
export type ErrorPayload =
  | { readonly role: string; readonly worker: string; readonly seq: number; readonly message: string }
  | { readonly frame: number; readonly time: number; readonly message: string };

/** Each event kind's payload: what `Recorder.record(kind, payload)` takes. */
export interface RecordedPayloads {
  readonly 'session-start': CameraSessionStart | FileSessionStart;
  readonly 'session-end': CameraSessionEnd | FileSessionEnd;
  readonly state: StatePayload;
  readonly instruction: InstructionPayload;
  readonly detections: CompactFrame;
  readonly error: ErrorPayload;
}

/**
 * What the page writes is what the server reads: each written payload fits the schema the
 * server reads that kind with (checked when this file is type-checked).
 */
type Mutable<X> = X extends readonly (infer E)[] ? E[] : X;
type Plain<T> = { -readonly [K in keyof T]: Mutable<T[K]> };
type Fits<Written, Schema extends v.GenericSchema> = [Plain<Written>] extends [v.InferInput<Schema>] ? true : false;
export const WRITTEN_FITS_READ: {
  readonly start: Fits<RecordedPayloads['session-start'], typeof RecordedStartSchema>;
  readonly state: Fits<RecordedPayloads['state'], typeof RecordedStateSchema>;
  readonly instruction: Fits<RecordedPayloads['instruction'], typeof RecordedInstructionSchema>;
  readonly end: Fits<RecordedPayloads['session-end'], typeof RecordedEndSchema>;
} = { start: true, state: true, instruction: true, end: true };
