// What the write quotas and retention ask of a store, on SQLite (its writer thread, and inline)
// and PostgreSQL, with the same outcomes: each device's usage per day counted in the append's and
// the claim's transaction (stored payload bytes, events, new sessions; resends not counted), and
// sessions idle since a time deleted with their events, rechecked under the append's lock.
// PostgreSQL is skipped, saying so, where it does not answer at $FRAMEWISE_TEST_PG.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dropTables, PG_URL, pgUnreachable } from '../test/server/pg-support';
import { events } from '../test/server/test-support';
import { simulatedFruitBowl } from '../test/server/guided-sessions';
import { PostgresStore } from './pg-store';
import { SqliteStore } from './sqlite-store';
import { DAY_MS, dayOf, type EventStore } from './store';

const why = await pgUnreachable();
if (why) console.warn(`usage and retention on PostgreSQL skipped: no PostgreSQL at ${PG_URL} (${why}); set FRAMEWISE_TEST_PG to run it`);

const T = Date.UTC(2026, 10, 24, 12);
const prefixes: string[] = [];
const stores: EventStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
  for (const p of prefixes) await dropTables(p);
});

const kinds: [string, () => Promise<EventStore>][] = [
  ['SQLite (writer thread)', async () => SqliteStore.open(join(mkdtempSync(join(tmpdir(), 'fw-usage-')), 'store.sqlite'), { now: () => T })],
  ['SQLite (inline)', async () => SqliteStore.open(join(mkdtempSync(join(tmpdir(), 'fw-usage-')), 'store.sqlite'), { now: () => T, writer: 'inline' })],
  ...(why
    ? []
    : ([
        [
          'PostgreSQL',
          async () => {
            const prefix = `fw_usage_${process.pid}_${prefixes.length}_${Date.now().toString(36)}`;
            prefixes.push(prefix);
            return PostgresStore.open({ url: PG_URL, prefix, applicationName: `fw-usage-${process.pid}`, now: () => T });
          },
        ],
      ] as [string, () => Promise<EventStore>][])),
];

const payloadBytes = (evs: readonly { payload: unknown }[]) => evs.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e.payload)), 0);

async function open(make: () => Promise<EventStore>) {
  const store = await make();
  stores.push(store);
  for (const deviceId of ['usage-device-01', 'usage-device-02']) await store.createDevice({ deviceId, name: `camera ${deviceId}`, secretHash: 'ab'.repeat(32), createdAt: T, revokedAt: null });
  return store;
}

// One recording for every store (the payload generator moves on with each call).
const frames = events(1, 120, { ts: T });
const guided = simulatedFruitBowl(T).events;
const nextDay = events(guided.length + 1, guided.length + 10, { ts: T });

/** Everything a store answered, for comparing the stores with one another. */
async function scenario(store: EventStore) {
  const out: unknown[] = [];
  const dev = 'usage-device-01';
  await store.claimSession('usage-session-01', dev, T);
  await store.claimSession('usage-session-01', dev, T + 1); // the same session again: not a new one
  await store.claimSession('usage-session-02', dev, T + 2);
  await store.claimSession('usage-session-03', 'usage-device-02', T + 3);
  out.push(await store.append(dev, 'usage-session-01', frames.slice(0, 60), { withUsage: true, at: T }));
  // A resend with 20 new events: only those count.
  out.push(await store.append(dev, 'usage-session-01', frames.slice(40, 80), { withUsage: true, at: T }));
  out.push(await store.append(dev, 'usage-session-02', guided, { withUsage: true, at: T }));
  // Without asking, the answer is what it always was.
  out.push(await store.append(dev, 'usage-session-01', frames.slice(80, 120)));
  out.push(await store.append('usage-device-02', 'usage-session-03', frames.slice(0, 10), { at: T }));
  // The next day is counted apart.
  out.push(await store.append(dev, 'usage-session-02', nextDay, { withUsage: true, at: T + DAY_MS }));
  out.push(await store.usage(dev, T), await store.usage(dev, T + DAY_MS), await store.usage('usage-device-02', T), await store.usage('nobody', T));
  return out;
}

describe.each(kinds)('%s', (_name, make) => {
  it('counts what each device stores per day, in the write itself: payload bytes, events, new sessions; a resend is not counted twice', async () => {
    const store = await open(make);
    const out = await scenario(store);
    const day = dayOf(T);
    expect(out[0]).toEqual({ ok: true, seq: 60, stored: 60, usage: { day, bytes: payloadBytes(frames.slice(0, 60)), events: 60, sessions: 2 } });
    expect(out[1]).toEqual({ ok: true, seq: 80, stored: 20, usage: { day, bytes: payloadBytes(frames.slice(0, 80)), events: 80, sessions: 2 } });
    expect(out[2]).toEqual({ ok: true, seq: guided.length, stored: guided.length, usage: { day, bytes: payloadBytes(frames.slice(0, 80)) + payloadBytes(guided), events: 80 + guided.length, sessions: 2 } });
    expect(out[3]).toEqual({ ok: true, seq: 120, stored: 40 });
    expect(out[5]).toMatchObject({ usage: { day: day + 1, events: 10, sessions: 0 } });
    expect(out[6]).toEqual({ day, bytes: payloadBytes(frames) + payloadBytes(guided), events: 120 + guided.length, sessions: 2 });
    expect(out[8]).toEqual({ day, bytes: payloadBytes(frames.slice(0, 10)), events: 10, sessions: 1 });
    expect(out[9]).toEqual({ day, bytes: 0, events: 0, sessions: 0 });
    expect(await store.pruneUsage(day + 1)).toBe(2);
    expect(await store.usage('usage-device-01', T)).toEqual({ day, bytes: 0, events: 0, sessions: 0 });
    expect((await store.usage('usage-device-01', T + DAY_MS)).events).toBe(10);
  }, 60_000);

  it('deletes sessions idle since a time, with their events, a bounded number at a time; a session written since is kept', async () => {
    const store = await open(make);
    const dev = 'usage-device-01';
    for (let i = 1; i <= 5; i++) {
      await store.claimSession(`retained-${i}`, dev, T);
      await store.append(dev, `retained-${i}`, events(1, 10 * i, { ts: T }), { at: T + i });
    }
    await store.claimSession('retained-empty', dev, T); // claimed, never written to
    await store.append(dev, 'retained-4', events(41, 50, { ts: T }), { at: T + 40 * DAY_MS });
    const cutoff = T + 30 * DAY_MS;
    expect(await store.deleteSessionsBefore(cutoff, 2)).toEqual({ sessions: 2, events: 10 });
    expect(await store.deleteSessionsBefore(cutoff, 100)).toEqual({ sessions: 3, events: 100 });
    expect(await store.deleteSessionsBefore(cutoff, 100)).toEqual({ sessions: 0, events: 0 });
    expect((await store.sessions(50)).sessions.map((s) => s.sessionId)).toEqual(['retained-4']);
    expect(await store.events('retained-4', 0, 100)).toHaveLength(50);
    expect(await store.events('retained-5', 0, 100)).toEqual([]);
    // A deleted session's id is free again, as for a device that never sent it.
    expect(await store.claimSession('retained-5', dev, cutoff)).toEqual({ owner: dev, lastSeq: 0 });
  }, 60_000);
});

describe.skipIf(why !== undefined)('SQLite and PostgreSQL', () => {
  it('answer the same', async () => {
    const [a, b] = [await open(kinds[0]![1]), await open(kinds.at(-1)![1])];
    expect(await scenario(b)).toEqual(await scenario(a));
  }, 60_000);
});
