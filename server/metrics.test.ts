// What an operator alerts on, at the admin-only GET /metrics (Prometheus text, prom-client):
// refused credentials, limits hit and the server's counters, per client address or device,
// after real requests and real sockets; and each app's registry its own.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningApp } from './app';
import { appHarness, ENROL_CODE as CODE, guessToken as guess } from '../test/server/app-harness';
import { events, Inbox, opened, outcome } from '../test/server/test-support';

const ADMIN = 'fwa.metrics-test-Wm4Qz8Rx2Kv7Tn5Lb9Hc3Jd6Fp1Sg0Y';
const { start, asAdmin, enrolFrom } = appHarness(ADMIN);

describe('GET /metrics', () => {
  it('is admin only, and counts refused credentials, limits hit and the server counters per client address or device, in Prometheus text format', async () => {
    const app = await start({ rate: { perSecond: 1, burst: 2 } });
    const { port } = await app.listen(0, '127.0.0.1');
    expect((await asAdmin(app, '127.0.0.9', undefined, '/metrics')).statusCode).toBe(401);
    for (let n = 0; n < 4; n++) await asAdmin(app, '127.0.0.10', guess(n));
    for (let n = 0; n < 3; n++) await enrolFrom(app, '127.0.0.11', `guess-${n}-abcdefghij`);
    const enrolled = (await enrolFrom(app, '127.0.0.12', CODE)).json() as { deviceId: string; token: string };
    // The device floods its socket past the rate limit: closed with 1008, counted against the device.
    const sock = new WebSocket(`ws://127.0.0.1:${port}/sync`);
    const inbox = new Inbox(sock);
    await opened(sock);
    inbox.send({ type: 'hello', sessionId: 'metrics-session-01', token: enrolled.token });
    expect(await inbox.next()).toMatchObject({ type: 'welcome' });
    // (Three messages: a socket with more than four in flight is paused, and would not hear the close's answer.)
    for (let seq = 1; seq <= 3; seq++) inbox.send({ type: 'events', sessionId: 'metrics-session-01', events: events(seq, seq) });
    expect((await inbox.closedWith()).code).toBe(1008);
    // And a forged device token on a new socket.
    const forged = new WebSocket(`ws://127.0.0.1:${port}/sync`);
    const forgedClosed = outcome(forged);
    await opened(forged);
    forged.send(JSON.stringify({ type: 'hello', sessionId: 'metrics-session-02', token: `fwd.${enrolled.deviceId}.${'A'.repeat(43)}` }));
    expect((await forgedClosed).code).toBe(4401);

    const res = await asAdmin(app, '127.0.0.1', ADMIN, '/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers['cache-control']).toBe('no-store');
    const text = res.body;
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}()|.*+?^$[\]\\]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(text).toMatch(/^# TYPE framewise_credentials_refused_total counter$/m);
    expect(value('framewise_credentials_refused_total{credential="admin",device="",address="127.0.0.10"}')).toBe(3);
    expect(value('framewise_limits_hit_total{limit="admin-failures-per-client",device="",address="127.0.0.10"}')).toBe(1);
    expect(value('framewise_credentials_refused_total{credential="enrolment",device="",address="127.0.0.11"}')).toBe(3);
    expect(value('framewise_credentials_refused_total{credential="device",device="",address="127.0.0.1"}')).toBe(1);
    expect(value(`framewise_limits_hit_total{limit="sync-rate",device="${enrolled.deviceId}",address=""}`)).toBe(1);
    expect(value(`framewise_sync_closed_total{code="1008",device="${enrolled.deviceId}",address=""}`)).toBe(1);
    // The server's own counters, as they are in /api/stats.
    const stats = (await asAdmin(app, '127.0.0.1', ADMIN, '/api/stats')).json() as Record<string, number>;
    expect(stats.enrolled).toBe(1);
    expect(value('framewise_enrolled_total')).toBe(1);
    expect(value('framewise_closed_rate_total')).toBe(stats.closedRate);
    expect(value('framewise_closed_unauthorised_total')).toBe(stats.closedUnauthorised);
    expect(text).toMatch(/^# TYPE framewise_open_connections gauge$/m);
    expect(value('framewise_open_connections')).toBe(stats.openConnections);
    sock.terminate();
    forged.terminate();
  });

  it('counts HTTP requests over the rate limit per address, and each app keeps its own counts', async () => {
    const one = await start({ httpPerMinute: 2 });
    const two = await start({ httpPerMinute: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await one.fastify.inject({ url: '/framewise-config.json', remoteAddress: '127.0.0.13' })).statusCode);
    expect(statuses).toEqual([200, 200, 429, 429]);
    const metrics = async (app: RunningApp) => (await asAdmin(app, '127.0.0.1', ADMIN, '/metrics')).body;
    expect(await metrics(one)).toMatch(/^framewise_limits_hit_total\{limit="http-rate",device="",address="127\.0\.0\.13"\} 2$/m);
    expect(await metrics(two)).not.toMatch(/limit="http-rate"/);
  });
});
