import { expect, test } from '@playwright/test';
import { countsAddUp, openHarness, runScenario } from './harness-types';

test.beforeEach(async ({ page }) => {
  await openHarness(page);
});

// Faults are scripted on what a worker actually receives (its n-th frame), never on a seq:
// a drop policy may skip any given seq, and then the fault would silently never happen.
const hungSeq = (reason: string): number => Number(/hung on frame (\d+)/.exec(reason)?.[1]);

test('a worker that throws on a frame yields an error result, and the next frame is processed', async ({ page }) => {
  const s = await runScenario(page, {
    config: { poolSize: 1, localization: { policy: 'block', capacity: 5 }, probe: { delayMs: 2, faults: [{ kind: 'fail', onReceived: 3, workerId: 'localization-1' }] } },
    source: { fps: 0, count: 10, width: 64, height: 48 },
  });
  const loc = s.results.filter((r) => r.role === 'localization');
  // `block` loses nothing, so the worker's third frame is seq 3.
  expect(loc.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  expect(loc[2]).toMatchObject({ type: 'error', seq: 3 });
  expect(loc[2]!.message).toContain("scripted failure on frame 3 (localization-1's frame #3)");
  expect(loc.filter((r) => r.type === 'output').length).toBe(9);
  expect(s.restarts).toEqual([]);
  expect(s.report.leakedFrames).toBe(0);
});

test('the watchdog restarts a hung worker and the pipeline keeps delivering', async ({ page }) => {
  const s = await runScenario(page, {
    config: { poolSize: 1, watchdogFloorMs: 400, probe: { delayMs: 10, faults: [{ kind: 'hang', onReceived: 5, workerId: 'localization-1' }] } },
    source: { fps: 30, count: 75, width: 64, height: 48 },
  });
  const loc = s.results.filter((r) => r.role === 'localization');
  expect(s.restarts.length).toBe(1);
  expect(s.restarts[0]!.workerId).toBe('localization-1');
  const seq = hungSeq(s.restarts[0]!.reason);
  // Latest-only may have skipped frames before it, so the hung frame is the fifth received, seq ≥ 5.
  expect(seq).toBeGreaterThanOrEqual(5);
  const failed = loc.find((r) => r.seq === seq)!;
  expect(failed.type).toBe('error');
  expect(failed.message).toMatch(new RegExp(`hung on frame ${seq}\\b`));
  const after = loc.filter((r) => r.seq > seq && r.type === 'output');
  expect(after.length).toBeGreaterThan(10);
  const w = s.before.workers.find((x) => x.workerId === 'localization-1')!;
  expect(w.restarts).toBe(1);
  expect(s.report.leakedFrames).toBe(0);
  expect(countsAddUp(s)).toBe(true);
});

test('a crashed worker is replaced and its frame reported as an error', async ({ page }) => {
  const s = await runScenario(page, {
    config: { poolSize: 2, probe: { delayMs: 10, faults: [{ kind: 'crash', onReceived: 4, workerId: 'localization-1' }] } },
    source: { fps: 30, count: 45, width: 64, height: 48 },
  });
  const crashes = s.restarts.filter((r) => /crashed/.test(r.reason));
  expect(crashes).toHaveLength(1);
  expect(crashes[0]!.workerId).toBe('localization-1');
  const m = /scripted crash on frame (\d+) \(localization-1's frame #4\)/.exec(crashes[0]!.reason);
  expect(m).not.toBeNull();
  const loc = s.results.filter((r) => r.role === 'localization');
  const crashedOn = loc.find((r) => r.seq === Number(m![1]))!;
  expect(crashedOn.type).toBe('error');
  expect(loc.some((r) => r.seq > Number(m![1]) && r.type === 'output')).toBe(true);
  expect(s.report.leakedFrames).toBe(0);
});

test('zero leaked frames after drops, errors, a restart and shutdown', async ({ page }) => {
  const s = await runScenario(page, {
    config: {
      poolSize: 2,
      watchdogFloorMs: 400,
      probe: {
        delayMs: 40,
        faults: [
          { kind: 'fail', onReceived: 3 },
          { kind: 'fail', onReceived: 12 },
          { kind: 'hang', onReceived: 6, workerId: 'localization-2' },
        ],
      },
    },
    source: { fps: 60, count: 120, width: 160, height: 120 },
  });
  expect(s.before.channels.localization.dropped).toBeGreaterThan(0);
  // Every worker (state-1 too) fails its 3rd and 12th frames; localization-2's replacement runs clean.
  const failures = s.results.filter((r) => r.type === 'error' && /scripted failure/.test(r.message ?? ''));
  expect(failures.length).toBeGreaterThanOrEqual(3);
  expect(s.restarts.filter((r) => /hung/.test(r.reason)).map((r) => r.workerId)).toEqual(['localization-2']);
  expect(s.report.leakedFrames).toBe(0);
  expect(s.openAfter).toBe(0);
  // Each worker closed every frame it was given.
  for (const w of s.report.workers) {
    expect(w).toBeDefined();
    expect(w!.openFrames).toBe(0);
    expect(w!.received).toBe(w!.processed + w!.failed);
  }
  expect(countsAddUp(s)).toBe(true);
});

test('shutdown mid-stream releases every frame, even with frames queued and in flight', async ({ page }) => {
  const s = await runScenario(page, {
    config: { poolSize: 2, drainTimeoutMs: 0, probe: { delayMs: 200 } },
    source: { fps: 30, count: Infinity, width: 160, height: 120 },
    stopAfterMs: 700,
    drainMs: 0,
  });
  expect(s.report.leakedFrames).toBe(0);
  expect(s.openAfter).toBe(0);
});

test('the state worker never runs two frames at once', async ({ page }) => {
  const s = await runScenario(page, {
    config: { poolSize: 2, state: { policy: 'latest-only', capacity: 1, maxRate: 0 }, probe: { delayMs: 15 } },
    source: { fps: 120, count: 240, width: 64, height: 48 },
  });
  const state = s.report.workers.find((w) => w?.workerId === 'state-1')!;
  expect(state.processed).toBeGreaterThan(20);
  expect(state.maxConcurrent).toBe(1);
});

test('the state worker keeps to its rate limit', async ({ page }) => {
  const s = await runScenario(page, {
    config: { poolSize: 1, state: { policy: 'latest-only', capacity: 1, maxRate: 4 }, probe: { delayMs: 1 } },
    source: { fps: 30, count: 60, width: 64, height: 48 },
  });
  // The limit is a spacing between starts, checked as such (not as a count over a wall-clock
  // window, which a loaded machine stretches): no two frames reach the state worker closer
  // than 1000 / 4 ms apart (1 ms for timer granularity).
  const starts = s.deliveries.filter((d) => d.workerId === 'state-1').map((d) => d.at);
  expect(starts.length).toBeGreaterThanOrEqual(4);
  const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(249);
  // Latest-only still hands over the newest frame: the last one is processed.
  expect(s.results.filter((r) => r.role === 'state').at(-1)!.seq).toBe(60);
});

test('shutdown leaves no worker running', async ({ page }) => {
  const workersBefore = await page.evaluate(async () => {
    const { fw } = window as unknown as import('./harness-types').HarnessWindow;
    const p = await fw.createVisionPipeline({ ...fw.DEFAULT_CONFIG, processor: 'probe', poolSize: 3 });
    (window as unknown as { p: unknown }).p = p;
    void p.run(new fw.SyntheticSource({ fps: 30, count: Infinity, width: 64, height: 48 }));
    while (p.stats().framesIn < 5) await new Promise((r) => setTimeout(r, 20));
    return p.stats().workers.length;
  });
  expect(workersBefore).toBe(4);
  await expect.poll(() => page.workers().length).toBe(4);
  const report = await page.evaluate(() => ((window as unknown as { p: import('../src/vision/vision-pipeline').VisionPipeline }).p).shutdown());
  expect(report.leakedFrames).toBe(0);
  expect(report.drainedCleanly).toBe(true);
  await expect.poll(() => page.workers().length).toBe(0);
});
