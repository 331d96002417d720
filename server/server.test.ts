// The real server process on a real SQLite file, used and attacked over real sockets: as a
// stranger, as an enrolled device, as another device, as the operator.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE } from '../src/sync/protocol';
import { type SessionsPage, type SessionSummary } from '../src/sync/trainer-api';
import { startServer, type ServerProcess } from '../test/server/spawn-server';
import { api, enrol, events, eventsText, greet, Inbox, opened, outcome, rawHttp, RECORDED_AT, sendEvents, waitFor, wsOpen } from '../test/server/test-support';

const ADMIN = `admin-${process.pid}-${Math.random().toString(36).slice(2)}-Vq7Lm2Xw9Rk4Tz8Hb3Nd`;
const CODE = 'enrol-code-7d1f';
const ORIGIN = 'http://localhost:4178';
let server: ServerProcess;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fw-server-'));
  // A built site, and beside it a directory whose name starts with the site's: what a traversal would reach.
  mkdirSync(join(dir, 'site', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'site', 'index.html'), '<!doctype html><title>Framewise</title>shell');
  writeFileSync(join(dir, 'site', 'dashboard.html'), '<!doctype html><title>Framewise dashboard</title>');
  writeFileSync(join(dir, 'site', 'assets', 'app-1234.js'), 'console.log(1)');
  mkdirSync(join(dir, 'site-private'));
  writeFileSync(join(dir, 'site-private', 'secret.txt'), 'TOP-SECRET-SIBLING');
  server = await startServer({
    FRAMEWISE_ADMIN_TOKEN: ADMIN,
    FRAMEWISE_ENROLL_CODE: CODE,
    FRAMEWISE_DATA_DIR: join(dir, 'data'),
    FRAMEWISE_ORIGINS: ORIGIN,
    FRAMEWISE_PING_MS: '300',
    FRAMEWISE_STATIC: join(dir, 'site'),
    // Every test here enrols; the enrolment limit itself is tested in start.test.ts.
    FRAMEWISE_ENROLL_RATE_PER_MIN: '1000',
    // Wrong tokens and codes are tried here on purpose; the failure limits are tested in credentials.test.ts.
    FRAMEWISE_AUTH_FAILURES_PER_CLIENT: '1000',
    FRAMEWISE_AUTH_FAILURES_GLOBAL: '1000',
  });
}, 40_000);
afterAll(async () => server?.kill('SIGTERM'));

const sessions = async () => (await api<SessionsPage>(server, '/api/sessions?limit=200', ADMIN)).sessions;
const summary = async (id: string) => (await sessions()).find((s) => s.sessionId === id);
const stats = () => api<{ deadPeers: number; httpErrors: number }>(server, '/api/stats', ADMIN);

describe('a stranger, holding only what the server serves without credentials', () => {
  it('reads no session and learns no secret', async () => {
    // Something to find, stored by a real device first.
    const dev = await enrol(server, 'kitchen camera', CODE);
    const { inbox } = await greet(server, 'stranger-target', dev.token);
    expect(await sendEvents(inbox, 'stranger-target', events(1, 20))).toBe(20);
    inbox.sock.close();

    const config = await (await fetch(`${server.url}/framewise-config.json`)).text();
    expect(JSON.parse(config)).toEqual({ syncPath: '/sync', enrollPath: '/api/devices', enrollment: 'code' });
    for (const secret of [ADMIN, CODE, dev.token, dev.token.split('.')[2]!]) expect(config).not.toContain(secret);
    const shell = await (await fetch(`${server.url}/`)).text();
    expect(shell).not.toContain(ADMIN);

    const routes: [string, string][] = [
      ['GET', '/api/sessions'],
      ['GET', '/api/sessions?limit=200'],
      ['GET', '/api/sessions/stranger-target/events'],
      ['GET', '/api/devices'],
      ['DELETE', `/api/devices/${dev.deviceId}`],
      ['GET', '/api/stats'],
      ['GET', '/api/anything-else'],
      ['GET', '/%61pi/sessions'], // the router decodes this to /api/sessions
      ['GET', '/API/sessions'],
    ];
    for (const [method, path] of routes) {
      for (const authorization of [undefined, 'Bearer guess', `Bearer ${dev.token}`, `Basic ${Buffer.from(`admin:${ADMIN.slice(0, -1)}`).toString('base64')}`]) {
        const res = await fetch(`${server.url}${path}`, { method, headers: authorization ? { authorization } : {} });
        const body = await res.text();
        expect([401, 404], `${method} ${path} with ${authorization}`).toContain(res.status);
        if (path.toLowerCase().startsWith('/api/') || path.startsWith('/%61pi')) expect(res.status, `${method} ${path}`).toBe(401);
        expect(body).not.toContain('stranger-target');
      }
    }
    // The live feed: no hello, a wrong token, a device's token.
    for (const token of ['guess', dev.token, ADMIN.toUpperCase()]) {
      const live = new Inbox(wsOpen(server, '/live'));
      await opened(live.sock);
      live.send({ type: 'hello', token });
      expect((await live.closedWith()).code).toBe(CLOSE.unauthorised);
    }
  });

  it('writes no event: no enrolment without the code, no hello with a guessed or forged token', async () => {
    const dev = await enrol(server, 'owner', CODE);
    for (const body of [{ name: 'intruder' }, { name: 'intruder', code: 'guess' }, { name: 'intruder', code: CODE.slice(0, -1) }, { name: 'intruder', code: `${CODE} ` }]) {
      const res = await fetch(`${server.url}/api/devices`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(403);
    }
    const before = (await api<unknown[]>(server, '/api/devices', ADMIN)).length;
    const [, id, secret] = dev.token.split('.');
    const forged = [
      'guess',
      `fwd.${id}.${'A'.repeat(43)}`, // the real device id, a made-up secret
      `fwd.${id}.${secret!.slice(0, -1)}B`,
      `fwd.${'x'.repeat(16)}.${secret}`, // the real secret under another id
      ADMIN, // the admin credential is not a device credential
    ];
    for (const token of forged) {
      const inbox = new Inbox(wsOpen(server, '/sync'));
      await opened(inbox.sock);
      inbox.send({ type: 'hello', sessionId: 'forged-session', token });
      inbox.send({ type: 'events', sessionId: 'forged-session', events: events(1, 5) });
      expect((await inbox.closedWith()).code, token).toBe(CLOSE.unauthorised);
    }
    expect(await summary('forged-session')).toBeUndefined();
    expect(await eventsText(server, 'forged-session', ADMIN)).toBe('[]');
    expect((await api<unknown[]>(server, '/api/devices', ADMIN)).length).toBe(before);
  });
});

describe('devices', () => {
  it('enrols, lists and revokes; a revoked token is refused and its open socket is closed with 4401', async () => {
    const a = await enrol(server, 'desk camera', CODE);
    const b = await enrol(server, 'bench camera', CODE);
    expect(a.token).toMatch(/^fwd\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
    const listed = await api<{ deviceId: string; name: string; revokedAt: number | null }[]>(server, '/api/devices', ADMIN);
    expect(listed).toEqual(expect.arrayContaining([expect.objectContaining({ deviceId: a.deviceId, name: 'desk camera', revokedAt: null }), expect.objectContaining({ deviceId: b.deviceId, name: 'bench camera' })]));
    expect(JSON.stringify(listed)).not.toContain(a.token.split('.')[2]);

    const open = await greet(server, 'revoke-me-1', a.token);
    expect(await sendEvents(open.inbox, 'revoke-me-1', events(1, 4))).toBe(4);
    const res = await fetch(`${server.url}/api/devices/${a.deviceId}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { revokedAt: number | null }).revokedAt).toEqual(expect.any(Number));
    expect(await open.inbox.closedWith()).toMatchObject({ code: CLOSE.unauthorised, reason: 'device revoked' });

    const again = new Inbox(wsOpen(server, '/sync'));
    await opened(again.sock);
    again.send({ type: 'hello', sessionId: 'revoke-me-1', token: a.token });
    expect((await again.closedWith()).code).toBe(CLOSE.unauthorised);
    expect((await summary('revoke-me-1'))?.events).toBe(4);
    // The other device is untouched.
    const other = await greet(server, 'revoke-me-2', b.token);
    expect(await sendEvents(other.inbox, 'revoke-me-2', events(1, 2))).toBe(2);
    other.inbox.sock.close();
    expect((await fetch(`${server.url}/api/devices/nosuchdevice`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(404);
  });

  it('validates enrolment from the schema: a name is required, printable, at most 80 characters', async () => {
    for (const body of ['{}', '{"name":""}', '{"name":"   "}', `{"name":"${'x'.repeat(81)}"}`, '{"name":"cam\\u0000"}', '{"name":"\\ud800"}', '{"name":"a","admin":true}', '[1]', 'not json', '{"name":"a","__proto__":{"x":1}}']) {
      const res = await fetch(`${server.url}/api/devices`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status, body).toBe(400);
    }
  });

  it('answers a preflight from an allowed origin for enrolment only', async () => {
    const preflight = (path: string, origin: string) =>
      fetch(`${server.url}${path}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect((await preflight('/api/devices', ORIGIN)).headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect((await preflight('/api/devices', 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    const listing = await fetch(`${server.url}/api/sessions`, { headers: { origin: ORIGIN, authorization: `Bearer ${ADMIN}` } });
    expect(listing.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('ownership', () => {
  it("refuses another device's hello or events for a session (4403, nothing stored); the owner's same seqs are then stored and acked", async () => {
    const a = await enrol(server, 'owner A', CODE);
    const b = await enrol(server, 'other B', CODE);
    const owner = await greet(server, 'owned-by-a', a.token);
    const mine = events(1, 10);
    expect(await sendEvents(owner.inbox, 'owned-by-a', mine)).toBe(10);
    owner.inbox.sock.close();

    // B says hello for A's session.
    const hello = new Inbox(wsOpen(server, '/sync'));
    await opened(hello.sock);
    hello.send({ type: 'hello', sessionId: 'owned-by-a', token: b.token });
    hello.send({ type: 'events', sessionId: 'owned-by-a', events: events(11, 15, { ts: 1 }) });
    expect((await hello.closedWith()).code).toBe(CLOSE.forbidden);

    // B greets its own session, then writes A's next seqs into A's session on that socket.
    const sneaky = await greet(server, 'owned-by-b', b.token);
    sneaky.inbox.send({ type: 'events', sessionId: 'owned-by-a', events: events(11, 15, { ts: 1 }) });
    expect((await sneaky.inbox.closedWith()).code).toBe(CLOSE.forbidden);
    expect((await summary('owned-by-a'))?.events).toBe(10);

    // A's own 11…15 are stored and acknowledged: the old bug acked them as duplicates of B's and lost them.
    const back = await greet(server, 'owned-by-a', a.token);
    expect(back.ackedSeq).toBe(10);
    const next = events(11, 15);
    expect(await sendEvents(back.inbox, 'owned-by-a', next)).toBe(15);
    back.inbox.sock.close();
    const stored = JSON.parse(await eventsText(server, 'owned-by-a', ADMIN)) as { seq: number; ts: number; payload: unknown }[];
    expect(stored.map((e) => ({ seq: e.seq, ts: e.ts, payload: e.payload }))).toEqual([...mine, ...next].map((e) => ({ seq: e.seq, ts: e.ts, payload: e.payload })));
    expect(await summary('owned-by-a')).toMatchObject({ deviceId: a.deviceId, deviceName: 'owner A', events: 15, lastSeq: 15 });
  });

  it('greets several sessions of one device on one socket, and refuses a second device on it', async () => {
    const a = await enrol(server, 'multi', CODE);
    const b = await enrol(server, 'second', CODE);
    const { inbox } = await greet(server, 'multi-one', a.token);
    inbox.send({ type: 'hello', sessionId: 'multi-two', token: a.token });
    expect(await inbox.next()).toEqual({ type: 'welcome', sessionId: 'multi-two', ackedSeq: 0 });
    expect(await sendEvents(inbox, 'multi-one', events(1, 3))).toBe(3);
    expect(await sendEvents(inbox, 'multi-two', events(1, 5))).toBe(5);
    inbox.send({ type: 'hello', sessionId: 'multi-three', token: b.token });
    expect((await inbox.closedWith()).code).toBe(CLOSE.forbidden);
  });
});

describe('the sync socket', () => {
  it('stores events idempotently and acknowledges only the gap-free prefix', async () => {
    const dev = await enrol(server, 'idempotent', CODE);
    const evs = events(1, 10);
    const first = await greet(server, 'session-aaaa', dev.token);
    expect(await sendEvents(first.inbox, 'session-aaaa', evs)).toBe(10);
    expect(await sendEvents(first.inbox, 'session-aaaa', evs)).toBe(10); // resent: no duplicates
    first.inbox.sock.close();
    const { inbox, ackedSeq } = await greet(server, 'session-aaaa', dev.token);
    expect(ackedSeq).toBe(10);
    // A gap: 12 cannot be stored before 11.
    expect(await sendEvents(inbox, 'session-aaaa', events(12, 12))).toBe(10);
    // 11 and 12 together extend it.
    expect(await sendEvents(inbox, 'session-aaaa', events(11, 12))).toBe(12);
    inbox.sock.close();
    const stored = JSON.parse(await eventsText(server, 'session-aaaa', ADMIN)) as { seq: number }[];
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(await summary('session-aaaa')).toMatchObject({ events: 12, lastSeq: 12 });
  });

  it('keeps the summary on write: counts, first and last time, the newest state', async () => {
    const dev = await enrol(server, 'summary', CODE);
    const { inbox } = await greet(server, 'summary-1', dev.token);
    const evs = events(1, 9);
    expect(await sendEvents(inbox, 'summary-1', evs)).toBe(9);
    inbox.sock.close();
    expect(await summary('summary-1')).toEqual({
      sessionId: 'summary-1',
      deviceId: dev.deviceId,
      deviceName: 'summary',
      events: 9,
      lastSeq: 9,
      receivedTs: expect.any(Number) as number,
      firstTs: evs[0]!.ts,
      lastTs: evs[8]!.ts,
      lastState: evs.filter((e) => e.kind === 'state').at(-1)!.payload,
      // These verdicts are not the app's (no task event in them): no task, no steps; received just now, so live.
      taskId: null,
      taskKey: null,
      taskTitle: null,
      startedTs: evs[0]!.ts,
      endedTs: null,
      durationMs: evs[8]!.ts - evs[0]!.ts,
      completedTs: null,
      outcome: 'in-progress',
      stepsDone: 0,
      stepsTotal: null,
      derailments: 0,
      live: true,
    } satisfies SessionSummary);
  });

  it('closes a socket that says no hello within 5 s, and one that sends events before hello, with 4401', async () => {
    const dev = await enrol(server, 'late', CODE);
    const silent = wsOpen(server, '/sync');
    const silentEnd = outcome(silent);
    const early = new Inbox(wsOpen(server, '/sync'));
    await opened(early.sock);
    early.send({ type: 'events', sessionId: 'early-bird', events: events(1, 2) });
    expect((await early.closedWith()).code).toBe(CLOSE.unauthorised);
    // Not even a device token makes events before hello count.
    const early2 = new Inbox(wsOpen(server, '/sync'));
    await opened(early2.sock);
    early2.send({ type: 'events', sessionId: 'early-bird', events: events(1, 2), token: dev.token });
    expect((await early2.closedWith()).code).toBe(CLOSE.invalid);
    expect(await silentEnd).toMatchObject({ code: CLOSE.unauthorised, reason: 'no hello in time' });
    expect(await summary('early-bird')).toBeUndefined();
  }, 20_000);

  it('refuses an unknown Host (421) on HTTP and on the upgrade, and a foreign Origin (403) on the upgrade', async () => {
    for (const host of ['evil.example', `evil.example:${server.port}`, 'localhost:1', `127.0.0.1:${server.port}.evil.example`]) {
      const res = await rawHttp(server.port, `GET /framewise-config.json HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(res.status, host).toBe(421);
      expect(await outcome(wsOpen(server, '/sync', { host }))).toEqual({ status: 421 });
      expect(await outcome(wsOpen(server, '/live', { host }))).toEqual({ status: 421 });
    }
    expect((await rawHttp(server.port, 'GET /framewise-config.json HTTP/1.0\r\n\r\n')).status).toBe(421); // no Host at all
    expect((await rawHttp(server.port, `GET /framewise-config.json HTTP/1.1\r\nHost: LOCALHOST:${server.port}\r\nConnection: close\r\n\r\n`)).status).toBe(200);
    expect(await outcome(wsOpen(server, '/elsewhere'))).toEqual({ status: 404 });
    expect(await outcome(wsOpen(server, '/sync', { origin: 'https://evil.example' }))).toEqual({ status: 403 });
    expect(await outcome(wsOpen(server, '/live', { origin: 'https://evil.example' }))).toEqual({ status: 403 });
    // The allowed origin, and no Origin (a non-browser client), open.
    for (const origin of [ORIGIN, undefined]) {
      const sock = wsOpen(server, '/sync', { origin });
      await opened(sock);
      sock.close();
    }
  });

  it('closes an oversized message with 1009', async () => {
    const sock = wsOpen(server, '/sync');
    await opened(sock);
    const end = outcome(sock);
    sock.send('x'.repeat(300 * 1024));
    expect((await end).code).toBe(CLOSE.tooBig);
  });

  it('closes a 10 KB message nested 5,000 deep with 1007 and stays up, before and after hello', async () => {
    const dev = await enrol(server, 'deep', CODE);
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const inPayload = `{"type":"events","sessionId":"deep-session","events":[{"seq":1,"ts":1,"kind":"state","payload":${deep}}]}`;
    expect(inPayload.length).toBeGreaterThan(10_000);
    for (const raw of [deep, inPayload]) {
      const sock = wsOpen(server, '/sync');
      await opened(sock);
      const end = outcome(sock);
      sock.send(raw);
      expect((await end).code).toBe(CLOSE.invalid);
    }
    const { inbox } = await greet(server, 'deep-session', dev.token);
    inbox.send(inPayload);
    expect((await inbox.closedWith()).code).toBe(CLOSE.invalid);
    expect(server.proc.exitCode).toBeNull();
    // Still serving, and the session took nothing.
    const { inbox: again } = await greet(server, 'deep-session', dev.token);
    expect(await sendEvents(again, 'deep-session', events(1, 2))).toBe(2);
    again.sock.close();
  });

  it('rejects 1,000 malformed or random messages with 1007, and stays up with its data intact', async () => {
    const dev = await enrol(server, 'junk', CODE);
    const { inbox } = await greet(server, 'junk-target', dev.token);
    expect(await sendEvents(inbox, 'junk-target', events(1, 10))).toBe(10);
    inbox.sock.close();
    const before = await eventsText(server, 'junk-target', ADMIN);
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const junk = (i: number): string => {
      switch (i % 8) {
        case 0: return String.fromCharCode(...Array.from({ length: 1 + Math.floor(rand() * 200) }, () => Math.floor(rand() * 0xd7ff)));
        case 1: return String.fromCharCode(...Array.from({ length: 1 + Math.floor(rand() * 100) }, () => 32 + Math.floor(rand() * 90)));
        case 2: return JSON.stringify({ type: 'hello', sessionId: 'junk-target', token: dev.token, admin: true });
        case 3: return JSON.stringify({ type: 'events', sessionId: "x'; DROP TABLE fw_events; --", events: [] });
        case 4: return JSON.stringify({ type: 'hello', sessionId: 'junk-target' });
        case 5: return JSON.stringify([1, 2, 3]);
        case 6: return JSON.stringify({ type: 'hello', sessionId: 'junk-target', token: '' });
        default: return JSON.stringify({ type: 'hello', sessionId: 'junk-target', token: 7 });
      }
    };
    const codes: number[] = [];
    for (let batch = 0; batch < 1000; batch += 50) {
      const results = await Promise.all(
        Array.from({ length: 50 }, async (_, k) => {
          const sock = wsOpen(server, '/sync');
          await opened(sock);
          const end = outcome(sock);
          sock.send(junk(batch + k));
          return (await end).code!;
        }),
      );
      codes.push(...results);
    }
    expect(codes.filter((c) => c === CLOSE.invalid).length).toBe(1000);
    expect(await eventsText(server, 'junk-target', ADMIN)).toBe(before);
    expect(server.proc.exitCode).toBeNull();
  }, 90_000);

  it('closes a flood beyond the rate limit with 1008', async () => {
    const dev = await enrol(server, 'flood', CODE);
    const { inbox } = await greet(server, 'session-flood', dev.token);
    for (let i = 0; i < 1000; i++) inbox.send({ type: 'hello', sessionId: 'session-flood', token: dev.token });
    expect(await inbox.closedWith()).toMatchObject({ code: CLOSE.policy, reason: 'rate limit exceeded' });
    expect(server.proc.exitCode).toBeNull();
  });

  it('terminates a dead peer that never answers pings', async () => {
    const before = (await stats()).deadPeers;
    // A raw socket that completes the handshake and then plays dead.
    const sock = connect(server.port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`GET /sync HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    let head = '';
    await new Promise<void>((r) => {
      sock.on('data', (b) => (head += b.toString('latin1')));
      sock.on('close', () => r());
    });
    expect(head).toContain('101 Switching Protocols');
    expect((await stats()).deadPeers).toBeGreaterThan(before);
  });
});

describe('the admin API', () => {
  it('pages sessions newest first with a stable cursor', async () => {
    const dev = await enrol(server, 'pager', CODE);
    const base = RECORDED_AT - 3_600_000; // recorded an hour before the other tests' sessions, but received after them: the first page
    const ids = Array.from({ length: 7 }, (_, i) => `page-session-${i}`);
    for (const [i, id] of ids.entries()) {
      const { inbox } = await greet(server, id, dev.token);
      expect(await sendEvents(inbox, id, events(1, 2, { ts: base + i * 1000 }))).toBe(2);
      inbox.sock.close();
    }
    const page1 = await api<SessionsPage>(server, '/api/sessions?limit=3', ADMIN);
    expect(page1.sessions.map((s) => s.sessionId)).toEqual(['page-session-6', 'page-session-5', 'page-session-4']);
    // A newer session arrives between pages: it belongs before page 1, and does not shift the pages after it.
    const { inbox } = await greet(server, 'page-session-new', dev.token);
    expect(await sendEvents(inbox, 'page-session-new', events(1, 1, { ts: base + 99_000 }))).toBe(1);
    inbox.sock.close();
    const page2 = await api<SessionsPage>(server, `/api/sessions?limit=3&cursor=${page1.next}`, ADMIN);
    expect(page2.sessions.map((s) => s.sessionId)).toEqual(['page-session-3', 'page-session-2', 'page-session-1']);
    const page3 = await api<SessionsPage>(server, `/api/sessions?limit=3&cursor=${page2.next}`, ADMIN);
    expect(page3.sessions[0]!.sessionId).toBe('page-session-0');
    // Walking every page visits every session once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: SessionsPage = await api<SessionsPage>(server, `/api/sessions?limit=4${cursor ? `&cursor=${cursor}` : ''}`, ADMIN);
      seen.push(...page.sessions.map((s) => s.sessionId));
      cursor = page.next;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe((await sessions()).length);
    expect((await api<SessionsPage>(server, '/api/sessions', ADMIN)).sessions.length).toBeLessThanOrEqual(50);
    for (const q of ['limit=0', 'limit=201', 'limit=abc', 'cursor=%%%', 'cursor=bm9wZQ', 'limit=5&limit=6', 'after=1']) {
      expect((await fetch(`${server.url}/api/sessions?${q}`, { headers: { authorization: `Bearer ${ADMIN}` } })).status, q).toBe(400);
    }
    for (const q of ['after=abc', 'after=-1', 'limit=5001', 'limit=0']) {
      expect((await fetch(`${server.url}/api/sessions/page-session-1/events?${q}`, { headers: { authorization: `Bearer ${ADMIN}` } })).status, q).toBe(400);
    }
    const later = JSON.parse(await (await fetch(`${server.url}/api/sessions/page-session-1/events?after=1&limit=5`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()) as { seq: number }[];
    expect(later.map((e) => e.seq)).toEqual([2]);
  });
});

describe('the live feed', () => {
  it('needs the admin hello, then sends the first page and the sessions that change', async () => {
    const dev = await enrol(server, 'live', CODE);
    const live = new Inbox(wsOpen(server, '/live', { origin: ORIGIN }));
    await opened(live.sock);
    live.send({ type: 'hello', token: ADMIN });
    const first = (await live.next()) as { type: string; sessions: SessionSummary[] };
    expect(first.type).toBe('sessions');
    expect(first.sessions.length).toBeGreaterThan(0);
    const { inbox } = await greet(server, 'live-watched', dev.token);
    expect(await sendEvents(inbox, 'live-watched', events(1, 6))).toBe(6);
    const update = await live.until((m) => (m.sessions as SessionSummary[]).find((s) => s.sessionId === 'live-watched' && s.events === 6));
    expect(update).toMatchObject({ deviceName: 'live', lastSeq: 6 });
    live.sock.close();
    inbox.sock.close();
  });

  it('closes a live socket without a hello in 5 s (4401), and pings: one that never answers is terminated', async () => {
    const silent = wsOpen(server, '/live');
    const silentEnd = outcome(silent);
    const deaf = new Inbox(wsOpen(server, '/live', { autoPong: false }));
    let pings = 0;
    deaf.sock.on('ping', () => pings++);
    await opened(deaf.sock);
    deaf.send({ type: 'hello', token: ADMIN });
    expect((await deaf.next()).type).toBe('sessions');
    expect((await deaf.closedWith()).code).toBe(1006); // terminated, no close frame
    expect(pings).toBeGreaterThan(0);
    expect(await silentEnd).toMatchObject({ code: CLOSE.unauthorised });
  }, 20_000);
});

describe('static files', () => {
  it('serves the app with isolation headers, the dashboard, and the shell for unknown paths', async () => {
    for (const [path, text] of [['/', 'shell'], ['/dashboard', 'Framewise dashboard'], ['/settings/deep/link', 'shell'], ['/assets/app-1234.js', 'console.log']] as const) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(await res.text(), path).toContain(text);
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    }
    expect((await fetch(`${server.url}/assets/app-1234.js`)).headers.get('cache-control')).toContain('immutable');
    for (const path of ['/api/sessions', '/nope%ZZ']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.headers.get('cross-origin-embedder-policy'), path).toBe('require-corp');
    }
  });

  it('never serves a sibling directory (/..%2fsite-private/…), and answers a bad %-escape with 400', async () => {
    const attempts = [
      '/..%2fsite-private/secret.txt',
      '/..%2Fsite-private/secret.txt',
      '/%2e%2e%2fsite-private/secret.txt',
      '/%2e%2e/site-private/secret.txt',
      '/../site-private/secret.txt',
      '/assets/..%2f..%2fsite-private/secret.txt',
      '/..%5csite-private/secret.txt',
      '/.%2e/site-private/secret.txt',
    ];
    for (const path of attempts) {
      const res = await rawHttp(server.port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);
      expect(res.body, path).not.toContain('TOP-SECRET-SIBLING');
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
    }
    // Encoded twice, it names a file called "%2e%2e%2f…" inside the site: there is none, so the app's shell.
    const twice = await rawHttp(server.port, `GET /%252e%252e%252fsite-private/secret.txt HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);
    expect(twice.body).not.toContain('TOP-SECRET-SIBLING');
    for (const path of ['/%', '/%E0%A4%A', '/assets/%zz.js', '/api/sessions/%/events']) {
      const res = await rawHttp(server.port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);
      expect([400, 401, 404], path).toContain(res.status);
    }
    expect((await stats()).httpErrors).toBe(0);
    expect(server.proc.exitCode).toBeNull();
  });
});
