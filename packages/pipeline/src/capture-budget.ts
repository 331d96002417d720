// What a camera-backed frame costs the camera: while the pipeline holds it (queued or in a
// worker) the capturer cannot refill that buffer, and with a small capture pool a deep queue
// starves the very camera it is fed by. Beyond the source's budget a frame is copied into memory
// the pipeline owns and the capturer's buffer is released at once.
import type { FramePixels } from './frame.js';

/** One reusable staging buffer: `new VideoFrame(buffer, …)` copies out of it, so it is free again at once. */
export class StagingBuffer {
  private buffer = new ArrayBuffer(0);

  take(bytes: number): ArrayBuffer {
    if (this.buffer.byteLength < bytes) this.buffer = new ArrayBuffer(bytes);
    return this.buffer;
  }
}

/**
 * An owned copy of a camera frame (the original is closed): its visible pixels copied with
 * `copyTo` into the staging buffer, then into a new VideoFrame that the page owns. A frame whose
 * pixels have no CPU format (a GPU texture) is copied through an ImageBitmap instead.
 */
export async function ownedCopy(pixels: FramePixels, staging: StagingBuffer): Promise<FramePixels> {
  // A bitmap is already the page's own.
  if (typeof VideoFrame === 'undefined' || !(pixels instanceof VideoFrame)) return pixels;
  try {
    const format = pixels.format;
    if (!format) {
      const bitmap = await createImageBitmap(pixels);
      const copy = new VideoFrame(bitmap, { timestamp: pixels.timestamp });
      bitmap.close();
      return copy;
    }
    const rect = pixels.visibleRect!;
    const buffer = staging.take(pixels.allocationSize());
    const layout = await pixels.copyTo(buffer);
    return new VideoFrame(buffer, {
      format,
      codedWidth: rect.width,
      codedHeight: rect.height,
      layout,
      timestamp: pixels.timestamp,
      displayWidth: pixels.displayWidth,
      displayHeight: pixels.displayHeight,
      colorSpace: pixels.colorSpace.toJSON(),
    });
  } finally {
    pixels.close();
  }
}

/** What the pipeline did with a budgeted source's frames. */
export interface CaptureStats {
  /** The source's budget; undefined when its frames cost the source nothing to hold. */
  readonly budget: number | undefined;
  /** Capturer-backed frames held now (on the page and in workers). */
  readonly held: number;
  /** The most ever held at once. */
  readonly heldMax: number;
  /** Frames copied into owned memory because the budget was full. */
  readonly copied: number;
}

/**
 * Admits a source's frames within its capture budget: while fewer than `budget` capturer-backed
 * frames are held (by the store and in workers: `held`), a frame goes in as it is; beyond it,
 * as an owned copy, so the capturer gets its buffer back at once.
 */
export class CaptureGate {
  private heldMax = 0;
  private copied = 0;
  private readonly staging = new StagingBuffer();

  constructor(
    private readonly budget: number | undefined,
    private readonly held: () => number,
  ) {}

  async admit(pixels: FramePixels): Promise<{ pixels: FramePixels; backed: boolean }> {
    if (this.budget === undefined) return { pixels, backed: false };
    const held = this.held();
    if (held < this.budget) {
      this.heldMax = Math.max(this.heldMax, held + 1);
      return { pixels, backed: true };
    }
    this.copied++;
    return { pixels: await ownedCopy(pixels, this.staging), backed: false };
  }

  stats(): CaptureStats {
    return { budget: this.budget, held: this.budget === undefined ? 0 : this.held(), heldMax: this.heldMax, copied: this.copied };
  }
}
