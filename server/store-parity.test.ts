// SQLite and PostgreSQL take the same payloads and give them back the same: one generated set
// of messages through both stores, the same outcome for each, the same text read back.
// Skipped, saying so, where PostgreSQL does not answer at $FRAMEWISE_TEST_PG.
import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseClientMessage, type SyncEvent } from '../src/sync/protocol';
import { payloadText } from '../test/server/fuzz-arbitraries';
import { PostgresStore } from './pg-store';
import { dropTables, PG_URL, pgUnreachable } from '../test/server/pg-support';
import { SqliteStore } from './sqlite-store';
import { eventsJson, type EventStore } from './store';
import { events as realistic } from '../test/server/test-support';

const why = await pgUnreachable();
if (why) console.warn(`SQLite/PostgreSQL parity skipped: no PostgreSQL at ${PG_URL} (${why}); set FRAMEWISE_TEST_PG to run it`);

const PREFIX = `fw_parity_${process.pid}_${Date.now().toString(36)}`;

describe.skipIf(why !== undefined)('SQLite and PostgreSQL', () => {
  const stores: EventStore[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
    await dropTables(PREFIX);
  });

  it('accept and refuse the same generated payloads and read them back byte-identical', async () => {
    const sqlite = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'fw-parity-')), 'parity.sqlite'));
    const postgres = await PostgresStore.open({ url: PG_URL, prefix: PREFIX, applicationName: `fw-parity-${process.pid}` });
    stores.push(sqlite, postgres);
    const both = [sqlite, postgres] as const;
    for (const s of both) {
      await s.createDevice({ deviceId: 'parity-device-01', name: 'parity 😀 device', secretHash: 'ab'.repeat(32), createdAt: 1_790_000_000_000, revokedAt: null });
      for (let i = 0; i < 8; i++) await s.claimSession(`parity-session-${i}`, 'parity-device-01', 1_790_000_000_000 + i);
    }

    // Generated events messages, the way they arrive as text; what the parser refuses never reaches a store.
    const messages = fc.sample(
      fc.tuple(fc.nat(7), fc.array(fc.tuple(payloadText, fc.oneof(fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }).map(String), fc.constantFrom('-0', '0', '5e-324', '1e-400', '1.7976931348623157e308', '-1.5', '1e21')), fc.constantFrom('state', 'detections', 'instruction', 'error')), { minLength: 1, maxLength: 6 }), fc.integer({ min: -2, max: 1 })),
      { numRuns: 2500, seed: 4242 },
    );
    const next = new Map<string, number>();
    let accepted = 0;
    let refusedByParser = 0;
    let appended = 0;
    for (const [s, evs, offset] of messages) {
      const sessionId = `parity-session-${s}`;
      const start = Math.max(1, (next.get(sessionId) ?? 1) + offset);
      const raw = `{"type":"events","sessionId":"${sessionId}","events":[${evs.map(([payload, ts, kind], i) => `{"seq":${start + i},"ts":${ts},"kind":"${kind}","payload":${payload}}`).join(',')}]}`;
      const parsed = parseClientMessage(raw);
      if (!parsed.ok || parsed.msg.type !== 'events') {
        refusedByParser++;
        continue;
      }
      accepted++;
      const outcomes = await Promise.all(both.map((store) => store.append('parity-device-01', sessionId, parsed.msg.type === 'events' ? parsed.msg.events : []).then((r) => ({ r }), (err: unknown) => ({ err: String(err) }))));
      expect(outcomes[1], raw.slice(0, 300)).toEqual(outcomes[0]);
      const r = outcomes[0] as { r?: { ok: boolean; seq?: number; stored?: number } };
      if (r.r?.ok) {
        next.set(sessionId, r.r.seq! + 1);
        appended += r.r.stored!;
      }
    }
    // And realistic sessions: verdicts and frames of 25 and 200 detections.
    const frames: SyncEvent[] = realistic(1, 120);
    for (const s of both) {
      await s.claimSession('parity-realistic', 'parity-device-01', 1_790_000_001_000);
      for (let from = 0; from < frames.length; from += 40) expect(await s.append('parity-device-01', 'parity-realistic', frames.slice(from, from + 40))).toEqual({ ok: true, seq: from + 40, stored: 40 });
    }

    for (const id of [...Array.from({ length: 8 }, (_, i) => `parity-session-${i}`), 'parity-realistic']) {
      const [a, b] = await Promise.all(both.map(async (s) => eventsJson(await s.events(id, 0, 100_000))));
      expect(b, id).toBe(a);
    }
    const [pa, pb] = await Promise.all(both.map((s) => s.sessions(200)));
    expect(pb).toEqual(pa);
    const [ia, ib] = await Promise.all(both.map((s) => s.sessionsById(['parity-session-3', 'parity-realistic', 'no-such-session'])));
    expect(ib).toEqual(ia);
    console.log(`parity: ${messages.length} generated messages; ${refusedByParser} refused by the parser, ${accepted} to both stores with the same outcome each, ${appended} events stored by each; read back byte-identical`);
    expect(appended).toBeGreaterThan(500);
  }, 180_000);
});
