import { assertNever } from '../util/assert-never';
import type { Rect } from '../model/rect';
import { checkStep, regionRect, type Box, type Scene, type StepCheck } from './predicates';
import { type Region, type RegionName, type Relation, type SeeStep, type Step } from './types';

/** A relation between two objects (every kind but `inside`, which is about a region). */
export type PairRelation = Exclude<Relation['relation'], 'inside'>;

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** What to tell and show the person for the current step, in frame pixels. */
export interface Instruction {
  readonly step: number;
  readonly text: string;
  /** The step's condition holds on this frame. */
  readonly met: boolean;
  /** Boxes that matter for this step (drawn highlighted; the rest dimmed). */
  readonly highlight: readonly Box[];
  /** The box the person should move, if any. */
  readonly focus?: Box;
  /** Where it must go: an arrow from the object to the spot, or a zone to put it in. */
  readonly target?: Arrow | { readonly kind: 'zone'; readonly rect: Rect };
  /** Boxes of which some or all must be taken away (drawn as "remove"). */
  readonly remove?: readonly Box[];
  /** The regions the step's counts are limited to (drawn as outlined zones). */
  readonly scopes?: readonly Rect[];
}

/** From the object to move (`focus`) to where `relation` to `anchor` would hold. */
export interface Arrow {
  readonly kind: 'arrow';
  readonly from: Point;
  readonly to: Point;
  readonly relation: PairRelation;
  /** The object it must be placed relative to. */
  readonly anchor: Box;
}

export const centre = (b: Rect): Point => ({ x: b.x + b.w / 2, y: b.y + b.h / 2 });

/** The arrow for moving `s` so that `relation` to `o` holds, clamped to the frame. */
export function arrowFor(relation: PairRelation, s: Box, o: Box, frame: { readonly width: number; readonly height: number }): Arrow {
  const from = centre(s);
  const margin = 0.1 * Math.max(s.w, s.h);
  const to: Point =
    relation === 'right-of' ? { x: o.x + o.w + s.w / 2 + margin, y: from.y }
    : relation === 'left-of' ? { x: o.x - s.w / 2 - margin, y: from.y }
    : relation === 'above' ? { x: from.x, y: o.y - s.h / 2 - margin }
    : relation === 'below' ? { x: from.x, y: o.y + o.h + s.h / 2 + margin }
    : centre(o);
  const clamped = { x: Math.min(frame.width, Math.max(0, to.x)), y: Math.min(frame.height, Math.max(0, to.y)) };
  return { kind: 'arrow', from, to: clamped, relation, anchor: o };
}

const REGION_WORDS: Record<RegionName, string> = {
  'left-half': 'the left half of the view',
  'right-half': 'the right half of the view',
  'top-half': 'the top half of the view',
  'bottom-half': 'the bottom half of the view',
  center: 'the middle of the view',
  'left-third': 'the left third of the view',
  'right-third': 'the right third of the view',
  'top-third': 'the top third of the view',
  'bottom-third': 'the bottom third of the view',
};
const regionWords = (r: Region) => (typeof r === 'string' ? REGION_WORDS[r] : 'the marked area');

/** Where `a` is relative to `b`, in words ("left of", "above", …). */
export function describePosition(a: Rect, b: Rect): string {
  const dx = centre(a).x - centre(b).x;
  const dy = centre(a).y - centre(b).y;
  if (Math.abs(dx) >= Math.abs(dy)) return dx < 0 ? 'left of' : 'right of';
  return dy < 0 ? 'above' : 'below';
}

/** "bottle" → "bottles", "wine glass" → "wine glasses". */
export const plural = (label: string, n: number) => (n === 1 ? label : /(s|sh|ch|x)$/.test(label) ? `${label}es` : `${label}s`);

/** A wait step's words: what to do and for how long (the countdown is shown beside them). */
export const waitText = (instruction: string, durationMs: number) => `${instruction}: ${Math.round(durationMs / 1000)} seconds`;

/**
 * Builds the instruction for a step from one frame's detections: which box to look at, where it
 * must go, what to take away. `check` is the step's evaluation on `scene`, where the caller has it
 * (the judge), so that the condition is evaluated once.
 */
export function instructionFor(step: Step, stepIndex: number, scene: Scene, check?: StepCheck): Instruction {
  switch (step.kind) {
    case 'confirm':
      return { step: stepIndex, text: step.instruction, met: false, highlight: [] };
    case 'wait':
      return { step: stepIndex, text: waitText(step.instruction, step.durationMs), met: false, highlight: [] };
    case undefined:
    case 'see':
      return seeInstruction(step, stepIndex, scene, check ?? checkStep(step, scene));
    default:
      return assertNever(step);
  }
}

function seeInstruction(step: SeeStep, stepIndex: number, scene: Scene, check: StepCheck): Instruction {
  const scoped = [...step.require.map((r) => r.region), ...(step.relations ?? []).map((r) => (r.relation === 'inside' ? undefined : r.region))];
  const scopes = scoped.flatMap((r) => (r === undefined ? [] : [regionRect(r, scene)]));
  const base = { step: stepIndex, highlight: check.relevant, ...(scopes.length ? { scopes } : {}) };
  const missing = check.missing[0];
  if (missing) {
    const more = missing.need - missing.have;
    const where = missing.region === undefined ? 'view' : regionWords(missing.region);
    const text =
      missing.have === 0
        ? `Bring ${missing.need > 1 ? `${missing.need} ${plural(missing.label, missing.need)}` : `a ${missing.label}`} into ${where}`
        : `${more} more ${plural(missing.label, more)} needed in ${where}`;
    return { ...base, text, met: false, ...(missing.region === undefined ? {} : { target: { kind: 'zone', rect: regionRect(missing.region, scene) } }) };
  }
  const excess = check.excess[0];
  if (excess) {
    const fewer = excess.have - excess.max;
    const from = excess.region === undefined ? '' : ` from ${regionWords(excess.region)}`;
    const text =
      excess.max === 0
        ? `Remove the ${excess.have > 1 ? `${excess.have} ${plural(excess.label, excess.have)}` : excess.label} from ${excess.region === undefined ? 'view' : regionWords(excess.region)}`
        : `Take ${fewer} ${plural(excess.label, fewer)} away${from}`;
    return { ...base, text, met: false, remove: excess.boxes };
  }
  const failed = check.relations.find((r) => !r.holds);
  if (failed && failed.subject) {
    const s = failed.subject;
    const rel = failed.relation;
    if (rel.relation === 'inside') {
      const rect = regionRect(rel.region, scene);
      return { ...base, met: false, focus: s, text: `Move the ${rel.subject} into ${regionWords(rel.region)}`, target: { kind: 'zone', rect } };
    }
    const o = failed.object;
    if (o) {
      const move =
        rel.relation === 'near' ? `move it closer to the ${rel.object}`
        : rel.relation === 'right-of' ? 'move it right'
        : rel.relation === 'left-of' ? 'move it left'
        : rel.relation === 'above' ? 'move it up'
        : 'move it down';
      const where = rel.relation === 'near' ? `far from the ${rel.object}` : `${describePosition(s, o)} the ${rel.object}`;
      return { ...base, met: false, focus: s, text: `The ${rel.subject} is ${where} — ${move}`, target: arrowFor(rel.relation, s, o, scene) };
    }
  }
  return { ...base, text: step.instruction, met: check.met };
}
