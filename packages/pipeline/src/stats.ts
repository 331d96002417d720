import type { ProcessorInfo } from './protocol.js';

/** The last `size` samples of something, for percentiles that follow recent behaviour. */
export class RollingWindow {
  private readonly samples: number[] = [];
  private next = 0;

  constructor(private readonly size = 200) {}

  add(value: number): void {
    if (this.samples.length < this.size) this.samples.push(value);
    else this.samples[this.next] = value;
    this.next = (this.next + 1) % this.size;
  }

  percentile(p: number): number | undefined {
    return percentile(this.samples, p);
  }
}

/** Nearest-rank percentile (p in 0–100); undefined for no samples. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** dropped / (processed + dropped), 0 when nothing happened yet. */
export function dropRate(processed: number, dropped: number): number {
  const total = processed + dropped;
  return total === 0 ? 0 : dropped / total;
}


/** One worker's health and throughput, as the HUD and the bench show it. */
export interface WorkerMetrics {
  readonly workerId: string;
  readonly role: string;
  readonly ready: boolean;
  readonly processed: number;
  readonly errors: number;
  /** Frames dropped by this worker's channel, shared out evenly across a pool. */
  readonly dropped: number;
  readonly dropRate: number;
  readonly processMsP50: number | undefined;
  readonly processMsP95: number | undefined;
  readonly latencyMsP50: number | undefined;
  readonly latencyMsP95: number | undefined;
  readonly lastSeenMsAgo: number;
  readonly restarts: number;
  readonly inFlight: number;
  readonly watchdogTimeoutMs: number;
  /** Which processor and provider the worker runs, and why (undefined until it is ready). */
  readonly info: ProcessorInfo | undefined;
}

/** What a worker is doing right now, from its current generation. */
export interface WorkerLive {
  readonly ready: boolean;
  readonly inFlight: number;
  readonly lastSeenMsAgo: number;
  readonly info: ProcessorInfo | undefined;
}

/** One worker id's counters, kept across its restarts. */
export class WorkerTally {
  processed = 0;
  errors = 0;
  restarts = 0;
  private readonly processMs = new RollingWindow(100);
  private readonly latencyMs = new RollingWindow(100);

  constructor(readonly workerId: string, readonly role: string) {}

  result(processMs: number, latencyMs: number): void {
    this.processed++;
    this.processMs.add(processMs);
    this.latencyMs.add(latencyMs);
  }

  error(): void {
    this.errors++;
  }

  /** How long a frame may take before the watchdog calls the worker hung: max(floor, 3 × recent p95). */
  watchdogTimeoutMs(floorMs: number): number {
    return Math.max(floorMs, 3 * (this.processMs.percentile(95) ?? 0));
  }

  metrics(live: WorkerLive, dropped: number, watchdogFloorMs: number): WorkerMetrics {
    return {
      workerId: this.workerId,
      role: this.role,
      ready: live.ready,
      processed: this.processed,
      errors: this.errors,
      dropped,
      dropRate: dropRate(this.processed, dropped),
      processMsP50: this.processMs.percentile(50),
      processMsP95: this.processMs.percentile(95),
      latencyMsP50: this.latencyMs.percentile(50),
      latencyMsP95: this.latencyMs.percentile(95),
      lastSeenMsAgo: live.lastSeenMsAgo,
      restarts: this.restarts,
      inFlight: live.inFlight,
      watchdogTimeoutMs: this.watchdogTimeoutMs(watchdogFloorMs),
      info: live.info,
    };
  }
}

/** Events in the last second (frames in, results out): the one rate counter the HUD's fps figures use. */
export class RateCounter {
  private readonly times: number[] = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  mark(at = this.now()): void {
    this.times.push(at);
    this.forgetBefore(at - 1000);
  }

  perSecond(): number {
    this.forgetBefore(this.now() - 1000);
    return this.times.length;
  }

  private forgetBefore(cutoff: number): void {
    while (this.times.length > 0 && this.times[0]! < cutoff) this.times.shift();
  }
}
