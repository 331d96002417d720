import { describe, expect, it } from 'vitest';
import { capacityFor, ConfigError, configFromUrl, DEFAULT_CONFIG } from './config';

describe('config', () => {
  it('defaults: pool of 2 taking the newest frame when a worker frees up, latest-only state slot', () => {
    expect(configFromUrl('')).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG.localization).toEqual({ policy: 'latest-only', capacity: 1 });
    expect(DEFAULT_CONFIG.state).toMatchObject({ policy: 'latest-only', capacity: 1 });
  });

  it('URL parameters override single fields', () => {
    const c = configFromUrl('?pool=3&locPolicy=drop-oldest&locCapacity=8&stateRate=0&watchdogFloor=500');
    expect(c.poolSize).toBe(3);
    expect(c.localization).toEqual({ policy: 'drop-oldest', capacity: 8 });
    expect(c.state.maxRate).toBe(0);
    expect(c.watchdogFloorMs).toBe(500);
  });

  it('the judge: on the pool\'s detections by default, on its own detector by URL, and nothing else', () => {
    expect(DEFAULT_CONFIG.judge).toBe('pool');
    expect(configFromUrl('?judge=detector').judge).toBe('detector');
    expect(() => configFromUrl('?judge=bigger')).toThrow(/judge must be pool or detector, got "bigger"/);
  });

  it('reports every bad parameter at once, by name', () => {
    try {
      configFromUrl('?pool=0&locPolicy=sometimes&stateCapacity=3&heartbeat=abc');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(/poolSize must be a whole number from 1 to 16, got 0/);
      expect(problems).toMatch(/localization.policy must be one of/);
      expect(problems).toMatch(/state.capacity must be 1 with latest-only/);
      expect(problems).toMatch(/heartbeat="abc" is not a number/);
    }
  });
});

describe('fault injection from the URL', () => {
  it('failFrames is taken by test and development builds', () => {
    expect(configFromUrl('?failFrames=5,9', DEFAULT_CONFIG, true).failFrames).toEqual([5, 9]);
    expect(configFromUrl('?failFrames=5').failFrames).toEqual([5]); // vitest runs in test mode
  });

  it('a production build refuses failFrames, saying why', () => {
    expect(() => configFromUrl('?failFrames=5', DEFAULT_CONFIG, false)).toThrow(/failFrames \(fault injection\) is only accepted by test and development builds/);
    expect(configFromUrl('?pool=3', DEFAULT_CONFIG, false).failFrames).toBeUndefined();
  });

  it('changing the queue policy gives it a size that fits: the seed design\'s drop-new 5 stays one parameter away', () => {
    expect(configFromUrl('?locPolicy=drop-new').localization).toEqual({ policy: 'drop-new', capacity: 5 });
    expect(configFromUrl('?locPolicy=drop-oldest&locCapacity=8').localization).toEqual({ policy: 'drop-oldest', capacity: 8 });
    expect(capacityFor('latest-only', { policy: 'drop-new', capacity: 5 })).toBe(1);
    expect(capacityFor('drop-oldest', { policy: 'drop-new', capacity: 7 })).toBe(7);
    expect(capacityFor('block', { policy: 'latest-only', capacity: 1 })).toBe(5);
  });
});
