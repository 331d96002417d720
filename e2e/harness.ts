// Exposes the pipeline's public API to Playwright tests, which drive it with page.evaluate,
// plus `scenario`: one scripted run from a synthetic source to shutdown, summarised.
import { Pipeline } from '../src/pipeline/pipeline';
import { DEFAULT_CONFIG, type PipelineConfig } from '../src/pipeline/config';
import { SyntheticSource, type SyntheticOptions } from '../src/pipeline/sources/synthetic';

export interface ScenarioOptions {
  readonly config: Partial<PipelineConfig>;
  readonly source: SyntheticOptions;
  /** Stop the source after this long instead of letting it end. */
  readonly stopAfterMs?: number;
  readonly drainMs?: number;
}

async function scenario(opts: ScenarioOptions) {
  const config: PipelineConfig = { ...DEFAULT_CONFIG, processor: 'probe', ...opts.config };
  const p = await Pipeline.create(config);
  const results: { role: string; type: string; seq: number; workerId: string; message?: string; meanLuma?: number }[] = [];
  const deliveries: { workerId: string; seq: number; newest: number }[] = [];
  const restarts: { workerId: string; reason: string }[] = [];
  p.dispatcher.subscribe((r) =>
    results.push({ role: r.role, type: r.type, seq: r.seq, workerId: r.workerId, ...(r.type === 'error' ? { message: r.message } : r.output.kind === 'probe' ? { meanLuma: r.output.meanLuma } : {}) }),
  );
  p.onEvent((e) => {
    if (e.type === 'deliver') deliveries.push({ workerId: e.workerId, seq: e.seq, newest: p.framesIn });
    else restarts.push({ workerId: e.workerId, reason: e.reason });
  });
  const sampled = { maxLocQueued: 0, maxLocBlocked: 0, maxOpenFrames: 0, maxAhead: 0 };
  const sample = setInterval(() => {
    const s = p.stats();
    const loc = s.channels.localization;
    sampled.maxLocQueued = Math.max(sampled.maxLocQueued, loc.queued);
    sampled.maxLocBlocked = Math.max(sampled.maxLocBlocked, loc.blocked);
    sampled.maxOpenFrames = Math.max(sampled.maxOpenFrames, s.openFrames.page);
    // How far the source ran ahead of what the pool has finished.
    sampled.maxAhead = Math.max(sampled.maxAhead, s.framesIn - (loc.delivered - loc.inFlight) - loc.dropped);
  }, 2);
  const source = new SyntheticSource(opts.source);
  const running = p.run(source);
  if (opts.stopAfterMs !== undefined) {
    await new Promise((r) => setTimeout(r, opts.stopAfterMs));
    await p.stopSource();
  }
  await running;
  const drained = await p.drain(opts.drainMs ?? 15_000);
  clearInterval(sample);
  const before = p.stats();
  const report = await p.shutdown();
  return { results, deliveries, restarts, drained, before, report, sampled, openAfter: p.store.open };
}

const fw = { Pipeline, SyntheticSource, DEFAULT_CONFIG, scenario };
export type Fw = typeof fw;
export type ScenarioSummary = Awaited<ReturnType<typeof scenario>>;
(window as unknown as { fw: Fw }).fw = fw;
document.body.dataset.ready = 'true';
