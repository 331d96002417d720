import type { FramePixels } from '@framewise/pipeline/worker';
import { letterbox, type Letterbox } from '../../model/letterbox';
import type { ModelManifest } from '../../model/manifest';

// One compute pass: resize the frame into the letterboxed square exactly as the model's
// authors did (OpenCV INTER_LINEAR: half-pixel centres, edge pixels repeated, no antialiasing,
// 11-bit fixed-point weights, one rounding to a whole grey level, the same arithmetic as the CPU
// path's letterboxLinear), pad with the fill grey, normalise, and write planar floats straight
// into the buffer the model reads. Texels are loaded, not sampled: a hardware bilinear filter has
// its own (coarser) weights. Two variants: a VideoFrame is imported as an external texture (no
// copy); anything else is copied into a plain texture first.
const shader = (external: boolean) => /* wgsl */ `
struct Params {
  size: u32, width: u32, height: u32, padX: u32,
  padY: u32, fill: f32, srcW: u32, srcH: u32,
  k: vec4f, b: vec4f, order: vec4u,
}
@group(0) @binding(0) var src: ${external ? 'texture_external' : 'texture_2d<f32>'};
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> P: Params;

struct Tap { i0: i32, i1: i32, w0: u32, w1: u32 }

// Source index and 11-bit weights for one output index along an axis, as OpenCV computes them.
fn tap(d: u32, srcLen: u32, dstLen: u32) -> Tap {
  var f = (f32(d) + 0.5) * (f32(srcLen) / f32(dstLen)) - 0.5;
  var s = floor(f);
  f = f - s;
  if (s < 0.0) { s = 0.0; f = 0.0; }
  if (s >= f32(srcLen) - 1.0) { s = f32(srcLen) - 1.0; f = 0.0; }
  let i0 = i32(s);
  let w1 = u32(round(f * 2048.0));
  return Tap(i0, min(i0 + 1, i32(srcLen) - 1), 2048u - w1, w1);
}

fn texel(x: i32, y: i32) -> vec3u {
  let v = textureLoad(src, vec2i(x, y)${external ? '' : ', 0'}).rgb;
  return vec3u(round(clamp(v, vec3f(0.0), vec3f(1.0)) * 255.0));
}

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= P.size || gid.y >= P.size) { return; }
  var rgb = vec3f(P.fill);
  let x = i32(gid.x) - i32(P.padX);
  let y = i32(gid.y) - i32(P.padY);
  if (x >= 0 && y >= 0 && u32(x) < P.width && u32(y) < P.height) {
    let tx = tap(u32(x), P.srcW, P.width);
    let ty = tap(u32(y), P.srcH, P.height);
    let top = texel(tx.i0, ty.i0) * tx.w0 + texel(tx.i1, ty.i0) * tx.w1;
    let bottom = texel(tx.i0, ty.i1) * tx.w0 + texel(tx.i1, ty.i1) * tx.w1;
    // 255 · 2^22 fits in 32 bits: the vertical blend and its rounding in fixed point.
    rgb = vec3f((top * ty.w0 + bottom * ty.w1 + vec3u(1u << 21u)) >> vec3u(22u));
  }
  let plane = P.size * P.size;
  let i = gid.y * P.size + gid.x;
  for (var p = 0u; p < 3u; p++) {
    dst[p * plane + i] = rgb[P.order[p]] * P.k[p] + P.b[p];
  }
}`;

interface Uploaded {
  readonly source: GPUExternalTexture | GPUTextureView;
  readonly pipeline: GPUComputePipeline;
}

export type UploadPath = 'external-texture' | 'copy-external' | 'cpu-readback';
const UPLOAD_PATHS: readonly UploadPath[] = ['external-texture', 'copy-external', 'cpu-readback'];

function readBitmap(bitmap: ImageBitmap, width: number, height: number): Uint8ClampedArray {
  const ctx = new OffscreenCanvas(width, height).getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, width, height).data;
}

/** Letterbox and tensor conversion on the GPU, writing straight into the model's input buffer. */
export class GpuPreprocessor {
  private path: UploadPath = 'external-texture';
  /** The model's input tensor storage; hand it to the session with Tensor.fromGpuBuffer. */
  readonly output: GPUBuffer;
  private readonly pipelines: { external: GPUComputePipeline; copied: GPUComputePipeline };
  private readonly params: GPUBuffer;
  private texture: GPUTexture | undefined;

  constructor(private readonly device: GPUDevice, private readonly m: ModelManifest) {
    const size = m.input.size;
    this.output = device.createBuffer({ size: 3 * size * size * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    this.params = device.createBuffer({ size: 80, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const make = (external: boolean) => device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: shader(external) }), entryPoint: 'main' } });
    this.pipelines = { external: make(true), copied: make(false) };
  }

  /** How frames reach the GPU; starts at the cheapest and steps down once if the browser refuses it. */
  get uploadPath(): UploadPath {
    return this.path;
  }

  async run(pixels: FramePixels, width: number, height: number): Promise<Letterbox> {
    const { size, fill, placement, fit, channelOrder, scale, mean, std } = this.m.input;
    const lb = letterbox(width, height, size, placement, fit);
    const { source, pipeline } = await this.upload(pixels, width, height);
    const params = new ArrayBuffer(80);
    const u = new Uint32Array(params);
    const f = new Float32Array(params);
    u.set([size, lb.width, lb.height, lb.padX, lb.padY], 0);
    f[5] = fill;
    u.set([width, height], 6);
    const order = channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
    for (let p = 0; p < 3; p++) {
      f[8 + p] = scale / std[p]!;
      f[12 + p] = -mean[p]! / std[p]!;
      u[16 + p] = order[p]!;
    }
    this.device.queue.writeBuffer(this.params, 0, params);
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: source },
        { binding: 2, resource: { buffer: this.output } },
        { binding: 3, resource: { buffer: this.params } },
      ],
    });
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(size / 16), Math.ceil(size / 16));
    pass.end();
    this.device.queue.submit([encoder.finish()]);
    return lb;
  }

  private async upload(pixels: FramePixels, width: number, height: number): Promise<Uploaded> {
    for (;;) {
      try {
        return await this.uploadBy(this.path, pixels, width, height);
      } catch (err) {
        const next = UPLOAD_PATHS[UPLOAD_PATHS.indexOf(this.path) + 1];
        if (!next) throw err;
        this.path = next;
      }
    }
  }

  private async uploadBy(path: UploadPath, pixels: FramePixels, width: number, height: number): Promise<Uploaded> {
    const videoFrame = typeof VideoFrame !== 'undefined' && pixels instanceof VideoFrame ? pixels : undefined;
    if (path === 'external-texture' && videoFrame) {
      // Valid until the frame is closed, which happens only after this pass was submitted.
      return { source: this.device.importExternalTexture({ source: videoFrame }), pipeline: this.pipelines.external };
    }
    const texture = this.textureFor(width, height);
    if (path !== 'cpu-readback') {
      this.device.queue.copyExternalImageToTexture({ source: pixels }, { texture }, [width, height]);
    } else {
      // Some adapters (SwiftShader) cannot import frames at all: read the pixels back and upload them.
      const rgba = new Uint8Array(width * height * 4);
      if (videoFrame) await videoFrame.copyTo(rgba, { format: 'RGBA', colorSpace: 'srgb' });
      else rgba.set(readBitmap(pixels as ImageBitmap, width, height));
      this.device.queue.writeTexture({ texture }, rgba, { bytesPerRow: width * 4 }, [width, height]);
    }
    return { source: texture.createView(), pipeline: this.pipelines.copied };
  }

  private textureFor(width: number, height: number): GPUTexture {
    if (!this.texture || this.texture.width !== width || this.texture.height !== height) {
      this.texture?.destroy();
      this.texture = this.device.createTexture({
        size: [width, height],
        format: 'rgba8unorm',
        usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT,
      });
    }
    return this.texture;
  }

  /** Reads the input buffer back (tests only: it stalls the pipeline). */
  async readOutput(): Promise<Float32Array> {
    const staging = this.device.createBuffer({ size: this.output.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(this.output, 0, staging, 0, this.output.size);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const copy = new Float32Array(staging.getMappedRange().slice(0));
    staging.destroy();
    return copy;
  }

  destroy(): void {
    this.texture?.destroy();
    this.output.destroy();
    this.params.destroy();
  }
}
