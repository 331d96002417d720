import { checkStep, regionRect, type Box, type Rect, type Scene } from './predicates';
import type { Region, RegionName, Step } from './types';

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
  readonly target?: { readonly kind: 'arrow'; readonly from: Point; readonly to: Point } | { readonly kind: 'zone'; readonly rect: Rect };
}

const centre = (b: Rect): Point => ({ x: b.x + b.w / 2, y: b.y + b.h / 2 });

const REGION_WORDS: Record<RegionName, string> = {
  'left-half': 'the left half of the view',
  'right-half': 'the right half of the view',
  'top-half': 'the top half of the view',
  'bottom-half': 'the bottom half of the view',
  center: 'the middle of the view',
};
const regionWords = (r: Region) => (typeof r === 'string' ? REGION_WORDS[r] : 'the marked area');

/** Where `a` is relative to `b`, in words ("left of", "above", …). */
export function describePosition(a: Rect, b: Rect): string {
  const dx = centre(a).x - centre(b).x;
  const dy = centre(a).y - centre(b).y;
  if (Math.abs(dx) >= Math.abs(dy)) return dx < 0 ? 'left of' : 'right of';
  return dy < 0 ? 'above' : 'below';
}

/** Builds the instruction for a step from one frame's detections: which box to look at, where it must go. */
export function instructionFor(step: Step, stepIndex: number, scene: Scene): Instruction {
  const check = checkStep(step, scene);
  const base = { step: stepIndex, highlight: check.relevant };
  const missing = check.missing[0];
  if (missing) {
    const more = missing.need - missing.have;
    const text =
      missing.have === 0
        ? `Bring ${missing.need > 1 ? `${missing.need} ${missing.label}s` : `a ${missing.label}`} into view`
        : `${more} more ${missing.label}${more > 1 ? 's' : ''} needed in view`;
    return { ...base, text, met: false };
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
      const from = centre(s);
      const margin = 0.1 * Math.max(s.w, s.h);
      const to: Point =
        rel.relation === 'right-of' ? { x: o.x + o.w + s.w / 2 + margin, y: from.y }
        : rel.relation === 'left-of' ? { x: o.x - s.w / 2 - margin, y: from.y }
        : rel.relation === 'above' ? { x: from.x, y: o.y - s.h / 2 - margin }
        : rel.relation === 'below' ? { x: from.x, y: o.y + o.h + s.h / 2 + margin }
        : centre(o);
      const clamp = (p: Point): Point => ({ x: Math.min(scene.width, Math.max(0, p.x)), y: Math.min(scene.height, Math.max(0, p.y)) });
      const move =
        rel.relation === 'near' ? `move it closer to the ${rel.object}`
        : rel.relation === 'right-of' ? 'move it right'
        : rel.relation === 'left-of' ? 'move it left'
        : rel.relation === 'above' ? 'move it up'
        : 'move it down';
      const where = rel.relation === 'near' ? `far from the ${rel.object}` : `${describePosition(s, o)} the ${rel.object}`;
      return { ...base, met: false, focus: s, text: `The ${rel.subject} is ${where} — ${move}`, target: { kind: 'arrow', from, to: clamp(to) } };
    }
  }
  return { ...base, text: step.instruction, met: check.met };
}
