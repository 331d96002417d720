// The trainer's routes (admin only: registered inside the admin scope of app.ts): filtered
// session lists, a session's timeline and its lists a page at a time, per-task aggregates, and
// their CSV/JSON exports, streamed. Item pages and exports are heavy reads: a few at a time
// (heavy-reads.ts), one more is answered 503 with Retry-After.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import * as v from 'valibot';
import { SessionExportQuerySchema, SessionsExportQuerySchema, SessionsQuerySchema, TaskIdSchema, TimelineItemsParamsSchema, TimelineItemsQuerySchema, type ExportFormat, type SessionFilter } from '../src/sync/trainer-api';
import { SessionIdSchema } from '../src/sync/protocol';
import { taskAggregate } from './aggregate';
import { sessionCsvLine, sessionsCsvHeader } from './csv';
import { HEAVY_READS_RETRY_S, heavyReadsRefusal, HeavyReads } from './heavy-reads';
import { breathe, loadTimeline, sessionExport, timelineItemsPage } from './timeline-pages';
import { decodeCursor, type SessionsCursor, type EventStore } from './store';

export { loadTimeline } from './timeline-pages';

/** Every session the filter matches, newest first, as export text: read a page at a time, so a long list is never held whole. */
export async function* sessionsExport(store: EventStore, filter: SessionFilter, format: ExportFormat, pageSize = 200): AsyncGenerator<string> {
  yield format === 'csv' ? sessionsCsvHeader() : '[';
  let cursor: SessionsCursor | undefined;
  let first = true;
  do {
    const page = await store.sessions(pageSize, cursor, filter);
    for (const s of page.sessions) {
      yield format === 'csv' ? sessionCsvLine(s) : `${first ? '' : ','}${JSON.stringify(s)}`;
      first = false;
    }
    cursor = page.next === null ? undefined : decodeCursor(page.next);
    await breathe();
  } while (cursor);
  if (format === 'json') yield ']';
}

const attachment = (reply: FastifyReply, name: string, format: ExportFormat) =>
  reply.header('content-disposition', `attachment; filename="${name}.${format}"`).type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8');

const SessionParams = v.strictObject({ id: SessionIdSchema });

export interface TrainerRouteOptions {
  /** Heavy reads served at once (FRAMEWISE_HEAVY_READS). */
  readonly heavyReads?: HeavyReads;
  /** Told of each heavy read refused (metrics). */
  readonly onHeavyRefused?: (request: FastifyRequest) => void;
}

/** Streams `text`, releasing `release` once it ends, fails or the client goes away. */
function streamed(reply: FastifyReply, text: AsyncGenerator<string>, release: () => void): Readable {
  reply.raw.once('close', release);
  return Readable.from(
    (async function* () {
      try {
        yield* text;
      } finally {
        release();
      }
    })(),
  );
}

export function trainerRoutes(admin: FastifyInstance, store: EventStore, opts: TrainerRouteOptions = {}): void {
  const heavy = opts.heavyReads ?? new HeavyReads();
  /** A heavy read's slot, or the 503 already sent. */
  const slot = (request: FastifyRequest, reply: FastifyReply): (() => void) | undefined => {
    const release = heavy.tryTake();
    if (release) return release;
    opts.onHeavyRefused?.(request);
    void reply.code(503).header('retry-after', String(HEAVY_READS_RETRY_S)).send({ error: heavyReadsRefusal(heavy.max) });
    return undefined;
  };

  admin.get('/api/sessions', { schema: { querystring: SessionsQuerySchema } }, async (request, reply) => {
    const { limit, cursor: text, ...filter } = request.query as v.InferOutput<typeof SessionsQuerySchema>;
    const cursor = text === undefined ? undefined : decodeCursor(text);
    if (text !== undefined && !cursor) return reply.code(400).send({ error: 'bad cursor' });
    return store.sessions(limit, cursor, filter);
  });

  admin.get('/api/sessions/export', { schema: { querystring: SessionsExportQuerySchema } }, async (request, reply) => {
    const { format, ...filter } = request.query as v.InferOutput<typeof SessionsExportQuerySchema>;
    const release = slot(request, reply);
    if (!release) return reply;
    return attachment(reply, 'framewise-sessions', format).send(streamed(reply, sessionsExport(store, filter, format), release));
  });

  admin.get('/api/sessions/:id/timeline', { schema: { params: SessionParams } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    return (await loadTimeline(store, id)) ?? reply.code(404).send({ error: `no session ${id}` });
  });

  admin.get('/api/sessions/:id/timeline/steps/:step/:kind', { schema: { params: TimelineItemsParamsSchema, querystring: TimelineItemsQuerySchema } }, async (request, reply) => {
    const { id, step, kind } = request.params as v.InferOutput<typeof TimelineItemsParamsSchema>;
    const { after, limit } = request.query as v.InferOutput<typeof TimelineItemsQuerySchema>;
    const release = slot(request, reply);
    if (!release) return reply;
    try {
      return (await timelineItemsPage(store, id, step, kind, Number(after ?? 0), limit)) ?? reply.code(404).send({ error: `no session ${id}` });
    } finally {
      release();
    }
  });

  admin.get('/api/sessions/:id/export', { schema: { params: SessionParams, querystring: SessionExportQuerySchema } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const { format } = request.query as v.InferOutput<typeof SessionExportQuerySchema>;
    const release = slot(request, reply);
    if (!release) return reply;
    let text: AsyncGenerator<string> | undefined;
    try {
      text = await sessionExport(store, id, format);
    } finally {
      if (!text) release();
    }
    if (!text) return reply.code(404).send({ error: `no session ${id}` });
    return attachment(reply, `framewise-session-${id}`, format).send(streamed(reply, text, release));
  });

  admin.get('/api/tasks/:taskKey/aggregate', { schema: { params: v.strictObject({ taskKey: TaskIdSchema }) } }, async (request) => {
    const { taskKey } = request.params as { taskKey: string };
    return taskAggregate(taskKey, await store.taskFacts(taskKey));
  });
}
