import { COCO_LABELS } from '../../model/labels';
import { advance, startState, type MachineState } from '../../task/machine';
import type { Task } from '../../task/types';
import { validateTask } from '../../task/validate';
import type { Analyst } from '../shared/detector-processor';

/**
 * The task state lives here, in the one state worker: the current task, its step and
 * hysteresis, advanced on each (newest) frame. Time is the frame's capture time, so the
 * verdicts follow what the camera saw, not when the worker got to it.
 */
export function createTaskEvaluator(): Analyst {
  let task: Task | null = null;
  let state: MachineState | undefined;
  let resumeAt = 0;
  let rejected: string | undefined;
  return {
    control(msg) {
      if (msg.type !== 'task') return;
      // The page validated it; a worker still refuses a malformed task rather than crash on it.
      const problems = msg.task ? validateTask(msg.task, COCO_LABELS) : [];
      rejected = problems.length ? `task refused: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}` : undefined;
      task = rejected ? null : msg.task;
      state = undefined;
      resumeAt = msg.step;
    },
    analyse(detections, meta) {
      if (rejected) return { task: { type: 'error', message: rejected } };
      if (!task) return {};
      state ??= startState(meta.captureTs, resumeAt, task);
      const r = advance(task, state, { width: meta.width, height: meta.height, detections }, meta.captureTs);
      state = r.state;
      return { task: r.event };
    },
  };
}
