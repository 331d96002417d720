// Fair shares of the connection budget, on a bare Fastify with the plugins a sync server needs,
// listening on 127.0.0.1 with real sockets from several loopback addresses (all of 127.0.0.0/8
// is this machine): a device's socket cap, the devices' and the admin's reserved shares, the
// per-address cap behind a trusted proxy, and probation for connections beyond the pool.
import Fastify, { type FastifyInstance } from 'fastify';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { offeredDeviceToken, SYNC_SUBPROTOCOL, syncProtocols } from '../../src/sync/protocol';
import { Inbox, opened, outcome, sendEvents, waitFor, type WsOutcome } from '../../test/server/test-support';
import { simulatedFruitBowl } from '../../test/server/guided-sessions';
import type { AppOptions } from '../app-types';
import { newDeviceCredential } from '../auth';
import { ConnectionBudget } from '../connection-budget';
import { SqliteStore } from '../sqlite-store';
import adminApi from './admin-api';
import connectionLimits from './connection-limits';
import { newServerContext, type ServerContext } from './context';
import requestGuard from './request-guard';
import syncSocket from './sync-socket';
import websockets from './websockets';

const ADMIN = 'limits-test-admin-token-0123456789abcdef0123456789';
/** Sessions recorded an hour ago: event times stay near the server's clock, as a device's do. */
const T0 = Date.now() - 3_600_000;

interface Served {
  readonly app: FastifyInstance;
  readonly ctx: ServerContext;
  readonly store: SqliteStore;
  readonly port: number;
}

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** `probationMs`: longer than the server's, where a test must hold a connection on probation a while. */
async function serve(opts: Partial<AppOptions> = {}, probationMs?: number): Promise<Served> {
  const store = await SqliteStore.open(':memory:');
  const base = newServerContext({ store, adminToken: ADMIN, hosts: ['*'], origins: ['*'], ...opts });
  const ctx: ServerContext = probationMs === undefined ? base : { ...base, connections: new ConnectionBudget({ ...base.connections.limits, probationMs }, base.stats, (limit, address) => base.metrics.limitHit(limit, { address })) };
  const app = Fastify({ logger: false, trustProxy: opts.trustProxy ?? false, forceCloseConnections: true });
  for (const plugin of [connectionLimits, requestGuard, adminApi, websockets, syncSocket]) await app.register(plugin, ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(async () => {
    for (const stop of ctx.onShutdown) stop();
    for (const ws of app.websocketServer.clients) ws.terminate();
    await app.close();
    await store.close();
  });
  return { app, ctx, store, port: (app.server.address() as { port: number }).port };
}

async function enrolled(store: SqliteStore, name: string): Promise<{ deviceId: string; token: string }> {
  const cred = newDeviceCredential();
  await store.createDevice({ deviceId: cred.deviceId, name, secretHash: cred.secretHash, createdAt: T0, revokedAt: null });
  return { deviceId: cred.deviceId, token: cred.token };
}

/** A sync socket from `from`; `offer`: the device token offered at the upgrade, as the app does. */
function syncSocketFrom(s: Served, opts: { from?: string; offer?: string; headers?: Record<string, string> } = {}): WebSocket {
  const sock = new WebSocket(`ws://127.0.0.1:${s.port}/sync`, opts.offer ? syncProtocols(opts.offer) : [], { localAddress: opts.from, headers: opts.headers });
  cleanups.push(() => sock.terminate());
  return sock;
}

/** Says hello on an open socket; resolves with its welcome (or throws with its close). */
async function hello(inbox: Inbox, sessionId: string, token: string): Promise<Record<string, unknown>> {
  inbox.send({ type: 'hello', sessionId, token });
  return inbox.next();
}

/** A device's socket that said hello and stored the first 40 events of a guided fruit-bowl session. */
async function syncing(s: Served, sessionId: string, token: string, opts: { from?: string; offer?: boolean; headers?: Record<string, string> } = {}): Promise<Inbox> {
  const inbox = new Inbox(syncSocketFrom(s, { from: opts.from, offer: opts.offer ? token : undefined, headers: opts.headers }));
  await opened(inbox.sock);
  expect(await hello(inbox, sessionId, token)).toMatchObject({ type: 'welcome', sessionId, ackedSeq: 0 });
  const rec = simulatedFruitBowl(T0);
  expect(await sendEvents(inbox, sessionId, rec.events.slice(0, 40))).toBe(40);
  return inbox;
}

/** An HTTP request on a connection of its own from `from`. */
function http(s: Served, path: string, opts: { from?: string; admin?: boolean; method?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = httpRequest({ host: '127.0.0.1', port: s.port, path, method: opts.method ?? 'GET', localAddress: opts.from, agent: false, headers: opts.admin ? { authorization: `Bearer ${ADMIN}` } : {} }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

interface Idle {
  readonly sock: Socket;
  closed: boolean;
}

/** A TCP connection from `from` that sends nothing (yet). */
function idle(s: Served, from: string): Promise<Idle> {
  return new Promise((ready) => {
    const sock = connect({ port: s.port, host: '127.0.0.1', localAddress: from });
    const probe: Idle = { sock, closed: false };
    cleanups.push(() => void sock.destroy());
    sock.on('error', () => {});
    sock.once('close', () => {
      probe.closed = true;
      ready(probe);
    });
    sock.once('connect', () => ready(probe));
  });
}

/** Sends one request on an idle connection; resolves with the status line's code, or 0 if it was closed unanswered. */
function ask(probe: Idle, port: number, path: string, admin = false, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((done) => {
    if (probe.closed) return done(0);
    let data = '';
    probe.sock.on('data', (b: Buffer) => {
      data += b.toString();
      if (data.includes('\r\n\r\n')) done(Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0));
    });
    probe.sock.once('close', () => done(Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0)));
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    probe.sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${admin ? `Authorization: Bearer ${ADMIN}\r\n` : ''}${extra}\r\n`);
  });
}

const many = <T>(n: number, f: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => f(i)));

describe('sync sockets per device', () => {
  it('a device holds at most maxSocketsPerDevice sync sockets: one more closes with 1008 and a reason the app shows, nothing of it stored; other devices are unaffected, and a freed slot is usable again', async () => {
    const s = await serve({ maxSocketsPerDevice: 3 });
    const hog = await enrolled(s.store, 'Bench 1 (hog)');
    const other = await enrolled(s.store, 'Bench 2');
    const held = await many(3, (i) => syncing(s, `hog-session-${i}`, hog.token));
    expect(s.ctx.devices.count(hog.deviceId)).toBe(3);

    // By hello: refused before its session is claimed.
    const fourth = new Inbox(syncSocketFrom(s));
    await opened(fourth.sock);
    fourth.send({ type: 'hello', sessionId: 'hog-session-3', token: hog.token });
    const byHello = await fourth.closedWith();
    expect(byHello.code).toBe(1008);
    expect(byHello.reason).toBe('this device already has 3 sync connections open, the most it may; retry once one closes');
    expect(await s.store.sessionsById(['hog-session-3'])).toEqual([]);
    // By its token at the upgrade: closed with the same answer before any hello.
    const offered = new Inbox(syncSocketFrom(s, { offer: hog.token }));
    expect(await offered.closedWith()).toEqual(byHello);
    expect(s.ctx.stats.closedDeviceCap).toBe(2);

    // Another device is not affected, with or without its token at the upgrade.
    await syncing(s, 'other-session-1', other.token);
    await syncing(s, 'other-session-2', other.token, { offer: true });

    // A socket counted for one device cannot speak for another: 4403, nothing claimed.
    const mixed = new Inbox(syncSocketFrom(s, { offer: other.token }));
    await opened(mixed.sock);
    mixed.send({ type: 'hello', sessionId: 'hog-session-9', token: hog.token });
    expect(await mixed.closedWith()).toEqual({ code: 4403, reason: 'one device per socket' });
    expect(await s.store.sessionsById(['hog-session-9'])).toEqual([]);

    // One of the hog's sockets closes: its slot is free again.
    held[0]!.sock.close();
    await waitFor('the server let go of the closed socket', () => s.ctx.devices.count(hog.deviceId) === 2);
    await syncing(s, 'hog-session-4', hog.token, { offer: true });
    expect(s.ctx.devices.count(hog.deviceId)).toBe(3);
  }, 30_000);
});

describe('reserved shares', () => {
  it('strangers fill the general pool and a device holds its most sockets: another device (token at the upgrade) still syncs, the admin lists and revokes, a stranger gets 503 and a silent one is closed', async () => {
    const s = await serve({ maxConnections: 24, maxConnectionsPerIp: 8, deviceConnections: 6, adminConnections: 2, maxSocketsPerDevice: 3 });
    const hog = await enrolled(s.store, 'Bench 3 (hog)');
    const other = await enrolled(s.store, 'Bench 4');
    // The hog's sockets take the devices' share (3 of 6) once they said hello.
    const hogs = await many(3, (i) => syncing(s, `hog2-session-${i}`, hog.token, { from: '127.0.0.2' }));
    expect(s.ctx.stats.connectionsDevices).toBe(3);
    // Strangers take the whole general pool: 20 silent TCP connections from 3 addresses, and 4 sync sockets that never say hello.
    const silent = [...(await many(8, () => idle(s, '127.0.1.1'))), ...(await many(8, () => idle(s, '127.0.1.2'))), ...(await many(4, () => idle(s, '127.0.1.3')))];
    const mute = await many(4, async () => {
      const sock = syncSocketFrom(s, { from: '127.0.1.3' });
      await opened(sock);
      return sock;
    });
    await waitFor('the general pool full', () => s.ctx.stats.connectionsGeneral === 24);

    // A stranger's request is answered 503 with the reason; an upgrade without a token too.
    const stranger = await http(s, '/api/devices', { from: '127.0.1.4' });
    expect(stranger.status).toBe(503);
    expect(JSON.parse(stranger.body)).toEqual({ error: 'the server holds its most connections without a credential (24, FRAMEWISE_MAX_CONNECTIONS); retry shortly' });
    expect(await outcome(syncSocketFrom(s, { from: '127.0.1.4' }))).toEqual({ status: 503 });
    // A silent newcomer is closed once its probation is over.
    const newcomer = await idle(s, '127.0.1.5');
    await waitFor('the silent newcomer closed', () => newcomer.closed, 10_000);
    // Each turned away is counted against its address, per cap, for an operator to alert on.
    const metrics = (await s.ctx.metrics.exposition()).text;
    expect(metrics).toContain('framewise_limits_hit_total{limit="connections-general",device="",address="127.0.1.4"} 2');
    expect(metrics).toContain('framewise_limits_hit_total{limit="connections-probation",device="",address="127.0.1.5"} 1');

    // Another device, offering its token at the upgrade as the app does, gets in and syncs.
    const otherInbox = await syncing(s, 'other2-session-1', other.token, { from: '127.0.1.6', offer: true });
    expect(s.ctx.stats.connectionsDevices).toBe(4);

    // The admin gets in, lists the devices and revokes the hog, whose sockets close with 4401.
    const list = await http(s, '/api/devices', { from: '127.0.1.7', admin: true });
    expect(list.status).toBe(200);
    expect((JSON.parse(list.body) as { deviceId: string }[]).map((d) => d.deviceId).sort()).toEqual([hog.deviceId, other.deviceId].sort());
    const revoked = await http(s, `/api/devices/${hog.deviceId}`, { from: '127.0.1.7', admin: true, method: 'DELETE' });
    expect(revoked.status).toBe(200);
    const ends: WsOutcome[] = await Promise.all(hogs.map((h) => h.closedWith()));
    expect(ends.map((e) => e.code)).toEqual([4401, 4401, 4401]);
    // The other device goes on, and the strangers still hold what they held.
    const rest = simulatedFruitBowl(T0).events.slice(40);
    expect(await sendEvents(otherInbox, 'other2-session-1', rest)).toBe(rest.at(-1)!.seq);
    expect(silent.filter((p) => p.closed)).toHaveLength(0);
    for (const m of mute) m.terminate();
  }, 30_000);

  it('the admin is admitted from an address at its cap and while the devices fill their share; a device beyond the share gets 503', async () => {
    const s = await serve({ maxConnections: 10, maxConnectionsPerIp: 5, deviceConnections: 2, adminConnections: 2 });
    const devs = await many(3, (i) => enrolled(s.store, `Bench ${10 + i}`));
    // Two devices take the devices' share.
    await syncing(s, 'share-session-0', devs[0]!.token, { from: '127.0.2.1', offer: true });
    await syncing(s, 'share-session-1', devs[1]!.token, { from: '127.0.2.2', offer: true });
    expect(s.ctx.stats.connectionsDevices).toBe(2);
    // The admin's own address is at its cap, held by strangers; the general pool is full too.
    await many(5, () => idle(s, '127.0.2.9'));
    await many(5, () => idle(s, '127.0.2.10'));
    await waitFor('the general pool full', () => s.ctx.stats.connectionsGeneral === 10);
    expect((await http(s, '/api/sessions', { from: '127.0.2.9' })).status).toBe(503);
    // A third device finds neither share with room.
    expect(await outcome(syncSocketFrom(s, { from: '127.0.2.3', offer: devs[2]!.token }))).toEqual({ status: 503 });

    const sessions = await http(s, '/api/sessions', { from: '127.0.2.9', admin: true });
    expect(sessions.status).toBe(200);
    expect((JSON.parse(sessions.body) as { sessions: { sessionId: string }[] }).sessions.map((x) => x.sessionId).sort()).toEqual(['share-session-0', 'share-session-1']);
  }, 30_000);

  it('a flood of silent connections from a few addresses evicts its own from probation, never the admin connection that is about to speak', async () => {
    // Probation long enough that only eviction can close a connection during the flood.
    const s = await serve({ maxConnections: 4, maxConnectionsPerIp: 4 }, 30_000);
    await many(4, () => idle(s, '127.0.3.1'));
    await waitFor('the general pool full', () => s.ctx.stats.connectionsGeneral === 4);
    // The admin's connection is on probation, and has not sent its request yet.
    const admin = await idle(s, '127.0.3.9');
    await waitFor('the admin on probation', () => s.ctx.stats.connectionsProbation === 1);
    const probation = s.ctx.connections.limits.probation;
    // More silent connections than probation holds, from two addresses: each newcomer evicts the oldest of the address holding the most.
    const flood = [...(await many(probation, () => idle(s, '127.0.3.2'))), ...(await many(probation / 2, () => idle(s, '127.0.3.3')))];
    await waitFor('the flood evicting its own', () => flood.filter((p) => p.closed).length >= probation / 2, 10_000);
    expect(admin.closed).toBe(false);
    expect(await ask(admin, s.port, '/api/devices', true)).toBe(200);
  }, 30_000);
});

describe('the admin token on probation', () => {
  it('is checked as the admin routes check it: wrong guesses are counted, and past the limit the answer is 429 for right and wrong alike, never a 503-or-200 oracle', async () => {
    const s = await serve({ maxConnections: 2, maxConnectionsPerIp: 2, authFailureLimits: { perClient: 3, global: 50, windowMs: 60_000 } });
    await many(2, () => idle(s, '127.0.5.1'));
    await waitFor('the general pool full', () => s.ctx.stats.connectionsGeneral === 2);
    // A newcomer from a client with no general slot free: on probation (its accept comes before its request).
    const onProbation = () => idle(s, '127.0.5.9');
    const wrong = (n: number) => ({ authorization: `Bearer limits-test-guess-${n}-0123456789abcdef012345678` });
    // Three wrong tokens from one client: each is turned away as a stranger would be, and counted.
    for (let n = 0; n < 3; n++) expect(await ask(await onProbation(), s.port, '/api/devices', false, wrong(n))).toBe(503);
    // The fourth guess is not compared: 429, and the right token from that client is answered the same way.
    expect(await ask(await onProbation(), s.port, '/api/devices', false, wrong(3))).toBe(429);
    expect(await ask(await onProbation(), s.port, '/api/devices', true)).toBe(429);
    // Another client on probation with the right token is still admitted.
    const admin = await idle(s, '127.0.5.10');
    expect(await ask(admin, s.port, '/api/devices', true)).toBe(200);
  }, 30_000);
});

describe('the per-address cap behind a trusted proxy', () => {
  it('counts the forwarded client, not the proxy: many clients through one proxy are all served, one client beyond its cap is refused, and a client that is not the proxy cannot pick its address', async () => {
    const s = await serve({ maxConnectionsPerIp: 3, trustProxy: ['127.0.0.1'] });
    const dev = await enrolled(s.store, 'Bench 20');
    // The proxy holds 8 connections open before it forwards anything on them (as it keeps idle ones to reuse): none is counted yet.
    const pooled = await many(8, () => idle(s, '127.0.0.1'));
    await waitFor('the proxy\'s connections accepted', () => s.ctx.stats.openConnections === 8);
    expect(s.ctx.stats.connectionsGeneral).toBe(8);
    // Then forwards a request from a different client on each: every one is served (404: nothing at that path), none refused.
    expect(await Promise.all(pooled.map((p, i) => ask(p, s.port, '/no-such-page', false, { 'x-forwarded-for': `192.0.2.${i + 1}` })))).toEqual(Array(8).fill(404));
    for (const p of pooled) p.sock.destroy();
    // Eight clients behind the proxy (127.0.0.1), each with its sync socket.
    const clients = await many(8, (i) => syncing(s, `proxied-session-${i}`, dev.token, { from: '127.0.0.1', headers: { 'x-forwarded-for': `203.0.113.${i + 1}` } }));
    expect(clients.every((c) => c.closed === undefined)).toBe(true);
    expect(s.ctx.connections.ofAddress('127.0.0.1')).toBe(0);
    expect(s.ctx.connections.ofAddress('203.0.113.1')).toBe(1);
    // One client through the proxy: three connections, the fourth is refused.
    const xff = { 'x-forwarded-for': '198.51.100.7' };
    const three = await many(3, () => {
      const sock = syncSocketFrom(s, { from: '127.0.0.1', headers: xff });
      return opened(sock).then(() => sock);
    });
    expect(three).toHaveLength(3);
    expect(await outcome(syncSocketFrom(s, { from: '127.0.0.1', headers: xff }))).toEqual({ status: 503 });
    expect(s.ctx.connections.ofAddress('198.51.100.7')).toBe(3);
    // A peer that is not a trusted proxy counts as itself, whatever it forwards.
    const spoofed = (i: number) => syncSocketFrom(s, { from: '127.0.0.5', headers: { 'x-forwarded-for': `198.51.100.${100 + i}` } });
    await many(3, (i) => opened(spoofed(i)));
    expect(s.ctx.connections.ofAddress('127.0.0.5')).toBe(3);
    expect(await outcome(spoofed(3))).toEqual({ status: 503 });
  }, 30_000);
});

describe('the device token at the upgrade', () => {
  it('travels as the second subprotocol only when it is an HTTP token (a browser refuses to open a socket otherwise), and is read back only beside framewise-sync', () => {
    const token = newDeviceCredential().token;
    expect(syncProtocols(token)).toEqual([SYNC_SUBPROTOCOL, token]);
    // A hand-set credential with a space, a comma or a non-ASCII letter: the socket still opens, with the hello alone carrying it.
    for (const odd of ['bench token 7', 'a,b', 'jeton-é']) expect(syncProtocols(odd)).toEqual([SYNC_SUBPROTOCOL]);
    expect(offeredDeviceToken(`${SYNC_SUBPROTOCOL}, ${token}`)).toBe(token);
    expect(offeredDeviceToken(`${token}, ${SYNC_SUBPROTOCOL}`)).toBe(token);
    expect(offeredDeviceToken(token)).toBeUndefined();
    expect(offeredDeviceToken(SYNC_SUBPROTOCOL)).toBeUndefined();
    expect(offeredDeviceToken(`${SYNC_SUBPROTOCOL}, ${token}, another`)).toBeUndefined();
    expect(offeredDeviceToken(undefined)).toBeUndefined();
  });
});
