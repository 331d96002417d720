import { defineConfig } from '@playwright/test';
import { resolve } from 'node:path';
import { chromiumArgs, chromiumPath } from './e2e/browser';
import { FAKE_CAMERA_Y4M, STEPS_CAMERA_Y4M, TASK_CAMERA_Y4M } from './e2e/fixtures/paths';

const cameraPlaying = (file: string) => ({
  executablePath: chromiumPath(),
  args: chromiumArgs(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${file}`]),
});
const fakeCamera = cameraPlaying(FAKE_CAMERA_Y4M);

const port = Number(process.env.FRAMEWISE_TEST_PORT ?? 4178);

export default defineConfig({
  testDir: 'e2e',
  timeout: 60_000,
  // Two cores: tests that time workers must not fight each other for them.
  workers: 1,
  retries: 0,
  outputDir: 'test-results/e2e-artifacts',
  reporter: process.env.CI ? [['list'], ['json', { outputFile: 'test-results/e2e.json' }]] : [['list']],
  globalSetup: resolve('e2e/fixtures/global-setup.ts'),
  use: {
    baseURL: `http://localhost:${port}`,
    launchOptions: { executablePath: chromiumPath(), args: chromiumArgs() },
  },
  projects: [
    { name: 'pipeline', testIgnore: /(camera|capture|model|task|product|pwa|analysis|failures|custom-classes|steps|real-video|layout)\.spec\.ts/ },
    { name: 'task', testMatch: /task\.spec\.ts/, use: { launchOptions: cameraPlaying(TASK_CAMERA_Y4M) } },
    // Issue 19's steps: three apples, then one covered, looping (e2e/fixtures/paths.ts).
    { name: 'steps', testMatch: /steps\.spec\.ts/, use: { launchOptions: cameraPlaying(STEPS_CAMERA_Y4M) } },
    // Real camera clips (e2e/real-video.ts): each test launches its own Chromium with its clip as the camera.
    { name: 'real-video', testMatch: /real-video\.spec\.ts/ },
    { name: 'camera', testMatch: /(camera|capture|model|product|pwa|analysis|failures|custom-classes|layout)\.spec\.ts/, use: { launchOptions: fakeCamera } },
    // Screenshots for docs/ and the README: only when asked for (FRAMEWISE_DOCS=1).
    ...(process.env.FRAMEWISE_DOCS
      ? [
          { name: 'docs', testMatch: /docs\.shot\.ts/, use: { launchOptions: fakeCamera, viewport: { width: 1100, height: 1100 } } },
          { name: 'docs-task', testMatch: /docs-task\.shot\.ts/, use: { launchOptions: cameraPlaying(TASK_CAMERA_Y4M), viewport: { width: 1100, height: 1100 } } },
          // Its devices run in a browser of their own, whose camera plays the trainer video (e2e/fixtures/ui.ts).
          { name: 'docs-trainer', testMatch: /docs-trainer\.shot\.ts/, use: { viewport: { width: 1280, height: 1000 } } },
        ]
      : []),
  ],
  webServer: {
    command: `npx vite --port ${port} --strictPort`,
    url: `http://localhost:${port}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
