// The socket server on its own (server/plugins/websockets.ts): the request guard it depends on,
// and a stand-in socket route of the test's own on /sync that echoes what arrives, so that what
// is checked is the socket server's (origin check, size cap, ping sweep, handler errors), not
// the sync protocol's. Real ws clients against a listening server.
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE, LIMITS } from '../../src/sync/protocol';
import { bareServer, closeAll, ORIGIN, type BareServer } from '../../test/server/plugin-harness';
import { events, opened, outcome, waitFor, wsOpen } from '../../test/server/test-support';
import type { ServerContext } from './context';
import requestGuard from './request-guard';
import websockets, { checkOrigin } from './websockets';

afterEach(closeAll);

/** A socket route as the real ones are declared (origin hook, watched), answering each message with its size. */
function echoRoutes(app: FastifyInstance, ctx: ServerContext) {
  app.get('/sync', { websocket: true, onRequest: checkOrigin(ctx) }, (ws, request) => {
    ctx.sockets.watch(ws, 'echo', request.ip);
    ws.on('message', (data: Buffer) => ws.send(JSON.stringify({ bytes: data.byteLength })));
  });
  // A socket handler with a bug of ours in it.
  app.get('/live', { websocket: true }, () => {
    throw new Error('a bug in a socket handler, with /srv/data in it');
  });
}

const serve = (pingIntervalMs?: number) => bareServer([requestGuard, websockets], { routes: echoRoutes, ...(pingIntervalMs ? { pingIntervalMs } : {}) });

/** The next message on `sock`, parsed. */
const nextMessage = (sock: WebSocket) => new Promise<Record<string, unknown>>((done) => sock.once('message', (d) => done(JSON.parse(d.toString()) as Record<string, unknown>)));

/** A realistic sync message (a batch of recorded frames), padded with JSON whitespace to exactly `bytes`. */
function batchOf(bytes: number): string {
  // Recorded frames, made once (their detections are random): a prefix of them fills the message.
  const frames = events(1, 2_000);
  const text = (n: number) => JSON.stringify({ type: 'events', sessionId: 'bench-4-session-0001', events: frames.slice(0, n) });
  let lo = 1;
  let hi = frames.length;
  if (Buffer.byteLength(text(hi)) <= bytes) throw new Error(`${hi} frames fit in ${bytes} bytes`);
  // The most frames that fit: text(lo) fits, text(hi) does not.
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (Buffer.byteLength(text(mid)) <= bytes) lo = mid;
    else hi = mid;
  }
  const fit = text(lo);
  return fit + ' '.repeat(bytes - Buffer.byteLength(fit));
}

// Generous: other test files run beside these on two cores; every wait is on a condition, so a pass is not slowed.
describe('the socket server', { timeout: 30_000 }, () => {
  it('upgrades a socket route only for the allowed page origin or no Origin at all; another page gets 403 before any upgrade, counted and logged', async () => {
    const server = await serve();
    for (const origin of ['https://evil.example', 'null', `${ORIGIN}.evil.example`, 'https://APP.framewise.test', 'http://app.framewise.test']) {
      const refused = wsOpen(server, '/sync', { origin });
      expect(await outcome(refused), origin).toEqual({ status: 403 });
    }
    expect(server.ctx.stats.rejectedUpgrades).toBe(5);
    expect(server.lines.filter((l) => l.startsWith('warn: websocket refused: origin not allowed'))).toHaveLength(5);
    expect(server.lines.some((l) => l.includes('"origin":"https://evil.example"'))).toBe(true);
    expect(server.app.websocketServer.clients.size).toBe(0);

    for (const origin of [ORIGIN, undefined]) {
      const sock = wsOpen(server, '/sync', origin ? { origin } : {});
      await opened(sock);
      sock.send('{"type":"hello"}');
      expect(await nextMessage(sock), String(origin)).toEqual({ bytes: 16 });
      sock.close();
    }
    expect(server.ctx.stats.rejectedUpgrades).toBe(5);
  });

  it('takes a message of exactly 256 KiB whole, and closes on one byte more with 1009, counted', async () => {
    const server = await serve();
    const atLimit = batchOf(LIMITS.maxMessageBytes);
    expect(Buffer.byteLength(atLimit)).toBe(256 * 1024);
    expect(() => JSON.parse(atLimit)).not.toThrow();

    const sock = wsOpen(server, '/sync', { origin: ORIGIN });
    const ended = outcome(sock);
    await opened(sock);
    const echoed = nextMessage(sock);
    sock.send(atLimit);
    expect(await echoed).toEqual({ bytes: LIMITS.maxMessageBytes });
    sock.send(`${atLimit} `);
    expect(await ended).toMatchObject({ code: CLOSE.tooBig });
    await waitFor('the oversized message counted', () => server.ctx.stats.closedTooBig === 1, 10_000);
    expect(server.ctx.stats.closedInvalid).toBe(0);
  });

  it('ends a peer that stops answering pings, counted, and keeps every peer that answers them', async () => {
    const server = await serve(100);
    const answering = wsOpen(server, '/sync', { origin: ORIGIN });
    const silent = wsOpen(server, '/sync', { origin: ORIGIN, autoPong: false });
    let pings = 0;
    answering.on('ping', () => pings++);
    const silentEnd = outcome(silent);
    await Promise.all([opened(answering), opened(silent)]);

    // Terminated, not closed: a dead peer is not owed a close handshake.
    expect(await silentEnd).toMatchObject({ code: 1006 });
    expect(server.ctx.stats.deadPeers).toBe(1);
    expect(server.lines.some((l) => l.startsWith('info: websocket: dead peer (no pong), terminated'))).toBe(true);
    // The answering peer is pinged on, sweep after sweep, and stays.
    const seen = pings;
    await waitFor('three more pings to the answering peer', () => pings >= seen + 3, 20_000);
    expect(answering.readyState).toBe(WebSocket.OPEN);
    expect(server.ctx.stats.deadPeers).toBe(1);
    answering.send('still here');
    expect(await nextMessage(answering)).toEqual({ bytes: 10 });
  });

  it('stops pinging once the server shuts down', async () => {
    // Two servers sweeping at the same pace: the second one's pings are the clock.
    const [stopping, clock] = await Promise.all([serve(50), serve(50)]);
    const a = wsOpen(stopping, '/sync', { origin: ORIGIN });
    const b = wsOpen(clock, '/sync', { origin: ORIGIN });
    let pingsA = 0;
    let pingsB = 0;
    a.on('ping', () => pingsA++);
    b.on('ping', () => pingsB++);
    await Promise.all([opened(a), opened(b)]);
    await waitFor('the first pings', () => pingsA >= 2, 10_000);

    for (const stop of stopping.ctx.onShutdown) stop();
    const atStop = pingsA;
    const from = pingsB;
    await waitFor('ten sweeps of the other server', () => pingsB >= from + 10, 20_000);
    // One ping may have been on its way when the sweep stopped; none after.
    expect(pingsA - atStop).toBeLessThanOrEqual(1);
    expect(a.readyState).toBe(WebSocket.OPEN);
  });

  it('cuts the peer when a socket handler throws, logs it without the stack reaching the peer, and goes on serving', async () => {
    const server: BareServer = await serve();
    const sock = wsOpen(server, '/live', { origin: ORIGIN });
    let said = '';
    sock.on('message', (d) => (said += d.toString()));
    expect(await outcome(sock)).toMatchObject({ code: 1006 });
    expect(said).toBe('');
    expect(server.lines.find((l) => l.startsWith('warn: websocket error'))).toContain('a bug in a socket handler');

    const next = wsOpen(server, '/sync', { origin: ORIGIN });
    await opened(next);
    next.send('ok');
    expect(await nextMessage(next)).toEqual({ bytes: 2 });
  });
});
