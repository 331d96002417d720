import { expect, test } from '@playwright/test';
import { openTools } from './fixtures/ui';

// Not a test: renders the screenshots in docs/ (FRAMEWISE_DOCS=1 npx playwright test --project docs).
test('live page screenshot', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 20_000 });
  await expect.poll(async () => (await page.getByTestId('last-result').textContent()) ?? '', { timeout: 60_000 }).toMatch(/objects/);
  await page.waitForTimeout(3000);
  await page.screenshot({ path: 'docs/live.png', fullPage: true });
});

test('analysis and settings screenshots', async ({ page }) => {
  test.setTimeout(120_000);
  const { existsSync } = await import('node:fs');
  const { resolve } = await import('node:path');
  const { startServer } = await import('../test/server/spawn-server');
  const { ANALYSIS_WEBM } = await import('./fixtures/paths');
  const { backendEnv } = await import('./fixtures/backend');
  const server = await startServer(backendEnv(23456, { staticDir: resolve('dist'), origins: ['http://localhost:23456'] }), 23456);
  try {
    const base = `http://localhost:${server.port}`;
    await page.goto(`${base}/`);
    if (existsSync(ANALYSIS_WEBM)) {
      await openTools(page);
      await page.getByLabel('Analyse a video file').setInputFiles(ANALYSIS_WEBM);
      await expect(page.getByTestId('analysis-result')).toBeVisible({ timeout: 90_000 });
    }
    await openTools(page);
    await page.getByText('Settings').click();
    await page.screenshot({ path: 'docs/analysis-settings.png', fullPage: true });
    // The dashboard's screenshots are the trainer's view: e2e/docs-trainer.shot.ts.
  } finally {
    await server.kill('SIGTERM');
  }
});
