import { Detector } from '../../model/detector';
import { loadModelBytes } from '../../model/model-bytes';
import type { FrameMeta } from '../../frame/frame';
import type { ControlMessage, DetectorConfig, FrameMessage, ProcessorInfo, ProcessorOutput } from '../../shared/protocol';
import type { Detection } from '../../model/decode';
import type { Processor } from './consumer';

/** What a worker kind adds to each frame's detections (the task verdict, the instruction). */
export interface Analyst {
  control(msg: ControlMessage): void;
  analyse(detections: readonly Detection[], uncertain: readonly Detection[], meta: FrameMeta): Pick<Extract<ProcessorOutput, { kind: 'detections' }>, 'task'>;
}

/**
 * The detector as a frame processor. If the GPU is lost or a WebGPU run fails, it
 * rebuilds itself on WASM and carries on; the frame that failed becomes an error result.
 */
export async function createDetectorProcessor(config: DetectorConfig, analyst?: Analyst): Promise<Processor> {
  const bytes = 'url' in config.source ? await loadModelBytes(config.source.url) : config.source.bytes;
  const sourceName = 'url' in config.source ? config.source.url : config.source.fileName;
  const opts = { manifest: config.manifest, bytes, sourceName, provider: config.provider, threads: config.threads, scoreThreshold: config.scoreThreshold, lowScoreThreshold: config.lowScoreThreshold };
  let detector = await Detector.create(opts);
  const infoOf = (d: Detector): ProcessorInfo => ({ processor: 'detector', provider: d.provider, reason: `${d.choice.reason}; ${d.inputPath}`, warmupMs: d.warmupMs });
  let rebuilding: Promise<void> | undefined;
  let frames = 0;

  const processor: Processor = {
    info: infoOf(detector),
    control: (msg) => analyst?.control(msg),
    async process({ meta, pixels }: FrameMessage): Promise<ProcessorOutput> {
      if (rebuilding) await rebuilding;
      if (config.failFrames?.includes(meta.seq)) throw new Error(`frame ${meta.seq} could not be read (injected fault)`);
      try {
        const path = detector.inputPath;
        const run = await detector.detect(pixels, meta.width, meta.height, config.captureInput);
        if (++frames === config.loseDeviceAfterFrames) detector.loseDevice();
        if (detector.inputPath !== path) {
          processor.info = infoOf(detector);
          processor.onInfo?.(processor.info);
        }
        return { kind: 'detections', width: meta.width, height: meta.height, provider: detector.provider, ...run, ...analyst?.analyse(run.detections, run.uncertain, meta) };
      } catch (err) {
        if (detector.provider === 'webgpu' && !rebuilding) {
          const why = detector.failure ?? `WebGPU run failed (${err instanceof Error ? err.message : String(err)})`;
          rebuilding = (async () => {
            const old = detector;
            detector = await Detector.create(opts, { provider: 'wasm', reason: `${why}: fell back to WASM` });
            void old.release().catch(() => {});
            processor.info = infoOf(detector);
            processor.onInfo?.(processor.info);
          })().finally(() => (rebuilding = undefined));
        }
        throw err;
      }
    },
  };
  return processor;
}
