// The trainer's routes over HTTP (Fastify's inject, the real app on a real SQLite store): the
// admin credential in the Authorization header and nowhere else, query validation with clear
// 400s, and what the list, timeline, aggregate and export answers hold, parsed with the same
// schemas the page uses.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_CSV_COLUMNS, SessionsPageSchema, SessionSummarySchema, SessionTimelineSchema, TaskAggregateSchema, TIMELINE_CSV_COLUMNS, type SessionSummary } from '../src/sync/trainer-api';
import { createApp, type RunningApp } from './app';
import { LAPTOP_LEFT } from '../test/server/guided-sessions';
import { SqliteStore } from './sqlite-store';
import { BENCH, Clock, KITCHEN, seed, T0 } from '../test/server/trainer-fixtures';
import { sessionsExport } from './trainer-routes';
import { parseCsv } from '../test/server/test-support';

const ADMIN = `trainer-admin-${process.pid}`;
const clock = new Clock(T0 + 1_000_000);
let app: RunningApp;
let store: SqliteStore;

beforeAll(async () => {
  store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'fw-trainer-api-')), 'store.sqlite'), { now: clock.now });
  await seed(store);
  // Wrong tokens are tried here on purpose; the failure limits themselves are tested in credentials.test.ts.
  app = await createApp({ store, adminToken: ADMIN, hosts: ['*'], origins: ['*'], log: () => {}, authFailureLimits: { perClient: 1000, global: 1000, windowMs: 60_000 } });
});
afterAll(async () => {
  await app?.close();
  await store?.close();
});

const get = (url: string, authorization: string | null = `Bearer ${ADMIN}`) => app.fastify.inject({ method: 'GET', url, headers: authorization === null ? {} : { authorization } });
const json = async (url: string) => {
  const res = await get(url);
  expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
  return res.json() as unknown;
};
const ids = (sessions: readonly SessionSummary[]) => sessions.map((s) => s.sessionId);

/** RFC 4180, written here rather than taken from the code under test. */
const records = (rows: string[][]) => rows.slice(1).map((r) => Object.fromEntries(rows[0]!.map((name, i) => [name, r[i]])));

const ROUTES = [
  '/api/sessions?task=desk-setup&outcome=completed&q=bench',
  '/api/sessions/export?format=csv',
  '/api/sessions/export?format=json&device=bench-device-0001',
  '/api/sessions/desk-completed-01/timeline',
  '/api/sessions/desk-completed-01/export?format=csv',
  '/api/sessions/desk-completed-01/export?format=json',
  '/api/tasks/desk-setup/aggregate',
];

describe('access', () => {
  it('answers 401 without the admin token in the Authorization header, wherever else it is put', async () => {
    for (const route of ROUTES) {
      for (const [url, authorization] of [
        [route, null],
        [route, 'Bearer not-the-admin'],
        [route, `Basic ${Buffer.from(`admin:${ADMIN}`).toString('base64')}`],
        [`${route}${route.includes('?') ? '&' : '?'}token=${ADMIN}`, null],
        [`${route}${route.includes('?') ? '&' : '?'}access_token=${ADMIN}`, null],
      ] as const) {
        const res = await get(url, authorization);
        expect(res.statusCode, `${url} with ${authorization}`).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer');
        for (const secret of ['desk-completed-01', BENCH.name, 'Set up your desk']) expect(res.body).not.toContain(secret);
      }
      expect((await get(route)).statusCode, route).toBe(200);
    }
  });
});

describe('the sessions list', () => {
  it('filters, searches and pages newest first, in the shape the page parses', async () => {
    const page = v.parse(SessionsPageSchema, await json('/api/sessions?task=desk-setup&limit=4'));
    expect(ids(page.sessions)).toEqual(['desk-extra-3', 'desk-extra-2', 'desk-extra-1', 'desk-resumed-01']);
    const rest = v.parse(SessionsPageSchema, await json(`/api/sessions?task=desk-setup&limit=4&cursor=${page.next}`));
    expect(ids(rest.sessions)).toEqual(['desk-abandoned-01', 'desk-completed-01']);
    expect(rest.next).toBeNull();
    const q = encodeURIComponent('"A", LEFT');
    expect(ids(v.parse(SessionsPageSchema, await json(`/api/sessions?q=${q}&outcome=completed&device=${BENCH.deviceId}`)).sessions)).toEqual(['file-analysis-01', 'desk-resumed-01', 'desk-completed-01']);
    expect(ids(v.parse(SessionsPageSchema, await json(`/api/sessions?outcome=in-progress`)).sessions)).toEqual(['fruit-progress-01']);
    // An empty search box searches nothing out.
    expect(v.parse(SessionsPageSchema, await json('/api/sessions?q=')).sessions).toHaveLength(8);
    const [first] = v.parse(SessionsPageSchema, await json('/api/sessions?device=kitchen-device-01&limit=1')).sessions;
    expect(first).toMatchObject({ deviceName: KITCHEN.name, taskTitle: 'Set up your desk', outcome: 'abandoned', stepsDone: 1, stepsTotal: 4, live: false });
  });

  it('refuses bad queries with 400 and says which parameter is wrong', async () => {
    const cases: [string, RegExp][] = [
      ['/api/sessions?outcome=finished', /outcome must be one of completed, abandoned, in-progress/],
      ['/api/sessions?device=not%20an%20id', /device must be a device id/],
      ['/api/sessions?task=', /task must not be empty/],
      [`/api/sessions?task=${'x'.repeat(201)}`, /task is at most 200 characters/],
      ['/api/sessions?q=%01', /q must be printable text/],
      [`/api/sessions?q=${'x'.repeat(101)}`, /q is at most 100 characters/],
      ['/api/sessions?outcome=completed&outcome=abandoned', /outcome/],
      ['/api/sessions?limit=0', /limit must be at least 1/],
      ['/api/sessions?cursor=bm9wZQ', /bad cursor/],
      ['/api/sessions?sort=oldest', /sort/],
      ['/api/sessions/export', /format must be one of csv, json/],
      ['/api/sessions/export?format=xlsx', /format must be one of csv, json/],
      ['/api/sessions/export?format=csv&limit=5', /limit/],
      ['/api/sessions/export?format=csv&outcome=done', /outcome must be one of/],
      ['/api/sessions/desk-completed-01/export?format=pdf', /format must be one of csv, json/],
      ['/api/sessions/bad!id/timeline', /bad sessionId/],
      ['/api/sessions/bad!id/export?format=csv', /bad sessionId/],
    ];
    for (const [url, message] of cases) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect((res.json() as { error: string }).error, url).toMatch(message);
    }
  });
});

describe('a session', () => {
  it('has a timeline: each step with its instruction, times, derailments and the instructions given', async () => {
    const timeline = v.parse(SessionTimelineSchema, await json('/api/sessions/desk-completed-01/timeline'));
    expect(v.parse(SessionSummarySchema, timeline.session)).toMatchObject({ sessionId: 'desk-completed-01', outcome: 'completed', stepsDone: 4 });
    expect(timeline.steps.map((s) => [s.instruction, s.durationMs])).toEqual([
      ['Put your laptop in view', 4_000],
      ['Place the keyboard in front of (below) the laptop', 8_000],
      ['Put the mouse to the right of the keyboard', 3_000],
      ['Put the cup to the right of the laptop', 6_000],
    ]);
    expect(timeline.steps[1]!.derailments).toEqual([{ step: 1, reason: LAPTOP_LEFT, startTs: T0 + 6_000, endTs: T0 + 9_000, durationMs: 3_000, ongoing: false }]);
    expect((await get('/api/sessions/no-such-session/timeline')).statusCode).toBe(404);
    expect((await get('/api/sessions/no-such-session/export?format=csv')).statusCode).toBe(404);
  });

  it('exports as an attached CSV, one row per step then its derailments and instructions, and as JSON', async () => {
    const res = await get('/api/sessions/desk-completed-01/export?format=csv');
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="framewise-session-desk-completed-01.csv"');
    const rows = parseCsv(res.body);
    expect(rows[0]).toEqual([...TIMELINE_CSV_COLUMNS]);
    const recs = records(rows);
    expect(recs.map((r) => `${r.step}:${r.row}`)).toEqual(['1:step', '1:instruction', '2:step', '2:instruction', '2:derailment', '2:instruction', '3:step', '4:step', '4:instruction']);
    expect(recs[4]).toEqual({
      session_id: 'desk-completed-01',
      step: '2',
      step_instruction: 'Place the keyboard in front of (below) the laptop',
      row: 'derailment',
      status: '',
      completed_by: '',
      start: new Date(T0 + 6_000).toISOString(),
      end: new Date(T0 + 9_000).toISOString(),
      duration_ms: '3000',
      text: LAPTOP_LEFT,
    });
    expect(recs[0]).toMatchObject({ row: 'step', status: 'completed', completed_by: 'seen', start: new Date(T0).toISOString(), end: new Date(T0 + 4_000).toISOString(), duration_ms: '4000' });

    const asJson = await get('/api/sessions/desk-completed-01/export?format=json');
    expect(asJson.headers['content-disposition']).toBe('attachment; filename="framewise-session-desk-completed-01.json"');
    expect(v.parse(SessionTimelineSchema, asJson.json())).toEqual(await json('/api/sessions/desk-completed-01/timeline'));
  });
});

describe('the list export', () => {
  it('is every filtered session as CSV, quoted and formula-safe, with the documented columns', async () => {
    const res = await get(`/api/sessions/export?format=csv&device=${BENCH.deviceId}`);
    expect(res.headers['content-disposition']).toBe('attachment; filename="framewise-sessions.csv"');
    // The device name starts with = and holds a quote and a comma.
    expect(res.body).toContain(`"'=Bench ""A"", left"`);
    const rows = parseCsv(res.body);
    expect(rows[0]).toEqual([...SESSION_CSV_COLUMNS]);
    expect(rows.slice(1).every((r) => r.length === SESSION_CSV_COLUMNS.length)).toBe(true);
    const recs = records(rows);
    expect(recs.map((r) => r.session_id)).toEqual(['file-analysis-01', 'desk-resumed-01', 'desk-completed-01']);
    expect(recs[2]).toEqual({
      session_id: 'desk-completed-01',
      device_id: BENCH.deviceId,
      device_name: `'${BENCH.name}`,
      task_id: 'desk-setup',
      task_title: 'Set up your desk',
      started: new Date(T0).toISOString(),
      ended: new Date(T0 + 22_000).toISOString(),
      duration_ms: '22000',
      outcome: 'completed',
      steps_done: '4',
      steps_total: '4',
      derailments: '1',
      live: 'false',
      events: String((await store.sessionsById(['desk-completed-01']))[0]!.events),
    });
    expect(recs[0]).toMatchObject({ task_id: '', task_title: '', steps_total: '', outcome: 'completed' });
  });

  it('is, as JSON, the same summaries the paged list gives, across as many pages as it takes', async () => {
    const res = await get('/api/sessions/export?format=json&task=desk-setup&outcome=abandoned');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const exported = v.parse(v.array(SessionSummarySchema), res.json());
    expect(exported).toEqual(v.parse(SessionsPageSchema, await json('/api/sessions?task=desk-setup&outcome=abandoned')).sessions);
    expect(ids(exported)).toEqual(['desk-extra-3', 'desk-extra-2', 'desk-extra-1', 'desk-abandoned-01']);
    // Three to a page: the export follows the cursor to the end, and each session comes once.
    let text = '';
    for await (const chunk of sessionsExport(store, {}, 'json', 3)) text += chunk;
    expect(JSON.parse(text)).toEqual(v.parse(SessionsPageSchema, await json('/api/sessions?limit=200')).sessions);
    let csv = '';
    for await (const chunk of sessionsExport(store, { outcome: 'abandoned' }, 'csv', 3)) csv += chunk;
    expect(records(parseCsv(csv)).map((r) => r.session_id)).toEqual(['desk-extra-3', 'desk-extra-2', 'desk-extra-1', 'desk-abandoned-01']);
  });
});

describe('a task', () => {
  it('has aggregates across its sessions', async () => {
    const agg = v.parse(TaskAggregateSchema, await json('/api/tasks/desk-setup/aggregate'));
    expect(agg).toMatchObject({ taskTitle: 'Set up your desk', sessions: 6, completed: 2, mostDerailed: [1, 3] });
    expect(agg.steps.map((s) => [s.medianMs, s.p90Ms])).toEqual([
      [4_000, 8_000],
      [8_000, 8_000],
      [4_000, 4_800],
      [5_000, 5_800],
    ]);
    expect(v.parse(TaskAggregateSchema, await json(`/api/tasks/${encodeURIComponent('a task, of mine')}/aggregate`))).toMatchObject({ sessions: 0, steps: [] });
    expect((await get('/api/tasks/%01/aggregate')).statusCode).toBe(400);
  });
});
