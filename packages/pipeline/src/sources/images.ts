import type { FramePixels } from '../frame.js';
import type { FrameSource } from './source.js';

/** Still images (URLs or blobs) as a sequence of frames, one frame each, in order. */
export class ImageSource implements FrameSource {
  readonly label = 'images';
  private index = 0;
  private stopped = false;

  constructor(private readonly images: readonly (string | Blob)[]) {}

  async next(): Promise<FramePixels | undefined> {
    if (this.stopped || this.index >= this.images.length) return undefined;
    const item = this.images[this.index++]!;
    const blob = typeof item === 'string' ? await fetchImage(item) : item;
    const bitmap = await createImageBitmap(blob);
    if (typeof VideoFrame === 'undefined') return bitmap;
    const frame = new VideoFrame(bitmap, { timestamp: this.index * 1_000_000 });
    bitmap.close();
    return frame;
  }

  stop(): void {
    this.stopped = true;
  }
}

async function fetchImage(url: string): Promise<Blob> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`image ${url}: HTTP ${res.status}`);
  return res.blob();
}
