import type { FramePixels } from '../../shared/protocol';
import type { FrameSource } from './source';

/**
 * Every frame of a video file, in order, by stepping the playhead: each pull seeks to
 * the next frame time and waits for it, so nothing is skipped and a slow pipeline
 * simply pauses the reader (lossless, for the `block` policy).
 */
export class VideoFileSource implements FrameSource {
  readonly label: string;
  private readonly video = document.createElement('video');
  private index = 0;
  private stopped = false;
  private url: string | undefined;

  constructor(
    private readonly file: Blob | string,
    /** Frame rate to step at; files rarely state it reliably, so the caller says. */
    readonly fps = 30,
  ) {
    this.label = typeof file === 'string' ? file : 'video file';
  }

  async open(): Promise<{ frames: number; durationS: number }> {
    this.url = typeof this.file === 'string' ? this.file : URL.createObjectURL(this.file);
    this.video.muted = true;
    this.video.preload = 'auto';
    this.video.src = this.url;
    await new Promise<void>((resolve, reject) => {
      this.video.onloadeddata = () => resolve();
      this.video.onerror = () => reject(new Error(`the video could not be decoded (${this.video.error?.message || 'unsupported format'})`));
    });
    const durationS = this.video.duration;
    return { frames: Math.max(1, Math.round(durationS * this.fps)), durationS };
  }

  async next(): Promise<FramePixels | undefined> {
    if (this.stopped) return undefined;
    const t = this.index / this.fps;
    if (t >= this.video.duration) return undefined;
    this.index++;
    // Seek to the middle of the frame's interval, away from rounding at its edges.
    await this.seek(t + 0.5 / this.fps);
    if (this.stopped) return undefined;
    return new VideoFrame(this.video, { timestamp: Math.round(t * 1_000_000) });
  }

  stop(): void {
    this.stopped = true;
    if (this.url && typeof this.file !== 'string') URL.revokeObjectURL(this.url);
  }

  private seek(t: number): Promise<void> {
    return new Promise((resolve) => {
      this.video.addEventListener('seeked', () => resolve(), { once: true });
      this.video.currentTime = Math.min(t, this.video.duration);
    });
  }
}
