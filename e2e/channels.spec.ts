import { expect, test } from '@playwright/test';
import { countsAddUp, openHarness, runScenario, type HarnessWindow } from './harness-types';

test.beforeEach(async ({ page }) => {
  page.on('console', (m) => m.type() === 'error' && console.log(`[page] ${m.text()}`));
  await openHarness(page);
});

const loc = (s: Awaited<ReturnType<typeof runScenario>>) => s.results.filter((r) => r.role === 'localization');

test('latest-only: the state worker always gets the newest frame available when it frees up', async ({ page }) => {
  const s = await runScenario(page, {
    config: { poolSize: 1, state: { policy: 'latest-only', capacity: 1, maxRate: 0 }, probe: { delayMs: 60 } },
    source: { fps: 120, count: 90 },
  });
  const state = s.deliveries.filter((d) => d.workerId.startsWith('state'));
  expect(state.length).toBeGreaterThan(5);
  for (const d of state) expect(d.seq).toBe(d.newest);
  // The last frame was still waiting in the slot when the source ended: it is processed.
  expect(state.at(-1)!.seq).toBe(90);
  const ch = s.before.channels.state;
  expect(ch.dropped).toBe(ch.droppedBy.superseded);
  expect(ch.dropped).toBeGreaterThan(0);
  expect(countsAddUp(s)).toBe(true);
});

test('drop-new keeps the oldest 5 frames while the pool is busy', async ({ page }) => {
  const s = await runScenario(page, {
    config: { poolSize: 1, localization: { policy: 'drop-new', capacity: 5 }, probe: { delayMs: 150 } },
    source: { fps: 0, count: 20 },
  });
  expect(loc(s).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(s.before.channels.localization.droppedBy['queue-full']).toBe(14);
  expect(countsAddUp(s)).toBe(true);
});

test('drop-oldest keeps the newest 5 frames', async ({ page }) => {
  const s = await runScenario(page, {
    config: { poolSize: 1, localization: { policy: 'drop-oldest', capacity: 5 }, probe: { delayMs: 150 } },
    source: { fps: 0, count: 20 },
  });
  expect(loc(s).map((r) => r.seq)).toEqual([1, 16, 17, 18, 19, 20]);
  expect(s.before.channels.localization.droppedBy.evicted).toBe(14);
  expect(countsAddUp(s)).toBe(true);
});

test('block delivers 1,000 of 1,000 frames in order, the source paced by back-pressure', async ({ page }) => {
  test.setTimeout(120_000);
  const s = await runScenario(page, {
    config: { poolSize: 2, localization: { policy: 'block', capacity: 5 }, probe: { delayMs: 1 } },
    source: { fps: 0, count: 1000, width: 64, height: 48 },
  });
  const seqs = loc(s).map((r) => r.seq);
  expect(seqs.length).toBe(1000);
  expect(seqs).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  expect(loc(s).every((r) => r.type === 'output')).toBe(true);
  const ch = s.before.channels.localization;
  expect(ch).toMatchObject({ offered: 1000, delivered: 1000, dropped: 0 });
  // An unpaced source would have raced ahead by hundreds of frames; back-pressure held it
  // to the queue plus one frame per worker (plus the one being read).
  expect(s.sampled.maxAhead).toBeLessThanOrEqual(5 + 2 + 1);
  expect(s.sampled.maxLocQueued).toBeLessThanOrEqual(5);
  expect(countsAddUp(s)).toBe(true);
});

test('counts add up on every channel under a live mix of policies and pool sizes', async ({ page }) => {
  for (const [policy, capacity, poolSize] of [['drop-new', 5, 2], ['drop-oldest', 3, 2], ['latest-only', 1, 1], ['latest-only', 1, 2]] as const) {
    const s = await runScenario(page, {
      config: { poolSize, localization: { policy, capacity }, probe: { delayMs: 25 } },
      source: { fps: 200, count: 200, width: 64, height: 48 },
    });
    expect(countsAddUp(s)).toBe(true);
    const ch = s.before.channels.localization;
    expect(ch.offered).toBe(200);
    expect(ch.dropped).toBeGreaterThan(0);
    // Every delivered frame produced exactly one result or was discarded as stale.
    const d = s.before.dispatcher.localization;
    expect(d.delivered + d.discarded).toBe(ch.delivered);
  }
});

test('the memory source hands out its pre-decoded frames round-robin as clones, and closes its own when it ends', async ({ page }) => {
  const run = await page.evaluate(async () => {
    const { fw } = window as unknown as HarnessWindow;
    const canvas = new OffscreenCanvas(64, 48);
    const ctx = canvas.getContext('2d')!;
    const frames = ['#000', '#808080', '#fff'].map((colour, i) => {
      ctx.fillStyle = colour;
      ctx.fillRect(0, 0, 64, 48);
      return new VideoFrame(canvas, { timestamp: i });
    });
    const p = await fw.createVisionPipeline({ ...fw.DEFAULT_CONFIG, processor: 'probe', poolSize: 1, localization: { policy: 'block', capacity: 2 } });
    const lumas: number[] = [];
    p.subscribe((r) => r.role === 'localization' && r.type === 'output' && lumas.push(Math.round(r.output.kind === 'probe' ? r.output.meanLuma : -1)));
    await p.run(new fw.MemorySource(frames, { fps: 200, count: 9 }));
    await p.drain(10_000, ['localization']);
    const report = await p.shutdown();
    return { lumas, leaked: report.leakedFrames, originalsClosed: frames.every((f) => f.format === null) };
  });
  expect(run.lumas).toEqual([0, 128, 255, 0, 128, 255, 0, 128, 255]);
  expect(run.leaked).toBe(0);
  expect(run.originalsClosed).toBe(true);
});
