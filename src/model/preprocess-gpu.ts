import type { FramePixels } from '../frame/frame';
import { letterbox, type Letterbox } from './letterbox';
import type { ModelManifest } from './manifest';

// One compute pass: sample the frame bilinearly into the letterboxed square, pad with the
// fill grey, normalise, and write planar floats straight into the buffer the model reads.
// Two variants: a VideoFrame is imported as an external texture (no copy); anything else
// is copied into a plain texture first.
const shader = (external: boolean) => /* wgsl */ `
struct Params {
  size: u32, width: u32, height: u32, padX: u32,
  padY: u32, fill: f32, _a: f32, _b: f32,
  k: vec4f, b: vec4f, order: vec4u,
}
@group(0) @binding(0) var src: ${external ? 'texture_external' : 'texture_2d<f32>'};
@group(0) @binding(1) var samp: sampler;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> P: Params;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= P.size || gid.y >= P.size) { return; }
  var rgb = vec3f(P.fill / 255.0);
  let x = i32(gid.x) - i32(P.padX);
  let y = i32(gid.y) - i32(P.padY);
  if (x >= 0 && y >= 0 && u32(x) < P.width && u32(y) < P.height) {
    let uv = (vec2f(f32(x), f32(y)) + 0.5) / vec2f(f32(P.width), f32(P.height));
    rgb = ${external ? 'textureSampleBaseClampToEdge(src, samp, uv)' : 'textureSampleLevel(src, samp, uv, 0.0)'}.rgb;
  }
  let plane = P.size * P.size;
  let i = gid.y * P.size + gid.x;
  for (var p = 0u; p < 3u; p++) {
    // Rounded to 8 bits like every other path a frame can take (canvas, camera), so that the
    // GPU and CPU letterboxes feed the model the same values.
    dst[p * plane + i] = round(rgb[P.order[p]] * 255.0) * P.k[p] + P.b[p];
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
  private readonly sampler: GPUSampler;
  private readonly params: GPUBuffer;
  private texture: GPUTexture | undefined;

  constructor(private readonly device: GPUDevice, private readonly m: ModelManifest) {
    const size = m.input.size;
    this.output = device.createBuffer({ size: 3 * size * size * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    this.params = device.createBuffer({ size: 80, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.sampler = device.createSampler({ magFilter: 'linear', minFilter: 'linear' });
    const make = (external: boolean) => device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: shader(external) }), entryPoint: 'main' } });
    this.pipelines = { external: make(true), copied: make(false) };
  }

  /** How frames reach the GPU; starts at the cheapest and steps down once if the browser refuses it. */
  get uploadPath(): UploadPath {
    return this.path;
  }

  async run(pixels: FramePixels, width: number, height: number): Promise<Letterbox> {
    const { size, fill, placement, channelOrder, scale, mean, std } = this.m.input;
    const lb = letterbox(width, height, size, placement);
    const { source, pipeline } = await this.upload(pixels, width, height);
    const params = new ArrayBuffer(80);
    const u = new Uint32Array(params);
    const f = new Float32Array(params);
    u.set([size, lb.width, lb.height, lb.padX, lb.padY], 0);
    f[5] = fill;
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
        { binding: 1, resource: this.sampler },
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
