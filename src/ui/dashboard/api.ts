// The dashboard's side of the admin API: every request carries the credential as a header (never
// in a URL), and every answer is checked against the protocol's schemas before it is shown.
import * as v from 'valibot';
import { DeviceListSchema, type Device } from '../../sync/protocol';
import {
  DerailmentsPageSchema,
  InstructionsPageSchema,
  SessionsPageSchema,
  SessionTimelineSchema,
  TaskAggregateSchema,
  type DerailmentsPage,
  type ExportFormat,
  type InstructionsPage,
  type SessionFilter,
  type SessionsPage,
  type SessionTimeline,
  type StoredEvent,
  type TaskAggregate,
  type TimelineItemKind,
} from '../../sync/trainer-api';
import { filterParams } from './sessions-state';

/** The admin credential was refused (changed, or the backend was reset): no retry can mend it. */
export class SignedOut extends Error {}

/** Too many wrong admin tokens came lately (429): the backend did not check this one, and says when to try again. */
export class Throttled extends Error {}

/** The backend's own words for a refusal (`{error}`), if it gave any. */
async function errorText(res: Response): Promise<string | undefined> {
  const body = (await res.json().catch(() => undefined)) as { error?: unknown } | undefined;
  return typeof body?.error === 'string' ? body.error : undefined;
}

/** Items asked for at once when a list of a timeline's step is shown further. */
const ITEMS_PAGE = 200;
/** A 503 (the backend busy with heavy reads) is waited out this many times before it is shown. */
const BUSY_RETRIES = 3;

/** Said on the sign-in form when a kept credential stops working. */
export const REFUSED_MESSAGE = 'The admin token was refused (changed, or the backend was reset). Sign in again.';

/** The name a `Content-Disposition: attachment; filename="…"` header gives, if any. */
export function filenameFrom(header: string | null): string | undefined {
  const m = header?.match(/filename="([^"]+)"/) ?? header?.match(/filename=([^;\s]+)/);
  const name = m?.[1]?.trim();
  // A name is only ever a name: no path.
  return name && !/[\\/]/.test(name) ? name : undefined;
}

export class AdminApi {
  constructor(private readonly token: string) {}

  sessions(filter: SessionFilter, cursor: string | null, limit: number): Promise<SessionsPage> {
    const q = filterParams(filter);
    q.set('limit', String(limit));
    if (cursor) q.set('cursor', cursor);
    return this.get(`/api/sessions?${q}`, SessionsPageSchema, 'a session list');
  }

  timeline(sessionId: string): Promise<SessionTimeline> {
    return this.get(`/api/sessions/${encodeURIComponent(sessionId)}/timeline`, SessionTimelineSchema, 'a timeline');
  }

  /** The next page of one list of a timeline's step, after `after` (the step's `…Next`, or the previous page's `next`). */
  timelineItems(sessionId: string, step: number, kind: 'derailments', after: string): Promise<DerailmentsPage>;
  timelineItems(sessionId: string, step: number, kind: 'instructions', after: string): Promise<InstructionsPage>;
  timelineItems(sessionId: string, step: number, kind: TimelineItemKind, after: string): Promise<DerailmentsPage | InstructionsPage>;
  timelineItems(sessionId: string, step: number, kind: TimelineItemKind, after: string): Promise<DerailmentsPage | InstructionsPage> {
    const path = `/api/sessions/${encodeURIComponent(sessionId)}/timeline/steps/${step}/${kind}?after=${encodeURIComponent(after)}&limit=${ITEMS_PAGE}`;
    return kind === 'derailments' ? this.get(path, DerailmentsPageSchema, 'a page of derailments') : this.get(path, InstructionsPageSchema, 'a page of instructions');
  }

  aggregate(taskKey: string): Promise<TaskAggregate> {
    return this.get(`/api/tasks/${encodeURIComponent(taskKey)}/aggregate`, TaskAggregateSchema, 'task figures');
  }

  devices(): Promise<Device[]> {
    return this.get('/api/devices', DeviceListSchema, 'a device list');
  }

  /** The newest stored events of a session (raw: their payloads are whatever the app recorded). */
  async events(sessionId: string, limit = 5000): Promise<StoredEvent[]> {
    const body = (await (await this.request(`/api/sessions/${encodeURIComponent(sessionId)}/events?limit=${limit}`)).json()) as unknown;
    const rows = Array.isArray(body) ? body : (body as { events?: unknown }).events;
    return Array.isArray(rows) ? (rows as StoredEvent[]) : [];
  }

  exportSessions(filter: SessionFilter, format: ExportFormat): Promise<void> {
    const q = filterParams(filter);
    q.set('format', format);
    return this.download(`/api/sessions/export?${q}`, `framewise-sessions.${format}`);
  }

  exportSession(sessionId: string, format: ExportFormat): Promise<void> {
    return this.download(`/api/sessions/${encodeURIComponent(sessionId)}/export?format=${format}`, `framewise-session-${sessionId}.${format}`);
  }

  /**
   * An export is fetched with the credential in its header, then saved from a Blob URL: a plain
   * link would have to carry the credential in its URL, where logs and history keep it.
   */
  private async download(path: string, fallbackName: string): Promise<void> {
    const res = await this.request(path);
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = filenameFrom(res.headers.get('content-disposition')) ?? fallbackName;
    a.hidden = true;
    document.body.append(a);
    try {
      a.click();
    } finally {
      a.remove();
      // The download has taken the blob by the next task; revoking at once can cancel it in some browsers.
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    }
  }

  private async request(path: string): Promise<Response> {
    let res = await fetch(path, { headers: { authorization: `Bearer ${this.token}` }, cache: 'no-store' });
    // The backend answers a few heavy reads (item pages, exports) at once and asks the rest to come back shortly: it is waited out, a few times.
    for (let tries = 1; res.status === 503 && tries <= BUSY_RETRIES; tries++) {
      const seconds = Math.min(30, Math.max(1, Number(res.headers.get('retry-after')) || 2));
      await new Promise((r) => setTimeout(r, seconds * 1000 * (0.75 + Math.random() / 2)));
      res = await fetch(path, { headers: { authorization: `Bearer ${this.token}` }, cache: 'no-store' });
    }
    if (res.status === 503) throw new Error(`the backend is busy: ${(await errorText(res)) ?? 'HTTP 503'}`);
    if (res.status === 401 || res.status === 403) throw new SignedOut();
    if (res.status === 429) throw new Throttled(`The backend is not checking admin tokens from here for now: ${(await errorText(res)) ?? 'too many attempts'}`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res;
  }

  private async get<T>(path: string, schema: v.GenericSchema<unknown, T>, what: string): Promise<T> {
    const parsed = v.safeParse(schema, await (await this.request(path)).json());
    if (!parsed.success) throw new Error(`the backend sent ${what} this dashboard cannot read`);
    return parsed.output;
  }
}

/**
 * What an element shows for a failed request: a refused credential is not its business — it
 * tells the page (which signs out) and shows nothing; anything else is a line of text.
 */
export function problem(host: EventTarget, err: unknown, what: string): string {
  if (err instanceof SignedOut) {
    host.dispatchEvent(new CustomEvent('signed-out', { bubbles: true, composed: true }));
    return '';
  }
  return `Cannot ${what}: ${err instanceof Error ? err.message : String(err)}`;
}
