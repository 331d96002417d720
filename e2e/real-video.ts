// The real-video suite: three real camera clips (stock footage, hand-labelled: /work/notes/clips.md
// in the project's working notes, summarised below) played as Chrome's fake camera into the app
// as a person would use it: import a task, press "Start camera", watch the panel and the overlay.
// Shared by e2e/real-video.spec.ts (which asserts the targets) and bench/run.ts (which reports them).
//
// The clips are never committed: `npm run assets` provisions them (optional entries of
// assets.manifest.json, from the mirror, a local git snapshot or the pinned URL, SHA-256-checked)
// into .assets/video/, and prepareRealVideoClips() turns them into the fake camera's y4m files.
import { chromium, type LaunchOptions } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromiumArgs, chromiumPath } from './browser';
import { GENERATED_DIR } from './fixtures/paths';
import { openTools } from './fixtures/ui';
import { stepTargetMs, type Task } from '../src/task/types';

export type RealClipName = 'nopegl-cat' | 'mp-desk' | 'mp-thumbsup';

/** What the hand labels say of a step on its clip: its condition comes to hold (and the step must complete), or never holds. */
export type StepTruth = 'completes' | 'never';

export interface RealClip {
  readonly name: RealClipName;
  /** The provisioned file (.assets/video/<name>.mp4). */
  readonly mp4: string;
  /** The fake camera's video made from it (e2e/.generated/). */
  readonly y4m: string;
  /** Where the clip comes from: repository, commit and path of the pinned copy, and its pinned URL. */
  readonly source: { readonly repo: string; readonly commit: string; readonly path: string; readonly url: string };
  readonly licence: string;
  /** The source clip's length; the fake camera plays it forward then backward, so one loop is twice this. */
  readonly seconds: number;
  /**
   * Ground truth, from the hand labels: how many times each reliably visible label truly appears
   * (an object that never leaves the view is one appearance), and what the clip shows.
   */
  readonly appearances: Readonly<Record<string, number>>;
  readonly shows: string;
  readonly task: Task;
  /** Per step of `task`: whether the ground truth says its condition holds on this clip. */
  readonly truth: readonly StepTruth[];
}

/** The fake camera's frame rate and width: enough for a detector that analyses a few frames a second. */
const Y4M_FPS = 15;
const Y4M_WIDTH = 640;
/**
 * Played forward then backward (a palindrome), so that the fake camera's loop has no cut: Chrome
 * loops the file, and a clip that jumped from its last frame back to its first would teleport
 * every object at each loop, which the tracker would rightly see as new objects (and a judge might
 * see as objects leaving). The palindrome's only discontinuities are two reversals of motion.
 */
const FILTER = `[0:v]scale=${Y4M_WIDTH}:-2,fps=${Y4M_FPS},split[a][b];[b]reverse[r];[a][r]concat=n=2:v=1[out]`;
// Named by the recipe, so that a changed recipe never plays an old file made earlier.
const RECIPE = createHash('sha256').update(FILTER).digest('hex').slice(0, 8);

interface ManifestEntry {
  readonly path: string;
  readonly url: string;
  readonly snapshot: { readonly repo: string; readonly commit: string; readonly path: string };
  readonly licence: string;
}
/** Source and licence come from assets.manifest.json, the one place they are written. */
const manifest = JSON.parse(readFileSync(resolve('assets.manifest.json'), 'utf8')) as { files: ManifestEntry[] };
function clipFiles(name: RealClipName) {
  const entry = manifest.files.find((f) => f.path === `video/${name}.mp4`);
  if (!entry) throw new Error(`assets.manifest.json has no entry video/${name}.mp4`);
  return {
    mp4: resolve('.assets', entry.path),
    y4m: resolve(GENERATED_DIR, `real-${name}-${RECIPE}.y4m`),
    source: { ...entry.snapshot, url: entry.url },
    licence: entry.licence,
  };
}

export const REAL_CLIPS: readonly RealClip[] = [
  {
    name: 'nopegl-cat',
    ...clipFiles('nopegl-cat'),
    seconds: 9.81,
    // One cat the whole clip, large and centred (box about x 0.16–0.82, y 0–1), black background,
    // slow drift and zoom. No person, no dog.
    shows: 'one cat, the whole clip, centred; nothing else',
    appearances: { cat: 1 },
    task: {
      id: 'real-cat',
      title: 'Show your cat',
      steps: [
        { instruction: 'Show your cat', require: [{ label: 'cat' }], holdMs: 1000 },
        { instruction: 'Keep the cat in the middle of the view', require: [{ label: 'cat' }], relations: [{ subject: 'cat', relation: 'inside', region: 'center' }], holdMs: 2000 },
        { instruction: 'No dogs around', require: [{ label: 'cat' }, { label: 'dog', maxCount: 0 }], holdMs: 1000 },
        // Never holds: there is no dog on this clip.
        { instruction: 'Bring a dog into view', require: [{ label: 'dog' }], holdMs: 1000 },
      ],
      derail: [
        { kind: 'must-stay', label: 'cat', maxAbsentMs: 1500 },
        { kind: 'forbidden', label: 'person', minMs: 500 },
      ],
    },
    truth: ['completes', 'completes', 'completes', 'never'],
  },
  {
    name: 'mp-desk',
    ...clipFiles('mp-desk'),
    seconds: 3.84,
    // Top-down over a woman's shoulder: a laptop (centre about (0.60, 0.40), in `center`), a black
    // phone lower right (centre about (0.77, 0.78), in `right-third`), a second phone half hidden,
    // magazines, a vase, the table; the woman from behind (no face: uncertain for a detector).
    shows: 'laptop, phone, magazines and a woman from behind on a table; all present the whole clip',
    appearances: { laptop: 1 },
    task: {
      id: 'real-desk',
      title: 'Laptop and phone',
      steps: [
        { instruction: 'Put your laptop in the middle of the view', require: [{ label: 'laptop' }], relations: [{ subject: 'laptop', relation: 'inside', region: 'center' }], holdMs: 1000 },
        { instruction: 'Put your phone in the right third of the view', require: [{ label: 'laptop' }, { label: 'cell phone', region: 'right-third' }], holdMs: 1000 },
        { instruction: 'Sit at the laptop', require: [{ label: 'person' }, { label: 'laptop' }], relations: [{ subject: 'person', relation: 'near', object: 'laptop' }], holdMs: 500 },
        // Never holds: the laptop is in view the whole clip.
        { instruction: 'Close the laptop and put it away', require: [{ label: 'laptop', maxCount: 0 }], holdMs: 1000 },
      ],
      derail: [{ kind: 'must-stay', label: 'laptop', maxAbsentMs: 1500, steps: [1, 2] }],
    },
    truth: ['completes', 'completes', 'completes', 'never'],
  },
  {
    name: 'mp-thumbsup',
    ...clipFiles('mp-thumbsup'),
    seconds: 7.8,
    // One woman, head and shoulders, centred (centre about (0.46, 0.55)), black background; from
    // 0.9 s her arm comes up, and from 2.25 s an out-of-focus thumb is held in front of her face.
    shows: 'one person, centred, giving a thumbs-up; nothing else',
    appearances: { person: 1 },
    task: {
      id: 'real-thumbsup',
      title: 'Face the camera',
      steps: [
        { instruction: 'Face the camera, in the middle of the view', require: [{ label: 'person' }], relations: [{ subject: 'person', relation: 'inside', region: 'center' }], holdMs: 1000 },
        { instruction: 'Make sure you are alone in view', require: [{ label: 'person', minCount: 1, maxCount: 1 }], holdMs: 2000 },
        { kind: 'wait', instruction: 'Hold still', durationMs: 3000 },
        // Never holds: she is alone the whole clip.
        { instruction: 'Now ask a friend to join you', require: [{ label: 'person', minCount: 2 }], holdMs: 1000 },
      ],
      derail: [
        { kind: 'must-stay', label: 'person', maxAbsentMs: 1500 },
        { kind: 'forbidden', label: 'cell phone', minMs: 1000 },
      ],
    },
    truth: ['completes', 'completes', 'completes', 'never'],
  },
];

/** Targets (the issue's): no false completions, completion latency p50 within the step's hold + this, identities per appearance at most this. */
export const TARGETS = { falseCompletions: 0, latencyOverHoldP50Ms: 700, identitiesPerAppearance: 1.3 } as const;

export const isProvisioned = (clip: RealClip): boolean => existsSync(clip.mp4);

/**
 * Makes each provisioned clip's fake-camera video (once; kept in e2e/.generated/), and says which
 * clips are not provisioned. Needs ffmpeg; without it the clips are reported and left out.
 */
export function prepareRealVideoClips(log: (line: string) => void = console.log): void {
  const absent = REAL_CLIPS.filter((c) => !isProvisioned(c));
  if (absent.length > 0) log(`real-video: not provisioned (npm run assets), their tests will skip: ${absent.map((c) => c.name).join(', ')}`);
  const todo = REAL_CLIPS.filter((c) => isProvisioned(c) && !existsSync(c.y4m));
  if (todo.length === 0) return;
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
  } catch {
    log(`real-video: ffmpeg not found, so no fake-camera video was made for ${todo.map((c) => c.name).join(', ')}: their tests will skip`);
    return;
  }
  mkdirSync(GENERATED_DIR, { recursive: true });
  for (const clip of todo) {
    const part = `${clip.y4m}.part`;
    try {
      // No audio; yuv420p, which Chrome's y4m reader takes.
      execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-i', clip.mp4, '-filter_complex', FILTER, '-map', '[out]', '-an', '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', part], { stdio: ['ignore', 'ignore', 'pipe'] });
      renameSync(part, clip.y4m);
    } finally {
      rmSync(part, { force: true });
    }
  }
}

/** Whether a clip can run: provisioned and made into the fake camera's video; else why not. */
export function unavailable(clip: RealClip): string | undefined {
  if (!isProvisioned(clip)) return `real-video clip ${clip.name} not provisioned: ${clip.mp4} is missing (npm run assets could not get ${clip.source.repo}@${clip.source.commit.slice(0, 12)}:${clip.source.path}; see its output)`;
  if (!existsSync(clip.y4m)) return `real-video clip ${clip.name} not prepared: ${clip.y4m} is missing (ffmpeg is needed to make it)`;
  return undefined;
}

// ---- a run ----

/** What the page showed, sampled every animation frame (page clock, ms). */
interface Watched {
  /** The judge's verdicts as they arrived (development builds dispatch them as a window event). */
  verdicts: { t: number; seq: number; step: number; met: boolean }[];
  /**
   * Each change of what the panel shows: the current step's index, or -1 for the summary; a derail
   * banner's words; and the video element's time (s since the camera started: where in the fake
   * camera's loop it was, give or take the frames in flight).
   */
  panel: { t: number; step: number; derail: string; videoS: number }[];
  /** Every track the overlay drew: its label, when first and last drawn, on how many animation frames. */
  tracks: Record<string, { label: string; first: number; last: number; frames: number }>;
  /** Animation frames sampled since the first verdict, and on how many each label was drawn. */
  samples: number;
  labelFrames: Record<string, number>;
}

export interface StepResult {
  readonly index: number;
  readonly instruction: string;
  readonly truth: StepTruth;
  /** The step's hold (a see step) or duration (a wait). */
  readonly targetMs: number;
  /** On screen: from the step becoming current (the first step: from the first verdict) to its completion; null if it never completed. */
  readonly latencyMs: number | null;
}

export interface ClipResult {
  readonly clip: RealClipName;
  readonly steps: readonly StepResult[];
  /** Over the steps whose condition holds: latency − hold, p50 (Infinity if one never completed). */
  readonly latencyOverHoldP50Ms: number;
  /** Steps completed whose condition the ground truth says never holds. */
  readonly falseCompletions: number;
  /** Derail banners shown (none should be: the ground truth gives no reason for any). */
  readonly falseDerailments: number;
  /** Each derail banner: its words, the step it showed on, and where in the source clip the camera was (s, about). */
  readonly derails: readonly { readonly text: string; readonly step: number; readonly clipS: number }[];
  /** Per reliably visible label: distinct track ids the overlay drew / true appearances. */
  readonly identities: Readonly<Record<string, { readonly ids: number; readonly appearances: number; readonly perAppearance: number }>>;
  /** Per label the overlay drew: the share of animation frames since the first verdict it was drawn on (what the detector saw). */
  readonly seen: Readonly<Record<string, number>>;
  readonly verdicts: number;
  /** From pressing Start camera to the end of watching. */
  readonly watchedMs: number;
  readonly endedBy: 'summary' | 'negative step watched' | 'duration';
}

export interface RunOptions {
  /** Where the app is served (a Vite dev server: its page dispatches the verdict events). */
  readonly baseURL: string;
  /** Chromium launch options; the fake camera's flags are added to `args`. */
  readonly launch?: LaunchOptions;
  /** If set, a screenshot of the page is saved here when the run ends. */
  readonly screenshot?: string;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = (s.length - 1) / 2;
  return (s[Math.floor(m)]! + s[Math.ceil(m)]!) / 2;
};

/**
 * Plays `clip` as the camera of a Chromium of its own, opens the app at `baseURL`, imports the
 * clip's task, presses Start camera and watches the panel and the overlay every animation frame:
 * for `durationMs` at most, or until the summary shows, or until the task's final step (one that
 * must never complete on this clip) has been current for a whole loop of the fake camera's video
 * (every frame of the clip seen once more).
 */
export async function runClip(opts: RunOptions, clip: RealClip, { durationMs }: { durationMs: number }): Promise<ClipResult> {
  const why = unavailable(clip);
  if (why) throw new Error(why);
  const launch = opts.launch ?? {};
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    ...launch,
    args: [...(launch.args ?? chromiumArgs()), '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${clip.y4m}`],
  });
  try {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => {
      pageErrors.push(e.message);
      console.error(`[${clip.name}] page error: ${e.message}`);
    });
    // Run under tsx (bench/run.ts), esbuild keeps function names by wrapping them in a helper
    // `__name` that the serialised watcher below would call in the page, where it does not exist.
    await page.addInitScript({ content: 'globalThis.__name ??= (f) => f;' });
    await page.addInitScript(() => {
      const w = window as unknown as { watched: Watched; watching: boolean };
      const watched: Watched = { verdicts: [], panel: [], tracks: {}, samples: 0, labelFrames: {} };
      w.watched = watched;
      w.watching = false;
      addEventListener('framewise:verdict', (e) => {
        const d = (e as CustomEvent<{ seq: number; step: number; met: boolean }>).detail;
        watched.verdicts.push({ t: performance.now(), seq: d.seq, step: d.step, met: d.met });
      });
      const tick = () => {
        const t = performance.now();
        const app = document.querySelector('fw-app')?.shadowRoot;
        const panel = app?.querySelector('fw-task-panel')?.shadowRoot;
        if (w.watching && panel) {
          const summary = !!panel.querySelector('[data-testid="summary"]');
          const items = [...panel.querySelectorAll('[data-testid="steps"] li')];
          const step = summary ? -1 : items.findIndex((li) => li.getAttribute('aria-current') === 'step');
          const derail = panel.querySelector('[data-testid="derail"]')?.textContent?.trim() ?? '';
          const last = watched.panel.at(-1);
          const videoS = app?.querySelector('video')?.currentTime ?? NaN;
          if ((summary || step >= 0) && (!last || last.step !== step || last.derail !== derail)) watched.panel.push({ t, step, derail, videoS });
          const boxes = JSON.parse((app?.querySelector('fw-overlay') as HTMLElement | null)?.dataset.boxes ?? '[]') as { id: number | string; label: string }[];
          // Shares of frames drawn are over the frames since the judge's first verdict: the start-up before it draws nothing.
          if (watched.verdicts.length > 0) {
            watched.samples++;
            for (const label of new Set(boxes.map((b) => b.label))) watched.labelFrames[label] = (watched.labelFrames[label] ?? 0) + 1;
          }
          for (const b of boxes) {
            const k = String(b.id);
            const tr = (watched.tracks[k] ??= { label: b.label, first: t, last: t, frames: 0 });
            tr.last = t;
            tr.frames++;
          }
        }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    await page.goto(`${opts.baseURL.replace(/\/$/, '')}/`);
    await openTools(page);
    await page.getByLabel('Import a task file').setInputFiles({ name: 'task.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(clip.task)) });
    const picker = await page.getByLabel('Task', { exact: true }).elementHandle({ timeout: 15_000 });
    await page.waitForFunction(([el, id]) => (el as HTMLSelectElement).value === id, [picker, clip.task.id] as const, { timeout: 15_000 }).catch(() => {
      throw new Error(`[${clip.name}] the task ${clip.task.id} was not taken up after import`);
    });
    await page.getByRole('button', { name: 'Tools' }).click();
    const start = page.getByRole('button', { name: 'Start camera' });
    await page.evaluate(() => ((window as unknown as { watching: boolean }).watching = true));
    const startedAt = Date.now();
    // Enabled once the model's configuration is loaded: click waits for it.
    await start.click({ timeout: 30_000 });
    const lastStep = clip.task.steps.length - 1;
    const loopMs = 2 * clip.seconds * 1000;
    const ended = await page
      .waitForFunction(
        ({ lastStep, loopMs }) => {
          const w = (window as unknown as { watched: Watched }).watched;
          const now = w.panel.at(-1);
          if (now?.step === -1) return 'summary';
          const since = w.panel.find((p, i) => p.step === lastStep && (i === 0 || w.panel[i - 1]!.step !== lastStep));
          return now?.step === lastStep && since && performance.now() - since.t >= loopMs ? 'negative step watched' : false;
        },
        { lastStep, loopMs },
        { timeout: durationMs, polling: 250 },
      )
      .then((h) => h.jsonValue() as Promise<'summary' | 'negative step watched'>)
      .catch((err: unknown) => {
        if (err instanceof Error && err.name === 'TimeoutError') return 'duration' as const;
        throw err;
      });
    const watchedMs = Date.now() - startedAt;
    if (opts.screenshot) await page.screenshot({ path: opts.screenshot });
    const w = await page.evaluate(() => (window as unknown as { watched: Watched }).watched);
    if (w.panel.length === 0) throw new Error(`[${clip.name}] the page's watcher recorded nothing${pageErrors.length ? ` (page errors: ${pageErrors.join('; ')})` : ''}`);
    return { ...measure(clip, w), watchedMs, endedBy: ended };
  } finally {
    await browser.close();
  }
}

function measure(clip: RealClip, w: Watched): Omit<ClipResult, 'watchedMs' | 'endedBy'> {
  const n = clip.task.steps.length;
  // When the panel first showed each step, and the summary (index n).
  const shownAt: (number | undefined)[] = Array.from({ length: n + 1 }, () => undefined);
  for (const p of w.panel) {
    const i = p.step === -1 ? n : p.step;
    shownAt[i] ??= p.t;
  }
  const firstVerdict = w.verdicts[0]?.t;
  /** A step is completed on screen once a later step (or the summary) shows. */
  const doneAt = (k: number) => shownAt.slice(k + 1).find((t) => t !== undefined);
  const steps: StepResult[] = clip.task.steps.map((s, k) => {
    const begin = k === 0 ? firstVerdict : shownAt[k];
    const end = doneAt(k);
    return { index: k, instruction: s.instruction, truth: clip.truth[k]!, targetMs: stepTargetMs(s), latencyMs: begin !== undefined && end !== undefined ? Math.round(end - begin) : null };
  });
  const positive = steps.filter((s) => s.truth === 'completes');
  const over = positive.map((s) => (s.latencyMs === null ? Infinity : s.latencyMs - s.targetMs));
  // The fake camera plays the clip forward then backward: a time in that loop, folded back onto the clip.
  const clipS = (videoS: number) => {
    const phase = videoS % (2 * clip.seconds);
    return Math.round((phase <= clip.seconds ? phase : 2 * clip.seconds - phase) * 100) / 100;
  };
  const derails = w.panel.filter((p, i) => p.derail && (i === 0 || w.panel[i - 1]!.derail !== p.derail)).map((p) => ({ text: p.derail, step: p.step, clipS: clipS(p.videoS) }));
  const identities = Object.fromEntries(
    Object.entries(clip.appearances).map(([label, appearances]) => {
      const ids = Object.values(w.tracks).filter((t) => t.label === label).length;
      return [label, { ids, appearances, perAppearance: ids / appearances }];
    }),
  );
  const seen = Object.fromEntries(Object.entries(w.labelFrames).map(([l, f]) => [l, Math.round((f / Math.max(1, w.samples)) * 100) / 100]));
  return {
    clip: clip.name,
    steps,
    latencyOverHoldP50Ms: median(over),
    falseCompletions: steps.filter((s) => s.truth === 'never' && s.latencyMs !== null).length,
    falseDerailments: derails.length,
    derails,
    identities,
    seen,
    verdicts: w.verdicts.length,
  };
}

/** p50 of (latency − hold) over the positive steps of several clips. */
export const latencyOverHoldP50 = (results: readonly ClipResult[]): number =>
  median(results.flatMap((r) => r.steps.filter((s) => s.truth === 'completes').map((s) => (s.latencyMs === null ? Infinity : s.latencyMs - s.targetMs))));

export const describeDerails = (r: ClipResult): string => r.derails.map((d) => `"${d.text}" on step ${d.step + 1} at about ${d.clipS.toFixed(1)} s of the clip`).join('; ');

/** One line per clip, for the log and the README. */
export function tableLine(r: ClipResult): string {
  const steps = r.steps.map((s) => `${s.index + 1}${s.truth === 'never' ? '(never)' : ''} ${s.latencyMs === null ? '–' : `${(s.latencyMs / 1000).toFixed(2)} s`} [hold ${(s.targetMs / 1000).toFixed(1)} s]`).join(', ');
  const ids = Object.entries(r.identities).map(([l, v]) => `${l} ${v.ids}/${v.appearances} = ${v.perAppearance.toFixed(2)}`).join(', ');
  const seen = Object.entries(r.seen).sort((a, b) => b[1] - a[1]).map(([l, f]) => `${l} ${Math.round(f * 100)}%`).join(', ');
  return `${r.clip} | steps: ${steps} | latency − hold p50 ${Number.isFinite(r.latencyOverHoldP50Ms) ? `${Math.round(r.latencyOverHoldP50Ms)} ms` : 'a step never completed'} | false completions ${r.falseCompletions} | false derailments ${r.falseDerailments}${r.derails.length ? ` (${describeDerails(r)})` : ''} | identities per appearance: ${ids} | drawn: ${seen} | ${r.verdicts} verdicts, ${(r.watchedMs / 1000).toFixed(1)} s, ended by ${r.endedBy}`;
}
