#!/usr/bin/env node
// Makes sure the e2e tests have a Chromium to drive. Order: $FRAMEWISE_CHROMIUM,
// Debian's /usr/bin/chromium, then Playwright's own build (installed here if missing,
// which works on a normal machine with internet access).
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { chromium } from '@playwright/test';

const explicit = process.env.FRAMEWISE_CHROMIUM;
if (explicit) {
  if (!existsSync(explicit)) {
    console.error(`browser: FRAMEWISE_CHROMIUM=${explicit} does not exist`);
    process.exit(1);
  }
} else if (!existsSync('/usr/bin/chromium') && !existsSync(chromium.executablePath())) {
  console.log('browser: no Chromium found; installing Playwright\'s own build');
  execFileSync('npx', ['playwright', 'install', 'chromium'], { stdio: 'inherit' });
}
