// The real server process on a real SQLite file, attacked and used over real sockets.
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type ServerProcess } from './spawn-server';

const TOKEN = 'test-token-123';
let server: ServerProcess;
const ws = (path: string, opts: { token?: string; origin?: string } = {}) =>
  new WebSocket(`ws://127.0.0.1:${server.port}${path}?token=${encodeURIComponent(opts.token ?? TOKEN)}`, { origin: opts.origin ?? 'http://localhost:4178' });

/** Resolves with the close code, or the HTTP status of a refused upgrade. */
function outcome(sock: WebSocket): Promise<{ code?: number; status?: number; reason?: string }> {
  return new Promise((done) => {
    sock.on('unexpected-response', (_req, res) => done({ status: res.statusCode }));
    sock.on('close', (code, reason) => done({ code, reason: reason.toString() }));
    sock.on('error', () => {});
  });
}
const opened = (sock: WebSocket) => new Promise<void>((r, f) => (sock.once('open', () => r()), sock.once('error', f)));
const nextMessage = (sock: WebSocket) => new Promise<Record<string, unknown>>((r) => sock.once('message', (d) => r(JSON.parse(d.toString()))));

async function storeEvents(sessionId: string, n: number) {
  const sock = ws('/sync');
  await opened(sock);
  const events = Array.from({ length: n }, (_, i) => ({ seq: i + 1, ts: 1000 + i, kind: 'state', payload: { i } }));
  sock.send(JSON.stringify({ type: 'events', sessionId, events }));
  const ack = await nextMessage(sock);
  sock.close();
  return ack;
}

const api = async (path: string) => (await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fw-server-'));
  server = await startServer({ FRAMEWISE_TOKEN: TOKEN, FRAMEWISE_DB: join(dir, 'events.sqlite'), FRAMEWISE_ORIGINS: 'http://localhost:4178', FRAMEWISE_PING_MS: '200', FRAMEWISE_STATIC: join(dir, 'none') }, 18000 + Math.floor(Math.random() * 1000));
}, 30_000);
afterAll(async () => server?.kill('SIGTERM'));

describe('sync server', () => {
  it('stores events idempotently and acknowledges the gap-free prefix', async () => {
    expect(await storeEvents('session-aaaa', 10)).toEqual({ type: 'ack', sessionId: 'session-aaaa', seq: 10 });
    expect(await storeEvents('session-aaaa', 10)).toEqual({ type: 'ack', sessionId: 'session-aaaa', seq: 10 }); // resent: no duplicates
    const sock = ws('/sync');
    await opened(sock);
    sock.send(JSON.stringify({ type: 'hello', sessionId: 'session-aaaa' }));
    expect(await nextMessage(sock)).toEqual({ type: 'welcome', sessionId: 'session-aaaa', ackedSeq: 10 });
    // A gap: 12 cannot be stored before 11.
    sock.send(JSON.stringify({ type: 'events', sessionId: 'session-aaaa', events: [{ seq: 12, ts: 1, kind: 'state', payload: null }] }));
    expect(await nextMessage(sock)).toMatchObject({ type: 'ack', seq: 10 });
    sock.close();
    const events = (await api('/api/sessions/session-aaaa/events')) as { seq: number }[];
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('refuses a wrong token (401) and a wrong origin (403) at the upgrade, and the API without a token', async () => {
    expect(await outcome(ws('/sync', { token: 'guess' }))).toEqual({ status: 401 });
    expect(await outcome(ws('/sync', { origin: 'https://evil.example' }))).toEqual({ status: 403 });
    expect((await fetch(`${server.url}/api/sessions`)).status).toBe(401);
  });

  it('closes an oversized message with 1009', async () => {
    const sock = ws('/sync');
    await opened(sock);
    const end = outcome(sock);
    sock.send('x'.repeat(300 * 1024));
    expect((await end).code).toBe(1009);
  });

  it('rejects 1,000 malformed or random messages with 1007, and stays up with its data intact', async () => {
    const before = await api('/api/sessions/session-aaaa/events');
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const junk = (i: number): string | Buffer => {
      switch (i % 8) {
        case 0: return Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
        case 1: return String.fromCharCode(...Array.from({ length: 1 + Math.floor(rand() * 100) }, () => 32 + Math.floor(rand() * 90)));
        case 2: return JSON.stringify({ type: 'events', sessionId: 'session-aaaa', events: [{ seq: -i, ts: 1, kind: 'state', payload: 1 }] });
        case 3: return JSON.stringify({ type: 'events', sessionId: "x'; DROP TABLE events; --", events: [] });
        case 4: return JSON.stringify({ type: 'hello', sessionId: 'session-aaaa', admin: true });
        case 5: return JSON.stringify([1, 2, 3]);
        case 6: return JSON.stringify({ type: 'events', sessionId: 'session-aaaa', events: [{ seq: 11, ts: 'now', kind: 'state', payload: {} }] });
        default: return JSON.stringify({ type: 'events', sessionId: 'session-aaaa', events: [{ seq: 11, ts: 1, kind: 'state', payload: {}, __proto__x: 1 }] });
      }
    };
    const codes: number[] = [];
    for (let batch = 0; batch < 1000; batch += 50) {
      const results = await Promise.all(
        Array.from({ length: 50 }, async (_, k) => {
          const sock = ws('/sync');
          await opened(sock);
          const end = outcome(sock);
          sock.send(junk(batch + k));
          return (await end).code!;
        }),
      );
      codes.push(...results);
    }
    expect(codes.length).toBe(1000);
    expect(codes.filter((c) => c === 1007).length).toBe(1000);
    expect(await api('/api/sessions/session-aaaa/events')).toEqual(before);
    expect(server.proc.exitCode).toBeNull();
  }, 60_000);

  it('closes a flood beyond the rate limit with 1008', async () => {
    const sock = ws('/sync');
    await opened(sock);
    const end = outcome(sock);
    for (let i = 0; i < 1000; i++) sock.send(JSON.stringify({ type: 'hello', sessionId: 'session-flood' }));
    expect(await end).toMatchObject({ code: 1008, reason: 'rate limit exceeded' });
    expect(((await api('/api/sessions')) as unknown[]).length).toBeGreaterThan(0);
  });

  it('terminates a dead peer that never answers pings', async () => {
    // A raw socket that completes the handshake and then plays dead.
    const sock = connect(server.port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`GET /sync?token=${TOKEN} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const closedAfter = await new Promise<number>((r) => {
      const t0 = Date.now();
      sock.on('data', () => {});
      sock.on('close', () => r(Date.now() - t0));
    });
    expect(closedAfter).toBeLessThan(3000);
    expect(server.output.some((l) => l.includes('dead peer'))).toBe(true);
  });

  it('serves sessions and events over HTTP', async () => {
    const sessions = (await api('/api/sessions')) as { sessionId: string; events: number }[];
    expect(sessions.find((s) => s.sessionId === 'session-aaaa')).toMatchObject({ events: 10 });
    expect((await fetch(`${server.url}/api/sessions/session-aaaa/events?after=abc`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(400);
  });
});
