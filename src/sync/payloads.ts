// Event payloads in the shapes the record keeps: compact, and always inside the backend's limits.
import type { Detection } from '../model/decode';
import { LIMITS } from './protocol';
import { jsonBytes } from './bounded-json';

/** At most this many boxes per frame are recorded (the highest scores); the rest are counted in `omitted`. */
export const MAX_BOXES_PER_FRAME = 300;
/** A frame's payload stays under this, well inside the backend's per-event limit, whatever the labels and coordinates. */
export const FRAME_BUDGET_BYTES = LIMITS.maxPayloadBytes - 1024;
const MAX_MESSAGE_CHARS = 1000;

/** One box: [index into `labels`, score, x, y, w, h]. */
export type CompactBox = [number, number, number, number, number, number];

export interface CompactFrame {
  readonly frame: number;
  /** Seconds into the video. */
  readonly time: number;
  /** The distinct labels of the kept boxes, in order of first appearance. */
  readonly labels: string[];
  readonly boxes: CompactBox[];
  /** Detections left out (lowest scores first) to stay inside the cap. */
  readonly omitted: number;
}

export const round = (v: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

function encode(frame: number, time: number, detections: readonly Detection[], total: number): CompactFrame {
  const labels: string[] = [];
  const index = new Map<string, number>();
  const boxes = detections.map((d): CompactBox => {
    let li = index.get(d.label);
    if (li === undefined) {
      li = labels.push(d.label) - 1;
      index.set(d.label, li);
    }
    // Scores to 0.001 and pixels to 0.1: finer than any model's own precision.
    return [li, round(d.score, 3), round(d.x, 1), round(d.y, 1), round(d.w, 1), round(d.h, 1)];
  });
  return { frame, time: round(time, 3), labels, boxes, omitted: total - detections.length };
}

/**
 * A frame's detections as one compact event payload: labels once, each box as a short
 * array. 200 detections take about 7 KiB; a frame with more than MAX_BOXES_PER_FRAME, or
 * with labels long enough to pass the byte budget, keeps its highest-scoring boxes and
 * says how many were left out.
 */
export function compactFrame(frame: number, time: number, detections: readonly Detection[]): CompactFrame {
  const ranked = [...detections].sort((a, b) => b.score - a.score);
  let keep = Math.min(ranked.length, MAX_BOXES_PER_FRAME);
  let out = encode(frame, time, ranked.slice(0, keep), ranked.length);
  if (jsonBytes(out) <= FRAME_BUDGET_BYTES) return out;
  // Too big even so (very long custom labels): the largest count that fits, by bisection.
  let lo = 0;
  let hi = keep;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (jsonBytes(encode(frame, time, ranked.slice(0, mid), ranked.length)) <= FRAME_BUDGET_BYTES) lo = mid;
    else hi = mid - 1;
  }
  keep = lo;
  out = encode(frame, time, ranked.slice(0, keep), ranked.length);
  return out;
}

/** How many of each label: what a verdict saw, in a size that does not grow with crowded scenes' boxes. */
export function labelCounts(detections: readonly Pick<Detection, 'label'>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of detections) out[d.label] = (out[d.label] ?? 0) + 1;
  return out;
}

/** Free text (an error, an instruction) cut to a length no event outgrows. */
export const clip = (s: string) => (s.length > MAX_MESSAGE_CHARS ? `${s.slice(0, MAX_MESSAGE_CHARS)}… (${s.length} characters)` : s);

