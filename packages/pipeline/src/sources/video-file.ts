import type { FramePixels } from '../frame.js';
import type { FrameSource } from './source.js';

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

  /** Frames per second the file is stepped at: measured on open unless given. */
  fps: number;

  constructor(
    private readonly file: Blob | string,
    fps?: number,
  ) {
    this.label = typeof file === 'string' ? file : 'video file';
    this.fps = fps ?? 0;
  }

  async open(): Promise<{ frames: number; durationS: number; fps: number }> {
    this.url = typeof this.file === 'string' ? this.file : URL.createObjectURL(this.file);
    this.video.muted = true;
    this.video.preload = 'auto';
    this.video.src = this.url;
    await new Promise<void>((resolve, reject) => {
      this.video.onloadeddata = () => resolve();
      this.video.onerror = () => reject(new Error(`the video could not be decoded (${this.video.error?.message || 'unsupported format'})`));
    });
    const durationS = this.video.duration;
    if (!Number.isFinite(durationS) || durationS <= 0) throw new Error('the video has no duration (a live or broken file?)');
    if (!this.fps) this.fps = await this.measureFps();
    return { frames: Math.max(1, Math.round(durationS * this.fps)), durationS, fps: this.fps };
  }

  /**
   * Containers rarely state a trustworthy frame rate, so play the start muted and read
   * the spacing of presented frames (requestVideoFrameCallback's mediaTime).
   */
  private async measureFps(): Promise<number> {
    const times: number[] = [];
    await new Promise<void>((done) => {
      const stop = () => {
        this.video.pause();
        done();
      };
      const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
        times.push(meta.mediaTime);
        if (times.length >= 8) return stop();
        this.video.requestVideoFrameCallback(onFrame);
      };
      this.video.requestVideoFrameCallback(onFrame);
      this.video.onended = stop;
      setTimeout(stop, 3000);
      void this.video.play().catch(stop);
    });
    const deltas = times.slice(1).map((t, i) => t - times[i]!).filter((d) => d > 0).sort((a, b) => a - b);
    const frame = deltas[0];
    // The smallest spacing is one frame (playback can skip, never split); fall back to 30.
    return frame ? Math.round(1 / frame) : 30;
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
