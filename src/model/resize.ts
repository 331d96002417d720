import type { Letterbox } from './letterbox';
import type { ModelManifest } from './manifest';

/** Bits of the fixed-point weights, as in OpenCV's uint8 INTER_LINEAR resize: the model authors' own preprocessing. */
const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS;
const SHIFT_BITS = 2 * COEF_BITS;
const ROUND = 1 << (SHIFT_BITS - 1);

/**
 * For each destination index along one axis: the two source indices and their fixed-point
 * weights. Half-pixel centres (`src = (dst + 0.5) · in/out − 0.5`), clamped at the edges, no
 * antialiasing: what `cv2.resize(…, interpolation=cv2.INTER_LINEAR)` does, including that the
 * ratio is the two sizes', not the letterbox scale.
 */
function taps(srcLen: number, dstLen: number): { i0: Int32Array; i1: Int32Array; w0: Int32Array; w1: Int32Array } {
  const i0 = new Int32Array(dstLen);
  const i1 = new Int32Array(dstLen);
  const w0 = new Int32Array(dstLen);
  const w1 = new Int32Array(dstLen);
  const ratio = srcLen / dstLen;
  for (let d = 0; d < dstLen; d++) {
    // OpenCV computes the position in single precision.
    let f = Math.fround((d + 0.5) * ratio - 0.5);
    let s = Math.floor(f);
    f -= s;
    if (s < 0) (s = 0), (f = 0);
    if (s >= srcLen - 1) (s = srcLen - 1), (f = 0);
    i0[d] = s;
    i1[d] = Math.min(s + 1, srcLen - 1);
    w1[d] = Math.round(f * COEF_SCALE);
    w0[d] = COEF_SCALE - w1[d]!;
  }
  return { i0, i1, w0, w1 };
}

/**
 * The letterboxed model input straight from a frame's RGBA pixels: each output pixel is the
 * bilinear blend of four source pixels, rounded to a whole grey level like the authors' uint8
 * image, then put in the model's channel order and normalisation; the rest of the square is the
 * fill colour. `out` is NCHW float32 of `size × size`. Each source row is blended horizontally
 * once (kept in fixed point, as OpenCV does), then pairs of rows vertically.
 */
export function letterboxLinear(rgba: Uint8Array | Uint8ClampedArray, srcW: number, srcH: number, lb: Letterbox, m: ModelManifest, out: Float32Array): Float32Array {
  const { size, channelOrder, scale, mean, std, fill } = m.input;
  if (rgba.length !== srcW * srcH * 4) throw new RangeError(`expected ${srcW * srcH * 4} RGBA bytes for ${srcW}×${srcH}, got ${rgba.length}`);
  const plane = size * size;
  // Plane p reads RGBA channel cN: BGR models read blue first.
  const [c0, c1, c2] = channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const k0 = scale / std[0]!, k1 = scale / std[1]!, k2 = scale / std[2]!;
  const b0 = -mean[0]! / std[0]!, b1 = -mean[1]! / std[1]!, b2 = -mean[2]! / std[2]!;
  out.fill(fill * k0 + b0, 0, plane);
  out.fill(fill * k1 + b1, plane, 2 * plane);
  out.fill(fill * k2 + b2, 2 * plane, 3 * plane);
  const x = taps(srcW, lb.width);
  const y = taps(srcH, lb.height);
  const w = lb.width;
  const xs0 = new Int32Array(w);
  const xs1 = new Int32Array(w);
  for (let dx = 0; dx < w; dx++) (xs0[dx] = x.i0[dx]! * 4), (xs1[dx] = x.i1[dx]! * 4);
  // Two horizontally blended rows (3 channels each), reused while consecutive outputs share a source row.
  let rowA = new Int32Array(w * 3);
  let rowB = new Int32Array(w * 3);
  let haveA = -1;
  let haveB = -1;
  const blend = (row: Int32Array, sy: number) => {
    const base = sy * srcW * 4;
    for (let dx = 0, j = 0; dx < w; dx++, j += 3) {
      const p = base + xs0[dx]!;
      const q = base + xs1[dx]!;
      const a0 = x.w0[dx]!;
      const a1 = x.w1[dx]!;
      row[j] = rgba[p + c0]! * a0 + rgba[q + c0]! * a1;
      row[j + 1] = rgba[p + c1]! * a0 + rgba[q + c1]! * a1;
      row[j + 2] = rgba[p + c2]! * a0 + rgba[q + c2]! * a1;
    }
  };
  for (let dy = 0; dy < lb.height; dy++) {
    const s0 = y.i0[dy]!;
    const s1 = y.i1[dy]!;
    if (haveA !== s0) {
      if (haveB === s0) [rowA, rowB, haveA, haveB] = [rowB, rowA, haveB, haveA];
      else (blend(rowA, s0), (haveA = s0));
    }
    if (haveB !== s1) (blend(rowB, s1), (haveB = s1));
    const v0 = y.w0[dy]!;
    const v1 = y.w1[dy]!;
    let o = (lb.padY + dy) * size + lb.padX;
    for (let j = 0; j < w * 3; j += 3, o++) {
      // Vertical blend and the one rounding, in 32-bit fixed point: 255 · 2^22 stays below 2^31.
      out[o] = ((rowA[j]! * v0 + rowB[j]! * v1 + ROUND) >> SHIFT_BITS) * k0 + b0;
      out[plane + o] = ((rowA[j + 1]! * v0 + rowB[j + 1]! * v1 + ROUND) >> SHIFT_BITS) * k1 + b1;
      out[2 * plane + o] = ((rowA[j + 2]! * v0 + rowB[j + 2]! * v1 + ROUND) >> SHIFT_BITS) * k2 + b2;
    }
  }
  return out;
}
