import { CaptureGate, type CaptureStats } from './capture-budget.js';
import type { FrameStore, FrameHandle } from './frame-store.js';
import { frameSize, type FrameSource } from './sources/source.js';
import { RateCounter } from './stats.js';

export type Offer = (role: string, handle: FrameHandle) => Promise<void> | undefined;

/**
 * The page's only per-frame work: read a frame, stamp it, offer it to every channel.
 * It waits only where a channel's policy is `block`; live policies never make it wait.
 */
export class Ingest {
  private seq = 0;
  private stopping = false;
  private readonly arrivals: RateCounter;
  private readonly gate: CaptureGate;
  private done: Promise<void> | undefined;

  /** `heldInWorkers`: adds the seqs of the capturer-backed frames the workers hold now to a set (the store knows the page's). */
  constructor(
    private readonly source: FrameSource,
    private readonly store: FrameStore,
    private readonly roles: readonly string[],
    private readonly offer: Offer,
    heldInWorkers: (into: Set<number>) => Set<number> = (into) => into,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.arrivals = new RateCounter(now);
    // One buffer held by the page and by workers (clones share it) counts once.
    this.gate = new CaptureGate(source.captureBudget, () => heldInWorkers(new Set(store.backed)).size);
  }

  start(): Promise<void> {
    this.done ??= this.run();
    return this.done;
  }

  /**
   * Stops reading; resolves once the last frame read has been offered. With
   * `stopSource` false the source stays open, to be read by another pipeline.
   */
  async stop(stopSource = true): Promise<void> {
    this.stopping = true;
    if (stopSource) this.source.stop();
    await this.done;
  }

  get framesIn(): number {
    return this.seq;
  }

  capture(): CaptureStats {
    return this.gate.stats();
  }

  /** Frames read in the last second. */
  inputFps(): number {
    return this.arrivals.perSecond();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const read = await this.source.next();
      if (!read) break;
      if (this.stopping) {
        read.close();
        break;
      }
      const captureTs = this.now();
      this.arrivals.mark(captureTs);
      const { pixels, backed } = await this.gate.admit(read);
      const handle = this.store.add({ seq: ++this.seq, captureTs, ...frameSize(pixels) }, pixels, backed);
      const waits: Promise<void>[] = [];
      for (const role of this.roles) {
        const wait = this.offer(role, handle);
        if (wait) waits.push(wait);
      }
      this.store.release(handle); // the ingest's own reference
      if (waits.length > 0) await Promise.all(waits);
    }
  }
}
