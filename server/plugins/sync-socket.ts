// /sync: a device's socket. Hello within the time limit, then events, handled one message at a
// time in order (an ack must follow the write it confirms), with back-pressure on the reader.
// A device holds at most maxSocketsPerDevice of them (1008 beyond); one that offers its token at
// the upgrade is checked there and may use the devices' reserved share of connections.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { CLOSE, LIMITS, offeredDeviceToken } from '../../src/sync/protocol';
import { SyncConnection, verifyDeviceToken } from '../sync-connection';
import { normaliseIp, type ServerContext } from './context';
import { checkOrigin } from './websockets';

export default async function syncSocket(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { opts, stats, log, devices } = ctx;
  const maxPerDevice = opts.maxSocketsPerDevice ?? 10;
  const overCap = { code: CLOSE.policy, reason: `this device already has ${maxPerDevice} sync connections open, the most it may; retry once one closes` };
  /** Upgrades whose offered device token checked out: the device they speak for. */
  const proven = new WeakMap<IncomingMessage, string>();
  /** Sockets counted against a device's cap, and which device. */
  const registered = new WeakMap<WebSocket, string>();

  /** Route hook, after the Host, rate and Origin checks: a token offered at the upgrade is checked, and admits the connection to the devices' share. */
  const deviceAtUpgrade = async (request: FastifyRequest, reply: FastifyReply) => {
    const token = offeredDeviceToken(request.headers['sec-websocket-protocol']);
    const socket = request.raw.socket;
    const device = token === undefined ? undefined : await verifyDeviceToken(opts.store, token);
    const refused = device === undefined ? ctx.connections.refuseProbation(socket) : ctx.connections.proveDevice(socket, normaliseIp(request.ip));
    if (refused) {
      log.warn({ reqId: request.id, ip: normaliseIp(request.ip), reason: refused.error }, 'sync upgrade refused');
      return reply.code(refused.status).header('retry-after', '5').send({ error: refused.error });
    }
    if (device !== undefined) proven.set(request.raw, device);
  };

  /** Counts a socket against its device's cap; false when the device already holds its most. */
  const takeSlot = (device: string, ws: WebSocket, conn: SyncConnection): boolean => {
    if (!devices.tryAdd(device, ws, conn, maxPerDevice)) {
      stats.closedDeviceCap++;
      log.warn({ device, reason: overCap.reason, close: overCap.code }, 'sync: socket refused');
      return false;
    }
    registered.set(ws, device);
    return true;
  };

  app.get('/sync', { websocket: true, onRequest: [checkOrigin(ctx), deviceAtUpgrade] }, (ws, request) => {
    const peer = normaliseIp(request.ip);
    stats.connections++;
    ctx.sockets.watch(ws, 'sync', peer);
    const atUpgrade = proven.get(request.raw);
    // Asked at the first hello that proves a device: one proven at the upgrade must say hello as itself.
    const admit = (device: string) => {
      if (atUpgrade !== undefined) {
        if (device === atUpgrade) return undefined;
        stats.closedForbidden++;
        return { code: CLOSE.forbidden, reason: 'one device per socket' };
      }
      if (!takeSlot(device, ws, conn)) return overCap;
      ctx.connections.proveDevice(request.raw.socket, peer);
      return undefined;
    };
    const conn = new SyncConnection({ store: opts.store, rate: opts.rate, stats, log, peer, admit, maxClockSkewMs: opts.maxClockSkewMs, maxSessionEvents: opts.maxSessionEvents, budgets: ctx.budgets, disk: ctx.disk, now: opts.now, sleep: opts.sleep });
    if (atUpgrade !== undefined && !takeSlot(atUpgrade, ws, conn)) {
      conn.markClosed();
      ws.close(overCap.code, overCap.reason);
      return;
    }
    const helloTimer = setTimeout(() => {
      if (conn.device === undefined && ws.readyState === ws.OPEN) {
        stats.closedUnauthorised++;
        conn.markClosed();
        ws.close(CLOSE.unauthorised, 'no hello in time');
      }
    }, LIMITS.helloTimeoutMs);
    let queue: Promise<void> = Promise.resolve();
    let inFlight = 0;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      // Rate is judged on arrival; work is done in order, one message at a time, because an ack must follow the write it confirms.
      inFlight++;
      // A client that sends faster than its messages are stored is read no faster than that.
      if (inFlight > 4 && !ws.isPaused) ws.pause();
      queue = queue
        .then(async () => {
          const out = await conn.handle(data, isBinary);
          if (out.reply && ws.readyState === ws.OPEN) ws.send(JSON.stringify(out.reply));
          if (conn.device !== undefined) devices.add(conn.device, ws, conn);
          if (out.close) ctx.metrics.syncSocketClosed(out.close.code, out.close.reason, { device: conn.device, address: peer });
          if (out.close) ws.close(out.close.code, out.close.reason);
        })
        .catch((err: unknown) => {
          log.error({ reqId: request.id, peer, err: String(err) }, 'sync socket failed');
          ws.terminate();
        })
        .finally(() => {
          inFlight--;
          // Read on once the queue has drained; and at once when the socket is closing, since its closing
          // handshake needs the peer's close frame read (a paused one would linger until ws gives up, 30 s on).
          if (ws.isPaused && (inFlight <= 1 || ws.readyState === ws.CLOSING)) ws.resume();
        });
    });
    ws.on('close', () => {
      clearTimeout(helloTimer);
      conn.markClosed();
      // Counted from the hello (or the upgrade) on, even if its session was then refused.
      const device = registered.get(ws) ?? conn.device;
      if (device !== undefined) devices.remove(device, ws);
    });
  });
}
