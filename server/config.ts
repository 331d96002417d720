// Every setting comes from the environment, is checked once at start, and a bad one stops the
// start with a message naming it (exit code 1) rather than running half-configured.
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AuthFailureLimits } from './app-types';
import { DEFAULT_AUTH_FAILURE_LIMITS } from './auth-failures';
import { MIN_ADMIN_TOKEN_CHARS, MIN_ENROLL_CODE_CHARS, newAdminToken, secretWeakness } from './auth';
import { DEFAULT_HEAVY_READS } from './heavy-reads';
import { DEFAULT_MAX_CLOCK_SKEW_MS, DEFAULT_MAX_SESSION_EVENTS } from './sync-connection';
import { DEFAULT_WRITE_LIMITS, type WriteLimits } from './write-budget';

export class ServerConfigError extends Error {}

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly sqliteFile: string;
  readonly databaseUrl: string | undefined;
  readonly pgPrefix: string;
  readonly pgApplicationName: string;
  readonly staticDir: string;
  /** Host header values accepted on every request and upgrade (lower case); `*` accepts any. Unset: `defaultHosts` of the port listened on. */
  readonly hosts: readonly string[] | undefined;
  /** Origins allowed to open sockets and to enrol from a page; `*` allows any. Unset: `defaultOrigins` of the port listened on. */
  readonly origins: readonly string[] | undefined;
  readonly adminToken: string | undefined;
  readonly enrollCode: string | undefined;
  readonly enrollPerMinute: number;
  readonly httpPerMinute: number;
  readonly authFailureLimits: AuthFailureLimits;
  readonly pingIntervalMs: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  readonly maxSocketsPerDevice: number;
  readonly deviceConnections: number;
  readonly adminConnections: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly liveStallMs: number;
  readonly maxClockSkewMs: number;
  readonly trustProxy: false | string[];
  /** Each device's share of writes (0 turns a limit off). */
  readonly writeLimits: WriteLimits;
  /** Writes refused below this much free space on the data's disk (0: not watched). */
  readonly minFreeDiskBytes: number;
  /** Sessions idle this many days are deleted (undefined: kept). */
  readonly retentionDays: number | undefined;
  /** Timeline item pages and exports answered at once; more get 503 (FRAMEWISE_HEAVY_READS). */
  readonly heavyReads: number;
  /** The most events one session may hold; a message past it closes the socket with 4413 (FRAMEWISE_MAX_SESSION_EVENTS). */
  readonly maxSessionEvents: number;
}

type Env = Record<string, string | undefined>;

function whole(env: Env, name: string, fallback: number, min = 1, max = 2 ** 31 - 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^[0-9]+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) throw new ServerConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}

const list = (raw: string) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function loadConfig(env: Env = process.env): Config {
  if (env.FRAMEWISE_TOKEN !== undefined) {
    throw new ServerConfigError(
      'FRAMEWISE_TOKEN is no longer used: it was replaced by FRAMEWISE_ADMIN_TOKEN (the operator\'s credential for the API and the dashboard) ' +
        'and per-device tokens from POST /api/devices. Unset FRAMEWISE_TOKEN; set FRAMEWISE_ADMIN_TOKEN, or leave it unset to have one generated.',
    );
  }
  if (env.FRAMEWISE_ADMIN_TOKEN !== undefined && env.FRAMEWISE_ADMIN_TOKEN.trim() === '') {
    throw new ServerConfigError('FRAMEWISE_ADMIN_TOKEN is set but empty: give it a long random value, or unset it to have one generated and kept in the data directory.');
  }
  if (env.FRAMEWISE_ENROLL_CODE !== undefined && env.FRAMEWISE_ENROLL_CODE.trim() === '') {
    throw new ServerConfigError('FRAMEWISE_ENROLL_CODE is set but empty: give it a value, or unset it for open enrolment.');
  }
  strongEnough('FRAMEWISE_ADMIN_TOKEN', env.FRAMEWISE_ADMIN_TOKEN?.trim(), MIN_ADMIN_TOKEN_CHARS, 'use a random value (e.g. `openssl rand -base64 33`), or unset it to have one generated and kept in the data directory');
  strongEnough('FRAMEWISE_ENROLL_CODE', env.FRAMEWISE_ENROLL_CODE, MIN_ENROLL_CODE_CHARS, 'use e.g. three unrelated words and a number (`kettle-orchard-7-lantern`), or unset it for open enrolment');
  const port = whole(env, 'PORT', 8080, 0, 65535);
  const host = env.HOST ?? 'localhost';
  const dataDir = resolve(env.FRAMEWISE_DATA_DIR || 'data');
  const timeouts = {
    headersTimeoutMs: whole(env, 'FRAMEWISE_HEADERS_TIMEOUT_MS', 10_000),
    requestTimeoutMs: whole(env, 'FRAMEWISE_REQUEST_TIMEOUT_MS', 30_000),
  };
  if (timeouts.requestTimeoutMs < timeouts.headersTimeoutMs) throw new ServerConfigError('FRAMEWISE_REQUEST_TIMEOUT_MS must be at least FRAMEWISE_HEADERS_TIMEOUT_MS');
  return {
    port,
    host,
    dataDir,
    sqliteFile: resolve(env.FRAMEWISE_DB || join(dataDir, 'framewise.sqlite')),
    databaseUrl: env.DATABASE_URL || undefined,
    pgPrefix: env.FRAMEWISE_PG_TABLE || 'framewise_v2',
    pgApplicationName: env.FRAMEWISE_PG_APP_NAME || 'framewise',
    staticDir: resolve(env.FRAMEWISE_STATIC || 'dist'),
    hosts: env.FRAMEWISE_HOSTS === undefined ? undefined : list(env.FRAMEWISE_HOSTS).map((h) => h.toLowerCase()),
    origins: env.FRAMEWISE_ORIGINS === undefined ? undefined : list(env.FRAMEWISE_ORIGINS),
    adminToken: env.FRAMEWISE_ADMIN_TOKEN?.trim(),
    enrollCode: env.FRAMEWISE_ENROLL_CODE,
    enrollPerMinute: whole(env, 'FRAMEWISE_ENROLL_RATE_PER_MIN', 20),
    httpPerMinute: whole(env, 'FRAMEWISE_HTTP_RATE_PER_MIN', 1200),
    authFailureLimits: {
      perClient: whole(env, 'FRAMEWISE_AUTH_FAILURES_PER_CLIENT', DEFAULT_AUTH_FAILURE_LIMITS.perClient),
      global: whole(env, 'FRAMEWISE_AUTH_FAILURES_GLOBAL', DEFAULT_AUTH_FAILURE_LIMITS.global),
      windowMs: whole(env, 'FRAMEWISE_AUTH_FAILURE_WINDOW_MS', DEFAULT_AUTH_FAILURE_LIMITS.windowMs, 1000),
    },
    pingIntervalMs: whole(env, 'FRAMEWISE_PING_MS', 15_000, 10),
    maxConnections: whole(env, 'FRAMEWISE_MAX_CONNECTIONS', 1000),
    maxConnectionsPerIp: whole(env, 'FRAMEWISE_MAX_CONNECTIONS_PER_IP', 100),
    maxSocketsPerDevice: whole(env, 'FRAMEWISE_MAX_SOCKETS_PER_DEVICE', 10),
    deviceConnections: whole(env, 'FRAMEWISE_DEVICE_CONNECTIONS', 1000),
    adminConnections: whole(env, 'FRAMEWISE_ADMIN_CONNECTIONS', 20),
    ...timeouts,
    keepAliveTimeoutMs: whole(env, 'FRAMEWISE_KEEPALIVE_TIMEOUT_MS', 5_000),
    idleTimeoutMs: whole(env, 'FRAMEWISE_IDLE_TIMEOUT_MS', 60_000),
    liveStallMs: whole(env, 'FRAMEWISE_LIVE_STALL_MS', 30_000, 10),
    // From a minute (clocks drift) to ten years.
    maxClockSkewMs: whole(env, 'FRAMEWISE_MAX_CLOCK_SKEW_MS', DEFAULT_MAX_CLOCK_SKEW_MS, 60_000, 3650 * 86_400_000),
    trustProxy: trustProxy(env.FRAMEWISE_TRUST_PROXY),
    ...writeSettings(env),
    heavyReads: whole(env, 'FRAMEWISE_HEAVY_READS', DEFAULT_HEAVY_READS, 1, 1000),
    maxSessionEvents: whole(env, 'FRAMEWISE_MAX_SESSION_EVENTS', DEFAULT_MAX_SESSION_EVENTS, 1, 1_000_000_000),
  };
}

const KIB = 1024;
const MIB = 1024 * 1024;

/** The write quotas, the disk watermark and retention: whole numbers, 0 turning a limit off. */
function writeSettings(env: Env): Pick<Config, 'writeLimits' | 'minFreeDiskBytes' | 'retentionDays'> {
  const d = DEFAULT_WRITE_LIMITS;
  const retention = whole(env, 'FRAMEWISE_RETENTION_DAYS', 0, 0, 36_500);
  return {
    writeLimits: {
      bytesPerSecond: whole(env, 'FRAMEWISE_DEVICE_KIB_PER_S', d.bytesPerSecond / KIB, 0) * KIB,
      eventsPerSecond: whole(env, 'FRAMEWISE_DEVICE_EVENTS_PER_S', d.eventsPerSecond, 0),
      bytesPerDay: whole(env, 'FRAMEWISE_DEVICE_MIB_PER_DAY', d.bytesPerDay / MIB, 0) * MIB,
      eventsPerDay: whole(env, 'FRAMEWISE_DEVICE_EVENTS_PER_DAY', d.eventsPerDay, 0),
      sessionsPerDay: whole(env, 'FRAMEWISE_DEVICE_SESSIONS_PER_DAY', d.sessionsPerDay, 0),
    },
    minFreeDiskBytes: whole(env, 'FRAMEWISE_MIN_FREE_DISK_MIB', 1024, 0) * MIB,
    retentionDays: retention > 0 ? retention : undefined,
  };
}

/** A secret set by hand must stand online guessing: refused at start, saying why and what to do. */
function strongEnough(name: string, secret: string | undefined, minChars: number, advice: string): void {
  const weakness = secret === undefined ? undefined : secretWeakness(secret, minChars);
  if (weakness) throw new ServerConfigError(`${name} is too easy to guess: ${weakness}. ${advice[0]!.toUpperCase()}${advice.slice(1)}.`);
}

/** FRAMEWISE_TRUST_PROXY: unset (believe no X-Forwarded-For), or the proxies' addresses/CIDRs, comma-separated. */
function trustProxy(raw: string | undefined): false | string[] {
  if (raw === undefined || raw.trim() === '' || raw.trim() === 'false') return false;
  const addresses = list(raw);
  if (!addresses.every((a) => /^[0-9a-fA-F:.]+(\/[0-9]{1,3})?$/.test(a))) {
    throw new ServerConfigError(`FRAMEWISE_TRUST_PROXY must list the proxies' addresses or CIDRs (e.g. 127.0.0.1,10.0.0.0/8), got "${raw}": trusting every X-Forwarded-For would let any client pick its own address`);
  }
  return addresses;
}

/** The Host header values a browser sends for this server on loopback (and under its own name when bound to one). */
export function defaultHosts(host: string, port: number): string[] {
  const hosts = [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`];
  // A wildcard address names no host: an operator listening on every interface says which names to answer for.
  if (!['localhost', '127.0.0.1', '::1', '0.0.0.0', '::', ''].includes(host)) hosts.push(`${host.includes(':') ? `[${host}]` : host.toLowerCase()}:${port}`);
  return hosts;
}

export function defaultOrigins(port: number): string[] {
  return [`http://localhost:${port}`, `http://127.0.0.1:${port}`];
}

/**
 * The admin credential: FRAMEWISE_ADMIN_TOKEN if set; else the one kept in `<data>/admin-token`;
 * else a new random one, written there (mode 0600) and reported as generated so that it is
 * printed this once.
 */
export function resolveAdminToken(config: Config): { token: string; generated: boolean; file?: string } {
  if (config.adminToken) return { token: config.adminToken, generated: false };
  const file = join(config.dataDir, 'admin-token');
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  try {
    // 'wx': of two instances starting on one data directory, one writes and the other reads.
    const token = newAdminToken();
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    return { token, generated: true, file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new ServerConfigError(`cannot write the admin token to ${file}: ${(err as Error).message}`);
  }
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    // Readable by others: tighten it rather than keep serving with a credential anyone on the machine can read.
    chmodSync(file, 0o600);
  }
  const token = readFileSync(file, 'utf8').trim();
  if (!token) throw new ServerConfigError(`${file} is empty: delete it to have a new admin token generated, or set FRAMEWISE_ADMIN_TOKEN`);
  const weakness = secretWeakness(token, MIN_ADMIN_TOKEN_CHARS);
  if (weakness) throw new ServerConfigError(`the admin token in ${file} is too easy to guess: ${weakness}. Delete the file to have a new one generated, or set FRAMEWISE_ADMIN_TOKEN`);
  return { token, generated: false, file };
}
