import { assertNever } from '../util/assert-never';
import type { VisionResult } from '../vision/vision-pipeline';
import { clip, labelCounts } from '../sync/payloads';
import type { Recorder } from '../sync/recorder';
import type { CameraSessionEnd } from '../sync/recorded';
import type { Instruction } from '../task/instructions';

const POOL_MEMORY = 16;

/**
 * What a live session records: every task verdict, each new instruction (the same object the
 * person sees and hears, when its words change), every error.
 */
export class LiveRecord {
  private lastInstruction = '';
  /** What the pool saw on its last few frames: a judge without a model judges one of them. */
  private readonly poolCounts = new Map<number, Record<string, number>>();

  constructor(readonly recorder: Recorder) {}

  onResult(r: VisionResult, taskId: string | undefined, step: number | undefined): void {
    if (r.type === 'error') return this.recorder.record('error', { role: r.role, worker: r.workerId, seq: r.seq, message: clip(r.message) });
    const o = r.output;
    switch (o.kind) {
      case 'probe':
        return;
      case 'detections':
        if (!('task' in o)) this.rememberPool(r.seq, labelCounts(o.detections));
        else if (o.task) this.recorder.record('state', { task: taskId, step, frame: r.seq, event: o.task, objects: labelCounts(o.detections) });
        return;
      case 'verdict':
        // The frame judged is the pool's: the record names it and what was seen on it.
        if (o.task) this.recorder.record('state', { task: taskId, step, frame: o.judgedSeq, event: o.task, objects: this.poolCounts.get(o.judgedSeq) ?? {} });
        return;
      default:
        return assertNever(o);
    }
  }

  private rememberPool(seq: number, counts: Record<string, number>): void {
    this.poolCounts.set(seq, counts);
    // Verdicts follow the pool's results within a frame or two: a short memory is enough (oldest first out).
    if (this.poolCounts.size > POOL_MEMORY) this.poolCounts.delete(this.poolCounts.keys().next().value!);
  }

  onInstruction(ins: Instruction, taskId: string | undefined, frame: number): void {
    if (ins.text === this.lastInstruction) return;
    this.lastInstruction = ins.text;
    this.recorder.record('instruction', { task: taskId, step: ins.step, frame, text: clip(ins.text), met: ins.met, focus: ins.focus, target: ins.target });
  }

  end(summary: CameraSessionEnd): Promise<void> {
    return this.recorder.end(summary);
  }
}
