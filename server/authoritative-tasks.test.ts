// What a device says about its task is believed only where the server has no better word. A
// built-in task's title and steps are the server's own: the audit's session-start for
// "desk-setup" titled "HIJACKED" with 1,000 made-up steps, and verdicts on steps the task does
// not have, change neither the session's summary and timeline nor the task's figures across
// sessions. A custom task is its device's: its sessions are keyed by device and definition, and
// figures never mix definitions that differ.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionsPage, SessionSummary, SessionTimeline, TaskAggregate } from '../src/sync/trainer-api';
import type { SyncEvent } from '../src/sync/protocol';
import type { Task } from '../src/task/types';
import { taskAggregate } from './aggregate';
import { allDone, completed, derailed, DESK, executing, LAPTOP_LEFT, Recording } from '../test/server/guided-sessions';
import { pgUnreachable } from '../test/server/pg-support';
import { startServer, type ServerProcess } from '../test/server/spawn-server';
import { postgresKind, sqliteKind } from '../test/server/store-kinds';
import { api, enrol, greet, sendEvents } from '../test/server/test-support';
import { Clock } from '../test/server/trainer-fixtures';

const ADMIN = `tasks-admin-${process.pid}-${Math.random().toString(36).slice(2)}-Hy6Vd3Lq9Fs2Jw8Rk5`;
let server: ServerProcess;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fw-tasks-'));
  server = await startServer({ FRAMEWISE_ADMIN_TOKEN: ADMIN, FRAMEWISE_DATA_DIR: join(dir, 'data'), FRAMEWISE_STATIC: join(dir, 'none') });
}, 40_000);
afterAll(async () => server?.kill('SIGTERM'));

const get = <T>(path: string) => api<T>(server, path, ADMIN);
const list = async (query = '') => (await get<SessionsPage>(`/api/sessions?limit=200${query}`)).sessions;
const summaryOf = async (id: string) => (await list()).find((s) => s.sessionId === id)!;
const aggregate = (key: string) => get<TaskAggregate>(`/api/tasks/${encodeURIComponent(key)}/aggregate`);

/** A session sent as the app's outbox sends it: hello, then batches of at most 100 events. */
async function sync(token: string, sessionId: string, events: readonly SyncEvent[]): Promise<void> {
  const { inbox } = await greet(server, sessionId, token);
  for (let i = 0; i < events.length; i += 100) expect(await sendEvents(inbox, sessionId, events.slice(i, i + 100))).toBe(Math.min(i + 100, events.length));
  inbox.sock.close();
}

const APP = { model: 'yolo11n-coco', modelName: 'YOLO11n (COCO)', poolSize: 2, userAgent: 'Mozilla/5.0 (Linux; Android 14) Chrome/131' };

/** The desk task done properly: 4 s, 8 s (a 3 s derailment in it), 3 s and 6 s. */
function honestDesk(t0: number): Recording {
  const r = new Recording(DESK, t0).verdict(t0 + 250, executing(0)).verdict(t0 + 4_000, completed(0, 1, 4_000)).verdict(t0 + 6_000, derailed(1, LAPTOP_LEFT, t0 + 6_000));
  r.verdict(t0 + 9_000, executing(1, { recovered: true })).verdict(t0 + 12_000, completed(1, 2, 8_000)).verdict(t0 + 15_000, completed(2, 3, 3_000));
  return r.verdict(t0 + 21_000, completed(3, null, 6_000)).verdict(t0 + 21_250, allDone(4)).end(t0 + 22_000);
}

/**
 * The audit's probe: a session-start for the built-in desk task with its own title and 1,000
 * made-up steps, then two real-looking steps, then verdicts and instructions on steps the task
 * does not have, a claim to have finished it at step 1,000, and a derailment on step 640.
 */
function hijack(t0: number): Recording {
  const fake = Array.from({ length: 1000 }, (_, i) => `Step ${i + 1}`);
  const r = new Recording(DESK, t0, { start: { task: 'desk-setup', taskTitle: 'HIJACKED', steps: fake, ...APP } });
  r.verdict(t0 + 1_000, completed(0, 1, 1_000)).verdict(t0 + 2_000, completed(1, 2, 1_000));
  r.record(t0 + 2_500, 'state', { task: 'desk-setup', step: 640, frame: 90, event: derailed(640, 'HIJACKED derailment', t0 + 2_500), objects: {} });
  for (let step = 4; step < 1000; step += 1) r.record(t0 + 3_000 + step, 'state', { task: 'desk-setup', step: step + 1, frame: 100 + step, event: completed(step, step + 1 < 1000 ? step + 1 : null, 1), objects: {} });
  r.record(t0 + 4_100, 'instruction', { task: 'desk-setup', step: 700, frame: 1200, text: 'HIJACKED instruction', met: false });
  r.record(t0 + 4_200, 'state', { task: 'desk-setup', step: 1000, frame: 1201, event: allDone(1000), objects: {} });
  return r.end(t0 + 5_000);
}

describe('a built-in task', () => {
  it("is the server's: a device's title, steps and verdicts on steps it does not have change neither its sessions nor its figures", async () => {
    const bench = await enrol(server, 'Bench tablet');
    const intruder = await enrol(server, 'Intruder');
    const now = Date.now();
    await sync(bench.token, 'desk-honest-01', honestDesk(now - 60_000).events);
    const probe = hijack(now - 30_000);
    expect(probe.events.length).toBeGreaterThan(1000);
    await sync(intruder.token, 'desk-hijack-01', probe.events);

    // Everything it sent is stored, byte for byte: only what it says about the task is not believed.
    const hijacked = await summaryOf('desk-hijack-01');
    expect(hijacked).toMatchObject({ events: probe.events.length, taskId: 'desk-setup', taskKey: 'desk-setup', taskTitle: DESK.title, stepsDone: 2, stepsTotal: 4, derailments: 0, outcome: 'abandoned', completedTs: null });
    expect(await list('&q=HIJACKED')).toEqual([]);
    expect((await list('&task=desk-setup')).map((s) => s.sessionId)).toEqual(['desk-hijack-01', 'desk-honest-01']);

    const timeline = await get<SessionTimeline>('/api/sessions/desk-hijack-01/timeline');
    expect(timeline.steps.map((s) => [s.instruction, s.status])).toEqual([
      [DESK.steps[0]!.instruction, 'completed'],
      [DESK.steps[1]!.instruction, 'completed'],
      [DESK.steps[2]!.instruction, 'started'],
      [DESK.steps[3]!.instruction, 'not-reached'],
    ]);
    expect(JSON.stringify(timeline)).not.toContain('HIJACKED');

    // The task's figures across both sessions: its own title and four steps, the honest session's times and derailment.
    const figures = await aggregate('desk-setup');
    expect(figures).toMatchObject({ taskKey: 'desk-setup', taskId: 'desk-setup', taskTitle: DESK.title, sessions: 2, completed: 1, mostDerailed: [1] });
    expect(figures.steps.map((s) => [s.instruction, s.timed, s.medianMs, s.derailments])).toEqual([
      [DESK.steps[0]!.instruction, 2, 2_500, 0],
      [DESK.steps[1]!.instruction, 2, 4_500, 1],
      [DESK.steps[2]!.instruction, 1, 3_000, 0],
      [DESK.steps[3]!.instruction, 1, 6_000, 0],
    ]);
    expect(JSON.stringify(figures)).not.toContain('HIJACKED');
  });
});

describe('a custom task', () => {
  const SHELF: Task = { id: 'tidy-shelf', title: 'Tidy the shelf', steps: [{ instruction: 'Show the shelf', require: [{ label: 'book' }] }, { instruction: 'Put a vase on it', require: [{ label: 'vase' }] }] };
  const EDITED: Task = { ...SHELF, steps: [...SHELF.steps, { instruction: 'Stand a book up', require: [{ label: 'book' }] }] };
  /** The task done as its device defined it, each step taking `ms`. */
  const run = (task: Task, t0: number, ms: number) => {
    const r = new Recording(task, t0, { start: { task: task.id, taskTitle: task.title, steps: task.steps.map((s) => s.instruction), ...APP } });
    task.steps.forEach((_, i) => r.verdict(t0 + (i + 1) * ms, completed(i, i + 1 < task.steps.length ? i + 1 : null, ms)));
    return r.end(t0 + task.steps.length * ms + 500);
  };

  it("is its device's: each definition, and another device's task of the same name, is listed and counted apart", async () => {
    const bench = await enrol(server, 'Shelf bench');
    const other = await enrol(server, 'Other kiosk');
    const now = Date.now();
    await sync(bench.token, 'shelf-bench-01', run(SHELF, now - 90_000, 4_000).events);
    await sync(bench.token, 'shelf-bench-02', run(SHELF, now - 80_000, 6_000).events);
    // The same device after its task was edited: a third step.
    await sync(bench.token, 'shelf-edited-01', run(EDITED, now - 70_000, 2_000).events);
    // Another device sends the bench's exact definition, with times of its own making.
    await sync(other.token, 'shelf-other-01', run(SHELF, now - 60_000, 100_000).events);

    const byId = new Map((await list()).map((s) => [s.sessionId, s]));
    const key = (id: string) => byId.get(id)!.taskKey!;
    for (const id of ['shelf-bench-01', 'shelf-bench-02', 'shelf-edited-01', 'shelf-other-01']) {
      expect(byId.get(id), id).toMatchObject({ taskId: 'tidy-shelf', taskTitle: 'Tidy the shelf', outcome: 'completed' });
      expect(key(id), id).toMatch(/^custom:[0-9a-f]{24}$/);
    }
    expect(key('shelf-bench-02')).toBe(key('shelf-bench-01'));
    expect(new Set([key('shelf-bench-01'), key('shelf-edited-01'), key('shelf-other-01')]).size).toBe(3);

    const ids = (sessions: readonly SessionSummary[]) => sessions.map((s) => s.sessionId);
    expect(ids(await list(`&task=${encodeURIComponent(key('shelf-bench-01'))}`))).toEqual(['shelf-bench-02', 'shelf-bench-01']);
    expect(ids(await list(`&task=${encodeURIComponent(key('shelf-other-01'))}`))).toEqual(['shelf-other-01']);

    const mine = await aggregate(key('shelf-bench-01'));
    expect(mine).toMatchObject({ taskKey: key('shelf-bench-01'), taskId: 'tidy-shelf', taskTitle: 'Tidy the shelf', sessions: 2, completed: 2 });
    expect(mine.steps.map((s) => [s.instruction, s.timed, s.medianMs])).toEqual([
      ['Show the shelf', 2, 5_000],
      ['Put a vase on it', 2, 5_000],
    ]);
    const edited = await aggregate(key('shelf-edited-01'));
    expect(edited).toMatchObject({ sessions: 1, completed: 1 });
    expect(edited.steps.map((s) => [s.instruction, s.medianMs])).toEqual([
      ['Show the shelf', 2_000],
      ['Put a vase on it', 2_000],
      ['Stand a book up', 2_000],
    ]);
    expect((await aggregate(key('shelf-other-01'))).steps.map((s) => s.medianMs)).toEqual([100_000, 100_000]);
    // The bare id names no definition: nothing is counted under it.
    expect(await aggregate('tidy-shelf')).toMatchObject({ sessions: 0, steps: [] });
  });
});

// ---- facts kept under the old rules ----

const pgWhy = await pgUnreachable();
const kinds = [sqliteKind(), ...(pgWhy ? [] : [postgresKind()])];
afterAll(async () => {
  for (const k of kinds) await k.cleanUp();
});

describe.each(kinds)('the $name store', (kind) => {
  it("folds again, at open, the facts it kept when it believed a device's word on a built-in task", async () => {
    const T = 1_800_000_000_000;
    const clock = new Clock(T + 60_000);
    const db = kind.fresh();
    const store = await db.open({ now: clock.now });
    await store.createDevice({ deviceId: 'intruder-device-01', name: 'Intruder', secretHash: '00'.repeat(32), createdAt: T - 1, revokedAt: null });
    await store.claimSession('old-hijack-01', 'intruder-device-01', T);
    expect(await store.append('intruder-device-01', 'old-hijack-01', hijack(T).events)).toMatchObject({ ok: true });
    // Beside it, an honest session and a custom one, whose kept facts the new rules would keep the same.
    await store.claimSession('old-honest-01', 'intruder-device-01', T + 1);
    await store.append('intruder-device-01', 'old-honest-01', honestDesk(T + 1_000).events);
    const shelf = { id: 'tidy-shelf', title: 'Tidy the shelf', steps: [{ instruction: 'Show the shelf', require: [{ label: 'book' }] }] };
    await store.claimSession('old-custom-01', 'intruder-device-01', T + 2);
    await store.append('intruder-device-01', 'old-custom-01', new Recording(shelf, T + 2_000, { start: { task: shelf.id, taskTitle: shelf.title, steps: ['Show the shelf'], ...APP } }).verdict(T + 3_000, completed(0, null, 1_000)).events);
    const before = await store.sessionsById(['old-honest-01', 'old-custom-01']);
    expect(before.map((s) => [s.sessionId, s.taskKey])).toEqual([
      ['old-custom-01', expect.stringMatching(/^custom:[0-9a-f]{24}$/)],
      ['old-honest-01', 'desk-setup'],
    ]);
    // As the previous release left them: no task key, the old version; their events gone behind the store's back, so a fold from them would show.
    await db.sql("UPDATE fw_sessions SET task_key = NULL, facts_version = 0 WHERE session_id IN ('old-honest-01', 'old-custom-01')");
    await db.sql("DELETE FROM fw_events WHERE session_id IN ('old-honest-01', 'old-custom-01')");
    // What the previous release kept for it: the device's title and steps, and step 1,000 reached.
    const [row] = await db.query<{ facts: string }>("SELECT facts FROM fw_sessions WHERE session_id = 'old-hijack-01'");
    const believed = { ...JSON.parse(row!.facts), taskTitle: 'HIJACKED', stepsTotal: 1000, step: 1000, stepInstructions: Array.from({ length: 1000 }, (_, i) => `Step ${i + 1}`) };
    await db.sql("UPDATE fw_sessions SET facts = ?, search = ?, task_key = NULL, facts_version = 0 WHERE session_id = 'old-hijack-01'", [JSON.stringify(believed), 'intruder\nhijacked']);
    // Even before it is folded again, a built-in task's title and length are shown as the server knows them.
    expect((await store.sessionsById(['old-hijack-01']))[0]).toMatchObject({ taskTitle: DESK.title, stepsTotal: 4, stepsDone: 4 });
    expect(taskAggregate('desk-setup', [believed]).steps).toHaveLength(4);

    const again = await db.open({ now: clock.now });
    expect((await again.sessionsById(['old-hijack-01']))[0]).toMatchObject({ taskKey: 'desk-setup', taskTitle: DESK.title, stepsDone: 2, stepsTotal: 4 });
    expect((await again.sessions(10, undefined, { q: 'hijacked' })).sessions).toEqual([]);
    expect((await again.sessions(10, undefined, { task: 'desk-setup' })).sessions.map((s) => s.sessionId)).toEqual(['old-honest-01', 'old-hijack-01']);
    expect(await again.taskFacts('desk-setup')).toMatchObject([{ completedTs: T + 22_000 }, { taskTitle: DESK.title, stepsTotal: 4, stepInstructions: null, step: 2 }]);
    // The facts the new rules keep the same were kept, and only given their key: not folded again from (missing) events.
    expect(await again.sessionsById(['old-honest-01', 'old-custom-01'])).toEqual(before);
  });
});
