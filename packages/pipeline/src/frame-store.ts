import type { FrameMeta, FramePixels } from './frame.js';

/** One ingested frame, shared by every channel and consumer that holds it. */
export interface FrameHandle {
  readonly meta: FrameMeta;
  readonly pixels: FramePixels;
  /** The pixels are the capturer's own buffer (see capture-budget.ts): holding them costs the camera. */
  readonly backed: boolean;
}

/**
 * Reference counts frames across consumers and closes each exactly once, when the last
 * holder lets go. A closed frame cannot be released again: that is a bug, and it throws.
 */
export class FrameStore {
  private readonly refs = new Map<FrameHandle, number>();
  private closedCount = 0;
  /** Capturer-backed frames open here, by seq. */
  private readonly backedSeqs = new Set<number>();

  /** Takes ownership of `pixels`, with one reference held by the caller. */
  add(meta: FrameMeta, pixels: FramePixels, backed = false): FrameHandle {
    const handle: FrameHandle = Object.freeze({ meta: Object.freeze({ ...meta }), pixels, backed });
    this.refs.set(handle, 1);
    if (backed) this.backedSeqs.add(meta.seq);
    return handle;
  }

  retain(handle: FrameHandle): void {
    this.refs.set(handle, this.count(handle) + 1);
  }

  release(handle: FrameHandle): void {
    const n = this.count(handle) - 1;
    if (n > 0) {
      this.refs.set(handle, n);
      return;
    }
    this.refs.delete(handle);
    this.closedCount++;
    this.backedSeqs.delete(handle.meta.seq);
    handle.pixels.close();
  }

  /** Closes whatever is still held (shutdown); returns how many were. */
  closeAll(): number {
    const leaked = this.refs.size;
    for (const handle of this.refs.keys()) handle.pixels.close();
    this.closedCount += leaked;
    this.backedSeqs.clear();
    this.refs.clear();
    return leaked;
  }

  get open(): number {
    return this.refs.size;
  }

  /** Capturer-backed frames open on the page (queued, or not yet handed to a worker), by seq. */
  get backed(): ReadonlySet<number> {
    return this.backedSeqs;
  }

  get closed(): number {
    return this.closedCount;
  }

  private count(handle: FrameHandle): number {
    const n = this.refs.get(handle);
    if (n === undefined) throw new Error(`frame ${handle.meta.seq} is not held by the store (already closed?)`);
    return n;
  }
}

/**
 * A second handle on the same pixels, for transferring to one consumer. A VideoFrame
 * clone shares the underlying buffer (no pixel copy); an ImageBitmap has no such clone,
 * so the fallback path pays for one copy per extra consumer.
 */
export async function cloneForTransfer(pixels: FramePixels): Promise<FramePixels> {
  if (typeof VideoFrame !== 'undefined' && pixels instanceof VideoFrame) return pixels.clone();
  return createImageBitmap(pixels);
}
