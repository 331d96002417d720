// The outbox the sync client sends from, kept in memory (Node has no IndexedDB): the same
// batches (cut by bytes by the app's own fitBatch), acknowledgements that delete, and a wake-up
// for new events, so that the app's real SyncClient can be run against a real server in a test.
import { fitBatch } from '../../src/sync/batch';
import type { Batch, Outbox } from '../../src/sync/outbox';
import type { SyncEvent } from '../../src/sync/protocol';

export class MemoryOutbox {
  private readonly sessions = new Map<string, { events: SyncEvent[]; acked: number; appended: number }>();
  private wakers: (() => void)[] = [];
  private readonly watchers = new Set<() => void>();

  /** As the recorder appends: numbered events of one session. */
  add(sessionId: string, events: readonly SyncEvent[]): void {
    let s = this.sessions.get(sessionId);
    if (!s) this.sessions.set(sessionId, (s = { events: [], acked: 0, appended: 0 }));
    s.events.push(...events);
    s.appended = Math.max(s.appended, ...events.map((e) => e.seq));
    for (const w of this.wakers.splice(0)) w();
    for (const w of this.watchers) w();
  }

  /** What is kept, not yet acknowledged. */
  kept(sessionId: string): SyncEvent[] {
    return [...(this.sessions.get(sessionId)?.events ?? [])];
  }

  async nextBatch(skip: ReadonlySet<string> = new Set()): Promise<Batch | undefined> {
    for (const [sessionId, s] of this.sessions) {
      if (skip.has(sessionId) || !s.events.length) continue;
      const n = fitBatch(sessionId, s.events);
      if (n === 0) return { sessionId, events: [], unsendable: { seq: s.events[0]!.seq, bytes: JSON.stringify(s.events[0]!.payload).length } };
      return { sessionId, events: s.events.slice(0, n) };
    }
    return undefined;
  }

  async ack(sessionId: string, seq: number): Promise<void> {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    s.acked = Math.max(s.acked, seq);
    s.events = s.events.filter((e) => e.seq > seq);
  }

  async progress(sessionId: string): Promise<{ appended: number; acked: number } | undefined> {
    const s = this.sessions.get(sessionId);
    return s && { appended: s.appended, acked: s.acked };
  }

  async pendingCount(): Promise<number> {
    return [...this.sessions.values()].reduce((n, s) => n + s.events.length, 0);
  }

  async sessionPending(sessionId: string): Promise<number> {
    return this.sessions.get(sessionId)?.events.length ?? 0;
  }

  waitForEvents(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(done, ms);
      this.wakers.push(done);
      function done() {
        clearTimeout(t);
        r();
      }
    });
  }

  watch(fn: () => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  /** Typed as the app's Outbox, for the SyncClient. */
  get asOutbox(): Outbox {
    return this as unknown as Outbox;
  }
}
