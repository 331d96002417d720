// /live on its own (server/plugins/live-socket.ts): the request guard and the socket server it
// needs, and the sync socket only where a revocation must reach a device's socket. Sessions are
// written straight into the store, as the sync socket of this or another instance would; a real
// ws client plays the dashboard, and strangers try to listen in.
import pg from 'pg';
import WebSocket from 'ws';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLOSE, LIMITS } from '../../src/sync/protocol';
import type { SessionSummary } from '../../src/sync/trainer-api';
import { simulatedFruitBowl } from '../../test/server/guided-sessions';
import { dropTables, PG_URL, pgUnreachable } from '../../test/server/pg-support';
import { ADMIN, bareServer, closeAll, enrolled, ORIGIN, type BareServer } from '../../test/server/plugin-harness';
import { greet, opened, outcome, waitFor, wsOpen, type WsOutcome } from '../../test/server/test-support';
import { PostgresStore } from '../pg-store';
import type { EventStore } from '../store';
import liveSocket from './live-socket';
import requestGuard from './request-guard';
import syncSocket from './sync-socket';
import websockets from './websockets';

afterEach(closeAll);

let n = 0;
const sessionId = (what: string) => `${what}-${process.pid}-${++n}`;

/** A dashboard on /live: every message it is sent, and how its socket ended. */
class Dashboard {
  readonly pages: SessionSummary[][] = [];
  readonly closed: Promise<WsOutcome>;
  readonly sock: WebSocket;

  constructor(server: BareServer, opts: { origin?: string } = { origin: ORIGIN }) {
    this.sock = wsOpen(server, '/live', opts);
    this.sock.on('message', (d) => this.pages.push((JSON.parse(d.toString()) as { type: 'sessions'; sessions: SessionSummary[] }).sessions));
    this.closed = outcome(this.sock);
  }

  /** The newest summary of `id` it was sent, once one satisfies `ok`. */
  seen(id: string, ok: (s: SessionSummary) => boolean = () => true, timeoutMs = 20_000): Promise<SessionSummary> {
    return waitFor(`the dashboard to be sent ${id}`, () => this.pages.flat().findLast((s) => s.sessionId === id && ok(s)), timeoutMs);
  }
}

/** A session of `deviceId`'s, written into the store as the sync socket would: `upTo` of its recorded events. */
async function recorded(store: EventStore, deviceId: string, id: string, upTo?: number) {
  const rec = simulatedFruitBowl(Date.now() - 20_000).end(Date.now());
  await store.claimSession(id, deviceId, Date.now());
  const result = await store.append(deviceId, id, rec.events.slice(0, upTo ?? rec.events.length));
  if (!result.ok) throw new Error(`append refused: ${result.why}`);
  return rec.events;
}

describe('/live: the dashboard', { timeout: 30_000 }, () => {
  it("gets, after the admin's hello, the first page of sessions and then each session again as it is written, and nothing before", async () => {
    const server = await bareServer([requestGuard, websockets, liveSocket]);
    const device = await enrolled(server.store, 'kitchen tablet');
    const earlier = sessionId('earlier');
    await recorded(server.store, device.deviceId, earlier);

    const dash = new Dashboard(server);
    await opened(dash.sock);
    // Written before the hello: not pushed to a socket that has not proved anything.
    const growing = sessionId('growing');
    const all = await recorded(server.store, device.deviceId, growing, 10);
    dash.sock.send(JSON.stringify({ type: 'hello', token: ADMIN }));
    await waitFor('the first page', () => dash.pages.length >= 1, 20_000);
    expect(dash.pages[0]!.map((s) => [s.sessionId, s.events])).toEqual(
      expect.arrayContaining([
        [earlier, all.length],
        [growing, 10],
      ]),
    );
    expect(dash.pages[0]![0]).toMatchObject({ deviceId: device.deviceId, deviceName: 'kitchen tablet', taskId: 'fruit-bowl' });

    // The device goes on recording: the dashboard is sent that session's summary, not the page again.
    const result = await server.store.append(device.deviceId, growing, all.slice(10));
    expect(result).toMatchObject({ ok: true, seq: all.length });
    const now = await dash.seen(growing, (s) => s.events === all.length);
    expect(now).toMatchObject({ lastSeq: all.length, outcome: expect.any(String) });
    expect(dash.pages.at(-1)!.map((s) => s.sessionId)).toEqual([growing]);
    expect(server.ctx.stats.liveClients).toBe(1);
  });

  it('is closed with 4401, having been sent nothing, without the admin token: no hello in 5 s, a wrong token, a device token, not JSON, binary', async () => {
    const server = await bareServer([requestGuard, websockets, liveSocket]);
    const device = await enrolled(server.store, 'kitchen tablet');
    await recorded(server.store, device.deviceId, sessionId('secret'));
    const attempts: [string, string | Buffer | undefined][] = [
      ['no hello', undefined],
      ['a wrong token', JSON.stringify({ type: 'hello', token: `${ADMIN}x` })],
      ['the token in other case', JSON.stringify({ type: 'hello', token: ADMIN.toUpperCase() })],
      ["a device's token", JSON.stringify({ type: 'hello', token: device.token })],
      ['a sync hello', JSON.stringify({ type: 'hello', sessionId: 'secret-session', token: ADMIN, extra: 1 })],
      ['not JSON', `hello ${ADMIN}`],
      ['binary', Buffer.from(JSON.stringify({ type: 'hello', token: ADMIN }))],
      ['over 1 KiB', JSON.stringify({ type: 'hello', token: ADMIN, pad: 'x'.repeat(2000) })],
    ];
    const started = Date.now();
    const dashboards = await Promise.all(
      attempts.map(async ([, first]) => {
        const dash = new Dashboard(server);
        await opened(dash.sock);
        if (first !== undefined) dash.sock.send(first, { binary: Buffer.isBuffer(first) });
        return dash;
      }),
    );
    // Sessions keep being written meanwhile: none of it may reach a socket that did not prove it is the admin's.
    const busy = sessionId('written-meanwhile');
    const all = await recorded(server.store, device.deviceId, busy, 5);
    for (let upTo = 10; upTo <= all.length; upTo += 5) await server.store.append(device.deviceId, busy, all.slice(0, upTo));
    for (const [i, dash] of dashboards.entries()) {
      expect(await dash.closed, attempts[i]![0]).toMatchObject({ code: CLOSE.unauthorised });
      expect(dash.pages, attempts[i]![0]).toEqual([]);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(LIMITS.helloTimeoutMs - 100);
    expect(server.lines.filter((l) => l === 'warn: live feed: wrong admin token (4401)')).toHaveLength(3);
    await waitFor('the server to forget them', () => server.ctx.stats.liveClients === 0, 10_000);
  }, 30_000);

  it("is refused (403) from another page's origin before any upgrade", async () => {
    const server = await bareServer([requestGuard, websockets, liveSocket]);
    for (const origin of ['https://evil.example', 'null']) {
      const dash = new Dashboard(server, { origin });
      expect(await dash.closed, origin).toEqual({ status: 403 });
    }
    expect(server.ctx.stats).toMatchObject({ rejectedUpgrades: 2, liveClients: 0 });
  });

  it('is kept while it answers pings, and closed with 1001 when the server shuts down', async () => {
    const server = await bareServer([requestGuard, websockets, liveSocket], { pingIntervalMs: 100 });
    const dash = new Dashboard(server);
    let pings = 0;
    dash.sock.on('ping', () => pings++);
    await opened(dash.sock);
    dash.sock.send(JSON.stringify({ type: 'hello', token: ADMIN }));
    await waitFor('the first page', () => dash.pages.length === 1, 20_000);
    await waitFor('four sweeps', () => pings >= 4, 20_000);
    expect(dash.sock.readyState).toBe(WebSocket.OPEN);
    expect(server.ctx.stats.deadPeers).toBe(0);

    for (const stop of server.ctx.onShutdown) stop();
    expect(await dash.closed).toMatchObject({ code: CLOSE.shutdown });
  });

  it("closes a device's sync sockets when the store says the device was revoked (as another instance's admin API makes it say)", async () => {
    const server = await bareServer([requestGuard, websockets, syncSocket, liveSocket]);
    const device = await enrolled(server.store, 'lost tablet');
    const { inbox } = await greet(server, sessionId('lost'), device.token);
    // No admin API here: only the store's change event can reach the socket.
    await server.store.revokeDevice(device.deviceId, Date.now());
    expect(await inbox.closedWith()).toMatchObject({ code: CLOSE.unauthorised, reason: 'device revoked' });
    expect(server.ctx.stats.revokedSockets).toBe(1);
  });
});

const whyNoPg = await pgUnreachable();

describe.skipIf(whyNoPg !== undefined)('/live with PostgreSQL: what another instance writes', () => {
  const prefix = `fw_plugin_live_${process.pid}_${Date.now().toString(36)}`;
  const appName = `fwplugin_${process.pid}_${Date.now().toString(36)}`;
  afterAll(() => dropTables(prefix), 30_000);

  it("reaches this instance's dashboard and devices: appends as summaries, a revocation as 4401, and a lost LISTEN connection as the first page again", async () => {
    // The other instance: only its store, which its sync socket and admin API would write through.
    const other = await PostgresStore.open({ url: PG_URL, prefix, applicationName: `${appName}_other` });
    const server = await bareServer([requestGuard, websockets, syncSocket, liveSocket], { store: await PostgresStore.open({ url: PG_URL, prefix, applicationName: appName }) });
    const db = new pg.Client({ connectionString: PG_URL });
    db.on('error', () => {});
    await db.connect();
    try {
      const device = await enrolled(other, 'tablet on the other instance');
      const dash = new Dashboard(server);
      await opened(dash.sock);
      dash.sock.send(JSON.stringify({ type: 'hello', token: ADMIN }));
      await waitFor('the first page', () => dash.pages.length === 1, 20_000);

      const id = sessionId('elsewhere');
      const all = await recorded(other, device.deviceId, id, 12);
      expect((await dash.seen(id)).events).toBe(12);
      await other.append(device.deviceId, id, all.slice(12));
      expect((await dash.seen(id, (s) => s.events === all.length)).deviceName).toBe('tablet on the other instance');

      // The device syncs through this instance; the other instance revokes it.
      const { inbox } = await greet(server, sessionId('here'), device.token);
      await other.revokeDevice(device.deviceId, Date.now());
      expect(await inbox.closedWith()).toMatchObject({ code: CLOSE.unauthorised, reason: 'device revoked' });

      // This instance's LISTEN connection is killed: once it listens again, what it may have missed is sent as the first page.
      const pagesBefore = dash.pages.length;
      const killed = await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'", [appName]);
      expect(killed.rowCount).toBe(1);
      await waitFor('a refresh after the LISTEN connection came back', () => server.ctx.stats.liveRefreshes === 1, 30_000);
      await waitFor('the first page again', () => dash.pages.length > pagesBefore && dash.pages.at(-1)!.some((s) => s.sessionId === id), 20_000);
    } finally {
      await db.end().catch(() => {});
      await other.close();
    }
  }, 90_000);
});
