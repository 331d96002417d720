// Exposes the pipeline's public API to Playwright tests, which drive it with page.evaluate,
// plus `scenario`: one scripted run from a synthetic source to shutdown, summarised.
import { CameraSource, ImageSource, MemorySource, SyntheticSource, type SyntheticOptions } from '@framewise/pipeline';
import { DEFAULT_CONFIG, type PipelineConfig } from '../src/vision/config';
import { createVisionPipeline } from '../src/vision/vision-pipeline';
import { yoloxInput } from './fixtures/cv2-linear';
import { YOLOX_NANO } from '../src/model/manifest';
import type { Detection } from '../src/model/decode';
import { Outbox } from '../src/sync/outbox';
import { SyncClient } from '../src/sync/client';
import type { SyncStatus } from '../src/sync/sync-status';
import { Recorder } from '../src/sync/recorder';
import { recordFrame } from '../src/analysis/runner';
import { COCO_LABELS } from '../src/model/labels';
import '../src/ui/sync-status';
import type { SyncStatusView } from '../src/ui/sync-status';

export interface ScenarioOptions {
  readonly config: Partial<PipelineConfig>;
  readonly source: SyntheticOptions;
  /** Stop the source after this long instead of letting it end. */
  readonly stopAfterMs?: number;
  readonly drainMs?: number;
}

async function scenario(opts: ScenarioOptions) {
  const config: PipelineConfig = { ...DEFAULT_CONFIG, processor: 'probe', ...opts.config };
  const p = await createVisionPipeline(config);
  const results: { role: string; type: string; seq: number; workerId: string; message?: string; meanLuma?: number }[] = [];
  const deliveries: { workerId: string; seq: number; newest: number; at: number }[] = [];
  const restarts: { workerId: string; reason: string }[] = [];
  p.subscribe((r) =>
    results.push({ role: r.role, type: r.type, seq: r.seq, workerId: r.workerId, ...(r.type === 'error' ? { message: r.message } : r.output.kind === 'probe' ? { meanLuma: r.output.meanLuma } : {}) }),
  );
  p.onEvent((e) => {
    if (e.type === 'deliver') deliveries.push({ workerId: e.workerId, seq: e.seq, newest: p.framesIn, at: performance.now() });
    else if (e.type === 'restart') restarts.push({ workerId: e.workerId, reason: e.reason });
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
  return { results, deliveries, restarts, drained, before, report, sampled, openAfter: p.stats().openFrames.page };
}

/** Runs the real pipeline (detector, one worker, lossless) over photographs; detections per image. */
async function detectImages(urls: string[], provider: 'wasm' | 'webgpu', poolSize = 1, extra: Partial<PipelineConfig> = {}) {
  const p = await createVisionPipeline({
    ...DEFAULT_CONFIG,
    ...extra,
    processor: 'detector',
    provider,
    poolSize,
    localization: { policy: 'block', capacity: 5 },
    state: { ...DEFAULT_CONFIG.state, maxRate: 0.01 },
    watchdogFloorMs: 120_000,
    drainTimeoutMs: 0,
    captureModelInput: true,
  });
  const out: { seq: number; width: number; height: number; provider: string; detections: Detection[]; error?: string; inferenceMs?: number; preprocessMs?: number; input?: string }[] = [];
  p.subscribe((r) => {
    if (r.role !== 'localization') return;
    if (r.type === 'error') out.push({ seq: r.seq, width: 0, height: 0, provider: '', detections: [], error: r.message });
    else if (r.output.kind === 'detections') out.push({ seq: r.seq, width: r.width, height: r.height, provider: r.output.provider, detections: [...r.output.detections], inferenceMs: r.output.inferenceMs, preprocessMs: r.output.preprocessMs, input: r.output.input && base64(r.output.input) });
  });
  await p.run(new ImageSource(urls));
  await p.drain(600_000, ['localization']);
  const workers = p.stats().workers.map((w) => ({ id: w.workerId, info: w.info }));
  await p.shutdown();
  return { results: out, workers };
}

/**
 * The YOLOX authors' input tensor for one image, computed by the independent reference of their
 * preprocessing (e2e/fixtures/cv2-linear.ts) from the image's own RGB pixels: base64 of its
 * float32 bytes, for the native reference run and for checking what each path feeds its model.
 */
async function referenceInput(url: string) {
  const bitmap = await createImageBitmap(await (await fetch(url)).blob());
  const ctx = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const { tensor, scale } = yoloxInput(rgba, bitmap.width, bitmap.height, YOLOX_NANO.input.size);
  return { tensor: base64(tensor), lb: { scale }, width: bitmap.width, height: bitmap.height };
}

function base64(data: Float32Array): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Sync harness: an outbox and a sync client (shown by the app's own status element), and writers of realistic events. */
const sync: { outbox?: Outbox; client?: SyncClient; statuses: SyncStatus[]; view?: SyncStatusView } = { statuses: [] };
async function startSync(dbName: string, url: string, token: string, opts: { ackTimeoutMs?: number; backoff?: { startingDelay?: number; maxDelay?: number } } = {}) {
  sync.client?.stop();
  sync.outbox ??= await Outbox.open(dbName);
  sync.view ??= document.body.appendChild(document.createElement('fw-sync-status') as SyncStatusView);
  sync.client = new SyncClient(sync.outbox, {
    url,
    credential: token,
    ...opts,
    onStatus: (s) => {
      sync.statuses.push(s);
      sync.view!.status = s;
    },
  });
  sync.client.start();
}
/** Opens the page's outbox without syncing (events written now wait for a client). */
async function openOutbox(dbName: string) {
  sync.outbox ??= await Outbox.open(dbName);
}
function stopSync() {
  sync.client?.stop();
}
/** Whether this page holds the sync lock now (a stopped client must have let go of it). */
async function holdsSyncLock(): Promise<boolean> {
  const q = await navigator.locks.query();
  return (q.held ?? []).some((l) => l.name === 'framewise-sync');
}

/** A task-state verdict as the recorder writes it; `frame` equals the event's seq, so tests can tell each event is the right one. */
function verdict(frame: number) {
  const step = Math.floor(frame / 40) % 4;
  return {
    task: 'desk-setup',
    step,
    frame,
    event: frame % 7 === 0 ? { type: 'derailed', step, reason: 'the keyboard left the desk' } : { type: 'progress', step, met: frame % 3 === 0, heldMs: (frame % 5) * 250 },
    objects: { keyboard: 1, mouse: 1, 'cell phone': frame % 2, cup: 2 },
  };
}
async function writeEvents(sessionId: string, from: number, count: number, everyMs: number) {
  await sync.outbox!.startSession(sessionId);
  for (let i = from; i < from + count; i++) {
    await sync.outbox!.append(sessionId, 'state', verdict(i));
    if (everyMs > 0) await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Detections as the decoder gives them (COCO labels, full-precision scores and boxes on a 1920×1080 frame). */
function detections(n: number, seed: number): Detection[] {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, () => {
    const classId = Math.floor(rnd() * COCO_LABELS.length);
    const w = 20 + rnd() * 400;
    const h = 20 + rnd() * 300;
    return { classId, label: COCO_LABELS[classId]!, score: 0.25 + rnd() * 0.75, x: rnd() * (1920 - w), y: rnd() * (1080 - h), w, h };
  });
}
/** A video-file analysis session through the real Recorder: `frames` frames, each with the given number of detections. */
async function recordFrames(sessionId: string, perFrame: readonly number[]) {
  const errors: string[] = [];
  const rec = await Recorder.start(sync.outbox!, { mode: 'file', file: 'busy-scene.webm', frames: perFrame.length, fps: 30 }, (m) => errors.push(m), sessionId);
  perFrame.forEach((n, i) => recordFrame(rec, { frame: i + 1, time: i / 30, detections: detections(n, i + 1) }));
  await rec.end({ frames: perFrame.length, failed: 0, cancelled: false });
  return { errors, progress: await sync.outbox!.progress(sessionId) };
}
/** Appends one raw event; resolves with the error message if the outbox refuses it. */
async function tryAppend(sessionId: string, kind: 'detections' | 'state', payload: unknown): Promise<{ ok: true; seq: number } | { ok: false; error: string; name: string }> {
  await sync.outbox!.startSession(sessionId);
  try {
    return { ok: true, seq: (await sync.outbox!.append(sessionId, kind, payload)).seq };
  } catch (err) {
    return { ok: false, error: (err as Error).message, name: (err as Error).name };
  }
}
/** The verbose form earlier versions recorded: one object per detection with full floats. */
function verboseFrame(frame: number, n: number) {
  return { frame, time: frame / 30, objects: detections(n, frame).map((d) => ({ label: d.label, score: d.score, box: [d.x, d.y, d.w, d.h] })) };
}

const fw = { createVisionPipeline, CameraSource, SyntheticSource, ImageSource, MemorySource, DEFAULT_CONFIG, scenario, detectImages, referenceInput, sync, openOutbox, startSync, stopSync, holdsSyncLock, writeEvents, recordFrames, tryAppend, verboseFrame, verdict, Outbox };
export type Fw = typeof fw;
export type ScenarioSummary = Awaited<ReturnType<typeof scenario>>;
(window as unknown as { fw: Fw }).fw = fw;
document.body.dataset.ready = 'true';
