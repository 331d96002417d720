import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** A frame at 60 Hz; a slice should leave room in it for the browser's own work. */
const FRAME_MS = 1000 / 60;

/**
 * How many rows the next slice adds, from the last slice's size and how long its frame took
 * (from one animation frame to the next: the render, style, layout and paint it caused).
 * A frame well over budget halves the slice, one well within grows it, so that a slow or busy
 * machine gets small slices and a fast one is not held back.
 */
export function nextSlice(previous: number, frameGapMs: number, min = 5, max = 80): number {
  const next = frameGapMs > 2 * FRAME_MS ? previous / 2 : frameGapMs < 1.25 * FRAME_MS ? previous * 1.25 : previous;
  return Math.max(min, Math.min(max, Math.round(next)));
}

/**
 * Renders a long list a slice per animation frame, so that a 1,000-row table never holds the
 * main thread long enough to be a long task: the first slice shows at once, the rest follow
 * frame by frame, each slice sized by how the last frame went. The same list re-rendered
 * (a live refetch) keeps what it has shown; a new list (another key) starts over.
 */
export class ProgressiveController implements ReactiveController {
  private key: unknown;
  private shown = 0;
  private total = 0;
  private slice: number;
  private frame: number | undefined;
  private lastFrameAt: number | undefined;

  constructor(private readonly host: ReactiveControllerHost, private readonly first = 20) {
    this.slice = first;
    host.addController(this);
  }

  /** How many of `total` rows to render now, for the list identified by `key`. */
  count(key: unknown, total: number): number {
    if (key !== this.key) {
      this.key = key;
      this.shown = 0;
      this.slice = this.first;
      this.lastFrameAt = undefined;
    }
    this.total = total;
    this.shown = Math.min(total, Math.max(this.shown, this.first));
    if (this.shown < total) this.schedule();
    else this.lastFrameAt = undefined;
    return this.shown;
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
    this.frame = undefined;
    this.lastFrameAt = undefined;
  }

  private schedule(): void {
    if (this.frame !== undefined) return;
    this.frame = requestAnimationFrame((now) => {
      this.frame = undefined;
      if (this.lastFrameAt !== undefined) this.slice = nextSlice(this.slice, now - this.lastFrameAt);
      this.lastFrameAt = now;
      this.shown = Math.min(this.total, this.shown + this.slice);
      this.host.requestUpdate();
    });
  }
}
