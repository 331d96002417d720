// What the sessions list's filters mean, once: the dashboard applies it to the live feed's
// upserts, and the stores' SQL means the same (server/store.ts, tested against this).
import type { SessionFilter, SessionSummary } from './trainer-api';

/** The text `q` is found in: the names the list shows, lower-cased here so that both stores and the page compare alike. */
export const searchText = (deviceName: string, taskTitle: string | null, taskId: string | null) => `${deviceName}\n${taskTitle ?? taskId ?? ''}`.toLowerCase();

/** Whether a summary passes the filters: what a page applies to the live feed's upserts. The stores' SQL means the same (tested). */
export function matchesFilter(s: SessionSummary, f: SessionFilter): boolean {
  return (
    (f.device === undefined || s.deviceId === f.device) &&
    (f.task === undefined || s.taskKey === f.task) &&
    (f.outcome === undefined || s.outcome === f.outcome) &&
    (f.q === undefined || searchText(s.deviceName, s.taskTitle, s.taskId).includes(f.q.toLowerCase()))
  );
}
