// Each device's share of the writes, and the disk's: the real app on a real SQLite store (its
// writer thread included), over real sockets, with the server's clock in the test's hand.
// Realistic payloads throughout: task-state verdicts and frames of 25 and 200 detections.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { CLOSE, LIMITS, retryAfterOf, type SyncEvent } from '../src/sync/protocol';
import type { SessionsPage } from '../src/sync/trainer-api';
import { SyncClient } from '../src/sync/client';
import type { SyncStatus } from '../src/sync/sync-status';
import { MemoryOutbox } from '../test/server/memory-outbox';
import { startServer } from '../test/server/spawn-server';
import { api, enrol, events, eventsText, greet, Inbox, opened, sendEvents, waitFor, wsOpen } from '../test/server/test-support';
import { createApp, type AppOptions, type RunningApp } from './app';
import { loadConfig, ServerConfigError } from './config';
import { SqliteStore } from './sqlite-store';
import { DAY_MS } from './store';
import { BURST_SECONDS } from './write-budget';

const ADMIN = `quota-admin-${process.pid}-${Math.random().toString(36).slice(2)}-Xq7Lm2Vz9Rk4Wp`;
/** Real sockets, a writer thread and (once) a server process, on a busy machine. */
const SLOW = 60_000;
/** One minute before midnight UTC. */
const EVE = Date.UTC(2026, 10, 24, 23, 59, 0);

class Clock {
  constructor(public ms: number) {}
  readonly now = () => this.ms;
}

const running: { app: RunningApp; store: SqliteStore }[] = [];
afterEach(async () => {
  vi.unstubAllGlobals();
  for (const { app, store } of running.splice(0)) {
    await app.close();
    await store.close();
  }
});

/** The app as main.ts builds it, on a fresh SQLite file, listening on a free port, on the test's clock. */
async function serve(clock: Clock, opts: Partial<AppOptions> = {}) {
  const store = await SqliteStore.open(join(mkdtempSync(join(tmpdir(), 'fw-quota-')), 'store.sqlite'), { now: clock.now });
  const lines: string[] = [];
  const app = await createApp({ store, adminToken: ADMIN, hosts: ['*'], origins: ['*'], log: (l) => lines.push(l), now: clock.now, ...opts });
  running.push({ app, store });
  const { port } = await app.listen(0, '127.0.0.1');
  return { app, store, lines, server: { port, url: `http://127.0.0.1:${port}` } };
}

/** Batches of `size` realistic events, numbered from 1, stamped around `ts`. */
const batches = (count: number, size: number, ts: number): SyncEvent[][] => Array.from({ length: count }, (_, i) => events(i * size + 1, (i + 1) * size, { ts }));
const stored = async (server: { url: string }, sessionId: string) => JSON.parse(await eventsText(server, sessionId, ADMIN)) as (SyncEvent & { sessionId: string })[];
const payloadsOf = (evs: readonly SyncEvent[]) => evs.map((e) => JSON.stringify(e.payload));
const metrics = async (server: { url: string }) => (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();

/** Opens a sync socket and says hello; what came back first (a welcome, or the close). */
async function hello(server: { port: number }, sessionId: string, token: string) {
  const inbox = new Inbox(wsOpen(server, '/sync'));
  await opened(inbox.sock);
  inbox.send({ type: 'hello', sessionId, token });
  const first = await inbox.next().catch(() => undefined);
  return { inbox, welcome: first, closed: first ? undefined : await inbox.closedWith() };
}

describe('the settings', () => {
  it('default to a share no guided session comes near, take whole numbers (0 turns a limit off), and stop the start naming a bad one', () => {
    const base = { FRAMEWISE_DATA_DIR: '/srv/framewise' };
    expect(loadConfig(base)).toMatchObject({
      writeLimits: { bytesPerSecond: 1024 * 1024, eventsPerSecond: 500, bytesPerDay: 2 * 1024 ** 3, eventsPerDay: 2_000_000, sessionsPerDay: 1_000 },
      minFreeDiskBytes: 1024 ** 3,
      retentionDays: undefined,
    });
    const set = loadConfig({
      ...base,
      FRAMEWISE_DEVICE_KIB_PER_S: '256',
      FRAMEWISE_DEVICE_EVENTS_PER_S: '0',
      FRAMEWISE_DEVICE_MIB_PER_DAY: '100',
      FRAMEWISE_DEVICE_EVENTS_PER_DAY: '50000',
      FRAMEWISE_DEVICE_SESSIONS_PER_DAY: '20',
      FRAMEWISE_MIN_FREE_DISK_MIB: '0',
      FRAMEWISE_RETENTION_DAYS: '90',
    });
    expect(set).toMatchObject({ writeLimits: { bytesPerSecond: 256 * 1024, eventsPerSecond: 0, bytesPerDay: 100 * 1024 ** 2, eventsPerDay: 50_000, sessionsPerDay: 20 }, minFreeDiskBytes: 0, retentionDays: 90 });
    expect(loadConfig({ ...base, FRAMEWISE_RETENTION_DAYS: '0' }).retentionDays).toBeUndefined();
    for (const [name, value] of [
      ['FRAMEWISE_DEVICE_KIB_PER_S', '1.5'],
      ['FRAMEWISE_DEVICE_MIB_PER_DAY', '-1'],
      ['FRAMEWISE_DEVICE_SESSIONS_PER_DAY', 'many'],
      ['FRAMEWISE_MIN_FREE_DISK_MIB', '1e3'],
      ['FRAMEWISE_RETENTION_DAYS', '36501'],
    ]) {
      expect(() => loadConfig({ ...base, [name!]: value }), name).toThrow(ServerConfigError);
      expect(() => loadConfig({ ...base, [name!]: value }), name).toThrow(new RegExp(`^${name} must be a whole number`));
    }
  });
});

describe("a device's daily total", () => {
  it('once reached, closes its socket with 4429 and when to retry, keeps what it acknowledged, refuses its hellos until midnight, and takes the rest after', async () => {
    const clock = new Clock(EVE);
    const { server, app } = await serve(clock, { writeLimits: { bytesPerSecond: 0, eventsPerSecond: 0, bytesPerDay: 300 * 1024, eventsPerDay: 0 } });
    const device = await enrol(server, 'bench camera');
    const other = await enrol(server, 'kitchen camera');
    const all = batches(12, 40, EVE - 60_000);
    const { inbox } = await greet(server, 'daily-total-01', device.token);
    let acked = 0;
    for (const batch of all) {
      inbox.send({ type: 'events', sessionId: 'daily-total-01', events: batch });
      const reply = await inbox.next().catch(() => undefined);
      if (!reply) break;
      expect(reply).toEqual({ type: 'ack', sessionId: 'daily-total-01', seq: batch.at(-1)!.seq });
      acked = reply.seq as number;
    }
    expect(acked, 'refused before the end').toBeLessThan(12 * 40);
    const closed = await inbox.closedWith();
    expect(closed.code).toBe(CLOSE.quota);
    expect(retryAfterOf(closed.reason!)).toEqual({ message: 'this device has sent its share for today', retryAfterMs: 60_000 });
    // The batch that crossed the total was taken; the next one was not: everything acknowledged, and nothing else.
    const sent = all.flat();
    const bytes = (n: number) => payloadsOf(sent.slice(0, n)).reduce((b, p) => b + Buffer.byteLength(p), 0);
    expect(bytes(acked)).toBeGreaterThanOrEqual(300 * 1024);
    expect(bytes(acked - 40)).toBeLessThan(300 * 1024);
    expect(payloadsOf(await stored(server, 'daily-total-01'))).toEqual(payloadsOf(sent.slice(0, acked)));

    // A new socket, even for a new session, is refused before anything is claimed.
    for (const sessionId of ['daily-total-01', 'daily-total-02']) {
      const again = await hello(server, sessionId, device.token);
      expect(again.closed?.code, sessionId).toBe(CLOSE.quota);
    }
    // Another device has its own share.
    const theirs = await greet(server, 'daily-other-01', other.token);
    expect(await sendEvents(theirs.inbox, 'daily-other-01', all[0]!)).toBe(40);
    expect(app.stats.closedQuota).toBe(3);
    // What an operator alerts on: the quota, by device.
    expect(await metrics(server)).toContain(`framewise_quotas_reached_total{quota="writes-per-day",device="${device.deviceId}",address=""} 3`);

    // Midnight (UTC, on the server's clock): the rest goes through.
    clock.ms += 61_000;
    const next = await greet(server, 'daily-total-01', device.token);
    expect(next.ackedSeq).toBe(acked);
    for (const batch of all) if (batch[0]!.seq > acked) expect(await sendEvents(next.inbox, 'daily-total-01', batch)).toBe(batch.at(-1)!.seq);
    expect(payloadsOf(await stored(server, 'daily-total-01'))).toEqual(payloadsOf(sent));
    const listed = (await api<SessionsPage>(server, '/api/sessions', ADMIN)).sessions.map((s) => s.sessionId).sort();
    expect(listed).toEqual(['daily-other-01', 'daily-total-01']);
  }, SLOW);

  it('the app shows why and when, keeps the refused events in its outbox, waits, and sends them after the reset, losing nothing', async () => {
    // Two minutes before midnight: the wait the server gives, not one the app would pick itself.
    const clock = new Clock(EVE - 60_000);
    const { server, app } = await serve(clock, { writeLimits: { bytesPerSecond: 0, eventsPerSecond: 0, bytesPerDay: 200 * 1024, eventsPerDay: 0 } });
    const device = await enrol(server, 'bench camera');
    const recorded = events(1, 400, { ts: EVE - 60_000 });
    const outbox = new MemoryOutbox();
    outbox.add('app-session-01', recorded);
    // The browser's globals, from Node: a WebSocket and a Web Lock that is always granted.
    vi.stubGlobal('WebSocket', WebSocket);
    vi.stubGlobal('navigator', { locks: { request: (_name: string, _opts: unknown, fn: () => Promise<void>) => fn() } });
    const waits: { ms: number; go: () => void }[] = [];
    const statuses: SyncStatus[] = [];
    const client = new SyncClient(outbox.asOutbox, {
      url: `ws://127.0.0.1:${server.port}/sync`,
      credential: device.token,
      onStatus: (s) => statuses.push(s),
      now: clock.now,
      sleep: (ms) => new Promise<void>((go) => waits.push({ ms, go })),
    });
    client.start();
    try {
      const waiting = await waitFor('the app to be told to wait', () => (client.current.state === 'waiting' ? client.current : undefined));
      expect(waiting.error).toMatch(/^This device has sent its share for today\. Its events are kept on this device and sending resumes by itself at /);
      // Midnight is 120 s away; devices told the same time come back spread over a few seconds more.
      expect(waiting.retryAt! - clock.ms).toBeGreaterThanOrEqual(120_000);
      expect(waiting.retryAt! - clock.ms).toBeLessThanOrEqual(132_000);
      expect(waits[0]!.ms).toBe(waiting.retryAt! - clock.ms);
      expect(waits).toHaveLength(1);
      expect(waiting.closes[CLOSE.quota]).toBe(1);
      // What the server acknowledged is stored; everything after it is still in the outbox.
      const have = await stored(server, 'app-session-01');
      expect(have.length).toBeGreaterThan(0);
      expect(have.length).toBeLessThan(400);
      expect([...payloadsOf(have), ...payloadsOf(outbox.kept('app-session-01'))]).toEqual(payloadsOf(recorded));
      expect(app.stats.closedQuota).toBe(1);

      // The app sends nothing while it waits; when the wait is over (and the server's day has turned), the rest goes.
      clock.ms += 121_000;
      waits[0]!.go();
      await waitFor('the outbox to empty', async () => (await outbox.pendingCount()) === 0);
      expect(payloadsOf(await stored(server, 'app-session-01'))).toEqual(payloadsOf(recorded));
      expect(app.stats.closedQuota).toBe(1);
      expect(client.current.error).toBeUndefined();
      expect(statuses.filter((s) => s.state === 'waiting')).toHaveLength(1);
    } finally {
      client.stop();
    }
  }, SLOW);
});

describe('a device over its share', () => {
  it('is refused before its message is parsed: over its day, even a message that is not JSON gets 4429, not 1007', async () => {
    const clock = new Clock(EVE);
    const { server, app } = await serve(clock, { writeLimits: { bytesPerDay: 1024 } });
    const device = await enrol(server, 'bench camera');
    const { inbox } = await greet(server, 'early-refusal-01', device.token);
    expect(await sendEvents(inbox, 'early-refusal-01', events(1, 20, { ts: EVE - 60_000 }))).toBe(20);
    inbox.send('{"type":"events","sessionId":"early-refusal-01","events":[{"seq":21,' + '"x",'.repeat(1000));
    expect((await inbox.closedWith()).code).toBe(CLOSE.quota);
    expect(app.stats).toMatchObject({ closedQuota: 1, closedInvalid: 0 });
  }, SLOW);
});

describe("a device's sessions for the day", () => {
  it('past the limit, a hello for a new session is refused with 4429 and no session is made; its sessions already open still resume', async () => {
    const clock = new Clock(EVE);
    const { server, store } = await serve(clock, { writeLimits: { sessionsPerDay: 3 } });
    const device = await enrol(server, 'bench camera');
    for (const id of ['day-session-1', 'day-session-2', 'day-session-3']) {
      const { inbox } = await greet(server, id, device.token);
      expect(await sendEvents(inbox, id, events(1, 20, { ts: EVE - 60_000 }))).toBe(20);
      inbox.sock.close();
    }
    const fourth = await hello(server, 'day-session-4', device.token);
    expect(fourth.closed?.code).toBe(CLOSE.quota);
    expect(retryAfterOf(fourth.closed!.reason!)?.message).toBe('this device has opened its share of sessions for today');
    expect(await metrics(server)).toContain(`framewise_quotas_reached_total{quota="sessions-per-day",device="${device.deviceId}",address=""} 1`);
    expect(await store.claimSession('day-session-4', 'nobody-yet', EVE)).toEqual({ owner: 'nobody-yet', lastSeq: 0 }); // it was never claimed
    const resumed = await greet(server, 'day-session-2', device.token);
    expect(resumed.ackedSeq).toBe(20);
    expect(await sendEvents(resumed.inbox, 'day-session-2', events(21, 40, { ts: EVE - 60_000 }))).toBe(40);
    expect((await store.usage(device.deviceId, EVE)).sessions).toBe(3);
    clock.ms += DAY_MS;
    const tomorrow = await greet(server, 'day-session-5', device.token);
    expect(tomorrow.ackedSeq).toBe(0);
  }, SLOW);
});

describe("a device's rate", () => {
  it('holds its messages to its bytes a second, shared by its sockets, after a burst: slowed, never closed, when it sends one at a time', async () => {
    const clock = new Clock(EVE - 3_600_000);
    const waited: number[] = [];
    const rate = 32 * 1024;
    const { server, app } = await serve(clock, {
      writeLimits: { bytesPerSecond: rate, eventsPerSecond: 0, bytesPerDay: 0, eventsPerDay: 0 },
      // The server's clock moves by what it waits: the test takes no time.
      sleep: async (ms) => {
        waited.push(ms);
        clock.ms += ms;
      },
    });
    const device = await enrol(server, 'bench camera');
    const sockets = [await greet(server, 'rate-session-1', device.token), await greet(server, 'rate-session-2', device.token)];
    let sentBytes = 0;
    const perSession = batches(12, 40, clock.ms);
    let messages = 0;
    // Turn about on its two sockets, one message in flight, as the app sends.
    for (const batch of perSession) {
      for (const [n, { inbox }] of sockets.entries()) {
        const text = JSON.stringify({ type: 'events', sessionId: `rate-session-${n + 1}`, events: batch });
        sentBytes += Buffer.byteLength(text);
        messages++;
        inbox.send(text);
        expect(await inbox.until((m) => (m.type === 'ack' ? m.seq : undefined))).toBe(batch.at(-1)!.seq);
      }
    }
    // A burst of BURST_SECONDS of the rate, and never less than one message of the largest size.
    const burst = Math.max(rate * BURST_SECONDS, LIMITS.maxMessageBytes);
    expect(sentBytes).toBeGreaterThan(burst * 2);
    // It waited exactly what its bytes beyond the burst take at its rate (to the millisecond per message).
    const total = waited.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(((sentBytes - burst) / rate) * 1000);
    expect(total).toBeLessThanOrEqual(((sentBytes - burst) / rate) * 1000 + messages);
    expect(app.stats.rateWaits).toBe(waited.length);
    expect(app.stats.closedQuota).toBe(0);
    for (const id of ['rate-session-1', 'rate-session-2']) expect(await stored(server, id)).toHaveLength(12 * 40);
  }, SLOW);

  it('closes a device that piles messages on several sockets far beyond its rate with 4429 and when to retry; what was acknowledged stays', async () => {
    // The clock stands still: nothing refills, as when many sockets send at once.
    const clock = new Clock(EVE - 3_600_000);
    const { server, app } = await serve(clock, { writeLimits: { bytesPerSecond: 32 * 1024, eventsPerSecond: 0, bytesPerDay: 0, eventsPerDay: 0 }, sleep: async () => {} });
    const device = await enrol(server, 'bench camera');
    const sockets = await Promise.all([1, 2, 3, 4].map((n) => greet(server, `pile-session-${n}`, device.token)));
    const acked = await Promise.all(
      sockets.map(async ({ inbox }, n) => {
        const sessionId = `pile-session-${n + 1}`;
        let last = 0;
        for (const batch of batches(4, 60, clock.ms)) {
          inbox.send({ type: 'events', sessionId, events: batch });
          const reply = await inbox.next().catch(() => undefined);
          if (!reply) return { sessionId, last, closed: await inbox.closedWith() };
          last = reply.seq as number;
        }
        return { sessionId, last, closed: undefined };
      }),
    );
    const closes = acked.filter((a) => a.closed);
    expect(closes.length).toBeGreaterThan(0);
    for (const { closed } of closes) {
      expect(closed!.code).toBe(CLOSE.quota);
      expect(retryAfterOf(closed!.reason!)?.message).toBe('this device is sending faster than its share');
    }
    expect(app.stats.closedQuota).toBe(closes.length);
    expect(await metrics(server)).toContain(`framewise_quotas_reached_total{quota="write-rate",device="${device.deviceId}",address=""} ${closes.length}`);
    for (const { sessionId, last } of acked) expect((await stored(server, sessionId)).map((e) => e.seq)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  }, SLOW);
});

describe('the free-disk watermark', () => {
  it('below it, refuses events and hellos with 4507 (nothing of them stored, everything acknowledged kept), and takes writes again once there is room', async () => {
    const clock = new Clock(EVE - 3_600_000);
    let free = 10 * 1024 ** 3;
    const looked: string[] = [];
    const { server, app } = await serve(clock, {
      disk: {
        path: '/srv/framewise-data',
        minFreeBytes: 512 * 1024 ** 2,
        statfs: async (path) => {
          looked.push(path);
          return free;
        },
      },
    });
    const device = await enrol(server, 'bench camera');
    const [first, second, third] = batches(3, 40, clock.ms);
    const { inbox } = await greet(server, 'disk-session-01', device.token);
    expect(await sendEvents(inbox, 'disk-session-01', first!)).toBe(40);
    // The disk fills up (something else on it); the next look, a second later, sees it.
    free = 300 * 1024 ** 2;
    clock.ms += 1_001;
    inbox.send({ type: 'events', sessionId: 'disk-session-01', events: second });
    expect(await inbox.next().catch(() => undefined), 'no ack').toBeUndefined();
    const closed = await inbox.closedWith();
    expect(closed.code).toBe(CLOSE.storageLow);
    expect(retryAfterOf(closed.reason!)).toEqual({ message: "the server's disk is nearly full and takes no more for now", retryAfterMs: 60_000 });
    expect((await stored(server, 'disk-session-01')).map((e) => e.seq)).toEqual(first!.map((e) => e.seq));
    expect((await hello(server, 'disk-session-02', device.token)).closed?.code).toBe(CLOSE.storageLow);
    expect(app.stats.closedDiskLow).toBe(2);
    expect(await metrics(server)).toContain(`framewise_limits_hit_total{limit="disk-free",device="${device.deviceId}",address=""} 2`);
    expect(looked.every((p) => p === '/srv/framewise-data')).toBe(true);
    // Room again.
    free = 2 * 1024 ** 3;
    clock.ms += 1_001;
    const again = await greet(server, 'disk-session-01', device.token);
    expect(again.ackedSeq).toBe(40);
    expect(await sendEvents(again.inbox, 'disk-session-01', second!)).toBe(80);
    expect(await sendEvents(again.inbox, 'disk-session-01', third!)).toBe(120);
    expect(await stored(server, 'disk-session-01')).toHaveLength(120);
  }, SLOW);

  it('is read from the data directory\'s disk by the real server: FRAMEWISE_MIN_FREE_DISK_MIB above what is free refuses every write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fw-disk-'));
    const proc = await startServer({ FRAMEWISE_ADMIN_TOKEN: ADMIN, FRAMEWISE_DATA_DIR: join(dir, 'data'), FRAMEWISE_STATIC: '/nonexistent', FRAMEWISE_MIN_FREE_DISK_MIB: String(2 ** 31 - 1) });
    try {
      const device = await enrol(proc, 'bench camera');
      const refused = await hello(proc, 'real-disk-session', device.token);
      expect(refused.closed?.code).toBe(CLOSE.storageLow);
      expect(refused.closed?.reason).toMatch(/^the server's disk is nearly full/);
      expect(await api<{ closedDiskLow: number }>(proc, '/api/stats', ADMIN)).toMatchObject({ closedDiskLow: 1 });
      expect(proc.output.some((l) => l.includes('the disk is nearly full'))).toBe(true);
    } finally {
      await proc.kill('SIGTERM');
    }
  }, SLOW);
});

describe('retention', () => {
  const seedSessions = async (server: { port: number }, token: string, ids: string[], ts: number) => {
    for (const id of ids) {
      const { inbox } = await greet(server, id, token);
      expect(await sendEvents(inbox, id, events(1, 30, { ts }))).toBe(30);
      inbox.sock.close();
    }
  };

  it('deletes sessions that received nothing for FRAMEWISE_RETENTION_DAYS, with their events, on its timer, and counts them', async () => {
    const clock = new Clock(EVE - 40 * DAY_MS);
    const { server, app } = await serve(clock, { retentionDays: 30, retentionEveryMs: 20 });
    const device = await enrol(server, 'bench camera');
    await seedSessions(server, device.token, ['old-session-1', 'old-session-2', 'old-session-3'], clock.ms);
    // 29 days on, one of them receives more, and a new one starts; two days later the other two are 31 days idle.
    clock.ms += 29 * DAY_MS;
    const resumed = await greet(server, 'old-session-2', device.token);
    expect(await sendEvents(resumed.inbox, 'old-session-2', events(31, 40, { ts: clock.ms }))).toBe(40);
    await seedSessions(server, device.token, ['new-session-1'], clock.ms);
    expect(app.stats.retentionSessions).toBe(0);
    clock.ms += 2 * DAY_MS;
    await waitFor('the old sessions to go', () => app.stats.retentionSessions === 2);
    const listed = (await api<SessionsPage>(server, '/api/sessions', ADMIN)).sessions.map((s) => s.sessionId).sort();
    expect(listed).toEqual(['new-session-1', 'old-session-2']);
    expect(await stored(server, 'old-session-1')).toEqual([]);
    expect(await stored(server, 'old-session-2')).toHaveLength(40);
    expect(await api<{ retentionSessions: number; retentionEvents: number }>(server, '/api/stats', ADMIN)).toMatchObject({ retentionSessions: 2, retentionEvents: 60 });
  }, SLOW);

  it('is off by default: passes run, nothing is deleted', async () => {
    const clock = new Clock(EVE - 40 * DAY_MS);
    const { server, app } = await serve(clock, { retentionEveryMs: 20 });
    const device = await enrol(server, 'bench camera');
    await seedSessions(server, device.token, ['kept-session-1', 'kept-session-2'], clock.ms);
    clock.ms += 3650 * DAY_MS;
    const runs = app.stats.retentionRuns;
    await waitFor('two more passes', () => app.stats.retentionRuns >= runs + 2);
    expect(app.stats.retentionSessions).toBe(0);
    expect((await api<SessionsPage>(server, '/api/sessions', ADMIN)).sessions).toHaveLength(2);
  }, SLOW);
});
