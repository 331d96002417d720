/** Where to sync to: the serving backend (it says so at /framewise-config.json), else URL parameters, else nowhere. */
export interface SyncTarget {
  readonly url: string;
  readonly token: string;
}

export async function discoverSyncTarget(loc: Location = location): Promise<SyncTarget | undefined> {
  const params = new URLSearchParams(loc.search);
  const url = params.get('sync');
  const token = params.get('token');
  if (url && token) return { url: new URL(url, loc.href).href, token };
  try {
    const res = await fetch(new URL('framewise-config.json', new URL(import.meta.env.BASE_URL, loc.href)), { cache: 'no-store' });
    if (!res.ok || !res.headers.get('content-type')?.includes('json')) return undefined;
    const cfg = (await res.json()) as { syncPath?: unknown; token?: unknown };
    if (typeof cfg.syncPath !== 'string' || typeof cfg.token !== 'string') return undefined;
    const ws = new URL(cfg.syncPath, loc.href);
    ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
    return { url: ws.href, token: cfg.token };
  } catch {
    return undefined; // offline, or served without a backend: sync is off, the outbox keeps everything
  }
}
