import * as Comlink from 'comlink';
import type { FrameMeta, FramePixels } from './frame.js';
import type { ConsumerApi, FromWorker, ProcessorInfo, ToWorker, WorkerInit, WorkerStats } from './protocol.js';

/** Creates one worker of a group; each restart calls it again. */
export type SpawnWorker = () => Worker;

/** A frame sent to the worker and not answered yet. */
export interface InFlight {
  readonly meta: FrameMeta;
  readonly sentTs: number;
  /** The worker's clone shares a capturer's buffer (see capture-budget.ts). */
  readonly backed: boolean;
}

/** A worker's answer to one frame. */
export type FrameAnswer = Extract<FromWorker, { type: 'result' | 'error' }>;

export interface WorkerHandleHooks {
  /** The worker answered a frame this handle sent it (once per frame). */
  answered(entry: InFlight, answer: FrameAnswer): void;
  /** The worker died of an uncaught error. */
  crashed(reason: string): void;
}

/**
 * One generation of one worker: the Worker, its frame port, its comlink proxy and the
 * frames it holds. A restart terminates the handle and makes a new one; a terminated
 * handle has nothing in flight and reports nothing, so a late answer or crash from an
 * old worker cannot touch its successor.
 */
export class WorkerHandle {
  /** Frames sent and not answered, by seq. */
  readonly inFlight = new Map<number, InFlight>();
  ready = false;
  lastSeen: number;
  info: ProcessorInfo | undefined;
  private readonly worker: Worker;
  private readonly api: Comlink.Remote<ConsumerApi>;
  private readonly port: MessagePort;
  private readonly remotePort: MessagePort;
  private terminated = false;

  constructor(
    spawn: SpawnWorker,
    private readonly hooks: WorkerHandleHooks,
    private readonly now: () => number,
    control?: unknown,
  ) {
    this.worker = spawn();
    this.api = Comlink.wrap<ConsumerApi>(this.worker);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.remotePort = port2;
    this.lastSeen = now();
    port1.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    // The port holds messages until the worker listens: a replayed control arrives ahead of any frame.
    if (control) this.control(control);
    this.worker.addEventListener('error', (e) => {
      e.preventDefault();
      if (!this.terminated) this.hooks.crashed(`crashed: ${e.message || 'uncaught error'}`);
    });
  }

  /** Builds and warms the worker's processor; true once it is ready, false if terminated meanwhile. */
  async start(init: WorkerInit): Promise<boolean> {
    let info: ProcessorInfo;
    try {
      info = await this.api.start(init, Comlink.transfer(this.remotePort, [this.remotePort]));
    } catch (err) {
      if (this.terminated) return false; // a replaced worker's start failing is nobody's business
      throw err;
    }
    if (this.terminated) return false;
    this.info = info;
    this.ready = true;
    this.lastSeen = this.now();
    return true;
  }

  control(msg: unknown): void {
    this.port.postMessage({ type: 'control', control: msg } satisfies ToWorker);
  }

  /** Sends a frame; `pixels` is the worker's own clone, transferred once it exists. */
  send(meta: FrameMeta, pixels: Promise<FramePixels>, backed = false): void {
    this.inFlight.set(meta.seq, { meta, sentTs: this.now(), backed });
    pixels.then(
      (clone) => {
        if (this.terminated) clone.close(); // its frame was already failed by terminate()
        else this.port.postMessage({ type: 'frame', meta, pixels: clone } satisfies ToWorker, [clone]);
      },
      (err: unknown) => this.receive({ type: 'error', seq: meta.seq, message: `frame could not be handed over: ${String(err)}`, processMs: 0 }),
    );
  }

  /** The oldest unanswered frame, if any. */
  oldest(): InFlight | undefined {
    let oldest: InFlight | undefined;
    for (const entry of this.inFlight.values()) if (!oldest || entry.sentTs < oldest.sentTs) oldest = entry;
    return oldest;
  }

  /** The worker's own counters; undefined if it does not answer within `timeoutMs` (hung, or gone). */
  stats(timeoutMs: number): Promise<WorkerStats | undefined> {
    if (this.terminated) return Promise.resolve(undefined);
    return Promise.race([this.api.stats(), new Promise<undefined>((r) => setTimeout(() => r(undefined), timeoutMs))]);
  }

  /** Ends the worker; returns the frames it still held (their owner reports them failed). */
  terminate(): InFlight[] {
    this.terminated = true;
    this.ready = false;
    this.worker.terminate();
    this.port.close();
    this.api[Comlink.releaseProxy]();
    const lost = [...this.inFlight.values()];
    this.inFlight.clear();
    return lost;
  }

  private receive(msg: FromWorker): void {
    if (this.terminated) return;
    this.lastSeen = this.now();
    switch (msg.type) {
      case 'heartbeat':
        return;
      case 'info':
        this.info = msg.info;
        return;
      case 'result':
      case 'error': {
        const entry = this.inFlight.get(msg.seq);
        if (!entry) return;
        this.inFlight.delete(msg.seq);
        this.hooks.answered(entry, msg);
        return;
      }
      default:
        return msg satisfies never;
    }
  }
}
