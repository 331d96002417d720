import { arrowFor, centre, type Instruction } from '../task/instructions';
import type { Box } from '../task/predicates';
import { assign } from '../tracking/assignment';

/**
 * How far (in the judged box's own diagonals) an object's centre may have moved between the
 * judged frame and the freshest one. The judged frame is a frame or two older, and a hand moves
 * a small object more than its width in that time, so overlap alone would lose it.
 */
export const SAME_OBJECT_REACH = 1;

/**
 * The judge's boxes matched to the freshest ones: the same label, the centre moved less than
 * SAME_OBJECT_REACH diagonals, one to one with the least movement overall. Matched by place, not
 * by track id: the judge tracks on its own (and may run another model), so its ids are not the page's.
 */
export function matchFresh(judged: readonly Box[], fresh: readonly Box[]): Map<Box, Box> {
  const moved = (j: Box, f: Box) => Math.hypot(centre(j).x - centre(f).x, centre(j).y - centre(f).y) / Math.max(1, Math.hypot(j.w, j.h));
  const cost = judged.map((j) => fresh.map((f) => (f.label === j.label ? moved(j, f) : Infinity)));
  const pairs = assign(cost, SAME_OBJECT_REACH);
  return new Map(pairs.map(([j, f]) => [judged[j]!, fresh[f]!]));
}

/**
 * The judge's instruction, drawn where the objects are now: each box it is about is replaced
 * by the freshest tracked box of the same object (an object the page no longer tracks stays
 * where the judge saw it), and an arrow is redrawn from the object's place now to where its
 * relation would hold now. The words, what holds and what is missing stay the judge's: this
 * moves the drawing, it judges nothing.
 */
export function atFreshPlaces(ins: Instruction, fresh: readonly Box[], frame: { readonly width: number; readonly height: number }): Instruction {
  const judged = new Map<string, Box>();
  const key = (b: Box) => `${b.id ?? ''}|${b.label}|${b.x}|${b.y}|${b.w}|${b.h}`;
  const anchor = ins.target?.kind === 'arrow' ? ins.target.anchor : undefined;
  for (const b of [...ins.highlight, ...(ins.focus ? [ins.focus] : []), ...(ins.remove ?? []), ...(anchor ? [anchor] : [])]) judged.set(key(b), b);
  if (judged.size === 0) return ins;
  const unique = [...judged.values()];
  const match = matchFresh(unique, fresh);
  const now = (b: Box) => match.get(judged.get(key(b))!) ?? b;
  const focus = ins.focus && now(ins.focus);
  const target = ins.target?.kind === 'arrow' && focus ? arrowFor(ins.target.relation, focus, now(ins.target.anchor), frame) : ins.target;
  return {
    ...ins,
    highlight: ins.highlight.map(now),
    ...(focus ? { focus } : {}),
    ...(ins.remove ? { remove: ins.remove.map(now) } : {}),
    ...(target ? { target } : {}),
  };
}
