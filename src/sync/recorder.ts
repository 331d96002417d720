import type { Outbox } from './outbox';
import type { EventKind } from './protocol';
import type { RecordedPayloads } from './recorded';

/**
 * A session's durable record: an event counts as emitted once it is in the outbox. Events are
 * appended in the order they are recorded; what to record is the caller's business.
 */
export class Recorder {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly outbox: Outbox,
    readonly sessionId: string,
    private readonly onError: (m: string) => void,
  ) {}

  static async start(outbox: Outbox, info: RecordedPayloads['session-start'], onError: (m: string) => void, sessionId?: string): Promise<Recorder> {
    const id = await outbox.startSession(sessionId);
    const r = new Recorder(outbox, id, onError);
    r.record('session-start', info);
    return r;
  }

  /** Records one event; its payload is typed by its kind (src/sync/recorded.ts). */
  record<K extends EventKind>(kind: K, payload: RecordedPayloads[K]): void {
    // In order: each append waits for the previous one.
    this.chain = this.chain.then(() => this.outbox.append(this.sessionId, kind, payload)).catch((err: unknown) => this.onError(err instanceof Error ? err.message : String(err)));
  }

  async end(summary: RecordedPayloads['session-end']): Promise<void> {
    this.record('session-end', summary);
    await this.chain;
  }

  /** Resolves once everything recorded so far is in the outbox (or reported as failed). */
  flushed(): Promise<unknown> {
    return this.chain;
  }
}
