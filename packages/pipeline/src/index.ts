// The pipeline's public surface, for the page: `import { Pipeline } from '@framewise/pipeline'`.
// A worker module imports `@framewise/pipeline/worker` instead. Nothing else is exported
// (package.json `exports`), and the dependency check in CI refuses a deep import from inside
// this repository too. Documented in README.md beside this package.

export { Pipeline, ConfigError, channelProblems, optionsProblems, timingProblems } from './pipeline.js';
export type { GroupSpec, PipelineEvent, PipelineOptions, PipelineStats, ShutdownReport } from './pipeline.js';
export type { SupervisorEvent } from './supervisor.js';
export type { SpawnWorker } from './worker-handle.js';
export type { Ordering, LaneStats } from './dispatcher.js';
export type { PipelineResult, GroupResult } from './results.js';
export type { ChannelConfig, ChannelStats } from './channel.js';
export { DROP_POLICIES, DROP_REASONS } from './protocol.js';
export type { DropPolicy, DropReason, ProcessorInfo, WorkerStats } from './protocol.js';
export type { FrameMeta, FramePixels } from './frame.js';

// Metrics: the HUD's and the benchmark's arithmetic, for callers showing their own.
export { percentile, dropRate, RateCounter, type WorkerMetrics } from './stats.js';

// Sources: where frames come from.
export type { FrameSource } from './sources/source.js';
export type { CaptureProbe } from './sources/camera.js';
export type { CaptureStats } from './capture-budget.js';
export { frameSize } from './sources/source.js';
export { CameraSource, CameraError, cameraConstraints, describeCameraError, FACINGS, type Facing } from './sources/camera.js';
export { VideoFileSource } from './sources/video-file.js';
export { ImageSource } from './sources/images.js';
export { SyntheticSource, type SyntheticOptions } from './sources/synthetic.js';
export { MemorySource, type MemorySourceOptions } from './sources/memory.js';
