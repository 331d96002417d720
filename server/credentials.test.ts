// Online guessing of the admin token and the enrolment code, against the real app over HTTP
// (Fastify's inject, each request from its own client address) and over real sockets: wrong
// credentials are counted per client and server-wide whatever the route, and past the limits
// the next attempt is answered 429 with Retry-After without being compared, the right
// credential included.
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { appHarness, ENROL_CODE as CODE, guessToken as guess, LOW_AUTH_LIMITS as LIMITS } from '../test/server/app-harness';
import { events, Inbox, opened, outcome } from '../test/server/test-support';

const ADMIN = 'fwa.credentials-test-Wm4Qz8Rx2Kv7Tn5Lb9Hc3Jd6Fp1Sg0Y';
const { start, asAdmin, enrolFrom } = appHarness(ADMIN);
afterEach(() => {
  vi.useRealTimers();
});

describe('wrong admin tokens over HTTP', () => {
  it('are counted per client on every admin route alike; past the limit the client gets 429 with Retry-After, right token or not, until the window has passed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const app = await start();
    const attacker = '127.0.0.2';
    // One guess on each kind of admin path: a list, a revocation, the metrics, an API path nothing routes.
    const routes: [string, 'GET' | 'DELETE'][] = [['/api/sessions?limit=50', 'GET'], ['/api/devices/AbCdEfGhIjKlMnOp', 'DELETE'], ['/metrics', 'GET']];
    for (const [i, [url, method]] of routes.entries()) expect((await asAdmin(app, attacker, guess(i), url, method)).statusCode).toBe(401);
    const refused = await asAdmin(app, attacker, guess(3), '/api/no-such-thing');
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(refused.json()).toEqual({ error: expect.stringMatching(/^too many wrong admin tokens from this address; retry in \d+ s$/) });
    // Not compared: the right token from that client is refused the same way.
    expect((await asAdmin(app, attacker, ADMIN)).statusCode).toBe(429);
    // Asking without a credential is no guess: still the plain 401.
    expect((await asAdmin(app, attacker, undefined)).statusCode).toBe(401);
    // Another client is not affected.
    expect((await asAdmin(app, '127.0.0.3', ADMIN)).statusCode).toBe(200);
    expect((await asAdmin(app, '127.0.0.3', guess(4))).statusCode).toBe(401);

    vi.setSystemTime(Date.now() + LIMITS.windowMs + 1000);
    expect((await asAdmin(app, attacker, ADMIN)).statusCode).toBe(200);
    expect((await asAdmin(app, attacker, guess(5))).statusCode).toBe(401);
  });

  it('are counted server-wide: an attacker changing address (each one a new client behind the trusted proxy) is stopped after the global limit, while the operator who signed in before keeps working', async () => {
    const app = await start({ trustProxy: ['127.0.0.1'] });
    const from = (client: string, token: string) => app.fastify.inject({ url: '/api/sessions', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': client, authorization: `Bearer ${token}` } });
    // The operator, at their desk, before the attack.
    expect((await from('198.51.100.7', ADMIN)).statusCode).toBe(200);
    const statuses: number[] = [];
    for (let n = 0; n < 20; n++) statuses.push((await from(`203.0.113.${10 + n}`, guess(n))).statusCode);
    // 8 compared server-wide (one per address, so never the per-client limit), then nothing is compared.
    expect(statuses).toEqual([...Array(8).fill(401), ...Array(12).fill(429)]);
    const fresh = await from('203.0.113.200', ADMIN);
    expect(fresh.statusCode).toBe(429);
    expect(fresh.json()).toEqual({ error: expect.stringMatching(/^too many wrong admin tokens sent to this server lately; retry in \d+ s$/) });
    expect((await from('198.51.100.7', ADMIN)).statusCode).toBe(200);
    // The operator's address is spared the server-wide limit, not its own.
    for (let n = 0; n < 3; n++) expect((await from('198.51.100.7', guess(100 + n))).statusCode).toBe(401);
    expect((await from('198.51.100.7', ADMIN)).statusCode).toBe(429);
  });
});

describe('wrong admin tokens on the live feed', () => {
  it('count with the HTTP ones: past the limit the hello is not compared and the socket closes with 1008 and when to retry', async () => {
    const app = await start();
    const { port } = await app.listen(0, '127.0.0.1');
    const hello = async (token: string) => {
      const sock = new WebSocket(`ws://127.0.0.1:${port}/live`, { localAddress: '127.0.0.4' });
      const closed = outcome(sock);
      await opened(sock);
      sock.send(JSON.stringify({ type: 'hello', token }));
      return closed;
    };
    expect((await hello(guess(1))).code).toBe(4401);
    expect((await hello(guess(2))).code).toBe(4401);
    expect((await asAdmin(app, '127.0.0.4', guess(3))).statusCode).toBe(401);
    const throttled = await hello(ADMIN);
    expect(throttled.code).toBe(1008);
    expect(throttled.reason).toMatch(/^too many wrong admin tokens; retry in \d+ s$/);
    // From elsewhere the right hello gets the feed.
    const sock = new WebSocket(`ws://127.0.0.1:${port}/live`, { localAddress: '127.0.0.5' });
    const inbox = new Inbox(sock);
    await opened(sock);
    inbox.send({ type: 'hello', token: ADMIN });
    expect(await inbox.next()).toMatchObject({ type: 'sessions' });
    sock.close();
  });
});

describe('wrong enrolment codes', () => {
  it('are counted per client and server-wide; past either limit enrolment answers 429 with Retry-After without comparing, and a missing code is no guess', async () => {
    const app = await start();
    for (let i = 0; i < 5; i++) expect((await enrolFrom(app, '127.0.0.6', undefined)).statusCode).toBe(403);
    const perClient: number[] = [];
    for (let n = 0; n < 4; n++) perClient.push((await enrolFrom(app, '127.0.0.7', `guess-${1000 + n}-abcdefg`)).statusCode);
    expect(perClient).toEqual([403, 403, 403, 429]);
    const right = await enrolFrom(app, '127.0.0.7', CODE);
    expect(right.statusCode).toBe(429);
    expect(Number(right.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(right.json()).toEqual({ error: expect.stringMatching(/^too many wrong enrolment codes from this address; retry in \d+ s$/) });
    expect((await enrolFrom(app, '127.0.0.8', CODE)).statusCode).toBe(201);

    // 3 failures so far; 5 more from as many addresses reach the server-wide 8.
    for (let a = 0; a < 5; a++) expect((await enrolFrom(app, `127.0.1.${a}`, `guess-${2000 + a}-abcdefg`)).statusCode).toBe(403);
    const everyone = await enrolFrom(app, '127.0.2.1', CODE);
    expect(everyone.statusCode).toBe(429);
    expect(everyone.json()).toEqual({ error: expect.stringMatching(/^too many wrong enrolment codes sent to this server lately; retry in \d+ s$/) });
  });
});
