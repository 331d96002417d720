import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from './vision/config';
import { applySettings, loadSettings, saveSettings, settingsFrom, validateSettings } from './settings';

const memory = () => {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), raw: m };
};

describe('settings', () => {
  it('round-trip through storage and apply over the defaults', () => {
    const store = memory();
    const s = { ...settingsFrom(DEFAULT_CONFIG), layout: 'manual' as const, poolSize: 3, threadsPerWorker: 2, locPolicy: 'drop-oldest' as const, judge: 'detector' as const, scoreThreshold: 0.5, deviceName: 'Bench 3' };
    saveSettings(s, store);
    const loaded = loadSettings(store)!;
    expect(loaded).toEqual(s);
    const c = applySettings(DEFAULT_CONFIG, loaded);
    expect(c.poolSize).toBe(3);
    expect(c.threadsPerWorker).toBe(2);
    expect(c.localization.policy).toBe('drop-oldest');
    expect(c.scoreThreshold).toBe(0.5);
    expect(c.judge).toBe('detector');
  });

  it('never keeps the enrolment code, and drops a token an older version stored', () => {
    const store = memory();
    saveSettings({ ...settingsFrom(DEFAULT_CONFIG), enrollCode: 'operator-code-123' }, store);
    expect(store.raw.get('framewise-settings')).not.toContain('operator-code-123');
    store.setItem('framewise-settings', JSON.stringify({ ...settingsFrom(DEFAULT_CONFIG), token: 'old-shared-token' }));
    const loaded = loadSettings(store)!;
    expect(loaded).not.toHaveProperty('token');
    expect(store.raw.get('framewise-settings')).not.toContain('old-shared-token');
  });

  it('names every problem, backend included', () => {
    const problems = validateSettings({ ...settingsFrom(DEFAULT_CONFIG), poolSize: 0, scoreThreshold: 2, backendUrl: 'http://x', deviceName: 'd'.repeat(81), enrollCode: 'c'.repeat(300) });
    expect(problems).toEqual(expect.arrayContaining([
      'poolSize must be a whole number from 1 to 16, got 0',
      'scoreThreshold must be between 0 and 1, got 2',
      'backend URL must start with ws:// or wss://, got http:',
      'device name is at most 80 characters, got 81',
      'enrolment code is at most 256 characters',
    ]));
    expect(validateSettings({ ...settingsFrom(DEFAULT_CONFIG), backendUrl: 'wss://host/sync?token=abc' })).toEqual([
      'backend URL must not carry a user, password or query: this device enrols and keeps its own credential',
    ]);
    expect(validateSettings({ ...settingsFrom(DEFAULT_CONFIG), backendUrl: 'wss://host/sync' })).toEqual([]);
  });

  it('an automatic layout leaves the pool and threads to the calibration; one chosen here applies', () => {
    const calibrated = { ...DEFAULT_CONFIG, poolSize: 1, threadsPerWorker: 2 };
    const auto = applySettings(calibrated, { ...settingsFrom(DEFAULT_CONFIG), poolSize: 3 });
    expect([auto.poolSize, auto.threadsPerWorker]).toEqual([1, 2]);
    const manual = applySettings(calibrated, { ...settingsFrom(DEFAULT_CONFIG), layout: 'manual', poolSize: 3, threadsPerWorker: 0 });
    expect([manual.poolSize, manual.threadsPerWorker]).toEqual([3, 0]);
  });

  it('settings kept before layouts were calibrated: a pool other than the default was chosen, the default one was not', () => {
    const store = memory();
    store.setItem('framewise-settings', JSON.stringify({ poolSize: 1, scoreThreshold: 0.5 }));
    expect(loadSettings(store)).toMatchObject({ layout: 'manual', poolSize: 1, threadsPerWorker: 0 });
    store.setItem('framewise-settings', JSON.stringify({ poolSize: 2, scoreThreshold: 0.5 }));
    expect(loadSettings(store)).toMatchObject({ layout: 'auto' });
    store.setItem('framewise-settings', JSON.stringify({ layout: 'sometimes' }));
    expect(loadSettings(store)).toBeUndefined();
  });

  it('ignores a corrupt stored entry', () => {
    const store = memory();
    store.setItem('framewise-settings', '{"poolSize": -4');
    expect(loadSettings(store)).toBeUndefined();
    store.setItem('framewise-settings', JSON.stringify({ poolSize: 99 }));
    expect(loadSettings(store)).toBeUndefined();
  });
});
