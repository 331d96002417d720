// The trainer's routes (admin only: registered inside the admin scope of app.ts): filtered
// session lists, a session's timeline, per-task aggregates, and their CSV/JSON exports.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import * as v from 'valibot';
import { SessionExportQuerySchema, SessionsExportQuerySchema, SessionsQuerySchema, TaskIdSchema, type ExportFormat, type SessionFilter, type SessionTimeline } from '../src/sync/trainer-api';
import { SessionIdSchema } from '../src/sync/protocol';
import { taskAggregate } from './aggregate';
import { sessionCsvLine, sessionsCsvHeader, timelineCsv } from './csv';
import { TIMELINE_KINDS, timelineSteps } from './session-facts';
import { decodeCursor, rawToFold, type SessionsCursor, type EventStore } from './store';

/** A session's timeline, folded from its events up to the summary it is served with, so the two agree. */
export async function loadTimeline(store: EventStore, sessionId: string): Promise<SessionTimeline | undefined> {
  const [session] = await store.sessionsById([sessionId]);
  if (!session) return undefined;
  const events = await store.sessionEvents(sessionId, TIMELINE_KINDS, session.lastSeq);
  return { session, steps: timelineSteps(events.map(rawToFold), session.lastTs) };
}

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
  } while (cursor);
  if (format === 'json') yield ']';
}

const attachment = (reply: FastifyReply, name: string, format: ExportFormat) =>
  reply.header('content-disposition', `attachment; filename="${name}.${format}"`).type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8');

const SessionParams = v.strictObject({ id: SessionIdSchema });

export function trainerRoutes(admin: FastifyInstance, store: EventStore): void {
  admin.get('/api/sessions', { schema: { querystring: SessionsQuerySchema } }, async (request, reply) => {
    const { limit, cursor: text, ...filter } = request.query as v.InferOutput<typeof SessionsQuerySchema>;
    const cursor = text === undefined ? undefined : decodeCursor(text);
    if (text !== undefined && !cursor) return reply.code(400).send({ error: 'bad cursor' });
    return store.sessions(limit, cursor, filter);
  });

  admin.get('/api/sessions/export', { schema: { querystring: SessionsExportQuerySchema } }, async (request, reply) => {
    const { format, ...filter } = request.query as v.InferOutput<typeof SessionsExportQuerySchema>;
    return attachment(reply, 'framewise-sessions', format).send(Readable.from(sessionsExport(store, filter, format)));
  });

  admin.get('/api/sessions/:id/timeline', { schema: { params: SessionParams } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    return (await loadTimeline(store, id)) ?? reply.code(404).send({ error: `no session ${id}` });
  });

  admin.get('/api/sessions/:id/export', { schema: { params: SessionParams, querystring: SessionExportQuerySchema } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const { format } = request.query as v.InferOutput<typeof SessionExportQuerySchema>;
    const timeline = await loadTimeline(store, id);
    if (!timeline) return reply.code(404).send({ error: `no session ${id}` });
    return attachment(reply, `framewise-session-${id}`, format).send(format === 'csv' ? timelineCsv(timeline) : JSON.stringify(timeline));
  });

  admin.get('/api/tasks/:taskKey/aggregate', { schema: { params: v.strictObject({ taskKey: TaskIdSchema }) } }, async (request) => {
    const { taskKey } = request.params as { taskKey: string };
    return taskAggregate(taskKey, await store.taskFacts(taskKey));
  });
}
