#!/usr/bin/env node
// Renders the app icons (public/icons/*.png) from one SVG with headless Chromium. Run once when the design changes.
import { chromium } from '@playwright/test';
import { existsSync, writeFileSync } from 'node:fs';

const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">
  <rect width="512" height="512" fill="#0f172a"/>
  <rect x="88" y="120" width="336" height="272" rx="36" fill="none" stroke="#38bdf8" stroke-width="28"/>
  <rect x="168" y="196" width="124" height="112" rx="10" fill="none" stroke="#facc15" stroke-width="20"/>
  <path d="M300 252 H380 M352 222 L384 252 L352 282" fill="none" stroke="#facc15" stroke-width="20" stroke-linecap="round" stroke-linejoin="round"/>
</svg>`;
writeFileSync('public/icons/icon.svg', svg);
const browser = await chromium.launch({ executablePath: existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
const page = await browser.newPage();
for (const size of [192, 512]) {
  await page.setViewportSize({ width: size, height: size });
  await page.setContent(`<html><body style="margin:0">${svg.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body></html>`);
  await page.screenshot({ path: `public/icons/icon-${size}.png` });
}
// Maskable: the same mark with room for the platform's mask.
await page.setViewportSize({ width: 512, height: 512 });
await page.setContent(`<html><body style="margin:0;background:#0f172a;display:grid;place-items:center;height:512px">${svg.replace('<svg ', '<svg width="384" height="384" ')}</body></html>`);
await page.screenshot({ path: 'public/icons/maskable-512.png' });
await browser.close();
