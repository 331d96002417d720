// Reads that cost the server more than a list page — a page of a timeline's items, a session's
// export, the sessions export — are let through a few at a time (FRAMEWISE_HEAVY_READS); one
// more is answered 503 with Retry-After at once rather than queued, so that the server's memory
// and its store stay free for the requests of everyone else (the devices' writes, the lists).

/** Heavy reads served at once by default. */
export const DEFAULT_HEAVY_READS = 4;
/** What a refused heavy read is told to wait (seconds). */
export const HEAVY_READS_RETRY_S = 2;

export const heavyReadsRefusal = (max: number) =>
  `the server is already answering its most timeline pages and exports at once (${max}, FRAMEWISE_HEAVY_READS); retry in ${HEAVY_READS_RETRY_S} s`;

export class HeavyReads {
  private active = 0;

  constructor(readonly max: number = DEFAULT_HEAVY_READS) {}

  /** Heavy reads being answered now. */
  get inFlight(): number {
    return this.active;
  }

  /** A slot, and its release (which may be called more than once), or undefined when every slot is taken. */
  tryTake(): (() => void) | undefined {
    if (this.active >= this.max) return undefined;
    this.active++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.active--;
    };
  }
}
