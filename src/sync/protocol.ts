// The sync boundary: browser ↔ backend over WebSocket, declared once and imported by both.

export const EVENT_KINDS = ['session-start', 'session-end', 'state', 'instruction', 'detections', 'error'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** One thing the app saw or said, numbered per session from 1 with no gaps. */
export interface SyncEvent {
  readonly seq: number;
  /** Epoch milliseconds when it was emitted. */
  readonly ts: number;
  readonly kind: EventKind;
  readonly payload: unknown;
}

export type ClientMessage =
  /** Opens (or resumes) a session; the server answers with what it already holds. */
  | { readonly type: 'hello'; readonly sessionId: string }
  /** Events in sequence order; the server stores them idempotently and acknowledges. */
  | { readonly type: 'events'; readonly sessionId: string; readonly events: readonly SyncEvent[] };

export type ServerMessage =
  | { readonly type: 'welcome'; readonly sessionId: string; readonly ackedSeq: number }
  /** Everything up to and including `seq` is stored, with no gaps. */
  | { readonly type: 'ack'; readonly sessionId: string; readonly seq: number };

export const LIMITS = {
  /** Largest WebSocket message the server accepts (bytes). */
  maxMessageBytes: 256 * 1024,
  maxEventsPerMessage: 200,
  maxPayloadBytes: 16 * 1024,
} as const;

/** WebSocket close codes the server uses, and why. */
export const CLOSE = {
  invalid: 1007, // a message that is not valid JSON or breaks the schema
  policy: 1008, // rate limit exceeded
  tooBig: 1009, // a message over maxMessageBytes
  shutdown: 1001,
} as const;

const SESSION_ID = /^[A-Za-z0-9_-]{8,64}$/;

/** Parses and validates one client message; returns the reason when it is not acceptable. */
export function parseClientMessage(raw: string): { ok: true; msg: ClientMessage } | { ok: false; reason: string } {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { ok: false, reason: 'not an object' };
  const m = data as Record<string, unknown>;
  if (typeof m.sessionId !== 'string' || !SESSION_ID.test(m.sessionId)) return { ok: false, reason: 'bad sessionId' };
  if (m.type === 'hello') {
    if (Object.keys(m).length !== 2) return { ok: false, reason: 'unexpected fields in hello' };
    return { ok: true, msg: { type: 'hello', sessionId: m.sessionId } };
  }
  if (m.type !== 'events') return { ok: false, reason: `unknown type ${JSON.stringify(m.type)?.slice(0, 40)}` };
  if (!Array.isArray(m.events) || m.events.length === 0 || m.events.length > LIMITS.maxEventsPerMessage) return { ok: false, reason: `events must be 1–${LIMITS.maxEventsPerMessage} items` };
  let prev = 0;
  for (const [i, e] of (m.events as unknown[]).entries()) {
    if (typeof e !== 'object' || e === null) return { ok: false, reason: `events[${i}] not an object` };
    const ev = e as Record<string, unknown>;
    if (!Number.isSafeInteger(ev.seq) || (ev.seq as number) < 1) return { ok: false, reason: `events[${i}].seq must be a whole number ≥ 1` };
    if ((ev.seq as number) <= prev) return { ok: false, reason: `events[${i}].seq out of order` };
    prev = ev.seq as number;
    if (typeof ev.ts !== 'number' || !Number.isFinite(ev.ts)) return { ok: false, reason: `events[${i}].ts must be a number` };
    if (!EVENT_KINDS.includes(ev.kind as EventKind)) return { ok: false, reason: `events[${i}].kind unknown` };
    if (!('payload' in ev) || JSON.stringify(ev.payload).length > LIMITS.maxPayloadBytes) return { ok: false, reason: `events[${i}].payload missing or over ${LIMITS.maxPayloadBytes} bytes` };
    if (Object.keys(ev).length !== 4) return { ok: false, reason: `events[${i}] has unexpected fields` };
  }
  return { ok: true, msg: { type: 'events', sessionId: m.sessionId, events: m.events as SyncEvent[] } };
}

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
