// What the backend is configured with, counts, and hands back: shared by createApp and its plugins.
import type { BudgetCounters } from './connection-budget';
import type { Log } from './log';
import type { FastifyInstance } from 'fastify';
import type { Server } from 'node:http';
import { newLiveStats, type LiveStats } from './live';
import type { EventStore } from './store';
import { newSyncStats, type SyncStats } from './sync-connection';
import type { WriteLimits } from './write-budget';

export interface AppOptions {
  readonly store: EventStore;
  /** The operator's credential: reads the API, the live feed and the dashboard's data. */
  readonly adminToken: string;
  /** When set, enrolment must carry it; otherwise anyone who can reach the server can enrol a device. */
  readonly enrollCode?: string;
  /** Host header values served (lower case, host:port); `*` serves any. A function gets the port listened on (for port 0). */
  readonly hosts: readonly string[] | ((port: number) => readonly string[]);
  /** Origins allowed to open sockets and to enrol from a page; `*` allows any. A request without Origin is not from a page. */
  readonly origins: readonly string[] | ((port: number) => readonly string[]);
  /** The built PWA; served when the directory exists. */
  readonly staticDir?: string;
  readonly pingIntervalMs?: number;
  /** Token bucket per sync socket: sustained messages per second, and burst. */
  readonly rate?: { readonly perSecond: number; readonly burst: number };
  readonly enrollPerMinute?: number;
  readonly httpPerMinute?: number;
  readonly maxConnections?: number;
  readonly maxConnectionsPerIp?: number;
  /** Sync sockets one device may hold at once (FRAMEWISE_MAX_SOCKETS_PER_DEVICE); more close with 1008. */
  readonly maxSocketsPerDevice?: number;
  /** Connections reserved for devices' sync sockets, beyond maxConnections (FRAMEWISE_DEVICE_CONNECTIONS). */
  readonly deviceConnections?: number;
  /** Connections reserved for the admin, beyond maxConnections (FRAMEWISE_ADMIN_CONNECTIONS). */
  readonly adminConnections?: number;
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly liveStallMs?: number;
  /** How far an event's `ts` may lie from the server's clock, either way (7 days); past it the socket closes with 1007. */
  readonly maxClockSkewMs?: number;
  /** Behind a reverse proxy: which proxies' X-Forwarded-For to believe (Fastify's trustProxy), so rate limits apply per client, not per proxy. */
  readonly trustProxy?: false | string[];
  /** Failed admin tokens and enrolment codes allowed per client and server-wide per window before attempts get 429 uncompared. */
  readonly authFailureLimits?: AuthFailureLimits;
  /** Where the server logs: a pino logger (main.ts: JSON lines on stderr), or a line sink; none: silent. */
  readonly log?: Log | ((line: string) => void);
  /** Each device's share of writes: a rate and daily totals (server/write-budget.ts; 0 turns one off). Defaults: DEFAULT_WRITE_LIMITS. */
  readonly writeLimits?: Partial<WriteLimits>;
  /** Writes are refused while the disk holding `path` has less than `minFreeBytes` free (server/disk-watch.ts). None: not watched. */
  readonly disk?: { readonly path: string; readonly minFreeBytes: number; readonly statfs?: (path: string) => Promise<number> };
  /** Delete sessions that received nothing for this many days; checked every `retentionEveryMs` (an hour). None: kept for good. */
  readonly retentionDays?: number;
  readonly retentionEveryMs?: number;
  /** Timeline item pages and exports answered at once (FRAMEWISE_HEAVY_READS, 4); one more gets 503 with Retry-After. */
  readonly heavyReads?: number;
  /** The most events one session may hold (FRAMEWISE_MAX_SESSION_EVENTS, 100,000); a message past it closes the socket with 4413. */
  readonly maxSessionEvents?: number;
  /** The server's clock for budgets and retention (tests move it). */
  readonly now?: () => number;
  /** How a message waits out its device's rate (tests: a clock that moves). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Failed authentication allowed before attempts are answered 429 without being compared (server/auth-failures.ts). */
export interface AuthFailureLimits {
  /** Failures one client (address; an IPv6 /64) may make per window before it must wait. */
  readonly perClient: number;
  /** Failures all clients together may make per window (per credential) before everyone must wait. */
  readonly global: number;
  readonly windowMs: number;
}

/** The connection budget's counters (connection-budget.ts) are declared there, once. */
export interface AppStats extends SyncStats, LiveStats, BudgetCounters {
  /** Sync sockets accepted. */
  connections: number;
  /** Sync sockets closed because their device already held its most (1008). */
  closedDeviceCap: number;
  rejectedUpgrades: number;
  refusedHosts: number;
  deadPeers: number;
  revokedSockets: number;
  enrolled: number;
  httpErrors: number;
  /** Retention passes run, and the sessions and events they deleted. */
  retentionRuns: number;
  retentionSessions: number;
  retentionEvents: number;
  /** Timeline item pages and exports answered 503: FRAMEWISE_HEAVY_READS were being answered already. */
  refusedHeavyReads: number;
}

export const newAppStats = (): AppStats => ({
  ...newSyncStats(),
  ...newLiveStats(),
  connections: 0,
  openConnections: 0,
  refusedConnections: 0,
  connectionsGeneral: 0,
  connectionsDevices: 0,
  connectionsAdmin: 0,
  connectionsProbation: 0,
  closedDeviceCap: 0,
  rejectedUpgrades: 0,
  refusedHosts: 0,
  deadPeers: 0,
  revokedSockets: 0,
  enrolled: 0,
  httpErrors: 0,
  retentionRuns: 0,
  retentionSessions: 0,
  retentionEvents: 0,
  refusedHeavyReads: 0,
});

export interface RunningApp {
  readonly fastify: FastifyInstance;
  readonly server: Server;
  readonly stats: AppStats;
  /** Resolves with the address once listening. */
  listen(port: number, host: string): Promise<{ port: number }>;
  close(): Promise<void>;
}
