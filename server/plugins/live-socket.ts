// /live: the dashboard's feed of changed session summaries (admin hello first), fed by the
// store's change events, which also close a revoked device's sockets on every instance.
import type { FastifyInstance } from 'fastify';
import { LiveHub } from '../live';
import { checkAdminToken, normaliseIp, type ServerContext } from './context';
import { checkOrigin } from './websockets';

export default async function liveSocket(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { opts, stats, log } = ctx;
  const live = new LiveHub({ store: opts.store, adminToken: opts.adminToken, stats, log, stallMs: opts.liveStallMs ?? 30_000 });
  app.get('/live', { websocket: true, onRequest: checkOrigin(ctx) }, (ws, request) => {
    ctx.sockets.watch(ws, 'live', normaliseIp(request.ip));
    live.add(ws, (token) => checkAdminToken(ctx, token, request));
  });
  opts.store.onChange((change) => {
    switch (change.type) {
      case 'append':
        return live.changed(change.sessionId);
      case 'revoke':
        return ctx.devices.revoke(change.deviceId);
      case 'resync':
        return live.refresh();
      default:
        return change satisfies never;
    }
  });
  ctx.onShutdown.push(() => live.close());
}
