// Times a device sends are judged against the server's clock: an event whose `ts` lies outside
// the window (FRAMEWISE_MAX_CLOCK_SKEW_MS, ±7 days by default) closes the socket with 1007 and a
// reason naming it, and nothing of its batch is stored. The audit's probe was a verdict with
// ts = 1e16, which was stored and blanked the dashboard for good.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE } from '../src/sync/protocol';
import type { SessionFilter, SessionsPage, SessionSummary } from '../src/sync/trainer-api';
import { createApp } from './app';
import { loadConfig, ServerConfigError } from './config';
import { SqliteStore } from './sqlite-store';
import { DEFAULT_MAX_CLOCK_SKEW_MS, eventTimeProblem } from './sync-connection';
import { completed, DESK, executing, Recording } from '../test/server/guided-sessions';
import { startServer, type ServerProcess } from '../test/server/spawn-server';
import { api, enrol, eventsText, greet, sendEvents } from '../test/server/test-support';
import { pgUnreachable } from '../test/server/pg-support';
import { postgresKind, sqliteKind, type FreshStore } from '../test/server/store-kinds';
import { Clock } from '../test/server/trainer-fixtures';
import { decodeCursor, type EventStore } from './store';
import { compareNewest } from '../src/ui/dashboard/sessions-state';

const DAY = 86_400_000;
const ADMIN = `times-admin-${process.pid}-${Math.random().toString(36).slice(2)}-Wq4Zr8Kp2Xm7Tb5Nc9`;
let server: ServerProcess;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fw-times-'));
  server = await startServer({ FRAMEWISE_ADMIN_TOKEN: ADMIN, FRAMEWISE_DATA_DIR: join(dir, 'data'), FRAMEWISE_STATIC: join(dir, 'none') });
}, 40_000);
afterAll(async () => server?.kill('SIGTERM'));

const sessions = async () => (await api<SessionsPage>(server, '/api/sessions?limit=200', ADMIN)).sessions;

/** The desk task's first step, as the app records it, on a device whose clock reads `start`. */
const firstStep = (start: number) => new Recording(DESK, start).verdict(start + 250, executing(0)).verdict(start + 4_000, completed(0, 1, 3_750)).verdict(start + 4_250, executing(1));

describe('an event time far from the server clock', () => {
  it('closes the sync socket with 1007 naming the event and the limit, and stores nothing of that batch', async () => {
    const dev = await enrol(server, 'desk camera');
    const rec = firstStep(Date.now());
    const first = await greet(server, 'times-session-01', dev.token);
    expect(await sendEvents(first.inbox, 'times-session-01', rec.events)).toBe(4);
    // The audit's probe: the next verdict, stamped 1e16 (the year 318857), in a batch with a good one before it.
    rec.verdict(Date.now(), executing(1, { heldMs: 500 }));
    const probe = { ...rec.verdict(Date.now(), executing(1, { heldMs: 750 })).events.at(-1)!, ts: 1e16 };
    first.inbox.send({ type: 'events', sessionId: 'times-session-01', events: [rec.events[4], probe] });
    const closed = await first.inbox.closedWith();
    expect(closed.code).toBe(CLOSE.invalid);
    expect(closed.reason).toMatch(/^event 6: ts 10000000000000000 is [\d.]+ years ahead of the server clock \(limit ±7 days\)$/);
    // Nothing of the batch, not even its good first event: the device resumes from 4.
    const again = await greet(server, 'times-session-01', dev.token);
    expect(again.ackedSeq).toBe(4);
    expect(JSON.parse(await eventsText(server, 'times-session-01', ADMIN))).toHaveLength(4);

    // Eight days behind, from a clock set wrong or a backlog held too long: refused the same way, and said so.
    const behind = { ...rec.events[4]!, ts: Date.now() - 8 * DAY };
    again.inbox.send({ type: 'events', sessionId: 'times-session-01', events: [behind] });
    expect(await again.inbox.closedWith()).toEqual({ code: CLOSE.invalid, reason: expect.stringMatching(/^event 5: ts \d+ is 8 days behind the server clock \(limit ±7 days\)$/) });
    expect((await sessions()).find((s) => s.sessionId === 'times-session-01')).toMatchObject({ events: 4, lastSeq: 4, lastTs: rec.events[3]!.ts });
    // The operator can alert on it: both refusals counted against the device.
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    expect(metrics).toContain(`framewise_limits_hit_total{limit="event-time",device="${dev.deviceId}",address=""} 2`);
    expect(metrics).toContain(`framewise_sync_closed_total{code="1007",device="${dev.deviceId}",address=""} 2`);
  });

  it('takes a backlog recorded days ago within the window, and a clock a few minutes off', async () => {
    const dev = await enrol(server, 'offline tablet');
    const sixDaysAgo = Date.now() - 6 * DAY;
    const backlog = firstStep(sixDaysAgo).end(sixDaysAgo + 9_000);
    const fast = firstStep(Date.now() + 5 * 60_000);
    const { inbox } = await greet(server, 'times-backlog-01', dev.token);
    expect(await sendEvents(inbox, 'times-backlog-01', backlog.events)).toBe(5);
    inbox.send({ type: 'hello', sessionId: 'times-fast-01', token: dev.token });
    await inbox.next();
    expect(await sendEvents(inbox, 'times-fast-01', fast.events)).toBe(4);
    inbox.sock.close();
    const listed = new Map((await sessions()).map((s) => [s.sessionId, s]));
    expect(listed.get('times-backlog-01')).toMatchObject({ events: 5, startedTs: backlog.events[0]!.ts, durationMs: 9_000, outcome: 'abandoned' });
    expect(listed.get('times-fast-01')).toMatchObject({ events: 4, startedTs: fast.events[0]!.ts });
  });

  it('takes its window from FRAMEWISE_MAX_CLOCK_SKEW_MS, a whole number of milliseconds from a minute to ten years', async () => {
    expect(loadConfig({}).maxClockSkewMs).toBe(7 * DAY);
    expect(DEFAULT_MAX_CLOCK_SKEW_MS).toBe(7 * DAY);
    expect(loadConfig({ FRAMEWISE_MAX_CLOCK_SKEW_MS: '3600000' }).maxClockSkewMs).toBe(3_600_000);
    for (const bad of ['a week', '-1', '0', '59999', '1e9', String(3651 * DAY)]) {
      expect(() => loadConfig({ FRAMEWISE_MAX_CLOCK_SKEW_MS: bad }), bad).toThrow(ServerConfigError);
      expect(() => loadConfig({ FRAMEWISE_MAX_CLOCK_SKEW_MS: bad }), bad).toThrow(/^FRAMEWISE_MAX_CLOCK_SKEW_MS must be a whole number from 60000 to 315360000000/);
    }
    // An hour's window: two hours back is refused there, though the default would take it.
    const store = await SqliteStore.open(join(mkdtempSync(join(tmpdir(), 'fw-times-hour-')), 'store.sqlite'));
    const app = await createApp({ store, adminToken: ADMIN, hosts: ['*'], origins: ['*'], maxClockSkewMs: 3_600_000, log: () => {} });
    try {
      const local = await app.listen(0, '127.0.0.1');
      const target = { port: local.port, url: `http://127.0.0.1:${local.port}` };
      const dev = await enrol(target, 'hourly');
      const { inbox } = await greet(target, 'times-hour-01', dev.token);
      inbox.send({ type: 'events', sessionId: 'times-hour-01', events: firstStep(Date.now() - 2 * 3_600_000).events });
      expect(await inbox.closedWith()).toEqual({ code: CLOSE.invalid, reason: expect.stringMatching(/^event 1: ts \d+ is 7\d{3} s behind the server clock \(limit ±3600 s\)$/) });
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('judges each event on its own and names the first one out, to the millisecond', () => {
    const now = 1_800_000_000_000;
    const at = (...ts: number[]) => ts.map((t, i) => ({ seq: 41 + i, ts: t }));
    expect(eventTimeProblem(at(now - DAY, now, now + DAY), now, DAY)).toBeUndefined();
    expect(eventTimeProblem(at(now, now + DAY + 1), now, DAY)).toBe('event 42: ts 1800086400001 is 1 day ahead of the server clock (limit ±1 day)');
    expect(eventTimeProblem(at(now - DAY - 1, now + 2 * DAY), now, DAY)).toMatch(/^event 41: .* behind/);
    expect(eventTimeProblem(at(-1e300), now, DAY)).toMatch(/^event 41: ts -1e\+300 is [\d.e+]+ years behind/);
  });
});

// ---- the list's order: the server's clock, not the devices' ----

const pgWhy = await pgUnreachable();
const kinds = [sqliteKind(), ...(pgWhy ? [] : [postgresKind()])];
afterAll(async () => {
  for (const k of kinds) await k.cleanUp();
});

const T = 1_800_000_000_000;
const ids = (list: readonly SessionSummary[]) => list.map((x) => x.sessionId);
const DEVICE = { deviceId: 'times-device-01', name: 'Times bench', secretHash: '00'.repeat(32), createdAt: T - 86_400_000, revokedAt: null };

/** Every page, `limit` at a time, as the dashboard's Load more walks them. */
async function walk(store: EventStore, limit: number, filter: SessionFilter = {}): Promise<string[]> {
  const out: string[] = [];
  let cursor: ReturnType<typeof decodeCursor>;
  do {
    const page = await store.sessions(limit, cursor, filter);
    out.push(...ids(page.sessions));
    cursor = page.next === null ? undefined : decodeCursor(page.next);
  } while (cursor);
  return out;
}

/** The previous release's tables, with its index on the first event's time, and two sessions in them: one stamped 1e16, received a minute before the other. */
async function previousRelease(db: FreshStore): Promise<void> {
  const { real, int, eventsSuffix } = db.types;
  await db.sql(`CREATE TABLE fw_devices (device_id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL, created_at ${real} NOT NULL, revoked_at ${real})`);
  await db.sql(`CREATE TABLE fw_sessions (session_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, created_at ${real} NOT NULL,
    events ${int} NOT NULL DEFAULT 0, last_seq ${int} NOT NULL DEFAULT 0, first_ts ${real}, last_ts ${real}, last_state TEXT)`);
  await db.sql('CREATE INDEX fw_sessions_newest ON fw_sessions (first_ts DESC, session_id DESC) WHERE first_ts IS NOT NULL');
  await db.sql(`CREATE TABLE fw_events (session_id TEXT NOT NULL, seq ${int} NOT NULL, ts ${real} NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (session_id, seq))${eventsSuffix}`);
  await db.sql('INSERT INTO fw_devices VALUES (?, ?, ?, ?, NULL)', [DEVICE.deviceId, DEVICE.name, DEVICE.secretHash, DEVICE.createdAt]);
  for (const [id, receivedAt, start] of [['stored-at-1e16', T - 60_000, 1e16], ['stored-later', T, T - 3_600_000]] as const) {
    const rec = firstStep(start);
    await db.sql('INSERT INTO fw_sessions VALUES (?, ?, ?, ?, ?, ?, ?, NULL)', [id, DEVICE.deviceId, receivedAt, rec.events.length, rec.events.length, start, rec.events.at(-1)!.ts]);
    for (const e of rec.events) await db.sql('INSERT INTO fw_events VALUES (?, ?, ?, ?, ?)', [id, e.seq, e.ts, e.kind, JSON.stringify(e.payload)]);
  }
}

describe.each(kinds)('the $name store lists by receipt', (kind) => {
  it('newest received first, whatever times the devices claim; pages, filters and look-ups agree, and so does the dashboard', async () => {
    const clock = new Clock(T);
    const store = await kind.fresh().open({ now: clock.now });
    await store.createDevice(DEVICE);
    // Received in this order; the devices' clocks say otherwise. The first was stored before times were judged.
    const sessions: [string, number][] = [
      ['clock-1e16', 1e16],
      ['clock-6-days-ahead', T + 6 * DAY],
      ['clock-right', T + 2_000],
      ['clock-6-days-behind', T - 6 * DAY],
    ];
    for (const [i, [id, start]] of sessions.entries()) {
      clock.ms = T + i * 1_000;
      await store.claimSession(id, DEVICE.deviceId, clock.ms);
      expect(await store.append(DEVICE.deviceId, id, firstStep(start).events)).toMatchObject({ ok: true, stored: 4 });
    }
    // Two greeted in the same millisecond (a backlog synced at once): the device's start time orders them.
    for (const [id, start] of [['backlog-older', T - DAY], ['backlog-newer', T - DAY + 60_000]] as const) {
      await store.claimSession(id, DEVICE.deviceId, T + 10_000);
      await store.append(DEVICE.deviceId, id, firstStep(start).events);
    }
    const newest = ['backlog-newer', 'backlog-older', 'clock-6-days-behind', 'clock-right', 'clock-6-days-ahead', 'clock-1e16'];
    const listed = (await store.sessions(50)).sessions;
    expect(ids(listed)).toEqual(newest);
    expect(listed.map((x) => x.receivedTs)).toEqual([T + 10_000, T + 10_000, T + 3_000, T + 2_000, T + 1_000, T]);
    for (const limit of [1, 2, 4]) expect(await walk(store, limit), `pages of ${limit}`).toEqual(newest);
    expect(await walk(store, 1, { device: DEVICE.deviceId })).toEqual(newest);
    expect(await walk(store, 2, { task: 'desk-setup' })).toEqual(newest);
    expect(ids(await store.sessionsById(['clock-1e16', 'clock-right', 'backlog-older']))).toEqual(['backlog-older', 'clock-right', 'clock-1e16']);
    // The dashboard places the live feed's sessions by the same order.
    expect(ids([...listed].reverse().sort(compareNewest))).toEqual(newest);
    // A session that arrives later goes on top, even with a start a week old; the next page of an earlier walk is unmoved.
    const first = await store.sessions(2);
    clock.ms = T + 20_000;
    await store.claimSession('late-arrival', DEVICE.deviceId, clock.ms);
    await store.append(DEVICE.deviceId, 'late-arrival', firstStep(T - 6 * DAY).events);
    expect(ids((await store.sessions(1)).sessions)).toEqual(['late-arrival']);
    expect(ids((await store.sessions(50, decodeCursor(first.next!))).sessions)).toEqual(newest.slice(2));
  });

  it("migrates the previous release's tables: its index on the device's times goes, and what it stored is listed by receipt", async () => {
    const db = kind.fresh();
    await previousRelease(db);
    const store = await db.open({ now: () => T + 60_000 });
    expect(ids((await store.sessions(50)).sessions)).toEqual(['stored-later', 'stored-at-1e16']);
    expect(await walk(store, 1)).toEqual(['stored-later', 'stored-at-1e16']);
    const [later, ahead] = (await store.sessions(50)).sessions;
    expect(later).toMatchObject({ receivedTs: T, startedTs: T - 3_600_000, taskTitle: 'Set up your desk', stepsDone: 1 });
    expect(ahead).toMatchObject({ receivedTs: T - 60_000, startedTs: 1e16 });
    const indexes =
      kind.name === 'sqlite'
        ? (await db.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'fw_sessions' AND sql IS NOT NULL")).map((r) => r.name)
        : (await db.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE tablename = 'fw_sessions' AND indexname <> 'fw_sessions_pkey'")).map((r) => r.indexname);
    const names = indexes.map((n) => n.replace(/^.*_sessions_/, '')).sort();
    expect(names).not.toContain('newest');
    expect(names).toEqual(expect.arrayContaining(['recv', 'dev_recv']));
  });
});
