import type { FramePixels } from '@framewise/pipeline/worker';
import { letterbox, type Letterbox } from '../../model/letterbox';
import type { ModelManifest } from '../../model/manifest';
import { letterboxLinear } from '../../model/resize';

/**
 * Letterbox on the CPU path, sampled exactly as the model's authors resized their training
 * images (manifest `resize`: OpenCV INTER_LINEAR), not as the canvas happens to scale: the
 * canvas only reads the frame's pixels at their own size, then one pass resizes, pads and
 * converts them into the planar float tensor. The canvas and the tensor are reused.
 */
export class CpuPreprocessor {
  private canvas: OffscreenCanvas;
  private ctx: OffscreenCanvasRenderingContext2D;
  private readonly tensor: Float32Array<ArrayBuffer>;

  constructor(private readonly m: ModelManifest) {
    this.canvas = new OffscreenCanvas(1, 1);
    const ctx = this.canvas.getContext('2d', { willReadFrequently: true, alpha: false });
    if (!ctx) throw new Error('no 2D canvas in this worker for preprocessing');
    this.ctx = ctx;
    this.tensor = new Float32Array(3 * m.input.size * m.input.size);
  }

  run(pixels: FramePixels, width: number, height: number): { data: Float32Array; lb: Letterbox } {
    const { size, placement, fit } = this.m.input;
    const lb = letterbox(width, height, size, placement, fit);
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    // Drawn at its own size: a copy (and, for a camera frame, its colour conversion), no resampling.
    this.ctx.drawImage(pixels, 0, 0, width, height);
    const rgba = this.ctx.getImageData(0, 0, width, height).data;
    return { data: letterboxLinear(rgba, width, height, lb, this.m, this.tensor), lb };
  }
}
