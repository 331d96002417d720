import type { VisionResult } from '../vision/vision-pipeline';
import { Tracker, type Track } from '../tracking/tracker';

/** The objects on screen right now: tracked, each with an identity that lasts while it is in view. */
export interface LiveSceneView {
  readonly width: number;
  readonly height: number;
  /** Confirmed tracks, matched in the newest frame or briefly lost (shown where the motion model expects them). */
  readonly tracks: readonly Track[];
  /** The newest frame these tracks are as of. */
  readonly seq: number;
}

/**
 * The page's tracker. It consumes localization results as the dispatcher hands them out, in
 * sequence order (frames the pool finished out of order are reordered there; frames a live
 * policy dropped are simply absent, and the motion model predicts across the gap).
 */
export class LiveScene {
  private readonly tracker: Tracker;
  private view: LiveSceneView = { width: 0, height: 0, tracks: [], seq: 0 };

  constructor(scoreThreshold: number) {
    this.tracker = new Tracker({ highScore: scoreThreshold, newTrackScore: scoreThreshold });
  }

  get current(): LiveSceneView {
    return this.view;
  }

  /** Returns true when the scene changed (a localization result with detections). */
  onResult(r: VisionResult): boolean {
    if (r.role !== 'localization' || r.seq <= this.view.seq) return false;
    if (r.type === 'error') {
      // An unreadable frame is a frame in which nothing was seen: tracks age, none is born.
      this.view = { ...this.view, tracks: this.visible(this.tracker.update([], r.captureTs)), seq: r.seq };
      return true;
    }
    if (r.output.kind !== 'detections') return false;
    const o = r.output;
    this.view = { width: r.width, height: r.height, tracks: this.visible(this.tracker.update([...o.detections, ...o.uncertain], r.captureTs)), seq: r.seq };
    return true;
  }

  /** A new source: identities start again. */
  reset(): void {
    this.tracker.reset();
    this.view = { width: 0, height: 0, tracks: [], seq: 0 };
  }

  private visible(tracks: readonly Track[]): Track[] {
    return tracks.filter((t) => t.confirmed);
  }
}
