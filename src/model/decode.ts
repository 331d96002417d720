import { assertNever } from '../util/assert-never';
import type { Letterbox } from './letterbox';
import { END2END_ROW, type ModelManifest } from './manifest';

/** One detected object, in source-frame pixels (x, y: top-left corner). */
export interface Detection {
  readonly classId: number;
  readonly label: string;
  readonly score: number;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

interface Candidate {
  classId: number;
  score: number;
  /** Corners in model-input pixels. */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/**
 * Decodes a detector's raw output into detections in source-frame pixels: after per-class NMS
 * for the dense heads, as given for an end-to-end head.
 */
export function decode(
  m: ModelManifest,
  data: Float32Array,
  dims: readonly number[],
  lb: Letterbox,
  srcWidth: number,
  srcHeight: number,
  scoreThreshold = m.scoreThreshold,
): Detection[] {
  const inSource = (c: Candidate) => toSource(c, m, lb, srcWidth, srcHeight);
  switch (m.output.decoder) {
    case 'yolox':
      return nms(yoloxCandidates(m, data, dims, scoreThreshold), m.nmsIou).map(inSource);
    case 'yolov8':
      return nms(yolov8Candidates(m, data, dims, scoreThreshold), m.nmsIou).map(inSource);
    case 'end2end':
      // The model chose its boxes itself (one-to-one matching): NMS here would drop real neighbours it kept on purpose.
      return end2endCandidates(m, data, dims, scoreThreshold).map(inSource);
    default:
      return assertNever(m.output.decoder);
  }
}

/** YOLOX: rows of [x, y, w, h, objectness, class scores…] over grids of strides 8, 16, 32. */
export function yoloxCandidates(m: ModelManifest, data: Float32Array, dims: readonly number[], threshold: number): Candidate[] {
  const rows = dims[1]!;
  const cols = dims[2]!;
  const classes = cols - 5;
  const out: Candidate[] = [];
  let row = 0;
  for (const stride of m.output.strides ?? [8, 16, 32]) {
    const grid = m.input.size / stride;
    for (let gy = 0; gy < grid; gy++) {
      for (let gx = 0; gx < grid; gx++, row++) {
        if (row >= rows) return out;
        const o = row * cols;
        const objectness = data[o + 4]!;
        if (objectness < threshold) continue; // score = obj × class ≤ obj
        let best = 0;
        let bestScore = -1;
        for (let c = 0; c < classes; c++) {
          const s = data[o + 5 + c]!;
          if (s > bestScore) {
            bestScore = s;
            best = c;
          }
        }
        const score = objectness * bestScore;
        if (score < threshold) continue;
        const cx = (data[o]! + gx) * stride;
        const cy = (data[o + 1]! + gy) * stride;
        const w = Math.exp(data[o + 2]!) * stride;
        const h = Math.exp(data[o + 3]!) * stride;
        out.push({ classId: best, score, x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2 });
      }
    }
  }
  return out;
}

/** YOLOv8: columns of [cx, cy, w, h, class scores…], stored channel-major ([1, 4 + C, N]). */
export function yolov8Candidates(_m: ModelManifest, data: Float32Array, dims: readonly number[], threshold: number): Candidate[] {
  const channels = dims[1]!;
  const n = dims[2]!;
  const out: Candidate[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestScore = -1;
    for (let c = 4; c < channels; c++) {
      const s = data[c * n + i]!;
      if (s > bestScore) {
        bestScore = s;
        best = c - 4;
      }
    }
    if (bestScore < threshold) continue;
    const cx = data[i]!;
    const cy = data[n + i]!;
    const w = data[2 * n + i]!;
    const h = data[3 * n + i]!;
    out.push({ classId: best, score: bestScore, x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2 });
  }
  return out;
}

/**
 * End-to-end (NMS-free) heads: rows of END2END_ROW, already final. A row that cannot be a
 * box (non-finite numbers, inverted corners, a class the labels do not name) is skipped,
 * not trusted: its numbers come straight from someone else's model.
 */
export function end2endCandidates(m: ModelManifest, data: Float32Array, dims: readonly number[], threshold: number): Candidate[] {
  const cols = END2END_ROW.length;
  // A shape promising more rows than the data holds must not become a long walk past its end.
  const rows = Math.min(dims[1] ?? 0, Math.floor(data.length / cols));
  const out: Candidate[] = [];
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const score = data[o + 4]!;
    if (!Number.isFinite(score) || score < threshold) continue;
    // The class shares the float tensor with the boxes, so it may arrive as 2.9999998.
    const classId = Math.round(data[o + 5]!);
    if (!(classId >= 0 && classId < m.labels.length)) continue;
    const x1 = data[o]!;
    const y1 = data[o + 1]!;
    const x2 = data[o + 2]!;
    const y2 = data[o + 3]!;
    if (![x1, y1, x2, y2].every(Number.isFinite) || x2 < x1 || y2 < y1) continue;
    out.push({ classId, score, x1, y1, x2, y2 });
  }
  return out;
}

/** Intersection over union of two candidates in corner form (x1, y1, x2, y2). */
export function cornerIou(a: Candidate, b: Candidate): number {
  const ix = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const iy = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const inter = ix * iy;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy non-maximum suppression within each class; highest scores first. */
export function nms<T extends Candidate>(candidates: readonly T[], iouThreshold: number, maxDetections = 100): T[] {
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const c of sorted) {
    if (kept.length >= maxDetections) break;
    if (kept.some((k) => k.classId === c.classId && cornerIou(k, c) > iouThreshold)) continue;
    kept.push(c);
  }
  return kept;
}

function toSource(c: Candidate, m: ModelManifest, lb: Letterbox, srcWidth: number, srcHeight: number): Detection {
  const clampX = (v: number) => Math.min(srcWidth, Math.max(0, (v - lb.padX) / lb.scale));
  const clampY = (v: number) => Math.min(srcHeight, Math.max(0, (v - lb.padY) / lb.scale));
  const x1 = clampX(c.x1);
  const y1 = clampY(c.y1);
  return { classId: c.classId, label: m.labels[c.classId] ?? `class ${c.classId}`, score: c.score, x: x1, y: y1, w: clampX(c.x2) - x1, h: clampY(c.y2) - y1 };
}
