// What the plugins share: the options, the counters, the lists known once listening, and the
// registry of open sync sockets that a revocation closes. Each plugin gets only this, by option.
import { asLog, type Log } from '../log';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BlockList, isIPv6 } from 'node:net';
import type { WebSocket } from 'ws';
import { CLOSE } from '../../src/sync/protocol';
import { ConnectionBudget } from '../connection-budget';
import { newAppStats, type AppOptions, type AppStats } from '../app-types';
import { AuthFailures, DEFAULT_AUTH_FAILURE_LIMITS, throttledMessage, type Throttled } from '../auth-failures';
import { bearer, sameSecret } from '../auth';
import { Metrics } from '../metrics';
import type { SyncConnection } from '../sync-connection';
import { DiskWatch } from '../disk-watch';
import { DEFAULT_HEAVY_READS, HeavyReads } from '../heavy-reads';
import { WriteBudgets } from '../write-budget';

export interface ServerContext {
  readonly opts: AppOptions;
  readonly stats: AppStats;
  readonly log: Log;
  /** Host and Origin allow-lists; those that depend on the port are filled in once listening (until then nothing is served). */
  readonly allowed: { hosts: readonly string[]; origins: readonly string[] };
  /** Who holds the connections: the general pool, the devices' and the admin's reserved shares, probation. */
  readonly connections: ConnectionBudget;
  readonly devices: DeviceSockets;
  readonly sockets: SocketWatch;
  /** Limits hit, credentials refused and quotas reached, per device or address, with the counters above: GET /metrics. */
  readonly metrics: Metrics;
  /** Failed authentication, counted and slowed per client and server-wide before any comparison. */
  readonly authFailures: AuthFailures;
  /** Run first when the server closes, before its sockets are closed: stop timers and feeds. */
  readonly onShutdown: (() => void)[];
  /** Each device's share of writes, across its sockets. */
  readonly budgets: WriteBudgets;
  /** The free-disk watermark, where the data is on a local disk. */
  readonly disk: DiskWatch | undefined;
  /** Timeline item pages and exports being answered, at most FRAMEWISE_HEAVY_READS. */
  readonly heavyReads: HeavyReads;
}

/** What the plugins of one server share, fresh: counters at zero, no sockets, the port-dependent lists empty until listening. */
export function newServerContext(opts: AppOptions): ServerContext {
  const stats = newAppStats();
  const log = asLog(opts.log);
  const metrics = new Metrics(stats);
  return {
    opts,
    stats,
    log,
    connections: connectionBudget(opts, stats, metrics),
    // Lists that depend on the port are known once listening; until then nothing is served.
    allowed: { hosts: typeof opts.hosts === 'function' ? [] : opts.hosts, origins: typeof opts.origins === 'function' ? [] : opts.origins },
    devices: new DeviceSockets(stats),
    sockets: new SocketWatch(stats, log, metrics),
    metrics,
    authFailures: new AuthFailures(opts.authFailureLimits ?? DEFAULT_AUTH_FAILURE_LIMITS, metrics),
    onShutdown: [],
    budgets: new WriteBudgets(opts.writeLimits, opts.now),
    disk: opts.disk && opts.disk.minFreeBytes > 0 ? new DiskWatch({ ...opts.disk, now: opts.now }) : undefined,
    heavyReads: new HeavyReads(opts.heavyReads ?? DEFAULT_HEAVY_READS),
  };
}

function connectionBudget(opts: AppOptions, stats: AppStats, metrics: Metrics): ConnectionBudget {
  return new ConnectionBudget(
    {
      general: opts.maxConnections ?? 1000,
      perAddress: opts.maxConnectionsPerIp ?? 100,
      devices: opts.deviceConnections ?? 1000,
      admin: opts.adminConnections ?? 20,
      probation: PROBATION.slots,
      probationMs: Math.min(PROBATION.ms, opts.headersTimeoutMs ?? 10_000),
      isProxy: trustedProxies(opts.trustProxy),
    },
    stats,
    (limit, address) => metrics.limitHit(limit, { address }),
  );
}

/** Connections accepted beyond the general pool or an address's cap, and how long one may stay silent there. */
export const PROBATION = { slots: 64, ms: 2_000 } as const;

/** Whether a peer is one of the trusted proxies (addresses or CIDRs, as FRAMEWISE_TRUST_PROXY lists them). */
function trustedProxies(trusted: false | readonly string[] | undefined): (ip: string) => boolean {
  if (!trusted || trusted.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of trusted) {
    const [address = '', bits] = entry.split('/');
    const type = isIPv6(address) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return (ip) => {
    try {
      return list.check(ip, isIPv6(ip) ? 'ipv6' : 'ipv4');
    } catch {
      return false;
    }
  };
}

export const normaliseIp = (ip: string | undefined) => (ip ?? 'unknown').replace(/^::ffff:/, '');

/** Node marks a request that arrived as an 'upgrade' (a WebSocket handshake); the typings do not declare it. */
export const isUpgrade = (request: FastifyRequest) => (request.raw as { upgrade?: boolean }).upgrade === true;

export const originAllowed = (ctx: ServerContext, origin: string | undefined) => origin === undefined || ctx.allowed.origins.includes('*') || ctx.allowed.origins.includes(origin);

/**
 * An admin token presented by a client (Bearer header, or the live feed's hello): refused
 * without comparing while this client or the server is over its failure limit, else compared
 * in constant time, and a wrong one counted.
 */
export async function checkAdminToken(ctx: ServerContext, token: string, request: FastifyRequest): Promise<'ok' | 'wrong' | Throttled> {
  const throttled = await ctx.authFailures.throttled('admin', request);
  if (throttled) return throttled;
  if (!sameSecret(token, ctx.opts.adminToken)) {
    await ctx.authFailures.failed('admin', request);
    return 'wrong';
  }
  ctx.authFailures.adminSucceeded(request);
  return 'ok';
}

/** A route hook: 401 unless the admin's credential came with the request; 429 while too many wrong ones came. */
export const requireAdmin = (ctx: ServerContext) => async (request: FastifyRequest, reply: FastifyReply) => {
  const header = request.headers.authorization;
  // No credential is no guess: answered, not counted.
  const outcome = header === undefined ? 'wrong' : await checkAdminToken(ctx, bearer(header) ?? '', request);
  if (outcome === 'ok') return;
  reply.header('cache-control', 'no-store');
  if (outcome === 'wrong') return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'the admin token is required (Authorization: Bearer …)' });
  return reply.code(429).header('retry-after', String(outcome.retryAfterS)).send({ error: throttledMessage('admin token', outcome) });
};

/** Open sync sockets per device, so that a revocation (here or on another instance) can close them. */
export class DeviceSockets {
  private readonly byDevice = new Map<string, Map<WebSocket, SyncConnection>>();

  constructor(private readonly stats: AppStats) {}

  add(deviceId: string, ws: WebSocket, conn: SyncConnection): void {
    let mine = this.byDevice.get(deviceId);
    if (!mine) this.byDevice.set(deviceId, (mine = new Map()));
    mine.set(ws, conn);
  }

  /** Registers a device's socket unless the device already holds `max` of them. */
  tryAdd(deviceId: string, ws: WebSocket, conn: SyncConnection, max: number): boolean {
    const mine = this.byDevice.get(deviceId);
    if (mine && !mine.has(ws) && mine.size >= max) return false;
    this.add(deviceId, ws, conn);
    return true;
  }

  /** Sync sockets a device holds now. */
  count(deviceId: string): number {
    return this.byDevice.get(deviceId)?.size ?? 0;
  }

  remove(deviceId: string, ws: WebSocket): void {
    const mine = this.byDevice.get(deviceId);
    if (mine?.delete(ws) && mine.size === 0) this.byDevice.delete(deviceId);
  }

  /** Closes a revoked device's sockets with 4401. */
  revoke(deviceId: string): void {
    const sockets = this.byDevice.get(deviceId);
    if (!sockets) return;
    for (const [ws, conn] of sockets) {
      conn.markClosed();
      this.stats.revokedSockets++;
      ws.close(CLOSE.unauthorised, 'device revoked');
    }
    this.byDevice.delete(deviceId);
  }

  /** Shutting down: no connection writes any more. */
  closeAll(): void {
    for (const sockets of this.byDevice.values()) for (const conn of sockets.values()) conn.markClosed();
  }
}

/** Which sockets answered the last ping: a peer that did not by the next is dead. */
export class SocketWatch {
  private readonly alive = new WeakMap<WebSocket, boolean>();

  constructor(
    private readonly stats: AppStats,
    private readonly log: Log,
    private readonly metrics?: Metrics,
  ) {}

  watch(ws: WebSocket, what: string, peer: string): void {
    this.alive.set(ws, true);
    ws.on('pong', () => this.alive.set(ws, true));
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.stats.closedTooBig++;
        this.metrics?.limitHit('message-size', { address: peer });
      }
      else if (err.code === 'WS_ERR_INVALID_UTF8') this.stats.closedInvalid++;
      this.log.warn({ what, peer, err: err.message }, 'socket error');
    });
  }

  /** Pings every socket, and terminates those that did not answer the previous ping. */
  sweep(sockets: Iterable<WebSocket>): void {
    for (const ws of sockets) {
      if (!this.alive.get(ws)) {
        this.stats.deadPeers++;
        this.log.info('websocket: dead peer (no pong), terminated');
        ws.terminate();
        continue;
      }
      this.alive.set(ws, false);
      try {
        ws.ping();
      } catch {
        ws.terminate();
      }
    }
  }
}
