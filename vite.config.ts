import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';
import { VitePWA } from 'vite-plugin-pwa';

// WASM threads need SharedArrayBuffer, which needs cross-origin isolation on every
// server the app is served from.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [
    VitePWA({
      // A new version waits for the person's consent (and never lands mid-session).
      registerType: 'prompt',
      injectRegister: false,
      manifest: {
        name: 'Framewise',
        short_name: 'Framewise',
        description: 'Real-time in-browser vision that guides you through a task step by step.',
        start_url: '.',
        scope: '.',
        display: 'standalone',
        background_color: '#0f172a',
        theme_color: '#0f172a',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        // The app shell, both onnxruntime WASM builds and the default model: detection works offline after one visit.
        globPatterns: ['**/*.{js,css,html,wasm,onnx,png,svg}'],
        maximumFileSizeToCacheInBytes: 40 * 1024 * 1024,
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [/^\/api\//, /^\/dashboard/, /^\/sync/, /^\/live/, /framewise-config\.json$/],
        cleanupOutdatedCaches: true,
      },
    }),
  ],
  // Inside this repository the pipeline package is used from its TypeScript source (the "source"
  // export condition), so the app, the example and the tests never need a built dist/ first. A
  // stranger's project resolves the same package name to the published ESM and declarations.
  resolve: { conditions: ['source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions] } },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: {
    target: 'es2022',
    rollupOptions: {
      input: { main: 'index.html', dashboard: 'dashboard.html', 'custom-processor': 'examples/custom-processor/index.html' },
    },
  },
  test: {
    include: ['src/**/*.test.ts', 'packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'server/**/*.test.ts', 'examples/**/*.test.ts'],
    environment: 'node',
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results/unit.json' },
  },
});
