// Identity metrics for judging a tracker against ground truth: IDF1 (Ristani et al., 2016) and
// CLEAR-MOT identity switches (Bernardin & Stiefelhagen, 2008).
import { assign } from './assignment';
import { rectIou, type Rect } from '../model/rect';

export interface Labelled extends Rect {
  readonly id: number;
  /**
   * The class. Where a ground-truth object and a track both carry one, they coincide only when the
   * track's class is one the object accepts: multi-object tracking of several classes is judged
   * class by class, so a track called "chair" on a vase is no identity match of the vase.
   */
  readonly label?: string;
  /** Ground truth only: other classes a careful person could fairly give the object (a vase of flowers: "vase" or "potted plant"). */
  readonly also?: readonly string[];
}

/** Whether a track of class `label` may stand for the ground-truth object `g` (any class when either carries none). */
export function accepts(g: { readonly label?: string; readonly also?: readonly string[] }, label: string | undefined): boolean {
  return g.label === undefined || label === undefined || g.label === label || (g.also?.includes(label) ?? false);
}

export interface IdentityReport {
  readonly idf1: number;
  readonly idSwitches: number;
  /** Ground-truth boxes and tracker boxes over the whole clip. */
  readonly gtBoxes: number;
  readonly trackBoxes: number;
  /** Identity true positives: frames where a ground-truth object carries the track globally mapped to it. */
  readonly idtp: number;
  /** For each ground-truth id, the distinct track ids it was matched to over the clip. */
  readonly tracksPerObject: Readonly<Record<number, readonly number[]>>;
}

/** `frames[i]` holds the ground truth and the tracker's output for the same frame. */
export function identityMetrics(frames: readonly { readonly gt: readonly Labelled[]; readonly tracks: readonly Labelled[] }[], minIou = 0.5): IdentityReport {
  // IDF1: one global one-to-one mapping of objects to tracks that maximises the frames they coincide.
  const together = new Map<string, number>();
  let gtBoxes = 0;
  let trackBoxes = 0;
  for (const f of frames) {
    gtBoxes += f.gt.length;
    trackBoxes += f.tracks.length;
    for (const g of f.gt) for (const t of f.tracks) if (accepts(g, t.label) && rectIou(g, t) >= minIou) together.set(`${g.id}:${t.id}`, (together.get(`${g.id}:${t.id}`) ?? 0) + 1);
  }
  const gtIds = [...new Set(frames.flatMap((f) => f.gt.map((g) => g.id)))];
  const trackIds = [...new Set(frames.flatMap((f) => f.tracks.map((t) => t.id)))];
  const cost = gtIds.map((g) => trackIds.map((t) => -(together.get(`${g}:${t}`) ?? 0)));
  const idtp = gtIds.length && trackIds.length ? assign(cost, 0).reduce((s, [r, c]) => s - cost[r]![c]!, 0) : 0;
  const idf1 = gtBoxes + trackBoxes ? (2 * idtp) / (gtBoxes + trackBoxes) : 1;

  // Switches: per frame, the best IoU matching (keeping last frame's pairing where it still holds);
  // an object matched to a different track than the last time it was matched is one switch.
  let idSwitches = 0;
  const last = new Map<number, number>();
  const seen = new Map<number, Set<number>>();
  for (const f of frames) {
    const c = f.gt.map((g) => f.tracks.map((t) => {
      const o = accepts(g, t.label) ? rectIou(g, t) : 0;
      if (o < minIou) return 2;
      return (last.get(g.id) === t.id ? 0 : 1) + (1 - o) * 0.5;
    }));
    for (const [gi, ti] of f.gt.length && f.tracks.length ? assign(c, 2) : []) {
      const g = f.gt[gi]!.id;
      const t = f.tracks[ti]!.id;
      if (last.has(g) && last.get(g) !== t) idSwitches++;
      last.set(g, t);
      if (!seen.has(g)) seen.set(g, new Set());
      seen.get(g)!.add(t);
    }
  }
  return { idf1, idSwitches, gtBoxes, trackBoxes, idtp, tracksPerObject: Object.fromEntries([...seen].map(([g, s]) => [g, [...s]])) };
}

/** How often presence of a label flips over a sequence of per-frame verdicts, per minute of clip time. */
export function flipsPerMinute(present: readonly boolean[], frameMs: number): number {
  let flips = 0;
  for (let i = 1; i < present.length; i++) if (present[i] !== present[i - 1]) flips++;
  const minutes = (present.length * frameMs) / 60_000;
  return minutes > 0 ? flips / minutes : 0;
}
