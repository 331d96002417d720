import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { boxIou, referenceDetect, type RefDetection } from './fixtures/reference';
import { openHarness, type HarnessWindow } from './harness-types';

const IMAGES = [
  '000000000724', '000000000285', '000000000139', '000000001503', '000000002149', '000000002592',
  '000000009483', '000000000632', '000000000785', '000000001268', '000000003156', '000000005001',
];
const LABELS = readFileSync('src/model/labels.ts', 'utf8').match(/'[^']+'/g)!.map((s) => s.slice(1, -1));
const THRESHOLD = 0.3;
const url = (id: string) => `/.assets/coco/${id}.jpg`;

interface Compared {
  id: string;
  matched: number;
  /** Matched boxes within IoU ≥ 0.9 and |Δscore| ≤ 0.02. */
  within: number;
  maxScoreDiff: number;
  minIou: number;
  problems: string[];
}

/** Every reference box above the threshold matched (same label, IoU ≥ 0.9, |Δscore| ≤ 0.02), nothing extra above it. */
function compare(id: string, ref: RefDetection[], got: RefDetection[]): Compared {
  const problems: string[] = [];
  const used = new Set<number>();
  let matched = 0;
  let within = 0;
  let maxScoreDiff = 0;
  let minIou = 1;
  for (const r of ref) {
    let best = -1;
    let bestIou = 0;
    got.forEach((g, i) => {
      if (used.has(i) || g.label !== r.label) return;
      const v = boxIou(r, g);
      if (v > bestIou) [best, bestIou] = [i, v];
    });
    // A reference box just above the threshold may land just under it in the browser: allowed within the score tolerance.
    if (best < 0) {
      if (r.score >= THRESHOLD + 0.02) problems.push(`${id}: missing ${r.label} ${r.score.toFixed(3)}`);
      continue;
    }
    used.add(best);
    const g = got[best]!;
    const ds = Math.abs(g.score - r.score);
    if (bestIou < 0.9) problems.push(`${id}: ${r.label} IoU ${bestIou.toFixed(3)} < 0.9`);
    if (ds > 0.02) problems.push(`${id}: ${r.label} score ${g.score.toFixed(3)} vs ${r.score.toFixed(3)}`);
    matched++;
    if (bestIou >= 0.9 && ds <= 0.02) within++;
    maxScoreDiff = Math.max(maxScoreDiff, ds);
    minIou = Math.min(minIou, bestIou);
  }
  got.forEach((g, i) => {
    if (!used.has(i) && g.score > THRESHOLD) problems.push(`${id}: extra ${g.label} ${g.score.toFixed(3)}`);
  });
  return { id, matched, within, maxScoreDiff, minIou, problems };
}

const floats = (b64: string) => {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
};

async function checkProvider(page: Page, provider: 'wasm' | 'webgpu') {
  await openHarness(page);
  const run = await page.evaluate(([urls, p]) => (window as unknown as HarnessWindow).fw.detectImages(urls, p), [IMAGES.map(url), provider] as const);
  // Every worker that runs the model runs it on the provider asked for; the judge runs none (it judges on the pool's detections).
  const models = run.workers.filter((w) => w.info?.processor.startsWith('detector'));
  expect(models.map((w) => w.id).sort(), JSON.stringify(run.workers)).toEqual(run.workers.filter((w) => w.id !== 'state-1').map((w) => w.id).sort());
  expect(models.every((w) => w.info?.provider === provider), JSON.stringify(run.workers)).toBe(true);
  expect(run.workers.find((w) => w.id === 'state-1')?.info?.processor).toBe('judge');
  expect(run.results.map((r) => r.seq)).toEqual(IMAGES.map((_, i) => i + 1));
  const compared: Compared[] = [];
  let worstLetterboxDiff = 0;
  let worstMaxDiff = 0;
  for (const [i, id] of IMAGES.entries()) {
    const r = run.results[i]!;
    expect(r.error).toBeUndefined();
    // The model authors' own input for this image, from its RGB pixels by the independent reference...
    const reference = await page.evaluate((u) => (window as unknown as HarnessWindow).fw.referenceInput(u), url(id));
    const a = floats(r.input!);
    const b = floats(reference.tensor);
    let sum = 0;
    let max = 0;
    for (let k = 0; k < a.length; k++) {
      const d = Math.abs(a[k]! - b[k]!);
      sum += d;
      max = Math.max(max, d);
    }
    worstLetterboxDiff = Math.max(worstLetterboxDiff, sum / a.length);
    worstMaxDiff = Math.max(worstMaxDiff, max);
    // ...run natively: the browser's detections must match what the model gives on the authors' input.
    const ref = await referenceDetect(reference.tensor, reference.lb.scale, r.width, r.height, LABELS, THRESHOLD - 0.02);
    compared.push(compare(id, ref, r.detections));
  }
  // In 0–255 units: on both paths every value within one grey level of the authors' preprocessing.
  expect(worstMaxDiff).toBeLessThanOrEqual(1);
  expect(worstLetterboxDiff).toBeLessThan(0.05);
  const problems = compared.flatMap((c) => c.problems);
  expect(problems).toEqual([]);
  // Named scenes must actually contain what they show.
  const labelsOf = (id: string) => run.results[IMAGES.indexOf(id)]!.detections.map((d) => d.label);
  expect(labelsOf('000000000724')).toContain('stop sign');
  expect(labelsOf('000000000285')).toContain('bear');
  expect(labelsOf('000000000139')).toEqual(expect.arrayContaining(['tv', 'person']));
  const total = compared.reduce((n, c) => n + c.matched, 0);
  expect(total).toBeGreaterThan(30);
  const inference = run.results.map((r) => r.inferenceMs!).sort((a, b) => a - b);
  const p95 = inference[Math.ceil(inference.length * 0.95) - 1]!;
  const within = compared.reduce((n, c) => n + c.within, 0);
  const maxDs = Math.max(...compared.map((c) => c.maxScoreDiff));
  const minIou = Math.min(...compared.map((c) => c.minIou));
  console.log(`${provider}: ${total} boxes matched over ${IMAGES.length} images, ${within} of them (${((100 * within) / total).toFixed(1)} %) within IoU ≥ 0.9 and |Δscore| ≤ 0.02; max |Δscore| ${maxDs.toFixed(4)}, min IoU ${minIou.toFixed(3)}; input vs the authors' preprocessing: max |Δ| ${worstMaxDiff.toFixed(2)}, mean |Δ| ${worstLetterboxDiff.toFixed(3)}; inference p50 ${inference[Math.floor(inference.length / 2)]!.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms`);
}

test('WASM path: browser detections match onnxruntime-node on 12 COCO photographs', async ({ page }) => {
  test.setTimeout(180_000);
  await checkProvider(page, 'wasm');
});

test('WebGPU path (SwiftShader): GPU letterbox + GPU tensor match onnxruntime-node', async ({ page }) => {
  test.setTimeout(600_000);
  await checkProvider(page, 'webgpu');
});

test('losing the WebGPU device mid-run falls back to WASM and the pipeline keeps detecting', async ({ page }) => {
  test.setTimeout(300_000);
  await openHarness(page);
  const ids = ['000000000724', '000000000285', '000000000139', '000000002592'];
  const run = await page.evaluate(
    (urls) => (window as unknown as HarnessWindow).fw.detectImages(urls, 'webgpu', 1, { loseGpuDeviceAfterFrames: 1, captureModelInput: false }),
    ids.map(url),
  );
  const r = run.results;
  expect(r.map((x) => x.seq)).toEqual([1, 2, 3, 4]);
  expect(r[0]).toMatchObject({ provider: 'webgpu' });
  expect(r[0]!.detections.map((d) => d.label)).toContain('stop sign');
  // The frame that met the lost device may fail; everything after runs on WASM, correctly.
  expect(r.slice(2).every((x) => x.provider === 'wasm' && !x.error)).toBe(true);
  expect(r[3]!.detections.map((d) => d.label)).toContain('cup');
  const info = run.workers.find((w) => w.id === 'localization-1')!.info!;
  expect(info.provider).toBe('wasm');
  expect(info.reason).toMatch(/device lost.*fell back to WASM/);
});
