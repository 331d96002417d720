import type { VisionResult } from '../vision/vision-pipeline';
import { clip, labelCounts } from '../sync/payloads';
import type { Recorder } from '../sync/recorder';
import type { Instruction } from '../task/instructions';

/**
 * What a live session records: every task verdict, each new instruction (the same object the
 * person sees and hears, when its words change), every error.
 */
export class LiveRecord {
  private lastInstruction = '';

  constructor(readonly recorder: Recorder) {}

  onResult(r: VisionResult, taskId: string | undefined, step: number | undefined): void {
    if (r.type === 'error') return this.recorder.record('error', { role: r.role, worker: r.workerId, seq: r.seq, message: clip(r.message) });
    if (r.output.kind !== 'detections') return;
    if (r.role === 'state' && r.output.task) {
      this.recorder.record('state', { task: taskId, step, frame: r.seq, event: r.output.task, objects: labelCounts(r.output.detections) });
    }
  }

  onInstruction(ins: Instruction, taskId: string | undefined, frame: number): void {
    if (ins.text === this.lastInstruction) return;
    this.lastInstruction = ins.text;
    this.recorder.record('instruction', { task: taskId, step: ins.step, frame, text: clip(ins.text), met: ins.met, focus: ins.focus, target: ins.target });
  }

  end(summary: Record<string, unknown>): Promise<void> {
    return this.recorder.end(summary);
  }
}
