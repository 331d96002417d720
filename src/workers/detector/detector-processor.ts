import { Detector } from './detector';
import { loadModelBytes } from '../../model/model-bytes';
import type { FrameMeta, FrameMessage, Processor, ProcessorInfo } from '@framewise/pipeline/worker';
import type { DetectionsOutput, DetectorConfig } from '../../shared/protocol';
import type { Detection } from '../../model/decode';

/** What a worker group adds to each frame's detections (the state worker: the task's verdict), and the messages it takes. */
export interface Analyst<Extra extends object, Control> {
  control(msg: Control): void;
  analyse(detections: readonly Detection[], uncertain: readonly Detection[], meta: FrameMeta): Extra;
}

/**
 * The detector as a frame processor. If the GPU is lost or a WebGPU run fails, it
 * rebuilds itself on WASM and carries on; the frame that failed becomes an error result.
 */
export async function createDetectorProcessor<Extra extends object, Control>(config: DetectorConfig, analyst?: Analyst<Extra, Control>): Promise<Processor<DetectionsOutput & Extra, Control>> {
  const bytes = 'url' in config.source ? await loadModelBytes(config.source.url) : config.source.bytes;
  const sourceName = 'url' in config.source ? config.source.url : config.source.fileName;
  const opts = { manifest: config.manifest, bytes, sourceName, provider: config.provider, threads: config.threads, scoreThreshold: config.scoreThreshold, lowScoreThreshold: config.lowScoreThreshold };
  let detector = await Detector.create(opts);
  const infoOf = (d: Detector): ProcessorInfo => ({ processor: `detector: ${config.manifest.name}`, provider: d.provider, reason: `${d.choice.reason}; ${d.inputPath}`, warmupMs: d.warmupMs });
  let rebuilding: Promise<void> | undefined;
  let frames = 0;

  const processor: Processor<DetectionsOutput & Extra, Control> = {
    info: infoOf(detector),
    control: (msg) => analyst?.control(msg),
    async process({ meta, pixels }: FrameMessage): Promise<DetectionsOutput & Extra> {
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
        const extra = (analyst?.analyse(run.detections, run.uncertain, meta) ?? {}) as Extra;
        return { kind: 'detections', provider: detector.provider, ...run, ...extra };
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
