/** A task is data: ordered steps whose completion is a condition over detections, a person's word, or time. */
import { assertNever } from '../util/assert-never';

/** A screen region, as fractions (0–1) of the frame. */
export const REGION_NAMES = ['left-half', 'right-half', 'top-half', 'bottom-half', 'center', 'left-third', 'right-third', 'top-third', 'bottom-third'] as const;
export type RegionName = (typeof REGION_NAMES)[number];
export type Region = RegionName | { readonly x: number; readonly y: number; readonly w: number; readonly h: number };

export interface Requirement {
  readonly label: string;
  /** How many must be in view (default 1; 0 when only `maxCount` is given). */
  readonly minCount?: number;
  /** How many may be in view at most: 0 means none (take them away). With `minCount` equal to it: exactly that many. */
  readonly maxCount?: number;
  /** Detections below this score do not count (default 0.35). */
  readonly minScore?: number;
  /** Only objects whose centre is in this region count. */
  readonly region?: Region;
}

export const RELATION_KINDS = ['left-of', 'right-of', 'above', 'below', 'near', 'inside'] as const;
export type RelationKind = (typeof RELATION_KINDS)[number];

export type Relation =
  | {
      readonly subject: string;
      readonly relation: Exclude<RelationKind, 'inside'>;
      readonly object: string;
      /** Only a subject and an object whose centres are in this region count. */
      readonly region?: Region;
    }
  | { readonly subject: string; readonly relation: 'inside'; readonly region: Region };

/** What ends a step: the camera sees it (`see`, the default), the person says so (`confirm`), or time (`wait`). */
export const STEP_KINDS = ['see', 'confirm', 'wait'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export interface SeeStep {
  readonly kind?: 'see';
  readonly instruction: string;
  readonly require: readonly Requirement[];
  readonly relations?: readonly Relation[];
  /** How long the condition must hold before the step completes (default 1000 ms). */
  readonly holdMs?: number;
}

/** Nothing to see: the person says when it is done (button, Space or Enter, or "next" by voice). */
export interface ConfirmStep {
  readonly kind: 'confirm';
  readonly instruction: string;
}

/** A timer on the frame clock: it runs only while frames are analysed, and pauses while derailed. */
export interface WaitStep {
  readonly kind: 'wait';
  readonly instruction: string;
  readonly durationMs: number;
}

export type Step = SeeStep | ConfirmStep | WaitStep;

/** How a step ended, as the state worker says: `skipped` is a person's "next" on a step that was not confirmable. */
export const STEP_ENDINGS = ['seen', 'confirmed', 'waited', 'skipped'] as const;
export type StepEnding = (typeof STEP_ENDINGS)[number];

export type DerailRule =
  | {
      readonly kind: 'must-stay';
      readonly label: string;
      /** Absence longer than this derails (default 1500 ms); shorter misses are ignored. */
      readonly maxAbsentMs?: number;
      /** Step indices (0-based) the rule applies to; default every step. */
      readonly steps?: readonly number[];
    }
  | {
      readonly kind: 'forbidden';
      readonly label: string;
      readonly minScore?: number;
      /** Presence must last this long to derail (default 500 ms): one stray detection does not. */
      readonly minMs?: number;
      readonly steps?: readonly number[];
    };

export interface Task {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  /** The language instructions are written in, and spoken in (BCP 47, default `en`). */
  readonly lang?: string;
  readonly steps: readonly Step[];
  readonly derail?: readonly DerailRule[];
}

export const DEFAULTS = {
  minCount: 1,
  minScore: 0.35,
  holdMs: 1000,
  maxAbsentMs: 1500,
  forbiddenMinMs: 500,
  forbiddenMinScore: 0.5,
  /**
   * A gap longer than this between two analysed frames (a paused camera, frames that failed)
   * restarts a hold, and does not count towards a wait: nobody was watching.
   */
  maxGapMs: 2000,
  /** A hold needs at least this many analysed frames on which the condition held: one frame is not evidence. */
  minHoldFrames: 2,
} as const;

/** What the page shows and the worker times for a step: its hold (see), its duration (wait), nothing (confirm). */
export function stepTargetMs(step: Step): number {
  switch (step.kind) {
    case undefined:
    case 'see':
      return step.holdMs ?? DEFAULTS.holdMs;
    case 'wait':
      return step.durationMs;
    case 'confirm':
      return 0;
    default:
      return assertNever(step);
  }
}
