import { VideoFileSource } from '@framewise/pipeline';
import type { PipelineConfig } from '../vision/config';
import { createVisionPipeline } from '../vision/vision-pipeline';
import type { Outbox } from '../sync/outbox';
import { clip, compactFrame, round } from '../sync/payloads';
import { Recorder } from '../sync/recorder';
import { Tracker } from '../tracking/tracker';
import type { Analysis, FrameRow, TrackedDetection } from './export';

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
  const pipeline = await createVisionPipeline({ ...config, localization: { policy: 'block', capacity: config.localization.capacity } });
  const rows: FrameRow[] = [];
  const recorder = hooks.outbox ? await Recorder.start(hooks.outbox, { mode: 'file', file: file.name, frames: info.frames, fps: info.fps }, hooks.onError ?? (() => {})) : undefined;
  // Lossless and in frame order: the tracker sees every frame, at the file's own clock.
  const tracker = new Tracker({ highScore: config.scoreThreshold, newTrackScore: config.scoreThreshold });
  pipeline.subscribe((r) => {
    if (r.role !== 'localization') return;
    const time = (r.seq - 1) / info.fps;
    let row: FrameRow;
    if (r.type === 'error' || r.output.kind !== 'detections') {
      tracker.update([], time * 1000);
      row = { frame: r.seq, time, detections: [], ...(r.type === 'error' ? { error: r.message } : {}) };
    } else {
      const out = r.output;
      const tracks = tracker.update([...out.detections, ...out.uncertain], time * 1000);
      // A matched track shows exactly the box it was matched to: that is how a detection finds its track.
      const detections: TrackedDetection[] = out.detections.map((d) => ({
        ...d,
        track: tracks.find((t) => t.confirmed && t.state === 'tracked' && t.label === d.label && t.x === d.x && t.y === d.y && t.w === d.w && t.h === d.h)?.id ?? null,
      }));
      row = { frame: r.seq, time, detections };
    }
    rows.push(row);
    if (recorder) recordFrame(recorder, row);
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
  await recorder?.end({ frames: rows.length, failed: rows.filter((r) => r.error).length, cancelled: hooks.signal.aborted });
  return analysis;
}

/** A video file's frame in the record: what was found in it, compactly, or why it could not be read. */
export function recordFrame(recorder: Recorder, row: FrameRow): void {
  if (row.error) recorder.record('error', { frame: row.frame, time: round(row.time, 3), message: clip(row.error) });
  else recorder.record('detections', compactFrame(row.frame, row.time, row.detections));
}
