import { describe, expect, it } from 'vitest';
import { fitContain } from './geometry';

describe('fitContain', () => {
  it('pillarboxes a 4:3 frame in a 16:9 box', () => {
    expect(fitContain(640, 480, 1280, 720)).toEqual({ scale: 1.5, offsetX: 160, offsetY: 0 });
  });
  it('letterboxes a 16:9 frame in a square box', () => {
    expect(fitContain(1920, 1080, 960, 960)).toEqual({ scale: 0.5, offsetX: 0, offsetY: 210 });
  });
  it('handles portrait frames and an empty source', () => {
    expect(fitContain(720, 1280, 720, 720)).toEqual({ scale: 0.5625, offsetX: 157.5, offsetY: 0 });
    expect(fitContain(0, 0, 100, 100).scale).toBe(0);
  });
});
