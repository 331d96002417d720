import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { yoloxInput } from './e2e/fixtures/cv2-linear';
import { referenceDetect } from './e2e/fixtures/reference';
import { COCO_LABELS } from './src/model/labels';
const W = 640, H = 480;
for (const id of ['000000002149', '000000008021']) {
  const img = jpeg.decode(readFileSync(`.assets/coco/${id}.jpg`), { useTArray: true });
  const scale = Math.max(W / img.width, H / img.height);
  const ox = (W - img.width * scale) / 2, oy = (H - img.height * scale) / 2;
  const frame = (patch?: [number, number, number, number]) => {
    const out = new Uint8Array(W * H * 4);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const sx = Math.min(img.width - 1, Math.max(0, Math.round((x + 0.5 - ox) / scale - 0.5)));
      const sy = Math.min(img.height - 1, Math.max(0, Math.round((y + 0.5 - oy) / scale - 0.5)));
      const i = (y * W + x) * 4, j = (sy * img.width + sx) * 4;
      const grey = patch && x >= patch[0] && x < patch[0] + patch[2] && y >= patch[1] && y < patch[1] + patch[3];
      out[i] = grey ? 128 : img.data[j]!; out[i + 1] = grey ? 128 : img.data[j + 1]!; out[i + 2] = grey ? 128 : img.data[j + 2]!; out[i + 3] = 255;
    }
    return out;
  };
  for (const patch of [undefined, [340, 60, 300, 320] as [number, number, number, number], [440, 270, 200, 210] as [number, number, number, number]]) {
    const { tensor, scale: s } = yoloxInput(frame(patch), W, H);
    const dets = await referenceDetect(Buffer.from(tensor.buffer).toString('base64'), s, W, H, COCO_LABELS, 0.25);
    console.log(id, JSON.stringify(patch), JSON.stringify(dets.map((d) => [d.label, +d.score.toFixed(2), Math.round(d.x), Math.round(d.y), Math.round(d.w), Math.round(d.h)])));
  }
}
