import { assertNever } from '../util/assert-never';
import type { Rect } from '../model/rect';
import type { Detection } from '../model/decode';
import { DEFAULTS, type Region, type Relation, type Requirement, type SeeStep } from './types';

/** A detected object in frame pixels (x, y: top-left): what predicates need of a Detection. */
export type Box = Pick<Detection, 'label' | 'score' | 'x' | 'y' | 'w' | 'h'> & {
  /** The tracker's identity for this object, when the scene is tracked. */
  readonly id?: number;
  /**
   * How sure the detector is now (the track's smoothed score), when the scene is tracked;
   * `score` is then the most it has been. Absent: a single frame's box, where the two are one.
   */
  readonly scoreNow?: number;
};

export interface Scene {
  readonly width: number;
  readonly height: number;
  readonly detections: readonly Box[];
}

const cx = (b: Rect) => b.x + b.w / 2;
const cy = (b: Rect) => b.y + b.h / 2;

export function objectsOf(scene: Scene, label: string, minScore: number = DEFAULTS.minScore): Box[] {
  return scene.detections.filter((d) => d.label === label && d.score >= minScore).sort((a, b) => b.score - a.score);
}

/** A named or explicit region in frame pixels. */
export function regionRect(region: Region, scene: Scene): Rect {
  const { width: W, height: H } = scene;
  if (typeof region !== 'string') return { x: region.x * W, y: region.y * H, w: region.w * W, h: region.h * H };
  switch (region) {
    case 'left-half': return { x: 0, y: 0, w: W / 2, h: H };
    case 'right-half': return { x: W / 2, y: 0, w: W / 2, h: H };
    case 'top-half': return { x: 0, y: 0, w: W, h: H / 2 };
    case 'bottom-half': return { x: 0, y: H / 2, w: W, h: H / 2 };
    case 'center': return { x: W / 4, y: H / 4, w: W / 2, h: H / 2 };
    case 'left-third': return { x: 0, y: 0, w: W / 3, h: H };
    case 'right-third': return { x: (2 * W) / 3, y: 0, w: W / 3, h: H };
    case 'top-third': return { x: 0, y: 0, w: W, h: H / 3 };
    case 'bottom-third': return { x: 0, y: (2 * H) / 3, w: W, h: H / 3 };
    default:
      return assertNever(region);
  }
}

/** The gap between two boxes (0 when they touch or overlap). */
export function gap(a: Rect, b: Rect): number {
  const dx = Math.max(0, Math.max(a.x, b.x) - Math.min(a.x + a.w, b.x + b.w));
  const dy = Math.max(0, Math.max(a.y, b.y) - Math.min(a.y + a.h, b.y + b.h));
  return Math.hypot(dx, dy);
}

/**
 * Spatial relations, judged by the subject's centre against the object's edges, so that
 * "left of" means clearly left of, not merely overlapping on the left:
 * - left-of / right-of: the subject's centre is beyond the object's left / right edge;
 * - above / below: the subject's centre is beyond the object's top / bottom edge;
 * - near: the boxes are at most a tenth of the frame's diagonal apart.
 */
export function related(kind: Exclude<Relation['relation'], 'inside'>, a: Rect, b: Rect, scene: Scene): boolean {
  switch (kind) {
    case 'left-of': return cx(a) < b.x;
    case 'right-of': return cx(a) > b.x + b.w;
    case 'above': return cy(a) < b.y;
    case 'below': return cy(a) > b.y + b.h;
    case 'near': return gap(a, b) <= 0.1 * Math.hypot(scene.width, scene.height);
    default:
      return assertNever(kind);
  }
}

export function inside(a: Rect, region: Region, scene: Scene): boolean {
  const r = regionRect(region, scene);
  return cx(a) >= r.x && cx(a) <= r.x + r.w && cy(a) >= r.y && cy(a) <= r.y + r.h;
}

/** Objects of a label, at least `minScore`, and (when scoped) with their centre in `region`: what a requirement counts. */
export function countedObjects(scene: Scene, label: string, minScore: number, region?: Region): Box[] {
  const found = objectsOf(scene, label, minScore);
  return region === undefined ? found : found.filter((b) => inside(b, region, scene));
}

/** The counts a requirement allows: `maxCount` alone means "at most" (from 0), `minCount` alone "at least" (to any). */
export function countRange(r: Requirement): { readonly min: number; readonly max: number } {
  const min = r.minCount ?? (r.maxCount !== undefined ? 0 : DEFAULTS.minCount);
  return { min, max: r.maxCount ?? Infinity };
}

export interface Missing {
  readonly label: string;
  readonly need: number;
  readonly have: number;
  readonly region?: Region;
}

/** Too many in view: `boxes` are the ones counted, any `have − max` of which must go. */
export interface Excess {
  readonly label: string;
  readonly max: number;
  readonly have: number;
  readonly boxes: readonly Box[];
  readonly region?: Region;
}

export interface RelationCheck {
  readonly relation: Relation;
  readonly holds: boolean;
  /** The boxes judged: the pair that satisfies it, or the most confident pair that does not. */
  readonly subject?: Box;
  readonly object?: Box;
}

export interface StepCheck {
  readonly met: boolean;
  readonly missing: readonly Missing[];
  readonly excess: readonly Excess[];
  readonly relations: readonly RelationCheck[];
  /** The objects this step is about, as seen in this frame. */
  readonly relevant: readonly Box[];
}

function minScoreFor(step: SeeStep, label: string): number {
  return step.require.find((r: Requirement) => r.label === label)?.minScore ?? DEFAULTS.minScore;
}

/** Evaluates one step's completion condition on one frame's detections. */
export function checkStep(step: SeeStep, scene: Scene): StepCheck {
  const missing: Missing[] = [];
  const excess: Excess[] = [];
  const relevant = new Set<Box>();
  for (const r of step.require) {
    const found = countedObjects(scene, r.label, r.minScore ?? DEFAULTS.minScore, r.region);
    found.forEach((b) => relevant.add(b));
    const { min, max } = countRange(r);
    const scope = r.region === undefined ? {} : { region: r.region };
    if (found.length < min) missing.push({ label: r.label, need: min, have: found.length, ...scope });
    if (found.length > max) excess.push({ label: r.label, max, have: found.length, boxes: found, ...scope });
  }
  const relations = (step.relations ?? []).map((rel): RelationCheck => {
    if (rel.relation === 'inside') {
      const subjects = objectsOf(scene, rel.subject, minScoreFor(step, rel.subject));
      const hit = subjects.find((s) => inside(s, rel.region, scene));
      return { relation: rel, holds: !!hit, subject: hit ?? subjects[0] };
    }
    // A scoped relation only looks at objects in its region, as a scoped requirement counts only those.
    const subjects = countedObjects(scene, rel.subject, minScoreFor(step, rel.subject), rel.region);
    const objects = countedObjects(scene, rel.object, minScoreFor(step, rel.object), rel.region);
    for (const s of subjects) for (const o of objects) if (s !== o && related(rel.relation, s, o, scene)) return { relation: rel, holds: true, subject: s, object: o };
    const s = subjects[0];
    const o = objects.find((x) => x !== s);
    return { relation: rel, holds: false, subject: s, object: o };
  });
  return { met: missing.length === 0 && excess.length === 0 && relations.every((r) => r.holds), missing, excess, relations, relevant: [...relevant] };
}
