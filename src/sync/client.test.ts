import { describe, expect, it } from 'vitest';
import { backoffMs } from './client';

describe('backoffMs', () => {
  it('doubles from half a second up to 30 s, jittered down by at most half', () => {
    expect(backoffMs(0, 1)).toBe(500);
    expect(backoffMs(0, 0)).toBe(250);
    expect(backoffMs(3, 1)).toBe(4000);
    expect(backoffMs(20, 1)).toBe(30_000);
    expect(backoffMs(20, 0)).toBe(15_000);
  });
});
