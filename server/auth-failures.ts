// Failed authentication is counted and slowed, per client and for the whole server, before any
// credential is compared: after `perClient` wrong admin tokens (or enrolment codes) from one
// client, or `global` from everyone together, within a window, the next attempt is answered
// 429 with Retry-After without being compared. Only failures count (a request without a
// credential, or with the right one, does not). The check sits beside each comparison (the
// admin hook, the live feed's hello, enrolment), so no route order can skip it. Counting is
// @fastify/rate-limit's (createRateLimit: read without counting, then count a failure).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthFailureLimits } from './app-types';
import type { Metrics } from './metrics';

export type GuardedCredential = 'admin' | 'enrolment';


export const DEFAULT_AUTH_FAILURE_LIMITS: AuthFailureLimits = { perClient: 10, global: 100, windowMs: 10 * 60_000 };

/** Why an attempt was not compared: which limit, and for how long. */
export interface Throttled {
  readonly scope: 'client' | 'server';
  readonly retryAfterS: number;
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

/** How long an address that proved the admin token is spared the server-wide limit (its own still applies). */
const KNOWN_ADMIN_MS = 24 * 3600_000;
const MAX_KNOWN_ADMINS = 1000;

export class AuthFailures {
  private limiters: Record<GuardedCredential, { client: Limiter; server: Limiter }> | undefined;
  /** Addresses that showed the right admin token lately: someone guessing from elsewhere cannot lock the operator out. */
  private readonly knownAdmins = new Map<string, number>();

  constructor(
    readonly limits: AuthFailureLimits,
    private readonly metrics: Metrics,
  ) {}

  /** Before comparing: undefined to go on, or why not (counted as a limit hit). */
  async throttled(credential: GuardedCredential, request: FastifyRequest): Promise<Throttled | undefined> {
    const limiter = this.limiter(credential, request);
    const scopes: ['client' | 'server', Limiter][] = [['client', limiter.client]];
    if (!(credential === 'admin' && this.isKnownAdmin(request.ip))) scopes.push(['server', limiter.server]);
    let worst: Throttled | undefined;
    for (const [scope, limit] of scopes) {
      const state = await limit(request, { increment: false });
      if (state.isAllowed || state.remaining > 0) continue;
      const retryAfterS = Math.max(1, state.ttlInSeconds);
      if (!worst || retryAfterS > worst.retryAfterS) worst = { scope, retryAfterS };
    }
    if (worst) this.metrics.limitHit(`${credential}-failures-per-${worst.scope}`, { address: request.ip });
    return worst;
  }

  /** A credential was compared and was wrong. */
  async failed(credential: GuardedCredential, request: FastifyRequest): Promise<void> {
    const limiter = this.limiter(credential, request);
    await limiter.client(request);
    await limiter.server(request);
    this.metrics.credentialRefused(credential, { address: request.ip });
  }

  /** The admin token was right: this address is spared the server-wide limit for a day. */
  adminSucceeded(request: FastifyRequest): void {
    this.knownAdmins.delete(request.ip);
    this.knownAdmins.set(request.ip, Date.now() + KNOWN_ADMIN_MS);
    if (this.knownAdmins.size > MAX_KNOWN_ADMINS) this.knownAdmins.delete(this.knownAdmins.keys().next().value!);
  }

  private isKnownAdmin(ip: string): boolean {
    const until = this.knownAdmins.get(ip);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.knownAdmins.delete(ip);
    return false;
  }

  /** The counters, made on first use from the server's @fastify/rate-limit (registered by the request guard). */
  private limiter(credential: GuardedCredential, request: FastifyRequest): { client: Limiter; server: Limiter } {
    if (!this.limiters) {
      const app = request.server;
      if (typeof app.createRateLimit !== 'function') throw new Error('@fastify/rate-limit must be registered before a credential is checked');
      const { perClient, global, windowMs } = this.limits;
      const make = (max: number, everyone: boolean) => app.createRateLimit({ max, timeWindow: windowMs, ...(everyone ? { keyGenerator: () => 'everyone' } : {}) });
      this.limiters = {
        admin: { client: make(perClient, false), server: make(global, true) },
        enrolment: { client: make(perClient, false), server: make(global, true) },
      };
    }
    return this.limiters[credential];
  }
}

/** The answer to a throttled attempt over HTTP: 429, Retry-After, and what to do. */
export function throttledMessage(what: string, t: Throttled): string {
  return t.scope === 'client'
    ? `too many wrong ${what}s from this address; retry in ${t.retryAfterS} s`
    : `too many wrong ${what}s sent to this server lately; retry in ${t.retryAfterS} s`;
}
