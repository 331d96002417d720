// The sync boundary: browser ↔ backend over WebSocket and HTTP, declared once (as valibot
// schemas, with the types inferred from them) and imported by the page, the dashboard and the server.
import * as v from 'valibot';
import { STEP_ENDINGS } from '../task/types';

export const EVENT_KINDS = ['session-start', 'session-end', 'state', 'instruction', 'detections', 'error'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const LIMITS = {
  /** Largest WebSocket message the server accepts (bytes). */
  maxMessageBytes: 256 * 1024,
  maxEventsPerMessage: 200,
  /** Largest event payload, as UTF-8 JSON (bytes). */
  maxPayloadBytes: 16 * 1024,
  /** Deepest nesting of arrays and objects in a message, checked before it is parsed. */
  maxDepth: 32,
  maxTokenChars: 256,
  /** A socket that has not said a valid hello by then is closed with 4401. */
  helloTimeoutMs: 5_000,
} as const;

/** WebSocket close codes the server uses, and why. */
export const CLOSE = {
  shutdown: 1001,
  invalid: 1007, // not valid JSON, too deep, or breaks the schema
  policy: 1008, // rate limit exceeded
  tooBig: 1009, // a message over maxMessageBytes
  storage: 1011, // the store failed; the client retries
  unauthorised: 4401, // no valid hello in time, or a bad/revoked credential
  forbidden: 4403, // another device's session
} as const;

export const SessionIdSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{8,64}$/, 'bad sessionId'));
const TokenSchema = v.pipe(v.string(), v.minLength(1), v.maxLength(LIMITS.maxTokenChars));
const Seq = v.pipe(v.number(), v.safeInteger(), v.minValue(1));

/** One thing the app saw or said, numbered per session from 1 with no gaps. */
export const SyncEventSchema = v.pipe(
  v.strictObject({
    seq: Seq,
    /** Epoch milliseconds when it was emitted. */
    ts: v.pipe(v.number(), v.finite()),
    kind: v.picklist(EVENT_KINDS),
    payload: v.unknown(),
  }),
  v.check((e) => e.payload !== undefined, 'payload missing'),
  v.check((e) => jsonBytes(e.payload) <= LIMITS.maxPayloadBytes, `payload over ${LIMITS.maxPayloadBytes} bytes`),
);
export type SyncEvent = v.InferOutput<typeof SyncEventSchema>;

export const ClientMessageSchema = v.variant('type', [
  /** Opens (or resumes) a session on behalf of the device whose token it carries; the server answers with what it already holds. */
  v.strictObject({ type: v.literal('hello'), sessionId: SessionIdSchema, token: TokenSchema }),
  /** Events in sequence order, for a session greeted on this socket; stored idempotently and acknowledged. */
  v.strictObject({
    type: v.literal('events'),
    sessionId: SessionIdSchema,
    events: v.pipe(
      v.array(SyncEventSchema),
      v.minLength(1),
      v.maxLength(LIMITS.maxEventsPerMessage),
      v.check((es) => es.every((e, i) => i === 0 || e.seq > es[i - 1]!.seq), 'events out of order'),
    ),
  }),
]);
export type ClientMessage = v.InferOutput<typeof ClientMessageSchema>;

export const ServerMessageSchema = v.variant('type', [
  v.strictObject({ type: v.literal('welcome'), sessionId: SessionIdSchema, ackedSeq: v.pipe(v.number(), v.safeInteger(), v.minValue(0)) }),
  /** Everything up to and including `seq` is stored, with no gaps. */
  v.strictObject({ type: v.literal('ack'), sessionId: SessionIdSchema, seq: v.pipe(v.number(), v.safeInteger(), v.minValue(0)) }),
]);
export type ServerMessage = v.InferOutput<typeof ServerMessageSchema>;

// ---- HTTP ----

/** `GET /framewise-config.json`: what the served page needs to sync back. It carries no secret. */
export const ClientConfigSchema = v.strictObject({
  syncPath: v.string(),
  enrollPath: v.string(),
  /** `code`: enrolment needs the operator's FRAMEWISE_ENROLL_CODE. */
  enrollment: v.picklist(['open', 'code']),
});
export type ClientConfig = v.InferOutput<typeof ClientConfigSchema>;

/** `POST /api/devices` */
export const EnrollRequestSchema = v.strictObject({
  // Printable text only: a control character or a lone surrogate is stored differently (or refused) by SQLite and PostgreSQL.
  name: v.pipe(
    v.string(),
    v.trim(),
    v.minLength(1, 'name is required'),
    v.maxLength(80, 'name is at most 80 characters'),
    v.check((s) => !/[\u0000-\u001f\u007f]/.test(s) && wellFormed(s), 'name must be printable text'),
  ),
  code: v.optional(v.pipe(v.string(), v.maxLength(LIMITS.maxTokenChars))),
});
export type EnrollRequest = v.InferOutput<typeof EnrollRequestSchema>;

export const EnrollResponseSchema = v.strictObject({ deviceId: v.string(), token: v.string() });
export type EnrollResponse = v.InferOutput<typeof EnrollResponseSchema>;

export const DeviceSchema = v.strictObject({ deviceId: v.string(), name: v.string(), createdAt: v.number(), revokedAt: v.nullable(v.number()) });
export type Device = v.InferOutput<typeof DeviceSchema>;

/** `GET /api/devices` (admin): every enrolled device, revoked ones included, oldest first. */
export const DeviceListSchema = v.array(DeviceSchema);

// ---- the trainer's view: what a guided session records, and what the server derives from it ----

/** Past this many steps a recorded step index is taken for noise and ignored (no real task has that many). */
export const MAX_TASK_STEPS = 1000;
const StepIndex = v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.maxValue(MAX_TASK_STEPS - 1));

/**
 * The `session-start` payload of a camera session (src/ui/controllers/live-session.ts:
 * `{task, taskTitle, steps, model, modelName, labels | labelCount, poolSize, userAgent}`); a video file's analysis records
 * `{mode: 'file', …}` and no task. `steps`, the task's step instructions in order, is not
 * recorded by the page yet: without it the server knows a custom task's step instructions
 * only for the built-in tasks, and its step count only once it is completed.
 */
export const RecordedStartSchema = v.looseObject({
  task: v.optional(v.nullable(v.string())),
  taskTitle: v.optional(v.nullable(v.string())),
  steps: v.optional(v.pipe(v.array(v.string()), v.maxLength(MAX_TASK_STEPS))),
});

/** The state worker's verdict on one frame (src/task/machine.ts `TaskEvent`), as far as the server reads it. */
export const RecordedTaskEventSchema = v.variant('type', [
  v.looseObject({ type: v.literal('executing_task'), step: StepIndex, done: v.boolean() }),
  // `by` is absent from verdicts recorded before confirm and wait steps existed: those were seen.
  v.looseObject({ type: v.literal('completed_task'), completedStep: StepIndex, nextStep: v.nullable(StepIndex), by: v.optional(v.picklist(STEP_ENDINGS)) }),
  v.looseObject({ type: v.literal('went_back'), fromStep: StepIndex, step: StepIndex }),
  v.looseObject({ type: v.literal('derailed'), step: StepIndex, reason: v.string() }),
  v.looseObject({ type: v.literal('error'), message: v.string() }),
]);
export type RecordedTaskEvent = v.InferOutput<typeof RecordedTaskEventSchema>;

/** A `state` event (src/guide/live-record.ts): `{task, step, frame, event, objects}`; `task` is absent when no task was selected. */
export const RecordedStateSchema = v.looseObject({ task: v.optional(v.string()), event: RecordedTaskEventSchema });

/** An `instruction` event: the words the person was shown and told, when they changed. */
export const RecordedInstructionSchema = v.looseObject({ task: v.optional(v.string()), step: StepIndex, text: v.string() });

/** A `session-end` event: a camera session's `{framesIn, leakedFrames, progress}`, a file analysis's `{frames, failed, cancelled}`. */
export const RecordedEndSchema = v.looseObject({ cancelled: v.optional(v.boolean()) });

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
  firstTs: v.number(),
  lastTs: v.number(),
  /** The newest state event's payload: what step the session is on. */
  lastState: v.unknown(),
  taskId: v.nullable(v.string()),
  /** The title recorded at session start (or the built-in task's); null when unknown: show the id. */
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

/** `GET /api/sessions?limit=N&cursor=C`: newest first; `next` is the cursor of the following page. */
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

/** The text `q` is found in: the names the list shows, lower-cased here so that both stores and the page compare alike. */
export const searchText = (deviceName: string, taskTitle: string | null, taskId: string | null) => `${deviceName}\n${taskTitle ?? taskId ?? ''}`.toLowerCase();

/** Whether a summary passes the filters: what a page applies to the live feed's upserts. The stores' SQL means the same (tested). */
export function matchesFilter(s: SessionSummary, f: SessionFilter): boolean {
  return (
    (f.device === undefined || s.deviceId === f.device) &&
    (f.task === undefined || s.taskId === f.task) &&
    (f.outcome === undefined || s.outcome === f.outcome) &&
    (f.q === undefined || searchText(s.deviceName, s.taskTitle, s.taskId).includes(f.q.toLowerCase()))
  );
}

export const EXPORT_FORMATS = ['csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
// A missing format gets the same message as a wrong one, not valibot's "Invalid key".
const FormatEntry = { format: v.pipe(v.optional(v.string(), ''), v.picklist(EXPORT_FORMATS, `format must be one of ${EXPORT_FORMATS.join(', ')}`)) };

/** Query of `GET /api/sessions/export`: every session the filters match, newest first. */
export const SessionsExportQuerySchema = v.strictObject({ ...FormatEntry, ...SessionFilterEntries });
/** Query of `GET /api/sessions/:id/export`. */
export const SessionExportQuerySchema = v.strictObject(FormatEntry);

/** Path parameter of `GET /api/tasks/:taskId/aggregate`. */
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
  derailments: v.array(DerailmentSchema),
  instructions: v.array(GivenInstructionSchema),
});
export type TimelineStep = v.InferOutput<typeof TimelineStepSchema>;

/** `GET /api/sessions/:id/timeline`: one row per step of the task, in order. */
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

/** `GET /api/tasks/:taskId/aggregate`: across every session of the task. Percentiles interpolate linearly between ranks. */
export const TaskAggregateSchema = v.strictObject({
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

// ---- the dashboard's live feed (`/live`) ----

/** The first message on `/live` carries the admin credential (never the URL). */
export const LiveClientMessageSchema = v.strictObject({ type: v.literal('hello'), token: TokenSchema });
export type LiveClientMessage = v.InferOutput<typeof LiveClientMessageSchema>;

/** Summaries that changed (upserts, newest first); the first one after hello is the first page. */
export const LiveServerMessageSchema = v.strictObject({ type: v.literal('sessions'), sessions: v.array(SessionSummarySchema) });
export type LiveServerMessage = v.InferOutput<typeof LiveServerMessageSchema>;

// ---- parsing ----

/** No lone surrogates (String.prototype.isWellFormed, without needing ES2024 in every runtime). */
export function wellFormed(s: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

const utf8 = new TextEncoder();
/** The size of a value as UTF-8 JSON: what the limits count. Only call it on values of bounded depth. */
export function jsonBytes(value: unknown): number {
  return utf8.encode(JSON.stringify(value) ?? '').length;
}

/** The deepest nesting of arrays and objects in JSON text, found in one pass without parsing; stops early past `limit`. */
export function jsonDepth(text: string, limit: number = LIMITS.maxDepth): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

export type Parsed<T> = { readonly ok: true; readonly msg: T } | { readonly ok: false; readonly reason: string };

/**
 * Bounded parse: size and depth are checked on the raw text before JSON.parse, so no input
 * can make parsing or re-serialising throw; then the schema. Never throws.
 */
export function parseBounded<T>(schema: v.GenericSchema<unknown, T>, raw: string, maxBytes: number = LIMITS.maxMessageBytes): Parsed<T> {
  try {
    // Characters are at most bytes, and a UTF-8 byte count is at most 3 per UTF-16 unit: encode only when it can matter.
    if (raw.length > maxBytes || (raw.length * 3 > maxBytes && utf8.encode(raw).length > maxBytes)) return { ok: false, reason: `over ${maxBytes} bytes` };
    if (jsonDepth(raw) > LIMITS.maxDepth) return { ok: false, reason: `nested deeper than ${LIMITS.maxDepth}` };
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      return { ok: false, reason: 'not JSON' };
    }
    const result = v.safeParse(schema, data, { abortEarly: true });
    if (result.success) return { ok: true, msg: result.output };
    const issue = result.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join('.') ?? '';
    return { ok: false, reason: `${path ? `${path}: ` : ''}${issue.message}`.slice(0, 120) };
  } catch (err) {
    return { ok: false, reason: `unparseable (${err instanceof Error ? err.name : 'error'})` };
  }
}

export const parseClientMessage = (raw: string): Parsed<ClientMessage> => parseBounded(ClientMessageSchema, raw);
export const parseServerMessage = (raw: string): Parsed<ServerMessage> => parseBounded(ServerMessageSchema, raw);
/** The live feed's first message is small: anything over 1 KiB is not a hello. */
export const parseLiveClientMessage = (raw: string): Parsed<LiveClientMessage> => parseBounded(LiveClientMessageSchema, raw, 1024);
export const parseLiveServerMessage = (raw: string): Parsed<LiveServerMessage> => parseBounded(LiveServerMessageSchema, raw, Number.MAX_SAFE_INTEGER);

/** The run of events that extends a stored prefix ending at `stored`: later ones wait for the gap to fill. */
export function contiguousFrom(stored: number, events: readonly SyncEvent[]): SyncEvent[] {
  const out: SyncEvent[] = [];
  let next = stored + 1;
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
    if (e.seq < next) continue; // already stored: a resend
    if (e.seq > next) break;
    out.push(e);
    next++;
  }
  return out;
}
