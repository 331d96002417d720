// Can a stranger use the pipeline? The package as `npm pack` makes it, installed into a fresh
// project outside this repository, type-checked there against its published declarations (the
// type-level test included), built with Vite, and the example's e2e run against that build.
import { expect, test } from '@playwright/test';
import type { FastifyInstance } from 'fastify';
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleTests } from './example-tests';
import { buildPackedExample, servePackedExample, type PackedExample } from './fixtures/packed-example';
import { TEST_PORT } from './fixtures/paths';

const PORT = TEST_PORT + 7;
let packed: PackedExample | undefined;
let server: FastifyInstance | undefined;

test.describe.configure({ mode: 'serial' });
test.use({ baseURL: `http://localhost:${PORT}` });

test.beforeAll(async () => {
  // Packing (tsc), installing from npm's cache and a Vite build: minutes on a loaded two-core machine.
  test.setTimeout(600_000);
  packed = buildPackedExample();
  server = await servePackedExample(packed.distDir, PORT);
  console.log(`packed tarball: ${packed.tarball} (${packed.tarballBytes} bytes, ${packed.packedFiles.length} files); stranger's project: ${packed.projectDir}`);
});

test.afterAll(async () => {
  await server?.close();
});

test('the tarball holds the built ESM, its declarations and the README, and no sources, tests or app code', () => {
  const files = packed!.packedFiles;
  expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/worker/index.js', 'dist/worker/index.d.ts']));
  expect(files.filter((f) => !f.startsWith('dist/') && !['package.json', 'README.md'].includes(f))).toEqual([]);
  expect(files.filter((f) => /\.test\.|\/test\/|\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
  const manifest = JSON.parse(readFileSync(join(packed!.projectDir, 'node_modules/@framewise/pipeline/package.json'), 'utf8')) as Record<string, unknown>;
  expect(manifest).toMatchObject({ type: 'module', sideEffects: false, types: './dist/index.d.ts' });
  expect(Object.keys(manifest.exports as object).sort()).toEqual(['.', './package.json', './worker']);
  // Installed from the tarball (a real directory), not linked to this repository's workspace.
  expect(lstatSync(join(packed!.projectDir, 'node_modules/@framewise/pipeline')).isSymbolicLink()).toBe(false);
  expect(packed!.projectDir.startsWith(process.cwd())).toBe(false);
});

exampleTests({ build: "the example in a stranger's project, built on the packed tarball", pagePath: '/index.html', photo: (id) => `/photos/${id}.jpg` });
