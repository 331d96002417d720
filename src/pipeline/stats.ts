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

  get count(): number {
    return this.samples.length;
  }

  percentile(p: number): number | undefined {
    return percentile(this.samples, p);
  }

  values(): readonly number[] {
    return this.samples;
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
