// One reconnect policy for every socket the app keeps open (the sync client and the
// dashboard's live feed): exponential-backoff's full jitter, 0.5 s doubling to 30 s.
import { backOff } from 'exponential-backoff';

export const BACKOFF = { startingDelay: 500, timeMultiple: 2, maxDelay: 30_000, jitter: 'full' } as const;

export interface ReconnectOptions {
  /** Ends the loop at once, even in the middle of a 30 s wait. */
  readonly signal: AbortSignal;
  /** An error no retry can mend (a refused credential): the loop rejects with it. */
  readonly isFatal?: (err: unknown) => boolean;
  /** Called after each failed attempt, before its wait; `attempt` counts failures in a row from 1. */
  readonly onFailure?: (err: unknown, attempt: number) => void;
  readonly startingDelay?: number;
  readonly maxDelay?: number;
}

class Aborted extends Error {}

/**
 * Runs `connect` until the signal aborts (resolves) or it fails fatally (rejects).
 * A run that resolves made progress before it ended, so the next one starts at once with
 * the backoff reset; a run that throws made none, and the next waits longer each time.
 * A run that keeps resolving without progress would loop hot, so callers resolve only
 * after real progress (something acknowledged, a session set aside).
 */
export async function reconnecting(connect: () => Promise<void>, opts: ReconnectOptions): Promise<void> {
  const { signal } = opts;
  // backOff's own waits are plain timers: racing them with the signal lets a stop return
  // (and release a Web Lock) at once; the orphaned timer then finds the signal aborted and ends.
  const aborted = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  while (!signal.aborted) {
    const run = backOff(
      async () => {
        if (signal.aborted) throw new Aborted();
        await connect();
      },
      {
        ...BACKOFF,
        startingDelay: opts.startingDelay ?? BACKOFF.startingDelay,
        maxDelay: opts.maxDelay ?? BACKOFF.maxDelay,
        numOfAttempts: Number.MAX_SAFE_INTEGER,
        retry: (err: unknown, attempt: number) => {
          if (signal.aborted || err instanceof Aborted || opts.isFatal?.(err)) return false;
          opts.onFailure?.(err, attempt);
          return true;
        },
      },
    );
    run.catch(() => {}); // settled below, or abandoned after an abort
    const outcome = await Promise.race([run.then(() => ({ ok: true as const }), (err: unknown) => ({ ok: false as const, err })), aborted.then(() => undefined)]);
    if (!outcome || signal.aborted) return;
    if (!outcome.ok) {
      if (outcome.err instanceof Aborted) return;
      throw outcome.err;
    }
  }
}
