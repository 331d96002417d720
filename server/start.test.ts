// How the server starts: where the admin credential comes from, what it prints, what stops it.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startExpectingFailure, startServer, type ServerProcess } from '../test/server/spawn-server';
import { waitFor } from '../test/server/test-support';

const fresh = () => mkdtempSync(join(tmpdir(), 'fw-start-'));
/** An admin token strong enough to be accepted at start (32+ characters, not a pattern). */
const strong = (label: string) => `${label}-Wm4Qz8Rx2Kv7Tn5Lb9Hc3Jd6Fp1Sg0Y`;
const adminWorks = async (server: ServerProcess, token: string) => (await fetch(`${server.url}/api/sessions`, { headers: { authorization: `Bearer ${token}` } })).status;

describe('the admin credential', () => {
  it('is generated on first start, kept in the data directory with mode 0600, printed once with the dashboard link', async () => {
    const dir = fresh();
    const env = { FRAMEWISE_DATA_DIR: join(dir, 'data'), FRAMEWISE_STATIC: join(dir, 'none') };
    const first = await startServer(env);
    const file = join(dir, 'data', 'admin-token');
    let token: string;
    try {
      token = readFileSync(file, 'utf8').trim();
      expect(token.length).toBeGreaterThanOrEqual(40);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      // The start line comes first; the token follows it.
      const printed = await waitFor('the token line', () => first.output.some((l) => l.includes(token)) && first.output.filter((l) => l.includes(token)));
      expect(printed).toHaveLength(1);
      expect(first.output[0]).toMatch(/^framewise: app on /);
      expect(first.output.join('\n')).toContain(`${first.url}/dashboard`);
      expect(first.output.join('\n')).not.toMatch(/dashboard\?token=/);
      expect(await adminWorks(first, token)).toBe(200);
      expect(await adminWorks(first, `${token}x`)).toBe(401);
    } finally {
      await first.kill('SIGTERM');
    }
    const second = await startServer(env);
    try {
      expect(await adminWorks(second, token)).toBe(200);
      expect(readFileSync(file, 'utf8').trim()).toBe(token);
    } finally {
      await second.kill('SIGTERM');
    }
    // Everything it printed, to the end.
    expect(second.output.join('\n')).not.toContain(token);
    expect(second.output.join('\n')).not.toContain('admin token (generated');
  }, 60_000);

  it('is FRAMEWISE_ADMIN_TOKEN when set: nothing generated, nothing printed', async () => {
    const dir = fresh();
    const token = strong(`env-admin-${Math.random().toString(36).slice(2)}`);
    const server = await startServer({ FRAMEWISE_ADMIN_TOKEN: token, FRAMEWISE_DATA_DIR: join(dir, 'data'), FRAMEWISE_STATIC: join(dir, 'none') });
    try {
      expect(existsSync(join(dir, 'data', 'admin-token'))).toBe(false);
      expect(await adminWorks(server, token)).toBe(200);
      expect(await adminWorks(server, token.slice(1))).toBe(401);
    } finally {
      await server.kill('SIGTERM');
    }
    expect(server.output.join('\n')).not.toContain(token);
  }, 30_000);

  it('refuses to start with an empty FRAMEWISE_ADMIN_TOKEN, or with the old FRAMEWISE_TOKEN, saying why (exit code 1)', async () => {
    const dir = fresh();
    const empty = await startExpectingFailure({ FRAMEWISE_ADMIN_TOKEN: '', FRAMEWISE_DATA_DIR: join(dir, 'data') });
    expect(empty.code).toBe(1);
    expect(empty.output).toMatch(/FRAMEWISE_ADMIN_TOKEN is set but empty/);
    expect(empty.output).not.toMatch(/framewise: app on/);
    const old = await startExpectingFailure({ FRAMEWISE_TOKEN: 'framewise-dev-token', FRAMEWISE_DATA_DIR: join(dir, 'data') });
    expect(old.code).toBe(1);
    expect(old.output).toMatch(/FRAMEWISE_TOKEN is no longer used: it was replaced by FRAMEWISE_ADMIN_TOKEN/);
    const alsoOld = await startExpectingFailure({ FRAMEWISE_TOKEN: 'x', FRAMEWISE_ADMIN_TOKEN: strong('a-good-admin-token'), FRAMEWISE_DATA_DIR: join(dir, 'data') });
    expect(alsoOld.code).toBe(1);
    const badNumber = await startExpectingFailure({ FRAMEWISE_ADMIN_TOKEN: strong('a-good-admin-token'), FRAMEWISE_MAX_CONNECTIONS: 'lots', FRAMEWISE_DATA_DIR: join(dir, 'data') });
    expect(badNumber.code).toBe(1);
    expect(badNumber.output).toMatch(/FRAMEWISE_MAX_CONNECTIONS must be a whole number/);
    expect(existsSync(join(dir, 'data', 'admin-token'))).toBe(false);
  }, 60_000);

  it('refuses an admin token or an enrolment code that is easy to guess, saying why (exit code 1)', async () => {
    const dir = fresh();
    const data = join(dir, 'data');
    const refusals: [Record<string, string>, RegExp][] = [
      [{ FRAMEWISE_ADMIN_TOKEN: 'a' }, /FRAMEWISE_ADMIN_TOKEN is too easy to guess: it is 1 character long; it must be at least 32/],
      [{ FRAMEWISE_ADMIN_TOKEN: 'correct-horse-battery-st' }, /FRAMEWISE_ADMIN_TOKEN is too easy to guess: it is 24 characters long; it must be at least 32/],
      [{ FRAMEWISE_ADMIN_TOKEN: 'x'.repeat(48) }, /FRAMEWISE_ADMIN_TOKEN is too easy to guess: it has only 1 different characters; it needs at least 8/],
      [{ FRAMEWISE_ADMIN_TOKEN: 'admin-2024!'.repeat(4) }, /FRAMEWISE_ADMIN_TOKEN is too easy to guess: it repeats "admin-20…"/],
      [{ FRAMEWISE_ADMIN_TOKEN: 'abcdefghijklmnopqrstuvwxyz0123456789' }, /FRAMEWISE_ADMIN_TOKEN is too easy to guess: it is mostly runs or sequences/],
      [{ FRAMEWISE_ADMIN_TOKEN: strong('ok'), FRAMEWISE_ENROLL_CODE: '4412' }, /FRAMEWISE_ENROLL_CODE is too easy to guess: it is 4 characters long; it must be at least 12/],
      [{ FRAMEWISE_ADMIN_TOKEN: strong('ok'), FRAMEWISE_ENROLL_CODE: '123456789012' }, /FRAMEWISE_ENROLL_CODE is too easy to guess: it is mostly runs or sequences/],
    ];
    for (const [env, reason] of refusals) {
      const refused = await startExpectingFailure({ ...env, FRAMEWISE_DATA_DIR: data });
      expect(refused.code, JSON.stringify(env)).toBe(1);
      expect(refused.output).toMatch(reason);
      expect(refused.output).toMatch(/, or unset it (to have one generated|for open enrolment)/);
      expect(refused.output).not.toMatch(/framewise: app on/);
    }
    // A short token kept in the data directory (written by hand) is refused too, rather than served.
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'admin-token'), 'letmein\n', { mode: 0o600 });
    const kept = await startExpectingFailure({ FRAMEWISE_DATA_DIR: data });
    expect(kept.code).toBe(1);
    expect(kept.output).toMatch(/the admin token in .*admin-token is too easy to guess: it is 7 characters long/);
  }, 60_000);
});

describe('enrolment', () => {
  it('is open without FRAMEWISE_ENROLL_CODE, and the start line says so', async () => {
    const dir = fresh();
    const server = await startServer({ FRAMEWISE_ADMIN_TOKEN: strong('open-enrolment'), FRAMEWISE_DATA_DIR: join(dir, 'data'), FRAMEWISE_STATIC: join(dir, 'none') });
    try {
      expect(server.output[0]).toMatch(/^framewise: app on http:\/\/127\.0\.0\.1:\d+\/ .*enrolment OPEN: anyone who can reach this server can enrol devices \(20 a minute per address\) and store sessions as them, but read nothing back/);
      expect(await (await fetch(`${server.url}/framewise-config.json`)).json()).toMatchObject({ enrollment: 'open' });
      const res = await fetch(`${server.url}/api/devices`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'trial' }) });
      expect(res.status).toBe(201);
    } finally {
      await server.kill('SIGTERM');
    }
  }, 30_000);

  it('needs the code when FRAMEWISE_ENROLL_CODE is set, and is rate-limited per address (429)', async () => {
    const dir = fresh();
    const server = await startServer({
      FRAMEWISE_ADMIN_TOKEN: strong('coded-enrolment'),
      FRAMEWISE_ENROLL_CODE: 'the-code-for-cams',
      FRAMEWISE_ENROLL_RATE_PER_MIN: '5',
      FRAMEWISE_DATA_DIR: join(dir, 'data'),
      FRAMEWISE_STATIC: join(dir, 'none'),
    });
    try {
      expect(server.output[0]).toMatch(/enrolment needs FRAMEWISE_ENROLL_CODE/);
      expect(server.output.join('\n')).not.toContain('the-code-for-cams');
      const post = (body: unknown) => fetch(`${server.url}/api/devices`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.status);
      const statuses = [];
      for (let i = 0; i < 8; i++) statuses.push(await post(i % 2 ? { name: `cam ${i}`, code: 'guess' } : { name: `cam ${i}`, code: 'the-code-for-cams' }));
      // Guesses count against the limit too: 5 answers, then 429.
      expect(statuses).toEqual([201, 403, 201, 403, 201, 429, 429, 429]);
      // Without FRAMEWISE_TRUST_PROXY a forwarded address is not believed: still the same client.
      const forged = await fetch(`${server.url}/api/devices`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' }, body: JSON.stringify({ name: 'x', code: 'the-code-for-cams' }) });
      expect(forged.status).toBe(429);
    } finally {
      await server.kill('SIGTERM');
    }
  }, 30_000);

  it('behind a trusted proxy, limits each forwarded client on its own', async () => {
    const dir = fresh();
    const server = await startServer({
      FRAMEWISE_ADMIN_TOKEN: strong('proxied'),
      FRAMEWISE_ENROLL_RATE_PER_MIN: '2',
      FRAMEWISE_TRUST_PROXY: '127.0.0.1',
      FRAMEWISE_DATA_DIR: join(dir, 'data'),
      FRAMEWISE_STATIC: join(dir, 'none'),
    });
    try {
      const post = (client: string) => fetch(`${server.url}/api/devices`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': client }, body: JSON.stringify({ name: 'proxied' }) }).then((r) => r.status);
      const a = [await post('198.51.100.1'), await post('198.51.100.1'), await post('198.51.100.1')];
      const b = [await post('198.51.100.2'), await post('198.51.100.2'), await post('198.51.100.2')];
      expect({ a, b }).toEqual({ a: [201, 201, 429], b: [201, 201, 429] });
    } finally {
      await server.kill('SIGTERM');
    }
    const refused = await startExpectingFailure({ FRAMEWISE_ADMIN_TOKEN: strong('x-admin'), FRAMEWISE_TRUST_PROXY: '*', FRAMEWISE_DATA_DIR: join(dir, 'data') });
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/FRAMEWISE_TRUST_PROXY must list the proxies/);
  }, 30_000);
});

describe('the log', () => {
  it('is JSON lines on stderr through Fastify\'s pino logger, with levels and request ids, after the start line; a bad level stops the start', async () => {
    const dir = fresh();
    const server = await startServer({ FRAMEWISE_ADMIN_TOKEN: 'log-test-admin-token-long-enough-0123', FRAMEWISE_DATA_DIR: join(dir, 'data'), FRAMEWISE_STATIC: join(dir, 'none') });
    try {
      const res = await fetch(`${server.url}/api/devices`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Log bench' }) });
      expect(res.status).toBe(201);
      const { deviceId } = (await res.json()) as { deviceId: string };
      const parsed = () => server.output.flatMap((l) => (l.startsWith('{') ? [JSON.parse(l) as Record<string, unknown>] : []));
      const enrolled = await waitFor('the enrolment log line', () => parsed().find((e) => e.msg === 'device enrolled'));
      expect(enrolled).toMatchObject({ level: 30, service: 'framewise', deviceId, name: 'Log bench' });
      expect(enrolled.reqId).toEqual(expect.any(String));
      expect(enrolled.time).toEqual(expect.any(Number));
      expect(server.output[0]).toMatch(/^framewise: app on /);
    } finally {
      await server.kill('SIGTERM');
    }
    const bad = await startExpectingFailure({ FRAMEWISE_LOG_LEVEL: 'chatty', FRAMEWISE_DATA_DIR: join(dir, 'data2'), FRAMEWISE_STATIC: join(dir, 'none') });
    expect(bad.output).toMatch(/FRAMEWISE_LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "chatty"/);
  }, 60_000);
});
