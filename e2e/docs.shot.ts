import { expect, test } from '@playwright/test';

// Not a test: renders the screenshots in docs/ (FRAMEWISE_DOCS=1 npx playwright test --project docs).
test('live page screenshot', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 20_000 });
  await expect.poll(async () => (await page.getByTestId('last-result').textContent()) ?? '', { timeout: 60_000 }).toMatch(/objects/);
  await page.waitForTimeout(3000);
  await page.screenshot({ path: 'docs/live.png', fullPage: true });
});
