// Three real server processes on one real PostgreSQL: shared sessions and ownership, revocation
// and the live feed across instances, and every server connection terminated five times while
// devices stream. Skipped, saying so, where PostgreSQL does not answer at $FRAMEWISE_TEST_PG.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE, type SyncEvent } from '../src/sync/protocol';
import { type SessionsPage, type SessionSummary } from '../src/sync/trainer-api';
import { dropTables, PG_URL, pgUnreachable } from '../test/server/pg-support';
import { startServer, type ServerProcess } from '../test/server/spawn-server';
import { api, enrol, events, eventsText, greet, Inbox, opened, sendEvents, waitFor, wsOpen } from '../test/server/test-support';

const why = await pgUnreachable();
if (why) console.warn(`PostgreSQL tests skipped: no PostgreSQL at ${PG_URL} (${why}); set FRAMEWISE_TEST_PG to run them`);

const ADMIN = `pg-admin-${process.pid}-Hx4Tn9Qw2Lk7Zr5Vb8Jm3Pd`;
const PREFIX = `fw_pgtest_${process.pid}_${Date.now().toString(36)}`;
const APP = `fwtest_${process.pid}_${Date.now().toString(36)}`;

/** Sends one session's events the way the browser client does: hello, resume from the server's ack, one batch in flight, reconnect after any close. */
class Streamer {
  readonly sent: SyncEvent[] = [];
  acked = 0;
  closes = 0;
  /** Acks above what was sent: the silent-loss bug's symptom. */
  readonly violations: string[] = [];
  generating = true;
  private inbox: Inbox | undefined;
  private inFlight = false;
  private stopped = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private done: (() => void) | undefined;

  constructor(
    private readonly server: ServerProcess,
    readonly sessionId: string,
    private readonly token: string,
  ) {}

  start(everyMs: number): void {
    this.timer = setInterval(() => {
      if (!this.generating) return;
      const seq = this.sent.length + 1;
      this.sent.push(...events(seq, seq));
      this.pump();
    }, everyMs);
    void this.connect();
  }

  /** Stops generating; resolves once everything generated is acknowledged. */
  finish(): Promise<void> {
    this.generating = false;
    clearInterval(this.timer);
    return new Promise((r) => {
      this.done = r;
      this.check();
    });
  }

  private check() {
    if (!this.generating && this.acked === this.sent.length && this.done) {
      this.stopped = true;
      this.inbox?.sock.close();
      this.done();
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const inbox = new Inbox(wsOpen(this.server, '/sync'));
    this.inbox = inbox;
    inbox.sock.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { type: string; ackedSeq?: number; seq?: number };
      const seq = m.type === 'welcome' ? m.ackedSeq! : m.seq!;
      // Never trust an ack above what was sent.
      if (seq > this.sent.length) return void this.violations.push(`${this.sessionId}: ack ${seq} above the ${this.sent.length} sent`);
      this.acked = Math.max(this.acked, seq);
      this.inFlight = false;
      this.check();
      this.pump();
    });
    inbox.sock.on('close', () => {
      if (this.stopped) return;
      this.closes++;
      this.inFlight = false;
      setTimeout(() => void this.connect(), 100 + Math.random() * 200);
    });
    try {
      await opened(inbox.sock);
    } catch {
      return; // the close handler reconnects
    }
    this.inFlight = true;
    inbox.send({ type: 'hello', sessionId: this.sessionId, token: this.token });
  }

  private pump(): void {
    const sock = this.inbox?.sock;
    if (this.inFlight || !sock || sock.readyState !== sock.OPEN || this.acked >= this.sent.length) return;
    this.inFlight = true;
    sock.send(JSON.stringify({ type: 'events', sessionId: this.sessionId, events: this.sent.slice(this.acked, this.acked + 20) }));
  }
}

describe.skipIf(why !== undefined)('three instances on one PostgreSQL', () => {
  const servers: ServerProcess[] = [];
  let db: pg.Client;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fw-pg-'));
    const env = {
      DATABASE_URL: PG_URL,
      FRAMEWISE_PG_TABLE: PREFIX,
      FRAMEWISE_PG_APP_NAME: APP,
      FRAMEWISE_ADMIN_TOKEN: ADMIN,
      FRAMEWISE_STATIC: join(dir, 'none'),
      FRAMEWISE_ENROLL_RATE_PER_MIN: '1000',
    };
    // Started together: they race to create the tables.
    servers.push(...(await Promise.all([0, 1, 2].map((i) => startServer({ ...env, FRAMEWISE_DATA_DIR: join(dir, `data-${i}`) })))));
    db = new pg.Client({ connectionString: PG_URL });
    db.on('error', () => {});
    await db.connect();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.kill('SIGTERM')));
    await db?.end().catch(() => {});
    await dropTables(PREFIX);
  }, 30_000);

  const sessionsOn = async (s: ServerProcess) => (await api<SessionsPage>(s, '/api/sessions?limit=200', ADMIN)).sessions;
  const live = async (s: ServerProcess) => {
    const inbox = new Inbox(wsOpen(s, '/live'));
    await opened(inbox.sock);
    inbox.send({ type: 'hello', token: ADMIN });
    const seen = new Map<string, SessionSummary>();
    inbox.sock.on('message', (d) => {
      for (const summary of (JSON.parse(d.toString()) as { sessions: SessionSummary[] }).sessions) seen.set(summary.sessionId, summary);
    });
    return { inbox, seen };
  };

  it('shares sessions, ownership and revocation across instances; each lists all, live too', async () => {
    const [a, b, c] = servers as [ServerProcess, ServerProcess, ServerProcess];
    const watching = await live(a);
    const one = await enrol(a, 'camera one');
    const two = await enrol(b, 'camera two');
    // A dashboard on A hears of writes made through B (NOTIFY).
    const viaA = await greet(a, 'pg-session-a', one.token);
    expect(await sendEvents(viaA.inbox, 'pg-session-a', events(1, 60))).toBe(60);
    viaA.inbox.sock.close();
    const viaB = await greet(b, 'pg-session-b', two.token);
    expect(await sendEvents(viaB.inbox, 'pg-session-b', events(1, 40))).toBe(40);
    // The same session resent through another instance: no duplicates.
    const again = await greet(c, 'pg-session-a', one.token);
    expect(again.ackedSeq).toBe(60);
    expect(await sendEvents(again.inbox, 'pg-session-a', events(1, 60))).toBe(60);
    again.inbox.sock.close();
    await waitFor('instance A hearing of B’s session', () => watching.seen.get('pg-session-b')?.events === 40);
    // Another device's hello for the session, through a third instance: refused.
    const thief = new Inbox(wsOpen(c, '/sync'));
    await opened(thief.sock);
    thief.send({ type: 'hello', sessionId: 'pg-session-a', token: two.token });
    expect((await thief.closedWith()).code).toBe(CLOSE.forbidden);
    for (const s of servers) {
      expect((await sessionsOn(s)).filter((x) => x.sessionId.startsWith('pg-session-')).map(({ sessionId, events, deviceName }) => ({ sessionId, events, deviceName })).sort((x, y) => x.sessionId.localeCompare(y.sessionId))).toEqual([
        { sessionId: 'pg-session-a', events: 60, deviceName: 'camera one' },
        { sessionId: 'pg-session-b', events: 40, deviceName: 'camera two' },
      ]);
    }
    expect(await eventsText(c, 'pg-session-a', ADMIN)).toBe(await eventsText(a, 'pg-session-a', ADMIN));
    // Revoked through C, the device's open socket on B is closed.
    const open = await greet(b, 'pg-session-b', two.token);
    expect((await fetch(`${c.url}/api/devices/${two.deviceId}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
    expect(await open.inbox.closedWith()).toMatchObject({ code: CLOSE.unauthorised });
    watching.inbox.sock.close();
  }, 60_000);

  it('loses and duplicates nothing when every server connection is terminated 5 times mid-stream; every instance stays up and its live feed resumes', async () => {
    const devices = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => enrol(servers[i % 3]!, `streaming camera ${i}`)));
    const watchers = await Promise.all(servers.map((s) => live(s)));
    const streamers = devices.map((d, i) => new Streamer(servers[i % 3]!, `pg-stream-${i}`, d.token));
    for (const s of streamers) s.start(15);
    const acked = () => streamers.reduce((n, s) => n + s.acked, 0);
    const ourConnections = async () => (await db.query<{ n: number; listening: number }>(`SELECT count(*)::int AS n, count(*) FILTER (WHERE query LIKE 'LISTEN %')::int AS listening FROM pg_stat_activity WHERE application_name = $1`, [APP])).rows[0]!;

    const kills: { terminated: number; ackedBefore: number }[] = [];
    for (let k = 0; k < 5; k++) {
      // Mid-stream: events have been acknowledged since the last kill, and every instance is listening again.
      const from = acked();
      await waitFor(`progress and three LISTEN connections before kill ${k + 1}`, async () => acked() >= from + 60 && (await ourConnections()).listening === 3, 60_000, 50);
      const { rowCount } = await db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [APP]);
      kills.push({ terminated: rowCount ?? 0, ackedBefore: acked() });
    }
    const afterKills = acked();
    await waitFor('streaming to go on after the last kill', () => acked() >= afterKills + 100, 60_000);
    await waitFor('every instance listening again', async () => (await ourConnections()).listening === 3, 60_000);
    await Promise.all(streamers.map((s) => s.finish()));

    // The record, read back from the tables: every session 1…N with the payload sent under each number.
    const { rows } = await db.query<{ session_id: string; seq: string; payload: string }>(`SELECT session_id, seq, payload FROM ${PREFIX}_events WHERE session_id LIKE 'pg-stream-%' ORDER BY session_id, seq`);
    let lost = 0;
    let duplicated = 0;
    let wrong = 0;
    for (const s of streamers) {
      const mine = rows.filter((r) => r.session_id === s.sessionId);
      const seqs = mine.map((r) => Number(r.seq));
      lost += s.sent.length - new Set(seqs).size;
      duplicated += seqs.length - new Set(seqs).size;
      wrong += mine.filter((r) => r.payload !== JSON.stringify(s.sent[Number(r.seq) - 1]?.payload)).length;
      expect(seqs).toEqual(Array.from({ length: s.sent.length }, (_, i) => i + 1));
    }
    const generated = streamers.reduce((n, s) => n + s.sent.length, 0);

    // The live feed on every instance hears writes made after the kills, through each of the others.
    for (const [w, writer] of servers.entries()) {
      const { inbox } = await greet(writer, `pg-after-kill-${w}`, devices[w]!.token);
      expect(await sendEvents(inbox, `pg-after-kill-${w}`, events(1, 3))).toBe(3);
      inbox.sock.close();
    }
    for (const [i, watcher] of watchers.entries()) {
      await waitFor(`instance ${i}'s live feed to hear every post-kill session`, () => [0, 1, 2].every((w) => watcher.seen.get(`pg-after-kill-${w}`)?.events === 3), 30_000);
      expect(watcher.inbox.closed).toBeUndefined();
      watcher.inbox.sock.close();
    }
    const up = await Promise.all(servers.map(async (s) => s.proc.exitCode === null && s.proc.signalCode === null && (await fetch(`${s.url}/api/stats`, { headers: { authorization: `Bearer ${ADMIN}` } })).status === 200));
    const relistened = servers.map((s) => s.output.filter((l) => l.includes('LISTEN reconnected')).length);
    const stats = await Promise.all(servers.map((s) => api<{ closedStorage: number }>(s, '/api/stats', ADMIN)));
    console.log(
      `postgres kills: ${kills.length} rounds of pg_terminate_backend on every server connection (${kills.map((k) => k.terminated).join(', ')} connections) while 6 devices streamed; ` +
        `${generated} events generated, ${rows.length} stored, lost ${lost}, duplicated ${duplicated}, wrong payload ${wrong}; ` +
        `client reconnects ${streamers.map((s) => s.closes).join('/')}, storage-failure closes (1011) ${stats.map((s) => s.closedStorage).join('/')}; ` +
        `LISTEN reconnected ${relistened.join('/')} times; instances up ${up.filter(Boolean).length} of 3; live feed resumed on all 3`,
    );
    expect({ lost, duplicated, wrong }).toEqual({ lost: 0, duplicated: 0, wrong: 0 });
    expect(streamers.flatMap((s) => s.violations)).toEqual([]);
    expect(up).toEqual([true, true, true]);
    expect(kills.every((k) => k.terminated >= 3)).toBe(true);
    expect(relistened.every((n) => n >= 5)).toBe(true);
    for (const s of servers) expect(s.output.filter((l) => /unhandled/i.test(l))).toEqual([]);
  }, 240_000);
});
