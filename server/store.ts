// Where devices, sessions and events live: SQLite (one instance) or PostgreSQL (several).
// Both keep payloads as the JSON text that was received, so they accept the same payloads and
// read them back byte for byte.
import { contiguousFrom, SessionIdSchema, type Device, type EventKind, type SessionSummary, type SyncEvent } from '../src/sync/protocol';
import * as v from 'valibot';

export interface DeviceRecord extends Device {
  /** Hex SHA-256 of the device's secret. */
  readonly secretHash: string;
}

/** An event as stored: the payload is the exact JSON text that was received. */
export interface RawEvent {
  readonly sessionId: string;
  readonly seq: number;
  readonly ts: number;
  readonly kind: EventKind;
  readonly payload: string;
}

export type ClaimResult = { readonly owner: string; readonly lastSeq: number };

export type AppendResult =
  | { readonly ok: true; readonly seq: number; readonly stored: number }
  /** `forbidden`: the session is not this device's; `revoked`: the device's credential was revoked. */
  | { readonly ok: false; readonly why: 'forbidden' | 'revoked' };

export type StoreChange =
  | { readonly type: 'append'; readonly sessionId: string }
  | { readonly type: 'revoke'; readonly deviceId: string }
  /** Changes may have been missed (PostgreSQL's LISTEN connection was lost and is back): whoever caches must refresh. */
  | { readonly type: 'resync' };

export interface SessionsPage {
  readonly sessions: SessionSummary[];
  readonly next: string | null;
}

/**
 * `append` is idempotent (unique on session + seq), only ever extends a session's gap-free
 * prefix, checks in the same transaction that the session is the device's and the device is
 * not revoked, and maintains the session's summary in that transaction. It resolves only
 * after the commit.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  createDevice(device: DeviceRecord): Promise<void>;
  device(deviceId: string): Promise<DeviceRecord | undefined>;
  devices(): Promise<Device[]>;
  /** Marks the device revoked (once; a second call keeps the first time). Undefined when there is no such device. */
  revokeDevice(deviceId: string, at: number): Promise<Device | undefined>;
  /** Records `deviceId` as the owner of a session nobody has claimed; returns the owner either way. */
  claimSession(sessionId: string, deviceId: string, at: number): Promise<ClaimResult>;
  append(deviceId: string, sessionId: string, events: readonly SyncEvent[]): Promise<AppendResult>;
  /** Sessions with at least one event, newest first by first event time, `limit` at a time. */
  sessions(limit: number, cursor?: SessionsCursor): Promise<SessionsPage>;
  sessionsById(ids: readonly string[]): Promise<SessionSummary[]>;
  events(sessionId: string, afterSeq: number, limit: number): Promise<RawEvent[]>;
  onChange(listener: (change: StoreChange) => void): void;
  close(): Promise<void>;
}

/** Where the previous page ended: pages are ordered by (firstTs, sessionId) descending, which is stable. */
export interface SessionsCursor {
  readonly firstTs: number;
  readonly sessionId: string;
}

export function encodeCursor(c: SessionsCursor): string {
  return Buffer.from(JSON.stringify([c.firstTs, c.sessionId])).toString('base64url');
}

const CursorSchema = v.tuple([v.pipe(v.number(), v.finite()), SessionIdSchema]);

export function decodeCursor(text: string): SessionsCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(text)) return undefined;
  try {
    const parsed = v.safeParse(CursorSchema, JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return parsed.success ? { firstTs: parsed.output[0], sessionId: parsed.output[1] } : undefined;
  } catch {
    return undefined;
  }
}

/** What one append changes in a session's summary: computed once, written by either store. */
export interface SummaryDelta {
  readonly run: readonly SyncEvent[];
  readonly payloads: readonly string[];
  readonly lastSeq: number;
  /** Time of event 1 when this run starts the session, else null (the stored one stays). */
  readonly firstTs: number | null;
  readonly maxTs: number;
  /** JSON text of the newest state event in the run, else null (the stored one stays). */
  readonly lastState: string | null;
}

export function summaryDelta(stored: number, events: readonly SyncEvent[]): SummaryDelta | undefined {
  // -0 is written as 0: SQLite would read it back as 0 and PostgreSQL as -0, and the stores must agree.
  const run = contiguousFrom(stored, events).map((e) => (Object.is(e.ts, -0) ? { ...e, ts: 0 } : e));
  if (!run.length) return undefined;
  const payloads = run.map((e) => JSON.stringify(e.payload));
  let lastState: string | null = null;
  for (let i = run.length - 1; i >= 0; i--) {
    if (run[i]!.kind === 'state') {
      lastState = payloads[i]!;
      break;
    }
  }
  return {
    run,
    payloads,
    lastSeq: stored + run.length,
    firstTs: stored === 0 ? run[0]!.ts : null,
    maxTs: run.reduce((m, e) => Math.max(m, e.ts), -Infinity),
    lastState,
  };
}

export interface SummaryRow {
  session_id: string;
  device_id: string;
  name: string | null;
  events: number | string;
  last_seq: number | string;
  first_ts: number;
  last_ts: number;
  last_state: string | null;
}

export function summaryFromRow(r: SummaryRow): SessionSummary {
  return {
    sessionId: r.session_id,
    deviceId: r.device_id,
    deviceName: r.name ?? '',
    events: Number(r.events),
    lastSeq: Number(r.last_seq),
    firstTs: r.first_ts,
    lastTs: r.last_ts,
    lastState: r.last_state === null ? null : JSON.parse(r.last_state),
  };
}

/** Serialises stored events for the API without re-encoding payloads: what was sent is what is read. */
export function eventsJson(events: readonly RawEvent[]): string {
  return `[${events.map((e) => `{"sessionId":${JSON.stringify(e.sessionId)},"seq":${e.seq},"ts":${JSON.stringify(e.ts)},"kind":${JSON.stringify(e.kind)},"payload":${e.payload}}`).join(',')}]`;
}
