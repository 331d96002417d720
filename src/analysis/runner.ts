import type { PipelineConfig } from '../pipeline/config';
import { Pipeline } from '../pipeline/pipeline';
import { VideoFileSource } from '../pipeline/sources/video-file';
import type { Outbox } from '../sync/outbox';
import { Recorder } from '../sync/recorder';
import type { Analysis, FrameRow } from './export';

export interface AnalysisHooks {
  readonly onProgress: (done: number, total: number) => void;
  readonly signal: AbortSignal;
  readonly outbox?: Outbox;
  readonly onError?: (message: string) => void;
}

export class AnalysisError extends Error {}

/**
 * Every frame of a video file through the same pipeline, with the lossless `block`
 * policy: the file reader waits for the workers, nothing is dropped, and results come
 * out in frame order. A frame that fails is recorded as such and the run goes on.
 */
export async function analyseFile(file: File, config: PipelineConfig, hooks: AnalysisHooks): Promise<Analysis> {
  const source = new VideoFileSource(file);
  let info: { frames: number; fps: number };
  try {
    info = await source.open();
  } catch (err) {
    source.stop();
    throw new AnalysisError(`${file.name} cannot be analysed: ${err instanceof Error ? err.message : String(err)}`);
  }
  const pipeline = await Pipeline.create({ ...config, localization: { policy: 'block', capacity: config.localization.capacity } });
  const rows: FrameRow[] = [];
  const recorder = hooks.outbox ? await Recorder.start(hooks.outbox, { mode: 'file', file: file.name, frames: info.frames, fps: info.fps }, hooks.onError ?? (() => {})) : undefined;
  pipeline.dispatcher.subscribe((r) => {
    if (r.role !== 'localization') return;
    const time = (r.seq - 1) / info.fps;
    const row: FrameRow =
      r.type === 'error' ? { frame: r.seq, time, detections: [], error: r.message } : { frame: r.seq, time, detections: r.output.kind === 'detections' ? r.output.detections : [] };
    rows.push(row);
    recorder?.onFrame(row);
    hooks.onProgress(rows.length, info.frames);
  });
  const startedAt = Date.now();
  const cancel = () => void pipeline.stopSource();
  hooks.signal.addEventListener('abort', cancel, { once: true });
  try {
    await pipeline.run(source);
    await pipeline.drain(60_000, ['localization']);
  } finally {
    hooks.signal.removeEventListener('abort', cancel);
    await pipeline.shutdown();
  }
  const analysis: Analysis = { id: `a-${crypto.randomUUID()}`, fileName: file.name, fps: info.fps, totalFrames: info.frames, startedAt, finishedAt: Date.now(), cancelled: hooks.signal.aborted, rows };
  await recorder?.end({ frames: rows.length, failed: rows.filter((r) => r.error).length, cancelled: analysis.cancelled });
  return analysis;
}
