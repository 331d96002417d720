import * as Comlink from 'comlink';
import type { ConsumerApi, ControlMessage, FromWorker, ProcessorConfig, ProcessorInfo, ToWorker, WorkerRole, WorkerStats } from '../shared/protocol';
import { Channel, type ChannelStats } from './channel';
import type { ChannelConfig } from './config';
import type { Dispatcher } from './dispatcher';
import { cloneForTransfer, type FrameHandle, type FrameStore } from './frame-store';
import { dropRate, RollingWindow } from './stats';

export type SpawnWorker = (role: WorkerRole) => Worker;

export interface GroupConfig {
  readonly role: WorkerRole;
  readonly size: number;
  readonly channel: ChannelConfig;
  /** Most frames started per second by the whole group; 0 = no limit. */
  readonly maxRate: number;
  readonly processor: ProcessorConfig;
}

export interface SupervisorOptions {
  readonly spawn: SpawnWorker;
  readonly store: FrameStore;
  readonly dispatcher: Dispatcher;
  readonly watchdogFloorMs: number;
  readonly heartbeatMs: number;
  readonly now?: () => number;
}

export interface WorkerMetrics {
  readonly workerId: string;
  readonly role: WorkerRole;
  readonly ready: boolean;
  readonly processed: number;
  readonly errors: number;
  /** Frames dropped by this worker's channel, shared out evenly across a pool. */
  readonly dropped: number;
  readonly dropRate: number;
  readonly processMsP50: number | undefined;
  readonly processMsP95: number | undefined;
  readonly latencyMsP50: number | undefined;
  readonly latencyMsP95: number | undefined;
  readonly lastSeenMsAgo: number;
  readonly restarts: number;
  readonly inFlight: number;
  readonly watchdogTimeoutMs: number;
  /** Which processor and provider the worker runs, and why (undefined until it is ready). */
  readonly info: ProcessorInfo | undefined;
}

export type SupervisorEvent =
  | { readonly type: 'restart'; readonly workerId: string; readonly reason: string }
  | { readonly type: 'deliver'; readonly workerId: string; readonly seq: number };

interface InFlight {
  readonly handle: FrameHandle;
  readonly sentTs: number;
}

interface Slot {
  readonly id: string;
  readonly group: Group;
  generation: number;
  worker: Worker;
  api: Comlink.Remote<ConsumerApi>;
  port: MessagePort;
  ready: boolean;
  readonly inFlight: Map<number, InFlight>;
  readonly processMs: RollingWindow;
  readonly latencyMs: RollingWindow;
  processed: number;
  errors: number;
  restarts: number;
  lastSeen: number;
  /** Frames the worker itself reports holding open. */
  workerOpenFrames: number;
  info: ProcessorInfo | undefined;
}

interface Group {
  readonly config: GroupConfig;
  readonly channel: Channel<FrameHandle>;
  readonly slots: Slot[];
  nextStartAt: number;
}

/**
 * Owns every Worker: spawns them, feeds them from their group's channel, turns their
 * answers into results, watches their health, and restarts the hung and the crashed.
 * Nothing else in the app touches a Worker object.
 */
export class Supervisor {
  private readonly groups = new Map<WorkerRole, Group>();
  private readonly slots = new Map<string, Slot>();
  private readonly listeners = new Set<(e: SupervisorEvent) => void>();
  /** The last control message per role, replayed to workers that (re)start. */
  private readonly lastControl = new Map<WorkerRole, ControlMessage>();
  private readonly now: () => number;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(private readonly opts: SupervisorOptions) {
    this.now = opts.now ?? (() => performance.now());
  }

  /** Spawns a group's workers; resolves once all of them are warm and ready. */
  async addGroup(config: GroupConfig): Promise<void> {
    const group: Group = {
      config,
      slots: [],
      nextStartAt: 0,
      channel: new Channel<FrameHandle>(config.role, config.channel.policy, config.channel.capacity, {
        deliver: (handle, id) => this.deliver(this.slot(id), handle),
        dropped: (handle) => {
          this.opts.store.release(handle);
          this.opts.dispatcher.skip(config.role, handle.meta.seq);
        },
      }),
    };
    this.groups.set(config.role, group);
    const starts: Promise<void>[] = [];
    for (let i = 0; i < config.size; i++) {
      const id = `${config.role}-${i + 1}`;
      const [slot, port] = this.spawnSlot(group, id);
      group.slots.push(slot);
      this.slots.set(id, slot);
      group.channel.addConsumer(id, 1, true);
      starts.push(this.startSlot(slot, port));
    }
    await Promise.all(starts);
    this.watchdog ??= setInterval(() => this.checkHealth(), Math.max(20, Math.min(250, this.opts.watchdogFloorMs / 4)));
  }

  /** Offers a frame to a group; a promise means the producer must wait (block policy). */
  offer(role: WorkerRole, handle: FrameHandle): Promise<void> | undefined {
    this.opts.store.retain(handle);
    return this.group(role).channel.offer(handle);
  }

  /** Stops starting frames on a role's workers (its slot keeps only the newest frame); resume() undoes it. */
  pauseRole(role: WorkerRole): void {
    for (const slot of this.group(role).slots) slot.group.channel.pause(slot.id);
  }

  resumeRole(role: WorkerRole): void {
    for (const slot of this.group(role).slots) if (slot.ready) slot.group.channel.resume(slot.id);
  }

  /** Sends a control message to every worker of a role, now and after any restart. */
  control(role: WorkerRole, msg: ControlMessage): void {
    this.lastControl.set(role, msg);
    // Posted even to a worker still starting: the port holds it until the worker listens, ahead of any frame.
    for (const slot of this.group(role).slots) slot.port.postMessage({ type: 'control', control: msg } satisfies ToWorker);
  }

  onEvent(listener: (e: SupervisorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  isIdle(role: WorkerRole): boolean {
    return this.group(role).channel.idle;
  }

  channelStats(role: WorkerRole): ChannelStats {
    return this.group(role).channel.stats();
  }

  metrics(): WorkerMetrics[] {
    const now = this.now();
    return [...this.slots.values()].map((s) => {
      const ch = s.group.channel.stats();
      const dropped = ch.dropped / s.group.slots.length;
      return {
        workerId: s.id,
        role: s.group.config.role,
        ready: s.ready,
        processed: s.processed,
        errors: s.errors,
        dropped,
        dropRate: dropRate(s.processed, dropped),
        processMsP50: s.processMs.percentile(50),
        processMsP95: s.processMs.percentile(95),
        latencyMsP50: s.latencyMs.percentile(50),
        latencyMsP95: s.latencyMs.percentile(95),
        lastSeenMsAgo: now - s.lastSeen,
        restarts: s.restarts,
        inFlight: s.inFlight.size,
        watchdogTimeoutMs: this.timeoutFor(s),
        info: s.info,
      };
    });
  }

  /** Frames held by workers right now: delivered and not yet answered. */
  get framesInWorkers(): number {
    let n = 0;
    for (const s of this.slots.values()) n += s.inFlight.size;
    return n;
  }

  /** Asks every live worker for its own counters (a hung one does not answer in time). */
  async workerStats(timeoutMs = 1000): Promise<(WorkerStats | undefined)[]> {
    return Promise.all(
      [...this.slots.values()].map((s) =>
        Promise.race([s.api.stats(), new Promise<undefined>((r) => setTimeout(() => r(undefined), timeoutMs))]),
      ),
    );
  }

  /** Terminates every worker and closes every channel; frames they held are released. */
  shutdown(): void {
    this.stopped = true;
    clearInterval(this.watchdog);
    for (const slot of this.slots.values()) {
      this.retire(slot, 'pipeline shut down');
    }
    for (const g of this.groups.values()) g.channel.close();
  }

  // ---- delivery and answers ----

  private deliver(slot: Slot, handle: FrameHandle): void {
    const generation = slot.generation;
    const sentTs = this.now();
    slot.inFlight.set(handle.meta.seq, { handle, sentTs });
    this.emit({ type: 'deliver', workerId: slot.id, seq: handle.meta.seq });
    const group = slot.group;
    if (group.config.maxRate > 0) {
      group.nextStartAt = Math.max(group.nextStartAt, sentTs) + 1000 / group.config.maxRate;
    }
    void cloneForTransfer(handle.pixels).then(
      (pixels) => {
        if (slot.generation !== generation) {
          pixels.close(); // the worker was replaced meanwhile; the frame was already accounted for
          return;
        }
        const msg: ToWorker = { type: 'frame', meta: handle.meta, pixels };
        slot.port.postMessage(msg, [pixels]);
      },
      (err: unknown) => this.answer(slot, generation, { type: 'error', seq: handle.meta.seq, message: `frame could not be handed over: ${String(err)}`, processMs: 0, openFrames: slot.workerOpenFrames }),
    );
  }

  private answer(slot: Slot, generation: number, msg: FromWorker): void {
    if (slot.generation !== generation) return;
    slot.lastSeen = this.now();
    slot.workerOpenFrames = msg.openFrames;
    if (msg.type === 'heartbeat') return;
    if (msg.type === 'info') {
      slot.info = msg.info;
      return;
    }
    const entry = slot.inFlight.get(msg.seq);
    if (!entry) return; // answered after a restart already failed it
    slot.inFlight.delete(msg.seq);
    const role = slot.group.config.role;
    const meta = entry.handle.meta;
    const latencyMs = this.now() - meta.captureTs;
    if (msg.type === 'result') {
      slot.processed++;
      slot.processMs.add(msg.processMs);
      slot.latencyMs.add(latencyMs);
      this.opts.dispatcher.push({ type: 'output', role, workerId: slot.id, seq: meta.seq, captureTs: meta.captureTs, latencyMs, output: Object.freeze(msg.output), processMs: msg.processMs });
    } else {
      slot.errors++;
      this.opts.dispatcher.push({ type: 'error', role, workerId: slot.id, seq: meta.seq, captureTs: meta.captureTs, latencyMs, message: msg.message });
    }
    this.opts.store.release(entry.handle);
    this.returnCredit(slot, generation);
  }

  private returnCredit(slot: Slot, generation: number): void {
    const wait = slot.group.nextStartAt - this.now();
    if (wait <= 0) {
      slot.group.channel.release(slot.id);
      return;
    }
    // Rate limit: hold the credit back; the slot keeps refreshing with newer frames meanwhile.
    setTimeout(() => {
      if (slot.generation === generation && !this.stopped) slot.group.channel.release(slot.id);
    }, wait);
  }

  // ---- lifecycle ----

  /** A fresh worker for `id` (reusing the slot's metrics on restart), and the port end it must be given. */
  private spawnSlot(group: Group, id: string, previous?: Slot): [Slot, MessagePort] {
    const worker = this.opts.spawn(group.config.role);
    const { port1, port2 } = new MessageChannel();
    const slot: Slot = previous ?? {
      id,
      group,
      generation: 0,
      worker,
      api: Comlink.wrap<ConsumerApi>(worker),
      port: port1,
      ready: false,
      inFlight: new Map(),
      processMs: new RollingWindow(100),
      latencyMs: new RollingWindow(100),
      processed: 0,
      errors: 0,
      restarts: 0,
      lastSeen: this.now(),
      workerOpenFrames: 0,
      info: undefined,
    };
    if (previous) {
      previous.generation++;
      previous.worker = worker;
      previous.api = Comlink.wrap<ConsumerApi>(worker);
      previous.port = port1;
      previous.ready = false;
      previous.lastSeen = this.now();
      previous.workerOpenFrames = 0;
    }
    const generation = slot.generation;
    port1.onmessage = (e: MessageEvent<FromWorker>) => this.answer(slot, generation, e.data);
    const control = this.lastControl.get(group.config.role);
    if (control) port1.postMessage({ type: 'control', control } satisfies ToWorker);
    worker.addEventListener('error', (e) => {
      e.preventDefault();
      if (slot.generation === generation && !this.stopped) this.restart(slot, `crashed: ${e.message || 'uncaught error'}`);
    });
    return [slot, port2];
  }

  private async startSlot(slot: Slot, port2: MessagePort): Promise<void> {
    const generation = slot.generation;
    const { role, processor } = slot.group.config;
    const info = await slot.api.start({ workerId: slot.id, role, processor, heartbeatMs: this.opts.heartbeatMs }, Comlink.transfer(port2, [port2]));
    if (slot.generation !== generation || this.stopped) return;
    slot.info = info;
    slot.ready = true;
    slot.lastSeen = this.now();
    slot.group.channel.resume(slot.id);
  }

  /** Replaces a worker: its in-flight frames become error results, and a fresh one takes its place. */
  private restart(slot: Slot, reason: string): void {
    this.retire(slot, reason);
    slot.restarts++;
    slot.group.channel.resetConsumer(slot.id, true);
    const [, port] = this.spawnSlot(slot.group, slot.id, slot);
    this.emit({ type: 'restart', workerId: slot.id, reason });
    this.startSlot(slot, port).catch((err: unknown) => {
      this.emit({ type: 'restart', workerId: slot.id, reason: `restart failed: ${String(err)}` });
    });
  }

  private retire(slot: Slot, reason: string): void {
    slot.generation++;
    slot.ready = false;
    slot.worker.terminate();
    slot.port.close();
    slot.api[Comlink.releaseProxy]();
    const role = slot.group.config.role;
    for (const [seq, entry] of slot.inFlight) {
      slot.errors++;
      this.opts.dispatcher.push({
        type: 'error', role, workerId: slot.id, seq, captureTs: entry.handle.meta.captureTs,
        latencyMs: this.now() - entry.handle.meta.captureTs, message: `worker ${slot.id} ${reason}`,
      });
      this.opts.store.release(entry.handle);
    }
    slot.inFlight.clear();
  }

  private emit(e: SupervisorEvent): void {
    for (const l of this.listeners) l(e);
  }

  private timeoutFor(slot: Slot): number {
    return Math.max(this.opts.watchdogFloorMs, 3 * (slot.processMs.percentile(95) ?? 0));
  }

  private checkHealth(): void {
    if (this.stopped) return;
    const now = this.now();
    for (const slot of this.slots.values()) {
      if (!slot.ready) continue;
      const timeout = this.timeoutFor(slot);
      for (const [seq, entry] of slot.inFlight) {
        if (now - entry.sentTs > timeout) {
          this.restart(slot, `hung on frame ${seq} for ${Math.round(now - entry.sentTs)} ms (timeout ${Math.round(timeout)} ms); restarted`);
          break;
        }
      }
      if (slot.ready && now - slot.lastSeen > Math.max(timeout, 4 * this.opts.heartbeatMs)) {
        this.restart(slot, `silent for ${Math.round(now - slot.lastSeen)} ms; restarted`);
      }
    }
  }

  private group(role: WorkerRole): Group {
    const g = this.groups.get(role);
    if (!g) throw new Error(`no ${role} workers`);
    return g;
  }

  private slot(id: string): Slot {
    const s = this.slots.get(id);
    if (!s) throw new Error(`no worker ${id}`);
    return s;
  }
}
