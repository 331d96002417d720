import { describe, expect, it } from 'vitest';
import { lumaOf, motionBetween } from './motion';

const rgba = (...pixels: [number, number, number][]) => new Uint8ClampedArray(pixels.flatMap(([r, g, b]) => [r, g, b, 255]));

describe('motion energy', () => {
  it('luma follows BT.601 weights', () => {
    expect([...lumaOf(rgba([255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]))]).toEqual([76, 150, 29, 255]);
  });

  it('a still picture has none; the first frame has none', () => {
    const grid = Uint8Array.from([10, 200, 30, 90]);
    expect(motionBetween(undefined, grid, 8)).toEqual({ energy: 0, changed: 0 });
    expect(motionBetween(grid, Uint8Array.from(grid), 8)).toEqual({ energy: 0, changed: 0 });
  });

  it('black to white everywhere is full energy; one cell of four changing a little is counted only above the threshold', () => {
    expect(motionBetween(new Uint8Array(4), new Uint8Array(4).fill(255), 8)).toEqual({ energy: 1, changed: 1 });
    const m = motionBetween(Uint8Array.from([100, 100, 100, 100]), Uint8Array.from([151, 100, 105, 100]), 8);
    expect(m.energy).toBeCloseTo((51 + 5) / (255 * 4), 10);
    expect(m.changed).toBe(0.25);
  });

  it('refuses grids of different sizes rather than compare the wrong cells', () => {
    expect(() => motionBetween(new Uint8Array(4), new Uint8Array(6), 8)).toThrow(/differ in size/);
  });
});
