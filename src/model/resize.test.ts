import { describe, expect, it } from 'vitest';
import { yoloxInput, cv2ResizeLinear } from '../../e2e/fixtures/cv2-linear';
import { letterbox } from './letterbox';
import { YOLOX_NANO, yolov8Manifest } from './manifest';
import { letterboxLinear } from './resize';

/** A photograph-like test image: smooth gradients plus sharp edges and noise, so every interpolation path is exercised. */
function image(w: number, h: number, seed: number): Uint8Array {
  let s = seed;
  const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const px = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      const edge = (x >> 3) % 2 === (y >> 4) % 2 ? 90 : 0;
      px[i] = Math.min(255, (x * 255) / w + edge * rand());
      px[i + 1] = Math.min(255, (y * 255) / h + 40 * rand());
      px[i + 2] = ((x ^ y) & 0xff) * (rand() > 0.97 ? 0 : 1);
      px[i + 3] = 255;
    }
  }
  return px;
}

describe('canonical letterbox (OpenCV INTER_LINEAR, half-pixel, uint8)', () => {
  // Camera sizes, COCO photograph sizes (non-integer ratios), an upscale and odd sizes.
  const sizes: [number, number][] = [[640, 480], [640, 427], [500, 375], [427, 640], [1280, 720], [300, 200], [97, 61], [416, 416]];
  for (const [w, h] of sizes) {
    it(`matches the YOLOX authors' preprocessing within 1 grey level on a ${w}×${h} image`, () => {
      const rgba = image(w, h, w * 31 + h);
      const ref = yoloxInput(rgba, w, h, 416);
      const lb = letterbox(w, h, 416, 'top-left', YOLOX_NANO.input.fit);
      const got = letterboxLinear(rgba, w, h, lb, YOLOX_NANO, new Float32Array(3 * 416 * 416));
      expect(lb.scale).toBeCloseTo(ref.scale, 12);
      let max = 0;
      let over = 0;
      for (let i = 0; i < got.length; i++) {
        const d = Math.abs(got[i]! - ref.tensor[i]!);
        max = Math.max(max, d);
        if (d > 0) over++;
      }
      expect(max).toBeLessThanOrEqual(1);
      // Rounding differences are rare, not systematic.
      expect(over / got.length).toBeLessThan(0.02);
    });
  }

  it('an RGB, 0–1, centred model gets the same pixels in its own layout', () => {
    const m = yolov8Manifest({ id: 'v8', name: 'v8', size: 320 });
    const [w, h] = [640, 427];
    const rgba = image(w, h, 5);
    const lb = letterbox(w, h, 320, 'center', 'round');
    const got = letterboxLinear(rgba, w, h, lb, m, new Float32Array(3 * 320 * 320));
    const rgb = cv2ResizeLinear(rgba, w, h, lb.width, lb.height);
    const plane = 320 * 320;
    let max = 0;
    for (let y = 0; y < lb.height; y++) {
      for (let x = 0; x < lb.width; x++) {
        for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(got[c * plane + (y + lb.padY) * 320 + x + lb.padX]! * 255 - rgb[(y * lb.width + x) * 3 + c]!));
      }
    }
    expect(max).toBeLessThanOrEqual(1.0001);
    expect(got[0]).toBeCloseTo(114 / 255, 6); // the padding, above the centred image
  });
});
