import type { Outbox } from './outbox';
import type { ClientMessage, ServerMessage } from './protocol';

export interface SyncStatus {
  readonly state: 'connecting' | 'connected' | 'offline' | 'standby' | 'stopped';
  readonly pending: number;
  readonly lastAck?: { readonly sessionId: string; readonly seq: number; readonly at: number };
  readonly error?: string;
  readonly reconnects: number;
}

export interface SyncOptions {
  /** ws:// or wss:// URL of the sync endpoint. */
  readonly url: string;
  readonly token: string;
  readonly onStatus?: (s: SyncStatus) => void;
  /** Name of the Web Lock that makes one tab per origin the sender. */
  readonly lockName?: string;
  readonly ackTimeoutMs?: number;
}

class Closed extends Error {}

/** min(30 s, 0.5 s × 2^attempt), jittered down by up to half so that clients do not reconnect in step. */
export function backoffMs(attempt: number, random = Math.random()): number {
  return Math.min(30_000, 500 * 2 ** attempt) * (0.5 + random / 2);
}

/**
 * Sends the outbox to the backend, in order, resuming from the server's acknowledged
 * sequence after every reconnect or reload. Only the tab holding the Web Lock sends.
 */
export class SyncClient {
  private status: SyncStatus = { state: 'standby', pending: 0, reconnects: 0 };
  private readonly abort = new AbortController();
  private socket: WebSocket | undefined;
  private stopped = false;
  private unwatch: (() => void) | undefined;

  constructor(private readonly outbox: Outbox, private readonly opts: SyncOptions) {}

  start(): void {
    void this.refreshPending();
    // Pending counts follow the outbox in every state, offline and standby included.
    let queued = false;
    this.unwatch = this.outbox.watch(() => {
      if (queued) return;
      queued = true;
      setTimeout(() => {
        queued = false;
        void this.refreshPending();
      }, 100);
    });
    navigator.locks
      .request(this.opts.lockName ?? 'framewise-sync', { signal: this.abort.signal }, () => this.loop())
      .catch((err: unknown) => {
        if (!this.stopped) this.update({ state: 'stopped', error: String(err) });
      });
  }

  stop(): void {
    this.stopped = true;
    this.unwatch?.();
    this.abort.abort();
    this.socket?.close(1000, 'stopped');
    this.update({ state: 'stopped' });
  }

  get current(): SyncStatus {
    return this.status;
  }

  /** For tests and the "retry now" button: drop the connection; the loop reconnects. */
  dropConnection(): void {
    this.socket?.close(4000, 'dropped by client');
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      try {
        await this.connectAndPump(() => (attempt = 0));
      } catch (err) {
        if (this.stopped) break;
        this.update({ state: 'offline', error: err instanceof Error ? err.message : String(err), reconnects: this.status.reconnects + 1 });
      }
      if (this.stopped) break;
      await this.sleep(backoffMs(attempt++));
    }
  }

  private connectAndPump(onProgress: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.update({ state: 'connecting' });
      const url = new URL(this.opts.url);
      url.searchParams.set('token', this.opts.token);
      const ws = new WebSocket(url);
      this.socket = ws;
      const inbox: ServerMessage[] = [];
      let waiter: (() => void) | undefined;
      let closed: Closed | undefined;
      ws.onmessage = (e) => {
        try {
          inbox.push(JSON.parse(String(e.data)) as ServerMessage);
        } catch {
          return; // the server only sends JSON; anything else is ignored
        }
        waiter?.();
      };
      ws.onclose = (e) => {
        closed = new Closed(`connection closed (${e.code}${e.reason ? `: ${e.reason}` : ''})`);
        waiter?.();
      };
      const receive = async (type: ServerMessage['type'], sessionId: string): Promise<ServerMessage> => {
        const deadline = Date.now() + (this.opts.ackTimeoutMs ?? 10_000);
        for (;;) {
          const i = inbox.findIndex((m) => m.type === type && m.sessionId === sessionId);
          if (i >= 0) return inbox.splice(i, 1)[0]!;
          if (closed) throw closed;
          if (Date.now() > deadline) throw new Error(`no ${type} from the server in time`);
          await new Promise<void>((r) => {
            waiter = r;
            setTimeout(r, 250);
          });
          waiter = undefined;
        }
      };
      const send = (m: ClientMessage) => ws.send(JSON.stringify(m));
      ws.onopen = async () => {
        this.update({ state: 'connected', error: undefined });
        const welcomed = new Set<string>();
        try {
          while (!this.stopped && !closed) {
            const batch = await this.outbox.nextBatch();
            if (!batch) {
              await this.refreshPending();
              await Promise.race([this.outbox.waitForEvents(5000), new Promise<void>((r) => (waiter = r))]);
              continue;
            }
            if (!welcomed.has(batch.sessionId)) {
              // Resume: whatever the server already holds is acknowledged without resending.
              send({ type: 'hello', sessionId: batch.sessionId });
              const w = await receive('welcome', batch.sessionId);
              if (w.type === 'welcome') await this.acked(batch.sessionId, w.ackedSeq);
              welcomed.add(batch.sessionId);
              continue;
            }
            send({ type: 'events', sessionId: batch.sessionId, events: batch.events });
            const ack = await receive('ack', batch.sessionId);
            if (ack.type === 'ack') {
              await this.acked(batch.sessionId, ack.seq);
              onProgress();
            }
          }
          ws.close();
          if (closed && !this.stopped) reject(closed);
          else resolve();
        } catch (err) {
          ws.close();
          reject(err);
        }
      };
      ws.onerror = () => {
        if (ws.readyState !== WebSocket.OPEN) {
          // Never opened: the close event follows; report it as the reason.
          setTimeout(() => reject(closed ?? new Error('cannot reach the sync server')), 0);
        }
      };
    });
  }

  private async acked(sessionId: string, seq: number): Promise<void> {
    if (seq > 0) await this.outbox.ack(sessionId, seq);
    this.update({ lastAck: { sessionId, seq, at: Date.now() } });
    await this.refreshPending();
  }

  private async refreshPending(): Promise<void> {
    this.update({ pending: await this.outbox.pendingCount() });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(r, ms);
      this.abort.signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
    });
  }

  private update(patch: Partial<SyncStatus>): void {
    this.status = { ...this.status, ...patch };
    this.opts.onStatus?.(this.status);
  }
}
