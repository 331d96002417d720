// The free-disk watermark: below `minFreeBytes` free on the disk that holds the data, writes are
// refused (CLOSE.storageLow) before the disk is full, so that nothing half-written ever has to be
// recovered and what was acknowledged stays readable. Free space is read with statfs at most
// once every `everyMs`, and sooner once `everyBytes` have been let through since.
import { statfs as statfsAsync } from 'node:fs/promises';
import { CLOSE, retryReason } from '../src/sync/protocol';

export interface DiskWatchOptions {
  /** A directory on the disk to watch (the SQLite file's). */
  readonly path: string;
  readonly minFreeBytes: number;
  /** Free bytes available to this process on that disk (tests stand in for the disk). */
  readonly statfs?: (path: string) => Promise<number>;
  readonly now?: () => number;
  readonly everyMs?: number;
  readonly everyBytes?: number;
}

export type DiskVerdict = { readonly ok: true } | { readonly ok: false; readonly code: number; readonly reason: string; readonly freeBytes: number };

/** While low, a device is told to come back after this long. */
export const DISK_RETRY_MS = 60_000;

const realFree = async (path: string) => {
  const s = await statfsAsync(path);
  return Number(s.bavail) * Number(s.bsize);
};

export class DiskWatch {
  private free: number | undefined;
  private checkedAt = -Infinity;
  private since = 0;
  private reading: Promise<number> | undefined;
  private readonly statfs: (path: string) => Promise<number>;
  private readonly now: () => number;

  constructor(private readonly opts: DiskWatchOptions) {
    this.statfs = opts.statfs ?? realFree;
    this.now = opts.now ?? Date.now;
  }

  /** Whether `bytes` more may be written now. A disk that cannot be read is not judged (the store's own errors still stand). */
  async check(bytes: number): Promise<DiskVerdict> {
    const stale = this.now() - this.checkedAt >= (this.opts.everyMs ?? 1_000) || this.since >= (this.opts.everyBytes ?? 16 * 1024 * 1024);
    if (stale || this.free === undefined) {
      this.reading ??= this.statfs(this.opts.path).finally(() => (this.reading = undefined));
      try {
        this.free = await this.reading;
      } catch {
        this.free = undefined;
      }
      this.checkedAt = this.now();
      this.since = 0;
    }
    if (this.free !== undefined && this.free - bytes < this.opts.minFreeBytes) {
      return { ok: false, code: CLOSE.storageLow, freeBytes: this.free, reason: retryReason("the server's disk is nearly full and takes no more for now", DISK_RETRY_MS) };
    }
    this.since += bytes;
    return { ok: true };
  }

  /** Free bytes at the last look (undefined before one, or when it could not be read). */
  get lastFree(): number | undefined {
    return this.free;
  }
}
