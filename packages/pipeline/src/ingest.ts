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
  private done: Promise<void> | undefined;

  constructor(
    private readonly source: FrameSource,
    private readonly store: FrameStore,
    private readonly roles: readonly string[],
    private readonly offer: Offer,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.arrivals = new RateCounter(now);
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

  /** Frames read in the last second. */
  inputFps(): number {
    return this.arrivals.perSecond();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const pixels = await this.source.next();
      if (!pixels) break;
      if (this.stopping) {
        pixels.close();
        break;
      }
      const captureTs = this.now();
      this.arrivals.mark(captureTs);
      const handle = this.store.add({ seq: ++this.seq, captureTs, ...frameSize(pixels) }, pixels);
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
