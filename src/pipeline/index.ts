// The pipeline's public surface, for the page. Anything outside src/pipeline imports the
// pipeline from here (or, in a worker module, from './worker'); the dependency check in CI
// refuses a deep import. Documented in docs/API.md.

export { Pipeline, ConfigError, channelProblems, optionsProblems, timingProblems } from './pipeline';
export type { GroupSpec, PipelineEvent, PipelineOptions, PipelineStats, ShutdownReport } from './pipeline';
export type { SupervisorEvent } from './supervisor';
export type { SpawnWorker } from './worker-handle';
export type { Ordering, LaneStats } from './dispatcher';
export type { PipelineResult, GroupResult } from './results';
export type { ChannelConfig, ChannelStats } from './channel';
export { DROP_POLICIES, DROP_REASONS } from './protocol';
export type { DropPolicy, DropReason, ProcessorInfo, WorkerStats } from './protocol';
export type { FrameMeta, FramePixels } from '../frame/frame';

// Metrics: the HUD's and the benchmark's arithmetic, for callers showing their own.
export { percentile, dropRate, RateCounter, type WorkerMetrics } from './stats';

// Sources: where frames come from.
export type { FrameSource } from './sources/source';
export { frameSize } from './sources/source';
export { CameraSource, CameraError, cameraConstraints, describeCameraError, FACINGS, type Facing } from './sources/camera';
export { VideoFileSource } from './sources/video-file';
export { ImageSource } from './sources/images';
export { SyntheticSource, type SyntheticOptions } from './sources/synthetic';
export { MemorySource, type MemorySourceOptions } from './sources/memory';
