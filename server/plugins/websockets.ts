// The WebSocket server under both socket routes: message size cap, and a ping sweep that ends
// peers which stopped answering. Global: the routes that upgrade are registered after it.
import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LIMITS, SYNC_SUBPROTOCOL } from '../../src/sync/protocol';
import { normaliseIp, originAllowed, type ServerContext } from './context';

async function websockets(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  await app.register(fastifyWebsocket, {
    // A device's token offered as a second subprotocol is never echoed: the answer names only the protocol.
    options: { maxPayload: LIMITS.maxMessageBytes, handleProtocols: (offered) => (offered.has(SYNC_SUBPROTOCOL) ? SYNC_SUBPROTOCOL : false) },
    errorHandler: (err, socket) => {
      ctx.log.warn({ err: err.message }, 'websocket error');
      socket.terminate();
    },
  });
  const pinger = setInterval(() => ctx.sockets.sweep(app.websocketServer.clients), ctx.opts.pingIntervalMs ?? 15_000);
  ctx.onShutdown.push(() => clearInterval(pinger));
}

/** A socket route's hook: a page from an origin not allowed gets 403 before the upgrade. */
export const checkOrigin = (ctx: ServerContext) => async (request: FastifyRequest, reply: FastifyReply) => {
  const origin = request.headers.origin;
  if (!originAllowed(ctx, origin)) {
    ctx.stats.rejectedUpgrades++;
    ctx.log.warn({ reqId: request.id, ip: normaliseIp(request.ip), origin }, 'websocket refused: origin not allowed');
    return reply.code(403).send({ error: `origin ${origin} is not allowed (FRAMEWISE_ORIGINS)` });
  }
};

export default fp(websockets, { name: 'framewise-websockets', dependencies: ['framewise-request-guard'] });
