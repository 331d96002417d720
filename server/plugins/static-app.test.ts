// The built PWA on its own (server/plugins/static-app.ts), behind the request guard it depends on
// (which sets the isolation headers): a built site in a temporary folder, with a secret beside it
// and one inside it that must never be served, fetched over real HTTP, by fetch and by hand-made
// requests for what fetch would normalise away.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, bareServer, closeAll, type BareServer } from '../../test/server/plugin-harness';
import { rawHttp } from '../../test/server/test-support';
import requestGuard from './request-guard';
import staticApp from './static-app';

afterEach(closeAll);

const SHELL = '<!doctype html><title>Framewise</title><div id="app">shell</div>';
const DASHBOARD = '<!doctype html><title>Framewise dashboard</title>';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fw-static-plugin-'));
  const site = join(dir, 'site');
  // What `vite build` writes: the shell, the dashboard page, hashed assets, the service worker, the manifest, icons, models.
  mkdirSync(join(site, 'assets'), { recursive: true });
  mkdirSync(join(site, 'icons'));
  mkdirSync(join(site, 'models'));
  writeFileSync(join(site, 'index.html'), SHELL);
  writeFileSync(join(site, 'dashboard.html'), DASHBOARD);
  writeFileSync(join(site, 'assets', 'index-B7x9Qe2a.js'), 'import "./worker-Cf3.js";');
  writeFileSync(join(site, 'assets', 'index-D0e1f2A3.css'), 'body{margin:0}');
  writeFileSync(join(site, 'assets', 'ort-wasm-simd-threaded.jsep-Bq1.wasm'), Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
  writeFileSync(join(site, 'sw.js'), 'self.addEventListener("fetch", () => {});');
  writeFileSync(join(site, 'manifest.webmanifest'), JSON.stringify({ name: 'Framewise', start_url: '.' }));
  writeFileSync(join(site, 'icons', 'icon-192.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  writeFileSync(join(site, 'icons', 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(site, 'models', 'yolox_nano.onnx'), Buffer.alloc(64, 7));
  // Secrets: a dotfile inside the site, and a folder beside it whose name starts with the site's.
  writeFileSync(join(site, '.env'), 'FRAMEWISE_ADMIN_TOKEN=TOP-SECRET-DOTFILE');
  mkdirSync(join(site, '.git'));
  writeFileSync(join(site, '.git', 'config'), 'TOP-SECRET-GIT');
  mkdirSync(join(dir, 'site-private'));
  writeFileSync(join(dir, 'site-private', 'secret.txt'), 'TOP-SECRET-SIBLING');
  writeFileSync(join(dir, 'admin-token'), 'TOP-SECRET-PARENT');
});

// These tests send many wrong credentials on purpose, to see which paths answer 401: the limit on
// failed authentication (credentials.test.ts) is set out of their way.
const MANY_FAILURES = { perClient: 10_000, global: 10_000, windowMs: 60_000 };
const built = () => bareServer([requestGuard, staticApp], { staticDir: join(dir, 'site'), authFailureLimits: MANY_FAILURES });
const get = (server: BareServer, path: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, init);
const raw = (server: BareServer, method: string, path: string) => rawHttp(server.port, `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);

function expectIsolated(res: Response, what: string) {
  expect(res.headers.get('cross-origin-opener-policy'), what).toBe('same-origin');
  expect(res.headers.get('cross-origin-embedder-policy'), what).toBe('require-corp');
  expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
}

describe('the built app', { timeout: 30_000 }, () => {
  it('serves each file of the build with its content type and the isolation headers; hashed assets are immutable, everything else revalidated', async () => {
    const server = await built();
    const files: [string, RegExp, string][] = [
      ['/', /^text\/html; charset=utf-8$/, 'no-cache'],
      ['/index.html', /^text\/html; charset=utf-8$/, 'no-cache'],
      ['/assets/index-B7x9Qe2a.js', /^(text|application)\/javascript; charset=utf-8$/, 'public, max-age=31536000, immutable'],
      ['/assets/index-D0e1f2A3.css', /^text\/css; charset=utf-8$/, 'public, max-age=31536000, immutable'],
      // WebAssembly.instantiateStreaming refuses any other type.
      ['/assets/ort-wasm-simd-threaded.jsep-Bq1.wasm', /^application\/wasm$/, 'public, max-age=31536000, immutable'],
      ['/sw.js', /^(text|application)\/javascript; charset=utf-8$/, 'no-cache'],
      ['/manifest.webmanifest', /^application\/manifest\+json/, 'no-cache'],
      ['/icons/icon-192.png', /^image\/png$/, 'no-cache'],
      ['/icons/icon.svg', /^image\/svg\+xml/, 'no-cache'],
      ['/models/yolox_nano.onnx', /^application\/octet-stream$/, 'no-cache'],
    ];
    for (const [path, type, cache] of files) {
      const res = await get(server, path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(type);
      expect(res.headers.get('cache-control'), path).toBe(cache);
      expectIsolated(res, path);
      await res.arrayBuffer();
    }
    expect(await (await get(server, '/')).text()).toBe(SHELL);
    expect(new Uint8Array(await (await get(server, '/assets/ort-wasm-simd-threaded.jsep-Bq1.wasm')).arrayBuffer())).toEqual(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    // What a later build writes into the folder is served without a restart.
    writeFileSync(join(dir, 'site', 'assets', 'index-Later123.js'), 'export const later = 1;');
    const later = await get(server, '/assets/index-Later123.js');
    expect([later.status, await later.text()]).toEqual([200, 'export const later = 1;']);
  });

  it('serves the dashboard page at /dashboard and /dashboard/, revalidated and isolated', async () => {
    const server = await built();
    for (const path of ['/dashboard', '/dashboard/']) {
      const res = await get(server, path);
      expect([res.status, await res.text()], path).toEqual([200, DASHBOARD]);
      expect(res.headers.get('content-type'), path).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control'), path).toBe('no-cache');
      expectIsolated(res, path);
    }
  });

  it("answers the app's own routes (GET and HEAD) with its shell, and any other method with 404", async () => {
    const server = await built();
    for (const path of ['/settings', '/session/fruit-bowl-2026-01-01/replay', '/tasks/desk-setup?step=2', '/apiary', '/lively', '/synced', '/%E4%BC%9A%E8%A9%B1']) {
      const res = await get(server, path);
      expect([res.status, await res.text()], path).toEqual([200, SHELL]);
      expect(res.headers.get('content-type'), path).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control'), path).toBe('no-cache');
      expectIsolated(res, path);
    }
    const head = await get(server, '/settings', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/^text\/html/);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await get(server, '/settings', { method, headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.status, method).toBe(404);
      expect(await res.json(), method).toEqual({ error: 'not found' });
      expectIsolated(res, method);
    }
  });

  it('never answers an API or socket path with the shell: 401 with a Bearer challenge to a stranger, 404 to the admin', async () => {
    const server = await built();
    const paths = ['/api', '/api/', '/api/sessions', '/api/nothing/here?limit=5', '/API/devices', '/Api/stats', '/sync/x', '/live/', '/SYNC', '/%61pi/devices'];
    for (const path of paths) {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const stranger = await get(server, path, { method });
        expect(stranger.status, `${method} ${path}`).toBe(401);
        expect(stranger.headers.get('www-authenticate'), path).toBe('Bearer');
        expect(stranger.headers.get('cache-control'), path).toBe('no-store');
        expectIsolated(stranger, path);
        expect(await stranger.text(), path).not.toContain('shell');
        for (const authorization of [`Bearer ${ADMIN.slice(0, -1)}`, `Basic ${Buffer.from(`admin:${ADMIN}`).toString('base64')}`, ADMIN]) {
          expect((await get(server, path, { method, headers: { authorization } })).status, `${method} ${path} ${authorization}`).toBe(401);
        }
        const admin = await get(server, path, { method, headers: { authorization: `Bearer ${ADMIN}` } });
        expect(admin.status, `${method} ${path} as admin`).toBe(404);
        expect(((await admin.json()) as { error: string }).error).toMatch(new RegExp(`^no such API: ${method} /`));
      }
    }
  });

  it('serves nothing outside the site and no dotfile, however the path is spelled', async () => {
    const server = await built();
    const attempts = [
      '/../site-private/secret.txt',
      '/..%2fsite-private/secret.txt',
      '/..%2Fsite-private/secret.txt',
      '/%2e%2e%2fsite-private/secret.txt',
      '/%2e%2e/site-private/secret.txt',
      '/.%2e/site-private/secret.txt',
      '/assets/..%2f..%2fsite-private/secret.txt',
      '/assets/%2e%2e/%2e%2e/admin-token',
      '/..%5csite-private%5csecret.txt',
      '/..\\site-private\\secret.txt',
      '/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/....//....//admin-token',
      '/%252e%252e%252fsite-private/secret.txt',
      '/.env',
      '/%2eenv',
      '/.git/config',
      '/assets/../.env',
      '/icons/%2e%2e/.env',
    ];
    for (const path of attempts) {
      for (const method of ['GET', 'HEAD']) {
        const res = await raw(server, method, path);
        expect(res.body, `${method} ${path}`).not.toMatch(/TOP-SECRET|root:/);
        expect(res.head, `${method} ${path}`).toMatch(/cross-origin-embedder-policy: require-corp/i);
        // Refused; only the path encoded twice names a file inside the site ("%2e%2e%2f…"), which is missing, so the app's shell.
        if (path.includes('%25')) expect([res.status, res.body], path).toEqual([200, method === 'GET' ? SHELL : '']);
        else expect([403, 404], `${method} ${path}`).toContain(res.status);
      }
    }
    expect(server.ctx.stats.httpErrors).toBe(0);
  });
});

describe('an app that was not built', { timeout: 30_000 }, () => {
  it('answers a page with 404 and how to build it, and an API path still with 401', async () => {
    const server = await bareServer([requestGuard, staticApp], { staticDir: join(dir, 'not-built-yet') });
    for (const path of ['/', '/index.html', '/dashboard', '/settings']) {
      const res = await get(server, path);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: string }).error, path).toBe(`not built: run npm run build (no ${join(dir, 'not-built-yet')})`);
      expectIsolated(res, path);
    }
    expect((await get(server, '/api/sessions')).status).toBe(401);
    expect((await get(server, '/api/sessions', { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(404);
  });
});
