import { expect, test } from '@playwright/test';
import type { ClipReport, ClipSpec } from './tracking-clips';

// Clips made at test time from COCO photographs with known motion, through the real pipeline
// and the page's tracker; ground truth is each photograph's objects moved by the known crop (boxed
// by hand for the cluttered pan, e2e/fixtures/labels/000000000139.json; the detector's elsewhere).
const photo = (id: string) => `/.assets/coco/${id}.jpg`;

test('objects keep their identity on a pan, a zoom, a handheld path and through a 0.5 s occlusion; tracking stops presence flicker', async ({ page }) => {
  test.setTimeout(600_000);
  await page.goto('/e2e/tracking.html');
  await page.waitForSelector('body[data-ready="true"]');
  const clips = await page.evaluate((p) => (window as unknown as { tracking: { CLIPS: (f: (id: string) => string) => ClipSpec[] } }).tracking.CLIPS((id) => `${p}${id}.jpg`), '/.assets/coco/');
  const reports: ClipReport[] = [];
  for (const clip of clips) {
    const r = await page.evaluate((c) => (window as unknown as { tracking: { runClip: (c: ClipSpec) => Promise<ClipReport> } }).tracking.runClip(c), clip);
    console.log(`tracking ${r.name} (${r.photo}, ${r.frames} frames, ${r.objects} objects, truth by ${r.truth}): IDF1 ${r.idf1.toFixed(3)} (${r.idtp} of ${r.gtBoxes} truth / ${r.trackBoxes} track boxes), ID switches ${r.idSwitches}${r.covered ? `, covered ${r.covered.label}: ids before ${r.covered.before} after ${r.covered.after}` : ''}${r.flipsPerMinute ? `, presence flips/min raw ${r.flipsPerMinute.raw.toFixed(1)} tracked ${r.flipsPerMinute.tracked.toFixed(1)} (${r.flipsPerMinute.labels.join(', ')})` : ''}`);
    reports.push(r);
  }
  const by = (n: string) => reports.find((r) => r.name === n)!;
  for (const name of ['pan', 'zoom']) expect(by(name).idSwitches, name).toBe(0);
  for (const r of reports) {
    expect(r.objects, r.name).toBeGreaterThan(0);
    if (r.name !== 'pan-cluttered') expect(r.idf1, r.name).toBeGreaterThanOrEqual(0.9);
  }
  // The cluttered pan measures 0.611 against hand-made labels and cannot reach 0.9 with this detector
  // (README, "Objects keep their identity"): guarded against getting worse, e.g. by merging two of
  // its chairs (replaying the recorded tracks without the right chair's: 0.564; without the middle
  // chair's whole box, keeping its part box: 0.578).
  expect(by('pan-cluttered').truth, 'pan-cluttered').toBe('hand');
  expect(by('pan-cluttered').idf1, 'pan-cluttered').toBeGreaterThanOrEqual(0.59);
  const occ = by('occlusion').covered!;
  expect(occ.before).toHaveLength(1);
  expect(occ.after).toEqual(occ.before);
  const steady = by('steady').flipsPerMinute!;
  expect(steady.raw).toBeGreaterThan(0);
  expect(steady.tracked).toBeLessThanOrEqual(steady.raw / 10);
});
