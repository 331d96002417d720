// What the outbox may keep and how it is cut into messages, by the server's own limits
// (src/sync/protocol.ts), so that no stored event and no batch can be refused for its size.
import { jsonDepth } from './bounded-json';
import { LIMITS, type SyncEvent } from './protocol';

const utf8 = new TextEncoder();
const bytes = (json: string) => utf8.encode(json).length;

/** Room left under the server's message limit for what the byte count cannot see coming (a proxy's framing, a longer id). */
export const MESSAGE_MARGIN_BYTES = 1024;
export const BATCH_LIMITS = { maxBytes: LIMITS.maxMessageBytes - MESSAGE_MARGIN_BYTES, maxEvents: LIMITS.maxEventsPerMessage } as const;
/** The events message wraps the payload in three levels (message, events array, event). */
const PAYLOAD_MAX_DEPTH = LIMITS.maxDepth - 3;

export class OversizeEventError extends Error {
  constructor(
    message: string,
    readonly bytes: number,
  ) {
    super(message);
    this.name = 'OversizeEventError';
  }
}

/**
 * The payload as it will travel (a JSON round trip, so that what is kept is exactly what is
 * sent), or an OversizeEventError saying why the backend could never take it.
 */
export function normalisePayload(kind: string, payload: unknown): { payload: unknown; bytes: number } {
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (err) {
    throw new OversizeEventError(`A ${kind} event cannot be kept for syncing: it is not serialisable as JSON (${err instanceof Error ? err.message : String(err)}).`, 0);
  }
  if (json === undefined) throw new OversizeEventError(`A ${kind} event cannot be kept for syncing: it has no payload.`, 0);
  const size = bytes(json);
  if (size > LIMITS.maxPayloadBytes) {
    throw new OversizeEventError(
      `A ${kind} event of ${(size / 1024).toFixed(1)} KiB was refused: the backend accepts at most ${LIMITS.maxPayloadBytes / 1024} KiB per event, so it was not kept and will not be sent.`,
      size,
    );
  }
  if (jsonDepth(json, PAYLOAD_MAX_DEPTH) > PAYLOAD_MAX_DEPTH) {
    throw new OversizeEventError(`A ${kind} event was refused: it is nested deeper than the backend's limit of ${PAYLOAD_MAX_DEPTH} levels, so it was not kept and will not be sent.`, size);
  }
  return { payload: JSON.parse(json) as unknown, bytes: size };
}

/**
 * How many of `events` (in order) go into one events message for `sessionId` without passing
 * either limit. It stops before an event whose payload is over the per-event limit (only an
 * outbox written before appends were checked holds one), so what precedes it is still sent.
 */
export function fitBatch(sessionId: string, events: readonly SyncEvent[], limits: { maxBytes: number; maxEvents: number } = BATCH_LIMITS): number {
  let size = bytes(JSON.stringify({ type: 'events', sessionId, events: [] }));
  let n = 0;
  for (const e of events) {
    if (n === limits.maxEvents) break;
    if (bytes(JSON.stringify(e.payload) ?? '') > LIMITS.maxPayloadBytes) break;
    const add = bytes(JSON.stringify(e)) + (n > 0 ? 1 : 0); // the comma between events
    if (size + add > limits.maxBytes) break;
    size += add;
    n++;
  }
  return n;
}
