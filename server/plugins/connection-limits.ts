// Connection caps: at accept every connection takes a slot in the budget (general, or on
// probation when general or its address is full), and the first thing each request meets is its
// admission: the admin token moves it to the admin's share, a stranger on probation is answered
// 503 and closed, and behind a trusted proxy it counts against the forwarded client (see
// server/connection-budget.ts). Also an answer (never a crash) for a client that breaks HTTP or
// runs past its deadlines.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Socket } from 'node:net';
import { offeredDeviceToken } from '../../src/sync/protocol';
import { throttledMessage, type Throttled } from '../auth-failures';
import { bearer, sameSecret } from '../auth';
import { checkAdminToken, isUpgrade, normaliseIp, type ServerContext } from './context';

/**
 * Whether a request shows the admin token: it chooses the connection's share (the admin routes
 * check and count the credential themselves). On probation the answer itself would tell a right
 * token from a wrong one (served, or 503), so there the token is checked as the admin routes
 * check it: counted when wrong, and not compared at all while its client or the server is over
 * the limit on failures (then the answer is 429).
 */
async function showsAdmin(ctx: ServerContext, request: FastifyRequest): Promise<boolean | Throttled> {
  const token = bearer(request.headers.authorization);
  if (token === undefined) return false;
  if (!ctx.connections.onProbation(request.raw.socket)) return sameSecret(token, ctx.opts.adminToken);
  const outcome = await checkAdminToken(ctx, token, request);
  return outcome === 'ok' ? true : outcome === 'wrong' ? false : outcome;
}

async function connectionLimits(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const budget = ctx.connections;
  app.server.prependListener('connection', (socket: Socket) => budget.accept(socket, normaliseIp(socket.remoteAddress)));
  app.addHook('onRequest', async (request, reply) => {
    const admin = await showsAdmin(ctx, request);
    if (typeof admin === 'object') {
      return reply.code(429).header('connection', 'close').header('retry-after', String(admin.retryAfterS)).header('cache-control', 'no-store').send({ error: throttledMessage('admin token', admin) });
    }
    // Decided by the /sync route once the token is checked (after the Host, rate and Origin checks).
    const offersDevice = isUpgrade(request) && offeredDeviceToken(request.headers['sec-websocket-protocol']) !== undefined;
    const refused = budget.admitRequest(request.raw.socket, normaliseIp(request.ip), { admin, offersDevice });
    if (refused) {
      ctx.log.warn({ reqId: request.id, ip: normaliseIp(request.ip), url: request.url, reason: refused.error }, 'connection refused');
      return reply.code(refused.status).header('connection', 'close').header('retry-after', '5').header('cache-control', 'no-store').send({ error: refused.error });
    }
  });
  // An upgrade answered with a status (refused here, or by a later check) is not an HTTP
  // connection Node would close after the answer: close it, or it holds its slot until the peer goes.
  app.addHook('onResponse', async (request) => {
    if (isUpgrade(request)) request.raw.socket.destroy();
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
