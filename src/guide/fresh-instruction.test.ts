import { describe, expect, it } from 'vitest';
import { instructionFor } from '../task/instructions';
import type { Box } from '../task/predicates';
import type { SeeStep } from '../task/types';
import { atFreshPlaces, matchFresh } from './fresh-instruction';

const FRAME = { width: 640, height: 480 };
const box = (id: number, label: string, x: number, y: number, w: number, h: number): Box => ({ id, label, score: 0.8, x, y, w, h });

describe('the judge\'s boxes at the freshest places', () => {
  it('matches by label and overlap, one to one, never by track id (the two trackers number differently)', () => {
    // Two cups side by side: the judge's #1 (left) and #2 (right); the page calls them #7 (right) and #9 (left), both moved 12 px.
    const judged = [box(1, 'cup', 100, 200, 50, 60), box(2, 'cup', 170, 200, 50, 60)];
    const fresh = [box(7, 'cup', 182, 200, 50, 60), box(9, 'cup', 112, 200, 50, 60), box(3, 'bowl', 100, 200, 50, 60)];
    const m = matchFresh(judged, fresh);
    expect(m.get(judged[0]!)?.id).toBe(9);
    expect(m.get(judged[1]!)?.id).toBe(7);
  });

  it('moves the arrow with the objects but keeps the words and the verdict', () => {
    const step: SeeStep = { instruction: 'Put the cup to the right of the laptop', require: [{ label: 'laptop' }, { label: 'cup' }], relations: [{ subject: 'cup', relation: 'right-of', object: 'laptop' }] };
    const laptop = box(1, 'laptop', 200, 150, 240, 160);
    const cup = box(2, 'cup', 60, 200, 50, 60);
    const judged = instructionFor(step, 0, { ...FRAME, detections: [laptop, cup] });
    expect(judged.target).toMatchObject({ kind: 'arrow', from: { x: 85, y: 230 } });
    // Since the judged frame the cup moved 30 px right and the laptop 10 px left.
    const now = atFreshPlaces(judged, [box(5, 'laptop', 190, 150, 240, 160), box(6, 'cup', 90, 200, 50, 60)], FRAME);
    expect(now.text).toBe(judged.text);
    expect(now.met).toBe(false);
    expect(now.focus?.id).toBe(6);
    expect(now.highlight.map((b) => b.id).sort()).toEqual([5, 6]);
    // From the cup's centre now to just right of the laptop's right edge now (430 + 25 + 6).
    expect(now.target).toMatchObject({ kind: 'arrow', from: { x: 115, y: 230 }, to: { x: 461, y: 230 } });
  });

  it('keeps a box the page no longer tracks where the judge saw it, and marks the same boxes to remove', () => {
    const step: SeeStep = { instruction: 'Leave two apples', require: [{ label: 'apple', minCount: 2, maxCount: 2 }] };
    const apples = [box(1, 'apple', 100, 300, 40, 40), box(2, 'apple', 200, 300, 40, 40), box(3, 'apple', 300, 300, 40, 40)];
    const judged = instructionFor(step, 0, { ...FRAME, detections: apples });
    expect(judged.text).toBe('Take 1 apple away');
    // The page lost the third apple (a hand over it) and sees the other two 4 px lower.
    const now = atFreshPlaces(judged, [box(11, 'apple', 100, 304, 40, 40), box(12, 'apple', 200, 304, 40, 40)], FRAME);
    expect(now.remove?.map((b) => b.id)).toEqual([11, 12, 3]);
    expect(now.remove?.[2]).toEqual(apples[2]);
  });
});
