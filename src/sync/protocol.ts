// The sync boundary: a device ↔ the backend, over the sync WebSocket and the enrolment HTTP API,
// declared once (as valibot schemas, with the types inferred from them) and imported by the page
// and the server. What a recorded event's payload holds is in ./recorded; the trainer's REST API
// in ./trainer-api; the dashboard's live feed in ./live-protocol; bounded JSON parsing in ./bounded-json.
import * as v from 'valibot';
import { jsonBytes, MAX_JSON_DEPTH, parseBounded, wellFormed, type Parsed } from './bounded-json';

export const EVENT_KINDS = ['session-start', 'session-end', 'state', 'instruction', 'detections', 'error'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const LIMITS = {
  /** Largest WebSocket message the server accepts (bytes). */
  maxMessageBytes: 256 * 1024,
  maxEventsPerMessage: 200,
  /** Largest event payload, as UTF-8 JSON (bytes). */
  maxPayloadBytes: 16 * 1024,
  /** Deepest nesting of arrays and objects in a message, checked before it is parsed. */
  maxDepth: MAX_JSON_DEPTH,
  maxTokenChars: 256,
  /** A socket that has not said a valid hello by then is closed with 4401. */
  helloTimeoutMs: 5_000,
} as const;

/** WebSocket close codes the server uses, and why. */
export const CLOSE = {
  shutdown: 1001,
  invalid: 1007, // not valid JSON, too deep, breaks the schema, or an event's ts too far from the server's clock
  policy: 1008, // rate limit exceeded
  tooBig: 1009, // a message over maxMessageBytes
  storage: 1011, // the store failed; the client retries
  unauthorised: 4401, // no valid hello in time, or a bad/revoked credential
  forbidden: 4403, // another device's session
  sessionFull: 4413, // the session holds the most events one session may (FRAMEWISE_MAX_SESSION_EVENTS): nothing of the message was stored; start a new session
  quota: 4429, // this device has sent its share (a daily total, or far over its rate): the reason says when to retry (retryAfterOf)
  storageLow: 4507, // the server's disk is nearly full: it takes no writes for now; the reason says when to retry
} as const;

/** A close reason that says when to come back: `<message>; retry in <seconds> s` (within a close reason's 123 bytes). */
export const retryReason = (message: string, retryAfterMs: number): string => `${message}; retry in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s`;

/** What a retryReason says: the message, and the wait in milliseconds (undefined for any other reason). */
export function retryAfterOf(reason: string): { readonly message: string; readonly retryAfterMs: number } | undefined {
  const m = /^(.*); retry in (\d{1,9}) s$/.exec(reason);
  return m ? { message: m[1]!, retryAfterMs: Number(m[2]) * 1000 } : undefined;
}

export const SessionIdSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{8,64}$/, 'bad sessionId'));
export const TokenSchema = v.pipe(v.string(), v.minLength(1), v.maxLength(LIMITS.maxTokenChars));
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

/**
 * The sync socket's subprotocol. A device offers its token as a second one,
 * `new WebSocket(url, [SYNC_SUBPROTOCOL, token])`, so that the server knows it at the upgrade
 * (before any hello) and admits it to the devices' reserved share of connections even when
 * strangers fill the rest. The server answers with SYNC_SUBPROTOCOL alone; the hello still
 * carries the token, and a socket without it is served as before.
 */
export const SYNC_SUBPROTOCOL = 'framewise-sync';

/** What a device offers as subprotocols: the token too when it can travel as one (an HTTP token; a WebSocket refuses anything else). */
export const syncProtocols = (token: string): string[] => (/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$/.test(token) && token !== SYNC_SUBPROTOCOL ? [SYNC_SUBPROTOCOL, token] : [SYNC_SUBPROTOCOL]);

/** The device token offered in a Sec-WebSocket-Protocol header beside SYNC_SUBPROTOCOL, if any (not yet checked). */
export function offeredDeviceToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length > 2 * LIMITS.maxTokenChars) return undefined;
  const offered = header.split(',').map((p) => p.trim());
  if (!offered.includes(SYNC_SUBPROTOCOL)) return undefined;
  const others = offered.filter((p) => p !== SYNC_SUBPROTOCOL && p !== '');
  return others.length === 1 ? others[0] : undefined;
}

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


export const parseClientMessage = (raw: string): Parsed<ClientMessage> => parseBounded(ClientMessageSchema, raw, LIMITS.maxMessageBytes);
export const parseServerMessage = (raw: string): Parsed<ServerMessage> => parseBounded(ServerMessageSchema, raw, LIMITS.maxMessageBytes);
