import type { ChannelConfig, ChannelStats } from './channel.js';
import { Dispatcher, type LaneStats } from './dispatcher.js';
import { FrameStore } from './frame-store.js';
import type { CaptureStats } from './capture-budget.js';
import { Ingest } from './ingest.js';
import { DROP_POLICIES, type WorkerStats } from './protocol.js';
import type { PipelineResult } from './results.js';
import type { FrameSource } from './sources/source.js';
import { RateCounter } from './stats.js';
import type { GroupSpec } from './group.js';
import { Supervisor, type SupervisorEvent, type WorkerMetrics } from './supervisor.js';

export type { GroupSpec } from './group.js';

export interface PipelineOptions<Role extends string = string> {
  readonly groups: readonly GroupSpec<Role>[];
  /** A hung worker is restarted after max(this, 3 × its recent p95 processing time). Default 3000. */
  readonly watchdogFloorMs?: number;
  /** How often workers say they are alive. Default 500. */
  readonly heartbeatMs?: number;
  /** How long shutdown waits for in-flight frames before terminating workers. Default 5000. */
  readonly drainTimeoutMs?: number;
}

export interface PipelineStats<Role extends string = string> {
  readonly running: boolean;
  readonly framesIn: number;
  readonly inputFps: number;
  /** Results per second, over every group or the one named by `outputRole`. */
  readonly outputFps: number;
  readonly openFrames: { readonly page: number; readonly inWorkers: number };
  /** The current source's capture budget and what was held and copied under it (see FrameSource.captureBudget). */
  readonly capture: CaptureStats;
  readonly channels: Readonly<Record<Role, ChannelStats>>;
  readonly workers: readonly WorkerMetrics[];
  readonly dispatcher: Readonly<Record<Role, LaneStats>>;
}

export interface ShutdownReport {
  /** Frames still open on the page after everything was released: must be 0. */
  readonly leakedFrames: number;
  /** False when the drain deadline forced frames out (dropped as `shutdown` or failed in flight). */
  readonly drainedCleanly: boolean;
  /** Each worker's own counters, read just before it was terminated. */
  readonly workers: readonly (WorkerStats | undefined)[];
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid pipeline configuration: ${problems.join('; ')}`);
  }
}

/** Problems with one channel's settings, each naming `name`; empty when it is valid. */
export function channelProblems(name: string, ch: ChannelConfig): string[] {
  const problems: string[] = [];
  if (!DROP_POLICIES.includes(ch.policy)) problems.push(`${name}.policy must be one of ${DROP_POLICIES.join(', ')}, got "${ch.policy}"`);
  if (!Number.isInteger(ch.capacity) || ch.capacity < 1 || ch.capacity > 1000) problems.push(`${name}.capacity must be a whole number from 1 to 1000, got ${ch.capacity}`);
  if (ch.policy === 'latest-only' && ch.capacity !== 1) problems.push(`${name}.capacity must be 1 with latest-only, got ${ch.capacity}`);
  const rate = ch.maxRate ?? 0;
  if (!(rate >= 0 && rate <= 240)) problems.push(`${name}.maxRate must be from 0 to 240 per second, got ${rate}`);
  return problems;
}

const whole = (problems: string[], v: number | undefined, name: string, min: number, max: number) => {
  if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) problems.push(`${name} must be a whole number from ${min} to ${max}, got ${v}`);
};

/** Problems with the watchdog, heartbeat and drain timings; empty when they are valid. */
export function timingProblems(o: Pick<PipelineOptions, 'watchdogFloorMs' | 'heartbeatMs' | 'drainTimeoutMs'>): string[] {
  const problems: string[] = [];
  whole(problems, o.watchdogFloorMs, 'watchdogFloorMs', 50, 600_000);
  whole(problems, o.heartbeatMs, 'heartbeatMs', 10, 60_000);
  whole(problems, o.drainTimeoutMs, 'drainTimeoutMs', 0, 600_000);
  return problems;
}

/** Problems with pipeline options, each naming its field; empty when they are valid. */
export function optionsProblems(o: PipelineOptions): string[] {
  const problems: string[] = [];
  if (o.groups.length === 0) problems.push('a pipeline needs at least one worker group');
  const seen = new Set<string>();
  for (const g of o.groups) {
    if (!/^[a-z][a-z0-9-]*$/i.test(g.role)) problems.push(`group role "${g.role}" must be a name of letters, digits and dashes`);
    if (seen.has(g.role)) problems.push(`two groups are called "${g.role}"`);
    seen.add(g.role);
    whole(problems, g.size, `${g.role}.size`, 1, 16);
    problems.push(...channelProblems(g.role, g.channel));
  }
  problems.push(...timingProblems(o));
  return problems;
}

type Listener<Outputs extends object> = (result: PipelineResult<Outputs>) => void;

/** What `onEvent` reports, with answers typed by the pipeline's outputs. */
export type PipelineEvent<Outputs extends object = Record<string, unknown>> =
  | Exclude<SupervisorEvent, { type: 'answer' }>
  | { readonly type: 'answer'; readonly result: PipelineResult<Outputs> };

/**
 * A frame pipeline: source → ingest → one channel per worker group → workers → one ordered
 * dispatcher. `Outputs` maps each group's role to what its processor returns; `Controls` maps
 * the roles that take control messages to their message type. Build with `Pipeline.create`,
 * feed with `run(source)`, read with `subscribe`, end with `shutdown()`.
 */
export class Pipeline<Outputs extends object = Record<string, unknown>, Controls extends object = Record<never, never>> {
  private readonly store = new FrameStore();
  private readonly dispatcher = new Dispatcher();
  private readonly supervisor: Supervisor;
  private ingest: Ingest | undefined;
  /** The last source's capture figures, kept once it is stopped or detached. */
  private lastCapture: CaptureStats = { budget: undefined, held: 0, heldMax: 0, copied: 0 };
  private readonly outputs = new RateCounter();
  private readonly drainTimeoutMs: number;
  private closed = false;

  private constructor(options: PipelineOptions, private readonly outputRole: string | undefined) {
    this.drainTimeoutMs = options.drainTimeoutMs ?? 5000;
    this.supervisor = new Supervisor({ store: this.store, dispatcher: this.dispatcher, watchdogFloorMs: options.watchdogFloorMs ?? 3000, heartbeatMs: options.heartbeatMs ?? 500 });
    this.dispatcher.subscribe((r) => {
      if (this.outputRole === undefined || r.role === this.outputRole) this.outputs.mark();
    });
  }

  /**
   * Spawns and warms every worker; resolves when the pipeline can take frames. Throws a
   * ConfigError for bad options, or the first worker's start-up error (then nothing is left running).
   * `outputRole`: the group whose results `stats().outputFps` counts (default: all).
   */
  static async create<Outputs extends object = Record<string, unknown>, Controls extends object = Record<never, never>>(
    options: PipelineOptions<keyof Outputs & string>,
    outputRole?: keyof Outputs & string,
  ): Promise<Pipeline<Outputs, Controls>> {
    const problems = optionsProblems(options);
    if (problems.length > 0) throw new ConfigError(problems);
    const p = new Pipeline<Outputs, Controls>(options, outputRole);
    for (const g of options.groups) p.dispatcher.addLane(g.role, g.ordering ?? (g.channel.policy === 'block' ? 'complete' : 'latest'));
    try {
      await Promise.all(options.groups.map((g) => p.supervisor.addGroup(g)));
    } catch (err) {
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
    this.ingest = new Ingest(source, this.store, this.supervisor.roles, (role, handle) => this.supervisor.offer(role, handle), (into) => this.supervisor.backedInWorkers(into));
    return this.ingest.start();
  }

  /** Stops the source but keeps the workers, so another source can be run. */
  async stopSource(): Promise<void> {
    await this.ingest?.stop();
    this.forgetSource();
  }

  /** Stops reading the source without closing it, so another pipeline can take it over (a model switch). */
  async detachSource(): Promise<void> {
    await this.ingest?.stop(false);
    this.forgetSource();
  }

  private forgetSource(): void {
    if (this.ingest) this.lastCapture = this.ingest.capture();
    this.ingest = undefined;
  }

  /** Every result, in each group's order; returns the unsubscribe function. */
  subscribe(listener: Listener<Outputs>): () => void {
    return this.dispatcher.subscribe(listener as (r: PipelineResult) => void);
  }

  /** Worker restarts, deliveries and raw answers (before ordering), as they happen. */
  onEvent(listener: (e: PipelineEvent<Outputs>) => void): () => void {
    return this.supervisor.onEvent(listener as (e: SupervisorEvent) => void);
  }

  /** Pauses a group's workers; frames for it are superseded or queued meanwhile. */
  pause(role: keyof Outputs & string): void {
    this.supervisor.pauseRole(role);
  }

  resume(role: keyof Outputs & string): void {
    this.supervisor.resumeRole(role);
  }

  /** Sends a message to every worker of a group, in order with the frames; any that restarts gets `replay` (default: the same message). */
  control<Role extends keyof Controls & string>(role: Role, msg: Controls[Role], replay: Controls[Role] = msg): void {
    this.supervisor.control(role, msg, replay);
  }

  /**
   * A one-off message to every worker of a group, in order with the frames, never replayed to
   * a worker that restarts (what it carried is stale by then): e.g. another group's results.
   */
  tell<Role extends keyof Controls & string>(role: Role, msg: Controls[Role]): void {
    this.supervisor.tell(role, msg);
  }

  /**
   * What a worker of the group that (re)starts from now on is told first, without telling the
   * running ones: for state a worker reached on its own, which a replacement must start from.
   */
  replayControl<Role extends keyof Controls & string>(role: Role, msg: Controls[Role]): void {
    this.supervisor.replay(role, msg);
  }

  /** Resolves when nothing is queued or in flight (for `roles`, default all), or after `timeoutMs`; true if it drained. */
  async drain(timeoutMs: number, roles: readonly (keyof Outputs & string)[] = this.supervisor.roles as (keyof Outputs & string)[]): Promise<boolean> {
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
    const drainedCleanly = await this.drain(this.drainTimeoutMs);
    const workers = await this.supervisor.workerStats();
    this.supervisor.shutdown();
    const leakedFrames = this.store.closeAll();
    return { leakedFrames, drainedCleanly, workers };
  }

  /** Frames read from the current source so far (the newest frame's seq). */
  get framesIn(): number {
    return this.ingest?.framesIn ?? 0;
  }

  stats(): PipelineStats<keyof Outputs & string> {
    const roles = this.supervisor.roles;
    const byRole = <T>(f: (role: string) => T) => Object.fromEntries(roles.map((r) => [r, f(r)])) as Record<keyof Outputs & string, T>;
    return {
      running: !!this.ingest && !this.closed,
      framesIn: this.ingest?.framesIn ?? 0,
      inputFps: this.ingest?.inputFps() ?? 0,
      outputFps: this.outputs.perSecond(),
      openFrames: { page: this.store.open, inWorkers: this.supervisor.framesInWorkers },
      capture: this.ingest?.capture() ?? this.lastCapture,
      channels: byRole((r) => this.supervisor.channelStats(r)),
      workers: this.supervisor.metrics(),
      dispatcher: byRole((r) => this.dispatcher.stats(r)),
    };
  }
}
