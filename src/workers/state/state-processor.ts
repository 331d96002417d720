import { assertNever } from '../../util/assert-never';
import type { Processor, WorkerInit } from '@framewise/pipeline/worker';
import type { StateOutput, StateProcessorConfig, TaskControl } from '../../shared/protocol';
import { createDetectorProcessor } from '../detector/detector-processor';
import { createProbe } from '../shared/probe';
import { TaskJudge } from './task-evaluator';

/**
 * The state worker's processor. Either it judges on the pool's detections, told to it in order
 * (no model here: each frame it is given only asks for the verdict on the newest of them), or it
 * runs a model of its own on the newest frame and judges that. The probe judges nothing.
 */
export async function createStateProcessor(init: WorkerInit<StateProcessorConfig>): Promise<Processor<StateOutput, TaskControl>> {
  const config = init.config;
  switch (config.kind) {
    case 'probe':
      return createProbe(config.script, init);
    case 'pool-judge': {
      // The pool runs at camera pace: three sightings confirm a track, as on the page.
      const judge = new TaskJudge({ labels: config.labels, scoreThreshold: config.scoreThreshold, minHits: 3 });
      return {
        info: { processor: 'judge', provider: 'cpu', reason: "judges on the pool's detections (no model of its own)", warmupMs: 0 },
        control: (msg) => (msg.type === 'seen' ? judge.observe(msg) : judge.control(msg)),
        process: ({ meta }) => ({ kind: 'verdict', ...judge.judge(meta.captureTs) }),
      };
    }
    case 'detector': {
      // A few frames a second: two sightings in a row confirm an object.
      const judge = new TaskJudge({ labels: config.manifest.labels, scoreThreshold: config.scoreThreshold ?? config.manifest.scoreThreshold, minHits: 2 });
      return createDetectorProcessor(config, {
        // Sightings are only told to a judge without a model; this one sees for itself.
        control: (msg: TaskControl) => (msg.type === 'seen' ? undefined : judge.control(msg)),
        analyse: (detections, uncertain, meta) => {
          judge.observe({ seq: meta.seq, captureTs: meta.captureTs, width: meta.width, height: meta.height, detections, uncertain });
          return judge.judge(meta.captureTs);
        },
      });
    }
    default:
      return assertNever(config);
  }
}
