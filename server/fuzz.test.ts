// Property-based fuzzing of the sync conversation: generated messages (deep nesting, huge,
// negative and fractional numbers, unicode, NUL, lone surrogates, wrong types, mutations of
// valid messages, valid-looking messages for other devices' sessions) go through the wire
// parser and the connection handler with a real SQLite store, and then over real sockets to the
// running server process. A model says what each message must get back; afterwards every
// session holds exactly what the model says and the sessions the fuzzer could not write are
// byte-identical.
import fc from 'fast-check';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLOSE, LIMITS, parseClientMessage, type ServerMessage } from '../src/sync/protocol';
import { contiguousFrom } from './contiguous';
import { jsonDepth } from '../src/sync/bounded-json';
import { newAdminToken, newDeviceCredential } from './auth';
import { messageDesc, render, type MessageDesc, type RenderContext, type SessionRef, type TokenRef } from '../test/server/fuzz-arbitraries';
import { startServer, type ServerProcess } from '../test/server/spawn-server';
import { SqliteStore } from './sqlite-store';
import { decodeCursor, eventsJson, type EventStore } from './store';
import { SyncConnection } from './sync-connection';
import { enrol, events, eventsText, greet, Inbox, opened, sendEvents, wsOpen } from '../test/server/test-support';

const SEED = Number(process.env.FRAMEWISE_FUZZ_SEED ?? 20261124);
const IN_PROCESS_RUNS = 1000; // × 100 messages
const PER_RUN = 100;
const OVER_SOCKETS = 3000;

interface Expected {
  readonly reply?: ServerMessage;
  readonly close?: number;
}

/** What the server must do, message by message: who owns which session and what is stored. */
class Model {
  readonly owner = new Map<string, string>();
  readonly stored = new Map<string, { seq: number; ts: number; kind: string; payload: string }[]>();
  last(sessionId: string): number {
    return this.stored.get(sessionId)?.length ?? 0;
  }
}

class ConnModel {
  device: string | undefined;
  readonly greeted = new Set<string>();
  closed = false;
}

function expectOutcome(model: Model, conn: ConnModel, tokens: ReadonlyMap<string, string>, data: string | Buffer, isBinary: boolean, now: number): Expected {
  const close = (code: number): Expected => ((conn.closed = true), { close: code });
  if (isBinary) return close(CLOSE.invalid);
  if ((typeof data === 'string' ? data.length : data.byteLength) > LIMITS.maxMessageBytes) return close(CLOSE.tooBig);
  const parsed = parseClientMessage(typeof data === 'string' ? data : data.toString('utf8'));
  if (!parsed.ok) return close(CLOSE.invalid);
  const msg = parsed.msg;
  if (msg.type === 'hello') {
    const device = tokens.get(msg.token);
    if (!device) return close(CLOSE.unauthorised);
    if (conn.device !== undefined && conn.device !== device) return close(CLOSE.forbidden);
    const owner = model.owner.get(msg.sessionId) ?? device;
    if (owner !== device) return close(CLOSE.forbidden);
    model.owner.set(msg.sessionId, device);
    conn.device = device;
    conn.greeted.add(msg.sessionId);
    return { reply: { type: 'welcome', sessionId: msg.sessionId, ackedSeq: model.last(msg.sessionId) } };
  }
  if (conn.device === undefined) return close(CLOSE.unauthorised);
  if (!conn.greeted.has(msg.sessionId)) return close(CLOSE.forbidden);
  // Every event's time within a week of the server's clock, or the whole message is refused.
  if (msg.events.some((e) => Math.abs(e.ts - now) > 7 * 86_400_000)) return close(CLOSE.invalid);
  const list = model.stored.get(msg.sessionId) ?? [];
  model.stored.set(msg.sessionId, list);
  for (const e of contiguousFrom(list.length, msg.events)) list.push({ seq: e.seq, ts: e.ts + 0, kind: e.kind, payload: JSON.stringify(e.payload) });
  return { reply: { type: 'ack', sessionId: msg.sessionId, seq: list.length } };
}

const BAD_IDS = ['x', 'a'.repeat(65), 'has space!', "x'; DROP TABLE fw_events; --", 'séance-ids', '../../etc/passwd', ''];

/** Names sessions and tokens for one fuzzing stream; `tag` keeps streams that run side by side apart. */
function context(tag: string, run: () => number, conn: () => ConnModel, model: Model, tokens: { mine: string; second: string; forged: string; admin: string }, foreign: readonly string[], now: () => number): RenderContext {
  return {
    now,
    greeted: () => [...conn().greeted],
    sessionId: (ref: SessionRef) => {
      switch (ref.pool) {
        case 'greeted':
        case 'run': return `fz-${tag}-${run()}-${ref.i}`;
        case 'long': return `fz-${tag}-long-${ref.i}`;
        case 'other': return `fz-${tag}-other-${ref.i}`;
        case 'foreign': return foreign[ref.i % foreign.length]!;
        case 'bad': return BAD_IDS[ref.i % BAD_IDS.length]!;
      }
    },
    token: (ref: TokenRef, random: string) => (ref === 'random' ? random : tokens[ref]),
    nextSeq: (sessionId) => model.last(sessionId) + 1,
  };
}

const toWire = (m: string | Uint8Array, asBuffer: boolean): { data: string | Buffer; isBinary: boolean } =>
  typeof m === 'string' ? { data: asBuffer ? Buffer.from(m, 'utf8') : m, isBinary: false } : { data: Buffer.from(m), isBinary: true };


async function checkStore(store: EventStore, model: Model): Promise<void> {
  for (const [sessionId, list] of model.stored) {
    const stored = await store.events(sessionId, 0, 100_000);
    expect(stored.map((e) => ({ seq: e.seq, ts: e.ts, kind: e.kind, payload: e.payload })), sessionId).toEqual(list);
  }
}

describe('fuzz', () => {
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.kill('SIGTERM')));
  }, 30_000);

  it('the wire parser never throws and bounds what it accepts', () => {
    let n = 0;
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.json({ maxDepth: 8 }), fc.integer({ min: 1, max: 20_000 }).map((d) => '['.repeat(d) + ']'.repeat(d))), (raw) => {
        n++;
        const parsed = parseClientMessage(raw);
        if (parsed.ok) {
          const text = JSON.stringify(parsed.msg);
          expect(jsonDepth(text)).toBeLessThanOrEqual(LIMITS.maxDepth);
          expect(Buffer.byteLength(text)).toBeLessThanOrEqual(LIMITS.maxMessageBytes);
        } else expect(parsed.reason.length).toBeLessThanOrEqual(120);
      }),
      { numRuns: 20_000, seed: SEED },
    );
    console.log(`fuzz: ${n} raw strings through the parser alone`);
  });

  it(`${IN_PROCESS_RUNS * PER_RUN} generated messages through the parser and the connection handler on a real SQLite store`, async () => {
    const started = performance.now();
    // The same store, WAL and synchronous=FULL; on tmpfs where there is one, since what is fuzzed here is the logic, not the disk.
    const storeFile = join(mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'fw-fuzz-')), 'fuzz.sqlite');
    const store = new SqliteStore(storeFile);
    const model = new Model();
    const now = 1_790_000_000_000;
    // The owner of the sessions the fuzzer must never touch, and the fuzzer's two devices.
    const owner = newDeviceCredential();
    const mine = newDeviceCredential();
    const second = newDeviceCredential();
    for (const [c, name] of [[owner, 'owner'], [mine, 'fuzzer'], [second, 'fuzzer two']] as const) await store.createDevice({ deviceId: c.deviceId, name, secretHash: c.secretHash, createdAt: now, revokedAt: null });
    const foreign = ['base-session-0', 'base-session-1', 'base-session-2'];
    for (const id of foreign) {
      await store.claimSession(id, owner.deviceId, now);
      for (let from = 1; from <= 60; from += 20) expect(await store.append(owner.deviceId, id, events(from, from + 19))).toMatchObject({ ok: true });
      model.owner.set(id, owner.deviceId);
    }
    const baseline = await Promise.all(foreign.map(async (id) => eventsJson(await store.events(id, 0, 5000))));
    const tokens = new Map([[mine.token, mine.deviceId], [second.token, second.deviceId]]);
    const tokenRefs = { mine: mine.token, second: second.token, forged: `fwd.${owner.deviceId}.${'A'.repeat(43)}`, admin: newAdminToken() };

    let run = 0;
    let current = new ConnModel();
    const ctx = context('p', () => run, () => current, model, tokenRefs, foreign, () => now);
    const counts = { messages: 0, welcome: 0, ack: 0, stored: 0, 1007: 0, 1009: 0, 4401: 0, 4403: 0, other: 0 };
    const newConn = () => new SyncConnection({ store, rate: { perSecond: 1e9, burst: 1e9 }, peer: 'fuzz', now: () => now });

    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(1), messageDesc, fc.boolean(), fc.nat(9)), { minLength: PER_RUN, maxLength: PER_RUN }), async (messages) => {
        run++;
        // Two sockets at a time, so that a session greeted on one is not greeted on the other.
        const slots = [0, 1].map(() => ({ conn: newConn(), model: new ConnModel() }));
        let sent = 0;
        for (const [slot, generated, asBuffer, fresh] of messages) {
          if (sent >= PER_RUN) break;
          const s = slots[slot]!;
          current = s.model;
          // A new socket usually starts the way a client's does, with a hello of its own; the generated message follows.
          const startsWithHello = s.model.device === undefined && !s.model.closed && fresh < 8;
          const desc: MessageDesc = startsWithHello ? { k: 'hello', session: { pool: 'run', i: fresh % 6 }, token: 'mine', randomToken: '', extra: '' } : generated;
          const { data, isBinary } = toWire(render(desc, ctx), asBuffer);
          const before = [...model.stored.values()].reduce((n, l) => n + l.length, 0);
          const expected = expectOutcome(model, s.model, tokens, data, isBinary, now);
          const actual = await s.conn.handle(data, isBinary);
          sent++;
          counts.messages++;
          if (actual.close?.code !== expected.close || JSON.stringify(actual.reply) !== JSON.stringify(expected.reply)) {
            throw new Error(`message ${describeDesc(desc)} → ${JSON.stringify(actual)}, the model says ${JSON.stringify(expected)}`);
          }
          if (actual.reply?.type === 'welcome') counts.welcome++;
          else if (actual.reply?.type === 'ack') counts.ack++;
          const code = actual.close?.code;
          if (code !== undefined) counts[(String(code) in counts ? String(code) : 'other') as keyof typeof counts]++;
          counts.stored += [...model.stored.values()].reduce((n, l) => n + l.length, 0) - before;
          if (actual.close) slots[slot] = { conn: newConn(), model: new ConnModel() };
        }
        if (run % 200 === 0) await checkStore(store, model);
      }),
      { numRuns: IN_PROCESS_RUNS, seed: SEED, endOnFailure: true },
    );

    await checkStore(store, model);
    expect(await Promise.all(foreign.map(async (id) => eventsJson(await store.events(id, 0, 5000))))).toEqual(baseline);
    // Nothing but the model's sessions exist.
    const listed = await store.sessions(200);
    let all = listed.sessions.length;
    for (let next = listed.next; next; ) {
      const page = await store.sessions(200, decodeCursor(next));
      all += page.sessions.length;
      next = page.next;
    }
    await store.close();
    rmSync(dirname(storeFile), { recursive: true, force: true });
    const seconds = (performance.now() - started) / 1000;
    const sessionsWritten = [...model.stored.values()].filter((l) => l.length).length;
    console.log(
      `fuzz: ${counts.messages} messages in process in ${seconds.toFixed(1)} s: ${counts.welcome} welcomes, ${counts.ack} acks (${counts.stored} events stored in ${sessionsWritten} sessions), ` +
        `closes 1007×${counts[1007]} 1009×${counts[1009]} 4401×${counts[4401]} 4403×${counts[4403]} other×${counts.other}; the owner's sessions byte-identical`,
    );
    expect(all).toBe(sessionsWritten + foreign.length);
    expect(counts.messages).toBeGreaterThanOrEqual(100_000);
    // Every kind of outcome happened, so the generators reach every branch.
    for (const k of ['welcome', 'ack', 'stored', '1007', '1009', '4401', '4403'] as const) expect(counts[k], k).toBeGreaterThan(0);
  }, 300_000);

  it(`${OVER_SOCKETS} generated messages over real sockets to the server process, which stays up with its data intact`, async () => {
    const started = performance.now();
    const admin = `fuzz-admin-${process.pid}-Pw3Rt8Yk2Mz7Qx5Nc9Ls4Fv`;
    const dir = mkdtempSync(join(tmpdir(), 'fw-fuzz-proc-'));
    const server = await startServer({
      FRAMEWISE_ADMIN_TOKEN: admin,
      FRAMEWISE_ENROLL_CODE: 'fuzz-code-4711',
      FRAMEWISE_DATA_DIR: join(dir, 'data'),
      FRAMEWISE_STATIC: join(dir, 'none'),
      // Thousands of short-lived sockets from one address is this test, not an attack.
      FRAMEWISE_HTTP_RATE_PER_MIN: '1000000',
    });
    servers.push(server);
    const owner = await enrol(server, 'owner', 'fuzz-code-4711');
    const foreign = ['base-session-0', 'base-session-1'];
    for (const id of foreign) {
      const { inbox } = await greet(server, id, owner.token);
      expect(await sendEvents(inbox, id, events(1, 40))).toBe(40);
      inbox.sock.close();
    }
    const baseline = await Promise.all(foreign.map((id) => eventsText(server, id, admin)));

    const model = new Model();
    for (const id of foreign) model.owner.set(id, owner.deviceId);
    const streams = 3;
    const counts = { messages: 0, sockets: 0, welcome: 0, ack: 0, rate: 0, closes: {} as Record<number, number> };
    const samples = fc.sample(messageDesc, { numRuns: OVER_SOCKETS, seed: SEED + 1 });
    await Promise.all(
      Array.from({ length: streams }, async (_, k) => {
        const mine = await enrol(server, `fuzzer ${k}`, 'fuzz-code-4711');
        const second = await enrol(server, `fuzzer ${k} two`, 'fuzz-code-4711');
        const tokens = new Map([[mine.token, mine.deviceId], [second.token, second.deviceId]]);
        let run = 0;
        let conn = new ConnModel();
        // The server's clock is the real one: times are generated around it, and judged by the model as the server will a moment later.
        const ctx = context(`s${k}`, () => run, () => conn, model, { mine: mine.token, second: second.token, forged: `fwd.${owner.deviceId}.${'B'.repeat(43)}`, admin }, foreign, Date.now);
        let inbox: Inbox | undefined;
        for (const [i, generated] of samples.entries()) {
          if (i % streams !== k) continue;
          if (i % 100 === k) run++;
          if (!inbox || inbox.closed) {
            inbox = new Inbox(wsOpen(server, '/sync'));
            await opened(inbox.sock);
            conn = new ConnModel();
            counts.sockets++;
          }
          const desc: MessageDesc = conn.device === undefined && i % 10 < 8 ? { k: 'hello', session: { pool: 'run', i: i % 6 }, token: 'mine', randomToken: '', extra: '' } : generated;
          const rendered = render(desc, ctx);
          const wire = typeof rendered === 'string' ? rendered : Buffer.from(rendered);
          // The model sees what the server will: a string goes out as UTF-8 (a lone surrogate becomes U+FFFD).
          const expected = expectOutcome(model, conn, tokens, typeof wire === 'string' ? Buffer.from(wire, 'utf8') : wire, typeof wire !== 'string', Date.now());
          inbox.sock.send(wire, { binary: typeof wire !== 'string' });
          counts.messages++;
          let got: Record<string, unknown> | undefined;
          try {
            got = await inbox.next();
          } catch {
            got = undefined;
          }
          if (got) {
            if (JSON.stringify(got) !== JSON.stringify(expected.reply)) throw new Error(`over a socket: ${describeDesc(desc)} → ${JSON.stringify(got)}, the model says ${JSON.stringify(expected)}`);
            if (got.type === 'welcome') counts.welcome++;
            else counts.ack++;
          } else {
            const code = inbox.closed!.code!;
            counts.closes[code] = (counts.closes[code] ?? 0) + 1;
            if (code !== expected.close) throw new Error(`over a socket: ${describeDesc(desc)} → close ${code} (${inbox.closed!.reason}), the model says ${JSON.stringify(expected)}`);
          }
        }
        inbox?.sock.close();
      }),
    );
    expect(server.proc.exitCode).toBeNull();
    expect(await Promise.all(foreign.map((id) => eventsText(server, id, admin)))).toEqual(baseline);
    for (const [sessionId, list] of model.stored) {
      if (!list.length) continue;
      const text = await eventsText(server, sessionId, admin);
      expect(text).toBe(eventsJson(list.map((e) => ({ sessionId, ...e, kind: e.kind as 'state' }))));
    }
    const stats = (await (await fetch(`${server.url}/api/stats`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { httpErrors: number; closedStorage: number };
    expect(stats).toMatchObject({ httpErrors: 0, closedStorage: 0 });
    expect(server.output.filter((l) => /unhandled|internal error/i.test(l))).toEqual([]);
    const seconds = (performance.now() - started) / 1000;
    console.log(`fuzz: ${counts.messages} messages over ${counts.sockets} real sockets in ${seconds.toFixed(1)} s: ${counts.welcome} welcomes, ${counts.ack} acks, closes ${JSON.stringify(counts.closes)}; server up, data intact`);
    expect(counts.messages).toBe(OVER_SOCKETS);
  }, 300_000);
});

function describeDesc(d: MessageDesc): string {
  const s = JSON.stringify(d, (_k, v: unknown) => (typeof v === 'string' && v.length > 120 ? `${v.slice(0, 60)}…(${v.length} chars)` : v instanceof Uint8Array ? `<${v.length} bytes>` : v));
  return s.length > 600 ? `${s.slice(0, 600)}…` : s;
}
