// The sessions list's state changes, pure: the filter as a query, and live upserts applied to a
// paginated list the way the server would have listed them.
import { matchesFilter } from '../../sync/session-filter';
import type { SessionFilter, SessionSummary } from '../../sync/trainer-api';

/** The server's order: newest received first, then newest start, then session id descending (the stores' ORDER BY, NEWEST_FIRST). */
export function compareNewest(a: SessionSummary, b: SessionSummary): number {
  if (a.receivedTs !== b.receivedTs) return b.receivedTs - a.receivedTs;
  if (a.firstTs !== b.firstTs) return b.firstTs - a.firstTs;
  return a.sessionId < b.sessionId ? 1 : a.sessionId > b.sessionId ? -1 : 0;
}

/** What the filter controls hold, as a filter: empty means "any"; the search is trimmed as the server trims it. */
export function filterFrom(values: { readonly device?: string; readonly task?: string; readonly outcome?: string; readonly q?: string }): SessionFilter {
  const f: { device?: string; task?: string; outcome?: SessionFilter['outcome']; q?: string } = {};
  if (values.device) f.device = values.device;
  if (values.task) f.task = values.task;
  if (values.outcome) f.outcome = values.outcome as SessionFilter['outcome'];
  const q = values.q?.trim();
  if (q) f.q = q;
  return f;
}

/** The filter as query parameters of the list and its export. */
export function filterParams(f: SessionFilter): URLSearchParams {
  const p = new URLSearchParams();
  for (const [key, value] of Object.entries(f)) if (value !== undefined) p.set(key, String(value));
  return p;
}

/**
 * The list after the live feed's upserts: a listed session is replaced where it stands, or
 * removed once it no longer matches the filter (its outcome changed, say); a new one that
 * matches is placed in order, but only within what is loaded — one older than the last row
 * waits for "Load more", which would otherwise list it twice.
 */
export function applyUpserts(list: readonly SessionSummary[], incoming: readonly SessionSummary[], filter: SessionFilter, allLoaded: boolean): SessionSummary[] {
  if (!incoming.length) return list as SessionSummary[];
  const byId = new Map(incoming.map((s) => [s.sessionId, s]));
  const out: SessionSummary[] = [];
  for (const s of list) {
    const update = byId.get(s.sessionId);
    if (!update) out.push(s);
    else {
      byId.delete(s.sessionId);
      if (matchesFilter(update, filter)) out.push(update);
    }
  }
  const last = out.at(-1);
  const added = [...byId.values()].filter((s) => matchesFilter(s, filter) && (allLoaded || !last || compareNewest(s, last) < 0)).sort(compareNewest);
  if (!added.length) return out;
  // Both are in order: merge.
  const merged: SessionSummary[] = [];
  let i = 0;
  for (const s of added) {
    while (i < out.length && compareNewest(out[i]!, s) <= 0) merged.push(out[i++]!);
    merged.push(s);
  }
  while (i < out.length) merged.push(out[i++]!);
  return merged;
}

/** What the task filter needs to know of a session's task. */
export type SeenTask = Pick<SessionSummary, 'taskKey' | 'taskId' | 'taskTitle' | 'deviceName'>;

/**
 * Tasks to offer in the task filter, one per definition (`id` is its task key): those known
 * ahead (the built-in ones) and those seen in sessions, by title. A custom task is its device's:
 * its name says whose, and two definitions that would read alike also say which.
 */
export function taskOptions(known: readonly { readonly id: string; readonly title: string }[], seen: Iterable<SeenTask>): { id: string; title: string }[] {
  const byKey = new Map<string, string>(known.map((t) => [t.id, t.title]));
  for (const s of seen) {
    if (s.taskKey === null || byKey.has(s.taskKey)) continue;
    const name = s.taskTitle ?? s.taskId ?? s.taskKey;
    byKey.set(s.taskKey, s.taskKey === s.taskId ? name : `${name} · ${s.deviceName}`);
  }
  const titles = new Map<string, number>();
  for (const title of byKey.values()) titles.set(title, (titles.get(title) ?? 0) + 1);
  return [...byKey]
    .map(([id, title]) => ({ id, title: (titles.get(title) ?? 0) > 1 && id.startsWith('custom:') ? `${title} · ${id.slice(-6)}` : title }))
    .sort((a, b) => a.title.localeCompare(b.title) || a.id.localeCompare(b.id));
}
