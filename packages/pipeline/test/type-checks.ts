// The public API's types, compiled and never run (as comlink's tests/type-checks.ts): each
// `@ts-expect-error` is a misuse the types must refuse, and everything else must compile. It is
// checked twice: in this repository against the TypeScript source (`npm run typecheck`), and in
// the packed-tarball e2e against the published declarations in dist/, as a stranger sees them.
import {
  ConfigError,
  DROP_POLICIES,
  MemorySource,
  Pipeline,
  RateCounter,
  channelProblems,
  percentile,
  type ChannelConfig,
  type DropPolicy,
  type FrameMeta,
  type FrameSource,
  type GroupSpec,
  type PipelineResult,
  type PipelineStats,
  type ShutdownReport,
} from '@framewise/pipeline';
import { defineProcessor, type FrameMessage, type Processor, type WorkerInit } from '@framewise/pipeline/worker';

// Only the two entries are public.
// @ts-expect-error the channel is internal: not in the package's exports
import type { Channel } from '@framewise/pipeline/channel';
// @ts-expect-error the sources are exported from the page entry, not by path
import type { CameraSource } from '@framewise/pipeline/src/sources/camera';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(proof: Equal<A, B>) => proof;

interface Motion {
  energy: number;
  changed: number;
}
interface Boxes {
  boxes: { label: string; score: number }[];
}
type Outputs = { motion: Motion; detect: Boxes };
type Controls = { detect: { threshold: number } };

// ---- the worker side ----

defineProcessor<{ columns: number }, Motion>(({ config, workerId, role, heartbeatMs, restarts }) => {
  same<number, typeof config.columns>(true);
  same<string, typeof workerId | typeof role>(true);
  same<number, typeof heartbeatMs | typeof restarts>(true);
  return {
    info: { processor: 'motion', provider: 'cpu', reason: 'luma grid', warmupMs: 0 },
    process(frame: FrameMessage) {
      same<Readonly<FrameMeta>, typeof frame.meta>(true);
      // @ts-expect-error a frame's meta is read-only
      frame.meta.seq = 1;
      return { energy: frame.meta.width, changed: 0 };
    },
  };
});

// @ts-expect-error the processor must answer the declared output
defineProcessor<{ columns: number }, Motion>(() => ({ info: { processor: 'm', provider: 'cpu', reason: '', warmupMs: 0 }, process: () => ({ energy: 'high' }) }));

// @ts-expect-error info says why it runs where it runs
defineProcessor<unknown, Motion>(() => ({ info: { processor: 'm', provider: 'cpu' }, process: () => ({ energy: 1, changed: 0 }) }));

const withControl: Processor<Boxes, Controls['detect']> = {
  info: { processor: 'detector', provider: 'wasm', reason: 'no WebGPU', warmupMs: 12 },
  process: async () => ({ boxes: [] }),
  control(msg) {
    same<{ threshold: number }, typeof msg>(true);
  },
};
void withControl;

const init: WorkerInit<{ columns: number }> = { workerId: 'motion-0', role: 'motion', config: { columns: 32 }, heartbeatMs: 500, restarts: 0 };
void init;

// ---- the page side ----

const policy: DropPolicy = 'drop-new';
// @ts-expect-error not a policy
const wrongPolicy: DropPolicy = 'drop-newest';
void wrongPolicy;
same<readonly ['latest-only', 'drop-new', 'drop-oldest', 'block'], typeof DROP_POLICIES>(true);

const channel: ChannelConfig = { policy, capacity: 5, maxRate: 0 };
const problems: string[] = channelProblems('motion', channel);
void problems;

const motionGroup: GroupSpec<'motion'> = {
  role: 'motion',
  size: 1,
  channel,
  spawn: () => new Worker(new URL('./motion.worker.ts', import.meta.url), { type: 'module' }),
  config: { columns: 32 },
};
// @ts-expect-error a group's role is its declared name
const misnamed: GroupSpec<'motion'> = { ...motionGroup, role: 'motoin' };
void misnamed;

async function usePipeline(source: FrameSource): Promise<ShutdownReport> {
  const pipeline = await Pipeline.create<Outputs, Controls>({ groups: [motionGroup, { ...motionGroup, role: 'detect' }] }, 'detect');

  pipeline.subscribe((r: PipelineResult<Outputs>) => {
    if (r.type === 'error') {
      same<string, typeof r.message>(true);
      // @ts-expect-error an error has no output
      void r.output;
      return;
    }
    // Checking the role narrows the output to that group's type.
    if (r.role === 'motion') same<Motion, typeof r.output>(true);
    else same<Boxes, typeof r.output>(true);
    // @ts-expect-error results are immutable
    r.seq = 0;
  });

  pipeline.control('detect', { threshold: 0.4 });
  // @ts-expect-error the motion group takes no control messages
  pipeline.control('motion', { threshold: 0.4 });
  // @ts-expect-error the control message has the declared shape
  pipeline.control('detect', { threshold: 'high' });
  pipeline.pause('motion');
  // @ts-expect-error no such group
  pipeline.pause('tracking');

  const stats: PipelineStats<'motion' | 'detect'> = pipeline.stats();
  same<number, typeof stats.channels.motion.dropped>(true);
  // @ts-expect-error stats are keyed by the pipeline's roles
  void stats.channels.tracking;

  void pipeline.run(source);
  return pipeline.shutdown();
}
void usePipeline;

const rate = new RateCounter();
rate.mark();
const perSecond: number = rate.perSecond();
void perSecond;
// @ts-expect-error an empty list has no percentile: the result may be undefined
const p95: number = percentile([1, 2, 3], 95);
void p95;
const memory: FrameSource = new MemorySource([], { fps: 30 });
void memory;
const error = new ConfigError(['groups: empty']);
same<readonly string[], typeof error.problems>(true);
