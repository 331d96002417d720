import type { ProcessorOutput, WorkerRole } from '../shared/protocol';

interface ResultBase {
  readonly role: WorkerRole;
  readonly workerId: string;
  readonly seq: number;
  readonly captureTs: number;
  /** Capture → dispatched, on the page clock. */
  readonly latencyMs: number;
}

/** What the dispatcher hands out: immutable, one per processed frame. */
export type PipelineResult =
  | (ResultBase & { readonly type: 'output'; readonly output: ProcessorOutput; readonly processMs: number })
  | (ResultBase & { readonly type: 'error'; readonly message: string });
