// The SQLite store and the live feed in process: summaries kept on write (never computed from
// the events), ownership and revocation checked in the append's transaction, stable pages, and a
// live feed that reads nothing while nobody watches and only what changed while someone does.
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { LIMITS } from '../src/sync/protocol';
import { type SessionSummary } from '../src/sync/trainer-api';
import { LiveHub, newLiveStats } from './live';
import { SqliteStore } from './sqlite-store';
import { decodeCursor, type EventStore } from './store';
import { events, FakeSocket, waitFor } from '../test/server/test-support';

async function fresh(): Promise<{ store: SqliteStore; file: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'fw-store-')), 'store.sqlite');
  const store = new SqliteStore(file);
  for (const id of ['device-aaaaaaaaaa', 'device-bbbbbbbbbb']) await store.createDevice({ deviceId: id, name: id.slice(-3), secretHash: '00'.repeat(32), createdAt: 1, revokedAt: null });
  return { store, file };
}

describe('the SQLite store', () => {
  it('keeps each session summary on write, in the same transaction, without reading the events back', async () => {
    const { store, file } = await fresh();
    await store.claimSession('summary-session', 'device-aaaaaaaaaa', 1);
    const evs = events(1, 30, { ts: 1_000 });
    expect(await store.append('device-aaaaaaaaaa', 'summary-session', evs.slice(0, 20))).toEqual({ ok: true, seq: 20, stored: 20 });
    expect(await store.append('device-aaaaaaaaaa', 'summary-session', evs.slice(10, 30))).toEqual({ ok: true, seq: 30, stored: 10 });
    // Take the events away behind the store's back: a summary computed from them would now be empty.
    const raw = new Database(file);
    raw.prepare("DELETE FROM fw_events WHERE session_id = 'summary-session'").run();
    raw.close();
    const [summary] = (await store.sessions(10)).sessions;
    expect(summary).toEqual({
      sessionId: 'summary-session',
      deviceId: 'device-aaaaaaaaaa',
      deviceName: 'aaa',
      events: 30,
      lastSeq: 30,
      // Claimed at 1 by the test: the server's clock when the session arrived.
      receivedTs: 1,
      firstTs: evs[0]!.ts,
      lastTs: evs[29]!.ts,
      lastState: evs.filter((e) => e.kind === 'state').at(-1)!.payload,
      // These verdicts are not the app's (no task event in them): no task, no steps; received just now, so live.
      taskId: null,
      taskKey: null,
      taskTitle: null,
      startedTs: evs[0]!.ts,
      endedTs: null,
      durationMs: evs[29]!.ts - evs[0]!.ts,
      completedTs: null,
      outcome: 'in-progress',
      stepsDone: 0,
      stepsTotal: null,
      derailments: 0,
      live: true,
    } satisfies SessionSummary);
    await store.close();
  });

  it("refuses another device's append and a revoked device's, storing nothing", async () => {
    const { store } = await fresh();
    expect(await store.claimSession('owned', 'device-aaaaaaaaaa', 1)).toEqual({ owner: 'device-aaaaaaaaaa', lastSeq: 0 });
    expect(await store.claimSession('owned', 'device-bbbbbbbbbb', 2)).toEqual({ owner: 'device-aaaaaaaaaa', lastSeq: 0 });
    expect(await store.append('device-bbbbbbbbbb', 'owned', events(1, 5))).toEqual({ ok: false, why: 'forbidden' });
    expect(await store.append('device-bbbbbbbbbb', 'never-claimed', events(1, 5))).toEqual({ ok: false, why: 'forbidden' });
    expect(await store.append('device-aaaaaaaaaa', 'owned', events(1, 5))).toEqual({ ok: true, seq: 5, stored: 5 });
    expect(await store.revokeDevice('device-aaaaaaaaaa', 9)).toMatchObject({ revokedAt: 9 });
    expect(await store.revokeDevice('device-aaaaaaaaaa', 10)).toMatchObject({ revokedAt: 9 }); // once
    expect(await store.append('device-aaaaaaaaaa', 'owned', events(6, 8))).toEqual({ ok: false, why: 'revoked' });
    expect((await store.events('owned', 0, 100)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    await store.close();
  });

  it('pages newest first with ties broken by id, and a cursor that later sessions do not shift', async () => {
    const { store } = await fresh();
    // Five sessions with the same first time, two later ones.
    const ids = ['tie-a-session', 'tie-b-session', 'tie-c-session', 'tie-d-session', 'tie-e-session'];
    for (const id of ids) {
      await store.claimSession(id, 'device-aaaaaaaaaa', 1);
      await store.append('device-aaaaaaaaaa', id, events(1, 1, { ts: 5_000 - 33 }));
    }
    const first = await store.sessions(2);
    expect(first.sessions.map((s) => s.sessionId)).toEqual(['tie-e-session', 'tie-d-session']);
    await store.claimSession('newer-session', 'device-aaaaaaaaaa', 1);
    await store.append('device-aaaaaaaaaa', 'newer-session', events(1, 1, { ts: 9_000 }));
    const second = await store.sessions(2, decodeCursor(first.next!));
    const third = await store.sessions(2, decodeCursor(second.next!));
    expect([...second.sessions, ...third.sessions].map((s) => s.sessionId)).toEqual(['tie-c-session', 'tie-b-session', 'tie-a-session']);
    expect(third.next).toBeNull();
    expect(decodeCursor('not a cursor')).toBeUndefined();
    expect(decodeCursor(Buffer.from('[1,"x"]').toString('base64url'))).toBeUndefined();
    await store.close();
  });
});

/** Just enough of a ws socket for the live feed. */

/** Counts what the live feed asks of the store. */
function counting(store: EventStore) {
  const calls = { sessions: 0, sessionsById: [] as string[][] };
  const wrapped = Object.create(store) as EventStore;
  wrapped.sessions = (limit, cursor) => (calls.sessions++, store.sessions(limit, cursor));
  wrapped.sessionsById = (ids) => (calls.sessionsById.push([...ids]), store.sessionsById(ids));
  return { wrapped, calls };
}

describe('the live feed', () => {
  it('reads nothing while nobody watches; then the first page once and only the sessions that changed, coalesced', async () => {
    const { store } = await fresh();
    const { wrapped, calls } = counting(store);
    const feed = new LiveHub({ store: wrapped, adminToken: 'the-admin', stats: newLiveStats(), log: () => {}, stallMs: 60_000, coalesceMs: 20 });
    store.onChange((c) => c.type === 'append' && feed.changed(c.sessionId));
    for (const id of ['quiet-one-session', 'quiet-two-session']) {
      await store.claimSession(id, 'device-aaaaaaaaaa', 1);
      for (let seq = 1; seq <= 20; seq += 4) await store.append('device-aaaaaaaaaa', id, events(seq, seq + 3));
    }
    expect(feed.busy).toBe(false);
    expect(calls).toEqual({ sessions: 0, sessionsById: [] });

    const ws = new FakeSocket();
    feed.add(ws as unknown as WebSocket);
    ws.emit('message', Buffer.from(JSON.stringify({ type: 'hello', token: 'the-admin' })), false);
    await waitFor('the first page', () => ws.sent.length === 1);
    expect(ws.sent[0]!.sessions.map((s) => s.sessionId).sort()).toEqual(['quiet-one-session', 'quiet-two-session']);
    for (let seq = 21; seq <= 40; seq++) await store.append('device-aaaaaaaaaa', 'quiet-two-session', events(seq, seq));
    await waitFor('the update', () => ws.sent.at(-1)?.sessions[0]?.events === 40);
    expect(calls.sessions).toBe(1);
    expect(calls.sessionsById.flat().every((id) => id === 'quiet-two-session')).toBe(true);
    expect(ws.sent.length).toBeLessThan(1 + 20); // twenty writes, coalesced
    feed.close();
    await store.close();
  });

  it('holds updates for a client whose buffer is full and sends them, merged, once it drains; a wrong hello is 4401', async () => {
    const { store } = await fresh();
    const stats = newLiveStats();
    const feed = new LiveHub({ store, adminToken: 'the-admin', stats, log: () => {}, stallMs: 60_000, coalesceMs: 10, maxBufferedBytes: 1000 });
    store.onChange((c) => c.type === 'append' && feed.changed(c.sessionId));
    const wrong = new FakeSocket();
    const codes: number[] = [];
    wrong.close = function (this: FakeSocket, code?: number) {
      codes.push(code ?? 0);
      this.readyState = 3;
    } as FakeSocket['close'];
    feed.add(wrong as unknown as WebSocket);
    wrong.emit('message', Buffer.from(JSON.stringify({ type: 'hello', token: 'the-admim' })), false);
    await waitFor('the wrong hello refused', () => codes.length > 0);
    expect(codes).toEqual([4401]);

    const ws = new FakeSocket();
    feed.add(ws as unknown as WebSocket);
    ws.emit('message', Buffer.from(JSON.stringify({ type: 'hello', token: 'the-admin' })), false);
    await waitFor('the first page', () => ws.sent.length === 1);
    ws.bufferedAmount = 5000; // not reading
    await store.claimSession('held-session', 'device-aaaaaaaaaa', 1);
    for (let seq = 1; seq <= 10; seq++) await store.append('device-aaaaaaaaaa', 'held-session', events(seq, seq));
    await waitFor('updates held back', () => stats.liveSkipped >= 2);
    expect(ws.sent.length).toBe(1);
    ws.bufferedAmount = 0; // drained
    await waitFor('the merged update', () => ws.sent.length === 2);
    expect(ws.sent[1]!.sessions).toEqual([expect.objectContaining({ sessionId: 'held-session', events: 10 })]);
    expect(LIMITS.helloTimeoutMs).toBe(5000);
    feed.close();
    await store.close();
  });
});
