// One process: the built PWA, device enrolment, the sync endpoint and the dashboard, on SQLite
// unless DATABASE_URL names PostgreSQL. Its first line on stdout starts
// `framewise: app on http://HOST:PORT/` (tests and tools wait for it).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createApp } from './app';
import pino from 'pino';
import { processLogger } from './log';
import { ServerConfigError, defaultHosts, defaultOrigins, loadConfig, resolveAdminToken, type Config } from './config';
import { PostgresStore } from './pg-store';
import { SqliteStore } from './sqlite-store';
import type { EventStore } from './store';

// JSON lines on stderr; stdout keeps the lines a person reads at start-up. Until the start line
// is printed only warnings and errors are logged, so that it is the first line the process prints.
const level = process.env.FRAMEWISE_LOG_LEVEL ?? 'info';
const log = (() => {
  try {
    return processLogger(level);
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
})();
if (log.levelVal < pino.levels.values.warn!) log.level = 'warn';

function fail(message: string): never {
  console.error(`framewise: cannot start: ${message}`);
  process.exit(1);
}

async function openStore(config: Config): Promise<{ store: EventStore; where: string }> {
  if (config.databaseUrl) {
    const store = await PostgresStore.open({ url: config.databaseUrl, prefix: config.pgPrefix, applicationName: config.pgApplicationName, log });
    return { store, where: `PostgreSQL (tables ${config.pgPrefix}_*)` };
  }
  mkdirSync(dirname(config.sqliteFile), { recursive: true });
  return { store: await SqliteStore.open(config.sqliteFile), where: config.sqliteFile };
}

let config: Config;
let admin: ReturnType<typeof resolveAdminToken>;
try {
  config = loadConfig();
  admin = resolveAdminToken(config);
} catch (err) {
  fail(err instanceof ServerConfigError ? err.message : String(err));
}

// Every handler catches its own errors; this is the net under a mistake of ours, so that one
// stray promise is logged instead of taking every session down with it.
process.on('unhandledRejection', (reason) => log.error({ err: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason) }, 'unhandled rejection (a bug; the server goes on)'));

const { store, where } = await openStore(config).catch((err: unknown) => fail(`no store: ${err instanceof Error ? err.message : String(err)}`));
const app = await createApp({
  store,
  adminToken: admin.token,
  enrollCode: config.enrollCode,
  hosts: config.hosts ?? ((port) => defaultHosts(config.host, port)),
  origins: config.origins ?? defaultOrigins,
  staticDir: config.staticDir,
  pingIntervalMs: config.pingIntervalMs,
  enrollPerMinute: config.enrollPerMinute,
  httpPerMinute: config.httpPerMinute,
  authFailureLimits: config.authFailureLimits,
  maxConnections: config.maxConnections,
  maxConnectionsPerIp: config.maxConnectionsPerIp,
  maxSocketsPerDevice: config.maxSocketsPerDevice,
  deviceConnections: config.deviceConnections,
  adminConnections: config.adminConnections,
  headersTimeoutMs: config.headersTimeoutMs,
  requestTimeoutMs: config.requestTimeoutMs,
  keepAliveTimeoutMs: config.keepAliveTimeoutMs,
  idleTimeoutMs: config.idleTimeoutMs,
  liveStallMs: config.liveStallMs,
  maxClockSkewMs: config.maxClockSkewMs,
  trustProxy: config.trustProxy,
  log,
  writeLimits: config.writeLimits,
  // PostgreSQL's disk is its own server's to watch; SQLite's file is here.
  disk: config.databaseUrl ? undefined : { path: dirname(config.sqliteFile), minFreeBytes: config.minFreeDiskBytes },
  retentionDays: config.retentionDays,
  heavyReads: config.heavyReads,
  maxSessionEvents: config.maxSessionEvents,
});
const { port } = await app.listen(config.port, config.host).catch((err: unknown) => fail(`cannot listen on ${config.host}:${config.port}: ${err instanceof Error ? err.message : String(err)}`));
const base = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
const enrolment = config.enrollCode
  ? 'enrolment needs FRAMEWISE_ENROLL_CODE'
  : `enrolment OPEN: anyone who can reach this server can enrol devices (${config.enrollPerMinute} a minute per address) and store sessions as them, but read nothing back; fine for a local trial, otherwise set FRAMEWISE_ENROLL_CODE`;
console.log(`framewise: app on ${base}/  dashboard ${base}/dashboard  events in ${where}  ${enrolment}`);
log.level = level;
log.info({ url: base, store: where, enrolment: config.enrollCode ? 'code' : 'open' }, 'listening');
if (admin.generated) {
  // Printed this once; it stays in the file (mode 0600) for the next start.
  console.log(`framewise: admin token (generated, kept in ${admin.file}; shown only this once): ${admin.token}`);
  console.log(`framewise: open ${base}/dashboard and paste the admin token there`);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void app
      .close()
      .then(() => store.close())
      .catch((err: unknown) => log.error({ err: String(err) }, 'while stopping'))
      .finally(() => {
        // The log's last lines first; a log that cannot flush does not keep the process up.
        setTimeout(() => process.exit(0), 1000).unref();
        log.flush(() => process.exit(0));
      });
  });
}
