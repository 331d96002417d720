import { expect, test } from '@playwright/test';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromiumArgs, chromiumPath } from './browser';
import { describeDerails, latencyOverHoldP50, REAL_CLIPS, runClip, tableLine, TARGETS, unavailable, type ClipResult } from './real-video';

// Real camera clips (project `real-video`; e2e/real-video.ts has the clips, their hand labels and
// tasks): each clip is the camera of its own Chromium, playing forward then backward in a loop.
// Each task ends with a step whose condition the clip never shows, so a false completion can be seen.
// The clips are optional assets: a clip that was not provisioned skips its test, saying why.

/** Long enough for a cold start on two busy cores, every step, and a whole loop on the final step. */
const WATCH_MS = 150_000;

/** This run's results, one file per clip, so that the last test sees them even after a failed test restarted the worker. */
const resultsDir = resolve('test-results/real-video', process.env.FRAMEWISE_RUN_ID ?? 'local');

for (const clip of REAL_CLIPS) {
  test(`${clip.name} (${clip.shows}): no false completion, latency − hold p50 ≤ ${TARGETS.latencyOverHoldP50Ms} ms, ≤ ${TARGETS.identitiesPerAppearance} identities per appearance`, async ({ baseURL }, info) => {
    const why = unavailable(clip);
    test.skip(!!why, why ?? '');
    test.setTimeout(WATCH_MS + 60_000);
    const r = await runClip({ baseURL: baseURL!, launch: { executablePath: chromiumPath(), args: chromiumArgs() }, screenshot: info.outputPath(`${clip.name}-end.png`) }, clip, { durationMs: WATCH_MS });
    console.log(`real-video | ${tableLine(r)}`);
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, `${clip.name}.json`), JSON.stringify(r));

    expect(r.falseCompletions, `steps completed that never hold on ${clip.name}: ${r.steps.filter((s) => s.truth === 'never' && s.latencyMs !== null).map((s) => s.instruction).join('; ')}`).toBe(TARGETS.falseCompletions);
    // Reported, not asserted (not one of the issue's targets): the ground truth gives no reason for
    // any derailment, but one that fires because the detector sees something that is not there
    // (e.g. the thumbs-up clip's black shoulder strap read as a "cell phone" at about 0.5) is the
    // detector's false positive, which the judge is right to act on.
    if (r.falseDerailments > 0) {
      info.annotations.push({ type: 'false derailment', description: describeDerails(r) });
      console.log(`real-video | ${clip.name}: ${r.falseDerailments} false derailment(s): ${describeDerails(r)}`);
    }
    const missed = r.steps.filter((s) => s.truth === 'completes' && s.latencyMs === null);
    expect(missed.map((s) => s.instruction), 'steps whose condition holds on the clip but never completed').toEqual([]);
    expect(r.latencyOverHoldP50Ms, 'completion latency − hold, p50 over the positive steps (ms)').toBeLessThanOrEqual(TARGETS.latencyOverHoldP50Ms);
    for (const [label, v] of Object.entries(r.identities)) {
      expect(v.ids, `the overlay never drew a ${label}`).toBeGreaterThan(0);
      expect(v.perAppearance, `${label}: ${v.ids} track ids for ${v.appearances} appearance(s)`).toBeLessThanOrEqual(TARGETS.identitiesPerAppearance);
    }
  });
}

test(`over all clips: completion latency − hold p50 within ${TARGETS.latencyOverHoldP50Ms} ms`, () => {
  let files: string[] = [];
  try {
    files = readdirSync(resultsDir).filter((f) => f.endsWith('.json'));
  } catch {
    // No clip ran.
  }
  test.skip(files.length === 0, 'no real-video clip ran in this run (none provisioned, or run alone)');
  const results = files.map((f) => JSON.parse(readFileSync(join(resultsDir, f), 'utf8')) as ClipResult);
  const p50 = latencyOverHoldP50(results);
  console.log(`real-video | all ${results.length} clips (${results.map((r) => r.clip).join(', ')}): latency − hold p50 ${Number.isFinite(p50) ? `${Math.round(p50)} ms` : 'a step never completed'}`);
  expect(p50).toBeLessThanOrEqual(TARGETS.latencyOverHoldP50Ms);
});
