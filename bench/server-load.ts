// npm run bench:server: a bounded load run on loopback against real server processes on one
// PostgreSQL (or one process on SQLite: --store sqlite). N devices enrol, each streams realistic events (task-state verdicts and
// 25-detection frames) at a fixed rate through its own socket, the way the browser client
// sends: one batch in flight, the next batch is whatever was appended meanwhile. Halfway through,
// one more device (the hog) tries to hold --hog-sockets sync sockets on every instance from 10
// loopback addresses, while the admin lists sessions on every instance twice a second: the
// admin's list latency and the other devices' ack latency are reported for each half. With
// --heavy-sockets, from halfway too, one more device writes as much as it is let on that many
// sockets: messages just under the size limit, back to back, ignoring every hint to wait.
// Prints a table and writes bench/server-results.json. Stops by itself.
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import WebSocket from 'ws';
import { startServer, type ServerProcess } from '../test/server/spawn-server';
import { COCO_LABELS as LABELS } from '../src/model/labels';
import { LIMITS, syncProtocols, type SyncEvent } from '../src/sync/protocol';

const { values: args } = parseArgs({
  options: {
    instances: { type: 'string', default: '3' },
    devices: { type: 'string', default: '200' },
    rate: { type: 'string', default: '10' },
    duration: { type: 'string', default: '60' },
    pg: { type: 'string', default: process.env.FRAMEWISE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test' },
    out: { type: 'string', default: 'bench/server-results.json' },
    'hog-sockets': { type: 'string', default: '1000' },
    store: { type: 'string', default: 'postgres' },
    'heavy-sockets': { type: 'string', default: '0' },
    /** Extra server settings, KEY=VALUE, repeatable (e.g. --env FRAMEWISE_DEVICE_KIB_PER_S=0). */
    env: { type: 'string', multiple: true, default: [] },
  },
});
const whole = (name: string, v: string | undefined, min: number, max: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}, got "${v}"`);
  return n;
};
const instances = whole('instances', args.instances, 1, 8);
const devices = whole('devices', args.devices, 1, 2000);
const rate = whole('rate', args.rate, 1, 100);
const durationMs = whole('duration', args.duration, 1, 600) * 1000;
const pgUrl = args.pg!;
const hogSockets = whole('hog-sockets', args['hog-sockets'], 0, 5000);
/** The server's default (FRAMEWISE_MAX_SOCKETS_PER_DEVICE), which the hog runs into on each instance. */
const MAX_SOCKETS_PER_DEVICE = 10;
const heavySockets = whole('heavy-sockets', args['heavy-sockets'], 0, 100);
const onSqlite = args.store === 'sqlite';
if (!onSqlite && args.store !== 'postgres') throw new Error(`--store must be postgres or sqlite, got "${args.store}"`);
if (onSqlite && instances !== 1) throw new Error('--store sqlite runs one instance: pass --instances 1');
const extraEnv = Object.fromEntries(
  args.env!.map((kv) => {
    const at = kv.indexOf('=');
    if (at < 1) throw new Error(`--env wants KEY=VALUE, got "${kv}"`);
    return [kv.slice(0, at), kv.slice(at + 1)];
  }),
);

const probe = onSqlite ? undefined : new pg.Client({ connectionString: pgUrl });
try {
  await probe?.connect();
} catch (err) {
  console.error(`bench:server: PostgreSQL is not reachable at ${pgUrl} (${String(err)}); set --pg or FRAMEWISE_TEST_PG`);
  process.exit(2);
}
const dataDir = onSqlite ? mkdtempSync(join(tmpdir(), 'fw-bench-')) : undefined;

const ADMIN = `bench-admin-${process.pid}-${Date.now()}-Rq5Wz8Xk2Nv7`;
const prefix = `fw_bench_${Date.now().toString(36)}`;
const basePort = 23000 + Math.floor(Math.random() * 2000);
const env = {
  ...(dataDir ? { FRAMEWISE_DATA_DIR: dataDir } : { DATABASE_URL: pgUrl, FRAMEWISE_PG_TABLE: prefix }),
  FRAMEWISE_ADMIN_TOKEN: ADMIN,
  FRAMEWISE_STATIC: '/nonexistent',
  // Every simulated device connects from 127.0.0.1; the per-address cap is for the open internet.
  FRAMEWISE_MAX_CONNECTIONS_PER_IP: String(devices + 50),
  FRAMEWISE_ENROLL_RATE_PER_MIN: String(devices * 2 + 10),
  ...extraEnv,
};
const servers: ServerProcess[] = [];
for (let i = 0; i < instances; i++) servers.push(await startServer(env, basePort + i));
const step = (s: string) => console.error(`bench:server: ${s}`);
step(`${instances} instances on ports ${servers.map((s) => s.port).join(', ')}, ${dataDir ? `SQLite in ${dataDir}` : `tables ${prefix}_*`}`);

// A realistic scene: labels and boxes as the recorder writes them.
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
function detectionsPayload(frame: number, n = 25) {
  const labels = [...new Set(Array.from({ length: 8 }, () => LABELS[Math.floor(rand() * LABELS.length)]!))];
  const boxes = Array.from({ length: n }, () => [Math.floor(rand() * labels.length), round(0.3 + rand() * 0.7, 3), round(rand() * 600), round(rand() * 440), round(20 + rand() * 200), round(20 + rand() * 200)]);
  return { frame, time: round(frame / 30, 3), labels, boxes, omitted: 0 };
}
function statePayload(frame: number, step: number) {
  const verdicts = [{ type: 'holding', step, heldMs: Math.round(rand() * 1500) }, { type: 'waiting', step, missing: ['cup'] }, { type: 'step-complete', step }];
  return { task: 'desk-setup', step, frame, event: verdicts[Math.floor(rand() * verdicts.length)], objects: ['laptop', 'keyboard', 'cup', 'person'].slice(0, 1 + Math.floor(rand() * 4)) };
}

interface Device {
  readonly sessionId: string;
  readonly token: string;
  readonly server: ServerProcess;
  socket?: WebSocket;
  nextSeq: number;
  sentUpTo: number;
  ackedUpTo: number;
  inFlight: boolean;
  readonly pending: SyncEvent[];
  readonly bornAt: Map<number, number>;
  closes: number;
  /** One of the heavy device's sockets: full messages back to back, its own figures. */
  readonly heavy?: boolean;
}

async function enrol(server: ServerProcess, name: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${server.url}/api/devices`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
    if (res.status === 201) return ((await res.json()) as { token: string }).token;
    if (res.status !== 429 || attempt > 20) throw new Error(`enrolment failed: ${res.status} ${await res.text()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

step(`enrolling ${devices} devices`);
const fleet: Device[] = [];
for (let i = 0; i < devices; i++) {
  const server = servers[i % instances]!;
  fleet.push({ sessionId: `bench-${prefix}-${i}`.slice(0, 64), token: await enrol(server, `bench device ${i + 1}`), server, nextSeq: 1, sentUpTo: 0, ackedUpTo: 0, inFlight: false, pending: [], bornAt: new Map(), closes: 0 });
}

const heavyFleet: Device[] = [];
if (heavySockets) {
  const token = await enrol(servers[0]!, 'bench heavy device');
  for (let i = 0; i < heavySockets; i++) {
    heavyFleet.push({ sessionId: `heavy-${prefix}-${i}`.slice(0, 64), token, server: servers[i % instances]!, nextSeq: 1, sentUpTo: 0, ackedUpTo: 0, inFlight: false, pending: [], bornAt: new Map(), closes: 0, heavy: true });
  }
}

const ackLatencies: number[] = [];
/** Acks of the other devices in the second half, while the hog holds its sockets. */
const ackWithHog: number[] = [];
const heavyAckLatencies: number[] = [];
/** Sync closes the devices heard, by code, while the run lasted. */
const closeCodes: Record<string, number> = {};
let hogging = false;
let stored = 0;
let storedBytes = 0;
let heavyStoredBytes = 0;
let running = true;
/** The run is over: the closes that follow are the bench's own. */
let finished = false;
/** Payload bytes of each event sent, until it is acknowledged. */
const eventBytes = new Map<Device, Map<number, number>>();

function connect(d: Device): Promise<void> {
  return new Promise((ready) => {
    // As the app does: the token offered at the upgrade too.
    const ws = new WebSocket(`ws://127.0.0.1:${d.server.port}/sync`, syncProtocols(d.token));
    d.socket = ws;
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', sessionId: d.sessionId, token: d.token })));
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string; ackedSeq?: number; seq?: number };
      if (m.type === 'welcome') {
        d.ackedUpTo = Math.max(d.ackedUpTo, m.ackedSeq!);
        d.sentUpTo = d.ackedUpTo;
        d.inFlight = false;
        ready();
        pump(d);
      } else if (m.type === 'ack') {
        const now = performance.now();
        const sizes = eventBytes.get(d);
        for (let s = d.ackedUpTo + 1; s <= m.seq!; s++) {
          (d.heavy ? heavyAckLatencies : hogging ? ackWithHog : ackLatencies).push(now - d.bornAt.get(s)!);
          d.bornAt.delete(s);
          stored++;
          const b = sizes?.get(s) ?? 0;
          sizes?.delete(s);
          storedBytes += b;
          if (d.heavy) heavyStoredBytes += b;
        }
        d.ackedUpTo = Math.max(d.ackedUpTo, m.seq!);
        while (d.pending.length && d.pending[0]!.seq <= d.ackedUpTo) d.pending.shift();
        d.inFlight = false;
        pump(d);
      }
    });
    ws.on('close', (code) => {
      d.closes++;
      if (!finished) closeCodes[code] = (closeCodes[code] ?? 0) + 1;
      d.inFlight = false;
      // Refused before its welcome (a quota reached, say): the run goes on without waiting for it.
      ready();
      // The heavy device ignores any hint to wait and comes straight back, for as long as the run lasts.
      if (running || (!d.heavy && d.ackedUpTo < d.nextSeq - 1)) setTimeout(() => void connect(d), d.heavy ? 1000 : 200);
    });
    ws.on('error', () => {});
  });
}

/** The heavy device's payloads, made once: the load generator is not what limits it. */
const heavyPayloads = Array.from({ length: 64 }, (_, i) => JSON.stringify(detectionsPayload(i, 36)));
const textOf = new WeakMap<SyncEvent, string>();

function pump(d: Device): void {
  const ws = d.socket;
  if (d.inFlight || !ws || ws.readyState !== WebSocket.OPEN) return;
  const batch: SyncEvent[] = [];
  const texts: string[] = [];
  let bytes = 100;
  const budget = d.heavy ? LIMITS.maxMessageBytes - 2048 : LIMITS.maxMessageBytes / 2;
  let sizes = eventBytes.get(d);
  if (!sizes) eventBytes.set(d, (sizes = new Map()));
  for (let i = 0; ; i++) {
    // The heavy device makes its next event the moment there is room for it.
    if (i >= d.pending.length) {
      if (!d.heavy || !running) break;
      const seq = d.nextSeq++;
      const payload = heavyPayloads[seq % heavyPayloads.length]!;
      const e: SyncEvent = { seq, ts: Date.now(), kind: 'detections', payload: null };
      textOf.set(e, `{"seq":${seq},"ts":${e.ts},"kind":"detections","payload":${payload}}`);
      d.pending.push(e);
      d.bornAt.set(seq, performance.now());
      sizes.set(seq, payload.length);
    }
    const e = d.pending[i]!;
    if (e.seq <= d.ackedUpTo) continue;
    const text = textOf.get(e) ?? JSON.stringify(e);
    const size = text.length + 1;
    if (batch.length >= LIMITS.maxEventsPerMessage || bytes + size > budget) break;
    batch.push(e);
    texts.push(text);
    if (!d.heavy) sizes.set(e.seq, JSON.stringify(e.payload).length);
    bytes += size;
  }
  if (!batch.length) return;
  d.inFlight = true;
  d.sentUpTo = batch.at(-1)!.seq;
  ws.send(`{"type":"events","sessionId":${JSON.stringify(d.sessionId)},"events":[${texts.join(',')}]}`);
}

step(`connecting`);
await Promise.all(fleet.map((d) => connect(d)));

const rss = new Map<number, number>();
const sampleRss = () => {
  for (const s of servers) {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${s.proc.pid}/status`, 'utf8'))?.[1] ?? 0);
      rss.set(s.port, Math.max(rss.get(s.port) ?? 0, kb / 1024));
    } catch {
      /* not on Linux: no RSS figure */
    }
  }
};
const loadBefore = loadavg();
step(`streaming: ${devices} devices × ${rate} events/s for ${durationMs / 1000} s`);
const started = performance.now();
const interval = 1000 / rate;
const timers2: ReturnType<typeof setInterval>[] = [];
// Devices start spread over one interval, as real ones would.
const timers = fleet.map((d, i) =>
  setTimeout(() => {
    const t = setInterval(() => {
      const seq = d.nextSeq++;
      const payload = seq % 2 ? statePayload(seq, Math.floor(seq / 40)) : detectionsPayload(seq);
      d.pending.push({ seq, ts: Date.now(), kind: seq % 2 ? 'state' : 'detections', payload });
      d.bornAt.set(seq, performance.now());
      pump(d);
    }, interval);
    timers2.push(t);
  }, (i / devices) * interval),
);
const rssTimer = setInterval(sampleRss, 1000);

// The admin lists the newest 50 sessions on every instance twice a second, all along.
const adminList: { ms: number; status: number; withHog: boolean }[] = [];
const adminTimer = setInterval(() => {
  for (const s of servers) {
    const t0 = performance.now();
    const withHog = hogging;
    void fetch(`${s.url}/api/sessions?limit=50`, { headers: { authorization: `Bearer ${ADMIN}` } })
      .then(async (res) => {
        await res.arrayBuffer();
        adminList.push({ ms: performance.now() - t0, status: res.status, withHog });
      })
      .catch(() => adminList.push({ ms: performance.now() - t0, status: 0, withHog }));
  }
}, 500);

// The hog: one enrolled device that opens sync sockets on every instance from 10 loopback addresses and says hello on each.
const hog = { tried: 0, held: 0, capped: 0, other: 0, sockets: [] as WebSocket[] };
async function runHog(): Promise<void> {
  const token = await enrol(servers[0]!, 'bench hog');
  let next = 0;
  const one = (i: number) =>
    new Promise<void>((done) => {
      const server = servers[i % instances]!;
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/sync`, { localAddress: `127.0.0.${2 + (i % 10)}` });
      hog.tried++;
      hog.sockets.push(ws);
      let welcomed = false;
      ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', sessionId: `hog-${prefix}-${i}`.slice(0, 64), token })));
      ws.on('message', () => {
        if (welcomed) return;
        welcomed = true;
        hog.held++;
        done();
      });
      ws.on('close', (code) => {
        if (welcomed) hog.held--;
        else if (code === 1008) hog.capped++;
        else hog.other++;
        done();
      });
      ws.on('error', () => {});
    });
  // 50 attempts at a time, each kept for as long as the server lets it.
  await Promise.all(Array.from({ length: 50 }, async () => {
    while (next < hogSockets) await one(next++);
  }));
}
let hogDone: Promise<void> = Promise.resolve();
// The second half is measured apart whether or not a hog runs (--hog-sockets 0: the same run without it, to compare).
const hogTimer = setTimeout(() => {
  hogging = true;
  if (heavySockets) step(`the heavy device writes on ${heavySockets} sockets`);
  for (const d of heavyFleet) void connect(d);
  if (hogSockets === 0) return;
  step(`the hog tries ${hogSockets} sync sockets on ${instances} instance(s) from 10 addresses`);
  hogDone = runHog().catch((err: unknown) => step(`the hog failed: ${String(err)}`));
}, durationMs / 2);

await new Promise((r) => setTimeout(r, durationMs));
running = false;
clearTimeout(hogTimer);
clearInterval(adminTimer);
await hogDone;
const hogHeldAtEnd = hog.held;
timers.forEach(clearTimeout);
timers2.forEach(clearInterval);
const streamedMs = performance.now() - started;
const generated = fleet.reduce((n, d) => n + d.nextSeq - 1, 0);
step(`draining (${generated} events generated, ${stored} acknowledged so far)`);
const drainDeadline = Date.now() + 60_000;
while (fleet.some((d) => d.ackedUpTo < d.nextSeq - 1) && Date.now() < drainDeadline) await new Promise((r) => setTimeout(r, 250));
const drainedMs = performance.now() - started;
clearInterval(rssTimer);
sampleRss();
const loadAfter = loadavg();
finished = true;
for (const d of [...fleet, ...heavyFleet]) d.socket?.close();
for (const ws of hog.sockets) ws.terminate();

const alive = servers.filter((s) => s.proc.exitCode === null && s.proc.signalCode === null).length;
type Counted = { session_id: string; n: number; distinct_n: number; max_seq: number };
let rows: Counted[];
if (dataDir) {
  // The record itself, read back from the SQLite file once the server is gone.
  for (const s of servers) await s.kill('SIGTERM');
  const db = new Database(join(dataDir, 'framewise.sqlite'), { readonly: true });
  rows = db.prepare('SELECT session_id, COUNT(*) n, COUNT(DISTINCT seq) distinct_n, MAX(seq) max_seq FROM fw_events GROUP BY session_id').all() as Counted[];
  db.close();
  rmSync(dataDir, { recursive: true, force: true });
} else {
  // The record itself, read back from PostgreSQL: every session 1…N, nothing missing, nothing twice.
  rows = (await probe!.query(`SELECT session_id, COUNT(*)::int n, COUNT(DISTINCT seq)::int distinct_n, MAX(seq)::int max_seq FROM ${prefix}_events GROUP BY session_id`)).rows as Counted[];
  for (const s of servers) await s.kill('SIGTERM');
  for (const t of ['events', 'sessions', 'devices', 'usage', 'timeline', 'timeline_steps']) await probe!.query(`DROP TABLE IF EXISTS ${prefix}_${t}`).catch(() => {});
  await probe!.end();
}
const bySession = new Map(rows.map((r) => [r.session_id, r]));
let lost = 0;
let duplicated = 0;
for (const d of fleet) {
  const r = bySession.get(d.sessionId);
  const want = d.nextSeq - 1;
  lost += want - (r?.distinct_n ?? 0);
  duplicated += (r?.n ?? 0) - (r?.distinct_n ?? 0);
}
// The heavy device: what was acknowledged must be there (what was refused may not be).
for (const d of heavyFleet) {
  const r = bySession.get(d.sessionId);
  lost += Math.max(0, d.ackedUpTo - (r?.distinct_n ?? 0));
  duplicated += (r?.n ?? 0) - (r?.distinct_n ?? 0);
}
const mib = (b: number) => b / 1024 / 1024;

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const sorted = [...ackLatencies, ...ackWithHog].sort((a, b) => a - b);
const pct = (p: number) => percentile(sorted, p);
const listMs = (withHog: boolean) => adminList.filter((a) => a.withHog === withHog && a.status === 200).map((a) => a.ms);
const result = {
  when: new Date().toISOString(),
  instances,
  devices,
  ratePerDevice: rate,
  durationS: durationMs / 1000,
  generated,
  stored: rows.reduce((n, r) => n + (r.n as number), 0),
  lost,
  duplicated,
  eventsPerSecondStored: round(stored / (streamedMs / 1000), 1),
  ackLatencyMs: { p50: round(pct(50)), p95: round(pct(95)), p99: round(pct(99)), max: round(sorted.at(-1) ?? NaN) },
  drainAfterStopS: round((drainedMs - streamedMs) / 1000, 2),
  serverRssMaxMiB: Object.fromEntries([...rss].map(([port, mb]) => [port, round(mb)])),
  reconnects: fleet.reduce((n, d) => n + d.closes, 0) - devices,
  hog: {
    socketsTried: hog.tried,
    heldAtEnd: hogHeldAtEnd,
    closed1008: hog.capped,
    closedOtherwise: hog.other,
    mostAllowed: MAX_SOCKETS_PER_DEVICE * instances,
  },
  adminListMs: {
    before: { n: listMs(false).length, p50: round(percentile(listMs(false), 50)), p95: round(percentile(listMs(false), 95)) },
    withHog: { n: listMs(true).length, p50: round(percentile(listMs(true), 50)), p95: round(percentile(listMs(true), 95)) },
    notOk: adminList.filter((a) => a.status !== 200).length,
  },
  ackP95Ms: { before: round(percentile(ackLatencies, 95)), withHog: round(percentile(ackWithHog, 95)) },
  store: onSqlite ? 'sqlite' : 'postgres',
  env: extraEnv,
  storedMiBPerSecond: round(mib(storedBytes) / (streamedMs / 1000), 2),
  heavy: { sockets: heavySockets, acked: heavyFleet.reduce((n, d) => n + d.ackedUpTo, 0), storedMiBPerSecond: round(mib(heavyStoredBytes) / (streamedMs / 2000), 2), ackP95Ms: round(percentile(heavyAckLatencies, 95)) },
  closeCodes,
  instancesUp: alive,
  loadavgBefore: loadBefore.map((x) => round(x, 2)),
  loadavgAfter: loadAfter.map((x) => round(x, 2)),
};
writeFileSync(args.out!, JSON.stringify(result, null, 2));
const table = [
  ['figure', 'value'],
  ['instances × devices × events/s', `${instances} × ${devices} × ${rate} for ${durationMs / 1000} s`],
  ['store', `${result.store}${Object.keys(extraEnv).length ? ` (${Object.entries(extraEnv).map(([k, v]) => `${k}=${v}`).join(', ')})` : ''}`],
  ['events generated / stored', `${generated} / ${result.stored}${heavySockets ? ' (stored: the heavy device too)' : ''}`],
  ['lost / duplicated', `${lost} / ${duplicated}`],
  ['events/s stored (offered)', `${result.eventsPerSecondStored} (${devices * rate})`],
  ['ack latency p50 / p95 / p99 ms', `${result.ackLatencyMs.p50} / ${result.ackLatencyMs.p95} / ${result.ackLatencyMs.p99}`],
  ['drain after the stop', `${result.drainAfterStopS} s`],
  ['server RSS max MiB', Object.values(result.serverRssMaxMiB).join(' / ')],
  ['instances up at the end', `${alive} of ${instances}`],
  ['hog: sync sockets tried / held at the end (most allowed) / closed 1008', `${hog.tried} / ${hogHeldAtEnd} (${result.hog.mostAllowed}) / ${hog.capped}`],
  ['admin list p50 / p95 ms, first half → second half (the hog)', `${result.adminListMs.before.p50} / ${result.adminListMs.before.p95} → ${result.adminListMs.withHog.p50} / ${result.adminListMs.withHog.p95} (${result.adminListMs.withHog.n} lists; ${result.adminListMs.notOk} not 200)`],
  ["other devices' ack p95 ms, first half → second half (the hog)", `${result.ackP95Ms.before} → ${result.ackP95Ms.withHog}`],
  ['payload MiB/s stored (all devices)', `${result.storedMiBPerSecond}`],
  ['heavy device (second half): sockets, MiB/s stored, ack p95 ms', heavySockets ? `${heavySockets}, ${result.heavy.storedMiBPerSecond}, ${result.heavy.ackP95Ms}` : 'none'],
  ['sync closes heard, by code', Object.entries(closeCodes).map(([c, n]) => `${c}: ${n}`).join(', ') || 'none'],
  ['load average before → after', `${loadBefore[0]!.toFixed(2)} → ${loadAfter[0]!.toFixed(2)}`],
];
console.log([table[0]!, ['---', '---'], ...table.slice(1)].map(([a, b]) => `| ${a} | ${b} |`).join('\n'));
const ok = lost === 0 && duplicated === 0 && alive === instances && result.adminListMs.notOk === 0 && hogHeldAtEnd <= result.hog.mostAllowed;
console.log(ok ? 'bench:server: 0 lost, 0 duplicated, every instance up' : 'bench:server: FAILED: see the table');
process.exit(ok ? 0 : 1);
