import { describe, expect, it } from 'vitest';
import type { TaskEvent } from '../task/machine';
import type { Task } from '../task/types';
import type { Instruction } from '../task/instructions';
import type { VisionPipeline, VisionResult } from '../vision/vision-pipeline';
import { TaskGuide } from './task-guide';

const TASK: Task = {
  id: 'bench-prep',
  title: 'Prepare the bench',
  steps: [
    { instruction: 'Put the bottle in view', require: [{ label: 'bottle' }] },
    { kind: 'confirm', instruction: 'Wipe the bench, then say next' },
    { instruction: 'Take the bottle away', require: [{ label: 'bottle', maxCount: 0 }] },
  ],
};

/** What the guide tells the pipeline: messages sent to running workers, and what a restarted one would get. */
function fakePipeline() {
  const sent: unknown[] = [];
  let replay: unknown;
  const pipeline = {
    control(_role: string, msg: unknown, again: unknown = msg) {
      sent.push(msg);
      replay = again;
    },
    replayControl(_role: string, msg: unknown) {
      replay = msg;
    },
  };
  return { pipeline: pipeline as unknown as VisionPipeline, sent, replayed: () => replay };
}

let seq = 0;
const verdict = (task: TaskEvent | null, instruction: Instruction | null = null): VisionResult => ({
  role: 'state',
  type: 'output',
  workerId: 'state-1',
  seq: ++seq,
  captureTs: 1000 + seq * 200,
  width: 640,
  height: 480,
  latencyMs: 120,
  processMs: 90,
  output: { kind: 'verdict', task, judgedSeq: seq - 1, instruction, breakdown: null },
});

describe('TaskGuide and a restarted state worker', () => {
  it('after the worker completes a step on its own, a replacement resumes at the new step, not the one last sent', async () => {
    const guide = new TaskGuide();
    guide.tasks = [TASK];
    const { pipeline, sent, replayed } = fakePipeline();
    await guide.select(TASK.id);
    guide.attach(pipeline);
    expect(sent.at(-1)).toEqual({ type: 'task', task: TASK, step: 0 });

    guide.onResult(verdict({ type: 'completed_task', completedStep: 0, nextStep: 1, stepMs: 1400, by: 'seen' }));
    expect(guide.session!.current.step).toBe(1);
    // Nothing new is sent to the running worker (it moved on by itself); a replacement starts at step 1.
    expect(sent).toHaveLength(1);
    expect(replayed()).toEqual({ type: 'task', task: TASK, step: 1 });

    // A stale verdict about a step already left changes nothing.
    guide.onResult(verdict({ type: 'completed_task', completedStep: 0, nextStep: 1, stepMs: 1400, by: 'seen' }));
    expect(replayed()).toEqual({ type: 'task', task: TASK, step: 1 });

    guide.onResult(verdict({ type: 'completed_task', completedStep: 1, nextStep: 2, stepMs: 5200, by: 'confirmed' }));
    expect(replayed()).toEqual({ type: 'task', task: TASK, step: 2 });
  });
});

describe('TaskGuide shows and says only what the judge said', () => {
  const bottle = { id: 4, label: 'bottle', score: 0.8, x: 100, y: 80, w: 40, h: 120 };
  const take = (text: string, step = 2, met = false): Instruction => ({ step, text, met, highlight: [bottle], remove: [bottle] });

  it("takes the verdict's breakdown as the instruction, says it once when its words change, and ignores one for another step", async () => {
    const guide = new TaskGuide();
    guide.tasks = [TASK];
    const said: string[] = [];
    guide.addEventListener('announce', (e) => said.push(`${e.detail.kind}: ${e.detail.text}`));
    await guide.select(TASK.id);
    guide.attach(fakePipeline().pipeline);
    guide.onResult(verdict({ type: 'completed_task', completedStep: 0, nextStep: 1, stepMs: 1400, by: 'seen' }));
    guide.onResult(verdict({ type: 'completed_task', completedStep: 1, nextStep: 2, stepMs: 5200, by: 'confirmed' }));
    said.length = 0;

    guide.onResult(verdict({ type: 'executing_task', step: 2, heldMs: 0, holdMs: 1000, missing: [], recovered: false, done: false }, take('Remove the bottle from view')));
    expect(guide.instruction?.text).toBe('Remove the bottle from view');
    expect(guide.instructionSeq).toBe(seq - 1);
    // The same words again (a later frame, the bottle still there): nothing new is said.
    guide.onResult(verdict(null, take('Remove the bottle from view')));
    // A breakdown for a step the page has left (step 1) is not shown.
    guide.onResult(verdict(null, take('Wipe the bench, then say next', 1)));
    expect(guide.instruction?.text).toBe('Remove the bottle from view');
    expect(said).toEqual(['instruction: Remove the bottle from view']);

    // A verdict with no breakdown (nothing new judged) leaves the instruction as it was.
    guide.onResult(verdict(null));
    expect(guide.instruction?.text).toBe('Remove the bottle from view');
  });
});
