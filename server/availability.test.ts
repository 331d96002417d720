// Availability under hostile or careless clients: connection caps, slowloris, and dashboards
// that stop reading. Each runs against a real server process and reports its figures.
import { mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { startServer, type ServerProcess } from '../test/server/spawn-server';
import { api, enrol, greet, Inbox, opened, outcome, rawHttp, RECORDED_AT, statePayload, waitFor, wsOpen, type WsOutcome } from '../test/server/test-support';

const ADMIN = `availability-admin-${process.pid}-Kd8Wq3Zx7Ln2Rv5T`;
const started: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map((s) => s.kill('SIGTERM')));
}, 30_000);

async function serve(env: Record<string, string>): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'fw-avail-'));
  const s = await startServer({ FRAMEWISE_ADMIN_TOKEN: ADMIN, FRAMEWISE_DATA_DIR: join(dir, 'data'), FRAMEWISE_STATIC: join(dir, 'none'), ...env });
  started.push(s);
  return s;
}

interface Probe {
  readonly sock: Socket;
  /** Set when the server closed it. */
  closedByServer: boolean;
}

/** A TCP connection from `localAddress` (any of 127.0.0.0/8 is this machine) that sends nothing. */
function idle(port: number, localAddress: string): Promise<Probe> {
  return new Promise((ready) => {
    const sock = connect({ port, host: '127.0.0.1', localAddress });
    const probe: Probe = { sock, closedByServer: false };
    sock.on('error', () => {});
    sock.on('close', () => (probe.closedByServer = true));
    sock.once('connect', () => ready(probe));
    sock.once('close', () => ready(probe));
  });
}

/** Whether a held connection is really served: one request on it, answered. */
function served(probe: Probe, port: number): Promise<boolean> {
  return new Promise((done) => {
    if (probe.closedByServer) return done(false);
    let data = '';
    probe.sock.on('data', (b) => {
      data += b.toString();
      if (data.includes('\r\n\r\n')) done(data.startsWith('HTTP/1.1 200'));
    });
    probe.sock.once('close', () => done(false));
    probe.sock.write(`GET /framewise-config.json HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  });
}

async function openMany(port: number, addresses: string[], perAddress: number): Promise<Probe[]> {
  const probes: Probe[] = [];
  for (const address of addresses) {
    for (let i = 0; i < perAddress; i += 50) probes.push(...(await Promise.all(Array.from({ length: Math.min(50, perAddress - i) }, () => idle(port, address)))));
  }
  return probes;
}

describe('connection caps', () => {
  it('holds at most FRAMEWISE_MAX_CONNECTIONS_PER_IP per address and FRAMEWISE_MAX_CONNECTIONS in all (defaults 100 and 1000); the rest are closed at accept', async () => {
    // Long timeouts, so that only the caps close anything here.
    const server = await serve({ FRAMEWISE_HEADERS_TIMEOUT_MS: '120000', FRAMEWISE_REQUEST_TIMEOUT_MS: '120000', FRAMEWISE_IDLE_TIMEOUT_MS: '120000' });
    // Over a connection that closes after the answer, so that the test's own HTTP client holds none open.
    const stats = async () => JSON.parse((await rawHttp(server.port, `GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer ${ADMIN}\r\nConnection: close\r\n\r\n`)).body) as { openConnections: number; refusedConnections: number };

    // 1,100 idle sockets from one address.
    const one = await openMany(server.port, ['127.0.0.2'], 1100);
    await waitFor('1,000 of them closed by the server', () => one.filter((p) => p.closedByServer).length >= 1000);
    const heldOne = (await Promise.all(one.map((p) => served(p, server.port)))).filter(Boolean).length;
    const afterOne = await stats();
    for (const p of one) p.sock.destroy();
    console.log(`connection caps: 1,100 sockets from one address → ${heldOne} held and served, ${1100 - heldOne} closed at accept (server counted ${afterOne.refusedConnections} refused)`);
    expect(heldOne).toBe(100);
    expect(afterOne.refusedConnections).toBe(1000);
    await waitFor('those sockets gone from the server', async () => (await stats()).openConnections <= 1);

    // 1,100 idle sockets from 11 addresses, 100 each: the total cap holds.
    const addresses = Array.from({ length: 11 }, (_, i) => `127.0.1.${i + 1}`);
    const many = await openMany(server.port, addresses, 100);
    await waitFor('100 of them closed by the server', () => many.filter((p) => p.closedByServer).length >= 100);
    const heldMany = (await Promise.all(many.map((p) => served(p, server.port)))).filter(Boolean).length;
    // While full, a newcomer is refused too.
    const newcomer = await idle(server.port, '127.0.2.1');
    await waitFor('the newcomer closed', () => newcomer.closedByServer);
    for (const p of many) p.sock.destroy();
    const afterMany = await waitFor('room again', async () => {
      const s = await stats().catch(() => undefined);
      return s && s.openConnections <= 1 ? s : undefined;
    });
    console.log(`connection caps: 1,100 sockets from 11 addresses → ${heldMany} held and served, ${1100 - heldMany} closed at accept; total refused ${afterMany.refusedConnections}`);
    expect(heldMany).toBe(1000);
    expect(afterMany.refusedConnections).toBeGreaterThanOrEqual(1000 + 100 + 1);
    expect(server.proc.exitCode).toBeNull();
  }, 120_000);
});

describe('slow clients', () => {
  it('cuts a slowloris (a header byte every 200 ms), a silent socket, a trickled body and an idle keep-alive; a sync socket stays', async () => {
    const server = await serve({
      FRAMEWISE_HEADERS_TIMEOUT_MS: '1500',
      FRAMEWISE_REQUEST_TIMEOUT_MS: '3000',
      FRAMEWISE_IDLE_TIMEOUT_MS: '2000',
      FRAMEWISE_KEEPALIVE_TIMEOUT_MS: '1000',
      FRAMEWISE_PING_MS: '500',
    });
    const dev = await enrol(server, 'steady');
    const steady = await greet(server, 'steady-session', dev.token);

    /** Writes `head` then one byte of `drip` at a time until the server closes the socket; resolves with what came back and how much was sent. */
    const trickle = (head: string, drip: string) =>
      new Promise<{ answer: string; dripped: number }>((done) => {
        const sock = connect(server.port, '127.0.0.1');
        let answer = '';
        let dripped = 0;
        let timer: ReturnType<typeof setInterval> | undefined;
        sock.on('error', () => {});
        sock.on('data', (b) => (answer += b.toString()));
        sock.on('close', () => {
          clearInterval(timer);
          done({ answer, dripped });
        });
        sock.once('connect', () => {
          if (head) sock.write(head);
          if (!drip) return;
          timer = setInterval(() => {
            if (sock.destroyed) return;
            sock.write(drip[dripped % drip.length]!);
            dripped++;
          }, 200);
        });
      });

    const host = `Host: 127.0.0.1:${server.port}\r\n`;
    const [slowHeaders, silent, slowBody, keepAlive] = await Promise.all([
      trickle(`GET / HTTP/1.1\r\n${host}`, 'X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'),
      trickle('', ''),
      trickle(`POST /api/devices HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{"name":"`, 'x'),
      trickle(`GET /framewise-config.json HTTP/1.1\r\n${host}\r\n`, ''),
    ]);
    console.log(
      `slowloris: header trickle cut after ${slowHeaders.dripped} bytes (${slowHeaders.answer.split('\r\n')[0] || 'no answer'}), body trickle after ${slowBody.dripped} bytes (${slowBody.answer.split('\r\n')[0] || 'no answer'}), silent and idle keep-alive sockets closed`,
    );
    expect(slowHeaders.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(slowBody.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(silent.answer).toMatch(/^(HTTP\/1\.1 408 .*)?$/s);
    expect(keepAlive.answer).toMatch(/^HTTP\/1\.1 200/);
    // The sync socket outlived all of that (it is answered, pinged and never timed out).
    expect(steady.inbox.closed).toBeUndefined();
    steady.inbox.send({ type: 'hello', sessionId: 'steady-session', token: dev.token });
    expect(await steady.inbox.next()).toMatchObject({ type: 'welcome', sessionId: 'steady-session' });
    steady.inbox.sock.close();
  }, 60_000);
});

describe('the live feed with dashboards that stop reading', () => {
  it('20 non-reading /live sockets: updates are held back, memory stays bounded, the stalled ones are cut off', async () => {
    const server = await serve({ FRAMEWISE_PING_MS: '600000', FRAMEWISE_LIVE_STALL_MS: '30000' });
    const stats = () => api<{ liveWithheldBytes: number; liveSkipped: number; liveStalledTerminated: number; liveClients: number; stored: number }>(server, '/api/stats', ADMIN);

    // 20 dashboards that say hello and then never read again, and one that keeps reading.
    const stalled: WebSocket[] = [];
    for (let i = 0; i < 20; i++) {
      const sock = wsOpen(server, '/live');
      await opened(sock);
      sock.send(JSON.stringify({ type: 'hello', token: ADMIN }));
      sock.pause();
      stalled.push(sock);
    }
    const stalledEnds: Promise<WsOutcome>[] = stalled.map((s) => outcome(s));
    const reader = new Inbox(wsOpen(server, '/live'));
    await opened(reader.sock);
    reader.send({ type: 'hello', token: ADMIN });
    let updates = 0;
    reader.sock.on('message', () => updates++);
    await waitFor('the live clients registered', async () => (await stats()).liveClients === 21);
    const rssBefore = server.rssMiB();

    // 10 sockets of one device, 20 sessions each, every session changing all the time: a state verdict with the objects in view.
    const dev = await enrol(server, 'busy scene');
    let running = true;
    const writers = Array.from({ length: 10 }, async (_, w) => {
      const ids = Array.from({ length: 20 }, (_, i) => `busy-${w}-${i}`);
      const { inbox } = await greet(server, ids[0]!, dev.token);
      for (const id of ids.slice(1)) {
        inbox.send({ type: 'hello', sessionId: id, token: dev.token });
        await inbox.next();
      }
      for (let seq = 1; running; seq++) {
        for (const id of ids) {
          const payload = { ...statePayload(seq, seq >> 4), inView: Array.from({ length: 25 }, (_, k) => ({ label: ['cup', 'keyboard', 'laptop', 'person', 'mouse'][k % 5], score: 0.9, box: [k * 10, k * 7, 40 + k, 30 + k] })) };
          inbox.send({ type: 'events', sessionId: id, events: [{ seq, ts: RECORDED_AT + seq, kind: 'state', payload }] });
        }
        for (let n = 0; n < ids.length; n++) await inbox.until((m) => (m.type === 'ack' ? true : undefined));
        // Stay under the per-socket rate limit (100 messages/s): this is a busy scene, not a flood.
        await new Promise((r) => setTimeout(r, 250));
      }
      inbox.sock.close();
    });

    // Throughput-bound: alone it takes well under a minute; a loaded two-core machine may need several.
    const heldBack = (mb: number) =>
      waitFor(`${mb} MB held back from the stalled dashboards`, async () => {
        const s = await stats();
        return s.liveWithheldBytes >= mb * 1e6 ? s : undefined;
      }, 300_000, 250);
    const mid = await heldBack(50);
    const rssMid = server.rssMiB();
    const end = await heldBack(200);
    const rssEnd = server.rssMiB();
    console.log(
      `live: 20 stalled dashboards; ${(end.liveWithheldBytes / 1e6).toFixed(0)} MB held back in ${end.liveSkipped} skipped updates while ${end.stored} events were stored; ` +
        `server RSS ${rssBefore.toFixed(0)} MiB before, ${rssMid.toFixed(0)} MiB at ${(mid.liveWithheldBytes / 1e6).toFixed(0)} MB held back, ${rssEnd.toFixed(0)} MiB at ${(end.liveWithheldBytes / 1e6).toFixed(0)} MB; the reading dashboard got ${updates} updates`,
    );
    // Sent regardless, what was held back would sit in the server's memory: ≥ 200 MB more.
    expect(rssEnd - rssBefore).toBeLessThan(120);
    expect(rssEnd - rssMid).toBeLessThan(50);
    expect(updates).toBeGreaterThan(5);

    const cut = await waitFor('the stalled dashboards cut off', async () => {
      const s = await stats();
      return s.liveStalledTerminated >= 20 ? s : undefined;
    }, 120_000, 250);
    running = false;
    await Promise.all(writers);
    // Reading again, they find the end of what was sent before the server let go.
    for (const sock of stalled) sock.resume();
    const ends = await Promise.all(stalledEnds.map((p) => p.then((o) => o.code)));
    console.log(`live: ${cut.liveStalledTerminated} stalled dashboards disconnected; RSS then ${server.rssMiB().toFixed(0)} MiB; the reader still connected: ${reader.closed === undefined}`);
    expect(ends.every((c) => c === 1006)).toBe(true);
    expect(reader.closed).toBeUndefined();
    reader.sock.close();
    expect(server.proc.exitCode).toBeNull();
  }, 900_000);
});
