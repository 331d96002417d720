// What an operator alerts on: every limit hit, every refused credential and every quota reached,
// counted per device (or per client address where no device is known), and the server's own
// counters, in Prometheus text format (prom-client) at the admin-only GET /metrics. One
// registry per app, never prom-client's global one, so that several apps in one process (tests)
// keep their own counts.
import { Counter, Gauge, Registry } from 'prom-client';
import { CLOSE, retryAfterOf } from '../src/sync/protocol';
import type { AppStats } from './app-types';
import { QUOTA_MESSAGES, type QuotaName } from './write-budget';

/** Which quota a 4429's reason names. */
const quotaOf = (reason: string): QuotaName | 'other' => {
  const told = retryAfterOf(reason)?.message;
  return (Object.keys(QUOTA_MESSAGES) as QuotaName[]).find((q) => QUOTA_MESSAGES[q] === told) ?? 'other';
};

/** Who hit it: the device when one is known, else the client's address (after trusted-proxy resolution). */
export interface Who {
  readonly device?: string;
  readonly address?: string;
}

/** Credentials the server compares: the operator's token, the enrolment code, a device's token. */
export type CredentialKind = 'admin' | 'enrolment' | 'device';

/** AppStats fields that go up and down (a level now); every other field only counts up. */
const GAUGE_STATS: ReadonlySet<string> = new Set(['openConnections', 'liveClients']);

/** Past this many distinct devices and addresses, newcomers are counted together as "other", so the series stay bounded. */
const MAX_WHO = 2000;

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export class Metrics {
  readonly registry = new Registry();
  private readonly refused: Counter<'credential' | 'device' | 'address'>;
  private readonly limits: Counter<'limit' | 'device' | 'address'>;
  private readonly quotas: Counter<'quota' | 'device' | 'address'>;
  private readonly syncClosed: Counter<'code' | 'device' | 'address'>;
  private readonly seen = new Set<string>();

  constructor(stats: AppStats) {
    const registers = [this.registry];
    const labelled = ['device', 'address'] as const;
    this.refused = new Counter({ name: 'framewise_credentials_refused_total', help: 'Credentials compared and found wrong (admin token, enrolment code, device token), per device or client address', labelNames: ['credential', ...labelled], registers });
    this.limits = new Counter({ name: 'framewise_limits_hit_total', help: 'Requests, sockets or messages refused because a limit was hit, per limit and device or client address', labelNames: ['limit', ...labelled], registers });
    this.quotas = new Counter({ name: 'framewise_quotas_reached_total', help: 'Times a device (or client address) reached a quota, per quota', labelNames: ['quota', ...labelled], registers });
    this.syncClosed = new Counter({ name: 'framewise_sync_closed_total', help: 'Sync sockets the server closed, per close code (1008 over a limit, 1009 too big, 4401 refused credential, …) and device or client address', labelNames: ['code', ...labelled], registers });
    // The server's own counters (AppStats), read when scraped.
    for (const [key, value] of Object.entries(stats)) {
      if (typeof value !== 'number') continue;
      const read = () => (stats as unknown as Record<string, number>)[key] ?? 0;
      const help = `AppStats.${key} (server/app-types.ts)`;
      if (GAUGE_STATS.has(key)) {
        new Gauge({ name: `framewise_${snake(key)}`, help, registers, collect() { this.set(read()); } });
      } else {
        new Counter({ name: `framewise_${snake(key)}_total`, help, registers, collect() { this.reset(); this.inc(read()); } });
      }
    }
  }

  credentialRefused(credential: CredentialKind, who: Who): void {
    this.refused.inc({ credential, ...this.labels(who) });
  }

  limitHit(limit: string, who: Who): void {
    this.limits.inc({ limit, ...this.labels(who) });
  }

  quotaReached(quota: string, who: Who): void {
    this.quotas.inc({ quota, ...this.labels(who) });
  }

  /** The server closed a sync socket (the device is known once a hello proved it). */
  syncSocketClosed(code: number, reason: string, who: Who): void {
    this.syncClosed.inc({ code: String(code), ...this.labels(who) });
    if (code === CLOSE.unauthorised && /token/.test(reason)) this.credentialRefused('device', who);
    else if (code === CLOSE.policy) this.limitHit(/rate/.test(reason) ? 'sync-rate' : 'sync-policy', who);
    else if (code === CLOSE.tooBig) this.limitHit('message-size', who);
    // eventTimeProblem's reason (server/sync-connection.ts): an event's ts outside FRAMEWISE_MAX_CLOCK_SKEW_MS.
    else if (code === CLOSE.invalid && / the server clock \(limit ±/.test(reason)) this.limitHit('event-time', who);
    else if (code === CLOSE.quota) this.quotaReached(quotaOf(reason), who);
    else if (code === CLOSE.storageLow) this.limitHit('disk-free', who);
    else if (code === CLOSE.sessionFull) this.limitHit('session-events', who);
  }

  /** The Prometheus text exposition, and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  private labels(who: Who): { device: string; address: string } {
    const device = who.device ?? '';
    const address = device ? '' : (who.address ?? 'unknown');
    const key = `${device}\u0000${address}`;
    if (this.seen.has(key)) return { device, address };
    if (this.seen.size >= MAX_WHO) return { device: '', address: 'other' };
    this.seen.add(key);
    return { device, address };
  }
}
