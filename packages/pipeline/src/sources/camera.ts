import type { FramePixels } from '../frame.js';
import type { FrameSource } from './source.js';

/** A camera problem a person can act on, with the message to show them. */
export class CameraError extends Error {
  constructor(
    readonly reason: 'denied' | 'no-camera' | 'in-use' | 'unsupported' | 'ended' | 'other',
    message: string,
  ) {
    super(message);
  }
}

export function describeCameraError(err: unknown): CameraError {
  if (err instanceof CameraError) return err;
  const name = err instanceof DOMException ? err.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new CameraError('denied', 'Camera permission was denied. Allow the camera for this site (the camera icon in the address bar), then press Start again.');
    case 'NotFoundError':
    case 'OverconstrainedError':
      return new CameraError('no-camera', 'No camera was found. Plug one in, or analyse a video file instead.');
    case 'NotReadableError':
    case 'AbortError':
      return new CameraError('in-use', 'The camera could not be opened: another app may be using it. Close that app and press Start again.');
    default:
      return new CameraError('other', `The camera could not be started: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export const FACINGS = ['environment', 'user'] as const;
/** Which camera: the one facing the scene (a phone's rear camera) or the one facing the person. */
export type Facing = (typeof FACINGS)[number];

/**
 * What to ask the camera for. `ideal`, not `exact`: a laptop whose only camera faces the person
 * still opens it, while a phone opens its rear camera, the one that sees the task.
 */
export function cameraConstraints(facing: Facing = 'environment'): MediaTrackConstraints {
  return { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: { ideal: facing } };
}

/** How many frames the capturer could have held before it stopped delivering, measured when the camera opened. */
export interface CaptureProbe {
  /** Frames the pipeline may hold while the camera still delivers the next one. */
  readonly budget: number;
  /** False when the camera never stalled within the frames probed: the budget is a floor. */
  readonly stalled: boolean;
  /** Frames read while probing (closed, except the newest, which is the first one handed out). */
  readonly probedFrames: number;
}

/** Frames probed at most: a pool this deep is deep enough for any queue the pipeline allows by default. */
const PROBE_LIMIT = 8;

type TrackProcessorCtor = new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => { readable: ReadableStream<VideoFrame> };

/** Chrome exposes MediaStreamTrackProcessor on the page too, where the spec (and TypeScript's DOM types) only has it in workers. */
function windowTrackProcessor(): TrackProcessorCtor | undefined {
  return (globalThis as { MediaStreamTrackProcessor?: TrackProcessorCtor }).MediaStreamTrackProcessor;
}

/**
 * Live camera frames. Uses MediaStreamTrackProcessor (VideoFrames straight from the
 * capture pipeline) where the browser has it; otherwise requestVideoFrameCallback on a
 * <video> element and createImageBitmap.
 */
export class CameraSource implements FrameSource {
  readonly label = 'camera';
  private stream: MediaStream | undefined;
  private reader: ReadableStreamDefaultReader<VideoFrame> | undefined;
  private video: HTMLVideoElement | undefined;
  private stopped = false;
  private ended = false;
  private pendingResolve: ((p: FramePixels | undefined) => void) | undefined;
  /** Fallback path: the newest bitmap not yet pulled (older ones are closed: live means newest). */
  private latest: ImageBitmap | undefined;
  /** The read left pending when the probe saw the camera stall: the first frame next() returns. */
  private pendingRead: Promise<ReadableStreamReadResult<VideoFrame>> | undefined;
  /** Set by open() on the track-processor path, where frames are the capturer's buffers. */
  probe: CaptureProbe | undefined;

  constructor(private readonly constraints: MediaTrackConstraints = cameraConstraints()) {}

  /** Opens the camera; throws a CameraError with a message for the person. */
  async open(): Promise<MediaStream> {
    if (!navigator.mediaDevices?.getUserMedia) throw new CameraError('unsupported', 'This browser cannot use a camera here (a secure context — https or localhost — is required).');
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ video: this.constraints, audio: false });
    } catch (err) {
      throw describeCameraError(err);
    }
    const track = this.stream.getVideoTracks()[0];
    if (!track) throw new CameraError('no-camera', 'The camera stream has no video track.');
    track.addEventListener('ended', () => {
      this.ended = true;
      this.pendingResolve?.(undefined);
      // A pending read would wait forever on a track that produces nothing more.
      void this.reader?.cancel().catch(() => {});
    });
    const TrackProcessor = windowTrackProcessor();
    if (TrackProcessor) {
      // Keep the processor's own buffer tiny: a live source should hand over the newest frame.
      const processor = new TrackProcessor({ track, maxBufferSize: 2 });
      this.reader = processor.readable.getReader();
      this.probe = await this.probeCapturePool(this.reader);
    } else {
      this.video = document.createElement('video');
      this.video.muted = true;
      this.video.playsInline = true;
      this.video.srcObject = this.stream;
      await this.video.play();
      this.watchVideo(this.video);
    }
    return this.stream;
  }

  /** See FrameSource.captureBudget: measured at open; undefined on the bitmap path, whose frames are copies already. */
  get captureBudget(): number | undefined {
    return this.probe?.budget;
  }

  /**
   * Measures the capture pool: hold every frame read until the next one does not come within
   * four frame intervals (at least 250 ms). If holding n frames stalls the camera, the pipeline
   * may hold n − 1. A few hundred milliseconds at open, and measured rather than guessed: pools
   * differ by browser, platform and camera.
   */
  private async probeCapturePool(reader: ReadableStreamDefaultReader<VideoFrame>): Promise<CaptureProbe> {
    const held: VideoFrame[] = [];
    let count = 0;
    let firstAt = 0;
    let interval = 0;
    let stalled = false;
    try {
      while (held.length <= PROBE_LIMIT) {
        const read = reader.read();
        // The first frame may take a camera's start-up; after that, a stall is four intervals of silence.
        const waitMs = held.length === 0 ? 10_000 : Math.max(250, 4 * interval);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const r = await Promise.race([read, new Promise<'stalled'>((resolve) => (timer = setTimeout(() => resolve('stalled'), waitMs)))]);
        clearTimeout(timer);
        if (r === 'stalled') {
          stalled = true;
          this.pendingRead = read;
          break;
        }
        if (r.done || !r.value) break;
        held.push(r.value);
        count++;
        if (held.length === 1) firstAt = performance.now();
        else if (held.length === 2) interval = performance.now() - firstAt;
      }
    } finally {
      // The newest frame read is the first one handed out when nothing is pending; the rest go back.
      const keep = this.pendingRead ? undefined : held.pop();
      for (const f of held) f.close();
      if (keep) this.pendingRead = Promise.resolve({ done: false, value: keep });
    }
    return { budget: stalled ? Math.max(0, count - 1) : Math.min(count, PROBE_LIMIT), stalled, probedFrames: count };
  }

  /** True when the camera stopped on its own (unplugged, revoked), not by stop(). */
  get endedByDevice(): boolean {
    return this.ended && !this.stopped;
  }

  async next(): Promise<FramePixels | undefined> {
    if (this.stopped || this.ended) return undefined;
    if (this.reader) {
      const pending = this.pendingRead;
      this.pendingRead = undefined;
      const { value, done } = await (pending ?? this.reader.read());
      if (done || !value) return undefined;
      if (this.stopped) {
        value.close();
        return undefined;
      }
      return value;
    }
    const ready = this.latest;
    if (ready) {
      this.latest = undefined;
      return ready;
    }
    return new Promise((resolve) => (this.pendingResolve = resolve));
  }

  stop(): void {
    this.stopped = true;
    this.stream?.getTracks().forEach((t) => t.stop());
    // Cancelling the reader would discard the frames the track processor still buffers without
    // closing them; with the track stopped its stream ends, so read them out and close each.
    const pending = this.pendingRead;
    this.pendingRead = undefined;
    void pending?.then((r) => r.value?.close()).catch(() => {});
    const reader = this.reader;
    if (reader) {
      void (async () => {
        for (let r = await reader.read(); !r.done; r = await reader.read()) r.value?.close();
      })().catch(() => {});
    }
    this.latest?.close();
    this.latest = undefined;
    this.pendingResolve?.(undefined);
    this.pendingResolve = undefined;
  }

  private watchVideo(video: HTMLVideoElement): void {
    const onFrame = async () => {
      if (this.stopped || this.ended) return;
      const bitmap = await createImageBitmap(video);
      if (this.pendingResolve) {
        const resolve = this.pendingResolve;
        this.pendingResolve = undefined;
        resolve(bitmap);
      } else {
        this.latest?.close();
        this.latest = bitmap;
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }
}
