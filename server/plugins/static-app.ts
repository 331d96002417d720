// The built PWA and the dashboard, and what answers a path nothing else routes: an API path
// answers 401 to a stranger and 404 to the admin, anything else gets the app's shell.
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { existsSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { requireAdmin, type ServerContext } from './context';

async function staticApp(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { staticDir } = ctx.opts;
  const root = staticDir ? resolve(staticDir) : undefined;
  const built = root !== undefined && existsSync(root) && statSync(root).isDirectory();
  if (built) {
    await app.register(fastifyStatic, {
      root,
      wildcard: true,
      index: ['index.html'],
      dotfiles: 'deny',
      cacheControl: false,
      setHeaders: (reply, path) => {
        // Hashed build output never changes; everything else (index.html, sw.js, the manifest) is revalidated.
        reply.header('cache-control', path.startsWith(join(root, 'assets') + sep) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
    for (const path of ['/dashboard', '/dashboard/']) app.get(path, async (_req, reply) => reply.header('cache-control', 'no-cache').sendFile('dashboard.html'));
  }

  const denied = requireAdmin(ctx);
  app.setNotFoundHandler(async (request, reply) => {
    const path = routedPath(request.url);
    if (/^\/(api|sync|live)(\/|$)/i.test(path)) {
      // The admin hook's answer (401, or 429 while too many wrong tokens came), else this path is unknown.
      const refused = await denied(request, reply);
      if (refused) return refused;
      return reply.code(404).send({ error: `no such API: ${request.method} ${path}` });
    }
    // Client-side routes of the single-page app get its shell; so does anything unknown.
    if (built && (request.method === 'GET' || request.method === 'HEAD') && !path.includes('..') && existsSync(join(root, 'index.html'))) {
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    }
    return reply.code(404).send({ error: built ? 'not found' : `not built: run npm run build (no ${root ?? 'static directory'})` });
  });
}

/** The path as the router reads it (percent-decoded: /%61pi/… is /api/… to the routes too); a bad escape stays as sent. */
function routedPath(url: string): string {
  const path = url.split('?')[0] ?? '';
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

// Not encapsulated: the not-found handler is the root's.
export default fp(staticApp, { name: 'framewise-static-app', dependencies: ['framewise-request-guard'] });
