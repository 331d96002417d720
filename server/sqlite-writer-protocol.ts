// What the SQLite store and its writer thread (server/sqlite-writer.ts) say to each other.
import type { StoreChange } from './store';

/**
 * The store's writes, by name, with their arguments (structured-cloned), on one of the thread's
 * databases: `open` (args: file, trace) opens it (tables made, lagging facts folded), `close`
 * closes it once its queued writes are done.
 */
export interface WriterRequest {
  readonly id: number;
  readonly db: number;
  readonly method: 'open' | 'createDevice' | 'revokeDevice' | 'claimSession' | 'append' | 'deleteSessionsBefore' | 'pruneUsage' | 'stats' | 'close';
  readonly args: readonly unknown[];
}

export interface WriterError {
  readonly message: string;
  /** SQLite's code (SQLITE_FULL, SQLITE_READONLY, …) when there is one. */
  readonly code?: string;
}

export type WriterReply =
  | { readonly type: 'result'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'result'; readonly id: number; readonly ok: false; readonly error: WriterError }
  /** A committed change, sent before the answer to the write that made it. */
  | { readonly type: 'change'; readonly db: number; readonly change: StoreChange }
  | { readonly type: 'trace'; readonly db: number; readonly sql: string };

export interface WriterStats {
  /** Transactions committed, each holding one or more writes. */
  groups: number;
  writes: number;
  /** Groups that failed as a whole (the transaction could not begin or commit). */
  failedGroups: number;
}
