import { Pipeline, type GroupSpec, type PipelineResult, type PipelineStats } from '@framewise/pipeline';
import type { ProcessorConfig, StateProcessorConfig, VisionControls, VisionOutputs, WorkerRole } from '../shared/protocol';
import type { TaskCommand } from '../task/machine';
import type { Task } from '../task/types';
import { threadsFor, type PipelineConfig } from './config';

/** The app's pipeline: one task-state worker and a pool of localization workers, on the public pipeline API. */
export type VisionPipeline = Pipeline<VisionOutputs, VisionControls>;
export type VisionResult = PipelineResult<VisionOutputs>;
export type VisionStats = PipelineStats<WorkerRole>;

function processorFor(config: PipelineConfig): ProcessorConfig {
  if (config.processor === 'probe') return { kind: 'probe', script: config.probe };
  const source = config.model.source;
  return {
    kind: 'detector',
    manifest: config.model.manifest,
    // Workers resolve relative URLs against their own script: make it absolute here.
    source: 'url' in source ? { url: new URL(source.url, document.baseURI).href } : source,
    provider: config.provider,
    threads: threadsFor(config, navigator.hardwareConcurrency || 2),
    scoreThreshold: config.scoreThreshold,
    lowScoreThreshold: config.trackLowScore,
    captureInput: config.captureModelInput,
    loseDeviceAfterFrames: config.loseGpuDeviceAfterFrames,
    failFrames: config.failFrames,
  };
}

/** The state worker runs no model: it judges on what the pool saw. */
const judgesOnPool = (config: PipelineConfig) => config.processor !== 'probe' && config.judge === 'pool';

/** The state worker's processor: the probe where the pool runs it, else a judge on the pool's detections or on its own detector's. */
function judgeFor(config: PipelineConfig, pool: ProcessorConfig): StateProcessorConfig {
  if (judgesOnPool(config)) return { kind: 'pool-judge', labels: config.model.manifest.labels, scoreThreshold: config.scoreThreshold };
  // A judge with a model of its own may run another model than the pool's.
  return config.judgeModel && pool.kind === 'detector' ? processorFor({ ...config, model: config.judgeModel }) : pool;
}

/** The two groups, from the app's configuration. The `new Worker(new URL(...))` form is what lets the bundler find each worker. */
export function visionGroups(config: PipelineConfig): GroupSpec<WorkerRole>[] {
  const processor = processorFor(config);
  const judge = judgeFor(config, processor);
  return [
    {
      role: 'state',
      size: 1,
      // A judge without a model answers each frame at once: no rate limit holds its verdicts back.
      channel: judgesOnPool(config) ? { ...config.state, maxRate: 0 } : config.state,
      spawn: () => new Worker(new URL('../workers/state/worker.ts', import.meta.url), { type: 'module', name: 'state' }),
      config: judge,
    },
    {
      role: 'localization',
      size: config.poolSize,
      channel: config.localization,
      // Lossless localization (block) accounts for every frame, in order.
      ordering: config.localization.policy === 'block' ? 'complete' : 'latest',
      spawn: () => new Worker(new URL('../workers/localization/worker.ts', import.meta.url), { type: 'module', name: 'localization' }),
      config: processor,
    },
  ];
}

/**
 * Spawns and warms the app's workers; output fps counts the localization pool's results. Where
 * the judge runs no model, every detection result the pool delivers is told to it, in order.
 */
export async function createVisionPipeline(config: PipelineConfig): Promise<VisionPipeline> {
  const { watchdogFloorMs, heartbeatMs, drainTimeoutMs } = config;
  const p = await Pipeline.create<VisionOutputs, VisionControls>({ groups: visionGroups(config), watchdogFloorMs, heartbeatMs, drainTimeoutMs }, 'localization');
  if (judgesOnPool(config)) p.subscribe((r) => tellJudge(p, r));
  return p;
}

/** The pool's detections of one frame, for the judge; failed frames are not told (nothing was seen on them). */
function tellJudge(p: VisionPipeline, r: VisionResult): void {
  if (r.role !== 'localization' || r.type !== 'output' || r.output.kind !== 'detections') return;
  const { detections, uncertain } = r.output;
  p.tell('state', { type: 'seen', seq: r.seq, captureTs: r.captureTs, width: r.width, height: r.height, detections, uncertain });
}

/** Gives the state worker a task to evaluate, resuming at `step`; null clears it. */
export function setTask(pipeline: VisionPipeline, task: Task | null, step = 0): void {
  pipeline.control('state', { type: 'task', task, step });
}

/**
 * Tells the state worker a person's command (next, back), in order with the frames. A worker
 * that restarts is not told it again: it gets `task` at `thenStep`, where the command leads.
 */
export function commandTask(pipeline: VisionPipeline, task: Task, command: TaskCommand, thenStep: number): void {
  pipeline.control('state', { type: 'command', command }, { type: 'task', task, step: thenStep });
}

/**
 * The state worker moved the task on by itself (a step seen, confirmed or waited out): a worker
 * that restarts from now on starts the task at `step`, not at the step the page last sent.
 */
export function resumeTaskAt(pipeline: VisionPipeline, task: Task, step: number): void {
  pipeline.replayControl('state', { type: 'task', task, step });
}
