// Duplicate tracks: one object that the detector boxes twice, typically the whole object and a
// part of it (a person and their upper body, a table and its near half). Per-class NMS keeps both
// boxes when their IoU is below its threshold, which a part box inside a whole box easily is, and
// the tracker then follows the object under two identities. The test for "the same object" here is
// geometric and temporal, because the tracker has no appearance model:
//  - the smaller box lies almost wholly inside the larger (intersection over the smaller area,
//    not IoU: a part box inside a whole box has a low IoU but is all inside);
//  - both boxes were seen (matched) in the same update: an object hidden behind another is not
//    seen, so a person walking in front of another never makes the hidden one a duplicate;
//  - and that holds on every update for a while, with the two boxes keeping their relative place:
//    a duplicate moves with its object, while a person passing in front of another slides across
//    them, and two adjacent objects (two chairs, one behind the other) overlap only part of the
//    time or only partly.
import type { Rect } from '../model/rect';

export interface DuplicateOptions {
  /**
   * Smallest share of the smaller box that must lie inside the larger. 0.8: a part box inside its
   * whole box measures 0.9–1.0 even with the detector's jitter; two objects side by side (two cups)
   * measure near 0, and one chair standing partly behind another 0.4–0.7.
   */
  readonly duplicateOverlap: number;
  /**
   * How long the two boxes must overlap so, on every update, before the newer track is retired.
   * 500 ms: longer than the few frames in which two crossing objects line up, short enough that a
   * duplicate identity is gone within half a second of appearing.
   */
  readonly duplicateMs: number;
  /** And on at least this many updates (a slow consumer, a few frames a second, still needs evidence). */
  readonly duplicateUpdates: number;
  /**
   * How far the smaller box's centre may move relative to the larger's during that time, as a share
   * of the smaller box's width (horizontally) and height (vertically). 0.25: a detector's part box
   * jitters by about a tenth of its size around its object; an object passing another moves by its
   * own width in a fraction of a second.
   */
  readonly duplicateDrift: number;
}

export const DUPLICATE_DEFAULTS: DuplicateOptions = Object.freeze({
  duplicateOverlap: 0.8,
  duplicateMs: 500,
  duplicateUpdates: 3,
  duplicateDrift: 0.25,
});

/** Intersection over the area of the smaller box: 1 when one box lies wholly inside the other. */
export function overlapOfSmaller(a: Rect, b: Rect): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const smaller = Math.min(a.w * a.h, b.w * b.h);
  return smaller > 0 ? (ix * iy) / smaller : 0;
}

/** A pair of tracks whose boxes have overlapped as a duplicate would, on every update since `sinceMs`. */
export interface DuplicateRun {
  readonly sinceMs: number;
  readonly updates: number;
  /** The smaller box's centre relative to the larger's when the run began, in units of the smaller box's size. */
  readonly dx: number;
  readonly dy: number;
}

/**
 * One update of a pair of same-label tracks that were both matched in it, with their boxes `a` and
 * `b`: the run continued, a new run, or undefined when the boxes do not overlap as a duplicate's
 * would (the run, if any, is over). Pairs not both matched in an update have no run either.
 */
export function continueRun(run: DuplicateRun | undefined, a: Rect, b: Rect, ms: number, o: DuplicateOptions): DuplicateRun | undefined {
  if (overlapOfSmaller(a, b) < o.duplicateOverlap) return undefined;
  const [small, large] = a.w * a.h <= b.w * b.h ? [a, b] : [b, a];
  const dx = (small.x + small.w / 2 - (large.x + large.w / 2)) / small.w;
  const dy = (small.y + small.h / 2 - (large.y + large.h / 2)) / small.h;
  if (run && Math.abs(dx - run.dx) <= o.duplicateDrift && Math.abs(dy - run.dy) <= o.duplicateDrift) return { ...run, updates: run.updates + 1 };
  return { sinceMs: ms, updates: 1, dx, dy };
}

/** Whether a run has gone on long enough to call the two tracks one object. */
export function isDuplicate(run: DuplicateRun, ms: number, o: DuplicateOptions): boolean {
  return run.updates >= o.duplicateUpdates && ms - run.sinceMs >= o.duplicateMs;
}
