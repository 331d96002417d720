// The trainer's view of sessions: summaries kept on write from the app's real events, timelines,
// per-task aggregates and the CSV cells, through the SQLite store and (where it answers)
// PostgreSQL. Oracles are independent of the code under test: the page's own TaskSession for a
// session run through the app's state machine, and figures worked out by hand for the rest.
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { EVENT_KINDS, type SyncEvent } from '../src/sync/protocol';
import { matchesFilter } from '../src/sync/session-filter';
import { LIVE_WINDOW_MS, type SessionFilter, type SessionSummary } from '../src/sync/trainer-api';
import { quantile, taskAggregate } from './aggregate';
import { csvCell } from './csv';
import { completed, derailed, DESK, executing, FRUIT, LAPTOP_LEFT, Recording, simulatedFruitBowl } from '../test/server/guided-sessions';
import { LiveHub, newLiveStats } from './live';
import { PostgresStore } from './pg-store';
import { dropTables, PG_URL, pgUnreachable } from '../test/server/pg-support';
import { emptyFacts, foldEvents, timelineSteps } from './session-facts';
import { SqliteStore } from './sqlite-store';
import { decodeCursor, type EventStore } from './store';
import { FakeSocket, waitFor } from '../test/server/test-support';
import { BENCH, Clock, history, KITCHEN, seed, T0 } from '../test/server/trainer-fixtures';
import { loadTimeline } from './trainer-routes';

const t = (ms: number) => T0 + ms;
const lastTs = (events: readonly SyncEvent[]) => events.at(-1)!.ts;

describe('derivations from the recorded events', () => {
  it("agree with the page's own progress for a session run through the app's state machine", () => {
    const rec = simulatedFruitBowl(T0);
    const page = rec.guide!.current.progress;
    // The scenes were scripted so that every step completes and the bowl's absence derails once.
    expect(page.stepTimes).toHaveLength(FRUIT.steps.length);
    expect(page.derailments).toBe(1);
    const facts = foldEvents(emptyFacts(), rec.events);
    expect(facts.step).toBe(page.step);
    expect(facts.derailments).toBe(page.derailments);
    expect(facts.completedTs).toBe(page.completedAt);
    const steps = timelineSteps(rec.events, lastTs(rec.events));
    expect(steps.map((s) => s.durationMs)).toEqual(page.stepTimes);
    expect(steps.map((s) => s.instruction)).toEqual(FRUIT.steps.map((s) => s.instruction));
    const [derailment] = steps[2]!.derailments;
    expect(derailment).toEqual({ step: 2, reason: 'The bowl left the view — bring it back', startTs: t(9_000), endTs: t(10_000), durationMs: 1_000, ongoing: false });
    // Every instruction recorded is on its step's row, once, in order.
    const recorded = rec.events.filter((e) => e.kind === 'instruction').map((e) => e.payload as { step: number; text: string });
    expect(steps.flatMap((s) => s.instructions.map((i) => ({ step: s.index, text: i.text })))).toEqual(recorded.map(({ step, text }) => ({ step, text })));
  });

  it('give the same facts folded batch by batch, as appends do, as folded at once', () => {
    for (const [id, s] of Object.entries(history())) {
      const whole = foldEvents(emptyFacts(), s.events);
      for (const size of [1, 2, 5]) {
        let f = emptyFacts();
        for (let i = 0; i < s.events.length; i += size) f = foldEvents(f, s.events.slice(i, i + size));
        expect(f, `${id} in batches of ${size}`).toEqual(whole);
      }
      // A resend of what was folded already changes nothing.
      expect(foldEvents(whole, s.events)).toEqual(whole);
    }
  });

  it('lay out a completed session step by step: times, derailments with reason and length, instructions given', () => {
    const s = history()['desk-completed-01']!;
    const steps = timelineSteps(s.events, lastTs(s.events));
    expect(steps.map((x) => [x.index, x.status, x.startedTs, x.completedTs, x.durationMs])).toEqual([
      [0, 'completed', t(0), t(4_000), 4_000],
      [1, 'completed', t(4_000), t(12_000), 8_000],
      [2, 'completed', t(12_000), t(15_000), 3_000],
      [3, 'completed', t(15_000), t(21_000), 6_000],
    ]);
    expect(steps.map((x) => x.instruction)).toEqual(DESK.steps.map((x) => x.instruction));
    expect(steps[1]!.derailments).toEqual([{ step: 1, reason: LAPTOP_LEFT, startTs: t(6_000), endTs: t(9_000), durationMs: 3_000, ongoing: false }]);
    expect(steps.flatMap((x) => x.derailments)).toHaveLength(1);
    expect(steps.map((x) => x.instructions)).toEqual([
      [{ ts: t(100), text: 'Bring a laptop into view' }],
      [
        { ts: t(4_000), text: 'Bring a keyboard into view' },
        { ts: t(6_300), text: 'Bring a laptop into view' },
      ],
      [],
      [{ ts: t(15_000), text: 'Move the cup right of the laptop' }],
    ]);
  });

  it('close a derailment at the session end, keep one still open as ongoing, and start a new one when the reason changes', () => {
    const abandoned = history()['desk-abandoned-01']!;
    expect(timelineSteps(abandoned.events, lastTs(abandoned.events))[1]!.derailments.map((d) => [d.startTs, d.endTs, d.durationMs, d.ongoing])).toEqual([
      [t(105_000), t(106_000), 1_000, false],
      [t(108_000), t(110_000), 2_000, false],
    ]);
    const open = history()['fruit-progress-01']!;
    expect(timelineSteps(open.events, lastTs(open.events))[2]!.derailments).toEqual([{ step: 2, reason: 'The bowl left the view — bring it back', startTs: t(209_000), endTs: t(209_500), durationMs: 500, ongoing: true }]);

    const rec = new Recording(DESK, t(0)).verdict(t(1_000), completed(0, 1, 1_000));
    rec.verdict(t(2_000), derailed(1, LAPTOP_LEFT, t(2_000))).verdict(t(3_000), derailed(1, 'A cell phone is in view — it does not belong here', t(3_000))).verdict(t(3_500), executing(1, { recovered: true }));
    const steps = timelineSteps(rec.events, t(3_500));
    expect(steps[1]!.derailments.map((d) => [d.reason, d.durationMs])).toEqual([
      [LAPTOP_LEFT, 1_000],
      ['A cell phone is in view — it does not belong here', 500],
    ]);
    expect(foldEvents(emptyFacts(), rec.events).derailments).toBe(2);
  });

  it('mark the steps a resumed session found done, and leave unreached steps untimed', () => {
    const resumed = history()['desk-resumed-01']!;
    expect(timelineSteps(resumed.events, lastTs(resumed.events)).map((s) => [s.status, s.startedTs, s.durationMs])).toEqual([
      ['done-earlier', null, null],
      ['done-earlier', null, null],
      ['completed', t(300_000), 5_000],
      ['completed', t(305_000), 4_000],
    ]);
    const extra = history()['desk-extra-1']!;
    expect(timelineSteps(extra.events, lastTs(extra.events)).map((s) => s.status)).toEqual(['completed', 'started', 'not-reached', 'not-reached']);
  });

  it("know a custom task's steps only from what the session start carries, else its length once completed", () => {
    const shelf = { id: 'tidy-shelf', title: 'Tidy the shelf', steps: [{ instruction: 'Show the shelf', require: [{ label: 'book' }] }, { instruction: 'Put a vase on it', require: [{ label: 'vase' }] }] };
    const plain = new Recording(shelf, t(0)).verdict(t(500), executing(0)).verdict(t(1_000), completed(0, 1, 1_000));
    expect(foldEvents(emptyFacts(), plain.events)).toMatchObject({ taskTitle: 'Tidy the shelf', stepsTotal: null, step: 1 });
    expect(timelineSteps(plain.events, t(1_000)).map((s) => [s.index, s.instruction])).toEqual([
      [0, null],
      [1, null],
    ]);
    plain.verdict(t(2_000), completed(1, null, 1_000));
    expect(foldEvents(emptyFacts(), plain.events)).toMatchObject({ stepsTotal: 2, completedTs: t(2_000) });
    // `steps` at session start: the field the page is asked to add (see RecordedStartSchema).
    const told = new Recording(shelf, t(0), { start: { task: shelf.id, taskTitle: shelf.title, steps: shelf.steps.map((s) => s.instruction) } }).verdict(t(500), executing(0));
    expect(timelineSteps(told.events, t(500)).map((s) => s.instruction)).toEqual(['Show the shelf', 'Put a vase on it']);
    expect(foldEvents(emptyFacts(), told.events).stepsTotal).toBe(2);
  });

  it('say how each step ended (seen, confirmed, waited, skipped) and follow a person going back a step', () => {
    const steps = [
      { instruction: 'Take one bottle away', require: [{ label: 'bottle', minCount: 2, maxCount: 2 }] },
      { kind: 'confirm' as const, instruction: 'Tighten the caps, then say next' },
      { kind: 'wait' as const, instruction: 'Let them stand', durationMs: 3_000 },
    ];
    const task = { id: 'bottles', title: 'Bottles', steps };
    const rec = new Recording(task, t(0), { start: { task: task.id, taskTitle: task.title, steps: steps.map((s) => s.instruction) } })
      .verdict(t(500), executing(0))
      .verdict(t(2_000), completed(0, 1, 2_000, 'seen'))
      .verdict(t(4_000), completed(1, 2, 2_000, 'confirmed'))
      .verdict(t(4_500), { type: 'went_back', fromStep: 2, step: 1 })
      .verdict(t(5_000), executing(1));
    const back = timelineSteps(rec.events, t(5_000));
    expect(back.map((s) => [s.status, s.completedBy])).toEqual([
      ['completed', 'seen'],
      ['started', null],
      ['started', null],
    ]);
    expect(foldEvents(emptyFacts(), rec.events).step).toBe(1);
    rec.verdict(t(6_000), completed(1, 2, 1_000, 'confirmed')).verdict(t(9_000), completed(2, null, 3_000, 'waited'));
    const done = timelineSteps(rec.events, t(9_000));
    expect(done.map((s) => [s.status, s.completedTs, s.completedBy])).toEqual([
      ['completed', t(2_000), 'seen'],
      ['completed', t(6_000), 'confirmed'],
      ['completed', t(9_000), 'waited'],
    ]);
    expect(foldEvents(emptyFacts(), rec.events)).toMatchObject({ completedTs: t(9_000), stepsTotal: 3 });
    // A verdict recorded before `by` existed was seen.
    const old = new Recording(task, t(0)).verdict(t(1_000), { type: 'completed_task', completedStep: 0, nextStep: 1, stepMs: 1_000 } as never);
    expect(timelineSteps(old.events, t(1_000))[0]!.completedBy).toBe('seen');
  });

  it("follow neither another task chosen mid-session nor a step going backwards; a session started without a task takes the first one guided", () => {
    const rec = new Recording(DESK, t(0)).verdict(t(1_000), completed(0, 1, 1_000));
    rec.record(t(1_500), 'state', { task: 'fruit-bowl', step: 0, frame: 9, event: completed(0, 1, 1_500), objects: {} });
    rec.verdict(t(2_000), executing(0)).verdict(t(2_500), derailed(0, LAPTOP_LEFT, t(2_500)));
    expect(foldEvents(emptyFacts(), rec.events)).toMatchObject({ taskId: 'desk-setup', step: 1, derailments: 0 });
    const late = new Recording(undefined, t(0)).record(t(1_000), 'state', { task: 'fruit-bowl', step: 0, frame: 1, event: executing(0), objects: {} });
    expect(foldEvents(emptyFacts(), late.events)).toMatchObject({ taskId: 'fruit-bowl', taskTitle: 'Fill the fruit bowl', stepsTotal: 3 });
  });

  it('never throw on payloads the app would not send, and stay bounded', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...EVENT_KINDS), fc.oneof(fc.jsonValue(), fc.record({ task: fc.string(), event: fc.record({ type: fc.constantFrom('executing_task', 'completed_task', 'derailed'), step: fc.integer(), completedStep: fc.integer({ min: -1, max: 2_000 }), nextStep: fc.option(fc.integer()), done: fc.boolean(), reason: fc.string() }) }))), { maxLength: 40 }), (raw) => {
        const events = raw.map(([kind, payload], i): SyncEvent => ({ seq: i + 1, ts: t(i * 100), kind, payload }));
        const steps = timelineSteps(events, t(raw.length * 100));
        expect(steps.length).toBeLessThanOrEqual(1000);
        JSON.stringify(foldEvents(emptyFacts(), events));
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});

describe('aggregates and CSV cells', () => {
  it('interpolate quantiles linearly between ranks', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([7], 0.9)).toBe(7);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    // Ranks 0…4: the 0.9 quantile sits at rank 3.6, between 5 000 and 10 000.
    expect(quantile([2_000, 3_000, 4_000, 5_000, 10_000], 0.9)).toBe(8_000);
  });

  it('quote what needs quoting and defuse what a spreadsheet would run', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    for (const risky of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) expect(csvCell(risky).replace(/^"/, '')).toMatch(/^'/);
    expect(csvCell('=HYPERLINK("http://x", "y")')).toBe(`"'=HYPERLINK(""http://x"", ""y"")"`);
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(null)).toBe('');
    expect(csvCell(true)).toBe('true');
  });
});

// ---- through the stores ----

const pgWhy = await pgUnreachable();
if (pgWhy) console.warn(`trainer views on PostgreSQL skipped: no PostgreSQL at ${PG_URL} (${pgWhy}); set FRAMEWISE_TEST_PG to run them`);

const NOW = t(1_000_000);
const prefixes: string[] = [];
const opened: EventStore[] = [];
afterAll(async () => {
  for (const s of opened) await s.close();
  for (const p of prefixes) await dropTables(p);
});

interface Kind {
  readonly name: 'sqlite' | 'postgres';
  /** A fresh, empty store; `reopen` opens the same data again (as a restarted server would). */
  open(clock: Clock): Promise<{ store: EventStore; reopen: () => Promise<EventStore>; sql: (text: string) => Promise<void> }>;
}

const sqliteKind: Kind = {
  name: 'sqlite',
  async open(clock) {
    const file = join(mkdtempSync(join(tmpdir(), 'fw-trainer-')), 'store.sqlite');
    const track = (s: EventStore) => (opened.push(s), s);
    return {
      store: track(new SqliteStore(file, { now: clock.now })),
      reopen: async () => track(new SqliteStore(file, { now: clock.now })),
      sql: async (text) => {
        const db = new Database(file);
        db.exec(text);
        db.close();
      },
    };
  },
};

const pgKind: Kind = {
  name: 'postgres',
  async open(clock) {
    const prefix = `fw_trainer_${process.pid}_${prefixes.length}_${Date.now().toString(36)}`;
    prefixes.push(prefix);
    const open = async () => {
      const s = await PostgresStore.open({ url: PG_URL, prefix, applicationName: `fw-trainer-${process.pid}`, now: clock.now });
      opened.push(s);
      return s;
    };
    return {
      store: await open(),
      reopen: open,
      sql: async (text) => {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(text.replaceAll('fw_', `${prefix}_`));
        await c.end();
      },
    };
  },
};

/** What each seeded session should be listed as, worked out from the script in trainer-fixtures.ts. */
const EXPECTED: Record<string, Partial<SessionSummary>> = {
  'desk-completed-01': { deviceName: BENCH.name, taskId: 'desk-setup', taskTitle: 'Set up your desk', startedTs: t(0), endedTs: t(22_000), durationMs: 22_000, completedTs: t(21_000), outcome: 'completed', stepsDone: 4, stepsTotal: 4, derailments: 1, live: false },
  'desk-abandoned-01': { deviceName: KITCHEN.name, taskId: 'desk-setup', startedTs: t(100_000), endedTs: t(110_000), durationMs: 10_000, completedTs: null, outcome: 'abandoned', stepsDone: 1, stepsTotal: 4, derailments: 2, live: false },
  'fruit-progress-01': { deviceName: KITCHEN.name, taskId: 'fruit-bowl', taskTitle: 'Fill the fruit bowl', startedTs: t(200_000), endedTs: null, durationMs: 9_500, completedTs: null, outcome: 'in-progress', stepsDone: 2, stepsTotal: 3, derailments: 1, live: true },
  'desk-resumed-01': { taskId: 'desk-setup', startedTs: t(300_000), durationMs: 10_000, outcome: 'completed', stepsDone: 4, stepsTotal: 4, derailments: 1, live: false },
  'desk-extra-1': { durationMs: 3_500, outcome: 'abandoned', stepsDone: 1, derailments: 0 },
  'desk-extra-2': { durationMs: 5_500, outcome: 'abandoned', stepsDone: 1 },
  'desk-extra-3': { durationMs: 10_500, outcome: 'abandoned', stepsDone: 1 },
  'file-analysis-01': { deviceName: BENCH.name, taskId: null, taskTitle: null, endedTs: t(400_040), completedTs: t(400_040), outcome: 'completed', stepsDone: 0, stepsTotal: null, derailments: 0, live: false },
};
const NEWEST_FIRST = ['desk-extra-3', 'desk-extra-2', 'desk-extra-1', 'file-analysis-01', 'desk-resumed-01', 'fruit-progress-01', 'desk-abandoned-01', 'desk-completed-01'];
const DESK_SESSIONS = NEWEST_FIRST.filter((id) => id.startsWith('desk-'));

const ids = (list: readonly SessionSummary[]) => list.map((s) => s.sessionId);

async function all(store: EventStore, filter: Parameters<EventStore['sessions']>[2], limit = 3): Promise<string[]> {
  const out: string[] = [];
  let cursor: ReturnType<typeof decodeCursor>;
  do {
    const page = await store.sessions(limit, cursor, filter);
    expect(page.sessions.length).toBeLessThanOrEqual(limit);
    out.push(...ids(page.sessions));
    cursor = page.next === null ? undefined : decodeCursor(page.next);
  } while (cursor);
  return out;
}

describe.each([sqliteKind, ...(pgWhy ? [] : [pgKind])])('the $name store', (kind) => {
  it('keeps each summary on write from the events, with outcome and liveness judged by the server clock', async () => {
    const clock = new Clock(NOW);
    const { store } = await kind.open(clock);
    await seed(store);
    const listed = (await store.sessions(200)).sessions;
    expect(ids(listed)).toEqual(NEWEST_FIRST);
    const byId = new Map(listed.map((s) => [s.sessionId, s]));
    for (const [id, expected] of Object.entries(EXPECTED)) expect(byId.get(id), id).toMatchObject(expected);
    for (const s of listed) expect(s.startedTs).toBe(s.firstTs);

    // The fruit session goes quiet: live to the end of the window, then abandoned, without any write.
    clock.ms = NOW + LIVE_WINDOW_MS;
    expect((await store.sessionsById(['fruit-progress-01']))[0]).toMatchObject({ live: true, outcome: 'in-progress' });
    clock.ms = NOW + LIVE_WINDOW_MS + 1;
    expect((await store.sessionsById(['fruit-progress-01']))[0]).toMatchObject({ live: false, outcome: 'abandoned' });
    expect(await all(store, { outcome: 'in-progress' })).toEqual([]);
    // It syncs again: live and in progress again.
    const more = simulatedFruitBowl(t(200_000), 10_000).events.slice(history()['fruit-progress-01']!.events.length);
    expect(await store.append(KITCHEN.deviceId, 'fruit-progress-01', more)).toMatchObject({ ok: true });
    expect((await store.sessionsById(['fruit-progress-01']))[0]).toMatchObject({ live: true, outcome: 'in-progress', lastTs: t(210_000) });
  });

  it('filters by device, task and outcome, searches names, and pages newest first through the filtered list', async () => {
    const { store } = await kind.open(new Clock(NOW));
    await seed(store);
    expect(await all(store, { device: BENCH.deviceId })).toEqual(['file-analysis-01', 'desk-resumed-01', 'desk-completed-01']);
    expect(await all(store, { task: 'desk-setup' })).toEqual(DESK_SESSIONS);
    expect(await all(store, { task: 'no-such-task' })).toEqual([]);
    expect(await all(store, { outcome: 'completed' })).toEqual(['file-analysis-01', 'desk-resumed-01', 'desk-completed-01']);
    expect(await all(store, { outcome: 'abandoned' })).toEqual(['desk-extra-3', 'desk-extra-2', 'desk-extra-1', 'desk-abandoned-01']);
    expect(await all(store, { outcome: 'in-progress' })).toEqual(['fruit-progress-01']);
    expect(await all(store, { device: KITCHEN.deviceId, task: 'desk-setup', outcome: 'abandoned' }, 2)).toEqual(['desk-extra-3', 'desk-extra-2', 'desk-extra-1', 'desk-abandoned-01']);
    // Case-insensitive substrings of the device name or the task title; % and _ are characters, not wildcards.
    expect(await all(store, { q: 'KITCHEN' })).toEqual(['desk-extra-3', 'desk-extra-2', 'desk-extra-1', 'fruit-progress-01', 'desk-abandoned-01']);
    expect(await all(store, { q: 'fruit BOWL' })).toEqual(['fruit-progress-01']);
    expect(await all(store, { q: 'set up your' })).toEqual(DESK_SESSIONS);
    expect(await all(store, { q: '"a", l' })).toEqual(['file-analysis-01', 'desk-resumed-01', 'desk-completed-01']);
    expect(await all(store, { q: '%' })).toEqual([]);
    expect(await all(store, { q: '_' })).toEqual([]);
    expect(await all(store, { q: 'phone', outcome: 'in-progress' })).toEqual(['fruit-progress-01']);
    // The predicate a page applies to live upserts picks the same sessions as the store's SQL.
    const everything = (await store.sessions(200)).sessions;
    const filters: SessionFilter[] = [
      { device: KITCHEN.deviceId, q: 'desk' },
      { task: 'fruit-bowl', outcome: 'in-progress' },
      { outcome: 'completed', q: 'BENCH' },
      { q: '\n' },
      { q: 'phone\nfill' },
      { device: BENCH.deviceId, task: 'desk-setup', outcome: 'abandoned' },
    ];
    for (const f of filters) expect(await all(store, f), JSON.stringify(f)).toEqual(ids(everything.filter((s) => matchesFilter(s, f))));
    // A page boundary between two filtered pages is stable when newer sessions arrive.
    const first = await store.sessions(2, undefined, { task: 'desk-setup' });
    await store.claimSession('desk-newest-01', BENCH.deviceId, T0);
    await store.append(BENCH.deviceId, 'desk-newest-01', new Recording(DESK, t(900_000)).events);
    const rest = await store.sessions(200, decodeCursor(first.next!), { task: 'desk-setup' });
    expect([...ids(first.sessions), ...ids(rest.sessions)]).toEqual(DESK_SESSIONS);
  });

  it('aggregates a task across its sessions: median and p90 per step, and where people derail most', async () => {
    const { store } = await kind.open(new Clock(NOW));
    await seed(store);
    const agg = taskAggregate('desk-setup', await store.taskFacts('desk-setup'));
    expect(agg).toMatchObject({ taskId: 'desk-setup', taskTitle: 'Set up your desk', sessions: 6, completed: 2, mostDerailed: [1, 3] });
    // By hand from the script: step 1 took 4, 2, 3, 5 and 10 s; step 2 8 s; step 3 3 and 5 s; step 4 6 and 4 s.
    expect(agg.steps.map((s) => [s.index, s.timed, s.medianMs, s.p90Ms, s.derailments, s.derailedSessions, s.derailedMs])).toEqual([
      [0, 5, 4_000, 8_000, 0, 0, 0],
      [1, 1, 8_000, 8_000, 3, 2, 6_000],
      [2, 2, 4_000, 4_800, 0, 0, 0],
      [3, 2, 5_000, 5_800, 1, 1, 1_000],
    ]);
    expect(agg.steps.map((s) => s.instruction)).toEqual(DESK.steps.map((s) => s.instruction));
    expect(taskAggregate('fruit-bowl', await store.taskFacts('fruit-bowl')).steps.map((s) => [s.timed, s.medianMs, s.derailments])).toEqual([
      [1, 3_000, 0],
      [1, 3_000, 0],
      [0, null, 1],
    ]);
    expect(taskAggregate('nothing', await store.taskFacts('nothing'))).toEqual({ taskKey: 'nothing', taskId: 'nothing', taskTitle: null, sessions: 0, completed: 0, steps: [], mostDerailed: [] });
  });

  it('serves a timeline that agrees with the summary it comes with', async () => {
    const { store } = await kind.open(new Clock(NOW));
    await seed(store);
    for (const id of NEWEST_FIRST) {
      const timeline = (await loadTimeline(store, id))!;
      expect(timeline.session.sessionId).toBe(id);
      expect(timeline.steps.reduce((n, s) => n + s.derailments.length, 0), id).toBe(timeline.session.derailments);
      expect(timeline.steps.filter((s) => s.status === 'completed' || s.status === 'done-earlier').length, id).toBe(timeline.session.stepsDone);
    }
    const done = (await loadTimeline(store, 'desk-completed-01'))!;
    expect(done.steps.map((s) => s.durationMs)).toEqual([4_000, 8_000, 3_000, 6_000]);
    expect(done.steps[1]!.derailments).toEqual([{ step: 1, reason: LAPTOP_LEFT, startTs: t(6_000), endTs: t(9_000), durationMs: 3_000, ongoing: false }]);
    expect(await loadTimeline(store, 'no-such-session')).toBeUndefined();
  });

  it('lists, filters and aggregates without reading a single event', async () => {
    const { store, sql } = await kind.open(new Clock(NOW));
    await seed(store);
    const read = async () => ({
      listed: await store.sessions(200),
      filtered: await all(store, { task: 'desk-setup', outcome: 'abandoned', q: 'kitchen' }),
      byId: await store.sessionsById(['desk-completed-01', 'fruit-progress-01']),
      aggregate: taskAggregate('desk-setup', await store.taskFacts('desk-setup')),
    });
    const before = await read();
    expect(before.filtered).toEqual(['desk-extra-3', 'desk-extra-2', 'desk-extra-1', 'desk-abandoned-01']);
    // Take every event away behind the store's back: anything computed from them would change.
    await sql('DELETE FROM fw_events');
    expect(await read()).toEqual(before);
    expect(await store.events('desk-completed-01', 0, 100)).toEqual([]);
  });

  it('fills in the facts of sessions stored before they were kept, at open and on the next append', async () => {
    const clock = new Clock(NOW);
    const { store, reopen, sql } = await kind.open(clock);
    await seed(store);
    const before = (await store.sessions(200)).sessions;
    // As an older server (or an instance still on the old version) left them: events and counts, no facts.
    const forget = "UPDATE fw_sessions SET facts = NULL, facts_seq = 0, task_id = NULL, completed_ts = NULL, ended_ts = NULL, search = ''";
    await sql(`${forget} WHERE session_id <> 'fruit-progress-01'`);
    await sql(`${forget} WHERE session_id = 'fruit-progress-01'`);
    expect((await store.sessionsById(['desk-completed-01']))[0]).toMatchObject({ taskId: null, stepsDone: 0 });
    // The next append catches up from the stored events before folding its own.
    const more = simulatedFruitBowl(t(200_000), 10_000).events.slice(history()['fruit-progress-01']!.events.length);
    await store.append(KITCHEN.deviceId, 'fruit-progress-01', more);
    expect((await store.sessionsById(['fruit-progress-01']))[0]).toMatchObject({ taskId: 'fruit-bowl', stepsDone: 2, derailments: 1, lastTs: t(210_000) });
    expect(await store.taskFacts('fruit-bowl')).toEqual([foldEvents(emptyFacts(), simulatedFruitBowl(t(200_000), 10_000).events)]);
    // The rest are folded when the store is opened again.
    const again = await reopen();
    const after = (await again.sessions(200)).sessions.filter((s) => s.sessionId !== 'fruit-progress-01');
    expect(after).toEqual(before.filter((s) => s.sessionId !== 'fruit-progress-01'));
    expect(await all(again, { q: 'set up your' })).toEqual(DESK_SESSIONS);
  });
});

describe.skipIf(pgWhy !== undefined)('SQLite and PostgreSQL', () => {
  it('list, filter, aggregate and lay out timelines identically', async () => {
    const clock = new Clock(NOW);
    const [a, b] = [(await sqliteKind.open(clock)).store, (await pgKind.open(clock)).store];
    await seed(a);
    await seed(b);
    for (const filter of [{}, { q: 'kitchen' }, { outcome: 'abandoned' as const }, { device: BENCH.deviceId, task: 'desk-setup' }]) expect(await b.sessions(200, undefined, filter)).toEqual(await a.sessions(200, undefined, filter));
    expect(await b.taskFacts('desk-setup')).toEqual(await a.taskFacts('desk-setup'));
    for (const id of NEWEST_FIRST) expect(await loadTimeline(b, id)).toEqual(await loadTimeline(a, id));
  });
});

describe('the SQLite store, statement by statement', () => {
  it('touches only the summary table (and devices) to list, filter, look up and aggregate', async () => {
    const statements: string[] = [];
    const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'fw-trainer-sql-')), 'store.sqlite'), { now: () => NOW, trace: (sql) => statements.push(sql) });
    opened.push(store);
    await seed(store);
    expect(statements.some((s) => s.includes('fw_events'))).toBe(true); // appends write there: the trace sees them
    statements.length = 0;
    await all(store, { device: KITCHEN.deviceId, task: 'desk-setup', outcome: 'abandoned', q: 'kitchen' }, 2);
    await store.sessions(50);
    await store.sessionsById(['desk-completed-01']);
    await store.taskFacts('desk-setup');
    expect(statements.length).toBeGreaterThanOrEqual(5);
    expect(statements.filter((s) => s.includes('fw_events'))).toEqual([]);
    expect(statements.every((s) => s.includes('fw_sessions'))).toBe(true);
  });

  it('adds the summary columns to a file from before them and fills them from its events', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fw-trainer-old-')), 'store.sqlite');
    // The tables as the previous release created them.
    const old = new Database(file);
    old.exec(`
      CREATE TABLE fw_devices (device_id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL, created_at REAL NOT NULL, revoked_at REAL);
      CREATE TABLE fw_sessions (session_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, created_at REAL NOT NULL,
        events INTEGER NOT NULL DEFAULT 0, last_seq INTEGER NOT NULL DEFAULT 0, first_ts REAL, last_ts REAL, last_state TEXT);
      CREATE TABLE fw_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)) WITHOUT ROWID;`);
    old.prepare('INSERT INTO fw_devices VALUES (?, ?, ?, ?, NULL)').run(BENCH.deviceId, BENCH.name, '00', 1);
    for (const id of ['desk-completed-01', 'fruit-progress-01']) {
      const s = history()[id]!;
      old.prepare('INSERT INTO fw_sessions VALUES (?, ?, 1, ?, ?, ?, ?, NULL)').run(id, BENCH.deviceId, s.events.length, s.events.length, s.events[0]!.ts, lastTs(s.events));
      for (const e of s.events) old.prepare('INSERT INTO fw_events VALUES (?, ?, ?, ?, ?)').run(id, e.seq, e.ts, e.kind, JSON.stringify(e.payload));
    }
    old.close();
    const store = new SqliteStore(file, { now: () => NOW });
    opened.push(store);
    const [fruit, desk] = (await store.sessions(10)).sessions;
    expect(desk).toMatchObject(EXPECTED['desk-completed-01']!);
    // Nothing says when its events arrived: not live, so not in progress but abandoned.
    expect(fruit).toMatchObject({ taskId: 'fruit-bowl', stepsDone: 2, derailments: 1, live: false, outcome: 'abandoned' });
    expect(await all(store, { outcome: 'abandoned' })).toEqual(['fruit-progress-01']);
    expect(await all(store, { outcome: 'in-progress' })).toEqual([]);
  });
});

/** Just enough of a ws socket for the live feed. */

describe('the live feed', () => {
  it('pushes the new summary fields on each write, and the summary again when the session falls quiet', async () => {
    const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'fw-trainer-live-')), 'store.sqlite'), { liveWindowMs: 400 });
    opened.push(store);
    const feed = new LiveHub({ store, adminToken: 'the-admin', stats: newLiveStats(), log: () => {}, stallMs: 60_000, coalesceMs: 20 });
    store.onChange((c) => c.type === 'append' && feed.changed(c.sessionId));
    await store.createDevice({ ...KITCHEN, secretHash: '00'.repeat(32), createdAt: 1, revokedAt: null });
    const ws = new FakeSocket();
    feed.add(ws as unknown as WebSocket);
    ws.emit('message', Buffer.from(JSON.stringify({ type: 'hello', token: 'the-admin' })), false);
    await waitFor('the first page', () => ws.sent.length === 1);
    const rec = simulatedFruitBowl(Date.now(), 4_000);
    await store.claimSession('live-fruit-01', KITCHEN.deviceId, 1);
    await store.append(KITCHEN.deviceId, 'live-fruit-01', rec.events);
    const latest = () => ws.sent.flatMap((m) => m.sessions).filter((s) => s.sessionId === 'live-fruit-01').at(-1);
    await waitFor('the live summary', () => latest()?.live === true);
    expect(latest()).toMatchObject({ taskTitle: 'Fill the fruit bowl', stepsDone: 1, stepsTotal: 3, outcome: 'in-progress' });
    const pushes = ws.sent.length;
    await waitFor('the summary once quiet', () => latest()?.live === false, 5_000);
    expect(latest()).toMatchObject({ outcome: 'abandoned', stepsDone: 1 });
    expect(ws.sent.length).toBe(pushes + 1);
    feed.close();
  });
});
