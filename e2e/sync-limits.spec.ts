import { expect, test, type Page } from '@playwright/test';
import { startServer, type ServerProcess } from '../test/server/spawn-server';
import { backendEnv, DeviceSocket, enrolDevice, storedEvents, verdictEvent } from './fixtures/backend';
import { startFakeBackend } from './fixtures/fake-backend';
import { startRelay, type Relay } from './fixtures/ws-relay';
import { openHarness, type HarnessWindow } from './harness-types';

// What no event may do to sync: stall it (too big, refused, lost by the backend), or make the
// client believe more than it sent. Real backend process unless the test needs one that lies.
const fw = (page: Page) => page.evaluateHandle(() => (window as unknown as HarnessWindow).fw);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test.describe('against the real backend', () => {
  let server: ServerProcess;
  let relay: Relay;
  let port: number;

  test.beforeEach(async () => {
    port = 24000 + Math.floor(Math.random() * 1000);
    server = await startServer(backendEnv(port), port);
    // Between the page and the backend: counts every message the backend receives.
    relay = await startRelay(port);
  });
  test.afterEach(async () => {
    await relay.close();
    await server.kill('SIGTERM');
  });

  test('a busy scene (100 frames of 25 detections, 60 of 200) syncs completely, in messages under the limit, with no 1009 or 1007', async ({ page }) => {
    test.setTimeout(120_000);
    const device = await enrolDevice(server.url, 'busy-scene tablet');
    await openHarness(page);
    const h = await fw(page);
    // Recorded before sync starts (as after a session offline), so the first batches are as full as they can be.
    await h.evaluate((f) => f.openOutbox('outbox-busy'));
    const perFrame = [...Array<number>(100).fill(25), ...Array<number>(60).fill(200)];
    const recorded = await h.evaluate((f, p) => f.recordFrames('session-busy-scene', p), perFrame);
    expect(recorded.errors).toEqual([]);
    expect(recorded.progress!.appended).toBe(162); // start, 160 frames, end
    await h.evaluate((f, [u, t]) => f.startSync('outbox-busy', u, t), [relay.url, device.token] as const);
    await expect.poll(async () => (await storedEvents(server.url, 'session-busy-scene')).length, { timeout: 60_000, intervals: [500] }).toBe(162);
    const stored = await storedEvents(server.url, 'session-busy-scene');
    expect(stored.map((e) => e.seq)).toEqual(range(1, 162));
    const frames = stored.filter((e) => e.kind === 'detections').map((e) => e.payload as { frame: number; labels: string[]; boxes: number[][]; omitted: number });
    expect(frames.map((f) => f.boxes.length)).toEqual(perFrame);
    expect(frames.every((f) => f.omitted === 0 && f.boxes.every((b) => b.length === 6 && f.labels[b[0]!] !== undefined))).toBe(true);
    await expect.poll(() => h.evaluate((f) => f.sync.client!.current.pending)).toBe(0);
    const status = await h.evaluate((f) => f.sync.client!.current);
    expect(status.closes[1009] ?? 0).toBe(0);
    expect(status.closes[1007] ?? 0).toBe(0);
    expect(status.held).toEqual([]);
    const sent = relay.received.filter((m) => m.type === 'events');
    const largest = Math.max(...sent.map((m) => m.bytes));
    expect(largest).toBeLessThanOrEqual(256 * 1024);
    expect(sent.reduce((n, m) => n + m.events!.length, 0)).toBe(162); // each once: nothing was refused and resent
    const biggestFrame = Math.max(...stored.map((e) => Buffer.byteLength(JSON.stringify(e.payload))));
    console.log(`busy scene: 162 events stored in ${sent.length} events messages, largest message ${largest} bytes, largest event payload ${biggestFrame} bytes (200 detections), closes ${JSON.stringify(status.closes)}`);
  });

  test('an event that could never fit is refused at append with a clear error, never kept or sent; the session goes on', async ({ page }) => {
    const device = await enrolDevice(server.url, 'oversize tablet');
    await openHarness(page);
    const h = await fw(page);
    await h.evaluate((f, [u, t]) => f.startSync('outbox-oversize', u, t), [relay.url, device.token] as const);
    await h.evaluate((f) => f.writeEvents('session-oversize', 1, 5, 0));
    // 300 detections in the verbose form earlier versions recorded: about 27 KiB.
    const refused = await h.evaluate((f) => f.tryAppend('session-oversize', 'detections', f.verboseFrame(6, 300)));
    expect(refused).toMatchObject({ ok: false, name: 'OversizeEventError' });
    expect(refused.ok ? '' : refused.error).toMatch(/^A detections event of \d+\.\d KiB was refused: the backend accepts at most 16 KiB per event, so it was not kept and will not be sent\.$/);
    // It took no sequence number: the next event is #6 and the session has no gap.
    expect(await h.evaluate((f) => f.tryAppend('session-oversize', 'state', f.verdict(6)))).toEqual({ ok: true, seq: 6 });
    await expect.poll(async () => (await storedEvents(server.url, 'session-oversize')).length, { timeout: 30_000 }).toBe(6);
    const stored = await storedEvents(server.url, 'session-oversize');
    expect(stored.map((e) => [e.seq, e.kind, (e.payload as { frame: number }).frame])).toEqual(range(1, 6).map((i) => [i, 'state', i]));
    const sentKinds = relay.received.flatMap((m) => (m.type === 'events' ? m.events!.map((e) => e.kind) : []));
    expect(sentKinds.filter((k) => k !== 'state')).toEqual([]);
    expect(Math.max(...relay.received.map((m) => m.bytes))).toBeLessThan(16 * 1024);
  });

  test('a session another device owns is refused (4403) and held back; a later session still syncs; the owner goes on', async ({ page }) => {
    test.setTimeout(90_000);
    const mine = await enrolDevice(server.url, 'tablet A');
    const other = await enrolDevice(server.url, 'tablet B');
    // Tablet B said hello for the session first: it owns it.
    const owner = await DeviceSocket.open(server.url);
    expect(await owner.hello('session-a-owned-by-b', other.token)).toBe(0);
    expect(await owner.send('session-a-owned-by-b', [verdictEvent(1, 'B'), verdictEvent(2, 'B')])).toBe(2);
    await openHarness(page);
    const h = await fw(page);
    // Tablet A recorded under the same id (first in the outbox's order), then a session of its own.
    await h.evaluate((f) => f.openOutbox('outbox-forbidden'));
    await h.evaluate((f) => f.writeEvents('session-a-owned-by-b', 1, 20, 0));
    await h.evaluate((f) => f.writeEvents('session-b-later', 1, 20, 0));
    await h.evaluate((f, [u, t]) => f.startSync('outbox-forbidden', u, t), [relay.url, mine.token] as const);
    await expect.poll(async () => (await storedEvents(server.url, 'session-b-later')).length, { timeout: 30_000 }).toBe(20);
    const status = await h.evaluate((f) => f.sync.client!.current);
    expect(status.held).toEqual([expect.objectContaining({ sessionId: 'session-a-owned-by-b', reason: 'forbidden', events: 20 })]);
    expect(status.closes[4403]).toBe(1);
    await expect(page.getByTestId('sync-held')).toHaveText('20 events of session session-a-owned-by-b refused by the backend: another device owns that session. They are kept on this device.');
    // Nothing of A's was stored in B's session, A keeps its 20 events, and A never sent them.
    expect((await storedEvents(server.url, 'session-a-owned-by-b')).map((e) => (e.payload as { device: string }).device)).toEqual(['B', 'B']);
    expect(await h.evaluate((f) => f.sync.outbox!.sessionPending('session-a-owned-by-b'))).toBe(20);
    expect(relay.received.filter((m) => m.sessionId === 'session-a-owned-by-b' && m.type === 'events')).toEqual([]);
    // The owner's later events are stored and acknowledged as usual.
    expect(await owner.send('session-a-owned-by-b', [verdictEvent(3, 'B')])).toBe(3);
    expect((await storedEvents(server.url, 'session-a-owned-by-b')).map((e) => e.seq)).toEqual([1, 2, 3]);
    owner.close();
  });

  test('a backend that lost the acknowledged prefix: the loss is shown, the rest kept, no hot loop, and new sessions sync', async ({ page }) => {
    test.setTimeout(120_000);
    const first = await enrolDevice(server.url, 'tablet');
    await openHarness(page);
    const h = await fw(page);
    await h.evaluate((f, [u, t]) => f.startSync('outbox-lost', u, t), [relay.url, first.token] as const);
    await h.evaluate((f) => f.writeEvents('session-lost-prefix', 1, 50, 0));
    await expect.poll(async () => (await storedEvents(server.url, 'session-lost-prefix')).length, { timeout: 30_000 }).toBe(50);
    await expect.poll(() => h.evaluate((f) => f.sync.client!.current.pending)).toBe(0); // acknowledged, so deleted here
    await h.evaluate((f) => f.stopSync());

    // The backend comes back empty (a fresh database at the same address); the device enrols again there.
    await server.kill('SIGKILL');
    server = await startServer(backendEnv(port), port);
    const again = await enrolDevice(server.url, 'tablet, enrolled again');
    await h.evaluate((f) => f.writeEvents('session-lost-prefix', 51, 10, 0));
    await h.evaluate((f) => f.writeEvents('session-new-after-loss', 1, 10, 0));
    const before = relay.received.length;
    await h.evaluate((f, [u, t]) => f.startSync('outbox-lost', u, t), [relay.url, again.token] as const);

    await expect(page.getByTestId('sync-held')).toContainText('The backend lost 50 events of session session-lost-prefix: it holds up to #0, but had acknowledged up to #50', { timeout: 30_000 });
    await expect.poll(async () => (await storedEvents(server.url, 'session-new-after-loss')).length, { timeout: 30_000 }).toBe(10);
    expect(await h.evaluate((f) => f.sync.outbox!.sessionPending('session-lost-prefix'))).toBe(10); // #51–60 kept
    expect(await storedEvents(server.url, 'session-lost-prefix')).toEqual([]);
    const held = await h.evaluate((f) => f.sync.client!.current.held);
    expect(held).toEqual([expect.objectContaining({ sessionId: 'session-lost-prefix', reason: 'lost', lost: 50, events: 10 })]);

    // A window with nothing new to send: the backend hears nothing more (the old client sent 3,183 messages in 8 s).
    const settled = relay.received.length;
    await page.waitForTimeout(8000);
    const inWindow = relay.received.length - settled;
    const total = relay.received.length - before;
    console.log(`lost prefix: ${total} messages to the backend after it came back (${relay.received.slice(before).map((m) => m.type).join(', ')}), ${inWindow} in the next 8 s`);
    expect(inWindow).toBe(0);
    expect(total).toBeLessThanOrEqual(4); // hello (lost), hello + events (new session), at most one more hello after a reconnect
  });
});

test.describe('against a backend that claims more than it was sent', () => {
  test('an ack above the highest seq sent is not trusted: events kept, reported, reconnect with backoff', async ({ page }) => {
    test.setTimeout(60_000);
    const fake = await startFakeBackend({ welcome: () => 0, ack: (_s, lastSent) => lastSent + 100 });
    try {
      await openHarness(page);
      const h = await fw(page);
      await h.evaluate((f) => f.openOutbox('outbox-lying-ack'));
      await h.evaluate((f) => f.writeEvents('session-lying-ack', 1, 30, 0));
      await h.evaluate((f, u) => f.startSync('outbox-lying-ack', u, 'a-device-token'), fake.url);
      await expect(page.getByTestId('sync-problem')).toHaveText(
        'The backend acknowledged #130 of session session-lying-ack, but this device has only sent up to #30: not trusted. Nothing was deleted here; reconnecting.',
        { timeout: 20_000 },
      );
      await expect.poll(() => fake.connections, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
      expect(await h.evaluate((f) => f.sync.outbox!.progress('session-lying-ack'))).toEqual({ appended: 30, acked: 0 });
      expect(await h.evaluate((f) => f.sync.outbox!.sessionPending('session-lying-ack'))).toBe(30);
      expect(await h.evaluate((f) => f.sync.client!.current.distrusted)).toBeGreaterThanOrEqual(2);
      // Each connection costs one hello and one batch, then a growing wait: no hot loop.
      expect(fake.received.length).toBeLessThanOrEqual(2 * fake.connections);
      console.log(`lying ack: ${fake.connections} connections, ${fake.received.length} messages, all 30 events kept`);
    } finally {
      await fake.close();
    }
  });

  test('a welcome above what this device recorded is not trusted: nothing deleted, nothing skipped', async ({ page }) => {
    test.setTimeout(60_000);
    const fake = await startFakeBackend({ welcome: () => 5000, ack: (_s, lastSent) => lastSent });
    try {
      await openHarness(page);
      const h = await fw(page);
      await h.evaluate((f) => f.openOutbox('outbox-lying-welcome'));
      await h.evaluate((f) => f.writeEvents('session-lying-welcome', 1, 30, 0));
      await h.evaluate((f, u) => f.startSync('outbox-lying-welcome', u, 'a-device-token'), fake.url);
      await expect(page.getByTestId('sync-problem')).toHaveText(
        'The backend says it holds session session-lying-welcome up to #5000, but this device has only recorded up to #30: not trusted. Nothing was deleted here; reconnecting.',
        { timeout: 20_000 },
      );
      await expect.poll(() => fake.connections, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
      expect(await h.evaluate((f) => f.sync.outbox!.progress('session-lying-welcome'))).toEqual({ appended: 30, acked: 0 });
      expect(fake.received.every((m) => m.type === 'hello')).toBe(true);
    } finally {
      await fake.close();
    }
  });
});

test('stopping in the middle of a long backoff wait releases the sync lock at once', async ({ page }) => {
  await openHarness(page);
  const h = await fw(page);
  await h.evaluate((f) => f.openOutbox('outbox-stop'));
  await h.evaluate((f) => f.writeEvents('session-unreachable', 1, 3, 0));
  // Nothing listens on port 9: every attempt fails, and the waits start at up to 30 s.
  await h.evaluate((f) => f.startSync('outbox-stop', 'ws://127.0.0.1:9/sync', 'a-device-token', { backoff: { startingDelay: 30_000 } }));
  await expect.poll(() => h.evaluate((f) => f.sync.client!.current.state)).toBe('offline');
  expect(await h.evaluate((f) => f.holdsSyncLock())).toBe(true);
  const released = await h.evaluate(async (f) => {
    const t0 = performance.now();
    f.stopSync();
    while (await f.holdsSyncLock()) await new Promise((r) => setTimeout(r, 5));
    return performance.now() - t0;
  });
  expect(released).toBeLessThan(200);
});

test('appends are strict-durability transactions; an outbox from the previous version keeps its events through the upgrade', async ({ page }) => {
  await page.addInitScript(() => {
    const seen: { stores: string[]; mode: string; durability: string }[] = [];
    (window as unknown as { transactions: typeof seen }).transactions = seen;
    const original = IDBDatabase.prototype.transaction;
    IDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args: Parameters<typeof original>) {
      const tx = original.apply(this, args);
      seen.push({ stores: [...tx.objectStoreNames], mode: tx.mode, durability: tx.durability });
      return tx;
    } as typeof original;
  });
  await openHarness(page);
  // The outbox as version 1 left it: a session with three unsent events, no credentials store.
  await page.evaluate(
    (events) =>
      new Promise<void>((done, fail) => {
        const req = indexedDB.open('outbox-upgrade', 1);
        req.onupgradeneeded = () => {
          req.result.createObjectStore('sessions', { keyPath: 'sessionId' });
          req.result.createObjectStore('events', { keyPath: ['sessionId', 'seq'] });
        };
        req.onsuccess = () => {
          const tx = req.result.transaction(['sessions', 'events'], 'readwrite');
          tx.objectStore('sessions').put({ sessionId: 'session-from-v1', nextSeq: 4, ackedSeq: 0, startedAt: Date.now() });
          for (const e of events) tx.objectStore('events').put({ sessionId: 'session-from-v1', ...e });
          tx.oncomplete = () => (req.result.close(), done());
          tx.onerror = () => fail(tx.error);
        };
        req.onerror = () => fail(req.error);
      }),
    [1, 2, 3].map((i) => ({ seq: i, ts: Date.now(), kind: 'state', payload: { task: 'desk-setup', step: 0, frame: i, event: { type: 'progress', step: 0, met: false } } })),
  );
  await page.evaluate(() => ((window as unknown as { transactions: unknown[] }).transactions.length = 0));
  const h = await fw(page);
  const after = await h.evaluate(async (f) => {
    const o = await f.Outbox.open('outbox-upgrade');
    const kept = (await o.sessionEvents('session-from-v1')).map((e) => e.seq);
    const next = (await o.append('session-from-v1', 'state', f.verdict(4))).seq;
    await o.startSession('session-after-upgrade');
    for (let i = 1; i <= 10; i++) await o.append('session-after-upgrade', 'state', f.verdict(i));
    await o.saveCredential({ backend: 'ws://127.0.0.1:1/sync', deviceId: 'd', token: 't', name: 'n', enrolledAt: 0 });
    const cred = await o.credential('ws://127.0.0.1:1/sync');
    o.close();
    return { kept, next, cred: cred?.deviceId };
  });
  expect(after).toEqual({ kept: [1, 2, 3], next: 4, cred: 'd' });
  const appends = await page.evaluate(() =>
    (window as unknown as { transactions: { stores: string[]; mode: string; durability: string }[] }).transactions.filter((t) => t.mode === 'readwrite' && t.stores.includes('events')),
  );
  expect(appends.length).toBe(11);
  expect(appends.map((t) => t.durability)).toEqual(Array(11).fill('strict'));
});

test('the sync status says whether the browser keeps storage persistently', async ({ context }) => {
  const cases = [
    { persist: 'yes', text: 'storage persistent' },
    { persist: 'no', text: 'storage not persistent: the browser may clear unsent events when space runs low' },
    { persist: 'missing', text: 'storage persistence unsupported by this browser' },
  ] as const;
  for (const c of cases) {
    const page = await context.newPage();
    await page.addInitScript((mode) => {
      const proto = StorageManager.prototype as unknown as Record<string, unknown>;
      if (mode === 'missing') {
        delete proto.persist;
        delete proto.persisted;
      } else {
        proto.persisted = async () => false;
        proto.persist = async () => mode === 'yes';
      }
    }, c.persist);
    await page.goto('/');
    await expect(page.getByTestId('storage-status')).toHaveText(c.text);
    await page.close();
  }
  // Unforced, Chromium answers one way or the other, and the app shows which.
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.getByTestId('storage-status')).toHaveText(/^storage (persistent|not persistent: .*)$/);
});
