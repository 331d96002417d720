import { Channel, type ChannelStats } from './channel.js';
import type { Dispatcher } from './dispatcher.js';
import type { GroupSpec } from './group.js';
import type { PipelineResult } from './results.js';
import type { WorkerStats } from './protocol.js';
import { cloneForTransfer, type FrameHandle, type FrameStore } from './frame-store.js';
import { WorkerTally, type WorkerMetrics } from './stats.js';
import { WorkerHandle, type FrameAnswer, type InFlight } from './worker-handle.js';

export type { WorkerMetrics } from './stats.js';

export interface SupervisorOptions {
  readonly store: FrameStore;
  readonly dispatcher: Dispatcher;
  readonly watchdogFloorMs: number;
  readonly heartbeatMs: number;
  readonly now?: () => number;
}

export type SupervisorEvent =
  | { readonly type: 'restart'; readonly workerId: string; readonly reason: string }
  | { readonly type: 'deliver'; readonly workerId: string; readonly seq: number }
  /** Every answer as it arrives, before ordering (which may then discard it as stale). */
  | { readonly type: 'answer'; readonly result: PipelineResult };

/** A worker id: its current generation and the counters that outlive restarts. */
interface Slot {
  readonly id: string;
  readonly group: Group;
  readonly tally: WorkerTally;
  handle: WorkerHandle;
}

interface Group {
  readonly config: GroupSpec;
  readonly channel: Channel<FrameHandle>;
  readonly slots: Slot[];
}

/**
 * Owns every worker: groups them behind their channels, turns their answers into results,
 * watches their health and restarts the hung and the crashed. A worker's own life (spawn,
 * port, start, frames in flight, terminate) is its WorkerHandle; nothing else touches a Worker.
 */
export class Supervisor {
  private readonly groups = new Map<string, Group>();
  private readonly slots = new Map<string, Slot>();
  private readonly listeners = new Set<(e: SupervisorEvent) => void>();
  /** The last control message per role, replayed to workers that (re)start. */
  private readonly lastControl = new Map<string, unknown>();
  private readonly now: () => number;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(private readonly opts: SupervisorOptions) {
    this.now = opts.now ?? (() => performance.now());
  }

  /** Spawns a group's workers; resolves once all of them are warm and ready. */
  async addGroup(config: GroupSpec): Promise<void> {
    const { role } = config;
    if (this.groups.has(role)) throw new Error(`there is already a ${role} group`);
    const channel = new Channel<FrameHandle>(role, config.channel.policy, config.channel.capacity, {
      deliver: (frame, id) => this.deliver(this.slots.get(id)!, frame),
      dropped: (frame) => {
        this.opts.store.release(frame);
        this.opts.dispatcher.skip(role, frame.meta.seq);
      },
    }, { maxRate: config.channel.maxRate ?? 0 });
    const group: Group = { config, channel, slots: [] };
    this.groups.set(role, group);
    const starts: Promise<void>[] = [];
    for (let i = 0; i < config.size; i++) {
      const id = `${role}-${i + 1}`;
      const slot: Slot = { id, group, tally: new WorkerTally(id, role), handle: this.spawn(group, id) };
      group.slots.push(slot);
      this.slots.set(id, slot);
      channel.addConsumer(id, 1, true);
      starts.push(this.start(slot));
    }
    await Promise.all(starts);
    this.watchdog ??= setInterval(() => this.checkHealth(), Math.max(20, Math.min(250, this.opts.watchdogFloorMs / 4)));
  }

  /** Offers a frame to a group; a promise means the producer must wait (block policy). */
  offer(role: string, frame: FrameHandle): Promise<void> | undefined {
    this.opts.store.retain(frame);
    return this.group(role).channel.offer(frame);
  }

  /** Stops starting frames on a role's workers (its slot keeps only the newest frame); resumeRole() undoes it. */
  pauseRole(role: string): void {
    const { channel, slots } = this.group(role);
    for (const slot of slots) channel.pause(slot.id);
  }

  resumeRole(role: string): void {
    const { channel, slots } = this.group(role);
    for (const slot of slots) if (slot.handle.ready) channel.resume(slot.id);
  }

  /**
   * Sends a control message to every worker of a role now; a worker that starts later gets
   * `replay` instead (by default the same message). A one-off message, such as a command, is
   * not to be repeated: its sender replays the state it leads to.
   */
  control(role: string, msg: unknown, replay: unknown = msg): void {
    this.lastControl.set(role, replay);
    for (const slot of this.group(role).slots) slot.handle.control(msg);
  }

  /** Sends a message to every worker of a role now, leaving what a restarted worker is told alone. */
  tell(role: string, msg: unknown): void {
    for (const slot of this.group(role).slots) slot.handle.control(msg);
  }

  /** What a worker of `role` that starts from now on is told first; nothing is sent to the running ones. */
  replay(role: string, msg: unknown): void {
    this.group(role);
    this.lastControl.set(role, msg);
  }

  onEvent(listener: (e: SupervisorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  isIdle(role: string): boolean {
    return this.group(role).channel.idle;
  }

  channelStats(role: string): ChannelStats {
    return this.group(role).channel.stats();
  }

  /** The groups' roles, in the order they were added. */
  get roles(): string[] {
    return [...this.groups.keys()];
  }

  metrics(): WorkerMetrics[] {
    const now = this.now();
    return [...this.slots.values()].map(({ group, tally, handle: h }) => {
      const dropped = group.channel.stats().dropped / group.slots.length;
      const live = { ready: h.ready, inFlight: h.inFlight.size, lastSeenMsAgo: now - h.lastSeen, info: h.info };
      return tally.metrics(live, dropped, this.opts.watchdogFloorMs);
    });
  }

  /** Frames held by workers right now: delivered and not yet answered. */
  get framesInWorkers(): number {
    let n = 0;
    for (const s of this.slots.values()) n += s.handle.inFlight.size;
    return n;
  }

  /** Capturer-backed frames held by workers right now, by seq (two workers' clones of one frame share its buffer). */
  backedInWorkers(into: Set<number>): Set<number> {
    for (const s of this.slots.values()) for (const f of s.handle.inFlight.values()) if (f.backed) into.add(f.meta.seq);
    return into;
  }

  /** Asks every live worker for its own counters (a hung one does not answer in time). */
  workerStats(timeoutMs = 1000): Promise<(WorkerStats | undefined)[]> {
    return Promise.all([...this.slots.values()].map((s) => s.handle.stats(timeoutMs)));
  }

  /** Terminates every worker and closes every channel; frames they held are reported failed. */
  shutdown(): void {
    this.stopped = true;
    clearInterval(this.watchdog);
    for (const slot of this.slots.values()) this.retire(slot, 'pipeline shut down');
    for (const g of this.groups.values()) g.channel.close();
  }

  // ---- frames and answers ----

  private deliver(slot: Slot, frame: FrameHandle): void {
    slot.handle.send(frame.meta, cloneForTransfer(frame.pixels), frame.backed);
    // The worker's clone is taken synchronously (VideoFrame.clone, or createImageBitmap's copy):
    // the page's reference can go now, and the worker owns the only frame in flight.
    this.opts.store.release(frame);
    this.emit({ type: 'deliver', workerId: slot.id, seq: frame.meta.seq });
  }

  private answered(slot: Slot, entry: InFlight, answer: FrameAnswer): void {
    const role = slot.group.config.role;
    const { seq, captureTs, width, height } = entry.meta;
    const latencyMs = this.now() - captureTs;
    if (answer.type === 'result') {
      slot.tally.result(answer.processMs, latencyMs);
      this.push({ type: 'output', role, workerId: slot.id, seq, captureTs, width, height, latencyMs, output: Object.freeze(answer.output), processMs: answer.processMs });
    } else {
      this.failed(slot, entry, answer.message);
    }
    slot.group.channel.release(slot.id);
  }

  private failed(slot: Slot, entry: InFlight, message: string): void {
    slot.tally.error();
    const { seq, captureTs, width, height } = entry.meta;
    this.push({ type: 'error', role: slot.group.config.role, workerId: slot.id, seq, captureTs, width, height, latencyMs: this.now() - captureTs, message });
  }

  private push(result: PipelineResult): void {
    this.emit({ type: 'answer', result });
    this.opts.dispatcher.push(result);
  }

  // ---- lifecycle and restart policy ----

  /** A new generation for worker `id`; its hooks fire only while it is alive, i.e. while its slot holds it. */
  private spawn(group: Group, id: string): WorkerHandle {
    const { role } = group.config;
    return new WorkerHandle(group.config.spawn, {
      answered: (entry, answer) => this.answered(this.slots.get(id)!, entry, answer),
      crashed: (reason) => this.restart(this.slots.get(id)!, reason),
    }, this.now, this.lastControl.get(role));
  }

  private async start(slot: Slot): Promise<void> {
    const { role, config } = slot.group.config;
    if (await slot.handle.start({ workerId: slot.id, role, config, heartbeatMs: this.opts.heartbeatMs, restarts: slot.tally.restarts })) {
      slot.group.channel.resume(slot.id);
    }
  }

  /** Replaces a worker: its in-flight frames become error results, and a fresh one takes its place. */
  private restart(slot: Slot, reason: string): void {
    if (this.stopped) return;
    this.retire(slot, reason);
    slot.tally.restarts++;
    slot.group.channel.resetConsumer(slot.id, true);
    slot.handle = this.spawn(slot.group, slot.id);
    this.emit({ type: 'restart', workerId: slot.id, reason });
    this.start(slot).catch((err: unknown) => {
      this.emit({ type: 'restart', workerId: slot.id, reason: `restart failed: ${String(err)}` });
    });
  }

  private retire(slot: Slot, reason: string): void {
    for (const entry of slot.handle.terminate()) this.failed(slot, entry, `worker ${slot.id} ${reason}`);
  }

  private emit(e: SupervisorEvent): void {
    for (const l of this.listeners) l(e);
  }

  private checkHealth(): void {
    if (this.stopped) return;
    const now = this.now();
    for (const slot of this.slots.values()) {
      const h = slot.handle;
      if (!h.ready) continue;
      const timeout = slot.tally.watchdogTimeoutMs(this.opts.watchdogFloorMs);
      const oldest = h.oldest();
      if (oldest && now - oldest.sentTs > timeout) {
        this.restart(slot, `hung on frame ${oldest.meta.seq} for ${Math.round(now - oldest.sentTs)} ms (timeout ${Math.round(timeout)} ms); restarted`);
      } else if (now - h.lastSeen > Math.max(timeout, 4 * this.opts.heartbeatMs)) {
        this.restart(slot, `silent for ${Math.round(now - h.lastSeen)} ms; restarted`);
      }
    }
  }

  private group(role: string): Group {
    const g = this.groups.get(role);
    if (!g) throw new Error(`no ${role} workers`);
    return g;
  }
}
