// Runs a detector inside a worker: loads the model, picks the execution provider once,
// preprocesses on the same device the model runs on, decodes to source-frame boxes.
import type * as Ort from 'onnxruntime-web';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import asyncifyWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import type { FramePixels } from '@framewise/pipeline/worker';
import { decode, type Detection } from '../../model/decode';
import type { Letterbox } from '../../model/letterbox';
import { checkOutputClasses, checkOutputShape, type ModelManifest } from '../../model/manifest';
import { assertLooksLikeOnnx, ModelLoadError } from '../../model/model-bytes';
import { CpuPreprocessor } from './preprocess-cpu';
import { GpuPreprocessor } from './preprocess-gpu';
import type { Provider, ProviderPreference } from '../../model/provider';
import { chooseProvider, type ProviderChoice } from './choose-provider';

export interface DetectorOptions {
  readonly manifest: ModelManifest;
  readonly bytes: ArrayBuffer;
  /** Where the bytes came from (a URL or a file name), for error messages. */
  readonly sourceName: string;
  readonly provider: ProviderPreference;
  /** WASM threads for this worker's session (forced to 1 without cross-origin isolation). */
  readonly threads: number;
  readonly scoreThreshold?: number;
  /** Boxes down to this score are also reported, as `uncertain`: a tracker keeps objects alive on them. */
  readonly lowScoreThreshold?: number;
}

export interface DetectionRun {
  /** At or above the score threshold. */
  readonly detections: Detection[];
  /** Between the low threshold and the score threshold, after the same NMS as the confident ones. */
  readonly uncertain: Detection[];
  /** A copy of the model input, when asked for. */
  readonly input?: Float32Array;
  readonly preprocessMs: number;
  readonly inferenceMs: number;
  readonly decodeMs: number;
}

type OrtModule = typeof Ort;

async function loadOrt(provider: Provider, threads: number): Promise<OrtModule> {
  // Chosen once per worker: the WebGPU build carries the WASM EP too, but the plain WASM build is smaller.
  const ort: OrtModule = provider === 'webgpu' ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web/wasm');
  ort.env.wasm.wasmPaths = { wasm: provider === 'webgpu' ? asyncifyWasmUrl : wasmUrl };
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.max(1, threads) : 1;
  ort.env.logLevel = 'error';
  return ort;
}

export class Detector {
  private lost: string | undefined;

  private constructor(
    readonly manifest: ModelManifest,
    readonly choice: ProviderChoice,
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    private readonly cpu: CpuPreprocessor | undefined,
    private readonly gpu: GpuPreprocessor | undefined,
    private readonly scoreThreshold: number,
    private readonly lowScoreThreshold: number,
    readonly warmupMs: number,
    private readonly device: GPUDevice | undefined,
  ) {
    void device?.lost.then((info) => {
      this.lost = `WebGPU device lost (${info.reason}: ${info.message})`;
    });
  }

  /** Builds the session and checks the model against its manifest with a warm-up run. */
  static async create(opts: DetectorOptions, choice?: ProviderChoice): Promise<Detector> {
    assertLooksLikeOnnx(opts.bytes, opts.sourceName);
    choice ??= await chooseProvider(opts.provider);
    const ort = await loadOrt(choice.provider, opts.threads);
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(new Uint8Array(opts.bytes), {
        executionProviders: [choice.provider],
        graphOptimizationLevel: 'all',
      });
    } catch (err) {
      throw new ModelLoadError(`onnxruntime could not load the model on ${choice.provider}: ${err instanceof Error ? err.message : String(err)}`);
    }
    // An empty input name means "the model's only input" (a model loaded by a person).
    let m = opts.manifest;
    if (m.input.name === '' && session.inputNames.length === 1) m = { ...m, input: { ...m.input, name: session.inputNames[0]! } };
    if (!session.inputNames.includes(m.input.name)) {
      await session.release();
      throw new ModelLoadError(`the model's inputs are ${session.inputNames.map((n) => `"${n}"`).join(', ')}, but its manifest says "${m.input.name || '(its only input)'}"`);
    }
    // The preprocessing must write into buffers of the very device ORT runs on: ask ORT for it.
    const device = choice.provider === 'webgpu' ? await ort.env.webgpu.device : undefined;
    const gpu = device ? new GpuPreprocessor(device, m) : undefined;
    const cpu = gpu ? undefined : new CpuPreprocessor(m);
    const size = m.input.size;
    const t0 = performance.now();
    const warm = new ort.Tensor('float32', new Float32Array(3 * size * size).fill(m.input.fill), [1, 3, size, size]);
    let out: Ort.Tensor;
    try {
      out = (await session.run({ [m.input.name]: warm }))[session.outputNames[0]!]!;
    } catch (err) {
      await session.release();
      throw new ModelLoadError(`the model rejected a [1, 3, ${size}, ${size}] input: ${err instanceof Error ? err.message : String(err)}`);
    }
    // The class count is checked here, once the session exists: the output's shape (or, end-to-end, its rows) says how many classes the model has.
    const shapeProblem = checkOutputShape(m, out.dims) ?? checkOutputClasses(m, (await out.getData()) as Float32Array);
    out.dispose();
    if (shapeProblem) {
      await session.release();
      throw new ModelLoadError(shapeProblem);
    }
    return new Detector(m, choice, ort, session, cpu, gpu, opts.scoreThreshold ?? m.scoreThreshold, Math.min(opts.lowScoreThreshold ?? Infinity, opts.scoreThreshold ?? m.scoreThreshold), performance.now() - t0, device);
  }

  /** How frames reach the model's input, for the HUD. */
  get inputPath(): string {
    return this.gpu ? `GPU letterbox, frames by ${this.gpu.uploadPath}` : 'canvas letterbox on the CPU';
  }

  get provider(): Provider {
    return this.choice.provider;
  }

  /** Set when the GPU went away: the caller should rebuild on WASM. */
  get failure(): string | undefined {
    return this.lost;
  }

  async detect(pixels: FramePixels, width: number, height: number, captureInput = false): Promise<DetectionRun> {
    if (this.lost) throw new Error(this.lost);
    const m = this.manifest;
    const size = m.input.size;
    const t0 = performance.now();
    let input: Ort.Tensor;
    let lb: Letterbox;
    if (this.gpu) {
      lb = await this.gpu.run(pixels, width, height);
      input = this.ort.Tensor.fromGpuBuffer(this.gpu.output, { dataType: 'float32', dims: [1, 3, size, size] });
    } else {
      const r = this.cpu!.run(pixels, width, height);
      lb = r.lb;
      input = new this.ort.Tensor('float32', r.data, [1, 3, size, size]);
    }
    const t1 = performance.now();
    const results = await this.session.run({ [m.input.name]: input });
    const out = results[this.session.outputNames[0]!]!;
    const data = (await out.getData()) as Float32Array;
    const t2 = performance.now();
    const all = decode(m, data, out.dims, lb, width, height, this.lowScoreThreshold);
    const detections = all.filter((d) => d.score >= this.scoreThreshold);
    const uncertain = all.filter((d) => d.score < this.scoreThreshold);
    const t3 = performance.now();
    out.dispose();
    const timings = { preprocessMs: t1 - t0, inferenceMs: t2 - t1, decodeMs: t3 - t2 };
    if (!captureInput) return { detections, uncertain, ...timings };
    const copy = this.gpu ? await this.gpu.readOutput() : (input.data as Float32Array).slice();
    return { detections, uncertain, input: copy, ...timings };
  }

  /** Fault injection: destroys the GPU device, exactly as a driver reset would take it away. */
  loseDevice(): void {
    this.device?.destroy();
  }

  async release(): Promise<void> {
    await this.session.release();
    this.gpu?.destroy();
  }
}
