// A frame as it travels: its pixels (transferred, never copied) and what the page stamped on it.
// Used on both sides of the worker boundary and by the model code, so it depends on nothing.

/** Pixels as they cross the boundary: always transferred, never copied. */
export type FramePixels = VideoFrame | ImageBitmap;

export interface FrameMeta {
  readonly seq: number;
  /** performance.now() on the page when ingest read the frame. */
  readonly captureTs: number;
  readonly width: number;
  readonly height: number;
}
