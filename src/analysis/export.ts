import type { Detection } from '../model/decode';

/** A detection in an analysed frame, with the identity of the object it belongs to (null until the tracker confirms one). */
export type TrackedDetection = Detection & { readonly track?: number | null };

/** One analysed frame of a video file. */
export interface FrameRow {
  /** 1-based frame number. */
  readonly frame: number;
  /** Seconds into the video. */
  readonly time: number;
  readonly detections: readonly TrackedDetection[];
  /** Set when this frame could not be analysed (it is reported and skipped). */
  readonly error?: string;
}

export interface Analysis {
  readonly id: string;
  readonly fileName: string;
  readonly fps: number;
  readonly totalFrames: number;
  readonly startedAt: number;
  readonly finishedAt?: number;
  readonly cancelled?: boolean;
  readonly rows: readonly FrameRow[];
}

export function toJson(a: Analysis): string {
  return JSON.stringify(
    {
      file: a.fileName,
      fps: a.fps,
      frames: a.rows.length,
      totalFrames: a.totalFrames,
      cancelled: a.cancelled ?? false,
      results: a.rows.map((r) => ({
        frame: r.frame,
        time: round(r.time, 3),
        ...(r.error ? { error: r.error } : {}),
        detections: r.detections.map((d) => ({ label: d.label, score: round(d.score, 4), box: [round(d.x, 1), round(d.y, 1), round(d.w, 1), round(d.h, 1)], track: d.track ?? null })),
      })),
    },
    null,
    2,
  );
}

const CSV_HEADER = 'frame,time,label,score,x,y,w,h,track';

/** One line per detection; a frame with none still gets a line (empty label), so every frame is there. */
export function toCsv(a: Analysis): string {
  const lines = [CSV_HEADER];
  for (const r of a.rows) {
    if (r.detections.length === 0) lines.push(`${r.frame},${round(r.time, 3)},${r.error ? csvField(`error: ${r.error}`) : ''},,,,,,`);
    for (const d of r.detections) lines.push([r.frame, round(r.time, 3), csvField(d.label), round(d.score, 4), round(d.x, 1), round(d.y, 1), round(d.w, 1), round(d.h, 1), d.track ?? ''].join(','));
  }
  return lines.join('\n') + '\n';
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function round(v: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(v * k) / k;
}

/** Seconds left, from the pace so far; undefined until there is a pace. */
export function timeLeftS(done: number, total: number, elapsedMs: number): number | undefined {
  if (done <= 0 || elapsedMs <= 0) return undefined;
  return ((total - done) * elapsedMs) / done / 1000;
}
