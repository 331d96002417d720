import { expect, test, type Page } from '@playwright/test';
import { openTools } from './fixtures/ui';

/** The overlay redraws on animation frames: after two of them it shows the current layout and boxes. */
const drawn = (page: Page) => page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));

// Not a test: renders the guidance screenshots in docs/ (FRAMEWISE_DOCS=1 npx playwright test --project docs-task).
test('guidance screenshots', async ({ page }) => {
  test.setTimeout(90_000);
  await page.goto('/');
  await page.screenshot({ path: 'docs/picker.png' });
  await page.getByLabel('Task', { exact: true }).selectOption('desk-setup');
  await page.getByRole('button', { name: 'Start camera' }).click();
  const panel = page.locator('fw-task-panel');
  await expect(panel.getByTestId('instruction')).toHaveText(/keyboard/, { timeout: 30_000 });
  await expect(panel.getByTestId('hint')).toContainText('move it', { timeout: 10_000 });
  await drawn(page);
  await page.screenshot({ path: 'docs/guidance.png' });
  // The guide as a person sees it on a laptop and on a phone: video and instruction together, nothing to scroll.
  await page.setViewportSize({ width: 1280, height: 800 });
  await drawn(page);
  await page.screenshot({ path: 'docs/guide-laptop.png' });
  await page.setViewportSize({ width: 390, height: 844 });
  await drawn(page);
  await page.screenshot({ path: 'docs/guide-phone.png' });
  await page.setViewportSize({ width: 1100, height: 1100 });
  await openTools(page);
  await page.getByRole('button', { name: 'Write a task' }).click();
  await page.getByLabel('Task JSON').fill(JSON.stringify({ id: 'mine', title: 'Mine', steps: [{ instruction: 'Cup', require: [{ label: 'cupp' }] }] }, null, 2));
  await page.getByTestId('task-problems').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'docs/editor.png', fullPage: true });
});
