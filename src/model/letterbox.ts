import type { ModelManifest } from './manifest';

/** Where a source frame lands inside the model's square input. */
export interface Letterbox {
  readonly scale: number;
  readonly width: number;
  readonly height: number;
  readonly padX: number;
  readonly padY: number;
  readonly size: number;
}

export function letterbox(srcWidth: number, srcHeight: number, size: number, placement: 'top-left' | 'center', fit: 'floor' | 'round' = 'round'): Letterbox {
  if (!(srcWidth > 0 && srcHeight > 0)) throw new RangeError(`frame size ${srcWidth}×${srcHeight} is empty`);
  const scale = Math.min(size / srcWidth, size / srcHeight);
  // As the model's authors sized it: YOLOX int(w·r), Ultralytics round(w·r).
  const sized = fit === 'floor' ? Math.floor : Math.round;
  const width = Math.max(1, Math.min(size, sized(srcWidth * scale)));
  const height = Math.max(1, Math.min(size, sized(srcHeight * scale)));
  const padX = placement === 'center' ? Math.floor((size - width) / 2) : 0;
  const padY = placement === 'center' ? Math.floor((size - height) / 2) : 0;
  return { scale, width, height, padX, padY, size };
}

/**
 * RGBA pixels of the letterboxed square (already padded with the fill colour) into the
 * model's planar float tensor, in its channel order and normalisation.
 */
export function rgbaToTensor<T extends Float32Array>(rgba: Uint8ClampedArray | Uint8Array, m: ModelManifest, out: T = new Float32Array(3 * m.input.size * m.input.size) as T): T {
  const { size, channelOrder, scale, mean, std } = m.input;
  const plane = size * size;
  if (rgba.length !== plane * 4) throw new RangeError(`expected ${plane * 4} RGBA bytes for ${size}×${size}, got ${rgba.length}`);
  // Plane p takes RGBA channel src[p]: BGR reads blue first.
  const src = channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  for (let p = 0; p < 3; p++) {
    const k = scale / std[p]!;
    const b = -mean[p]! / std[p]!;
    const c = src[p]!;
    const base = p * plane;
    for (let i = 0, j = c; i < plane; i++, j += 4) out[base + i] = rgba[j]! * k + b;
  }
  return out;
}
