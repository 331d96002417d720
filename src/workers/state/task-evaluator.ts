import { COCO_LABELS } from '../../model/labels';
import { advance, command, startState, type MachineState, type TaskCommand } from '../../task/machine';
import { trackedScene } from '../../task/scene';
import { assertNever, type Task } from '../../task/types';
import { validateTask } from '../../task/validate';
import { Tracker } from '../../tracking/tracker';
import type { WorkerInit } from '../../pipeline/worker';
import type { ProcessorConfig, TaskControl } from '../../shared/protocol';
import type { TaskEvent } from '../../task/machine';
import type { Analyst } from '../detector/detector-processor';

/**
 * The task state lives here, in the one state worker: the current task, its step and
 * hysteresis, advanced on each (newest) frame. Time is the frame's capture time, so the
 * verdicts follow what the camera saw, not when the worker got to it. The step is judged on
 * tracked objects: the worker tracks its own detections (frames arrive in capture order, at a
 * few per second), so an object missed on one frame or hovering at the score threshold does not
 * flip the verdict, and "two cups" means two tracked cups.
 */
export function createTaskEvaluator(init: WorkerInit<ProcessorConfig>): Analyst<{ task: TaskEvent | null }, TaskControl> {
  const p = init.config;
  const scoreThreshold = p.kind === 'detector' ? (p.scoreThreshold ?? p.manifest.scoreThreshold) : 0;
  let task: Task | null = null;
  let state: MachineState | undefined;
  let resumeAt = 0;
  let rejected: string | undefined;
  /** Commands heard since the last frame, applied in order at the next frame's capture time. */
  let commands: TaskCommand[] = [];
  // A few frames a second: two sightings in a row confirm an object (the page's tracker, at camera rate, wants three).
  const tracker = new Tracker({ highScore: scoreThreshold, newTrackScore: scoreThreshold, minHits: 2 });
  // Judged with the labels of the model this worker runs; the probe detects nothing, so any COCO task is as good as another there.
  const labels = p.kind === 'detector' ? p.manifest.labels : COCO_LABELS;
  return {
    control(msg) {
      switch (msg.type) {
        case 'task': {
          // The page validated it; a worker still refuses a malformed task rather than crash on it.
          const problems = msg.task ? validateTask(msg.task, labels) : [];
          rejected = problems.length ? `task refused: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}` : undefined;
          task = rejected ? null : msg.task;
          state = undefined;
          resumeAt = msg.step;
          commands = [];
          return;
        }
        case 'command':
          commands.push(msg.command);
          return;
        default:
          return assertNever(msg);
      }
    },
    analyse(detections, uncertain, meta) {
      const tracks = tracker.update([...detections, ...uncertain], meta.captureTs);
      if (rejected) return { task: { type: 'error', message: rejected } };
      if (!task) return { task: null };
      state ??= startState(meta.captureTs, resumeAt, task);
      // A person's command is this frame's verdict; one meant for a step already left is dropped.
      // At most one can apply: each names the step the person saw, and the first that applies moves on.
      const pending = commands;
      commands = [];
      let commanded: TaskEvent | undefined;
      for (const c of pending) {
        const r = command(task, state, c, meta.captureTs);
        if (r && !commanded) [state, commanded] = [r.state, r.event];
      }
      if (commanded) return { task: commanded };
      const r = advance(task, state, trackedScene(tracks, meta.width, meta.height), meta.captureTs);
      state = r.state;
      return { task: r.event };
    },
  };
}
