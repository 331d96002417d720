import type { FramePixels } from '../frame.js';

/**
 * Where frames come from. The ingest pulls one frame at a time and only pulls again
 * when every channel has taken the last one, so a pull-based source (a file) is paused
 * by back-pressure, while a live source (a camera) just keeps its own small buffer fresh.
 */
export interface FrameSource {
  readonly label: string;
  /** The next frame, owned by the caller from then on; undefined when the source has ended. */
  next(): Promise<FramePixels | undefined>;
  /** Ends the source: a pending or later next() resolves undefined. */
  stop(): void;
  /**
   * Set by a source whose frames are the capturer's own buffers (a camera): how many of them the
   * pipeline may hold at once, queued or in workers, before the capturer runs out and delivers
   * fewer frames. A frame that arrives beyond it is copied into memory the pipeline owns and the
   * capturer's buffer goes back at once. Undefined: the frames are the pipeline's own (a file,
   * bitmaps, synthetic frames) and holding them starves nothing.
   */
  readonly captureBudget?: number;
}

/** Width and height of either kind of frame. */
export function frameSize(pixels: FramePixels): { width: number; height: number } {
  if (typeof VideoFrame !== 'undefined' && pixels instanceof VideoFrame) return { width: pixels.displayWidth, height: pixels.displayHeight };
  return { width: (pixels as ImageBitmap).width, height: (pixels as ImageBitmap).height };
}
