// The SQLite store's writer thread: reads never wait behind a write, writes that arrive together
// are committed together, one that fails is rolled back alone, and closing waits for what was
// queued. Realistic events (verdicts, frames of 25 and 200 detections).
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { events } from '../test/server/test-support';
import { SqliteStore } from './sqlite-store';
import type { DeviceRecord } from './store';

const T = Date.UTC(2026, 10, 24, 12);
const DEVICE: DeviceRecord = { deviceId: 'writer-device-01', name: 'bench camera', secretHash: 'ab'.repeat(32), createdAt: T, revokedAt: null };
const SLOW = 60_000;

const opened: SqliteStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => {});
});

async function fresh(opts: { writer?: 'thread' | 'inline' } = {}) {
  const file = join(mkdtempSync(join(tmpdir(), 'fw-writer-')), 'store.sqlite');
  const store = await SqliteStore.open(file, { now: () => T, ...opts });
  opened.push(store);
  await store.createDevice(DEVICE);
  return { store, file };
}

describe('the SQLite writer thread', () => {
  it('keeps reads off the write path: while a write waits for the file, lists and events are answered from the last commit', async () => {
    const { store, file } = await fresh();
    await store.claimSession('writer-read-01', DEVICE.deviceId, T);
    expect(await store.append(DEVICE.deviceId, 'writer-read-01', events(1, 40, { ts: T }))).toEqual({ ok: true, seq: 40, stored: 40 });
    // Another process holds the file's write lock (a backup, an operator's sqlite3 shell).
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    let settled = false;
    const writing = store.append(DEVICE.deviceId, 'writer-read-01', events(41, 80, { ts: T })).finally(() => (settled = true));
    const t0 = performance.now();
    const page = await store.sessions(50);
    const stored = await store.events('writer-read-01', 0, 1000);
    const device = await store.device(DEVICE.deviceId);
    const took = performance.now() - t0;
    expect(page.sessions.map((s) => [s.sessionId, s.lastSeq])).toEqual([['writer-read-01', 40]]);
    expect(stored).toHaveLength(40);
    expect(device?.name).toBe('bench camera');
    expect(settled).toBe(false);
    // Well under the 5 s a write would wait for the lock: the reads did not queue behind it.
    expect(took).toBeLessThan(2_000);
    other.exec('COMMIT');
    other.close();
    expect(await writing).toEqual({ ok: true, seq: 80, stored: 40 });
    expect(await store.events('writer-read-01', 0, 1000)).toHaveLength(80);
  }, SLOW);

  it('commits writes that arrive together in a few transactions, and answers each only after its commit', async () => {
    const { store, file } = await fresh();
    const ids = Array.from({ length: 40 }, (_, i) => `writer-group-${String(i).padStart(2, '0')}`);
    for (const id of ids) await store.claimSession(id, DEVICE.deviceId, T);
    const before = await store.writerStats();
    // While the file is held elsewhere, 40 devices' writes arrive; none is answered before it is committed.
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    let answered = 0;
    const writing = Promise.all(ids.map((id) => store.append(DEVICE.deviceId, id, events(1, 20, { ts: T })).finally(() => answered++)));
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe(0);
    other.exec('COMMIT');
    other.close();
    const results = await writing;
    const after = await store.writerStats();
    expect(results.every((r) => r.ok && r.seq === 20)).toBe(true);
    const writes = after.writes - before.writes;
    const groups = after.groups - before.groups;
    expect(writes).toBe(40);
    expect(groups).toBeLessThanOrEqual(writes / 4);
    const page = await store.sessions(100);
    expect(page.sessions).toHaveLength(40);
    expect(page.sessions.every((s) => s.events === 20)).toBe(true);
  }, SLOW);

  it('rolls back a write that fails alone; the others of its group are committed', async () => {
    const { store, file } = await fresh();
    for (const id of ['writer-fail-00', 'writer-fail-01', 'writer-fail-02']) await store.claimSession(id, DEVICE.deviceId, T);
    const before = await store.writerStats();
    // While a first write waits for the file (held by another connection), three more queue up behind it: they form the next group.
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    const first = store.append(DEVICE.deviceId, 'writer-fail-00', events(1, 30, { ts: T }));
    const group = Promise.allSettled([
      store.append(DEVICE.deviceId, 'writer-fail-01', events(1, 30, { ts: T })),
      store.createDevice(DEVICE), // the same device again: a unique violation inside the group
      store.append(DEVICE.deviceId, 'writer-fail-02', events(1, 30, { ts: T })),
    ]);
    // Once they are all on their way (a turn of this thread's loop), the file is let go.
    await new Promise((r) => setImmediate(r));
    other.exec('COMMIT');
    other.close();
    expect(await first).toEqual({ ok: true, seq: 30, stored: 30 });
    const [a, dup, b] = await group;
    const after = await store.writerStats();
    expect(a).toEqual({ status: 'fulfilled', value: { ok: true, seq: 30, stored: 30 } });
    expect(b).toEqual({ status: 'fulfilled', value: { ok: true, seq: 30, stored: 30 } });
    expect(dup.status).toBe('rejected');
    expect(String((dup as PromiseRejectedResult).reason)).toMatch(/UNIQUE constraint failed/);
    expect(((dup as PromiseRejectedResult).reason as { code?: string }).code).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
    // Four writes in at most two transactions: the failing one shared its transaction with a write that was committed.
    expect(after.writes - before.writes).toBe(4);
    expect(after.groups - before.groups).toBeLessThanOrEqual(2);
    expect(after.failedGroups).toBe(before.failedGroups);
    for (const id of ['writer-fail-00', 'writer-fail-01', 'writer-fail-02']) expect(await store.events(id, 0, 100)).toHaveLength(30);
    expect(await store.devices()).toHaveLength(1);
  }, SLOW);

  it('closes once the writes queued before it are committed', async () => {
    const { store, file } = await fresh();
    await store.claimSession('writer-close-01', DEVICE.deviceId, T);
    const writing = store.append(DEVICE.deviceId, 'writer-close-01', events(1, 60, { ts: T }));
    await store.close();
    expect(await writing).toEqual({ ok: true, seq: 60, stored: 60 });
    const again = await SqliteStore.open(file, { now: () => T });
    opened.push(again);
    expect(await again.events('writer-close-01', 0, 100)).toHaveLength(60);
  }, SLOW);
});
