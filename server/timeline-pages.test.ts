// Bounded reads (issue 22): a session's timeline is kept on write (its derailments and
// instructions in their own tables, in the append's transaction) and read back in bounded pages;
// its exports are streamed a page at a time; item pages and exports are let through a few at a
// time (503 beyond); a session holds at most FRAMEWISE_MAX_SESSION_EVENTS (4413 beyond). The
// oracle for every timeline is the pure fold over the same events (timelineSteps), which reads
// nothing the store keeps; the sessions are the app's own events (verdicts of src/task/machine.ts,
// instructions as the guide records them), with a long one that derails again and again.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { CLOSE, type SyncEvent } from '../src/sync/protocol';
import { TIMELINE_ITEMS_FIRST, TIMELINE_LIST_FIRST, type SessionsPage, type SessionTimeline, type TimelineStep } from '../src/sync/trainer-api';
import { SyncClient } from '../src/sync/client';
import { createApp } from './app';
import { SqliteStore } from './sqlite-store';
import { MemoryOutbox } from '../test/server/memory-outbox';
import { loadConfig, ServerConfigError } from './config';
import { timelineCsv } from './csv';
import { sessionsExport } from './trainer-routes';
import { sessionExport, loadTimeline, timelineItemsPage } from './timeline-pages';
import { timelineSteps } from './session-facts';
import type { EventStore } from './store';
import adminApi from './plugins/admin-api';
import requestGuard from './plugins/request-guard';
import { completed, derailed, DESK, executing, LAPTOP_LEFT, Recording } from '../test/server/guided-sessions';
import { ADMIN as BARE_ADMIN, bareServer, closeAll } from '../test/server/plugin-harness';
import { pgUnreachable, PG_URL } from '../test/server/pg-support';
import { startServer, type ServerProcess } from '../test/server/spawn-server';
import { postgresKind, sqliteKind, type StoreKind } from '../test/server/store-kinds';
import { api, enrol, greet, sendEvents, waitFor } from '../test/server/test-support';
import { BENCH, history, KITCHEN, seed, T0 } from '../test/server/trainer-fixtures';

const PHONE = 'A cell phone is in view — it does not belong here';

/**
 * The desk task, with step 2 derailing `cycles` times: the laptop leaves and comes back, a phone
 * shows up mid-derailment (a new reason: a new derailment), instructions given at the very time a
 * derailment starts and one stamped a little before it (a device's clock is not monotonic), frames
 * between; the last derailment is still open when the recording stops.
 */
function derailingSession(start: number, cycles: number): Recording {
  const rec = new Recording(DESK, start).instruction(start + 100, 0, 'Bring a laptop into view').verdict(start + 250, executing(0, { missing: ['laptop'] }));
  rec.verdict(start + 1_000, completed(0, 1, 1_000)).instruction(start + 1_000, 1, 'Bring a keyboard into view').verdict(start + 1_250, executing(1));
  for (let i = 0; i < cycles; i++) {
    const ts = start + 2_000 + i * 1_000;
    rec.verdict(ts, derailed(1, LAPTOP_LEFT, ts)).instruction(ts, 1, 'Bring a laptop into view');
    rec.verdict(ts + 250, derailed(1, LAPTOP_LEFT, ts)).detections(ts + 300);
    if (i % 5 === 2) rec.verdict(ts + 400, derailed(1, PHONE, ts + 400)).instruction(ts + 350, 1, 'Take the cell phone out of view');
    rec.verdict(ts + 600, executing(1, { recovered: true })).instruction(ts + 600, 1, 'Bring a keyboard into view');
  }
  const last = start + 2_000 + cycles * 1_000;
  return rec.verdict(last, derailed(1, LAPTOP_LEFT, last)).verdict(last + 250, derailed(1, LAPTOP_LEFT, last));
}

const LONG = 'desk-derailing-01';
const sessionsOf = () => ({ ...history(), [LONG]: { device: BENCH.deviceId, events: derailingSession(T0 + 800_000, 60).events } });

/** The oracle: the whole timeline, folded from the events by the pure function. */
const folded = (timeline: { session: SessionTimeline['session'] }, events: readonly SyncEvent[]): SessionTimeline => ({ session: timeline.session, steps: timelineSteps(events, timeline.session.lastTs) });

/** A timeline made whole: its first page, then every list's remaining pages of `pageSize`. */
async function wholeTimeline(store: EventStore, id: string, perList: number, inAll: number, pageSize: number): Promise<SessionTimeline> {
  const first = (await loadTimeline(store, id, perList, inAll))!;
  const steps: TimelineStep[] = [];
  for (const step of first.steps) {
    const derailments = [...step.derailments];
    for (let next = step.derailmentsNext; next !== null; ) {
      const page = (await timelineItemsPage(store, id, step.index, 'derailments', Number(next), pageSize))!;
      expect(page.items.length).toBeLessThanOrEqual(pageSize);
      derailments.push(...page.items);
      next = page.next;
    }
    const instructions = [...step.instructions];
    for (let next = step.instructionsNext; next !== null; ) {
      const page = (await timelineItemsPage(store, id, step.index, 'instructions', Number(next), pageSize))!;
      expect(page.items.length).toBeLessThanOrEqual(pageSize);
      instructions.push(...page.items);
      next = page.next;
    }
    steps.push({ ...step, derailments, instructions, derailmentsNext: null, instructionsNext: null });
  }
  return { session: first.session, steps };
}

const text = async (lines: AsyncGenerator<string> | undefined) => {
  let out = '';
  for await (const l of lines!) out += l;
  return out;
};

/** `store` counting the rows each timeline read returns. */
function counting(store: EventStore): { store: EventStore; most: () => number } {
  let most = 0;
  const seen = <T extends unknown[]>(rows: T) => ((most = Math.max(most, rows.length)), rows);
  const wrapped = new Proxy(store, {
    get(target, key) {
      if (key === 'timelineItems') return async (...a: Parameters<EventStore['timelineItems']>) => seen(await target.timelineItems(...a));
      if (key === 'timelineItemsByTime') return async (...a: Parameters<EventStore['timelineItemsByTime']>) => seen(await target.timelineItemsByTime(...a));
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: wrapped, most: () => most };
}

const pgWhy = await pgUnreachable();
if (pgWhy) console.warn(`bounded timeline reads on PostgreSQL skipped: no PostgreSQL at ${PG_URL} (${pgWhy}); set FRAMEWISE_TEST_PG to run them`);
const kinds: StoreKind[] = [sqliteKind(), ...(pgWhy ? [] : [postgresKind()])];
afterAll(async () => {
  for (const k of kinds) await k.cleanUp();
});

describe.each(kinds)('a timeline kept on write, on $name', (kind) => {
  it('serves what the pure fold of the same events gives: small sessions whole, a long one a bounded page at a time', async () => {
    const store = await kind.fresh().open();
    const sessions = sessionsOf();
    await seed(store, sessions);
    for (const [id, s] of Object.entries(sessions)) {
      const served = (await loadTimeline(store, id))!;
      const whole = folded(served, s.events);
      if (id !== LONG) expect(served, id).toEqual(whole);
      // Paged in small pieces, every session comes out whole and in order.
      expect(await wholeTimeline(store, id, 4, 10, 7), id).toEqual(whole);
    }
    // The long session: 60 derailments and more in step 2, each list and the whole first page bounded.
    const whole = folded((await loadTimeline(store, LONG))!, sessions[LONG].events);
    const step2 = whole.steps[1]!;
    expect([step2.derailmentsTotal, step2.instructionsTotal, step2.derailments.at(-1)!.ongoing]).toEqual([73, 133, true]);
    const first = (await loadTimeline(store, LONG, 4, 10))!;
    expect(first.steps.map((s) => [s.derailments.length, s.instructions.length])).toEqual([
      [0, 1],
      [4, 4],
      [0, 0],
      [0, 0],
    ]);
    expect(first.steps[1]).toMatchObject({ derailmentsTotal: 73, instructionsTotal: 133, derailments: step2.derailments.slice(0, 4), instructions: step2.instructions.slice(0, 4) });
    expect(first.steps[1]!.derailmentsNext).not.toBeNull();
    // By default: at most TIMELINE_LIST_FIRST of a list, TIMELINE_ITEMS_FIRST in all.
    const byDefault = (await loadTimeline(store, LONG))!;
    expect(byDefault.steps[1]!.derailments).toEqual(step2.derailments.slice(0, Math.min(73, TIMELINE_LIST_FIRST)));
    expect(byDefault.steps.reduce((n, s) => n + s.derailments.length + s.instructions.length, 0)).toBeLessThanOrEqual(TIMELINE_ITEMS_FIRST);
    // The open derailment is the last of its list: alone on a page of its own when the one before is full.
    const closed = step2.derailmentsTotal - 1;
    expect(await timelineItemsPage(store, LONG, 1, 'derailments', 0, closed)).toEqual({ items: step2.derailments.slice(0, closed), next: expect.any(String) });
    expect(await timelineItemsPage(store, LONG, 1, 'derailments', 0, closed + 1)).toEqual({ items: step2.derailments, next: null });
    expect(await timelineItemsPage(store, 'no-such-session', 1, 'derailments', 0, 5)).toBeUndefined();
  });

  it('keeps it as the session grows, and reads it without reading a single event', async () => {
    const fresh = kind.fresh();
    const store = await fresh.open();
    const rec = derailingSession(T0, 12);
    await seed(store, { [LONG]: { device: KITCHEN.deviceId, events: rec.events } });
    // More of the same session, in batches of 7: the open derailment closes, more are given.
    const all = [...rec.events, ...derailingSession(T0, 30).events.slice(rec.events.length)];
    for (let i = rec.events.length; i < all.length; i += 7) expect(await store.append(KITCHEN.deviceId, LONG, all.slice(i, i + 7))).toMatchObject({ ok: true });
    const served = await wholeTimeline(store, LONG, 5, 12, 9);
    expect(served).toEqual(folded(served, all));
    const json = await text(await sessionExport(store, LONG, 'json', 4));
    const csv = await text(await sessionExport(store, LONG, 'csv', 4));
    // Take every event away behind the store's back: a timeline folded from them would change.
    await fresh.sql('DELETE FROM fw_events');
    expect(await wholeTimeline(store, LONG, 5, 12, 9)).toEqual(served);
    expect(await text(await sessionExport(store, LONG, 'json', 4))).toBe(json);
    expect(await text(await sessionExport(store, LONG, 'csv', 4))).toBe(csv);
  });

  it('exports a page at a time, byte for byte what the whole timeline gives', async () => {
    const store = await kind.fresh().open();
    const sessions = sessionsOf();
    await seed(store, sessions);
    const c = counting(store);
    for (const [id, s] of Object.entries(sessions)) {
      const whole = folded((await loadTimeline(store, id))!, s.events);
      expect(await text(await sessionExport(c.store, id, 'json', 3)), id).toBe(JSON.stringify(whole));
      expect(await text(await sessionExport(c.store, id, 'csv', 3)), id).toBe(timelineCsv(whole));
    }
    // No read held more than a page.
    expect(c.most()).toBe(3);
    expect(await sessionExport(store, 'no-such-session', 'csv')).toBeUndefined();
  });

  it('folds the timelines of sessions stored before it was kept when the store opens, and one an older instance appended to on the next append', async () => {
    const fresh = kind.fresh();
    const store = await fresh.open();
    const sessions = sessionsOf();
    await seed(store, sessions);
    const before = await Promise.all(Object.keys(sessions).map((id) => wholeTimeline(store, id, 3, 8, 5)));
    // As the previous release left them: no timeline tables' rows, nothing said of them on the sessions.
    await fresh.sql('DELETE FROM fw_timeline');
    await fresh.sql('DELETE FROM fw_timeline_steps');
    await fresh.sql('UPDATE fw_sessions SET timeline_seq = 0, timeline_version = 0');
    expect((await loadTimeline(store, LONG))!.steps[1]!.derailmentsTotal).toBe(1);
    const again = await fresh.open();
    expect(await Promise.all(Object.keys(sessions).map((id) => wholeTimeline(again, id, 3, 8, 5)))).toEqual(before);

    // An older instance (no timeline kept) stored the last 40 events: the next append folds the timeline again, from the first event.
    const all = sessions[LONG].events;
    await fresh.sql(`DELETE FROM fw_timeline WHERE session_id = '${LONG}' AND seq > ${all.length - 40}`);
    await fresh.sql(`UPDATE fw_sessions SET timeline_seq = ${all.length - 40} WHERE session_id = '${LONG}'`);
    const next = derailingSession(T0 + 800_000, 70).events.slice(all.length);
    expect(await again.append(BENCH.deviceId, LONG, next)).toMatchObject({ ok: true });
    const grown = [...all, ...next];
    const served = await wholeTimeline(again, LONG, 3, 8, 5);
    expect(served).toEqual(folded(served, grown));
  });

  it('takes a session up to the event cap, and nothing of a run that would take it past', async () => {
    const store = await kind.fresh().open();
    const rec = derailingSession(T0, 10);
    await seed(store, { [LONG]: { device: BENCH.deviceId, events: rec.events.slice(0, 30) } });
    const before = (await store.sessionsById([LONG]))[0]!;
    // 30 stored, a cap of 40: 15 more would make 45.
    expect(await store.append(BENCH.deviceId, LONG, rec.events.slice(30, 45), { maxEvents: 40 })).toEqual({ ok: false, why: 'full', held: 30 });
    expect((await store.sessionsById([LONG]))[0]).toEqual(before);
    expect(await store.events(LONG, 0, 100)).toHaveLength(30);
    expect(await store.append(BENCH.deviceId, LONG, rec.events.slice(30, 40), { maxEvents: 40 })).toMatchObject({ ok: true, seq: 40, stored: 10 });
    // What was stored already is no run past the cap: a resend is acknowledged as before.
    expect(await store.append(BENCH.deviceId, LONG, rec.events.slice(35, 40), { maxEvents: 40 })).toMatchObject({ ok: true, seq: 40, stored: 0 });
    expect(await store.append(BENCH.deviceId, LONG, rec.events.slice(40, 41), { maxEvents: 40 })).toEqual({ ok: false, why: 'full', held: 40 });
    const served = await wholeTimeline(store, LONG, 50, 1000, 50);
    expect(served).toEqual(folded(served, rec.events.slice(0, 40)));
  });
});

describe('a long session', () => {
  it('exports 100,000 events of a guided session whole, streamed, and opens with a bounded first page', async () => {
    const store = await kinds[0]!.fresh().open();
    await seed(store, {});
    await store.claimSession(LONG, BENCH.deviceId, T0);
    // 100,000 and more events: verdicts, frames and instructions, 8,000 derailments in step 2.
    const rec = derailingSession(T0, 20_000);
    expect(rec.events.length).toBeGreaterThan(100_000);
    for (let i = 0; i < rec.events.length; i += 2_000) expect(await store.append(BENCH.deviceId, LONG, rec.events.slice(i, i + 2_000))).toMatchObject({ ok: true });
    const c = counting(store);
    const first = (await loadTimeline(c.store, LONG))!;
    expect(first.session.events).toBe(rec.events.length);
    expect(first.steps[1]).toMatchObject({ derailmentsTotal: 24_001, instructionsTotal: 44_001 });
    expect(first.steps.reduce((n, s) => n + s.derailments.length + s.instructions.length, 0)).toBeLessThanOrEqual(TIMELINE_ITEMS_FIRST);
    let rows = 0;
    let chunks = 0;
    for await (const chunk of (await sessionExport(c.store, LONG, 'csv'))!) {
      rows += chunk.split('\r\n').length - 1;
      chunks++;
    }
    // A header, 4 steps, every derailment and instruction: written in many pieces, none read whole.
    expect(rows).toBe(1 + 4 + 24_001 + 44_002);
    expect(chunks).toBeGreaterThan(60);
    expect(c.most()).toBeLessThanOrEqual(TIMELINE_ITEMS_FIRST);
    const parsed = JSON.parse(await text(await sessionExport(c.store, LONG, 'json'))) as SessionTimeline;
    expect(parsed.steps[1]!.derailments).toHaveLength(24_001);
    expect(parsed.steps[1]!.instructions).toHaveLength(44_001);
    expect(c.most()).toBeLessThanOrEqual(TIMELINE_ITEMS_FIRST);
  }, 120_000);
});

// ---- through HTTP: heavy reads, the event cap, the settings ----

afterEach(closeAll);

describe('heavy reads', () => {
  it('answers at most FRAMEWISE_HEAVY_READS item pages and exports at once: one more gets 503 with Retry-After, counted; the slot comes back when a read ends', async () => {
    const inner = await kinds[0]!.fresh().open();
    await seed(inner, sessionsOf());
    // A store whose item reads wait until the test lets them go: reads in flight, held.
    let gate: (() => void) | undefined;
    let held = new Promise<void>((r) => (gate = r));
    const store = new Proxy(inner, {
      get(target, key) {
        // Closed once, by the kinds' clean-up, not by the bare server too.
        if (key === 'close') return async () => {};
        if (key === 'timelineItems' || key === 'timelineItemsByTime')
          return async (...a: unknown[]) => {
            await held;
            return (target[key] as (...x: unknown[]) => unknown).apply(target, a);
          };
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const server = await bareServer([requestGuard, adminApi], { store, heavyReads: 2 });
    const get = (path: string) => fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${BARE_ADMIN}` } });
    const exporting = get(`/api/sessions/${LONG}/export?format=csv`);
    const paging = get(`/api/sessions/${LONG}/timeline/steps/1/derailments?after=0&limit=5`);
    await expect.poll(() => server.ctx.heavyReads.inFlight).toBe(2);
    const refused = await get(`/api/sessions/${LONG}/export?format=json`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(await refused.json()).toEqual({ error: 'the server is already answering its most timeline pages and exports at once (2, FRAMEWISE_HEAVY_READS); retry in 2 s' });
    expect((await get(`/api/sessions/${LONG}/timeline/steps/1/instructions`)).status).toBe(503);
    // Lists and the first page of a timeline are not heavy: they are answered meanwhile.
    expect((await get('/api/sessions?limit=5')).status).toBe(200);
    gate!();
    const [csv, page] = await Promise.all([exporting, paging]);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-length')).toBeNull();
    expect((await csv.text()).split('\r\n')[0]).toBe('session_id,step,step_instruction,row,status,completed_by,start,end,duration_ms,text');
    expect((await page.json()) as unknown).toMatchObject({ items: expect.any(Array), next: expect.any(String) });
    await expect.poll(() => server.ctx.heavyReads.inFlight).toBe(0);
    held = Promise.resolve();
    expect((await get(`/api/sessions/${LONG}/export?format=json`)).status).toBe(200);
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toContain('framewise_limits_hit_total{limit="heavy-reads",device="",address="127.0.0.1"} 2');
    expect(metrics).toContain('framewise_refused_heavy_reads_total 2');
    // A client that goes away mid-export gives its slot back.
    held = new Promise<void>((r) => (gate = r));
    const ac = new AbortController();
    const gone = get(`/api/sessions/${LONG}/export?format=csv`);
    void fetch(`${server.url}/api/sessions/${LONG}/export?format=json`, { headers: { authorization: `Bearer ${BARE_ADMIN}` }, signal: ac.signal }).catch(() => {});
    await expect.poll(() => server.ctx.heavyReads.inFlight).toBe(2);
    ac.abort();
    gate!();
    await gone;
    await expect.poll(() => server.ctx.heavyReads.inFlight).toBe(0);
  });

  it('streams the sessions export too, within the same limit', async () => {
    const store = await kinds[0]!.fresh().open();
    await seed(store, sessionsOf());
    let out = '';
    for await (const l of sessionsExport(store, {}, 'csv', 2)) out += l;
    expect(out.trimEnd().split('\r\n')).toHaveLength(1 + Object.keys(sessionsOf()).length);
  });
});

describe('the event cap of a session, through the server', () => {
  let server: ServerProcess;
  const ADMIN = `cap-admin-${process.pid}-${Math.random().toString(36).slice(2)}-Wq4Zr8Kp2Xm7Tb5Nc9`;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fw-cap-'));
    server = await startServer({ FRAMEWISE_ADMIN_TOKEN: ADMIN, FRAMEWISE_DATA_DIR: join(dir, 'data'), FRAMEWISE_STATIC: join(dir, 'none'), FRAMEWISE_MAX_SESSION_EVENTS: '40' });
  }, 40_000);
  afterAll(async () => server?.kill('SIGTERM'));

  it('closes the socket with 4413 and a reason when a message would take a session past it, stores nothing of it, counts it per device, and takes a new session', async () => {
    const dev = await enrol(server, 'desk camera');
    const rec = derailingSession(Date.now() - 60_000, 6);
    const { inbox } = await greet(server, 'cap-session-0001', dev.token);
    expect(await sendEvents(inbox, 'cap-session-0001', rec.events.slice(0, 30))).toBe(30);
    inbox.send({ type: 'events', sessionId: 'cap-session-0001', events: rec.events.slice(30, 45) });
    expect(await inbox.closedWith()).toEqual({ code: CLOSE.sessionFull, reason: 'session cap-session-0001 holds 30 events; a session may hold at most 40; start a new session' });
    const again = await greet(server, 'cap-session-0001', dev.token);
    expect(again.ackedSeq).toBe(30);
    expect(await sendEvents(again.inbox, 'cap-session-0001', rec.events.slice(30, 40))).toBe(40);
    again.inbox.send({ type: 'events', sessionId: 'cap-session-0001', events: rec.events.slice(40, 41) });
    expect((await again.inbox.closedWith()).code).toBe(CLOSE.sessionFull);
    // A new session of the same device goes on.
    const fresh = await greet(server, 'cap-session-0002', dev.token);
    expect(await sendEvents(fresh.inbox, 'cap-session-0002', rec.events.slice(0, 10))).toBe(10);
    fresh.inbox.sock.close();
    const listed = await api<{ sessions: { sessionId: string; events: number }[] }>(server, '/api/sessions', ADMIN);
    expect(listed.sessions.find((s) => s.sessionId === 'cap-session-0001')?.events).toBe(40);
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    expect(metrics).toContain(`framewise_limits_hit_total{limit="session-events",device="${dev.deviceId}",address=""} 2`);
    expect(metrics).toContain(`framewise_sync_closed_total{code="4413",device="${dev.deviceId}",address=""} 2`);
    expect(metrics).toContain('framewise_closed_session_full_total 2');
  });
});

describe('a full session, in the app', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('is held with the backend\'s reason, its unsent events kept on the device, and the next session syncs', async () => {
    const store = await SqliteStore.open(join(mkdtempSync(join(tmpdir(), 'fw-cap-app-')), 'store.sqlite'));
    const app = await createApp({ store, adminToken: BARE_ADMIN, hosts: ['*'], origins: ['*'], log: () => {}, maxSessionEvents: 40 });
    const { port } = await app.listen(0, '127.0.0.1');
    const server = { port, url: `http://127.0.0.1:${port}` };
    const device = await enrol(server, 'bench camera');
    const rec = derailingSession(Date.now() - 60_000, 10).events;
    const outbox = new MemoryOutbox();
    outbox.add('app-full-0001', rec.slice(0, 30));
    vi.stubGlobal('WebSocket', WebSocket);
    vi.stubGlobal('navigator', { locks: { request: (_name: string, _opts: unknown, fn: () => Promise<void>) => fn() } });
    const client = new SyncClient(outbox.asOutbox, { url: `ws://127.0.0.1:${port}/sync`, credential: device.token });
    client.start();
    try {
      await waitFor('the first 30 events to go', async () => (await outbox.pendingCount()) === 0);
      // The session goes on past the cap; another one starts after it.
      outbox.add('app-full-0001', rec.slice(30));
      outbox.add('app-next-0001', derailingSession(Date.now() - 30_000, 2).events);
      const held = await waitFor('the full session to be held', () => client.current.held.find((h) => h.sessionId === 'app-full-0001'));
      expect(held).toMatchObject({ reason: 'full', events: rec.length - 30 });
      expect(held.message).toBe(`Session app-full-0001 is full on the backend (session app-full-0001 holds 30 events; a session may hold at most 40; start a new session). Its ${rec.length - 30} unsent events are kept on this device; a new session syncs as usual.`);
      expect(client.current.closes[CLOSE.sessionFull]).toBe(1);
      await waitFor('the next session to go', async () => (await outbox.pendingCount()) === rec.length - 30);
      expect(outbox.kept('app-full-0001')).toEqual(rec.slice(30));
      const listed = new Map((await api<SessionsPage>(server, '/api/sessions', BARE_ADMIN)).sessions.map((s) => [s.sessionId, s.events]));
      expect(Object.fromEntries(listed)).toEqual({ 'app-full-0001': 30, 'app-next-0001': derailingSession(0, 2).events.length });
      // Held, it is not sent again: a later session goes through the same send loop, and still one close.
      const later = derailingSession(Date.now() - 10_000, 1).events;
      outbox.add('app-later-0001', later);
      await waitFor('the later session to go', async () => (await outbox.pendingCount()) === rec.length - 30);
      expect(client.current.closes[CLOSE.sessionFull]).toBe(1);
      const relisted = (await api<SessionsPage>(server, '/api/sessions', BARE_ADMIN)).sessions;
      expect(relisted.find((x) => x.sessionId === 'app-full-0001')?.events).toBe(30);
      expect(relisted.find((x) => x.sessionId === 'app-later-0001')?.events).toBe(later.length);
    } finally {
      client.stop();
      await app.close();
      await store.close();
    }
  }, 60_000);
});

describe('the settings', () => {
  it('read FRAMEWISE_HEAVY_READS and FRAMEWISE_MAX_SESSION_EVENTS, with their defaults, and refuse a bad value naming it', () => {
    expect(loadConfig({})).toMatchObject({ heavyReads: 4, maxSessionEvents: 100_000 });
    expect(loadConfig({ FRAMEWISE_HEAVY_READS: '8', FRAMEWISE_MAX_SESSION_EVENTS: '250000' })).toMatchObject({ heavyReads: 8, maxSessionEvents: 250_000 });
    for (const [name, value] of [
      ['FRAMEWISE_HEAVY_READS', '0'],
      ['FRAMEWISE_HEAVY_READS', 'many'],
      ['FRAMEWISE_MAX_SESSION_EVENTS', '0'],
      ['FRAMEWISE_MAX_SESSION_EVENTS', '1e5'],
    ] as const) {
      expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(ServerConfigError);
      expect(() => loadConfig({ [name]: value })).toThrow(name);
    }
  });
});
