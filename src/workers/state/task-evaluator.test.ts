import { describe, expect, it } from 'vitest';
import { COCO_LABELS } from '../../model/labels';
import type { Detection } from '../../model/decode';
import type { Task } from '../../task/types';
import { TaskJudge, type Sighting } from './task-evaluator';

const TASK: Task = {
  id: 'cup-right',
  title: 'Cup to the right of the laptop',
  steps: [
    { instruction: 'Put the laptop in view', require: [{ label: 'laptop' }], holdMs: 400 },
    { instruction: 'Put the cup to the right of the laptop', require: [{ label: 'laptop' }, { label: 'cup' }], relations: [{ subject: 'cup', relation: 'right-of', object: 'laptop' }], holdMs: 400 },
  ],
};

const det = (label: string, x: number, y: number, w: number, h: number, score = 0.8): Detection => ({ label, classId: COCO_LABELS.indexOf(label), score, x, y, w, h });
const laptop = det('laptop', 200, 150, 240, 160);
/** The pool's frames at 10 fps: seq n captured at 100·n ms. */
const seen = (seq: number, detections: Detection[]): Sighting => ({ seq, captureTs: seq * 100, width: 640, height: 480, detections, uncertain: [] });

function judge() {
  const j = new TaskJudge({ labels: COCO_LABELS, scoreThreshold: 0.3, minHits: 3 });
  j.control({ type: 'task', task: TASK, step: 0 });
  return j;
}

describe('TaskJudge on the pool\'s detections', () => {
  it('judges only what it was told since the last verdict, completes a held step, and gives the next step\'s breakdown with it', () => {
    const j = judge();
    // Asked before anything was seen: nothing to judge, nothing to show.
    expect(j.judge(50)).toEqual({ task: null, judgedSeq: 0, instruction: null, breakdown: null });
    const events: string[] = [];
    for (let seq = 1; seq <= 12; seq++) {
      j.observe(seen(seq, [laptop]));
      const v = j.judge(seq * 100 + 30);
      expect(v.judgedSeq).toBe(seq);
      events.push(v.task!.type);
      if (v.task!.type === 'completed_task') {
        // The breakdown is already the next step's, on the same frame: the cup is missing.
        expect(v.instruction).toMatchObject({ step: 1, met: false, text: 'Bring a cup into view' });
        expect(v.breakdown).toMatchObject({ met: false, missing: [{ label: 'cup', need: 1, have: 0 }], relations: [{ holds: false }] });
        break;
      }
      // A tick with nothing new: no verdict, no breakdown (the screen keeps the last).
      expect(j.judge(seq * 100 + 60)).toEqual({ task: null, judgedSeq: seq, instruction: null, breakdown: null });
    }
    // The first frame's objects start confirmed (as ByteTrack does); held from seq 1, 400 ms later (seq 5) it completes.
    expect(events).toEqual(['executing_task', 'executing_task', 'executing_task', 'executing_task', 'completed_task']);
  });

  it("the breakdown names the judge's own boxes for the failed relation, with the arrow to where it would hold", () => {
    const j = judge();
    j.control({ type: 'task', task: TASK, step: 1 });
    const cupLeft = det('cup', 60, 200, 50, 60);
    let v;
    for (let seq = 1; seq <= 4; seq++) {
      j.observe(seen(seq, [laptop, cupLeft]));
      v = j.judge(seq * 100);
    }
    expect(v!.instruction).toMatchObject({ step: 1, met: false, text: 'The cup is left of the laptop — move it right', focus: { label: 'cup', x: 60 }, target: { kind: 'arrow', relation: 'right-of', anchor: { label: 'laptop', x: 200 } } });
    // The breakdown the words come from: every requirement there, the one relation failing, with the tracked pair it judged.
    expect(v!.breakdown).toMatchObject({ met: false, missing: [], excess: [], relations: [{ holds: false, subject: { label: 'cup', x: 60 }, object: { label: 'laptop', x: 200 } }] });
    expect(v!.breakdown!.relevant.map((b) => b.label).sort()).toEqual(['cup', 'laptop']);
  });

  it('applies a command at the next frame, even with nothing new seen, and never lets task time run backwards', () => {
    const j = judge();
    j.observe(seen(1, []));
    j.judge(120);
    j.control({ type: 'command', command: { type: 'next', step: 0 } });
    const v = j.judge(180);
    expect(v.task).toMatchObject({ type: 'completed_task', completedStep: 0, nextStep: 1, by: 'skipped' });
    // A frame captured before the command's time (seq 1's 100 ms stands; a stale 50 ms cannot go back).
    j.observe({ ...seen(2, [laptop]), captureTs: 50 });
    expect(j.judge(200).task).toMatchObject({ type: 'executing_task', step: 1, heldMs: 0 });
  });

  it('refuses a task with labels the model lacks, on every verdict', () => {
    const j = new TaskJudge({ labels: ['bolt', 'nut'], scoreThreshold: 0.3, minHits: 3 });
    j.control({ type: 'task', task: TASK, step: 0 });
    j.observe(seen(1, []));
    expect(j.judge(100).task).toMatchObject({ type: 'error', message: expect.stringContaining('laptop') });
  });
});
