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
}

/** Width and height of either kind of frame. */
export function frameSize(pixels: FramePixels): { width: number; height: number } {
  if (typeof VideoFrame !== 'undefined' && pixels instanceof VideoFrame) return { width: pixels.displayWidth, height: pixels.displayHeight };
  return { width: (pixels as ImageBitmap).width, height: (pixels as ImageBitmap).height };
}
