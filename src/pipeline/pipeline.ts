import type { ProcessorConfig, WorkerRole, WorkerStats } from '../shared/protocol';
import type { Task } from '../task/types';
import type { ChannelStats } from './channel';
import type { PipelineConfig } from './config';
import { validateConfig, ConfigError, threadsFor } from './config';
import { Dispatcher } from './dispatcher';
import { FrameStore } from './frame-store';
import { Ingest } from './ingest';
import type { FrameSource } from './sources/source';
import { Supervisor, type SpawnWorker, type WorkerMetrics } from './supervisor';
import { spawnWorker } from './spawn';
import { RateCounter } from './stats';

const ROLES: readonly WorkerRole[] = ['state', 'localization'];

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

export interface PipelineStats {
  readonly running: boolean;
  readonly framesIn: number;
  readonly inputFps: number;
  readonly outputFps: number;
  readonly openFrames: { readonly page: number; readonly inWorkers: number };
  readonly channels: Readonly<Record<WorkerRole, ChannelStats>>;
  readonly workers: readonly WorkerMetrics[];
  readonly dispatcher: Readonly<Record<WorkerRole, ReturnType<Dispatcher['stats']>>>;
}

export interface ShutdownReport {
  /** Frames still open on the page after everything was released: must be 0. */
  readonly leakedFrames: number;
  /** Frames the drain deadline forced out (dropped as `shutdown` or failed in flight). */
  readonly drainedCleanly: boolean;
  /** Each worker's own counters, read just before it was terminated. */
  readonly workers: readonly (WorkerStats | undefined)[];
}

/**
 * The whole frame pipeline: source → ingest → one channel per worker group →
 * state worker and localization pool → dispatcher. Build with `Pipeline.create`,
 * feed with `run(source)`, end with `shutdown()`.
 */
export class Pipeline {
  readonly store = new FrameStore();
  readonly dispatcher: Dispatcher;
  private readonly supervisor: Supervisor;
  private ingest: Ingest | undefined;
  private readonly outputs = new RateCounter();
  private closed = false;

  private constructor(readonly config: PipelineConfig, spawn: SpawnWorker) {
    // Lossless localization (block) must account for every frame, in order.
    this.dispatcher = new Dispatcher({ state: 'latest', localization: config.localization.policy === 'block' ? 'complete' : 'latest' });
    this.supervisor = new Supervisor({ spawn, store: this.store, dispatcher: this.dispatcher, watchdogFloorMs: config.watchdogFloorMs, heartbeatMs: config.heartbeatMs });
    this.dispatcher.subscribe((r) => {
      if (r.role === 'localization') this.outputs.mark();
    });
  }

  /** Spawns and warms every worker; resolves when the pipeline can take frames. */
  static async create(config: PipelineConfig, spawn: SpawnWorker = spawnWorker): Promise<Pipeline> {
    const problems = validateConfig(config);
    if (problems.length > 0) throw new ConfigError(problems);
    const p = new Pipeline(config, spawn);
    const processor = processorFor(config);
    try {
      await Promise.all([
        p.supervisor.addGroup({ role: 'state', size: 1, channel: config.state, maxRate: config.state.maxRate, processor }),
        p.supervisor.addGroup({ role: 'localization', size: config.poolSize, channel: config.localization, maxRate: 0, processor }),
      ]);
    } catch (err) {
      // A worker that cannot start (a bad model, say) takes the whole attempt down, cleanly.
      p.closed = true;
      p.supervisor.shutdown();
      throw err;
    }
    return p;
  }

  /** Reads `source` until it ends or stop() is called; resolves when its last frame was offered. */
  run(source: FrameSource): Promise<void> {
    if (this.closed) throw new Error('pipeline is shut down');
    if (this.ingest) throw new Error('pipeline already has a source');
    this.ingest = new Ingest(source, this.store, ROLES, (role, handle) => this.supervisor.offer(role, handle));
    return this.ingest.start();
  }

  /** Stops the source but keeps the workers, so another source can be run. */
  async stopSource(): Promise<void> {
    await this.ingest?.stop();
    this.ingest = undefined;
  }

  /** Stops reading the source without closing it, so another pipeline can take it over (a model switch). */
  async detachSource(): Promise<void> {
    await this.ingest?.stop(false);
    this.ingest = undefined;
  }

  /** Pauses a role's workers (e.g. the state worker, for a benchmark); frames for it are superseded or queued meanwhile. */
  pause(role: WorkerRole): void {
    this.supervisor.pauseRole(role);
  }

  resume(role: WorkerRole): void {
    this.supervisor.resumeRole(role);
  }

  /** Gives the state worker a task to evaluate, resuming at `step`; null clears it. */
  setTask(task: Task | null, step = 0): void {
    this.supervisor.control('state', { type: 'task', task, step });
  }

  onEvent(listener: Parameters<Supervisor['onEvent']>[0]): () => void {
    return this.supervisor.onEvent(listener);
  }

  /** Resolves when nothing is queued or in flight (for `roles`, default all), or after `timeoutMs`; true if it drained. */
  async drain(timeoutMs: number, roles: readonly WorkerRole[] = ROLES): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!roles.every((r) => this.supervisor.isIdle(r))) {
      if (performance.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  /** Stop the source → drain in-flight frames → terminate workers → close channels. */
  async shutdown(): Promise<ShutdownReport> {
    if (this.closed) throw new Error('pipeline is already shut down');
    this.closed = true;
    await this.stopSource();
    const drainedCleanly = await this.drain(this.config.drainTimeoutMs);
    const workers = await this.supervisor.workerStats();
    this.supervisor.shutdown();
    const leakedFrames = this.store.closeAll();
    return { leakedFrames, drainedCleanly, workers };
  }

  /** Frames read from the current source so far (the newest frame's seq). */
  get framesIn(): number {
    return this.ingest?.framesIn ?? 0;
  }

  stats(): PipelineStats {
    return {
      running: !!this.ingest && !this.closed,
      framesIn: this.ingest?.framesIn ?? 0,
      inputFps: this.ingest?.inputFps() ?? 0,
      outputFps: this.outputs.perSecond(),
      openFrames: { page: this.store.open, inWorkers: this.supervisor.framesInWorkers },
      channels: { state: this.supervisor.channelStats('state'), localization: this.supervisor.channelStats('localization') },
      workers: this.supervisor.metrics(),
      dispatcher: { state: this.dispatcher.stats('state'), localization: this.dispatcher.stats('localization') },
    };
  }
}
