import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { hasFfmpeg } from './fixtures/global-setup';
import { ANALYSIS_SLIDES, ANALYSIS_WEBM } from './fixtures/paths';
import { openTools } from './fixtures/ui';

test.skip(!hasFfmpeg(), 'ffmpeg is not installed here: the analysis test video cannot be made (apt-get install ffmpeg)');

async function analyse(page: Page, query = '') {
  await page.goto(`/${query}`);
  await openTools(page);
  await page.getByLabel('Analyse a video file').setInputFiles(ANALYSIS_WEBM);
  await expect(page.getByTestId('analysis-result')).toBeVisible({ timeout: 90_000 });
}

async function exported(page: Page, button: string): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
  return readFileSync((await download.path())!, 'utf8');
}

test('every frame of a video file is analysed, in order, and exported with the right labels', async ({ page }) => {
  test.setTimeout(120_000);
  await analyse(page);
  await expect(page.getByTestId('analysis-progress')).toHaveText('30 / 30 frames');
  const json = JSON.parse(await exported(page, 'Export JSON'));
  expect(json.frames).toBe(30);
  expect(json.results.map((r: { frame: number }) => r.frame)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  ANALYSIS_SLIDES.forEach(([, label], k) => {
    for (const r of json.results.slice(k * 10, k * 10 + 10)) {
      expect(r.detections.map((d: { label: string }) => d.label), `frame ${r.frame}`).toContain(label);
      expect(r.time).toBeCloseTo((r.frame - 1) / 10, 3);
    }
  });
  const csv = (await exported(page, 'Export CSV')).trim().split('\n');
  expect(csv[0]).toBe('frame,time,label,score,x,y,w,h,track');
  expect(new Set(csv.slice(1).map((l) => Number(l.split(',')[0]))).size).toBe(30);
  expect(csv.some((l) => /^15,1\.4,bear,/.test(l))).toBe(true);
  const axe = await new AxeBuilder({ page }).analyze();
  console.log(`axe analysis: ${axe.violations.length} violations`);
  expect(axe.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
  // The bear slide is one object: from its third frame on (birth hysteresis) every bear row carries one and the same track.
  const bearTracks = json.results.slice(12, 20).flatMap((r: { detections: { label: string; track: number | null }[] }) => r.detections.filter((d) => d.label === 'bear').map((d) => d.track));
  expect(bearTracks.length).toBeGreaterThanOrEqual(8);
  expect(new Set(bearTracks).size).toBe(1);
  expect(bearTracks[0]).not.toBeNull();
});

test('a bad frame is reported and skipped; the run goes on', async ({ page }) => {
  test.setTimeout(120_000);
  await analyse(page, '?failFrames=5');
  await expect(page.getByTestId('analysis-result')).toContainText('30 frames of clip.webm, 1 could not be analysed');
  await expect(page.getByTestId('error')).toContainText('frame 5');
  const json = JSON.parse(await exported(page, 'Export JSON'));
  expect(json.frames).toBe(30);
  expect(json.results[4].error).toContain('injected fault');
  expect(json.results[5].detections.map((d: { label: string }) => d.label)).toContain('stop sign');
});

test('an analysis can be cancelled and keeps what it did', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto('/?pool=1');
  await openTools(page);
  await page.getByLabel('Analyse a video file').setInputFiles(ANALYSIS_WEBM);
  await expect(page.getByTestId('analysis-progress')).toContainText(/^[1-9]\d* \/ 30 frames/, { timeout: 60_000 });
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('analysis-result')).toContainText('Cancelled after');
  const json = JSON.parse(await exported(page, 'Export JSON'));
  expect(json.cancelled).toBe(true);
  expect(json.frames).toBeLessThan(30);
  expect(json.results.map((r: { frame: number }) => r.frame)).toEqual(Array.from({ length: json.frames }, (_, i) => i + 1));
});

test('a file that is not a video says so', async ({ page }) => {
  await page.goto('/');
  await openTools(page);
  await page.getByLabel('Analyse a video file').setInputFiles({ name: 'notes.webm', mimeType: 'video/webm', buffer: Buffer.from('not a video at all') });
  await expect(page.getByTestId('error')).toContainText('notes.webm cannot be analysed');
});
