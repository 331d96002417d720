// /sync: a device's socket. Hello within the time limit, then events, handled one message at a
// time in order (an ack must follow the write it confirms), with back-pressure on the reader.
import type { FastifyInstance } from 'fastify';
import { CLOSE, LIMITS } from '../../src/sync/protocol';
import { SyncConnection } from '../sync-connection';
import { normaliseIp, type ServerContext } from './context';
import { checkOrigin } from './websockets';

export default async function syncSocket(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { opts, stats, log, devices } = ctx;
  app.get('/sync', { websocket: true, onRequest: checkOrigin(ctx) }, (ws, request) => {
    const peer = normaliseIp(request.ip);
    stats.connections++;
    ctx.sockets.watch(ws, 'sync', peer);
    const conn = new SyncConnection({ store: opts.store, rate: opts.rate, stats, log, peer });
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
      if (conn.device !== undefined) devices.remove(conn.device, ws);
    });
  });
}
