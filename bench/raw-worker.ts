// The benchmark's reference: the model alone, in one worker, back to back on real frames.
import * as Comlink from 'comlink';
import { Detector } from '../src/workers/detector/detector';
import { loadModelBytes } from '../src/model/model-bytes';
import { YOLOX_NANO } from '../src/model/manifest';
import type { ProviderPreference } from '../src/model/provider';

const api = {
  async run(frames: VideoFrame[], durationMs: number, provider: ProviderPreference, threads: number) {
    const bytes = await loadModelBytes(new URL('/models/yolox_nano.onnx', self.location.origin).href);
    const detector = await Detector.create({ manifest: YOLOX_NANO, bytes, sourceName: 'yolox_nano.onnx', provider, threads });
    const inference: number[] = [];
    const preprocess: number[] = [];
    // One warm run per frame size outside the clock (first-run costs are start-up, not speed).
    await detector.detect(frames[0]!, frames[0]!.displayWidth, frames[0]!.displayHeight);
    const t0 = performance.now();
    let runs = 0;
    while (performance.now() - t0 < durationMs) {
      const f = frames[runs % frames.length]!;
      const r = await detector.detect(f, f.displayWidth, f.displayHeight);
      inference.push(r.inferenceMs);
      preprocess.push(r.preprocessMs);
      runs++;
    }
    const elapsed = performance.now() - t0;
    for (const f of frames) f.close();
    await detector.release();
    return { runs, elapsedMs: elapsed, inference, preprocess, provider: detector.provider, reason: detector.choice.reason };
  },
};
export type RawApi = typeof api;
Comlink.expose(api);
