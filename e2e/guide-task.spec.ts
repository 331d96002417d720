import { axe } from './fixtures/axe';
import { expect, test, type Page } from '@playwright/test';
import { openTools } from './fixtures/ui';

// The camera plays: desk (4 s) → person at keyboard (4 s) → cup (4 s) → bear, no cup (4 s) → cup (8 s), looping.
const DESK = {
  id: 'e2e-guide',
  title: 'Desk, keyboard, cup',
  steps: [
    { instruction: 'Put the laptop in view', require: [{ label: 'laptop' }], holdMs: 1000 },
    { instruction: 'Sit at the keyboard', require: [{ label: 'person' }, { label: 'keyboard' }], relations: [{ subject: 'keyboard', relation: 'right-of', object: 'person' }], holdMs: 1000 },
    { instruction: 'Bring a cup and keep it there', require: [{ label: 'cup' }], holdMs: 5000 },
  ],
  derail: [{ kind: 'must-stay', label: 'cup', maxAbsentMs: 1000, steps: [2] }],
};
const LAPTOP = { id: 'e2e-laptop', title: 'Show the laptop', steps: [{ instruction: 'Put the laptop in view', require: [{ label: 'laptop' }], holdMs: 1000 }] };

/** Records what the page asks the speech engine to say, and the camera it asks for. */
async function spy(page: Page) {
  await page.addInitScript(() => {
    const w = window as unknown as { spoken: string[]; langs: string[]; cameraAsks: MediaStreamConstraints[] };
    w.spoken = [];
    w.langs = [];
    w.cameraAsks = [];
    speechSynthesis.speak = (u: SpeechSynthesisUtterance) => void (w.spoken.push(u.text), w.langs.push(u.lang));
    const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = (c?: MediaStreamConstraints) => (w.cameraAsks.push(JSON.parse(JSON.stringify(c ?? {}))), real(c));
  });
}
const spoken = (page: Page) => page.evaluate(() => (window as unknown as { spoken: string[] }).spoken);

async function useTask(page: Page, task: unknown, id: string) {
  await openTools(page);
  await page.getByLabel('Import a task file').setInputFiles({ name: 'task.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(task)) });
  await expect(page.getByLabel('Task', { exact: true })).toHaveValue(id);
  await page.getByRole('button', { name: 'Tools' }).click(); // close the drawer again: the guide is what the person sees
}

const panel = (page: Page) => page.locator('fw-task-panel');


for (const size of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
  test(`the video and the current instruction are both on screen without scrolling at ${size.width}×${size.height}`, async ({ page }) => {
    await page.setViewportSize(size);
    await page.goto('/');
    await useTask(page, DESK, 'e2e-guide');
    await page.getByRole('button', { name: 'Start camera' }).click();
    await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });
    await expect(panel(page).getByTestId('instruction')).toBeVisible();
    const boxes = await page.evaluate(() => {
      const app = document.querySelector('fw-app')!.shadowRoot!;
      const rect = (e: Element) => e.getBoundingClientRect().toJSON() as DOMRect;
      return { video: rect(app.querySelector('video')!), instruction: rect(app.querySelector('fw-task-panel')!.shadowRoot!.querySelector('[data-testid="instruction"]')!), scrollY };
    });
    expect(boxes.scrollY).toBe(0);
    for (const [name, b] of Object.entries({ video: boxes.video, instruction: boxes.instruction })) {
      expect(b.top, name).toBeGreaterThanOrEqual(0);
      expect(b.left, name).toBeGreaterThanOrEqual(0);
      expect(b.bottom, name).toBeLessThanOrEqual(size.height);
      expect(b.right, name).toBeLessThanOrEqual(size.width);
      expect(b.height, name).toBeGreaterThan(20);
    }
  });
}

test('each instruction, completion and derailment is spoken once, in the task language', async ({ page }) => {
  test.setTimeout(120_000);
  await spy(page);
  await page.goto('/');
  await useTask(page, { ...DESK, lang: 'en-GB' }, 'e2e-guide');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(panel(page).getByTestId('summary')).toBeVisible({ timeout: 90_000 });
  const said = await spoken(page);
  console.log(`spoken: ${JSON.stringify(said)}`);
  expect(said).toContain('Step 1 done. Next: Sit at the keyboard');
  expect(said).toContain('Step 2 done. Next: Bring a cup and keep it there');
  expect(said).toContain('The cup left the view — bring it back');
  expect(said.some((s) => s.startsWith('All done: Desk, keyboard, cup'))).toBe(true);
  // Never the same words twice in a row: an instruction is said once while it stands.
  said.forEach((s, i) => expect(s, `utterance ${i}`).not.toBe(said[i - 1]));
  const langs = await page.evaluate(() => (window as unknown as { langs: string[] }).langs);
  expect(new Set(langs)).toEqual(new Set(['en-GB']));
});

test('mute silences the voice and is remembered', async ({ page }) => {
  test.setTimeout(90_000);
  await spy(page);
  await page.goto('/');
  await useTask(page, DESK, 'e2e-guide');
  await page.getByRole('button', { name: 'Mute voice' }).click();
  await expect(page.getByTestId('mute')).toHaveAttribute('aria-pressed', 'true');
  await page.getByRole('button', { name: 'Start camera' }).click();
  // A step completes (the voice would have said so) …
  await expect(panel(page).locator('li.done')).toHaveCount(1, { timeout: 60_000 });
  expect(await spoken(page)).toEqual([]);
  await page.getByRole('button', { name: 'Stop' }).click();
  await page.reload();
  await expect(page.getByRole('button', { name: 'Unmute voice' })).toBeVisible();
});

test('a phone opens its rear camera, and the switch asks for the other one', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 412, height: 915 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await spy(page);
  await page.goto('/');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Switch camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });
  const asks = await page.evaluate(() => (window as unknown as { cameraAsks: { video: { facingMode?: unknown } }[] }).cameraAsks);
  expect(asks.map((a) => a.video.facingMode)).toEqual([{ ideal: 'environment' }, { ideal: 'user' }]);
  await context.close();
});

test('a task can be run from start to finish with the keyboard alone', async ({ page }) => {
  test.setTimeout(90_000);
  await page.goto('/');
  await useTask(page, LAPTOP, 'e2e-laptop');
  await page.getByLabel('Task', { exact: true }).selectOption('');
  // From here on only keys: focus the task list, pick the task, reach Start, press it.
  await page.locator('body').click({ position: { x: 1, y: 1 } });
  const focusOn = async (name: RegExp) => {
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      const label = await page.evaluate(() => {
        let e: Element | null = document.activeElement;
        while (e?.shadowRoot?.activeElement) e = e.shadowRoot.activeElement;
        return `${e?.tagName} ${e?.getAttribute('aria-label') ?? ''} ${e?.id ?? ''} ${e?.textContent?.trim().slice(0, 40) ?? ''}`;
      });
      if (name.test(label)) return;
    }
    throw new Error(`could not reach ${name} with Tab`);
  };
  await focusOn(/^SELECT .*task/);
  await page.keyboard.press('ArrowDown'); // the first task after "No task"
  for (let i = 0; i < 10 && (await page.getByLabel('Task', { exact: true }).inputValue()) !== 'e2e-laptop'; i++) await page.keyboard.press('ArrowDown');
  await expect(page.getByLabel('Task', { exact: true })).toHaveValue('e2e-laptop');
  await focusOn(/^BUTTON .*Start camera/);
  await page.keyboard.press('Enter');
  await expect(panel(page).getByTestId('summary')).toBeVisible({ timeout: 60_000 });
  await focusOn(/^BUTTON .*Stop/);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('status')).toHaveText('idle');
});

test('axe finds no violations on any screen: idle, running, task running, editor, analysis', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Start camera' })).toBeEnabled();
  await axe(page, 'idle');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('last-result')).toContainText('objects', { timeout: 30_000 });
  await axe(page, 'running');
  await page.getByRole('button', { name: 'Stop' }).click();
  await useTask(page, DESK, 'e2e-guide');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(panel(page).getByTestId('instruction')).toBeVisible();
  await expect(page.getByTestId('last-result')).toContainText('objects', { timeout: 30_000 });
  await axe(page, 'task running');
  await page.getByRole('button', { name: 'Stop' }).click();
  await openTools(page);
  await page.getByRole('button', { name: 'Write a task' }).click();
  await expect(page.getByLabel('Task JSON')).toBeVisible();
  await axe(page, 'editor');
  await page.getByText('Pipeline metrics').click();
  await page.locator('fw-settings summary').click();
  await axe(page, 'tools open');
});
