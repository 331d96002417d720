// Housekeeping on a timer: sessions that received nothing for FRAMEWISE_RETENTION_DAYS are
// deleted with their events (off unless set), usage counts older than a week are dropped, and
// the write budgets forget devices that are quiet. Every pass is counted (/api/stats).
import type { FastifyInstance } from 'fastify';
import { DAY_MS, dayOf } from '../store';
import type { ServerContext } from './context';

/** Sessions deleted per store call: one pass deletes them all, a bounded number at a time. */
const BATCH = 200;
/** Days of usage counts kept (only today's are consulted). */
const USAGE_DAYS_KEPT = 7;

export default async function retention(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { opts, stats, log } = ctx;
  const { store } = opts;
  const now = opts.now ?? Date.now;
  const days = opts.retentionDays;
  let running: Promise<void> | undefined;

  const pass = async () => {
    ctx.budgets.prune();
    await store.pruneUsage(dayOf(now()) - USAGE_DAYS_KEPT);
    if (days !== undefined && days > 0) {
      const before = now() - days * DAY_MS;
      let sessions = 0;
      let events = 0;
      for (;;) {
        const deleted = await store.deleteSessionsBefore(before, BATCH);
        sessions += deleted.sessions;
        events += deleted.events;
        stats.retentionSessions += deleted.sessions;
        stats.retentionEvents += deleted.events;
        if (deleted.sessions < BATCH) break;
      }
      if (sessions) log.info({ sessions, events, before: new Date(before).toISOString(), days }, 'retention: old sessions deleted');
    }
    stats.retentionRuns++;
  };
  const run = () => {
    running ??= pass()
      .catch((err: unknown) => log.error({ err: err instanceof Error ? err.message : String(err) }, 'retention pass failed; retried at the next'))
      .finally(() => (running = undefined));
  };
  const timer = setInterval(run, opts.retentionEveryMs ?? 3_600_000);
  timer.unref();
  // The first pass soon after the start, not an hour later.
  const first = setTimeout(run, Math.min(opts.retentionEveryMs ?? 10_000, 10_000));
  first.unref();
  ctx.onShutdown.push(() => {
    clearInterval(timer);
    clearTimeout(first);
  });
  app.addHook('onClose', async () => {
    await running;
  });
}
