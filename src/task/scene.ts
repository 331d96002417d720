import type { Track } from '../tracking/tracker';
import type { Box, Scene } from './predicates';

/** An object lost by the tracker still counts as present for this long: detectors miss frames. */
export const PRESENCE_GRACE_MS = 700;

/**
 * The scene a task is judged on: tracked objects, not one frame's boxes. A confirmed track is
 * present while it is matched or missed for at most `graceMs`; its score is the best it has
 * shown (its smoothed peak), so a box whose score hovers around a step's minimum does not
 * flicker in and out; counts count tracks.
 */
export function trackedScene(tracks: readonly Track[], width: number, height: number, graceMs = PRESENCE_GRACE_MS): Scene {
  const detections: Box[] = tracks
    .filter((t) => t.confirmed && (t.state === 'tracked' || t.missedMs <= graceMs))
    .map((t) => ({ id: t.id, label: t.label, score: t.peakScore, scoreNow: t.score, x: t.x, y: t.y, w: t.w, h: t.h }));
  return { width, height, detections };
}
