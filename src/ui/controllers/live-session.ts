import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { analyseFile } from '../../analysis/runner';
import type { Analysis } from '../../analysis/export';
import { LiveScene } from '../../guide/live-scene';
import type { TaskGuide } from '../../guide/task-guide';
import { cameraConstraints, CameraError, CameraSource, type Facing } from '@framewise/pipeline';
import type { ModelManifest } from '../../model/manifest';
import type { PipelineConfig } from '../../vision/config';
import { createVisionPipeline, type VisionPipeline, type VisionResult, type VisionStats } from '../../vision/vision-pipeline';
import type { Outbox } from '../../sync/outbox';
import { Recorder } from '../../sync/recorder';
import type { CameraSessionStart } from '../../sync/recorded';
import { LiveRecord } from '../../guide/live-record';
import { atFreshPlaces } from '../../guide/fresh-instruction';
import type { Store } from '../../store/db';
import type { ModelChoice, OwnModelChoice } from '../model-picker';
import { withClassNames } from '../../vision/model-labels';
import type { OverlayFrame } from '../overlay';

/** Labels longer than this (all names together) are recorded as a count: the session start must stay well inside an event's 16 KiB. */
const RECORDED_LABELS_CHARS = 4000;

/** What the session start says about the model: which one, and the labels the record's names come from. */
function modelRecord(m: ModelManifest): Pick<CameraSessionStart, 'model' | 'modelName' | 'labels' | 'labelCount'> {
  const fits = m.labels.reduce((n, l) => n + l.length + 3, 0) <= RECORDED_LABELS_CHARS;
  return { model: m.id, modelName: m.name, ...(fits ? { labels: m.labels } : { labelCount: m.labels.length }) };
}

/**
 * Development and test builds only: each verdict's breakdown as the judge sent it, as a window
 * event, so a test can hold what the screen shows against what the judge said of the same frame.
 */
function announceVerdict(r: VisionResult): void {
  if (r.role !== 'state' || r.type !== 'output' || r.output.kind === 'probe' || !r.output.instruction) return;
  const { judgedSeq, instruction: i } = r.output;
  dispatchEvent(new CustomEvent('framewise:verdict', { detail: { seq: judgedSeq, step: i.step, met: i.met, text: i.text } }));
}

/** The model a judge with one of its own runs: none when it judges on the pool's detections. */
function judgeModelOf(c: PipelineConfig): ModelChoice | undefined {
  return c.judge === 'detector' ? (c.judgeModel ?? c.model) : undefined;
}

export type LiveStatus = 'idle' | 'starting' | 'running' | 'stopping';

export interface LiveDeps {
  readonly guide: TaskGuide;
  readonly outbox: () => Outbox | undefined;
  readonly store: () => Store | undefined;
  readonly video: () => HTMLVideoElement | null | undefined;
  /** Receives every tracked scene directly: the overlay redraws per animation frame, the page does not re-render per result. */
  readonly draw: (frame: OverlayFrame | undefined) => void;
  readonly onError: (message: string) => void;
}

/**
 * The live session: camera → pipeline → tracked scene → guide, overlay and record; plus model
 * switching and video-file analysis, which borrow the same configuration. The host re-renders
 * on the stats tick (twice a second) and on guide changes, never once per result.
 */
export class LiveSessionController implements ReactiveController {
  status: LiveStatus = 'idle';
  stats: VisionStats | undefined;
  lastResult: VisionResult | undefined;
  results = 0;
  model: ModelChoice | undefined;
  /** A model only the task's judge runs (on its own, e.g. a bigger one for verdicts); the pool keeps `model`. */
  judgeModel: ModelChoice | undefined;
  modelBusy = false;
  providerNotice = '';
  facing: Facing = 'environment';
  analysis: { done: number; total: number; startedAt: number; elapsedMs: number; abort: AbortController } | undefined;
  analysisResult: Analysis | undefined;
  config: PipelineConfig | undefined;
  private pipeline: VisionPipeline | undefined;
  private camera: CameraSource | undefined;
  private recorder: LiveRecord | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly host: ReactiveControllerHost, private readonly deps: LiveDeps) {
    host.addController(this);
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    this.analysis?.abort.abort();
    void this.stop();
  }

  get busy(): boolean {
    return this.status === 'starting' || this.status === 'stopping' || this.modelBusy;
  }

  private set(patch: Partial<Pick<LiveSessionController, 'status' | 'modelBusy' | 'providerNotice' | 'analysis' | 'analysisResult' | 'model' | 'judgeModel' | 'facing'>>): void {
    Object.assign(this, patch);
    this.host.requestUpdate();
  }

  async start(): Promise<void> {
    if (!this.config || this.status !== 'idle') return;
    this.set({ status: 'starting' });
    try {
      this.camera = new CameraSource(cameraConstraints(this.facing));
      const stream = await this.camera.open();
      const video = this.deps.video();
      if (video) video.srcObject = stream;
      const config = this.currentConfig();
      this.attach(await createVisionPipeline(config), config);
      const outbox = this.deps.outbox();
      if (outbox) {
        // A full disk costs the record, not the guidance: say so and go on.
        const task = this.deps.guide.session?.task;
        this.recorder = await Recorder.start(outbox, { task: task?.id ?? null, taskTitle: task?.title ?? null, ...(task ? { steps: task.steps.map((st) => st.instruction) } : {}), ...modelRecord(config.model.manifest), poolSize: config.poolSize, userAgent: navigator.userAgent }, this.deps.onError).then((r) => new LiveRecord(r), (err: unknown) => {
          this.deps.onError(err instanceof Error ? err.message : String(err));
          return undefined;
        });
      }
      this.timer = setInterval(() => this.tick(), 500);
      this.set({ status: 'running' });
    } catch (err) {
      this.deps.onError(err instanceof CameraError ? err.message : `Could not start: ${err instanceof Error ? err.message : String(err)}`);
      this.camera?.stop();
      this.set({ status: 'idle' });
    }
  }

  async stop(): Promise<void> {
    if (this.status !== 'running') return;
    this.set({ status: 'stopping' });
    clearInterval(this.timer);
    const p = this.pipeline;
    this.pipeline = undefined;
    const recorder = this.recorder;
    this.recorder = undefined;
    if (p) {
      const framesIn = p.framesIn;
      const report = await p.shutdown();
      await recorder?.end({ framesIn, leakedFrames: report.leakedFrames, progress: this.deps.guide.session?.current.progress ?? null });
      this.stats = p.stats();
      if (report.leakedFrames > 0) this.deps.onError(`Shutdown found ${report.leakedFrames} frames still open (closed now).`);
    }
    this.camera = undefined;
    this.deps.guide.attach(undefined);
    this.deps.draw(undefined);
    this.set({ status: 'idle' });
  }

  /** The other camera (rear ↔ front); a running session restarts on it. */
  async switchCamera(): Promise<void> {
    this.set({ facing: this.facing === 'environment' ? 'user' : 'environment' });
    if (this.status !== 'running') return;
    await this.stop();
    await this.start();
  }

  /**
   * Tries `config` in a fresh pipeline; only once its workers are warm does it take over the
   * camera (when running). If it cannot start, the error says why and nothing changes.
   */
  async switchPipeline(config: PipelineConfig, what: string, beforeSwap?: () => void): Promise<boolean> {
    this.set({ modelBusy: true });
    try {
      const next = await createVisionPipeline(config);
      beforeSwap?.();
      const prev = this.pipeline;
      if (this.status === 'running' && prev) {
        await prev.detachSource();
        this.attach(next, config);
        await prev.shutdown();
      } else {
        await next.shutdown(); // checked; it runs when the camera starts
      }
      return true;
    } catch (err) {
      this.refuse(what, err);
      return false;
    } finally {
      this.set({ modelBusy: false });
    }
  }

  private refuse(what: string, err: unknown): void {
    const running = (this.model ?? this.config!.model).manifest.name;
    this.deps.onError(`${what} cannot be used: ${err instanceof Error ? err.message : String(err)}. ${this.status === 'running' ? `Still running ${running}.` : `Keeping ${running}.`}`);
  }

  /** The model the pool runs (or will run when the camera starts): the overlay's boxes. */
  get activeModel(): ModelManifest | undefined {
    return (this.model ?? this.config?.model)?.manifest;
  }

  /** The model whose labels tasks are checked against: the judge's own, where it runs one, else the pool's. */
  get judgedModel(): ModelManifest | undefined {
    return judgeModelOf(this.currentConfig())?.manifest ?? this.activeModel;
  }

  async changeModel(choice: ModelChoice): Promise<void> {
    // The guide learns the new labels just before the new workers take over, so the task they are given already fits them.
    // A judge with a model of its own keeps its labels whatever the overlay's model is.
    const config = this.config && this.currentConfig(choice);
    if (config && (await this.switchPipeline(config, `The model "${choice.manifest.name}"`, () => this.deps.guide.setModel(judgeModelOf(config)?.manifest ?? choice.manifest)))) this.set({ model: choice });
  }

  /** Only the task's judge runs `choice` (undefined: it judges on the pool's detections again); the overlay keeps its model. */
  async changeJudgeModel(choice: ModelChoice | undefined): Promise<void> {
    const config = this.config && this.currentConfig(this.model, choice ?? null);
    const what = choice ? `The model "${choice.manifest.name}" for the verdicts` : "Judging on the overlay's detections";
    if (config && (await this.switchPipeline(config, what, () => this.deps.guide.setModel(judgeModelOf(config)?.manifest ?? config.model.manifest)))) this.set({ judgeModel: choice });
  }

  /** A person's own model: its class names are settled from its bytes and their labels file first. */
  async loadOwnModel(choice: OwnModelChoice): Promise<void> {
    if (!this.config) return;
    let manifest: ModelManifest;
    this.set({ modelBusy: true });
    try {
      manifest = await withClassNames(choice.manifest, choice.source, choice.labelsFile);
    } catch (err) {
      this.refuse(`The model "${choice.manifest.name}"`, err);
      return;
    } finally {
      this.set({ modelBusy: false });
    }
    if (choice.role === 'judge') await this.changeJudgeModel({ manifest, source: choice.source });
    else await this.changeModel({ manifest, source: choice.source });
  }

  async analyse(file: File): Promise<void> {
    if (!this.config || this.analysis) return;
    const abort = new AbortController();
    const startedAt = performance.now();
    this.set({ analysisResult: undefined, analysis: { done: 0, total: 0, startedAt, elapsedMs: 0, abort } });
    try {
      const result = await analyseFile(file, this.currentConfig(), {
        signal: abort.signal,
        outbox: this.deps.outbox(),
        onError: this.deps.onError,
        onProgress: (done, total) => this.set({ analysis: { done, total, startedAt, elapsedMs: performance.now() - startedAt, abort } }),
      });
      this.set({ analysisResult: result });
      await this.deps.store()?.saveAnalysis(result).catch((err: unknown) => this.deps.onError(`The results could not be saved on this device: ${err instanceof Error ? err.message : String(err)}. Export them now.`));
      const failed = result.rows.filter((r) => r.error);
      if (failed.length) this.deps.onError(`${failed.length} frame${failed.length > 1 ? 's' : ''} could not be analysed and ${failed.length > 1 ? 'were' : 'was'} skipped (frame ${failed.map((r) => r.frame).join(', ')}): ${failed[0]!.error}`);
    } catch (err) {
      this.deps.onError(err instanceof Error ? err.message : String(err));
    } finally {
      this.set({ analysis: undefined });
    }
  }

  /** The configuration with the models chosen here: `judgeModel` null clears the judge's own model. */
  currentConfig(model = this.model, judgeModel: ModelChoice | null | undefined = this.judgeModel): PipelineConfig {
    const base = model ? { ...this.config!, model } : this.config!;
    return judgeModel ? { ...base, judge: 'detector', judgeModel } : base;
  }

  /** Makes `p` the running pipeline, reading the camera. */
  private attach(p: VisionPipeline, config: PipelineConfig): void {
    this.pipeline = p;
    const guide = this.deps.guide;
    guide.attach(p);
    // A new pipeline numbers frames from 1 again: identities start again with it.
    const scene = new LiveScene(config.scoreThreshold);
    p.subscribe((r) => {
      if (this.pipeline !== p) return;
      this.results++;
      // The line under the video shows what the pool saw; verdicts show in the panel.
      if (r.role === 'localization') this.lastResult = r;
      const judged = guide.instruction;
      if (import.meta.env.DEV) announceVerdict(r);
      guide.onResult(r);
      this.recorder?.onResult(r, guide.session?.task.id, guide.session?.current.step);
      const ins = guide.instruction;
      // The judge's breakdown, recorded when its words change: the same object the person sees and hears.
      if (ins && ins !== judged) this.recorder?.onInstruction(ins, guide.session?.task.id, guide.instructionSeq);
      if (!scene.onResult(r) && ins === judged) return;
      const { width, height, tracks } = scene.current;
      // Boxes and arrows at the freshest tracks' places; the words and what holds are the judge's.
      this.deps.draw({ width, height, boxes: tracks, ...(ins ? { instruction: atFreshPlaces(ins, tracks, scene.current), verdictSeq: guide.instructionSeq } : {}) });
    });
    void p.run(this.camera!).then(() => {
      if (this.pipeline === p && this.camera?.endedByDevice) {
        this.deps.onError('The camera stopped (unplugged or taken by another app). Reconnect it and press Start camera.');
        void this.stop();
      }
    });
  }

  private tick(): void {
    this.stats = this.pipeline?.stats();
    // Says so when the model runs on WASM although WebGPU was wanted or would have been tried.
    if (!this.providerNotice && this.config?.provider !== 'wasm') {
      const fallback = this.stats?.workers.find((w) => w.info?.provider === 'wasm');
      if (fallback?.info) this.providerNotice = `Running the model on the CPU (WASM), which is slower: ${fallback.info.reason.split(';')[0]}.`;
    }
    this.host.requestUpdate();
  }
}
