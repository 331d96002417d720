// Each plugin on its own: a bare Fastify with only the plugins a concern needs, and a fresh
// context, so that a plugin's behaviour (and its counters and log lines) is tested where it lives.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../sqlite-store';
import type { AppOptions } from '../app-types';
import adminApi from './admin-api';
import { newServerContext, type ServerContext } from './context';
import enrolment from './enrolment';
import requestGuard from './request-guard';

const ADMIN = 'plugin-test-admin-token-0123456789abcdef';
let open: { app: FastifyInstance; store: SqliteStore }[] = [];

async function bare(plugins: ((app: FastifyInstance, ctx: ServerContext) => Promise<void>)[], opts: Partial<AppOptions> = {}) {
  const store = await SqliteStore.open(':memory:');
  const lines: string[] = [];
  const ctx = newServerContext({ store, adminToken: ADMIN, hosts: ['plugins.test'], origins: [], log: (l) => lines.push(l), ...opts });
  const app = Fastify({ logger: false });
  for (const p of plugins) await app.register(p, ctx);
  app.get('/boom', async () => {
    throw new Error('a bug of ours, with a secret path /srv/data in it');
  });
  app.get('/fine', async () => ({ ok: true }));
  await app.ready();
  open.push({ app, store });
  return { app, ctx, store, lines };
}

afterEach(async () => {
  for (const { app, store } of open) {
    await app.close();
    await store.close();
  }
  open = [];
});

describe('request guard', () => {
  it('answers only for its hosts (421 otherwise, counted), sends the isolation headers, and turns an internal error into a bare 500 that is logged with its request id', async () => {
    const { app, ctx, lines } = await bare([requestGuard]);
    const stranger = await app.inject({ url: '/fine', headers: { host: 'rebound.example' } });
    expect(stranger.statusCode).toBe(421);
    expect(ctx.stats.refusedHosts).toBe(1);
    const fine = await app.inject({ url: '/fine', headers: { host: 'plugins.test' } });
    expect(fine.statusCode).toBe(200);
    expect(fine.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(fine.headers['x-content-type-options']).toBe('nosniff');
    const boom = await app.inject({ url: '/boom', headers: { host: 'plugins.test' } });
    expect(boom.statusCode).toBe(500);
    expect(boom.json()).toEqual({ error: 'internal error' });
    expect(ctx.stats.httpErrors).toBe(1);
    const logged = lines.find((l) => l.startsWith('error: request failed'));
    expect(logged).toContain('"url":"/boom"');
    expect(logged).toMatch(/"reqId":"req-[0-9a-z]+"/);
  });
});

describe('enrolment', () => {
  it('enrols a device into the store, validates the name by the protocol schema, and with a code set refuses a wrong one', async () => {
    const open = await bare([requestGuard, enrolment]);
    const res = await open.app.inject({ method: 'POST', url: '/api/devices', headers: { host: 'plugins.test', 'content-type': 'application/json' }, payload: { name: '  Bench 4  ' } });
    expect(res.statusCode).toBe(201);
    const { deviceId, token } = res.json() as { deviceId: string; token: string };
    expect(token.length).toBeGreaterThan(30);
    expect((await open.store.devices()).map((d) => [d.deviceId, d.name])).toEqual([[deviceId, 'Bench 4']]);
    expect(open.ctx.stats.enrolled).toBe(1);
    expect(open.lines.some((l) => l.startsWith('info: device enrolled') && l.includes(deviceId))).toBe(true);
    const bad = await open.app.inject({ method: 'POST', url: '/api/devices', headers: { host: 'plugins.test', 'content-type': 'application/json' }, payload: { name: 'tab\there' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: 'name: name must be printable text' });

    const coded = await bare([requestGuard, enrolment], { enrollCode: 'operator-code-7731' });
    const wrong = await coded.app.inject({ method: 'POST', url: '/api/devices', headers: { host: 'plugins.test', 'content-type': 'application/json' }, payload: { name: 'Bench 5', code: 'operator-code-7732' } });
    expect(wrong.statusCode).toBe(403);
    expect(await coded.store.devices()).toEqual([]);
  });
});

describe('admin API', () => {
  it('answers nothing without the admin Bearer, lists devices with it, and a revocation is stored and logged', async () => {
    const { app, store, lines } = await bare([requestGuard, adminApi]);
    await store.createDevice({ deviceId: 'dev-plugin-1', name: 'Bench 6', secretHash: 'x'.repeat(64), createdAt: 1_790_000_000_000, revokedAt: null });
    expect((await app.inject({ url: '/api/devices', headers: { host: 'plugins.test' } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/devices', headers: { host: 'plugins.test', authorization: `Bearer ${ADMIN}x` } })).statusCode).toBe(401);
    const list = await app.inject({ url: '/api/devices', headers: { host: 'plugins.test', authorization: `Bearer ${ADMIN}` } });
    expect(list.json()).toMatchObject([{ deviceId: 'dev-plugin-1', name: 'Bench 6', revokedAt: null }]);
    const revoked = await app.inject({ method: 'DELETE', url: '/api/devices/dev-plugin-1', headers: { host: 'plugins.test', authorization: `Bearer ${ADMIN}` } });
    expect(revoked.statusCode).toBe(200);
    expect((await store.devices())[0]!.revokedAt).toEqual(expect.any(Number));
    expect(lines.some((l) => l.startsWith('info: device revoked') && l.includes('dev-plugin-1'))).toBe(true);
  });
});
