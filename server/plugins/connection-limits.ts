// Connection caps at accept time, before a byte is parsed, and an answer (never a crash) for a
// client that breaks HTTP or runs past its deadlines.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Socket } from 'node:net';
import { normaliseIp, type ServerContext } from './context';

async function connectionLimits(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { stats } = ctx;
  const perIp = new Map<string, number>();
  const maxTotal = ctx.opts.maxConnections ?? 1000;
  const maxPerIp = ctx.opts.maxConnectionsPerIp ?? 100;
  app.server.prependListener('connection', (socket: Socket) => {
    const ip = normaliseIp(socket.remoteAddress);
    const mine = perIp.get(ip) ?? 0;
    if (stats.openConnections >= maxTotal || mine >= maxPerIp) {
      stats.refusedConnections++;
      socket.destroy();
      return;
    }
    stats.openConnections++;
    perIp.set(ip, mine + 1);
    socket.once('close', () => {
      stats.openConnections--;
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left > 0) perIp.set(ip, left);
      else perIp.delete(ip);
    });
  });
  app.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Node's default answers 400 and closes; a timed-out request gets 408. Either way, never a crash.
    if (socket.writable && !socket.destroyed) {
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
  });
}

export default fp(connectionLimits, { name: 'framewise-connection-limits' });
