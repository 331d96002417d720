import { describe, expect, it } from 'vitest';
import type { FramePixels } from './frame.js';
import { FrameStore } from './frame-store.js';

function fakePixels() {
  const p = { closes: 0, close() { p.closes++; } };
  return p;
}

describe('FrameStore', () => {
  it('closes a frame exactly once, when its last holder lets go', () => {
    const store = new FrameStore();
    const px = fakePixels();
    const h = store.add({ seq: 1, captureTs: 0, width: 1, height: 1 }, px as unknown as FramePixels);
    store.retain(h);
    store.retain(h);
    store.release(h);
    store.release(h);
    expect(px.closes).toBe(0);
    expect(store.open).toBe(1);
    store.release(h);
    expect(px.closes).toBe(1);
    expect(store.open).toBe(0);
    expect(() => store.release(h)).toThrow(/not held/);
    expect(px.closes).toBe(1);
  });

  it('closeAll closes what is left and says how many', () => {
    const store = new FrameStore();
    const a = fakePixels();
    const b = fakePixels();
    store.add({ seq: 1, captureTs: 0, width: 1, height: 1 }, a as unknown as FramePixels);
    const hb = store.add({ seq: 2, captureTs: 0, width: 1, height: 1 }, b as unknown as FramePixels);
    store.release(hb);
    expect(store.closeAll()).toBe(1);
    expect([a.closes, b.closes]).toEqual([1, 1]);
    expect(store.closed).toBe(2);
  });
});
