import { instructionFor } from '../../task/instructions';
import type { StepSnapshot } from '../../shared/protocol';
import type { Analyst } from '../shared/detector-processor';

/** Builds instructions from a read-only snapshot of the current step; never changes task state. */
export function createInstructor(): Analyst {
  let snapshot: StepSnapshot | null = null;
  return {
    control(msg) {
      if (msg.type === 'step') snapshot = msg.snapshot && Object.freeze(msg.snapshot);
    },
    analyse(detections, _uncertain, meta) {
      if (!snapshot) return {};
      return { instruction: instructionFor(snapshot.step, snapshot.index, { width: meta.width, height: meta.height, detections }) };
    },
  };
}
