import type { SyncEvent } from '../src/sync/protocol';

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
