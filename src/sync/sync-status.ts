// What the sync client says about itself: shown by the page (src/ui/sync-status.ts), read by tests.

export type SyncState =
  /** Asking the backend for this device's credential. */
  | 'enrolling'
  /** Nothing to send; no socket open. */
  | 'idle'
  | 'connecting'
  | 'connected'
  /** The last attempt failed; retrying with backoff. */
  | 'offline'
  /** Another tab holds the sync lock and sends for this origin. */
  | 'standby'
  /** The backend will not take this device (enrolment refused, credential revoked); nothing is retried until the person acts. */
  | 'refused'
  /**
   * The backend asked this device to wait (it has sent its share for today, or the backend's disk
   * is nearly full): what it acknowledged is safe, the rest stays in the outbox, and sending
   * resumes by itself at `retryAt`.
   */
  | 'waiting'
  | 'stopped';

/** A session kept on this device that is not being sent; it never holds up the others. */
export interface HeldSession {
  readonly sessionId: string;
  /** `full`: the backend holds the most events one session may (close code 4413); the rest stay here. */
  readonly reason: 'forbidden' | 'full' | 'lost' | 'rejected' | 'unsendable';
  /** Events of it still kept here. */
  readonly events: number;
  /** For `lost`: how many acknowledged events the backend no longer has. */
  readonly lost?: number;
  readonly message: string;
}

export interface SyncStatus {
  readonly state: SyncState;
  readonly pending: number;
  readonly lastAck?: { readonly sessionId: string; readonly seq: number; readonly at: number };
  /** Why the last attempt failed, why the backend refuses this device, or why it asked it to wait. */
  readonly error?: string;
  /** In `waiting`: when sending resumes (epoch ms). */
  readonly retryAt?: number;
  readonly reconnects: number;
  readonly held: readonly HeldSession[];
  /** Replies that claimed more than this device sent, and were not believed. */
  readonly distrusted: number;
  /** Close codes seen, with how often. */
  readonly closes: Readonly<Record<number, number>>;
}
