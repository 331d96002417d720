// /sync on its own (server/plugins/sync-socket.ts): the request guard and the socket server it
// needs, nothing else; devices enrolled straight into the store. Real ws clients send recorded
// guided sessions, and what a stranger, another device or a broken client would send; every
// refusal is checked by its close code (README: "Close codes on the sockets") and by what the
// store holds afterwards.
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE, LIMITS, type SyncEvent } from '../../src/sync/protocol';
import { simulatedFruitBowl } from '../../test/server/guided-sessions';
import { ADMIN, bareServer, closeAll, enrolled, ORIGIN, withAppend, type BareServer } from '../../test/server/plugin-harness';
import { events, greet, Inbox, opened, outcome, RECORDED_AT, sendEvents, waitFor, wsOpen, type WsOutcome } from '../../test/server/test-support';
import { SqliteStore } from '../sqlite-store';
import type { EventStore } from '../store';
import requestGuard from './request-guard';
import syncSocket from './sync-socket';
import websockets from './websockets';

afterEach(closeAll);

const serve = (store?: EventStore) => bareServer([requestGuard, websockets, syncSocket], store ? { store } : {});

let n = 0;
/** A fresh session id, as the app makes them. */
const sessionId = (what: string) => `${what}-${process.pid}-${++n}`;

/** What the store holds of a session, as [seq, kind, payload text]. */
const stored = async (server: BareServer, id: string) => (await server.store.events(id, 0, 10_000)).map((e) => [e.seq, e.kind, e.payload] as const);

/** A socket to /sync from the app's page, open. */
async function socket(server: BareServer): Promise<Inbox> {
  const inbox = new Inbox(wsOpen(server, '/sync', { origin: ORIGIN }));
  await opened(inbox.sock);
  return inbox;
}

/** Sends `raw` as the first thing after a hello for `id` (or with no hello when token is undefined), and resolves with how the socket ended. */
async function closedAfter(server: BareServer, raw: string | Buffer, opts: { id?: string; token?: string; binary?: boolean } = {}): Promise<WsOutcome & { got: unknown[] }> {
  const inbox = await socket(server);
  const got: unknown[] = [];
  if (opts.token !== undefined) {
    inbox.send({ type: 'hello', sessionId: opts.id, token: opts.token });
    got.push(await inbox.next());
  }
  inbox.sock.send(raw, { binary: opts.binary ?? false });
  const end = await inbox.closedWith();
  return { ...end, got };
}

describe('/sync: a device', { timeout: 30_000 }, () => {
  it('stores a recorded guided session sent in pipelined batches, acknowledged in order after each write, byte for byte; after a reconnect it resumes from the acknowledged sequence and a resent batch is stored once', async () => {
    const server = await serve();
    const device = await enrolled(server.store, 'kitchen tablet');
    const id = sessionId('fruit-bowl');
    const rec = simulatedFruitBowl(RECORDED_AT).end(RECORDED_AT + 15_000);
    const all = rec.events;
    expect(all.length).toBeGreaterThan(60);

    const first = await greet(server, id, device.token);
    expect(first.ackedSeq).toBe(0);
    // The client sends its outbox in batches without waiting for each ack.
    const half = Math.floor(all.length / 2);
    const batches: SyncEvent[][] = [];
    for (let i = 0; i < half; i += 9) batches.push(all.slice(i, Math.min(i + 9, half)));
    for (const b of batches) first.inbox.send({ type: 'events', sessionId: id, events: b });
    const acks: number[] = [];
    while (acks.length < batches.length) acks.push(await first.inbox.until((m) => (m.type === 'ack' && m.sessionId === id ? (m.seq as number) : undefined)));
    expect(acks).toEqual(batches.map((b) => b.at(-1)!.seq));
    // A page that reloads mid-session: its socket goes away.
    first.inbox.sock.terminate();

    const second = await greet(server, id, device.token);
    expect(second.ackedSeq).toBe(half);
    // It resumes from the acknowledged sequence; a batch straddling it is stored once.
    expect(await sendEvents(second.inbox, id, all.slice(half - 5, half + 20))).toBe(half + 20);
    expect(await sendEvents(second.inbox, id, all.slice(half + 20))).toBe(all.length);
    expect(await sendEvents(second.inbox, id, all.slice(0, 10))).toBe(all.length);

    expect(await stored(server, id)).toEqual(all.map((e) => [e.seq, e.kind, JSON.stringify(e.payload)]));
    expect(server.ctx.stats).toMatchObject({ connections: 2, stored: all.length, closedInvalid: 0, closedUnauthorised: 0, closedForbidden: 0 });
    second.inbox.sock.close();
  });

  it('is refused with 4401 for a hello that does not come within 5 s, or events before any hello; nothing is stored', async () => {
    const server = await serve();
    const device = await enrolled(server.store, 'bench tablet');
    const silent = await socket(server);
    const started = Date.now();
    expect(await silent.closedWith()).toMatchObject({ code: CLOSE.unauthorised, reason: 'no hello in time' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(LIMITS.helloTimeoutMs - 100);

    const id = sessionId('no-hello');
    expect(await closedAfter(server, JSON.stringify({ type: 'events', sessionId: id, events: events(1, 5) }))).toMatchObject({ code: CLOSE.unauthorised, reason: 'hello first' });
    // Greeting after that changes nothing: the socket is gone, and the session holds nothing.
    expect(await stored(server, id)).toEqual([]);
    expect(server.ctx.stats.closedUnauthorised).toBe(2);
    const later = await greet(server, id, device.token);
    expect(later.ackedSeq).toBe(0);
    later.inbox.sock.close();
  }, 30_000);

  it('is refused with 4401 for a token that is not a valid, unrevoked device token, and nothing is stored', async () => {
    const server = await serve();
    const device = await enrolled(server.store, 'tablet A');
    const revoked = await enrolled(server.store, 'tablet lost on the bus');
    await server.store.revokeDevice(revoked.deviceId, Date.now());
    const [prefix, id, secret] = device.token.split('.') as [string, string, string];
    const flipped = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A');
    const tokens = ['guess', ADMIN, `${prefix}.${id}.${flipped}`, `${prefix}.${'A'.repeat(16)}.${secret}`, `${prefix}.${id}`, revoked.token, `${device.token} `];
    for (const token of tokens) {
      const sid = sessionId('bad-token');
      const end = await closedAfter(server, JSON.stringify({ type: 'hello', sessionId: sid, token }));
      expect(end, token).toMatchObject({ code: CLOSE.unauthorised, got: [] });
      expect(await server.store.claimSession(sid, device.deviceId, Date.now()), token).toEqual({ owner: device.deviceId, lastSeq: 0 });
    }
    expect(server.ctx.stats.closedUnauthorised).toBe(tokens.length);
    expect(server.ctx.stats.stored).toBe(0);
  });

  it("is closed with 4403 on another device's session, whether it greets it or sends to it, and the owner's events stay as they were", async () => {
    const server = await serve();
    const owner = await enrolled(server.store, 'owner tablet');
    const intruder = await enrolled(server.store, 'intruder tablet');
    const id = sessionId('owned');
    const rec = simulatedFruitBowl(RECORDED_AT + 100_000, 6_000);
    const mine = await greet(server, id, owner.token);
    expect(await sendEvents(mine.inbox, id, rec.events)).toBe(rec.events.length);
    mine.inbox.sock.close();
    const before = await stored(server, id);

    // Greeting the owner's session.
    const forged = rec.events.map((e) => ({ ...e, payload: { ...(e.payload as object), forged: true } }));
    const greeted = await closedAfter(server, JSON.stringify({ type: 'hello', sessionId: id, token: intruder.token }));
    expect(greeted).toMatchObject({ code: CLOSE.forbidden });
    expect(greeted.got).toEqual([]);
    // Greeting its own session, then sending the owner's session events anyway.
    const own = sessionId('intruder-own');
    const sent = await closedAfter(server, JSON.stringify({ type: 'events', sessionId: id, events: forged.slice(0, 20) }), { id: own, token: intruder.token });
    expect(sent).toMatchObject({ code: CLOSE.forbidden, got: [{ type: 'welcome', sessionId: own, ackedSeq: 0 }] });
    // And a greeted socket trying to append past the owner's last event.
    const extend = await closedAfter(server, JSON.stringify({ type: 'events', sessionId: id, events: events(rec.events.length + 1, rec.events.length + 5) }), { id: own, token: intruder.token });
    expect(extend.code).toBe(CLOSE.forbidden);

    expect(await stored(server, id)).toEqual(before);
    expect(await stored(server, own)).toEqual([]);
    expect(server.ctx.stats.closedForbidden).toBe(3);
    // The owner carries on where it was.
    const back = await greet(server, id, owner.token);
    expect(back.ackedSeq).toBe(rec.events.length);
    back.inbox.sock.close();
  });

  it('is closed with 1007 for bytes that are not a message of the protocol (not JSON, not UTF-8, binary, nested too deep, off the schema), and none of it is stored', async () => {
    const server = await serve();
    const device = await enrolled(server.store, 'bench tablet');
    const id = sessionId('malformed');
    const good = events(1, 3);
    const deep = `{"type":"events","sessionId":"${id}","events":[{"seq":1,"ts":1,"kind":"state","payload":${'['.repeat(40)}1${']'.repeat(40)}}]}`;
    const cases: [string, string | Buffer, boolean][] = [
      ['not JSON', 'hello?', false],
      ['cut off', JSON.stringify({ type: 'events', sessionId: id, events: good }).slice(0, -7), false],
      ['a bare number', '42', false],
      ['not UTF-8', Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0xff, 0xfe, 0x22, 0x7d]), false],
      ['binary', Buffer.from(JSON.stringify({ type: 'events', sessionId: id, events: good })), true],
      ['nested 40 deep', deep, false],
      ['unknown type', JSON.stringify({ type: 'delete', sessionId: id }), false],
      ['an extra field', JSON.stringify({ type: 'events', sessionId: id, events: good, admin: true }), false],
      // A field named in another script: the close reason that names it must still fit a close frame (123 bytes).
      ['an extra field named in Japanese', JSON.stringify({ type: 'events', sessionId: id, events: good, ['会話の記録'.repeat(20)]: true }), false],
      ['seq 0', JSON.stringify({ type: 'events', sessionId: id, events: [{ ...good[0]!, seq: 0 }] }), false],
      ['out of order', JSON.stringify({ type: 'events', sessionId: id, events: [good[1], good[0]] }), false],
      ['no events', JSON.stringify({ type: 'events', sessionId: id, events: [] }), false],
      ['a payload over 16 KiB', JSON.stringify({ type: 'events', sessionId: id, events: [{ ...good[0]!, payload: { note: 'x'.repeat(16 * 1024) } }] }), false],
      ['a bad session id', JSON.stringify({ type: 'events', sessionId: '../../etc', events: good }), false],
    ];
    for (const [what, raw, binary] of cases) {
      const end = await closedAfter(server, raw, { id, token: device.token, binary });
      expect(end, what).toMatchObject({ code: CLOSE.invalid, got: [{ type: 'welcome', sessionId: id, ackedSeq: 0 }] });
      expect(Buffer.byteLength(end.reason ?? ''), what).toBeLessThanOrEqual(123);
    }
    expect(await stored(server, id)).toEqual([]);
    await waitFor('every malformed message counted', () => server.ctx.stats.closedInvalid === cases.length, 10_000);
  });

  it('is closed with 1009 for a batch over 256 KiB, and nothing of it is stored', async () => {
    const server = await serve();
    const device = await enrolled(server.store, 'bench tablet');
    const id = sessionId('too-big');
    // 200 frames of 200 detections each: the most a message may hold, and far over the byte limit.
    const big = events(1, 200, { detections: 200 });
    const text = JSON.stringify({ type: 'events', sessionId: id, events: big });
    expect(Buffer.byteLength(text)).toBeGreaterThan(LIMITS.maxMessageBytes);
    const end = await closedAfter(server, text, { id, token: device.token });
    expect(end).toMatchObject({ code: CLOSE.tooBig });
    expect(await stored(server, id)).toEqual([]);
    await waitFor('the oversized batch counted', () => server.ctx.stats.closedTooBig === 1, 10_000);
    // The same frames in batches under the limit are taken.
    const again = await greet(server, id, device.token);
    for (let i = 0; i < big.length; i += 25) expect(await sendEvents(again.inbox, id, big.slice(i, i + 25))).toBe(i + 25);
    again.inbox.sock.close();
  });

  it('is closed with 1008 past the rate limit (100 messages/s, burst 200): a client resending its batch in a loop hears so at once, not when the close handshake times out', async () => {
    const server = await serve();
    const device = await enrolled(server.store, 'looping tablet');
    const id = sessionId('flood');
    const { inbox } = await greet(server, id, device.token);
    const batch = JSON.stringify({ type: 'events', sessionId: id, events: events(1, 5) });
    const started = Date.now();
    for (let i = 0; i < 1000; i++) inbox.sock.send(batch);
    expect(await inbox.closedWith()).toMatchObject({ code: CLOSE.policy, reason: 'rate limit exceeded' });
    // ws gives up on an unanswered close handshake after 30 s; a closing socket must be read to the peer's close frame.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(server.ctx.stats.closedRate).toBe(1);
    // What it sent before it was cut is stored, once.
    expect((await stored(server, id)).map(([seq]) => seq)).toEqual([1, 2, 3, 4, 5]);
    await waitFor('the server to let the socket go', () => server.app.websocketServer.clients.size === 0, 10_000);
  }, 60_000);

  it('is closed with 1011 when the store fails, and a retry on a new socket stores the batch', async () => {
    let failures = 1;
    const server = await serve(
      withAppend(await SqliteStore.open(':memory:'), async (append, ...args) => {
        if (failures-- > 0) throw new Error('SQLITE_IOERR: disk I/O error');
        return append(...args);
      }),
    );
    const device = await enrolled(server.store, 'bench tablet');
    const id = sessionId('store-fails');
    const batch = simulatedFruitBowl(RECORDED_AT + 200_000, 3_000).events;
    const { inbox } = await greet(server, id, device.token);
    inbox.send({ type: 'events', sessionId: id, events: batch });
    expect(await inbox.closedWith()).toMatchObject({ code: CLOSE.storage });
    expect(server.ctx.stats.closedStorage).toBe(1);
    expect(server.lines.find((l) => l.startsWith('error: sync: internal error'))).toContain('disk I/O error');

    const retry = await greet(server, id, device.token);
    expect(retry.ackedSeq).toBe(0);
    expect(await sendEvents(retry.inbox, id, batch)).toBe(batch.length);
    retry.inbox.sock.close();
  });

  it('has its open sockets closed with 4401 when its device is revoked, and only those still open are counted', async () => {
    const server = await serve();
    const device = await enrolled(server.store, 'revoked tablet');
    const other = await enrolled(server.store, 'another tablet');
    const a = await greet(server, sessionId('revoked-a'), device.token);
    const b = await greet(server, sessionId('revoked-b'), device.token);
    const bystanderId = sessionId('bystander');
    const bystander = await greet(server, bystanderId, other.token);
    // One socket the page closed itself before the revocation.
    a.inbox.sock.close();
    await a.inbox.closedWith();
    await waitFor('the server to see the close', () => server.app.websocketServer.clients.size === 2, 10_000);

    // What the admin API and the store's revoke event do.
    await server.store.revokeDevice(device.deviceId, Date.now());
    server.ctx.devices.revoke(device.deviceId);
    expect(await b.inbox.closedWith()).toMatchObject({ code: CLOSE.unauthorised, reason: 'device revoked' });
    expect(server.ctx.stats.revokedSockets).toBe(1);
    // Its hello is refused from now on; the other device goes on.
    expect(await closedAfter(server, JSON.stringify({ type: 'hello', sessionId: sessionId('after'), token: device.token }))).toMatchObject({ code: CLOSE.unauthorised });
    expect(bystander.inbox.sock.readyState).toBe(WebSocket.OPEN);
    expect(await sendEvents(bystander.inbox, bystanderId, events(1, 4))).toBe(4);
    bystander.inbox.sock.close();
  });

  it('is read no faster than its batches are stored: on a slow disk the socket stops being read, every batch is still acknowledged after its write and in order', async () => {
    // A disk that is slow, and slowest on the first writes: batches handled side by side would finish out of order.
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    let writes = 0;
    const server = await serve(
      withAppend(await SqliteStore.open(':memory:'), async (append, ...args) => {
        if (writes++ === 0) await stuck;
        await new Promise((r) => setTimeout(r, Math.max(0, 20 - writes)));
        return append(...args);
      }),
    );
    const device = await enrolled(server.store, 'bench tablet');
    const id = sessionId('slow-disk');
    const { inbox } = await greet(server, id, device.token);
    const all = events(1, 600);
    const batches: SyncEvent[][] = [];
    for (let i = 0; i < all.length; i += 20) batches.push(all.slice(i, i + 20));
    for (const b of batches) inbox.send({ type: 'events', sessionId: id, events: b });
    const serverSide = [...server.app.websocketServer.clients][0]!;
    await waitFor('the server to stop reading the socket', () => serverSide.isPaused, 20_000);
    expect(await stored(server, id)).toEqual([]);
    release();
    const acks: number[] = [];
    while (acks.length < batches.length) acks.push(await inbox.until((m) => (m.type === 'ack' ? (m.seq as number) : undefined)));
    expect(acks).toEqual(batches.map((b) => b.at(-1)!.seq));
    expect(serverSide.isPaused).toBe(false);
    expect((await stored(server, id)).length).toBe(all.length);
    inbox.sock.close();
  }, 60_000);

  it('hears of its revocation at once even while a slow disk holds its socket back', async () => {
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    const server = await serve(
      withAppend(await SqliteStore.open(':memory:'), async (append, ...args) => {
        await stuck;
        return append(...args);
      }),
    );
    const device = await enrolled(server.store, 'revoked while busy');
    const id = sessionId('busy-revoked');
    const { inbox } = await greet(server, id, device.token);
    const all = events(1, 300);
    for (let i = 0; i < all.length; i += 20) inbox.send({ type: 'events', sessionId: id, events: all.slice(i, i + 20) });
    const serverSide = [...server.app.websocketServer.clients][0]!;
    await waitFor('the server to stop reading the socket', () => serverSide.isPaused, 20_000);

    await server.store.revokeDevice(device.deviceId, Date.now());
    server.ctx.devices.revoke(device.deviceId);
    const revokedAt = Date.now();
    release();
    expect(await inbox.closedWith()).toMatchObject({ code: CLOSE.unauthorised, reason: 'device revoked' });
    expect(Date.now() - revokedAt).toBeLessThan(15_000);
    // Nothing written after the revocation: the batch in hand is refused by the store, the rest never handled.
    expect(await stored(server, id)).toEqual([]);
    await waitFor('the server to let the socket go', () => server.app.websocketServer.clients.size === 0, 10_000);
  }, 60_000);
});
