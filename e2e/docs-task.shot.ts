import { expect, test } from '@playwright/test';

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
  await page.waitForTimeout(600);
  await page.screenshot({ path: 'docs/guidance.png' });
  await page.getByRole('button', { name: 'Write a task' }).click();
  await page.getByLabel('Task JSON').fill(JSON.stringify({ id: 'mine', title: 'Mine', steps: [{ instruction: 'Cup', require: [{ label: 'cupp' }] }] }, null, 2));
  await page.getByTestId('task-problems').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'docs/editor.png', fullPage: true });
});
