// Times a device sends are judged against the server's clock: an event whose `ts` lies outside
// the window (FRAMEWISE_MAX_CLOCK_SKEW_MS, ±7 days by default) closes the socket with 1007 and a
// reason naming it, and nothing of its batch is stored. The audit's probe was a verdict with
// ts = 1e16, which was stored and blanked the dashboard for good.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE } from '../src/sync/protocol';
import type { SessionsPage } from '../src/sync/trainer-api';
import { createApp } from './app';
import { loadConfig, ServerConfigError } from './config';
import { SqliteStore } from './sqlite-store';
import { DEFAULT_MAX_CLOCK_SKEW_MS, eventTimeProblem } from './sync-connection';
import { completed, DESK, executing, Recording } from '../test/server/guided-sessions';
import { startServer, type ServerProcess } from '../test/server/spawn-server';
import { api, enrol, eventsText, greet, sendEvents } from '../test/server/test-support';

const DAY = 86_400_000;
const ADMIN = `times-admin-${process.pid}-${Math.random().toString(36).slice(2)}`;
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
  });

  it('takes a backlog recorded days ago within the window, and a clock a few minutes off', async () => {
    const dev = await enrol(server, 'offline tablet');
    const backlog = firstStep(Date.now() - 6 * DAY).end(Date.now() - 6 * DAY + 9_000);
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
