// A page that runs a processor of its own (motion energy) through the public pipeline API alone:
// its own worker, its own group name, its own drop policy, its own metric beside the pipeline's.
import { CameraSource, ImageSource, Pipeline, RateCounter, SyntheticSource, type FrameSource, type PipelineResult, type PipelineStats } from '@framewise/pipeline';
import type { MotionConfig, MotionOutput } from './motion.worker';

type Outputs = { motion: MotionOutput };

/** A frame counts as "moving" when this share of the grid changed. */
const MOVING = 0.02;

const config: MotionConfig = { columns: 32, rows: 24, threshold: 12 };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** What the page keeps: every result, and the example's own metric (moving frames per second). */
const state = {
  results: [] as PipelineResult<Outputs>[],
  moving: new RateCounter(),
  pipeline: undefined as Pipeline<Outputs> | undefined,
  running: undefined as Promise<void> | undefined,
};

async function start(source: FrameSource): Promise<void> {
  await stop();
  state.results = [];
  const pipeline = await Pipeline.create<Outputs>({
    groups: [
      {
        role: 'motion',
        size: 1,
        // Motion is judged between consecutive frames the worker sees: keep the newest two
        // waiting and push out the oldest, so a slow moment never makes it compare stale frames.
        channel: { policy: 'drop-oldest', capacity: 2 },
        spawn: () => new Worker(new URL('./motion.worker.ts', import.meta.url), { type: 'module', name: 'motion' }),
        config,
      },
    ],
  });
  pipeline.subscribe((r) => {
    state.results.push(r);
    if (r.type === 'output' && r.output.changed >= MOVING) state.moving.mark();
    if (r.type === 'output') $('energy').style.width = `${Math.min(100, r.output.energy * 400)}%`;
  });
  state.pipeline = pipeline;
  state.running = pipeline.run(source);
  $('status').textContent = `running: ${source.label}`;
}

/** Stops the source, drains, and reports what the shutdown found. */
async function stop(): Promise<{ stats: PipelineStats<'motion'>; leakedFrames: number; workerOpenFrames: number[] } | undefined> {
  const p = state.pipeline;
  if (!p) return undefined;
  state.pipeline = undefined;
  const report = await p.shutdown();
  await state.running;
  $('status').textContent = 'stopped';
  return { stats: p.stats(), leakedFrames: report.leakedFrames, workerOpenFrames: report.workers.map((w) => w?.openFrames ?? -1) };
}

function render(): void {
  const s = state.pipeline?.stats();
  if (s) {
    const ch = s.channels.motion;
    const w = s.workers[0];
    $('metrics').textContent = [
      `frames in ${s.framesIn} (${s.inputFps}/s) · results ${s.outputFps}/s · moving ${state.moving.perSecond()}/s`,
      `channel ${ch.policy}/${ch.capacity}: offered ${ch.offered}, delivered ${ch.delivered}, dropped ${ch.dropped} (${Object.entries(ch.droppedBy).filter(([, n]) => n > 0).map(([why, n]) => `${why} ${n}`).join(', ') || 'none'})`,
      `worker ${w?.workerId}: ${w?.info?.reason ?? 'starting'}, p50 ${w?.processMsP50?.toFixed(1) ?? '–'} ms, latency p50 ${w?.latencyMsP50?.toFixed(1) ?? '–'} ms`,
    ].join('\n');
  }
  requestAnimationFrame(render);
}

$('camera').addEventListener('click', () => {
  const camera = new CameraSource();
  camera.open().then(() => start(camera), (err: unknown) => ($('status').textContent = String(err)));
});
$('synthetic').addEventListener('click', () => void start(new SyntheticSource({ fps: 30, count: Infinity })));
$('stop').addEventListener('click', () => void stop());
requestAnimationFrame(render);

// For the e2e test and for poking at it from the console.
Object.assign(window, { example: { start, stop, state, sources: { ImageSource, SyntheticSource } } });
document.body.dataset.ready = 'true';
