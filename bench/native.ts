// The model's native limit on this machine: onnxruntime-node (CPU) on the same model and the same
// letterboxed inputs, one frame at a time as a single browser worker runs it. The benchmark sets the
// browser numbers against this, so a gap shows the cost of WASM and the pipeline, not of the model.
//   node --import tsx bench/native.ts [--seconds 5] [--threads 1,2]
import jpeg from 'jpeg-js';
import * as ort from 'onnxruntime-node';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { yoloxInput } from '../e2e/fixtures/cv2-linear';

export interface NativeRun {
  threads: number;
  runs: number;
  inference_ms_p50: number;
  inference_ms_p95: number;
  fps: number;
  ort_version: string;
}

// Nearest rank, as packages/pipeline/src/stats.ts `percentile`. Not imported: the pipeline's public entry
// brings the browser's types (VideoFrame, MediaStream…) into this Node-only check, and the
// dependency rules refuse a deep import of stats.ts.
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export async function measureNative(opts: { modelPath: string; inputs: Float32Array[]; threads: number; durationMs: number; warmupRuns?: number }): Promise<NativeRun> {
  const { modelPath, inputs, threads, durationMs, warmupRuns = 3 } = opts;
  if (inputs.length === 0) throw new Error('measureNative needs at least one input');
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    // One frame at a time: inter-op parallelism would measure something no single worker does.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  try {
    const name = session.inputNames[0]!;
    // Tensors wrap the arrays without copying; built up front so the clock sees only session.run.
    const feeds = inputs.map((data) => {
      const size = Math.round(Math.sqrt(data.length / 3));
      if (3 * size * size !== data.length) throw new Error(`an input of ${data.length} floats is not a square 3-channel image`);
      return { [name]: new ort.Tensor('float32', data, [1, 3, size, size]) };
    });
    // First runs pay for allocation and kernel selection: start-up, not speed.
    for (let i = 0; i < warmupRuns; i++) await session.run(feeds[i % feeds.length]!);
    const times: number[] = [];
    const t0 = performance.now();
    do {
      const feed = feeds[times.length % feeds.length]!;
      const start = performance.now();
      await session.run(feed);
      times.push(performance.now() - start);
    } while (performance.now() - t0 < durationMs);
    const elapsedMs = performance.now() - t0;
    const sorted = [...times].sort((a, b) => a - b);
    return {
      threads,
      runs: times.length,
      inference_ms_p50: percentile(sorted, 50),
      inference_ms_p95: percentile(sorted, 95),
      fps: times.length / (elapsedMs / 1000),
      ort_version: ort.env.versions.node ?? ort.env.versions.common,
    };
  } finally {
    await session.release();
  }
}

/** Model inputs built with the authors' preprocessing from decoded pixels (e.g. decoded by Chromium). */
export function nativeInputsFromRgba(images: { rgba: Uint8ClampedArray | Uint8Array; width: number; height: number }[], size = 416): Float32Array[] {
  return images.map(({ rgba, width, height }) => {
    if (rgba.length !== width * height * 4) throw new Error(`RGBA of ${rgba.length} bytes is not ${width}×${height}×4`);
    return yoloxInput(rgba, width, height, size).tensor;
  });
}

/** Model inputs built with the authors' preprocessing from real photographs. */
export async function nativeInputs(photoPaths: string[], size = 416): Promise<Float32Array[]> {
  // Node has no image decoder of its own; jpeg-js is pure JS. Its pixels may differ from
  // Chromium's by a level here and there, which changes nothing in how long the model takes.
  const images = photoPaths.map((p) => {
    const { data, width, height } = jpeg.decode(readFileSync(p), { useTArray: true, formatAsRGBA: true });
    return { rgba: data, width, height };
  });
  return nativeInputsFromRgba(images, size);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, threads: { type: 'string', default: '1,2' } } });
  const durationMs = Number(values.seconds) * 1000;
  const threadCounts = values.threads!.split(',').map(Number);
  const dir = '.assets/coco';
  const photos = readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort().slice(0, 8).map((f) => join(dir, f));
  const inputs = await nativeInputs(photos);
  for (const threads of threadCounts) {
    const r = await measureNative({ modelPath: 'public/models/yolox_nano.onnx', inputs, threads, durationMs });
    console.log(`onnxruntime-node ${r.ort_version} cpu, ${r.threads} thread(s): ${r.runs} runs, inference p50 ${r.inference_ms_p50.toFixed(1)} ms, p95 ${r.inference_ms_p95.toFixed(1)} ms, ${r.fps.toFixed(1)} fps`);
  }
}
