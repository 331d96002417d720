import { afterEach, describe, expect, it, vi } from 'vitest';
import { WakeLockController } from './wake-lock';

// The page asks after every render; a browser that refuses must not make that a render loop.
describe('WakeLockController', () => {
  afterEach(() => vi.unstubAllGlobals());
  const host = () => ({ addController: () => {}, requestUpdate: vi.fn(), removeController: () => {}, updateComplete: Promise.resolve(true) });

  it('asks the browser once per change of mind, and re-renders only when its state changes', async () => {
    const request = vi.fn(() => Promise.reject(new DOMException('not allowed', 'NotAllowedError')));
    vi.stubGlobal('navigator', { wakeLock: { request } });
    vi.stubGlobal('document', { visibilityState: 'visible', addEventListener: () => {}, removeEventListener: () => {} });
    const h = host();
    const c = new WakeLockController(h);
    for (let i = 0; i < 5; i++) await c.set(true);
    expect(request).toHaveBeenCalledTimes(1);
    expect(c.state).toBe('refused');
    expect(h.requestUpdate).toHaveBeenCalledTimes(1);
  });

  it('says so once where the browser has no Wake Lock', async () => {
    vi.stubGlobal('navigator', {});
    const h = host();
    const c = new WakeLockController(h);
    await c.set(true);
    await c.set(true);
    expect(c.state).toBe('unsupported');
    expect(h.requestUpdate).toHaveBeenCalledTimes(1);
  });
});
