import { describe, expect, it } from 'vitest';
import { nextSlice } from './progressive';

describe('nextSlice', () => {
  it('grows while frames keep their budget', () => {
    expect(nextSlice(20, 16.7)).toBe(25);
    expect(nextSlice(75, 10)).toBe(80);
  });
  it('halves after a frame far over budget', () => {
    expect(nextSlice(20, 40)).toBe(10);
    expect(nextSlice(6, 200)).toBe(5);
  });
  it('holds between the two', () => {
    expect(nextSlice(20, 25)).toBe(20);
  });
});
