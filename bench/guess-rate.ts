// npm run bench:guess: how fast can the admin token and the enrolment code be guessed online?
// Starts the real server on 127.0.0.1 and hammers it with wrong credentials from many loopback
// addresses at once (127.0.0.2, 127.0.0.3, …: each a different client to the server), the way
// the audit did. Counts, per credential, the guesses the server actually compared (401/403)
// and those it refused without comparing (429). Loopback only; bounded in time; stops by itself.
import { mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from '../test/server/spawn-server';

const { values: args } = parseArgs({
  options: {
    addresses: { type: 'string', default: '20' },
    duration: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '4' },
    code: { type: 'string', default: 'kettle-7Fq-orchard-29' },
  },
});
const whole = (name: string, v: string | undefined, min: number, max: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}, got "${v}"`);
  return n;
};
const addresses = whole('addresses', args.addresses, 1, 250);
const durationMs = whole('duration', args.duration, 1, 60) * 1000;
const concurrency = whole('concurrency', args.concurrency, 1, 32);
const ADMIN = `fwa.guess-rate-${process.pid}-Zq8xW2mKp4Rt7Lv9Nc3Bj6Hd`;

const dir = mkdtempSync(join(tmpdir(), 'fw-guess-'));
const server = await startServer({
  FRAMEWISE_ADMIN_TOKEN: ADMIN,
  FRAMEWISE_ENROLL_CODE: args.code!,
  FRAMEWISE_DATA_DIR: join(dir, 'data'),
  FRAMEWISE_STATIC: join(dir, 'none'),
  FRAMEWISE_MAX_CONNECTIONS: '5000',
  FRAMEWISE_LOG_LEVEL: 'error',
});

interface Tally {
  compared: number;
  throttled: number;
  other: Map<number, number>;
  firstThrottledAt?: number;
}

function send(agent: Agent, method: string, path: string, headers: Record<string, string>, body?: string): Promise<number> {
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, agent, headers: { host: `127.0.0.1:${server.port}`, ...headers } }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
    });
    req.on('error', () => done(0));
    req.end(body);
  });
}

async function hammer(what: 'admin token' | 'enrolment code'): Promise<{ tally: Tally; seconds: number }> {
  const tally: Tally = { compared: 0, throttled: 0, other: new Map() };
  const started = performance.now();
  const until = started + durationMs;
  let guess = 0;
  const workers: Promise<void>[] = [];
  const agents: Agent[] = [];
  for (let a = 0; a < addresses; a++) {
    // A keep-alive agent per source address: each is a different client to the server.
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency, localAddress: `127.0.0.${2 + a}` });
    agents.push(agent);
    for (let c = 0; c < concurrency; c++) {
      workers.push(
        (async () => {
          while (performance.now() < until) {
            const n = guess++;
            const status =
              what === 'admin token'
                ? await send(agent, 'GET', '/api/sessions', { authorization: `Bearer fwa.wrong-guess-${n.toString(36).padStart(40, 'x')}` })
                : await send(agent, 'POST', '/api/devices', { 'content-type': 'application/json' }, JSON.stringify({ name: `guess ${n}`, code: String(n).padStart(12, '0') }));
            if (status === 401 || status === 403) tally.compared++;
            else if (status === 429) {
              tally.throttled++;
              tally.firstThrottledAt ??= performance.now() - started;
            } else tally.other.set(status, (tally.other.get(status) ?? 0) + 1);
          }
        })(),
      );
    }
  }
  await Promise.all(workers);
  const seconds = (performance.now() - started) / 1000;
  for (const agent of agents) agent.destroy();
  return { tally, seconds };
}

try {
  console.log(`guess-rate: ${addresses} loopback addresses × ${concurrency} requests in flight, ${durationMs / 1000} s per credential`);
  for (const what of ['admin token', 'enrolment code'] as const) {
    const { tally, seconds } = await hammer(what);
    const other = [...tally.other].map(([s, n]) => `${n}× HTTP ${s || 'error'}`).join(', ');
    console.log(
      `${what}: ${tally.compared} guesses compared in ${seconds.toFixed(1)} s (${(tally.compared / seconds).toFixed(1)}/s); ` +
        `${tally.throttled} refused with 429 without comparing${tally.firstThrottledAt === undefined ? '' : ` (the first after ${(tally.firstThrottledAt / 1000).toFixed(2)} s)`}` +
        `${other ? `; ${other}` : ''}`,
    );
  }
} finally {
  await server.kill('SIGTERM');
}
