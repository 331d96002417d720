// Tracking measured on clips made here from COCO photographs with known motion: a slow pan,
// a zoom, a handheld jitter path, an object covered by a grey patch for 0.5 s, and a steady
// noisy scene. Ground truth is the photograph's own objects moved by each frame's known crop:
// boxes a person drew by looking at the photograph (e2e/fixtures/labels/<photo id>.json) where
// the clip names them, else the detector on the whole photograph (confident boxes only). A track
// counts on an object only when its class is one the object accepts. The clip runs through
// the real pipeline (lossless `block` queue, two localization workers: results come back out of
// order and the dispatcher reorders them) and the page's tracker, exactly as the live page uses it.
import type { FrameSource } from '@framewise/pipeline';
import { DEFAULT_CONFIG, type PipelineConfig } from '../src/vision/config';
import { createVisionPipeline } from '../src/vision/vision-pipeline';
import { Tracker, type Track } from '../src/tracking/tracker';
import { accepts, flipsPerMinute, identityMetrics, type IdentityReport, type Labelled } from '../src/tracking/metrics';
import { trackedScene } from '../src/task/scene';
import type { Detection } from '../src/model/decode';

const W = 640;
const H = 480;
const FPS = 30;
const FRAME_MS = 1000 / FPS;
const GT_SCORE = 0.6;

/** The part of the photograph a frame shows: top-left corner and size, in photograph pixels. */
interface Crop {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface ClipSpec {
  readonly name: 'pan' | 'pan-cluttered' | 'zoom' | 'jitter' | 'occlusion' | 'steady';
  readonly photo: string;
  /** URL of the photograph's hand-made labels (HandLabels); without it the ground truth is the detector's. */
  readonly labels?: string;
  readonly frames: number;
}

/** A photograph's objects boxed by a person looking at it (e2e/fixtures/labels/*.json). */
export interface HandLabels {
  readonly photo: string;
  readonly labelledBy: string;
  readonly boxes: readonly HandBox[];
}

/** One object, in photograph pixels; `also`: other classes a careful person could fairly give it. */
export interface HandBox {
  readonly label: string;
  readonly also?: readonly string[];
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly note?: string;
}

/** A ground-truth object: a box and the classes a track on it may carry. */
type Truth = Omit<HandBox, 'note'>;

export interface ClipReport extends IdentityReport {
  readonly name: string;
  readonly photo: string;
  /** Where the ground truth came from: boxes a person drew ('hand') or the detector on the whole photograph. */
  readonly truth: 'hand' | 'detector';
  readonly frames: number;
  readonly objects: number;
  /** Occlusion clip: the covered object's track ids before and after the patch. */
  readonly covered?: { readonly label: string; readonly before: number[]; readonly after: number[] };
  /** Steady clip: presence flips per minute, summed over labels, from raw boxes and from tracks. */
  readonly flipsPerMinute?: { readonly raw: number; readonly tracked: number; readonly labels: readonly string[] };
}

let seed = 1;
const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);

/** A crop with the frame's aspect ratio, `scale` of the photograph's fitting size, its centre at (cx, cy) in 0–1. */
function cropAt(pw: number, ph: number, scale: number, cx: number, cy: number): Crop {
  const fit = Math.min(pw / W, ph / H);
  const w = W * fit * scale;
  const h = H * fit * scale;
  const x = Math.min(pw - w, Math.max(0, cx * pw - w / 2));
  const y = Math.min(ph - h, Math.max(0, cy * ph - h / 2));
  return { x, y, w, h };
}

function cropsFor(spec: ClipSpec, pw: number, ph: number): Crop[] {
  seed = 7;
  const n = spec.frames;
  switch (spec.name) {
    case 'pan':
    case 'pan-cluttered': // 75 % of the photograph, moving a quarter of its width left to right
      return Array.from({ length: n }, (_, i) => cropAt(pw, ph, 0.75, 0.375 + (0.25 * i) / (n - 1), 0.5));
    case 'zoom': // from the whole photograph in to 60 % of it, about the centre
      return Array.from({ length: n }, (_, i) => cropAt(pw, ph, 1 - (0.4 * i) / (n - 1), 0.5, 0.5));
    case 'jitter': {
      // A hand holding a phone: a random walk of up to 2 % of the photograph per frame, pulled back to the centre.
      let cx = 0.5;
      let cy = 0.5;
      return Array.from({ length: n }, () => {
        cx += (rand() - 0.5) * 0.04 - (cx - 0.5) * 0.2;
        cy += (rand() - 0.5) * 0.04 - (cy - 0.5) * 0.2;
        return cropAt(pw, ph, 0.85, cx, cy);
      });
    }
    case 'occlusion':
    case 'steady':
      return Array.from({ length: n }, () => cropAt(pw, ph, 0.95, 0.5, 0.5));
  }
}

/** A photograph box as it appears in a frame showing `c`, clipped; undefined when less than `minVisible` of it is in view. */
function project(b: Truth, c: Crop, minVisible = 0.6, minSide = 24): (Labelled & Truth) | undefined {
  const s = W / c.w;
  const x1 = (b.x - c.x) * s;
  const y1 = (b.y - c.y) * s;
  const x2 = x1 + b.w * s;
  const y2 = y1 + b.h * s;
  const cx1 = Math.max(0, x1);
  const cy1 = Math.max(0, y1);
  const cx2 = Math.min(W, x2);
  const cy2 = Math.min(H, y2);
  if (cx2 - cx1 < minSide || cy2 - cy1 < minSide) return undefined;
  if ((cx2 - cx1) * (cy2 - cy1) < minVisible * (x2 - x1) * (y2 - y1)) return undefined;
  return { id: 0, label: b.label, ...(b.also ? { also: b.also } : {}), x: cx1, y: cy1, w: cx2 - cx1, h: cy2 - cy1 };
}

const config = (over: Partial<PipelineConfig> = {}): PipelineConfig => ({
  ...DEFAULT_CONFIG,
  provider: 'wasm',
  poolSize: 2,
  localization: { policy: 'block', capacity: 4 },
  ...over,
});

async function loadPhoto(url: string): Promise<ImageBitmap> {
  return createImageBitmap(await (await fetch(url)).blob());
}

/** The photograph's objects: the detector on the whole photograph (in a pipeline of its own). */
async function photoObjects(photo: ImageBitmap): Promise<Detection[]> {
  const p = await createVisionPipeline(config({ poolSize: 1 }));
  try {
    const results: Detection[][] = [];
    p.subscribe((r) => {
      if (r.role === 'localization' && r.type === 'output' && r.output.kind === 'detections') results.push([...r.output.detections, ...r.output.uncertain]);
    });
    let given = false;
    await p.run({ label: 'photo', next: async () => (given ? undefined : ((given = true), await createImageBitmap(photo))), stop() {} });
    await p.drain(60_000);
    return results[0] ?? [];
  } finally {
    await p.shutdown();
  }
}

/** Runs one clip through a fresh pipeline and the tracker; returns what the tracker made of it. */
export async function runClip(spec: ClipSpec): Promise<ClipReport> {
  const photo = await loadPhoto(spec.photo);
  // Ground truth: the photograph's objects as a person labelled them, where they have been; else
  // its confident objects, with objects the detector is unsure of on the whole photograph (down
  // to the tracker's low threshold) as "don't care": a track on one is neither right nor wrong
  // (a crop can make such an object confident). Hand labels need no such allowance.
  let objects: Truth[];
  let unsure: Truth[];
  if (spec.labels) {
    const hand = (await (await fetch(spec.labels)).json()) as HandLabels;
    if (hand.photo !== spec.photo.split('/').pop()) throw new Error(`${spec.labels} labels ${hand.photo}, not ${spec.photo}`);
    objects = hand.boxes.map(({ label, also, x, y, w, h }) => ({ label, ...(also ? { also } : {}), x, y, w, h }));
    unsure = [];
  } else {
    const found = await photoObjects(photo);
    objects = found.filter((d) => d.score >= GT_SCORE);
    unsure = found.filter((d) => d.score < GT_SCORE);
  }
  const p = await createVisionPipeline(config());
  try {
    const crops = cropsFor(spec, photo.width, photo.height);
    // Occlusion: the largest object is covered by a grey patch for 0.5 s in the middle of the clip.
    const covered = spec.name === 'occlusion' ? [...objects].sort((a, b) => b.w * b.h - a.w * a.h)[0] : undefined;
    const coverFrom = Math.floor(spec.frames / 2 - FPS / 4);
    const coverTo = coverFrom + FPS / 2;
    const isCovered = (i: number) => covered !== undefined && i >= coverFrom && i < coverTo;

    const canvas = new OffscreenCanvas(W, H);
    const ctx = canvas.getContext('2d', { willReadFrequently: spec.name === 'steady' })!;
    let i = 0;
    const source: FrameSource = {
      label: spec.name,
      async next() {
        if (i >= crops.length) return undefined;
        const c = crops[i]!;
        ctx.drawImage(photo, c.x, c.y, c.w, c.h, 0, 0, W, H);
        if (isCovered(i)) {
          const g = project(covered!, c);
          ctx.fillStyle = '#808080';
          // The whole object and a margin: nothing of it shows.
          if (g) ctx.fillRect(g.x - 8, g.y - 8, g.w + 16, g.h + 16);
        }
        if (spec.name === 'steady') {
          // Sensor noise: each frame a little different, so scores near the threshold hover.
          const img = ctx.getImageData(0, 0, W, H);
          const px = img.data;
          for (let k = 0; k < px.length; k += 4) {
            const n = (rand() - 0.5) * 24;
            for (let ch = k; ch < k + 3; ch++) px[ch] = px[ch]! + n; // clamped by the array
          }
          ctx.putImageData(img, 0, 0);
        }
        i++;
        return new VideoFrame(canvas, { timestamp: Math.round(i * FRAME_MS * 1000) });
      },
      stop() {},
    };

    const tracker = new Tracker({ highScore: DEFAULT_CONFIG.scoreThreshold, newTrackScore: DEFAULT_CONFIG.scoreThreshold });
    const perFrame: { tracks: Track[]; raw: Detection[] }[] = [];
    const off = p.subscribe((r) => {
      if (r.role !== 'localization') return;
      const frame = r.seq - 1;
      const t = frame * FRAME_MS;
      if (r.type !== 'output' || r.output.kind !== 'detections') {
        perFrame[frame] = { tracks: tracker.update([], t), raw: [] };
        return;
      }
      perFrame[frame] = { tracks: tracker.update([...r.output.detections, ...r.output.uncertain], t), raw: [...r.output.detections] };
    });
    await p.run(source);
    await p.drain(120_000);
    off();

    const frames = crops.map((c, f) => {
      const gt = objects.flatMap((o, k) => {
        if (o === covered && isCovered(f)) return [];
        const g = project(o, c);
        return g ? [{ ...g, id: k + 1 }] : [];
      });
      // Also "don't care": a true object mostly out of view (the detector may or may not still see it).
      const ignore = [...unsure, ...objects].flatMap((o) => (gt.some((g) => g.id === objects.indexOf(o) + 1) ? [] : project(o, c, 0, 4) ?? []));
      const tracks = (perFrame[f]?.tracks ?? []).filter(
        (t) => t.confirmed && t.state === 'tracked' && (gt.some((g) => accepts(g, t.label) && overlap(g, t) >= 0.5) || !ignore.some((g) => accepts(g, t.label) && overlap(g, t) >= 0.3)),
      );
      return { gt, tracks };
    });
    const report = identityMetrics(frames);
    const out: ClipReport = { name: spec.name, photo: spec.photo.split('/').pop()!, truth: spec.labels ? 'hand' : 'detector', frames: spec.frames, objects: objects.length, ...report };
    if (covered) {
      const k = objects.indexOf(covered) + 1;
      const idsIn = (from: number, to: number) => [...new Set(frames.slice(from, to).flatMap((f) => {
        const g = f.gt.find((x) => x.id === k);
        if (!g) return [];
        const best = f.tracks.map((t) => ({ t, o: overlap(g, t) })).filter((x) => x.o >= 0.5).sort((a, b) => b.o - a.o)[0];
        return best ? [best.t.id] : [];
      }))];
      return { ...out, covered: { label: covered.label, before: idsIn(coverFrom - 10, coverFrom), after: idsIn(coverTo, coverTo + 15) } };
    }
    if (spec.name === 'steady') {
      const labels = [...new Set(perFrame.flatMap((f) => f.raw.map((d) => d.label)))];
      let raw = 0;
      let tracked = 0;
      for (const label of labels) {
        raw += flipsPerMinute(perFrame.map((f) => f.raw.some((d) => d.label === label)), FRAME_MS);
        tracked += flipsPerMinute(perFrame.map((f) => trackedScene(f.tracks, W, H).detections.some((d) => d.label === label)), FRAME_MS);
      }
      return { ...out, flipsPerMinute: { raw, tracked, labels } };
    }
    return out;
  } finally {
    photo.close();
    await p.shutdown();
  }
}

function overlap(a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = ix * iy;
  return inter / (a.w * a.h + b.w * b.h - inter);
}

/** A photograph's hand-made labels, served with the page (never the photograph: that stays in the assets). */
const labels = (id: string) => `/e2e/fixtures/labels/${id}.json`;

export const CLIPS = (photo: (id: string) => string): ClipSpec[] => [
  { name: 'pan', photo: photo('000000001503'), frames: 90 },
  { name: 'zoom', photo: photo('000000009483'), frames: 90 },
  // The same slow pan over a cluttered living room, against hand-made labels of the photograph (22
  // objects, 12 of which count in its frames): the detector misses or misplaces several of them and
  // calls a radiator a chair and a fireplace a TV (README). Reported and kept from getting worse, not
  // held to 0.9. The steady clip of the same photograph keeps the detector's ground truth (README).
  { name: 'pan-cluttered', photo: photo('000000000139'), labels: labels('000000000139'), frames: 90 },
  { name: 'jitter', photo: photo('000000009483'), frames: 90 },
  { name: 'occlusion', photo: photo('000000000285'), frames: 60 },
  { name: 'steady', photo: photo('000000000139'), frames: 120 },
];

(window as unknown as { tracking: unknown }).tracking = { runClip, CLIPS };
document.body.dataset.ready = 'true';
