// The app's own worker protocol, on top of the pipeline's: what its two groups (the task-state
// worker and the localization pool) are configured with, what they answer and what they can be
// told. Declared once and imported by the page (src/vision) and the workers (src/workers).

import type { Detection } from '../model/decode';
import type { ModelManifest } from '../model/manifest';
import type { Provider, ProviderPreference } from '../model/provider';
import type { Instruction } from '../task/instructions';
import type { StepCheck } from '../task/predicates';
import type { TaskCommand, TaskEvent } from '../task/machine';
import type { Task } from '../task/types';

/** The app's worker groups. */
export const WORKER_ROLES = ['state', 'localization'] as const;
export type WorkerRole = (typeof WORKER_ROLES)[number];

/** The probe's answer: mean luma (0–255) of the frame, sampled at 16×16: real pixel work, cheap. */
export interface ProbeOutput {
  readonly kind: 'probe';
  readonly meanLuma: number;
}

/** The detector's answer, in source-frame pixels (the result's width × height). */
export interface DetectionsOutput {
  readonly kind: 'detections';
  readonly detections: readonly Detection[];
  /** Boxes below the score threshold (down to the tracker's low threshold): never shown, they only keep tracks alive. */
  readonly uncertain: readonly Detection[];
  readonly provider: Provider;
  readonly preprocessMs: number;
  readonly inferenceMs: number;
  readonly decodeMs: number;
  /** The exact input tensor the model ran on; only with DetectorConfig.captureInput (tests). */
  readonly input?: Float32Array;
}

/**
 * The judge's word: the one evaluation of the current step, from which the verdict, the screen's
 * hints, the voice and the record all come. Nothing on the page evaluates the step again.
 */
export interface Verdict {
  /** What happened to the task on the frame judged; null while no task is set, or nothing new was judged. */
  readonly task: TaskEvent | null;
  /** The frame the verdict is about: the result's own (a judge that runs a model) or the pool's newest it was told of (0: none yet). */
  readonly judgedSeq: number;
  /**
   * The current step's breakdown as judged on that frame (what holds, which tracked objects it
   * is about, what is missing or too many), in words and boxes; null when nothing new was judged
   * or the task is over. Its boxes are where the judge saw them: the page draws them at the
   * freshest tracks' places.
   */
  readonly instruction: Instruction | null;
  /**
   * The evaluation itself, for a step the camera judges: what is missing and what is too many
   * (with the tracked boxes counted), each relation and whether it holds (with its pair), and the
   * objects the step is about; null for a confirm or wait step, or when nothing new was judged.
   */
  readonly breakdown: StepCheck | null;
}

/** A judge that runs no model of its own answers each frame with its verdict on the pool's newest detections. */
export interface VerdictOutput extends Verdict {
  readonly kind: 'verdict';
}

/** The state worker: the verdict, with the detections it ran (judge on its own detector) or alone (judge on the pool's). */
export type StateOutput = ProbeOutput | (DetectionsOutput & Verdict) | VerdictOutput;
export type LocalizationOutput = ProbeOutput | DetectionsOutput;

/** What each group answers: a result's `role` says which. */
export interface VisionOutputs {
  readonly state: StateOutput;
  readonly localization: LocalizationOutput;
}

/** Either group's answer, for code that reads what both have in common. */
export type ProcessorOutput = StateOutput | LocalizationOutput;

/**
 * The state worker's control messages, sent on the frame port so each applies from the next
 * frame on, in order with the frames: the task to evaluate, resuming at `step` (replayed to a
 * restarted worker), or a person's command (next, back), applied at the next frame's capture
 * time. A command is never replayed: a restarted worker gets the task at the step it led to.
 */
export type TaskControl =
  | { readonly type: 'task'; readonly task: Task | null; readonly step: number }
  | { readonly type: 'command'; readonly command: TaskCommand }
  | PoolSighting;

/**
 * What the pool saw on one frame, told to a judge that runs no model of its own, in the pool's
 * delivery order (one-off: a restarted judge is not told old sightings again).
 */
export interface PoolSighting {
  readonly type: 'seen';
  readonly seq: number;
  readonly captureTs: number;
  readonly width: number;
  readonly height: number;
  readonly detections: readonly Detection[];
  readonly uncertain: readonly Detection[];
}

export interface VisionControls {
  readonly state: TaskControl;
}

/**
 * A scripted fault of the probe processor. It is keyed on what a worker actually receives
 * (its n-th frame, counting from 1), never on a sequence number: a drop policy may skip any
 * given seq, and a fault on a frame that never arrives would never happen. Faults apply to a
 * worker's first life only, so its replacement after a hang or crash runs clean.
 *  - `fail`: processing throws (an error result, the worker lives on);
 *  - `hang`: the worker spins forever (the watchdog must restart it);
 *  - `crash`: the worker throws outside any handler.
 */
export interface ProbeFault {
  readonly kind: 'fail' | 'hang' | 'crash';
  readonly onReceived: number;
  /** Only this worker (e.g. "localization-1"); every worker running the probe (state included) when absent. */
  readonly workerId?: string;
}

/** Scripted behaviour of the probe processor, for tests and demos. */
export interface ProbeScript {
  readonly delayMs: number;
  readonly faults?: readonly ProbeFault[];
}

/** Where a model's bytes come from: a URL (cached for offline use) or bytes the person picked. */
export type ModelSource = { readonly url: string } | { readonly bytes: ArrayBuffer; readonly fileName: string };

export interface DetectorConfig {
  readonly kind: 'detector';
  readonly manifest: ModelManifest;
  readonly source: ModelSource;
  readonly provider: ProviderPreference;
  readonly threads: number;
  readonly scoreThreshold?: number;
  readonly lowScoreThreshold?: number;
  /** Return each frame's model input with its result: for correctness tests, costly. */
  readonly captureInput?: boolean;
  /** Fault injection for tests: destroy the WebGPU device after this many frames. */
  readonly loseDeviceAfterFrames?: number;
  /** Fault injection for tests: these frames (by seq) fail as a corrupt frame would. */
  readonly failFrames?: readonly number[];
}

/** A judge that runs no model: it judges on the pool's detections, told to it as PoolSighting messages. */
export interface PoolJudgeConfig {
  readonly kind: 'pool-judge';
  /** The pool's model's labels: tasks are checked against them. */
  readonly labels: readonly string[];
  /** The pool's score threshold: the judge's tracker starts tracks where the page's does. */
  readonly scoreThreshold: number;
}

/** What the localization workers are configured with (GroupSpec.config). */
export type ProcessorConfig = { readonly kind: 'probe'; readonly script: ProbeScript } | DetectorConfig;
/** What the state worker is configured with: a model of its own (or the probe), or none (it judges on the pool's detections). */
export type StateProcessorConfig = ProcessorConfig | PoolJudgeConfig;
