import { axe } from './fixtures/axe';
import { expect, test, type Page } from '@playwright/test';
import { ADMIN, serveBuiltApp } from './fixtures/backend';
import { openTools } from './fixtures/ui';
import { STEPS_CAMERA_PATCH } from './fixtures/paths';
import { PATCH_GREY } from './fixtures/y4m';

// Issue 19 on the built app, its real backend and the fake camera (project `steps`): three apples
// for 10 s, then the right-hand one covered by a grey patch for 4 s, looping. A removal step (3 → 2),
// a confirm step done with Space, one done with the button, and a wait; the overlay, the voice and
// the trainer's timeline checked for each; and the removal's latency measured (printed, not asserted).

const MIN_SCORE = 0.6; // the three apples score 0.74–0.84, nothing else above 0.4 (e2e/fixtures/paths.ts)
const SHOW_THREE = { instruction: 'Show the three apples', require: [{ label: 'apple', minCount: 3, minScore: MIN_SCORE }], holdMs: 500 };
const TAKE_ONE = { instruction: 'Take one apple away: leave exactly two', require: [{ label: 'apple', minCount: 2, maxCount: 2, minScore: MIN_SCORE }], holdMs: 1000 };
const TASK = {
  id: 'e2e-steps',
  title: 'Apples, a check and a wait',
  steps: [
    SHOW_THREE,
    TAKE_ONE,
    { kind: 'confirm', instruction: 'Check the two apples by hand, then press Space' },
    { kind: 'confirm', instruction: 'Wipe the table, then press the button' },
    { kind: 'wait', instruction: 'Let the table dry', durationMs: 3000 },
  ],
};
const DEVICE = 'Apple bench';

const served = serveBuiltApp(29000);

interface Watch {
  spoken: string[];
  /** Changes of the covering patch on the video, page clock (performance.now). */
  cover: { t: number; covered: boolean }[];
  /** Changes of what the panel shows, page clock. */
  panel: { t: number; instruction: string; hint: string; summary: boolean }[];
  /** Overlay boxes drawn as "remove", whenever they changed. */
  removes: { t: number; labels: string[] }[];
}

/**
 * Records, from the page's start: what the speech engine is asked to say; each time the video
 * shows or stops showing the grey patch (read from the presented frame's pixels); what the panel
 * shows; the overlay's remove boxes. Times are the page's own clock, like the pipeline's capture times.
 */
async function watch(page: Page): Promise<void> {
  await page.addInitScript(
    ({ deviceName, patch, grey }) => {
      if (!localStorage.getItem('framewise-settings')) localStorage.setItem('framewise-settings', JSON.stringify({ deviceName }));
      const w = window as unknown as { watch: Watch };
      w.watch = { spoken: [], cover: [], panel: [], removes: [] };
      speechSynthesis.speak = (u: SpeechSynthesisUtterance) => void w.watch.spoken.push(u.text);
      const canvas = new OffscreenCanvas(64, 48);
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      let video: HTMLVideoElement | undefined;
      const onFrame = () => {
        const t = performance.now();
        if (!video) return;
        ctx.drawImage(video, 0, 0, 64, 48);
        // Three points inside the patch: all flat grey only while it covers the apple.
        const pts = [[0.25, 0.1], [0.5, 0.5], [0.75, 0.9]].map(([fx, fy]) => [Math.floor((patch[0]! + fx! * patch[2]!) / 10), Math.floor((patch[1]! + fy! * patch[3]!) / 10)]);
        const covered = pts.every(([x, y]) => [...ctx.getImageData(x!, y!, 1, 1).data.slice(0, 3)].every((c) => Math.abs(c - grey) <= 6));
        if (w.watch.cover.at(-1)?.covered !== covered) w.watch.cover.push({ t, covered });
        video.requestVideoFrameCallback(onFrame);
      };
      const text = (root: ParentNode | null | undefined, id: string) => root?.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() ?? '';
      const tick = () => {
        const app = document.querySelector('fw-app')?.shadowRoot;
        const v = app?.querySelector('video');
        if (v && v !== video) {
          video = v;
          v.requestVideoFrameCallback(onFrame);
        }
        const panel = app?.querySelector('fw-task-panel')?.shadowRoot;
        const now = { instruction: text(panel, 'instruction'), hint: text(panel, 'hint'), summary: !!panel?.querySelector('[data-testid="summary"]') };
        const last = w.watch.panel.at(-1);
        if (!last || last.instruction !== now.instruction || last.hint !== now.hint || last.summary !== now.summary) w.watch.panel.push({ t: performance.now(), ...now });
        const boxes = JSON.parse((app?.querySelector('fw-overlay') as HTMLElement | null)?.dataset.boxes ?? '[]') as { label: string; style: string }[];
        const labels = boxes.filter((b) => b.style === 'remove').map((b) => b.label);
        if (JSON.stringify(w.watch.removes.at(-1)?.labels ?? []) !== JSON.stringify(labels)) w.watch.removes.push({ t: performance.now(), labels });
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    },
    { deviceName: DEVICE, patch: [...STEPS_CAMERA_PATCH], grey: PATCH_GREY },
  );
}
const watched = (page: Page): Promise<Watch> => page.evaluate(() => (window as unknown as { watch: Watch }).watch);

async function useTask(page: Page, task: unknown, id: string) {
  await openTools(page);
  await page.getByLabel('Import a task file').setInputFiles({ name: 'task.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(task)) });
  await expect(page.getByLabel('Task', { exact: true })).toHaveValue(id);
  await page.getByRole('button', { name: 'Tools' }).click();
}

const panel = (page: Page) => page.locator('fw-task-panel');


/**
 * Removal latencies: from the first covered frame after a run's first step ("show the three")
 * appeared to the removal step's end on screen. Anchored on the first step, not the removal step:
 * the page shows a step only once the worker's verdict arrives, which can be after the covered
 * frame that the worker already judged the removal step on.
 */
function removalLatencies(w: Watch): number[] {
  const out: number[] = [];
  const at = (p: Watch['panel'][number]) => (p.summary ? 'summary' : p.instruction);
  const begins = w.panel.filter((p, i) => at(p) === SHOW_THREE.instruction && (i === 0 || at(w.panel[i - 1]!) !== SHOW_THREE.instruction));
  for (const b of begins) {
    const left = w.cover.find((c) => c.covered && c.t > b.t);
    if (!left) continue;
    const done = w.panel.find((p) => p.t > left.t && at(p) !== SHOW_THREE.instruction && at(p) !== TAKE_ONE.instruction && at(p) !== '');
    const removing = w.panel.some((p) => p.t > b.t && (!done || p.t < done.t) && at(p) === TAKE_ONE.instruction);
    if (done && removing) out.push(done.t - left.t);
  }
  return out;
}

test('a removal (3 → 2), a confirm by Space, a confirm by the button and a wait complete in order; overlay, voice and the trainer’s timeline show each', async ({ page }) => {
  test.setTimeout(240_000);
  await watch(page);
  await page.goto(`${served.base}/`);
  await useTask(page, TASK, TASK.id);
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });

  // The removal step: the overlay marks the apples as ones to take away while three are in view.
  await expect(panel(page).getByTestId('instruction')).toHaveText(TAKE_ONE.instruction, { timeout: 60_000 });
  await expect.poll(async () => (await watched(page)).removes.some((r) => r.labels.length === 3 && r.labels.every((l) => l === 'apple')), { timeout: 30_000 }).toBe(true);
  await expect(panel(page).getByTestId('hint')).toHaveText('Take 1 apple away');

  // Confirm by Space (focus on the page, not on a control).
  const check = TASK.steps[2]!.instruction;
  await expect(panel(page).getByTestId('instruction')).toHaveText(check, { timeout: 30_000 });
  await expect(page.getByTestId('voice-control')).toContainText('use the button, Space or Enter');
  await axe(page, 'confirm step');
  await page.locator('body').click({ position: { x: 1, y: 1 } });
  await page.keyboard.press('Space');
  // Confirm by the button.
  await expect(panel(page).getByTestId('instruction')).toHaveText(TASK.steps[3]!.instruction, { timeout: 15_000 });
  await panel(page).getByRole('button', { name: 'Done — next step' }).click();
  // The wait: its countdown shows, then the task is done.
  await expect(panel(page).getByTestId('instruction')).toHaveText(TASK.steps[4]!.instruction, { timeout: 15_000 });
  await expect(panel(page).getByTestId('countdown')).toHaveText(/^[1-3] s left$/);
  await axe(page, 'wait step');
  await expect(panel(page).getByTestId('summary')).toBeVisible({ timeout: 30_000 });

  const w = await watched(page);
  const order = w.panel.map((p) => (p.summary ? 'summary' : p.instruction)).filter((x, i, a) => x && x !== a[i - 1]);
  expect(order).toEqual([...TASK.steps.map((s) => s.instruction), 'summary']);
  console.log(`spoken: ${JSON.stringify(w.spoken)}`);
  for (const words of [
    'Take 1 apple away',
    `Step 2 done. Next: ${check}`,
    `Step 3 done. Next: ${TASK.steps[3]!.instruction}`,
    `Step 4 done. Next: ${TASK.steps[4]!.instruction}`,
    'Let the table dry: 3 seconds',
  ])
    expect(w.spoken).toContain(words);
  expect(w.spoken.some((s) => s.startsWith(`All done: ${TASK.title}`))).toBe(true);
  const latency = removalLatencies(w);
  console.log(`removal latency (first covered frame → step done on screen), this run: ${latency.map((ms) => `${Math.round(ms)} ms`).join(', ')}`);

  // The record reaches the backend; the trainer's timeline shows every step and how it ended.
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('status')).toHaveText('idle', { timeout: 20_000 });
  await expect(page.getByTestId('sync-pending')).toHaveText('0', { timeout: 20_000 });
  const dash = await page.context().newPage();
  await dash.goto(`${served.base}/dashboard`);
  await dash.getByLabel('Admin token').fill(ADMIN);
  await dash.getByRole('button', { name: 'Sign in' }).click();
  await dash.locator('fw-sessions-list tr.session', { hasText: DEVICE }).first().click();
  const view = dash.locator('fw-session-view');
  await expect(view.getByTestId('outcome')).toHaveText('Completed', { timeout: 20_000 });
  const steps = view.locator('.step[role="row"]');
  await expect(steps).toHaveCount(5);
  const endings = ['seen by the camera', 'seen by the camera', 'confirmed by the person', 'confirmed by the person', 'waited out'];
  for (let i = 0; i < 5; i++) {
    await expect(steps.nth(i).getByTestId('instruction')).toHaveText(TASK.steps[i]!.instruction);
    await expect(steps.nth(i).getByTestId('status')).toHaveText('Completed');
    await expect(steps.nth(i).getByTestId('completed-by')).toHaveText(endings[i]!);
  }
  await expect(steps.nth(1).getByTestId('given').filter({ hasText: 'Take 1 apple away' })).toHaveCount(1);
  await dash.close();
});

test('keyboard only: confirm, repeat and back, and the voice-control notice', async ({ page }) => {
  test.setTimeout(120_000);
  await watch(page);
  const task = { id: 'e2e-keys', title: 'Two checks', steps: [{ kind: 'confirm', instruction: 'Check the left apple' }, { kind: 'confirm', instruction: 'Check the right apple' }] };
  await page.goto(`${served.base}/`);
  await useTask(page, task, task.id);
  // From here on, only keys.
  await page.getByRole('button', { name: 'Start camera' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });
  const ins = panel(page).getByTestId('instruction');
  await expect(ins).toHaveText('Check the left apple');
  await expect.poll(async () => (await watched(page)).spoken.filter((s) => s === 'Check the left apple').length, { timeout: 10_000 }).toBe(1);
  await page.keyboard.press('r');
  await expect.poll(async () => (await watched(page)).spoken.filter((s) => s === 'Check the left apple').length).toBe(2);
  await page.keyboard.press('Space');
  await expect(ins).toHaveText('Check the right apple', { timeout: 15_000 });
  await page.keyboard.press('b');
  await expect(ins).toHaveText('Check the left apple', { timeout: 15_000 });
  await expect.poll(async () => (await watched(page)).spoken).toContain('Back to step 1: Check the left apple');
  const saidRight = async () => (await watched(page)).spoken.filter((t) => t === 'Check the right apple').length;
  const rightBefore = await saidRight();
  await page.keyboard.press('Enter');
  await expect(ins).toHaveText('Check the right apple', { timeout: 15_000 });
  // The new step's instruction is said once it is built from the next scene: wait for it, so that
  // it is not counted as the repeat below.
  await expect.poll(saidRight, { timeout: 10_000 }).toBe(rightBefore + 1);
  // A key meant for a focused control is left to it: Space on "Repeat" repeats, and does not also confirm.
  await panel(page).getByRole('button', { name: 'Repeat' }).focus();
  const before = (await watched(page)).spoken.length;
  await page.keyboard.press('Space');
  await expect.poll(async () => (await watched(page)).spoken.length).toBe(before + 1);
  expect((await watched(page)).spoken.at(-1)).toBe('Check the right apple');
  await expect(ins).toHaveText('Check the right apple');
  await page.locator('body').focus();
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('Enter');
  await expect(panel(page).getByTestId('summary')).toBeVisible({ timeout: 15_000 });
  await axe(page, 'summary after keys');
});

test('removal latency: from the first covered frame to the completed step, over several runs', async ({ page }) => {
  test.setTimeout(300_000);
  const RUNS = 4;
  await watch(page);
  await page.goto(`${served.base}/`);
  await useTask(page, { id: 'e2e-remove', title: 'Take one apple away', steps: [SHOW_THREE, TAKE_ONE] }, 'e2e-remove');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });
  // A run whose first step ended only as the apple was being covered is not a removal it watched: run until RUNS were.
  for (let run = 1; ; run++) {
    await expect(panel(page).getByTestId('summary')).toBeVisible({ timeout: 60_000 });
    if (removalLatencies(await watched(page)).length >= RUNS || run >= RUNS + 3) break;
    await page.getByRole('button', { name: 'Do it again' }).click();
  }
  const w = await watched(page);
  const latency = removalLatencies(w).sort((a, b) => a - b);
  const seen = { panel: w.panel.map((p) => [Math.round(p.t), p.summary ? 'summary' : p.instruction.slice(0, 14)]), cover: w.cover.map((c) => [Math.round(c.t), c.covered]) };
  expect(latency.length, `runs that completed on a removal they watched: ${JSON.stringify(seen)}`).toBeGreaterThanOrEqual(RUNS);
  const median = (latency[(latency.length - 1) >> 1]! + latency[latency.length >> 1]!) / 2;
  console.log(`removal latency over ${latency.length} runs: median ${Math.round(median)} ms, worst ${Math.round(latency.at(-1)!)} ms (each: ${latency.map((ms) => Math.round(ms)).join(', ')} ms)`);
});
