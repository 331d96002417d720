// A multi-object tracker of the ByteTrack class (Zhang et al., "ByteTrack: Multi-Object Tracking
// by Associating Every Detection Box", ECCV 2022), written here from the paper: a constant-velocity
// Kalman filter per track, association by IoU in two stages — confident boxes first against every
// live track, then the low-score boxes the detector was unsure of against the tracks still
// unmatched — and hysteresis on birth (a new track must be seen on `minHits` frames) and death
// (a lost track is kept `maxLostMs` before it is dropped). One addition to the paper: two tracks
// that prove to be one object boxed twice are merged into the older (see duplicates.ts).
// Pure: frames in, tracks out.
import { rectIou, type Rect } from '../model/rect';
import { assign } from './assignment';
import { continueRun, DUPLICATE_DEFAULTS, isDuplicate, overlapOfSmaller, type DuplicateOptions, type DuplicateRun } from './duplicates';

export interface TrackInput extends Rect {
  readonly label: string;
  readonly score: number;
}

export interface Track extends Rect {
  readonly id: number;
  readonly label: string;
  /** Smoothed score of the boxes matched to this track: one flickering box does not swing it. */
  readonly score: number;
  /** The score of the box matched most recently. */
  readonly lastScore: number;
  /** The highest smoothed score so far: how sure the detector has been that this object is what it says. */
  readonly peakScore: number;
  /** `tracked`: matched in this frame; `lost`: not matched, shown at its predicted place until `maxLostMs`. */
  readonly state: 'tracked' | 'lost';
  /** Confirmed after `minHits` matches (or at once on the first frame of a sequence). */
  readonly confirmed: boolean;
  /** Milliseconds since it was last matched (0 when tracked). */
  readonly missedMs: number;
  readonly firstSeenMs: number;
  readonly hits: number;
}

export interface TrackerOptions extends DuplicateOptions {
  /** Boxes at or above this score take part in the first association and can start tracks. */
  readonly highScore: number;
  /** Boxes between this and `highScore` only keep existing tracks alive (the second association). */
  readonly lowScore: number;
  /** A new track needs a box at least this confident. */
  readonly newTrackScore: number;
  /** Minimum IoU with the predicted box for the first and the second association. */
  readonly matchIou: number;
  readonly lowMatchIou: number;
  /** Matches needed before a new track is confirmed (birth hysteresis). */
  readonly minHits: number;
  /** How long an unmatched track is kept, at its predicted position, before it dies (death hysteresis). */
  readonly maxLostMs: number;
  /** Weight of the newest score in the smoothed score. */
  readonly scoreSmoothing: number;
}

export const TRACKER_DEFAULTS: TrackerOptions = Object.freeze({
  highScore: 0.5,
  lowScore: 0.1,
  newTrackScore: 0.6,
  matchIou: 0.2,
  lowMatchIou: 0.4,
  minHits: 3,
  maxLostMs: 1500,
  scoreSmoothing: 0.3,
  ...DUPLICATE_DEFAULTS,
});

/** Position and velocity along one axis, with its 2×2 covariance [pp, pv, vv]. */
interface Axis {
  p: number;
  v: number;
  pp: number;
  pv: number;
  vv: number;
}

// Noise as in SORT/ByteTrack: proportional to the box height, so a near object may move more pixels.
const POS_NOISE = 1 / 20;
const VEL_NOISE = 1 / 160;
const MEASURE_NOISE = 1 / 20;

function axis(p: number, h: number): Axis {
  return { p, v: 0, pp: (2 * POS_NOISE * h) ** 2, pv: 0, vv: (10 * VEL_NOISE * h) ** 2 };
}

/** Constant velocity over `dt` frames (in units of a nominal frame, so the noise does not depend on the frame rate). */
function predictAxis(a: Axis, dt: number, h: number): void {
  a.p += a.v * dt;
  const q = (POS_NOISE * h) ** 2 * dt;
  const qv = (VEL_NOISE * h) ** 2 * dt;
  const pp = a.pp + 2 * dt * a.pv + dt * dt * a.vv + q;
  const pv = a.pv + dt * a.vv;
  a.pp = pp;
  a.pv = pv;
  a.vv += qv;
}

function correctAxis(a: Axis, z: number, h: number): void {
  const r = (MEASURE_NOISE * h) ** 2;
  const s = a.pp + r;
  const kp = a.pp / s;
  const kv = a.pv / s;
  const y = z - a.p;
  a.p += kp * y;
  a.v += kv * y;
  const pp = (1 - kp) * a.pp;
  const pv = (1 - kp) * a.pv;
  a.vv -= kv * a.pv;
  a.pp = pp;
  a.pv = pv;
}

interface LiveTrack {
  readonly id: number;
  readonly label: string;
  /** Centre x, centre y, width, height. */
  readonly axes: [Axis, Axis, Axis, Axis];
  score: number;
  lastScore: number;
  peakScore: number;
  state: 'tracked' | 'lost';
  confirmed: boolean;
  hits: number;
  lastSeenMs: number;
  readonly firstSeenMs: number;
  lastMs: number;
  /** The box matched most recently: what is shown while tracked (the filter's estimate lags a jump). */
  lastBox: Rect;
  /** This object has been boxed twice (a duplicate track was merged into this one): a second box inside this one starts no track. */
  boxedTwice: boolean;
}

const boxOf = (t: LiveTrack): Rect => {
  const [cx, cy, w, h] = t.axes;
  const ww = Math.max(1, w.p);
  const hh = Math.max(1, h.p);
  return { x: cx.p - ww / 2, y: cy.p - hh / 2, w: ww, h: hh };
};

/** The nominal frame used to scale time for the filter: 30 fps. */
const FRAME_MS = 1000 / 30;

export class Tracker {
  private tracks: LiveTrack[] = [];
  private nextId = 1;
  private frames = 0;
  private lastMs: number | undefined;
  /** Same-label pairs of tracks matched together, overlapping as one object boxed twice would: key `lowerId:higherId`. */
  private runs = new Map<string, DuplicateRun>();
  readonly options: TrackerOptions;

  constructor(options: Partial<TrackerOptions> = {}) {
    this.options = { ...TRACKER_DEFAULTS, ...options };
  }

  /**
   * One frame's detections at time `ms` (capture time). Frames must come in time order; frames
   * the pipeline dropped are simply absent, and the filter predicts across the gap.
   * Returns every live track, confirmed or not; callers show the confirmed ones.
   */
  update(detections: readonly TrackInput[], ms: number): Track[] {
    const o = this.options;
    if (this.lastMs !== undefined && ms < this.lastMs) return this.snapshot(this.lastMs); // out of order: ignore, never rewind
    const first = this.frames === 0;
    this.frames++;
    for (const t of this.tracks) {
      const dt = Math.max(0, (ms - t.lastMs) / FRAME_MS);
      const h = Math.max(1, t.axes[3].p);
      for (const a of t.axes) predictAxis(a, dt, h);
      t.lastMs = ms;
    }
    this.lastMs = ms;

    const high = detections.filter((d) => d.score >= o.highScore);
    const low = detections.filter((d) => d.score >= o.lowScore && d.score < o.highScore);

    // Stage 1: confident boxes against every track, tracked or lost.
    const m1 = this.match(this.tracks, high, o.matchIou);
    for (const [ti, di] of m1.pairs) this.hit(this.tracks[ti]!, high[di]!, ms);
    // Stage 2: unsure boxes keep alive only the tracks that were being tracked (a lost track needs a confident box to come back).
    const remaining = m1.unmatchedTracks.map((i) => this.tracks[i]!).filter((t) => t.state === 'tracked');
    const m2 = this.match(remaining, low, o.lowMatchIou);
    for (const [ti, di] of m2.pairs) this.hit(remaining[ti]!, low[di]!, ms);
    const matched = new Set([...m1.pairs.map(([ti]) => this.tracks[ti]!), ...m2.pairs.map(([ti]) => remaining[ti]!)]);
    const retired = this.mergeDuplicates(matched, ms);

    const survivors: LiveTrack[] = [];
    for (const t of this.tracks) {
      if (retired.has(t)) continue;
      if (matched.has(t)) {
        survivors.push(t);
        continue;
      }
      // An unconfirmed track that misses a frame was probably noise: birth hysteresis.
      if (!t.confirmed) continue;
      t.state = 'lost';
      if (ms - t.lastSeenMs <= o.maxLostMs) survivors.push(t);
    }
    for (const di of m1.unmatchedDetections) {
      const d = high[di]!;
      if (d.score < o.newTrackScore) continue;
      // The second box on an object already known to be boxed twice is that object again, not a new one.
      if ([...matched].some((t) => t.boxedTwice && !retired.has(t) && t.label === d.label && overlapOfSmaller(t.lastBox, d) >= o.duplicateOverlap)) continue;
      const cx = d.x + d.w / 2;
      const cy = d.y + d.h / 2;
      survivors.push({
        id: this.nextId++,
        label: d.label,
        axes: [axis(cx, d.h), axis(cy, d.h), axis(d.w, d.h), axis(d.h, d.h)],
        score: d.score,
        lastScore: d.score,
        peakScore: d.score,
        state: 'tracked',
        confirmed: first || o.minHits <= 1,
        hits: 1,
        lastSeenMs: ms,
        firstSeenMs: ms,
        lastMs: ms,
        lastBox: { x: d.x, y: d.y, w: d.w, h: d.h },
        boxedTwice: false,
      });
    }
    this.tracks = survivors;
    return this.snapshot(ms);
  }

  /** Forget everything (a new source or a new session). */
  reset(): void {
    this.tracks = [];
    this.runs.clear();
    this.frames = 0;
    this.lastMs = undefined;
  }

  private hit(t: LiveTrack, d: TrackInput, ms: number): void {
    const h = Math.max(1, d.h);
    const z = [d.x + d.w / 2, d.y + d.h / 2, d.w, d.h];
    t.axes.forEach((a, i) => correctAxis(a, z[i]!, h));
    t.score += this.options.scoreSmoothing * (d.score - t.score);
    t.lastScore = d.score;
    t.peakScore = Math.max(t.peakScore, t.score);
    t.state = 'tracked';
    t.hits++;
    if (t.hits >= this.options.minHits) t.confirmed = true;
    t.lastSeenMs = ms;
    t.lastBox = { x: d.x, y: d.y, w: d.w, h: d.h };
  }

  /**
   * Follows every same-label pair of tracks matched in this update (see duplicates.ts); a pair that
   * has overlapped as one object boxed twice for long enough is one object: the newer track is
   * retired and the older keeps the identity. Returns the retired tracks.
   */
  private mergeDuplicates(matched: ReadonlySet<LiveTrack>, ms: number): Set<LiveTrack> {
    const o = this.options;
    const both = [...matched].sort((a, b) => a.id - b.id);
    const runs = new Map<string, DuplicateRun>();
    const retired = new Set<LiveTrack>();
    for (let i = 0; i < both.length; i++) {
      for (let j = i + 1; j < both.length; j++) {
        const older = both[i]!;
        const newer = both[j]!;
        if (older.label !== newer.label) continue;
        const key = `${older.id}:${newer.id}`;
        const run = continueRun(this.runs.get(key), older.lastBox, newer.lastBox, ms, o);
        if (!run) continue;
        if (isDuplicate(run, ms, o) && !retired.has(older)) {
          retired.add(newer);
          older.boxedTwice = true;
          older.confirmed ||= newer.confirmed; // the object has been confirmed, under whichever identity
          older.peakScore = Math.max(older.peakScore, newer.peakScore);
        } else runs.set(key, run);
      }
    }
    this.runs = runs;
    return retired;
  }

  /** Optimal matching by IoU, per label (a cup never continues a bottle's track). */
  private match(tracks: readonly LiveTrack[], dets: readonly TrackInput[], minIou: number) {
    const cost = tracks.map((t) => {
      const b = boxOf(t);
      return dets.map((d) => (d.label === t.label ? 1 - rectIou(b, d) : 1));
    });
    const pairs = tracks.length && dets.length ? assign(cost, 1 - minIou + 1e-9) : [];
    const usedT = new Set(pairs.map(([t]) => t));
    const usedD = new Set(pairs.map(([, d]) => d));
    return {
      pairs,
      unmatchedTracks: tracks.map((_, i) => i).filter((i) => !usedT.has(i)),
      unmatchedDetections: dets.map((_, i) => i).filter((i) => !usedD.has(i)),
    };
  }

  private snapshot(ms: number): Track[] {
    return this.tracks.map((t) => ({
      id: t.id,
      label: t.label,
      // Tracked: where the detector saw it now; lost: where the motion model expects it.
      ...(t.state === 'tracked' ? t.lastBox : boxOf(t)),
      score: t.score,
      lastScore: t.lastScore,
      peakScore: t.peakScore,
      state: t.state,
      confirmed: t.confirmed,
      missedMs: t.state === 'tracked' ? 0 : ms - t.lastSeenMs,
      firstSeenMs: t.firstSeenMs,
      hits: t.hits,
    }));
  }
}
