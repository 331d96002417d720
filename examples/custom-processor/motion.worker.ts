// The example's own worker: motion energy on a coarse grid, through the public worker API alone.
import { defineProcessor } from '@framewise/pipeline/worker';
import { lumaOf, motionBetween, type Motion } from './motion';

export interface MotionConfig {
  /** Grid the frame is drawn down to before comparing: coarse enough that sensor noise mostly cancels. */
  readonly columns: number;
  readonly rows: number;
  /** Luma change (0–255) above which a cell counts as changed. */
  readonly threshold: number;
}

export type MotionOutput = Motion;

defineProcessor<MotionConfig, MotionOutput>(({ config }) => {
  const canvas = new OffscreenCanvas(config.columns, config.rows);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('motion: no 2D context for OffscreenCanvas in this worker');
  // Each worker compares with the last frame *it* saw: the example runs one worker, so that is the previous frame kept.
  let previous: Uint8Array | undefined;
  return {
    info: { processor: 'motion', provider: 'cpu', reason: `${config.columns}×${config.rows} luma grid`, warmupMs: 0 },
    process({ pixels }) {
      ctx.drawImage(pixels, 0, 0, config.columns, config.rows);
      const luma = lumaOf(ctx.getImageData(0, 0, config.columns, config.rows).data);
      const motion = motionBetween(previous, luma, config.threshold);
      previous = luma;
      return motion;
    },
  };
});
