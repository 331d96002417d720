// Motion energy: how much the picture changed since the previous frame, on a coarse luma grid.
// Pure, so it is tested on its own (motion.test.ts); the worker only feeds it pixels.

/** BT.601 luma of RGBA pixels, one byte per pixel. */
export function lumaOf(rgba: Uint8ClampedArray): Uint8Array {
  const out = new Uint8Array(rgba.length / 4);
  for (let i = 0, p = 0; p < out.length; i += 4, p++) out[p] = Math.round(0.299 * rgba[i]! + 0.587 * rgba[i + 1]! + 0.114 * rgba[i + 2]!);
  return out;
}

export interface Motion {
  /** Mean absolute luma change per cell, 0 (still) to 1 (every cell flipped black ↔ white). */
  readonly energy: number;
  /** Share of cells whose luma changed by more than the threshold. */
  readonly changed: number;
}

/** Motion between two luma grids of the same size; the first frame (no previous) has none. */
export function motionBetween(previous: Uint8Array | undefined, current: Uint8Array, threshold: number): Motion {
  if (!previous) return { energy: 0, changed: 0 };
  if (previous.length !== current.length) throw new Error(`luma grids differ in size: ${previous.length} vs ${current.length} cells`);
  let sum = 0;
  let changed = 0;
  for (let i = 0; i < current.length; i++) {
    const d = Math.abs(current[i]! - previous[i]!);
    sum += d;
    if (d > threshold) changed++;
  }
  return { energy: sum / (255 * current.length), changed: changed / current.length };
}
