// Which Chromium the e2e tests and the benchmark drive, and with which flags.
import { existsSync } from 'node:fs';

/** $FRAMEWISE_CHROMIUM, else Debian's chromium, else Playwright's own build (undefined). */
export function chromiumPath(): string | undefined {
  const explicit = process.env.FRAMEWISE_CHROMIUM;
  if (explicit) return explicit;
  return existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
}

export function chromiumArgs(extra: readonly string[] = []): string[] {
  const args = [
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--enable-unsafe-webgpu',
    '--use-webgpu-adapter=swiftshader',
    ...extra,
  ];
  // Chromium refuses to run as root with its sandbox on.
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  return args;
}
