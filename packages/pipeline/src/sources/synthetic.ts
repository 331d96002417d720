import type { FramePixels } from '../frame.js';
import type { FrameSource } from './source.js';

export interface SyntheticOptions {
  /** Frames per second; 0 = as fast as the pipeline pulls. */
  readonly fps: number;
  /** Frames to produce before ending; Infinity for a live-like source. */
  readonly count: number;
  readonly width?: number;
  readonly height?: number;
}

/**
 * A camera stand-in that draws its frame number (brightness ramps with it), for tests
 * and benchmarks that need exact control of timing and frame count.
 */
export class SyntheticSource implements FrameSource {
  readonly label: string;
  private produced = 0;
  private stopped = false;
  private readonly canvas: OffscreenCanvas;
  private readonly ctx: OffscreenCanvasRenderingContext2D;
  private startedAt: number | undefined;

  constructor(private readonly opts: SyntheticOptions) {
    this.label = `synthetic ${opts.fps || 'unpaced'} fps`;
    this.canvas = new OffscreenCanvas(opts.width ?? 320, opts.height ?? 240);
    const ctx = this.canvas.getContext('2d');
    if (!ctx) throw new Error('synthetic source: no 2D context');
    this.ctx = ctx;
  }

  async next(): Promise<FramePixels | undefined> {
    if (this.stopped || this.produced >= this.opts.count) return undefined;
    if (this.opts.fps > 0) {
      this.startedAt ??= performance.now();
      const due = this.startedAt + (this.produced * 1000) / this.opts.fps;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (this.stopped) return undefined;
    }
    const n = this.produced++;
    const { width, height } = this.canvas;
    const level = n % 256;
    this.ctx.fillStyle = `rgb(${level},${level},${level})`;
    this.ctx.fillRect(0, 0, width, height);
    this.ctx.fillStyle = level < 128 ? '#fff' : '#000';
    this.ctx.font = `${Math.round(height / 4)}px sans-serif`;
    this.ctx.fillText(String(n + 1), 8, height / 2);
    return new VideoFrame(this.canvas, { timestamp: Math.round((n * 1_000_000) / (this.opts.fps || 30)) });
  }

  stop(): void {
    this.stopped = true;
  }
}
