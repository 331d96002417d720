// The page ↔ worker boundary, declared once and imported by both sides.
// Frames and control messages travel on a MessagePort (the frame stream); start-up and counters go through comlink.

import type { FrameMeta, FramePixels } from '../frame/frame';
import type { Detection } from '../model/decode';
import type { ModelManifest } from '../model/manifest';
import type { Provider, ProviderPreference } from '../model/provider';
import type { TaskEvent } from '../task/machine';
import type { Task } from '../task/types';

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

export type WorkerRole = 'state' | 'localization';

/** What a worker's processor computes for one frame. */
export type ProcessorOutput =
  | {
      readonly kind: 'probe';
      /** Mean luma (0–255) of the frame, sampled at 16×16: real pixel work, cheap. */
      readonly meanLuma: number;
      readonly width: number;
      readonly height: number;
    }
  | {
      readonly kind: 'detections';
      readonly detections: readonly Detection[];
      /** Boxes below the score threshold (down to the tracker's low threshold): never shown, they only keep tracks alive. */
      readonly uncertain: readonly Detection[];
      /** Source frame size: the boxes' coordinate space. */
      readonly width: number;
      readonly height: number;
      readonly provider: Provider;
      readonly preprocessMs: number;
      readonly inferenceMs: number;
      readonly decodeMs: number;
      /** The exact input tensor the model ran on; only with DetectorConfig.captureInput (tests). */
      readonly input?: Float32Array;
      /** State worker: the task's verdict on this frame (when a task is set). */
      readonly task?: TaskEvent;
    };

/**
 * Control messages travel on the frame port, so a worker sees them in order with the frames
 * (a task set before frame N applies from frame N on); the supervisor replays the last one to a
 * restarted worker before its first frame.
 */
export type ControlMessage =
  /** State worker: the task to evaluate, resuming at `step` (null: no task). */
  { readonly type: 'task'; readonly task: Task | null; readonly step: number };

/** Scripted behaviour of the probe processor, for tests and demos. */
export interface ProbeScript {
  readonly delayMs: number;
  /** Frames whose processing throws (an error result, the worker lives on). */
  readonly failSeqs?: readonly number[];
  /** Frames on which the worker spins forever (the watchdog must restart it). */
  readonly hangSeqs?: readonly number[];
  /** Frames on which the worker throws outside any handler (a crash). */
  readonly crashSeqs?: readonly number[];
}

/** Where a model's bytes come from: a URL (cached for offline use) or bytes the person picked. */
export type ModelSource = { readonly url: string } | { readonly bytes: ArrayBuffer; readonly fileName: string };

export interface DetectorConfig {
  readonly kind: 'detector';
  readonly manifest: ModelManifest;
  readonly source: ModelSource;
  readonly provider: ProviderPreference;
  readonly threads: number;
  readonly scoreThreshold?: number;
  readonly lowScoreThreshold?: number;
  /** Return each frame's model input with its result: for correctness tests, costly. */
  readonly captureInput?: boolean;
  /** Fault injection for tests: destroy the WebGPU device after this many frames. */
  readonly loseDeviceAfterFrames?: number;
  /** Fault injection for tests: these frames (by seq) fail as a corrupt frame would. */
  readonly failFrames?: readonly number[];
}

export type ProcessorConfig = { readonly kind: 'probe'; readonly script: ProbeScript } | DetectorConfig;

/** What a worker reports once it is ready. */
export interface ProcessorInfo {
  readonly processor: 'probe' | 'detector';
  readonly provider: Provider | 'cpu';
  /** Why this provider: shown beside it in the HUD. */
  readonly reason: string;
  readonly warmupMs: number;
}

export interface WorkerInit {
  readonly workerId: string;
  readonly role: WorkerRole;
  readonly processor: ProcessorConfig;
  readonly heartbeatMs: number;
}

export interface WorkerStats {
  readonly workerId: string;
  readonly received: number;
  readonly processed: number;
  readonly failed: number;
  /** Frames this worker holds and has not closed yet. */
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
export type ToWorker = FrameMessage | { readonly type: 'control'; readonly control: ControlMessage };

export type FromWorker =
  | {
      readonly type: 'result';
      readonly seq: number;
      readonly output: ProcessorOutput;
      readonly processMs: number;
    }
  | {
      readonly type: 'error';
      readonly seq: number;
      readonly message: string;
      readonly processMs: number;
    }
  | { readonly type: 'heartbeat' }
  /** The processor changed how it runs (e.g. WebGPU lost, now on WASM). */
  | { readonly type: 'info'; readonly info: ProcessorInfo };
