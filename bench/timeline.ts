// npm run bench:timeline: one long guided session against a real server process, on SQLite and
// on PostgreSQL. A device records a 100,000-event session through the sync socket (task-state
// verdicts of the desk task that derail again and again, the instructions given, 25-detection
// frames), then the admin opens its timeline (the first page) and exports it as CSV and JSON, and
// six trainers open it at once, while a probe lists sessions every 50 ms throughout the reads.
// Reported: time to the timeline's first page, time to each full export, the server's RSS (before
// the reads and at its peak), and the probe's worst and p95 latency. `--tree DIR` runs another
// checkout's server (the tree before a change) with the same load. Writes bench/timeline-results.json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import WebSocket from 'ws';
import { COCO_LABELS as LABELS } from '../src/model/labels';
import { LIMITS, syncProtocols, type SyncEvent } from '../src/sync/protocol';
import { completed, derailed, DESK, executing, LAPTOP_LEFT, Recording } from '../test/server/guided-sessions';
import { startServer, type ServerProcess } from '../test/server/spawn-server';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'both' },
    events: { type: 'string', default: '100000' },
    pg: { type: 'string', default: process.env.FRAMEWISE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test' },
    tree: { type: 'string' },
    out: { type: 'string', default: 'bench/timeline-results.json' },
  },
});
const count = Number(args.events);
if (!Number.isInteger(count) || count < 1000 || count > 1_000_000) throw new Error(`--events must be a whole number from 1000 to 1000000, got "${args.events}"`);
const stores = args.store === 'both' ? (['sqlite', 'postgres'] as const) : args.store === 'sqlite' || args.store === 'postgres' ? ([args.store] as const) : undefined;
if (!stores) throw new Error(`--store must be sqlite, postgres or both, got "${args.store}"`);
const tree = args.tree ? resolve(args.tree) : undefined;
const ADMIN = `bench-admin-${process.pid}-${Date.now()}-Rq5Wz8Xk2Nv7Tm4`;
const step = (s: string) => console.error(`bench:timeline: ${s}`);

// ---- the session: the desk task's verdicts, instructions and frames, as the app records them ----

let seed = 4242;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
function detectionsPayload(frame: number, time: number, n = 25) {
  const labels = [...new Set(Array.from({ length: 8 }, () => LABELS[Math.floor(rand() * LABELS.length)]!))];
  const boxes = Array.from({ length: n }, () => [Math.floor(rand() * labels.length), round(0.3 + rand() * 0.7, 3), round(rand() * 600), round(rand() * 440), round(20 + rand() * 200), round(20 + rand() * 200)]);
  return { frame, time: round(time / 1000, 3), labels, boxes, omitted: 0 };
}

/**
 * `count` events of one desk-task session: each cycle the laptop leaves the view (a derailment and
 * an instruction), frames arrive, it comes back (another instruction); a step is completed every
 * quarter of the session. About one derailment and two instructions every ten events.
 */
function longSession(start: number, count: number): SyncEvent[] {
  const rec = new Recording(DESK, start).instruction(start + 100, 0, 'Bring a laptop into view').verdict(start + 250, executing(0, { missing: ['laptop'] }));
  const quarter = Math.ceil(count / 4);
  let ts = start + 1_000;
  let current = 0;
  let frame = 0;
  const frameAt = (t: number) => rec.record(t, 'detections', detectionsPayload(++frame, t - start));
  while (rec.events.length < count) {
    const due = Math.min(3, Math.floor(rec.events.length / quarter));
    if (due > current) {
      rec.verdict(ts, completed(current, current + 1, 30_000)).instruction(ts, current + 1, DESK.steps[current + 1]!.instruction);
      current = due;
    }
    rec.verdict(ts, derailed(current, LAPTOP_LEFT, ts)).instruction(ts, current, 'Bring a laptop into view');
    frameAt(ts + 100);
    rec.verdict(ts + 250, derailed(current, LAPTOP_LEFT, ts));
    frameAt(ts + 300);
    rec.verdict(ts + 600, executing(current, { recovered: true })).instruction(ts + 600, current, DESK.steps[current]!.instruction);
    frameAt(ts + 700);
    rec.verdict(ts + 850, executing(current, { heldMs: 250 }));
    frameAt(ts + 900);
    ts += 1_000;
  }
  return rec.events.slice(0, count);
}

// ---- the device ----

async function enrol(server: ServerProcess, name: string): Promise<string> {
  const res = await fetch(`${server.url}/api/devices`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  if (res.status !== 201) throw new Error(`enrolment: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** Sends the session as the app does: batches under the message limit, one in flight. */
async function record(server: ServerProcess, token: string, sessionId: string, events: readonly SyncEvent[]): Promise<number> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/sync`, [...syncProtocols(token)], { origin: `http://localhost:${server.port}` });
  const inbox: Record<string, unknown>[] = [];
  let wake: (() => void) | undefined;
  let closed: string | undefined;
  ws.on('message', (d) => (inbox.push(JSON.parse(String(d)) as Record<string, unknown>), wake?.()));
  ws.on('close', (code, reason) => ((closed = `${code} ${String(reason)}`), wake?.()));
  await new Promise<void>((ok, fail) => (ws.once('open', () => ok()), ws.once('error', fail)));
  const next = async () => {
    for (;;) {
      const m = inbox.shift();
      if (m) return m;
      if (closed) throw new Error(`sync socket closed: ${closed}`);
      await new Promise<void>((r) => (wake = r));
    }
  };
  ws.send(JSON.stringify({ type: 'hello', sessionId, token }));
  await next();
  let acked = 0;
  for (let i = 0; i < events.length; ) {
    const batch: SyncEvent[] = [];
    let bytes = 100;
    while (i < events.length && batch.length < LIMITS.maxEventsPerMessage) {
      const size = JSON.stringify(events[i]).length + 1;
      if (bytes + size > LIMITS.maxMessageBytes - 1024) break;
      batch.push(events[i++]!);
      bytes += size;
    }
    ws.send(JSON.stringify({ type: 'events', sessionId, events: batch }));
    const ack = await next();
    acked = ack.seq as number;
  }
  ws.close();
  return acked;
}

// ---- the reads, and the probe ----

const percentile = (xs: readonly number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const r1 = (n: number) => Math.round(n * 10) / 10;
const auth = { authorization: `Bearer ${ADMIN}` };

/** Reads a response whole, counting bytes, without keeping it. */
async function drain(url: string): Promise<{ status: number; ms: number; bytes: number }> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: auth });
  let bytes = 0;
  const reader = res.body!.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.byteLength;
  return { status: res.status, ms: performance.now() - t0, bytes };
}

async function run(kind: 'sqlite' | 'postgres') {
  const dataDir = mkdtempSync(join(tmpdir(), 'fw-bench-timeline-'));
  const prefix = `fw_bench_tl_${Date.now().toString(36)}`;
  const env: Record<string, string> = {
    ...(kind === 'sqlite' ? { FRAMEWISE_DATA_DIR: dataDir } : { DATABASE_URL: args.pg!, FRAMEWISE_PG_TABLE: prefix }),
    FRAMEWISE_ADMIN_TOKEN: ADMIN,
    FRAMEWISE_STATIC: '/nonexistent',
    // The recording is the set-up, not what is measured: the device's rate is not held to its share (500 events/s would take 200 s).
    FRAMEWISE_DEVICE_KIB_PER_S: '0',
    FRAMEWISE_DEVICE_EVENTS_PER_S: '0',
    FRAMEWISE_HTTP_RATE_PER_MIN: '100000',
  };
  const server = await startServer(env, 0, tree);
  try {
    const token = await enrol(server, 'bench tablet');
    const events = longSession(Date.now() - 3 * 3_600_000, count);
    const sessionId = 'bench-long-session-0001';
    const t0 = performance.now();
    const acked = await record(server, token, sessionId, events);
    const recordS = (performance.now() - t0) / 1000;
    step(`${kind}: ${acked} events recorded in ${r1(recordS)} s`);
    await new Promise((r) => setTimeout(r, 2_000));
    const rssBefore = server.rssMiB();
    let rssPeak = rssBefore;
    const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, server.rssMiB())), 100);
    // The probe: another admin's list, every 50 ms, one at a time, throughout the reads.
    const probe: number[] = [];
    const failures: string[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const s = performance.now();
        const res = await fetch(`${server.url}/api/sessions?limit=50`, { headers: auth }).catch((e: unknown) => ({ status: 0, text: async () => String(e) }));
        if (res.status !== 200) failures.push(`${res.status}`);
        else await (res as Response).arrayBuffer();
        const ms = performance.now() - s;
        probe.push(ms);
        await new Promise((r) => setTimeout(r, Math.max(0, 50 - ms)));
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    const base = `${server.url}/api/sessions/${sessionId}`;
    const first = await drain(`${base}/timeline`);
    const csv = await drain(`${base}/export?format=csv`);
    const json = await drain(`${base}/export?format=json`);
    const six = await Promise.all(Array.from({ length: 6 }, () => drain(`${base}/timeline`)));
    await new Promise((r) => setTimeout(r, 500));
    probing = false;
    await prober;
    clearInterval(rssTimer);
    return {
      store: kind,
      tree: tree ?? 'this',
      events: acked,
      recordSeconds: r1(recordS),
      timelineFirstPage: { status: first.status, ms: r1(first.ms), bytes: first.bytes },
      exportCsv: { status: csv.status, ms: r1(csv.ms), bytes: csv.bytes },
      exportJson: { status: json.status, ms: r1(json.ms), bytes: json.bytes },
      sixTimelinesAtOnce: { statuses: six.map((s) => s.status), worstMs: r1(Math.max(...six.map((s) => s.ms))) },
      rssMiB: { beforeReads: r1(rssBefore), peak: r1(rssPeak) },
      probe: { requests: probe.length, failures: failures.length, p95Ms: r1(percentile(probe, 95)), worstMs: r1(Math.max(...probe)) },
    };
  } finally {
    await server.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
    if (kind === 'postgres') {
      const c = new pg.Client({ connectionString: args.pg });
      await c.connect();
      for (const t of ['events', 'sessions', 'devices', 'usage', 'timeline', 'timeline_steps']) await c.query(`DROP TABLE IF EXISTS ${prefix}_${t}`).catch(() => {});
      await c.end();
    }
  }
}

const load = [loadavg()[0]!];
const results = [];
for (const kind of stores) {
  results.push(await run(kind));
  load.push(loadavg()[0]!);
}
const out = { at: new Date().toISOString(), loadAverage1m: load.map(r1), results };
writeFileSync(args.out!, `${JSON.stringify(out, null, 2)}\n`);
const rows = [
  ['figure', ...results.map((r) => r.store)],
  ['events recorded', ...results.map((r) => String(r.events))],
  ['timeline, first page', ...results.map((r) => `${r.timelineFirstPage.ms} ms (${r.timelineFirstPage.status}, ${r1(r.timelineFirstPage.bytes / 1024)} KiB)`)],
  ['CSV export, whole', ...results.map((r) => `${r.exportCsv.ms} ms (${r.exportCsv.status}, ${r1(r.exportCsv.bytes / 2 ** 20)} MiB)`)],
  ['JSON export, whole', ...results.map((r) => `${r.exportJson.ms} ms (${r.exportJson.status}, ${r1(r.exportJson.bytes / 2 ** 20)} MiB)`)],
  ['six timelines at once, slowest', ...results.map((r) => `${r.sixTimelinesAtOnce.worstMs} ms (${r.sixTimelinesAtOnce.statuses.join(', ')})`)],
  ['server RSS before reads → peak', ...results.map((r) => `${r.rssMiB.beforeReads} → ${r.rssMiB.peak} MiB`)],
  ['probe (list every 50 ms) p95 / worst', ...results.map((r) => `${r.probe.p95Ms} / ${r.probe.worstMs} ms (${r.probe.requests} requests, ${r.probe.failures} failed)`)],
];
console.log(`tree: ${tree ?? 'this checkout'}; load average (1 min) ${out.loadAverage1m.join(' → ')}`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
