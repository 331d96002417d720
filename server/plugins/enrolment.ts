// Public: the client's configuration, and enrolment of a device (open, or with the operator's
// code). A page served elsewhere may enrol from the allowed origins; nothing else is shared
// cross-origin, so CORS is answered here and refused everywhere else.
import fastifyCors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type * as v from 'valibot';
import { EnrollRequestSchema, type ClientConfig, type EnrollResponse } from '../../src/sync/protocol';
import { throttledMessage } from '../auth-failures';
import { newDeviceCredential, sameSecret } from '../auth';
import { normaliseIp, originAllowed, type ServerContext } from './context';

async function enrolment(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { opts, stats, log } = ctx;
  await app.register(fastifyCors, {
    delegator: (req, cb) => {
      const path = (req.url ?? '').split('?')[0];
      const origin = req.headers.origin;
      if (path === '/api/devices' && origin !== undefined && originAllowed(ctx, origin)) cb(null, { origin, methods: ['POST'], allowedHeaders: ['content-type'], maxAge: 600 });
      else cb(null, { origin: false });
    },
  });

  const enrollment: ClientConfig['enrollment'] = opts.enrollCode ? 'code' : 'open';
  app.get('/framewise-config.json', async (_req, reply) => {
    const config: ClientConfig = { syncPath: '/sync', enrollPath: '/api/devices', enrollment };
    return reply.header('cache-control', 'no-store').send(config);
  });

  const onExceeded = (request: FastifyRequest) => ctx.metrics.limitHit('enrol-rate', { address: request.ip });
  app.post('/api/devices', { schema: { body: EnrollRequestSchema }, config: { rateLimit: { max: opts.enrollPerMinute ?? 20, timeWindow: 60_000, onExceeded } } }, async (request, reply) => {
    const body = request.body as v.InferOutput<typeof EnrollRequestSchema>;
    if (opts.enrollCode !== undefined) {
      // Too many wrong codes lately, from this client or from everyone: not even compared.
      const throttled = body.code === undefined ? undefined : await ctx.authFailures.throttled('enrolment', request);
      if (throttled) return reply.code(429).header('retry-after', String(throttled.retryAfterS)).send({ error: throttledMessage('enrolment code', throttled) });
      // Compared even when absent, so a missing code and a wrong one cost the same.
      const ok = sameSecret(body.code ?? '', opts.enrollCode);
      if (!ok && body.code !== undefined) await ctx.authFailures.failed('enrolment', request);
      if (!ok || body.code === undefined) return reply.code(403).send({ error: body.code === undefined ? 'this server needs an enrolment code' : 'wrong enrolment code' });
    }
    const cred = newDeviceCredential();
    await opts.store.createDevice({ deviceId: cred.deviceId, name: body.name, secretHash: cred.secretHash, createdAt: Date.now(), revokedAt: null });
    stats.enrolled++;
    log.info({ reqId: request.id, deviceId: cred.deviceId, name: body.name, ip: normaliseIp(request.ip) }, 'device enrolled');
    const res: EnrollResponse = { deviceId: cred.deviceId, token: cred.token };
    return reply.code(201).header('cache-control', 'no-store').send(res);
  });
}

// Not encapsulated: the CORS answer must cover the preflight of /api/devices wherever it is routed.
export default fp(enrolment, { name: 'framewise-enrolment', dependencies: ['framewise-request-guard'] });
