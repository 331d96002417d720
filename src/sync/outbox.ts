import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { isQuotaExceeded, versionChangeCallbacks, type VersionChange } from '../platform/storage';
import { BATCH_LIMITS, fitBatch, normalisePayload } from './batch';
import type { EventKind, SyncEvent } from './protocol';

export { OversizeEventError } from './batch';

interface OutboxSession {
  readonly sessionId: string;
  readonly nextSeq: number;
  /** Everything up to here is stored on the server (and gone from this outbox). */
  readonly ackedSeq: number;
  readonly startedAt: number;
}

/** What a backend gave this device when it enrolled; kept per backend, never in a URL or localStorage. */
export interface DeviceCredential {
  /** The sync endpoint (ws:// or wss://) the credential belongs to: it is only ever sent there. */
  readonly backend: string;
  readonly deviceId: string;
  readonly token: string;
  readonly name: string;
  readonly enrolledAt: number;
}

interface OutboxDB extends DBSchema {
  sessions: { key: string; value: OutboxSession };
  events: { key: [string, number]; value: SyncEvent & { sessionId: string } };
  credentials: { key: string; value: DeviceCredential };
}

export class OutboxFullError extends Error {}

export type Batch =
  | { readonly sessionId: string; readonly events: SyncEvent[]; readonly unsendable?: undefined }
  /** The session's next event cannot fit any message (only an outbox from before appends were checked can hold one). */
  | { readonly sessionId: string; readonly events: readonly []; readonly unsendable: { readonly seq: number; readonly bytes: number } };

const CHANNEL = 'framewise-outbox';
const VERSION = 2;

/**
 * The durable outbox: an event counts as emitted once it is here, numbered within its
 * session. The sync loop (in whichever tab holds the lock) sends and then acknowledges;
 * acknowledged events are deleted. Other tabs' appends wake it through a BroadcastChannel.
 */
export class Outbox {
  private readonly channel = new BroadcastChannel(CHANNEL);
  private readonly wakers = new Set<() => void>();
  private readonly watchers = new Set<() => void>();

  private constructor(private readonly db: IDBPDatabase<OutboxDB>) {
    this.channel.onmessage = () => this.wake();
  }

  static async open(name = 'framewise-outbox', change: VersionChange = {}): Promise<Outbox> {
    let db: IDBPDatabase<OutboxDB> | undefined;
    db = await openDB<OutboxDB>(name, VERSION, {
      ...versionChangeCallbacks(change, () => db),
      upgrade(db, oldVersion) {
        // Each step only adds: an outbox from an older version keeps every session and event.
        if (oldVersion < 1) {
          db.createObjectStore('sessions', { keyPath: 'sessionId' });
          db.createObjectStore('events', { keyPath: ['sessionId', 'seq'] });
        }
        if (oldVersion < 2) db.createObjectStore('credentials', { keyPath: 'backend' });
      },
    });
    return new Outbox(db);
  }

  async startSession(sessionId: string = newSessionId()): Promise<string> {
    const existing = await this.db.get('sessions', sessionId);
    if (!existing) {
      const tx = this.db.transaction('sessions', 'readwrite', { durability: 'strict' });
      void tx.store.put({ sessionId, nextSeq: 1, ackedSeq: 0, startedAt: Date.now() });
      await this.guard(tx.done);
    }
    return sessionId;
  }

  /**
   * Appends one event in a single transaction with its sequence number, flushed to disk
   * before it resolves (strict durability: an event the app counts as emitted survives a
   * power cut). An event the backend could never accept is refused here (OversizeEventError)
   * and not kept: stored, it would block its session for good.
   */
  async append(sessionId: string, kind: EventKind, payload: unknown): Promise<SyncEvent> {
    const normal = normalisePayload(kind, payload).payload;
    const tx = this.db.transaction(['sessions', 'events'], 'readwrite', { durability: 'strict' });
    const session = await tx.objectStore('sessions').get(sessionId);
    if (!session) {
      tx.abort();
      throw new Error(`outbox: no session ${sessionId}`);
    }
    const event = { sessionId, seq: session.nextSeq, ts: Date.now(), kind, payload: normal };
    void tx.objectStore('events').put(event);
    void tx.objectStore('sessions').put({ ...session, nextSeq: session.nextSeq + 1 });
    await this.guard(tx.done);
    this.wake();
    this.channel.postMessage('appended');
    const { sessionId: _s, ...e } = event;
    return e;
  }

  /**
   * The oldest unsent events of the first session (in key order) that has any and is not in
   * `skip`, as many as fit one events message by bytes and by count.
   */
  async nextBatch(skip: ReadonlySet<string> = new Set(), limits: { maxBytes: number; maxEvents: number } = BATCH_LIMITS): Promise<Batch | undefined> {
    let cursor = await this.db.transaction('events').store.openKeyCursor();
    while (cursor && skip.has(cursor.key[0])) cursor = await cursor.continue([cursor.key[0], Infinity]);
    if (!cursor) return undefined;
    const sessionId = cursor.key[0];
    const rows = await this.db.getAll('events', IDBKeyRange.bound([sessionId, 0], [sessionId, Infinity]), limits.maxEvents);
    const events = rows.map(({ sessionId: _s, ...e }) => e);
    const n = fitBatch(sessionId, events, limits);
    if (n === 0) return { sessionId, events: [], unsendable: { seq: events[0]!.seq, bytes: new TextEncoder().encode(JSON.stringify(events[0])).length } };
    return { sessionId, events: events.slice(0, n) };
  }

  /** The server holds everything up to `seq`: forget it here. */
  async ack(sessionId: string, seq: number): Promise<void> {
    const tx = this.db.transaction(['sessions', 'events'], 'readwrite');
    await tx.objectStore('events').delete(IDBKeyRange.bound([sessionId, 0], [sessionId, seq]));
    const s = await tx.objectStore('sessions').get(sessionId);
    if (s && seq > s.ackedSeq) await tx.objectStore('sessions').put({ ...s, ackedSeq: seq });
    await tx.done;
    for (const w of this.watchers) w();
  }

  /** How far a session got: the last seq appended and the last the server acknowledged. */
  async progress(sessionId: string): Promise<{ appended: number; acked: number } | undefined> {
    const s = await this.db.get('sessions', sessionId);
    return s && { appended: s.nextSeq - 1, acked: s.ackedSeq };
  }

  pendingCount(): Promise<number> {
    return this.db.count('events');
  }

  /** Events of one session still kept here. */
  sessionPending(sessionId: string): Promise<number> {
    return this.db.count('events', IDBKeyRange.bound([sessionId, 0], [sessionId, Infinity]));
  }

  /** Every event still kept for a session, in order (for tests and export). */
  async sessionEvents(sessionId: string): Promise<SyncEvent[]> {
    const rows = await this.db.getAll('events', IDBKeyRange.bound([sessionId, 0], [sessionId, Infinity]));
    return rows.map(({ sessionId: _s, ...e }) => e);
  }

  credential(backend: string): Promise<DeviceCredential | undefined> {
    return this.db.get('credentials', backend);
  }

  async saveCredential(c: DeviceCredential): Promise<void> {
    const tx = this.db.transaction('credentials', 'readwrite', { durability: 'strict' });
    void tx.store.put(c);
    await this.guard(tx.done);
  }

  forgetCredential(backend: string): Promise<void> {
    return this.db.delete('credentials', backend);
  }

  /** Resolves when an event is appended here or in another tab, or after `ms`. */
  waitForEvents(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  /** Called whenever the outbox changes here or in another tab (for pending counts). */
  watch(fn: () => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  close(): void {
    this.channel.close();
    this.db.close();
  }

  private wake(): void {
    for (const w of [...this.wakers]) w();
    for (const w of this.watchers) w();
  }

  private async guard<T>(op: Promise<T>): Promise<T> {
    try {
      return await op;
    } catch (err) {
      if (isQuotaExceeded(err)) throw new OutboxFullError('Storage is full: new events cannot be kept for syncing. Free some space on this device; nothing already kept is lost.');
      throw err;
    }
  }
}

export function newSessionId(): string {
  return `s-${crypto.randomUUID()}`;
}
