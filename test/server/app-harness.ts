// The whole app, as main.ts builds it, over an in-memory SQLite store, for tests that play a
// client from outside: an admin (or a guesser) over HTTP from a chosen address, an enrolling
// device. Every app started is closed, with its store, after each test.
import { afterEach } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import type { AuthFailureLimits } from '../../server/app-types';
import { createApp, type AppOptions, type RunningApp } from '../../server/app';
import { SqliteStore } from '../../server/sqlite-store';

/** The enrolment code every harness app takes (strong enough for the start's check). */
export const ENROL_CODE = 'kettle-orchard-7-lantern';
/** Low limits on failed authentication, so that a test reaches them in a few guesses. */
export const LOW_AUTH_LIMITS: AuthFailureLimits = { perClient: 3, global: 8, windowMs: 60_000 };

export interface AppHarness {
  /** Starts the app with the harness's admin token and enrolment code, and `opts` over them. */
  start(opts?: Partial<AppOptions>): Promise<RunningApp>;
  /** An admin request from `address` with `token` (undefined: no Authorization header). */
  asAdmin(app: RunningApp, address: string, token: string | undefined, url?: string, method?: 'GET' | 'DELETE'): Promise<LightMyRequestResponse>;
  /** POST /api/devices from `address` with `code` (undefined: none). */
  enrolFrom(app: RunningApp, address: string, code: string | undefined, name?: string): Promise<LightMyRequestResponse>;
}

/** Call at a test file's top level: registers the afterEach that closes what the file started. */
export function appHarness(adminToken: string): AppHarness {
  let running: { app: RunningApp; store: SqliteStore }[] = [];
  afterEach(async () => {
    const closing = running;
    running = [];
    for (const { app, store } of closing) {
      await app.close();
      await store.close();
    }
  });
  return {
    async start(opts = {}) {
      const store = await SqliteStore.open(':memory:');
      const app = await createApp({ store, adminToken, enrollCode: ENROL_CODE, hosts: ['*'], origins: ['*'], log: () => {}, authFailureLimits: LOW_AUTH_LIMITS, ...opts });
      running.push({ app, store });
      return app;
    },
    asAdmin: (app, address, token, url = '/api/sessions', method = 'GET') =>
      app.fastify.inject({ method, url, remoteAddress: address, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }),
    enrolFrom: (app, address, code, name = 'bench tablet') =>
      app.fastify.inject({ method: 'POST', url: '/api/devices', remoteAddress: address, headers: { 'content-type': 'application/json' }, payload: code === undefined ? { name } : { name, code } }),
  };
}

/** A guess as an attacker would make it: an admin token of the right shape, random-looking. */
export const guessToken = (n: number) => `fwa.${n.toString(36).padStart(43, 'Q')}`;
