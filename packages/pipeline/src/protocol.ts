// The pipeline's page ↔ worker boundary, declared once and imported by both halves
// (the Pipeline on the page, defineProcessor in a worker). It knows nothing of any model or
// task: what a processor is configured with, what it answers and what it can be told are the
// caller's own types, carried here as type parameters.

import type { FrameMeta, FramePixels } from './frame.js';

/** How a channel behaves when its consumers are busy: every list of policies in the app reads this one. */
export const DROP_POLICIES = ['latest-only', 'drop-new', 'drop-oldest', 'block'] as const;
export type DropPolicy = (typeof DROP_POLICIES)[number];

/** Why a frame offered to a channel never reached a consumer. */
export const DROP_REASONS = [
  'superseded', // latest-only: a newer frame took the slot
  'queue-full', // drop-new: the queue was full when it arrived
  'evicted', // drop-oldest: pushed out by a newer frame
  'shutdown', // still queued when the pipeline stopped
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** What a worker reports once it is ready, and again when it changes how it runs (a fallback). */
export interface ProcessorInfo {
  /** What the worker runs, e.g. "detector" or "motion". */
  readonly processor: string;
  /** Where it runs, e.g. "webgpu", "wasm" or "cpu". */
  readonly provider: string;
  /** Why it runs there: shown beside the provider. */
  readonly reason: string;
  readonly warmupMs: number;
}

export interface WorkerInit<Config = unknown> {
  readonly workerId: string;
  /** The group the worker belongs to. */
  readonly role: string;
  /** The group's processor configuration, structured-cloned into the worker. */
  readonly config: Config;
  readonly heartbeatMs: number;
  /** How many times this worker id was restarted before this generation: 0 for its first life. */
  readonly restarts: number;
}

export interface WorkerStats {
  readonly workerId: string;
  readonly received: number;
  readonly processed: number;
  readonly failed: number;
  /** Frames this worker holds and has not closed yet: 0 once it is idle. */
  readonly openFrames: number;
  /** Most frames ever processed at the same time in this worker. */
  readonly maxConcurrent: number;
}

/** Start-up and counters, over comlink; frames and control go over the port. */
export interface ConsumerApi {
  /** Builds the processor, warms it up, then listens on `port`; resolves when ready. */
  start(init: WorkerInit, port: MessagePort): Promise<ProcessorInfo>;
  stats(): WorkerStats;
}

// ---- the frame stream ----

export interface FrameMessage {
  readonly type: 'frame';
  readonly meta: FrameMeta;
  readonly pixels: FramePixels;
}

export type ToWorker<Control = unknown> = FrameMessage | { readonly type: 'control'; readonly control: Control };

export type FromWorker<Output = unknown> =
  | { readonly type: 'result'; readonly seq: number; readonly output: Output; readonly processMs: number }
  | { readonly type: 'error'; readonly seq: number; readonly message: string; readonly processMs: number }
  | { readonly type: 'heartbeat' }
  /** The processor changed how it runs (e.g. WebGPU lost, now on WASM). */
  | { readonly type: 'info'; readonly info: ProcessorInfo };
