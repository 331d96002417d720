import type { ChannelConfig } from './channel.js';
import type { Ordering } from './dispatcher.js';
import type { SpawnWorker } from './worker-handle.js';

/** One group of identical workers behind one channel. */
export interface GroupSpec<Role extends string = string> {
  /** The group's name: results, stats and control messages are addressed by it. */
  readonly role: Role;
  /** Workers in the group (1 for a serial stage, more for a pool sharing one queue). */
  readonly size: number;
  /** The group's queue: what happens to a frame when every worker is busy. */
  readonly channel: ChannelConfig;
  /**
   * How results leave: `latest` discards one older than the last delivered (live), `complete`
   * delivers every frame in order, dropped ones as skips. Default: complete for `block`, else latest.
   */
  readonly ordering?: Ordering;
  /** Creates one worker; write it as `() => new Worker(new URL('./x.worker.ts', import.meta.url), { type: 'module' })` so the bundler finds it. */
  readonly spawn: SpawnWorker;
  /** Structured-cloned into each worker's defineProcessor factory. */
  readonly config: unknown;
}
