// Where to sync to: a `?sync=` URL parameter, else the backend URL in Settings, else the
// backend that served the app (it says so at /framewise-config.json), else nowhere.
import * as v from 'valibot';
import { ClientConfigSchema, type ClientConfig } from './protocol';

export interface SyncTarget {
  /** ws:// or wss:// sync endpoint; also the key the device credential is kept under. */
  readonly syncUrl: string;
  /** http(s):// enrolment endpoint of the same backend. */
  readonly enrollUrl: string;
  /** `unknown`: a backend named by URL that would not show its configuration; a code is sent if one is set. */
  readonly enrollment: ClientConfig['enrollment'] | 'unknown';
}

export async function discoverSyncTarget(backendUrl = '', loc: Location = location): Promise<SyncTarget | undefined> {
  const explicit = new URLSearchParams(loc.search).get('sync') || backendUrl;
  if (explicit) return targetFor(new URL(explicit, loc.href));
  const cfg = await readConfig(new URL('framewise-config.json', new URL(import.meta.env.BASE_URL, loc.href)));
  if (!cfg) return undefined; // offline, or served without a backend: sync is off, the outbox keeps everything
  const ws = new URL(cfg.syncPath, loc.href);
  ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
  return { syncUrl: ws.href, enrollUrl: new URL(cfg.enrollPath, loc.href).href, enrollment: cfg.enrollment };
}

/** A backend named by its sync URL: its configuration, if it shows it across origins, else the default enrolment path. */
async function targetFor(ws: URL): Promise<SyncTarget> {
  const http = new URL('/', ws);
  http.protocol = ws.protocol === 'wss:' ? 'https:' : 'http:';
  const cfg = await readConfig(new URL('framewise-config.json', http), 3000);
  return { syncUrl: ws.href, enrollUrl: new URL(cfg?.enrollPath ?? '/api/devices', http).href, enrollment: cfg?.enrollment ?? 'unknown' };
}

async function readConfig(url: URL, timeoutMs = 10_000): Promise<ClientConfig | undefined> {
  try {
    const res = await fetch(url, { cache: 'no-store', credentials: 'omit', signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok || !res.headers.get('content-type')?.includes('json')) return undefined;
    const parsed = v.safeParse(ClientConfigSchema, await res.json());
    return parsed.success ? parsed.output : undefined;
  } catch {
    return undefined;
  }
}
