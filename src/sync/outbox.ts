import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { EventKind, SyncEvent } from './protocol';

interface OutboxSession {
  readonly sessionId: string;
  readonly nextSeq: number;
  /** Everything up to here is stored on the server (and gone from this outbox). */
  readonly ackedSeq: number;
  readonly startedAt: number;
}

interface OutboxDB extends DBSchema {
  sessions: { key: string; value: OutboxSession };
  events: { key: [string, number]; value: SyncEvent & { sessionId: string } };
}

export class OutboxFullError extends Error {}

const CHANNEL = 'framewise-outbox';

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

  static async open(name = 'framewise-outbox'): Promise<Outbox> {
    const db = await openDB<OutboxDB>(name, 1, {
      upgrade(db) {
        db.createObjectStore('sessions', { keyPath: 'sessionId' });
        db.createObjectStore('events', { keyPath: ['sessionId', 'seq'] });
      },
    });
    return new Outbox(db);
  }

  async startSession(sessionId: string = newSessionId()): Promise<string> {
    const existing = await this.db.get('sessions', sessionId);
    if (!existing) await this.guard(this.db.put('sessions', { sessionId, nextSeq: 1, ackedSeq: 0, startedAt: Date.now() }));
    return sessionId;
  }

  /** Appends one event in a single transaction with its sequence number. */
  async append(sessionId: string, kind: EventKind, payload: unknown): Promise<SyncEvent> {
    const tx = this.db.transaction(['sessions', 'events'], 'readwrite');
    const session = await tx.objectStore('sessions').get(sessionId);
    if (!session) {
      tx.abort();
      throw new Error(`outbox: no session ${sessionId}`);
    }
    const event = { sessionId, seq: session.nextSeq, ts: Date.now(), kind, payload };
    void tx.objectStore('events').put(event);
    void tx.objectStore('sessions').put({ ...session, nextSeq: session.nextSeq + 1 });
    await this.guard(tx.done);
    this.wake();
    this.channel.postMessage('appended');
    const { sessionId: _s, ...e } = event;
    return e;
  }

  /** The oldest unsent events of one session that has any, in order. */
  async nextBatch(limit = 100): Promise<{ sessionId: string; events: SyncEvent[] } | undefined> {
    const cursor = await this.db.transaction('events').store.openCursor();
    if (!cursor) return undefined;
    const sessionId = cursor.value.sessionId;
    const rows = await this.db.getAll('events', IDBKeyRange.bound([sessionId, 0], [sessionId, Infinity]), limit);
    return { sessionId, events: rows.map(({ sessionId: _s, ...e }) => e) };
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
      const name = err instanceof DOMException ? err.name : (err as { name?: string })?.name;
      if (name === 'QuotaExceededError') throw new OutboxFullError('Storage is full: new events cannot be kept for syncing. Free some space on this device; nothing already kept is lost.');
      throw err;
    }
  }
}

export function newSessionId(): string {
  return `s-${crypto.randomUUID()}`;
}
