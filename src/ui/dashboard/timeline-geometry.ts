// The timeline chart's layout math: time → x, bars and marks, axis ticks, hit testing. Pure,
// so that a 1,000-step timeline is laid out in one pass of arithmetic, and drawn as a handful
// of SVG paths instead of thousands of elements.
import type { SessionTimeline, TimelineStep } from '../../sync/trainer-api';

export interface Span {
  readonly t0: number;
  readonly t1: number;
}

/**
 * What the chart covers: from the session's start to the latest thing it knows of (the end,
 * the newest event, a derailment still open). Never empty, so the scale can always divide.
 */
export function timelineSpan(t: SessionTimeline): Span {
  const t0 = t.session.startedTs;
  let t1 = t.session.endedTs ?? t.session.lastTs;
  for (const s of t.steps) {
    if (s.startedTs !== null) t1 = Math.max(t1, s.startedTs);
    if (s.completedTs !== null) t1 = Math.max(t1, s.completedTs);
    for (const d of s.derailments) t1 = Math.max(t1, d.endTs);
  }
  return { t0, t1: Number.isFinite(t1) && t1 > t0 ? t1 : t0 + 1 };
}

export interface Scale {
  readonly x: (ts: number) => number;
  readonly ts: (x: number) => number;
}

/** Linear time → x over [0, width]; times outside the span are clamped onto the chart's edges. */
export function timeScale(span: Span, width: number): Scale {
  const k = width / (span.t1 - span.t0);
  return {
    x: (ts) => Math.min(width, Math.max(0, (ts - span.t0) * k)),
    ts: (x) => span.t0 + x / k,
  };
}

export interface Bar {
  /** The step's index (or, for a derailment, its step's). */
  readonly index: number;
  readonly x: number;
  readonly w: number;
  /** Still running: it ends at the newest event, for now. */
  readonly open: boolean;
}

/**
 * One bar per step this session worked on, from when it started to when it was completed (or
 * to the chart's end while it runs). Steps done in an earlier session or not reached have none.
 * Bars are at least `minWidth` wide so that a very short step still shows.
 */
export function stepBars(steps: readonly TimelineStep[], span: Span, scale: Scale, minWidth = 1): Bar[] {
  const bars: Bar[] = [];
  for (const s of steps) {
    if (s.startedTs === null) continue;
    const open = s.completedTs === null;
    const x0 = scale.x(s.startedTs);
    const x1 = scale.x(open ? span.t1 : s.completedTs!);
    bars.push({ index: s.index, x: x0, w: Math.max(minWidth, x1 - x0), open });
  }
  return bars;
}

export interface DerailmentBar extends Bar {
  /** Which of its step's derailments. */
  readonly which: number;
}

/** One mark per derailment, over the time it lasted, in time order; wider than a step's sliver so that it is seen. */
export function derailmentBars(steps: readonly TimelineStep[], scale: Scale, minWidth = 3): DerailmentBar[] {
  const bars: DerailmentBar[] = [];
  for (const s of steps) {
    s.derailments.forEach((d, which) => {
      const x0 = scale.x(d.startTs);
      bars.push({ index: s.index, which, x: x0, w: Math.max(minWidth, scale.x(d.endTs) - x0), open: d.ongoing });
    });
  }
  return bars.sort((a, b) => a.x - b.x);
}

/** Ticks where an instruction was given. */
export function instructionMarks(steps: readonly TimelineStep[], scale: Scale): number[] {
  const xs: number[] = [];
  for (const s of steps) for (const i of s.instructions) xs.push(scale.x(i.ts));
  return xs;
}

const r2 = (n: number) => Math.round(n * 100) / 100;

/** Rectangles as one SVG path (`M x y h w v h h -w z` each): one element however many bars there are. */
export function rectsPath(bars: readonly Pick<Bar, 'x' | 'w'>[], y: number, h: number): string {
  let d = '';
  for (const b of bars) d += `M${r2(b.x)} ${r2(y)}h${r2(b.w)}v${r2(h)}h${r2(-b.w)}z`;
  return d;
}

/** Vertical ticks as one SVG path. */
export function ticksPath(xs: readonly number[], y: number, h: number): string {
  let d = '';
  for (const x of xs) d += `M${r2(x)} ${r2(y)}v${r2(h)}`;
  return d;
}

/** Round steps for the axis, in milliseconds: 1, 2, 5 × powers of ten seconds, then minutes and hours. */
const TICK_STEPS = [100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000];

/** Offsets from the start (ms) for at most `maxTicks` axis labels over `durationMs`, at a round step. */
export function axisTicks(durationMs: number, maxTicks: number): number[] {
  if (!(durationMs > 0) || maxTicks < 1) return [0];
  const step = TICK_STEPS.find((s) => durationMs / s <= maxTicks) ?? Math.ceil(durationMs / maxTicks / 86_400_000) * 86_400_000;
  const out: number[] = [];
  for (let t = 0; t <= durationMs; t += step) out.push(t);
  return out;
}

/**
 * The bar under `x` (bars in time order, as stepBars makes them), or the nearest within
 * `slop` pixels: a 1,000-step chart has bars a pixel wide, so the pointer finds them by search,
 * not by hovering a particular element.
 */
export function barAt<B extends Pick<Bar, 'x' | 'w'>>(bars: readonly B[], x: number, slop = 4): B | undefined {
  let lo = 0;
  let hi = bars.length - 1;
  // The last bar that starts at or before x.
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (bars[mid]!.x <= x) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  const candidates = [bars[found], bars[found + 1]].filter((b): b is B => b !== undefined);
  let best: B | undefined;
  let bestGap = Infinity;
  for (const b of candidates) {
    const gap = x < b.x ? b.x - x : x > b.x + b.w ? x - (b.x + b.w) : 0;
    if (gap < bestGap) {
      best = b;
      bestGap = gap;
    }
  }
  return bestGap <= slop ? best : undefined;
}
