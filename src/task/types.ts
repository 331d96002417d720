/** A task is data: ordered steps whose completion is a condition over detections. */

/** A screen region, as fractions (0–1) of the frame. */
export const REGION_NAMES = ['left-half', 'right-half', 'top-half', 'bottom-half', 'center'] as const;
export type RegionName = (typeof REGION_NAMES)[number];
export type Region = RegionName | { readonly x: number; readonly y: number; readonly w: number; readonly h: number };

export interface Requirement {
  readonly label: string;
  /** How many must be in view (default 1). */
  readonly minCount?: number;
  /** Detections below this score do not count (default 0.35). */
  readonly minScore?: number;
}

export const RELATION_KINDS = ['left-of', 'right-of', 'above', 'below', 'near', 'inside'] as const;
export type RelationKind = (typeof RELATION_KINDS)[number];

export type Relation =
  | { readonly subject: string; readonly relation: Exclude<RelationKind, 'inside'>; readonly object: string }
  | { readonly subject: string; readonly relation: 'inside'; readonly region: Region };

export interface Step {
  readonly instruction: string;
  readonly require: readonly Requirement[];
  readonly relations?: readonly Relation[];
  /** How long the condition must hold before the step completes (default 1000 ms). */
  readonly holdMs?: number;
}

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

export const DEFAULTS = { minCount: 1, minScore: 0.35, holdMs: 1000, maxAbsentMs: 1500, forbiddenMinMs: 500, forbiddenMinScore: 0.5 } as const;
