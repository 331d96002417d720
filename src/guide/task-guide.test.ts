import { describe, expect, it } from 'vitest';
import type { TaskEvent } from '../task/machine';
import type { Task } from '../task/types';
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
const verdict = (task: TaskEvent): VisionResult => ({
  role: 'state',
  type: 'output',
  workerId: 'state-1',
  seq: ++seq,
  captureTs: 1000 + seq * 200,
  width: 640,
  height: 480,
  latencyMs: 120,
  processMs: 90,
  output: { kind: 'detections', detections: [], uncertain: [], provider: 'wasm', preprocessMs: 5, inferenceMs: 80, decodeMs: 2, task },
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
