// The trainer's view over HTTP: session summaries, timelines, task aggregates, their queries and
// exports, declared once and used by the server (server/trainer-api.ts) and the dashboard.
import * as v from 'valibot';
import { STEP_ENDINGS } from '../task/types';
import { wellFormed } from './bounded-json';
import { SessionIdSchema, type SyncEvent } from './protocol';

/**
 * A session is live while it has not ended and the server received an event for it within
 * this window. A guided camera session sends a verdict several times a second, so a quiet
 * minute means the camera stopped without its session-end reaching the server, the app was
 * closed, or the device is offline.
 */
export const LIVE_WINDOW_MS = 60_000;

/**
 * `completed`: the task's last step was completed (a session without a task: it ended, and a
 * file analysis was not cancelled). `abandoned`: not completed, and it ended or is no longer
 * live. `in-progress`: neither, yet. A quiet session that syncs again is in progress again.
 */
export const OUTCOMES = ['completed', 'abandoned', 'in-progress'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** One session as the dashboard lists it; maintained by the store on every write, never by scanning events. */
export const SessionSummarySchema = v.strictObject({
  sessionId: v.string(),
  deviceId: v.string(),
  deviceName: v.string(),
  events: v.number(),
  lastSeq: v.number(),
  /**
   * When the server received the session (its first hello), by the server's clock: the list is
   * newest first by this, then firstTs, then id. A device's clock decides nothing of the order.
   */
  receivedTs: v.number(),
  firstTs: v.number(),
  lastTs: v.number(),
  /** The newest state event's payload: what step the session is on. */
  lastState: v.unknown(),
  taskId: v.nullable(v.string()),
  /**
   * Which definition of the task: a built-in task's id, or for a custom task `custom:` and a hash
   * of the device, id, title and steps. The list's `task` filter and the task's aggregate go by it.
   */
  taskKey: v.nullable(v.string()),
  /** A built-in task's own title, whatever the device said; a custom task's as recorded at session start; null when unknown: show the id. */
  taskTitle: v.nullable(v.string()),
  /** Time of the first event (the session-start); the same as firstTs. */
  startedTs: v.number(),
  /** Time of the session-end event; null while none arrived. */
  endedTs: v.nullable(v.number()),
  /** To the session-end, or to the newest event while there is none; null if the times are unusable. */
  durationMs: v.nullable(v.number()),
  /** When the task's last step was completed. */
  completedTs: v.nullable(v.number()),
  outcome: v.picklist(OUTCOMES),
  /** Steps of the task done so far, counting those done in an earlier session that this one resumed. */
  stepsDone: v.number(),
  /** Null when the task's length is not known (a custom task not completed yet). */
  stepsTotal: v.nullable(v.number()),
  derailments: v.number(),
  live: v.boolean(),
});
export type SessionSummary = v.InferOutput<typeof SessionSummarySchema>;

/** `GET /api/sessions?limit=N&cursor=C`: newest received first; `next` is the cursor of the following page. */
export const SessionsPageSchema = v.strictObject({ sessions: v.array(SessionSummarySchema), next: v.nullable(v.string()) });
export type SessionsPage = v.InferOutput<typeof SessionsPageSchema>;

/** Printable text: what a filter may hold (no control character, no lone surrogate). */
const printable = (what: string, max: number) =>
  v.pipe(
    v.string(`${what} must be text`),
    v.maxLength(max, `${what} is at most ${max} characters`),
    v.check((s) => !/[\u0000-\u001f\u007f]/.test(s) && wellFormed(s), `${what} must be printable text`),
  );

/** What the list and its export can be narrowed to; every filter is matched on the summary table alone. */
const SessionFilterEntries = {
  device: v.optional(v.pipe(v.string('device must be a device id'), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'device must be a device id'))),
  /** A task key (a summary's taskKey; a built-in task's id): one definition of the task. */
  task: v.optional(v.pipe(printable('task', 200), v.minLength(1, 'task must not be empty'))),
  outcome: v.optional(v.picklist(OUTCOMES, `outcome must be one of ${OUTCOMES.join(', ')}`)),
  /** Case-insensitive substring of the device name or the task title (the id when there is no title); empty matches all. */
  q: v.optional(v.pipe(printable('q', 100), v.trim(), v.transform((s) => (s === '' ? undefined : s)))),
};

/** Query of `GET /api/sessions`; `cursor` is the `next` of the previous page, opaque to clients. */
export const SessionsQuerySchema = v.strictObject({
  limit: v.optional(v.pipe(v.string(), v.regex(/^[0-9]{1,4}$/, 'limit must be a whole number'), v.transform(Number), v.minValue(1, 'limit must be at least 1'), v.maxValue(200, 'limit is at most 200')), '50'),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(200, 'bad cursor'))),
  ...SessionFilterEntries,
});
export type SessionsQuery = v.InferOutput<typeof SessionsQuerySchema>;
export type SessionFilter = Pick<SessionsQuery, keyof typeof SessionFilterEntries>;

export const EXPORT_FORMATS = ['csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
// A missing format gets the same message as a wrong one, not valibot's "Invalid key".
const FormatEntry = { format: v.pipe(v.optional(v.string(), ''), v.picklist(EXPORT_FORMATS, `format must be one of ${EXPORT_FORMATS.join(', ')}`)) };

/** Query of `GET /api/sessions/export`: every session the filters match, newest first. */
export const SessionsExportQuerySchema = v.strictObject({ ...FormatEntry, ...SessionFilterEntries });
/** Query of `GET /api/sessions/:id/export`. */
export const SessionExportQuerySchema = v.strictObject(FormatEntry);

/** Path parameter of `GET /api/tasks/:taskKey/aggregate`: a summary's taskKey (a built-in task's id). */
export const TaskIdSchema = v.pipe(printable('task id', 200), v.minLength(1, 'task id must not be empty'));

/** A stretch of a step during which the app said the person was off track. */
export const DerailmentSchema = v.strictObject({
  step: v.number(),
  reason: v.string(),
  startTs: v.number(),
  /** When the app saw them back on track, the reason changed, or the session ended; while `ongoing`, the newest event's time. */
  endTs: v.number(),
  durationMs: v.nullable(v.number()),
  ongoing: v.boolean(),
});
export type Derailment = v.InferOutput<typeof DerailmentSchema>;

/** An instruction the app gave (shown and spoken), when its words changed. */
export const GivenInstructionSchema = v.strictObject({ ts: v.number(), text: v.string() });
export type GivenInstruction = v.InferOutput<typeof GivenInstructionSchema>;

/** `done-earlier`: done in an earlier session that this one resumed; `started`: begun here, not completed. */
export const STEP_STATUSES = ['done-earlier', 'completed', 'started', 'not-reached'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const TimelineStepSchema = v.strictObject({
  index: v.number(),
  /** The step's own instruction from the task; null when the server does not know the task's steps. */
  instruction: v.nullable(v.string()),
  status: v.picklist(STEP_STATUSES),
  startedTs: v.nullable(v.number()),
  completedTs: v.nullable(v.number()),
  /** completedTs − startedTs; null unless both are known. */
  durationMs: v.nullable(v.number()),
  /** How it was completed: seen by the camera, confirmed by the person, waited out, or skipped by the person; null unless completed. */
  completedBy: v.nullable(v.picklist(STEP_ENDINGS)),
  /** The step's derailments in the order they ended (one still open last): the first ones only when `derailmentsNext` is not null. */
  derailments: v.array(DerailmentSchema),
  /** The instructions given in this step, in order: the first ones only when `instructionsNext` is not null. */
  instructions: v.array(GivenInstructionSchema),
  /** How many derailments the step has in all (the open one included). */
  derailmentsTotal: v.number(),
  /** Where the rest of `derailments` starts (`GET …/timeline/steps/:step/derailments?after=…`); null when the list is whole. */
  derailmentsNext: v.nullable(v.string()),
  instructionsTotal: v.number(),
  instructionsNext: v.nullable(v.string()),
});
export type TimelineStep = v.InferOutput<typeof TimelineStepSchema>;

/**
 * The lists of a timeline's steps that are paged: a session can hold tens of thousands of
 * derailments and instructions, so a timeline carries the first of each step's and the rest are
 * read a page at a time.
 */
export const TIMELINE_ITEM_KINDS = ['derailments', 'instructions'] as const;
export type TimelineItemKind = (typeof TIMELINE_ITEM_KINDS)[number];
/** At most this many items of one list in a timeline, and of all its lists together. */
export const TIMELINE_LIST_FIRST = 50;
export const TIMELINE_ITEMS_FIRST = 1000;

/** A page cursor: where the previous page of a step's list ended (opaque to clients). */
export const TimelineCursorSchema = v.pipe(v.string(), v.regex(/^[0-9]{1,15}$/, 'bad cursor'));

/** Path of `GET /api/sessions/:id/timeline/steps/:step/:kind`: one list of one step, paged. */
export const TimelineItemsParamsSchema = v.strictObject({
  id: SessionIdSchema,
  step: v.pipe(v.string(), v.regex(/^[0-9]{1,4}$/, 'step must be a whole number'), v.transform(Number), v.maxValue(9999, 'step is at most 9999')),
  kind: v.picklist(TIMELINE_ITEM_KINDS, `kind must be one of ${TIMELINE_ITEM_KINDS.join(', ')}`),
});
/** Query of that route: the items after `after` (a `…Next` or a page's `next`), at most `limit` (default 200, at most 1000). */
export const TimelineItemsQuerySchema = v.strictObject({
  after: v.optional(TimelineCursorSchema),
  limit: v.optional(v.pipe(v.string(), v.regex(/^[0-9]{1,4}$/, 'limit must be a whole number'), v.transform(Number), v.minValue(1, 'limit must be at least 1'), v.maxValue(1000, 'limit is at most 1000')), '200'),
});
export type TimelineItemsQuery = v.InferOutput<typeof TimelineItemsQuerySchema>;
export const DerailmentsPageSchema = v.strictObject({ items: v.array(DerailmentSchema), next: v.nullable(v.string()) });
export const InstructionsPageSchema = v.strictObject({ items: v.array(GivenInstructionSchema), next: v.nullable(v.string()) });
export type DerailmentsPage = v.InferOutput<typeof DerailmentsPageSchema>;
export type InstructionsPage = v.InferOutput<typeof InstructionsPageSchema>;

/** `GET /api/sessions/:id/timeline`: one row per step of the task, in order; each step's lists bounded (see TIMELINE_LIST_FIRST). */
export const SessionTimelineSchema = v.strictObject({ session: SessionSummarySchema, steps: v.array(TimelineStepSchema) });
export type SessionTimeline = v.InferOutput<typeof SessionTimelineSchema>;

export const StepAggregateSchema = v.strictObject({
  index: v.number(),
  instruction: v.nullable(v.string()),
  /** Sessions that started and completed this step: what the times are taken over. */
  timed: v.number(),
  medianMs: v.nullable(v.number()),
  p90Ms: v.nullable(v.number()),
  derailments: v.number(),
  /** Sessions with at least one derailment in this step. */
  derailedSessions: v.number(),
  derailedMs: v.number(),
});
export type StepAggregate = v.InferOutput<typeof StepAggregateSchema>;

/**
 * `GET /api/tasks/:taskKey/aggregate`: across every session of one definition of the task (a
 * built-in task: the server's own title and steps). Percentiles interpolate linearly between ranks.
 */
export const TaskAggregateSchema = v.strictObject({
  taskKey: v.string(),
  /** The task's id as its sessions recorded it (a built-in task's: the same as taskKey). */
  taskId: v.string(),
  taskTitle: v.nullable(v.string()),
  sessions: v.number(),
  completed: v.number(),
  steps: v.array(StepAggregateSchema),
  /** Indices of the steps with derailments, most first (ties: earlier step first). */
  mostDerailed: v.array(v.number()),
});
export type TaskAggregate = v.InferOutput<typeof TaskAggregateSchema>;

/** Columns of the sessions CSV (`GET /api/sessions/export?format=csv`), one row per session; times are ISO 8601 UTC. */
export const SESSION_CSV_COLUMNS = [
  'session_id',
  'device_id',
  'device_name',
  'task_id',
  'task_title',
  'started',
  'ended',
  'duration_ms',
  'outcome',
  'steps_done',
  'steps_total',
  'derailments',
  'live',
  'events',
] as const;
export type SessionCsvColumn = (typeof SESSION_CSV_COLUMNS)[number];

/** Columns of a session's CSV (`GET /api/sessions/:id/export?format=csv`): a `step` row per step, then its `derailment` and `instruction` rows. */
export const TIMELINE_CSV_COLUMNS = ['session_id', 'step', 'step_instruction', 'row', 'status', 'completed_by', 'start', 'end', 'duration_ms', 'text'] as const;
export type TimelineCsvColumn = (typeof TIMELINE_CSV_COLUMNS)[number];

/** Query of `GET /api/sessions/:id/events`: events with seq > `after`, at most `limit` (default 1000, at most 5000), in order. */
export const EventsQuerySchema = v.strictObject({
  after: v.optional(v.pipe(v.string(), v.regex(/^[0-9]{1,15}$/, 'after must be a whole number'), v.transform(Number)), '0'),
  limit: v.optional(v.pipe(v.string(), v.regex(/^[0-9]{1,4}$/, 'limit must be a whole number'), v.transform(Number), v.minValue(1, 'limit must be at least 1'), v.maxValue(5000, 'limit is at most 5000')), '1000'),
});
export type EventsQuery = v.InferOutput<typeof EventsQuerySchema>;

/** One stored event as `GET /api/sessions/:id/events` returns it; the payload reads back exactly as it was sent. */
export type StoredEvent = SyncEvent & { readonly sessionId: string };
