import { describe, expect, it } from 'vitest';
import { assign } from './assignment';
import { flipsPerMinute, identityMetrics, type Labelled } from './metrics';
import { Tracker, type Track, type TrackInput } from './tracker';

const FRAME = 1000 / 30;
const det = (label: string, x: number, y: number, score = 0.9, w = 60, h = 80): TrackInput => ({ label, score, x, y, w, h });
const confirmed = (ts: Track[]) => ts.filter((t) => t.confirmed);

/** Every permutation: the independent reference for the assignment's optimality. */
function bruteForce(cost: number[][]): number {
  const cols = cost[0]!.length;
  let best = Infinity;
  const walk = (r: number, used: Set<number>, sum: number) => {
    if (r === cost.length) return void (best = Math.min(best, sum));
    for (let c = 0; c < cols; c++) if (!used.has(c)) walk(r + 1, new Set([...used, c]), sum + cost[r]![c]!);
  };
  walk(0, new Set(), 0);
  return best;
}

describe('assignment', () => {
  it('finds the minimum-cost matching (against every permutation)', () => {
    let seed = 3;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let trial = 0; trial < 200; trial++) {
      const rows = 1 + Math.floor(rand() * 5);
      const cols = rows + Math.floor(rand() * 3);
      const cost = Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.round(rand() * 100)));
      const pairs = assign(cost);
      expect(pairs).toHaveLength(rows);
      expect(new Set(pairs.map(([, c]) => c)).size).toBe(rows);
      expect(pairs.reduce((s, [r, c]) => s + cost[r]![c]!, 0)).toBe(bruteForce(cost));
    }
  });

  it('never returns a forbidden pair, and handles more rows than columns', () => {
    expect(assign([[0.1, 1], [1, 1]], 1)).toEqual([[0, 0]]);
    expect(assign([[5], [1], [3]])).toEqual([[1, 0]]);
    expect(assign([])).toEqual([]);
  });
});

describe('tracker', () => {
  it('keeps identities of two objects of one label crossing paths (constant velocity carries them through)', () => {
    const tr = new Tracker();
    const frames = [];
    for (let f = 0; f < 60; f++) {
      // a moves right, b moves left; they overlap around frame 30.
      const gt = [{ id: 1, ...det('cup', 100 + f * 8, 200) }, { id: 2, ...det('cup', 580 - f * 8, 210) }];
      const tracks = confirmed(tr.update(gt, f * FRAME));
      frames.push({ gt, tracks });
    }
    const report = identityMetrics(frames);
    expect(report.idSwitches).toBe(0);
    expect(report.tracksPerObject[1]).toHaveLength(1);
    expect(report.tracksPerObject[2]).toHaveLength(1);
    expect(report.idf1).toBeGreaterThan(0.95);
  });

  it('holds a track through 0.5 s of occlusion and gives it back its id; drops it after maxLostMs', () => {
    const tr = new Tracker({ maxLostMs: 1000 });
    let id = 0;
    for (let f = 0; f < 30; f++) id = confirmed(tr.update([det('person', 100 + f * 2, 100)], f * FRAME))[0]?.id ?? id;
    // Covered for 15 frames (0.5 s): lost, still there.
    for (let f = 30; f < 45; f++) {
      const ts = tr.update([], f * FRAME);
      expect(ts[0]).toMatchObject({ id, state: 'lost' });
    }
    expect(confirmed(tr.update([det('person', 100 + 45 * 2, 100)], 45 * FRAME))[0]).toMatchObject({ id, state: 'tracked', missedMs: 0 });
    // Gone for longer than maxLostMs: a later box is a new object.
    for (let f = 46; f < 90; f++) tr.update([], f * FRAME);
    const back = tr.update([det('person', 100 + 90 * 2, 100)], 90 * FRAME);
    expect(back).toHaveLength(1);
    expect(back[0]!.id).not.toBe(id);
  });

  it('a box whose score flickers around the confident threshold stays one tracked object', () => {
    const tr = new Tracker({ highScore: 0.5, newTrackScore: 0.5 });
    const states: string[] = [];
    const ids = new Set<number>();
    for (let f = 0; f < 90; f++) {
      const score = f % 2 ? 0.45 : 0.55; // below and above highScore, every other frame
      for (const t of confirmed(tr.update([det('chair', 300, 200, score)], f * FRAME))) {
        ids.add(t.id);
        states.push(t.state);
      }
    }
    expect(ids.size).toBe(1);
    expect(states.every((s) => s === 'tracked')).toBe(true);
  });

  it('birth hysteresis: a one-frame stray box is never confirmed', () => {
    const tr = new Tracker({ minHits: 3 });
    tr.update([det('laptop', 10, 10)], 0);
    for (let f = 1; f < 10; f++) {
      const out = tr.update(f === 5 ? [det('laptop', 10, 10), det('dog', 400, 300, 0.95)] : [det('laptop', 10, 10)], f * FRAME);
      expect(confirmed(out).map((t) => t.label)).toEqual(['laptop']);
    }
  });

  it('low-score boxes keep a tracked object but never start one or revive a lost one', () => {
    const tr = new Tracker();
    expect(tr.update([det('cup', 0, 0, 0.3)], 0)).toEqual([]);
    tr.update([det('cup', 0, 0, 0.9)], FRAME);
    tr.update([], 2 * FRAME); // unconfirmed, unmatched: dropped
    expect(tr.update([det('cup', 0, 0, 0.3)], 3 * FRAME)).toEqual([]);
  });

  it('follows a moving object across frames the pipeline dropped (time gaps)', () => {
    const tr = new Tracker();
    const ids = new Set<number>();
    const times = [0, 1, 2, 3, 7, 8, 12, 13, 14, 20, 21, 22].map((f) => f * FRAME);
    for (const t of times) for (const tk of confirmed(tr.update([det('car', 50 + (t / FRAME) * 12, 100, 0.8, 80, 60)], t))) ids.add(tk.id);
    expect(ids.size).toBe(1);
  });

  it('ignores a frame older than the last one instead of rewinding', () => {
    const tr = new Tracker();
    for (let f = 0; f < 5; f++) tr.update([det('cup', 10, 10)], f * FRAME);
    const before = tr.update([det('cup', 10, 10)], 5 * FRAME);
    expect(tr.update([det('bear', 300, 300)], 2 * FRAME)).toEqual(before);
  });

  it('never continues one label as another', () => {
    const tr = new Tracker({ minHits: 1 });
    const a = tr.update([det('cup', 10, 10)], 0)[0]!;
    const b = tr.update([det('bottle', 10, 10)], FRAME).find((t) => t.label === 'bottle')!;
    expect(b.id).not.toBe(a.id);
  });
});

describe('identity metrics', () => {
  const box = (id: number, x: number): Labelled => ({ id, x, y: 0, w: 10, h: 10 });
  it('IDF1 1 and no switch for a perfect tracker', () => {
    const frames = Array.from({ length: 10 }, (_, i) => ({ gt: [box(1, i), box(2, 50 + i)], tracks: [box(7, i), box(9, 50 + i)] }));
    expect(identityMetrics(frames)).toMatchObject({ idf1: 1, idSwitches: 0, idtp: 20 });
  });
  it('one switch half-way costs half the identity matches', () => {
    const frames = Array.from({ length: 10 }, (_, i) => ({ gt: [box(1, i)], tracks: [box(i < 5 ? 7 : 8, i)] }));
    expect(identityMetrics(frames)).toMatchObject({ idf1: 0.5, idSwitches: 1, tracksPerObject: { 1: [7, 8] } });
  });
  it('counts presence flips per minute', () => {
    expect(flipsPerMinute([true, false, true, true], 1000)).toBeCloseTo(2 / (4 / 60));
  });
});
