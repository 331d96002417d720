import type { Page } from '@playwright/test';
import type { Fw, ScenarioOptions, ScenarioSummary } from './harness';

/** Inside page.evaluate: the harness API. */
export type HarnessWindow = Window & { fw: Fw };

export async function openHarness(page: Page): Promise<void> {
  await page.goto('/e2e/harness.html');
  await page.waitForSelector('body[data-ready="true"]');
}

export function runScenario(page: Page, opts: ScenarioOptions): Promise<ScenarioSummary> {
  return page.evaluate((o) => (window as unknown as HarnessWindow).fw.scenario(o), opts);
}

/** offered = delivered + dropped, exactly, once nothing is queued. */
export function countsAddUp(s: ScenarioSummary): boolean {
  return Object.values(s.before.channels).every((c) => c.offered === c.delivered + c.dropped + c.queued + c.blocked && c.queued === 0 && c.blocked === 0);
}
