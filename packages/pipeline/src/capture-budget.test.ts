import { describe, expect, it } from 'vitest';
import { CaptureGate } from './capture-budget.js';
import type { FramePixels } from './frame.js';

/** A bitmap-like frame (Node has no VideoFrame): the gate's arithmetic, not the copy, is under test. */
const frame = (): FramePixels => ({ width: 4, height: 4, close() {} }) as unknown as FramePixels;

describe('CaptureGate', () => {
  it('admits capturer-backed frames while fewer than the budget are held, and copies the rest', async () => {
    let held = 0;
    const gate = new CaptureGate(2, () => held);
    const admitted = [];
    for (let i = 0; i < 5; i++) {
      const a = await gate.admit(frame());
      admitted.push(a.backed);
      if (a.backed) held++; // the pipeline now holds it
    }
    expect(admitted).toEqual([true, true, false, false, false]);
    expect(gate.stats()).toEqual({ budget: 2, held: 2, heldMax: 2, copied: 3 });
    held = 1; // a worker answered one
    expect((await gate.admit(frame())).backed).toBe(true);
  });

  it('a budget of 0 copies every frame; no budget (a source whose frames are its own) copies none', async () => {
    const none = new CaptureGate(0, () => 0);
    expect((await none.admit(frame())).backed).toBe(false);
    expect(none.stats().copied).toBe(1);
    const own = new CaptureGate(undefined, () => 99);
    const f = frame();
    expect(await own.admit(f)).toEqual({ pixels: f, backed: false });
    expect(own.stats()).toEqual({ budget: undefined, held: 0, heldMax: 0, copied: 0 });
  });
});
