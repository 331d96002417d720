import type { FrameSource } from './source.js';

export interface MemorySourceOptions {
  /** Frames per second handed out, steadily; must be > 0 (an unpaced loop would only measure itself). */
  readonly fps: number;
  /** Frames to hand out before ending; Infinity to run until stopped. */
  readonly count?: number;
}

/**
 * Frames decoded once and handed out round-robin at a steady rate, each as a clone (no pixel
 * copy): a source that costs nothing per frame. The benchmark measures the pipeline's own
 * overhead with it, apart from what a camera costs the machine. The source owns `frames` and
 * closes them when stopped or ended.
 */
export class MemorySource implements FrameSource {
  readonly label: string;
  private produced = 0;
  private stopped = false;
  private startedAt: number | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly frames: readonly VideoFrame[], private readonly opts: MemorySourceOptions) {
    if (frames.length === 0) throw new RangeError('memory source: no frames to cycle');
    if (!(opts.fps > 0)) throw new RangeError(`memory source: fps must be > 0, got ${opts.fps}`);
    this.label = `memory ${frames.length} frames at ${opts.fps} fps`;
  }

  async next(): Promise<VideoFrame | undefined> {
    if (this.stopped || this.produced >= (this.opts.count ?? Infinity)) return this.end();
    this.startedAt ??= performance.now();
    const wait = this.startedAt + (this.produced * 1000) / this.opts.fps - performance.now();
    if (wait > 0) await new Promise<void>((r) => ((this.wake = r), setTimeout(r, wait)));
    if (this.stopped) return this.end();
    return this.frames[this.produced++ % this.frames.length]!.clone();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
    this.end();
  }

  private end(): undefined {
    for (const f of this.frames) f.close(); // closing twice is harmless for a VideoFrame
    return undefined;
  }
}
