import type { PipelineResult } from '../pipeline/results';
import type { Outbox } from './outbox';
import type { EventKind } from './protocol';
import type { FrameRow } from '../analysis/export';

/**
 * Turns what the dispatcher delivers into durable events: every task verdict, each new
 * instruction, every error; and the session's start and end. An event counts as emitted
 * once it is in the outbox.
 */
export class Recorder {
  private lastInstruction = '';
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(private readonly outbox: Outbox, readonly sessionId: string, private readonly onError: (m: string) => void) {}

  static async start(outbox: Outbox, info: Record<string, unknown>, onError: (m: string) => void): Promise<Recorder> {
    const sessionId = await outbox.startSession();
    const r = new Recorder(outbox, sessionId, onError);
    r.record('session-start', info);
    return r;
  }

  onResult(r: PipelineResult, taskId: string | undefined, step: number | undefined): void {
    if (r.type === 'error') {
      this.record('error', { role: r.role, worker: r.workerId, seq: r.seq, message: r.message });
      return;
    }
    if (r.output.kind !== 'detections') return;
    if (r.role === 'state' && r.output.task) {
      this.record('state', { task: taskId, step, frame: r.seq, event: r.output.task, objects: r.output.detections.map((d) => d.label) });
    }
    const ins = r.output.instruction;
    if (r.role === 'localization' && ins && ins.text !== this.lastInstruction) {
      this.lastInstruction = ins.text;
      this.record('instruction', { task: taskId, step: ins.step, frame: r.seq, text: ins.text, met: ins.met, focus: ins.focus, target: ins.target });
    }
  }

  /** A video file's frame: what was found in it. */
  onFrame(row: FrameRow): void {
    this.record(row.error ? 'error' : 'detections', { frame: row.frame, time: row.time, ...(row.error ? { message: row.error } : { objects: row.detections.map((d) => ({ label: d.label, score: d.score, box: [d.x, d.y, d.w, d.h] })) }) });
  }

  async end(summary: Record<string, unknown>): Promise<void> {
    this.record('session-end', summary);
    await this.chain;
  }

  private record(kind: EventKind, payload: unknown): void {
    // In order: each append waits for the previous one.
    this.chain = this.chain.then(() => this.outbox.append(this.sessionId, kind, payload)).catch((err: unknown) => this.onError(err instanceof Error ? err.message : String(err)));
  }
}
