// The example's end-to-end tests (examples/custom-processor: a page with a processor of its own,
// built only on the pipeline package's public API), written once and run twice: against this
// repository's build (example.spec.ts) and against a stranger's project that installed the
// packed tarball (packed-example.spec.ts).
import { expect, test, type Page } from '@playwright/test';
import type { Pipeline, PipelineResult, PipelineStats } from '@framewise/pipeline';
import type { FrameSource } from '@framewise/pipeline';
import type { MotionOutput } from '../examples/custom-processor/motion.worker';

type Outputs = { motion: MotionOutput };
interface ExampleWindow {
  example: {
    start(source: FrameSource): Promise<void>;
    stop(): Promise<{ stats: PipelineStats<'motion'>; leakedFrames: number; workerOpenFrames: number[] } | undefined>;
    state: { results: PipelineResult<Outputs>[]; pipeline: Pipeline<Outputs> | undefined };
    sources: typeof import('@framewise/pipeline');
  };
}

/** Where the example lives in the build under test, and where its test photographs are served. */
export interface ExampleSite {
  /** Which build this is, in the test titles. */
  readonly build: string;
  readonly pagePath: string;
  readonly photo: (id: string) => string;
}

export function exampleTests(site: ExampleSite): void {
  test.describe(site.build, () => describeExample(site));
}

function describeExample(site: ExampleSite): void {
  const photo = site.photo;
  async function open(page: Page): Promise<void> {
    await page.goto(site.pagePath);
    await page.waitForSelector('body[data-ready="true"]');
  }

  test('the example runs its own motion worker: still frames have no motion, alternating photographs do, in any drop pattern', async ({ page }) => {
    await open(page);
    const a = photo('000000000724');
    const b = photo('000000000285');
    const urls = [a, a, a, a, b, a, b, a, b, a, b, a];
    const run = await page.evaluate(async (images) => {
      const { example } = window as unknown as ExampleWindow;
      await example.start(new example.sources.ImageSource(images));
      // The source ends by itself; wait until every frame it gave was answered or dropped.
      for (;;) {
        const s = example.state.pipeline!.stats();
        const ch = s.channels.motion;
        if (s.framesIn === images.length && ch.offered === ch.delivered + ch.dropped && s.dispatcher.motion.delivered + s.dispatcher.motion.discarded === ch.delivered) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const results = example.state.results.map((r) => ({ seq: r.seq, type: r.type, energy: r.type === 'output' ? r.output.energy : -1, changed: r.type === 'output' ? r.output.changed : -1 }));
      return { results, shutdown: await example.stop() };
    }, urls);

    expect(run.results.length).toBeGreaterThanOrEqual(2);
    expect(run.results.every((r) => r.type === 'output')).toBe(true);
    expect(run.results[0]!.energy).toBe(0); // nothing to compare the first frame the worker sees with
    // Frames the worker saw one after the other: the same photograph → exactly no motion; different ones → clearly some.
    for (let i = 1; i < run.results.length; i++) {
      const [prev, cur] = [run.results[i - 1]!, run.results[i]!];
      const same = urls[prev.seq - 1] === urls[cur.seq - 1];
      if (same) expect(cur, `frames ${prev.seq} → ${cur.seq}, same photograph`).toMatchObject({ energy: 0, changed: 0 });
      else expect(cur.changed, `frames ${prev.seq} → ${cur.seq}, different photographs`).toBeGreaterThan(0.2);
    }
    expect(run.shutdown!.leakedFrames).toBe(0);
    expect(run.shutdown!.workerOpenFrames).toEqual([0]);
  });

  test("the example's own drop policy (drop-oldest, 2) and metrics: a flood is counted as evictions and shown on the page", async ({ page }) => {
    await open(page);
    const run = await page.evaluate(async () => {
      const { example } = window as unknown as ExampleWindow;
      // Unpaced: the source hands over 300 frames far faster than one worker can look at them.
      await example.start(new example.sources.SyntheticSource({ fps: 0, count: 300, width: 320, height: 240 }));
      for (;;) {
        const ch = example.state.pipeline!.stats().channels.motion;
        if (ch.offered === 300 && ch.queued === 0 && ch.inFlight === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const seqs = example.state.results.map((r) => r.seq);
      const before = example.state.pipeline!.stats();
      return { seqs, before, shutdown: await example.stop() };
    });
    const ch = run.before.channels.motion;
    expect(ch).toMatchObject({ name: 'motion', policy: 'drop-oldest', capacity: 2, offered: 300 });
    expect(ch.offered).toBe(ch.delivered + ch.dropped);
    expect(ch.droppedBy.evicted).toBe(ch.dropped);
    expect(ch.dropped).toBeGreaterThan(0);
    expect(run.seqs.length).toBe(ch.delivered);
    // Live ordering: results only move forward, and the newest frame is never the one dropped.
    expect(run.seqs).toEqual([...run.seqs].sort((x, y) => x - y));
    expect(run.seqs.at(-1)).toBe(300);
    expect(run.before.workers).toHaveLength(1);
    expect(run.before.workers[0]).toMatchObject({ role: 'motion', errors: 0, info: { processor: 'motion', provider: 'cpu' } });
    expect(run.shutdown!.leakedFrames).toBe(0);
    expect(run.shutdown!.workerOpenFrames).toEqual([0]);
  });

  test('the example page shows its metrics while a source runs', async ({ page }) => {
    await open(page);
    await page.getByRole('button', { name: 'Use a synthetic source' }).click();
    await expect(page.getByRole('status')).toHaveText(/running: synthetic/);
    await expect(page.locator('#metrics')).toContainText('channel drop-oldest/2');
    await expect(page.locator('#metrics')).toContainText('32×24 luma grid');
    await expect.poll(async () => Number((await page.locator('#metrics').textContent())?.match(/frames in (\d+)/)?.[1] ?? 0)).toBeGreaterThan(10);
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect(page.getByRole('status')).toHaveText('stopped');
  });
}
