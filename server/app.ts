import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLOSE, LIMITS, parseClientMessage, type ServerMessage } from '../src/sync/protocol';
import type { EventStore } from './store';

export interface AppOptions {
  readonly store: EventStore;
  readonly token: string;
  /** Origins allowed to open the sync socket; requests without an Origin (non-browser clients) still need the token. */
  readonly allowedOrigins: readonly string[];
  /** The built PWA, served with cross-origin isolation headers. */
  readonly staticDir?: string;
  readonly pingIntervalMs?: number;
  /** Token bucket per connection: sustained messages per second, and burst. */
  readonly rate?: { readonly perSecond: number; readonly burst: number };
  readonly log?: (line: string) => void;
}

export interface RunningApp {
  readonly server: Server;
  /** Counters for tests and the logs. */
  readonly stats: { connections: number; rejectedUpgrades: number; closedInvalid: number; closedTooBig: number; closedRate: number; stored: number };
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.wasm': 'application/wasm', '.onnx': 'application/octet-stream', '.png': 'image/png', '.svg': 'image/svg+xml', '.webmanifest': 'application/manifest+json', '.ico': 'image/x-icon',
};

const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export function createApp(opts: AppOptions): RunningApp {
  const log = opts.log ?? ((line: string) => console.error(line));
  const stats = { connections: 0, rejectedUpgrades: 0, closedInvalid: 0, closedTooBig: 0, closedRate: 0, stored: 0 };
  const rate = opts.rate ?? { perSecond: 100, burst: 200 };
  const sync = new WebSocketServer({ noServer: true, maxPayload: LIMITS.maxMessageBytes });
  const live = new WebSocketServer({ noServer: true, maxPayload: 1024 });

  const authorised = (req: IncomingMessage, url: URL) => {
    const header = req.headers.authorization;
    const given = url.searchParams.get('token') ?? (header?.startsWith('Bearer ') ? header.slice(7) : undefined);
    return given === opts.token;
  };

  const server = createServer((req, res) => {
    void handleHttp(req, res).catch((err: unknown) => {
      log(`http: ${req.method} ${req.url}: ${String(err)}`);
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    });
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname === '/framewise-config.json') {
      // The app this server serves syncs back to it; the page's origin is what the socket checks.
      return send(res, 200, { syncPath: '/sync', token: opts.token });
    }
    if (url.pathname.startsWith('/api/')) {
      if (!authorised(req, url)) return send(res, 401, { error: 'missing or wrong token' });
      if (url.pathname === '/api/sessions') return send(res, 200, await opts.store.sessions());
      const m = /^\/api\/sessions\/([A-Za-z0-9_-]{8,64})\/events$/.exec(url.pathname);
      if (m) {
        const after = Number(url.searchParams.get('after') ?? 0);
        const limit = Math.min(5000, Number(url.searchParams.get('limit') ?? 1000));
        if (!Number.isInteger(after) || after < 0 || !Number.isInteger(limit) || limit < 1) return send(res, 400, { error: 'after and limit must be whole numbers' });
        return send(res, 200, await opts.store.events(m[1]!, after, limit));
      }
      return send(res, 404, { error: 'no such API' });
    }
    if (!opts.staticDir) return send(res, 404, { error: 'not found' });
    serveStatic(opts.staticDir, url.pathname, res);
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const refuse = (status: number, why: string) => {
      stats.rejectedUpgrades++;
      log(`sync: refused ${req.socket.remoteAddress} (${why})`);
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/sync' && url.pathname !== '/live') return refuse(404, `no socket at ${url.pathname}`);
    if (!authorised(req, url)) return refuse(401, 'wrong token');
    const origin = req.headers.origin;
    if (origin !== undefined && !opts.allowedOrigins.includes('*') && !opts.allowedOrigins.includes(origin)) return refuse(403, `origin ${origin} not allowed`);
    const wss = url.pathname === '/sync' ? sync : live;
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  // ---- the sync endpoint ----
  const alive = new WeakMap<WebSocket, boolean>();
  sync.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    stats.connections++;
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    let tokens = rate.burst;
    let refilled = Date.now();
    let queue = Promise.resolve();
    const who = req.socket.remoteAddress;
    const reply = (msg: ServerMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    };
    ws.on('error', (err) => {
      // ws closes with 1009 itself for an oversized frame; count it.
      if ((err as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') stats.closedTooBig++;
      log(`sync: ${who}: ${err.message}`);
    });
    ws.on('message', (data, isBinary) => {
      const now = Date.now();
      tokens = Math.min(rate.burst, tokens + ((now - refilled) / 1000) * rate.perSecond);
      refilled = now;
      if (--tokens < 0) {
        stats.closedRate++;
        log(`sync: ${who}: rate limit exceeded`);
        return ws.close(CLOSE.policy, 'rate limit exceeded');
      }
      const parsed = isBinary ? ({ ok: false, reason: 'binary message' } as const) : parseClientMessage(data.toString());
      if (!parsed.ok) {
        stats.closedInvalid++;
        log(`sync: ${who}: invalid message (${parsed.reason})`);
        return ws.close(CLOSE.invalid, parsed.reason.slice(0, 120));
      }
      const msg = parsed.msg;
      // In order, one at a time per connection: acks must follow the writes they confirm.
      queue = queue.then(async () => {
        try {
          if (msg.type === 'hello') return reply({ type: 'welcome', sessionId: msg.sessionId, ackedSeq: await opts.store.lastSeq(msg.sessionId) });
          const before = await opts.store.lastSeq(msg.sessionId);
          const seq = await opts.store.append(msg.sessionId, msg.events);
          stats.stored += seq - before;
          reply({ type: 'ack', sessionId: msg.sessionId, seq });
        } catch (err) {
          log(`sync: ${who}: storage failed: ${String(err)}`);
          ws.close(1011, 'storage failed; retry');
        }
      });
    });
  });

  const pinger = setInterval(() => {
    for (const ws of sync.clients) {
      if (!alive.get(ws)) {
        log('sync: dead peer (no pong), terminated');
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, opts.pingIntervalMs ?? 15_000);

  // ---- the dashboard's live feed ----
  let pending: ReturnType<typeof setTimeout> | undefined;
  const pushSessions = async (targets: Iterable<WebSocket>) => {
    const payload = JSON.stringify({ type: 'sessions', sessions: await opts.store.sessions() });
    for (const ws of targets) if (ws.readyState === ws.OPEN) ws.send(payload);
  };
  live.on('connection', (ws: WebSocket) => void pushSessions([ws]).catch(() => ws.close(1011)));
  opts.store.onAppend(() => {
    // Coalesced: a burst of writes is one update to the dashboards.
    pending ??= setTimeout(() => {
      pending = undefined;
      void pushSessions(live.clients).catch((err: unknown) => log(`live: ${String(err)}`));
    }, 150);
  });

  return {
    server,
    stats,
    async close() {
      clearInterval(pinger);
      clearTimeout(pending);
      for (const ws of [...sync.clients, ...live.clients]) ws.close(CLOSE.shutdown, 'server shutting down');
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections?.();
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...ISOLATION });
  res.end(JSON.stringify(body));
}

function serveStatic(root: string, pathname: string, res: ServerResponse): void {
  const base = resolve(root);
  let file = normalize(join(base, decodeURIComponent(pathname)));
  if (!file.startsWith(base)) return send(res, 403, { error: 'forbidden' });
  if (pathname === '/dashboard' || pathname === '/dashboard/') file = join(base, 'dashboard.html');
  if (!existsSync(file) || statSync(file).isDirectory()) file = join(base, 'index.html');
  if (!existsSync(file)) return send(res, 404, { error: `not built: run npm run build (no ${file})` });
  const immutable = file.includes(`${join(base, 'assets')}`);
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache', ...ISOLATION });
  createReadStream(file).pipe(res);
}
