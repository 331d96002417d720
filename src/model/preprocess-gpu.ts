import type { FramePixels } from '../shared/protocol';
import { letterbox, type Letterbox } from './letterbox';
import type { ModelManifest } from './manifest';

// One compute pass: sample the frame bilinearly into the letterboxed square, pad with the
// fill grey, normalise, and write planar floats straight into the buffer the model reads.
const SHADER = /* wgsl */ `
struct Params {
  size: u32, width: u32, height: u32, padX: u32,
  padY: u32, fill: f32, _a: f32, _b: f32,
  k: vec4f, b: vec4f, order: vec4u,
}
@group(0) @binding(0) var src: texture_2d<f32>;
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
    rgb = textureSampleLevel(src, samp, uv, 0.0).rgb;
  }
  let plane = P.size * P.size;
  let i = gid.y * P.size + gid.x;
  for (var p = 0u; p < 3u; p++) {
    dst[p * plane + i] = rgb[P.order[p]] * 255.0 * P.k[p] + P.b[p];
  }
}`;

/** Letterbox and tensor conversion on the GPU, with no round trip through the CPU. */
export class GpuPreprocessor {
  /** The model's input tensor storage; hand it to the session with Tensor.fromGpuBuffer. */
  readonly output: GPUBuffer;
  private readonly pipeline: GPUComputePipeline;
  private readonly sampler: GPUSampler;
  private readonly params: GPUBuffer;
  private texture: GPUTexture | undefined;

  constructor(private readonly device: GPUDevice, private readonly m: ModelManifest) {
    const size = m.input.size;
    this.output = device.createBuffer({ size: 3 * size * size * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    this.params = device.createBuffer({ size: 80, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.sampler = device.createSampler({ magFilter: 'linear', minFilter: 'linear' });
    this.pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: SHADER }), entryPoint: 'main' } });
  }

  run(pixels: FramePixels, width: number, height: number): Letterbox {
    const { size, fill, placement, channelOrder, scale, mean, std } = this.m.input;
    const lb = letterbox(width, height, size, placement);
    if (!this.texture || this.texture.width !== width || this.texture.height !== height) {
      this.texture?.destroy();
      this.texture = this.device.createTexture({
        size: [width, height],
        format: 'rgba8unorm',
        usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT,
      });
    }
    this.device.queue.copyExternalImageToTexture({ source: pixels }, { texture: this.texture }, [width, height]);
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
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: this.texture.createView() },
        { binding: 1, resource: this.sampler },
        { binding: 2, resource: { buffer: this.output } },
        { binding: 3, resource: { buffer: this.params } },
      ],
    });
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(size / 16), Math.ceil(size / 16));
    pass.end();
    this.device.queue.submit([encoder.finish()]);
    return lb;
  }

  destroy(): void {
    this.texture?.destroy();
    this.output.destroy();
    this.params.destroy();
  }
}
