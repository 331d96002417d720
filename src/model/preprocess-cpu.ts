import type { FramePixels } from '../frame/frame';
import { letterbox, rgbaToTensor, type Letterbox } from './letterbox';
import type { ModelManifest } from './manifest';

/**
 * Letterbox on the CPU path: the canvas scales the frame (drawImage is the fastest
 * resampler a worker has), then one pass turns RGBA into the planar float tensor.
 * The canvas and the tensor are reused from frame to frame.
 */
export class CpuPreprocessor {
  private readonly ctx: OffscreenCanvasRenderingContext2D;
  private readonly tensor: Float32Array<ArrayBuffer>;

  constructor(private readonly m: ModelManifest) {
    const size = m.input.size;
    const ctx = new OffscreenCanvas(size, size).getContext('2d', { willReadFrequently: true, alpha: false });
    if (!ctx) throw new Error('no 2D canvas in this worker for preprocessing');
    this.ctx = ctx;
    this.tensor = new Float32Array(3 * size * size);
  }

  run(pixels: FramePixels, width: number, height: number): { data: Float32Array; lb: Letterbox } {
    const { size, fill, placement } = this.m.input;
    const lb = letterbox(width, height, size, placement);
    this.ctx.fillStyle = `rgb(${fill},${fill},${fill})`;
    this.ctx.fillRect(0, 0, size, size);
    this.ctx.drawImage(pixels, lb.padX, lb.padY, lb.width, lb.height);
    const rgba = this.ctx.getImageData(0, 0, size, size).data;
    return { data: rgbaToTensor(rgba, this.m, this.tensor), lb };
  }
}
