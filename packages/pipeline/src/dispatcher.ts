import type { PipelineResult } from './results.js';

/**
 * How results of one role are ordered on the way out:
 * - `latest`: live mode; a result older than the last one delivered is stale and discarded
 *   (a slower worker finishing an older frame must not move the boxes back in time);
 * - `complete`: lossless mode; results are held back and delivered in strict `seq` order,
 *   every frame accounted for (a result, an error, or a skip for a dropped frame).
 */
export type Ordering = 'latest' | 'complete';

type Listener = (result: PipelineResult) => void;
type Entry = PipelineResult | 'skip';

interface Lane {
  readonly ordering: Ordering;
  lastSeq: number;
  /** complete mode: results and skips waiting for their turn. */
  readonly pending: Map<number, Entry>;
  delivered: number;
  discarded: number;
}

export interface LaneStats {
  readonly delivered: number;
  readonly discarded: number;
  readonly pending: number;
  readonly lastSeq: number;
}

/** The single ordered output of the pipeline: one lane per group. */
export class Dispatcher {
  private readonly lanes = new Map<string, Lane>();
  private readonly listeners = new Set<Listener>();

  constructor(ordering: Readonly<Record<string, Ordering>> = {}) {
    for (const [role, o] of Object.entries(ordering)) this.addLane(role, o);
  }

  addLane(role: string, ordering: Ordering): void {
    if (this.lanes.has(role)) throw new Error(`the dispatcher already has a ${role} lane`);
    this.lanes.set(role, { ordering, lastSeq: 0, pending: new Map(), delivered: 0, discarded: 0 });
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  push(result: PipelineResult): void {
    const lane = this.lane(result.role);
    if (lane.ordering === 'latest') {
      if (result.seq <= lane.lastSeq) {
        lane.discarded++;
        return;
      }
      this.emit(lane, result);
      return;
    }
    lane.pending.set(result.seq, result);
    this.flush(lane);
  }

  /** In complete mode, a frame that will never have a result for this role. */
  skip(role: string, seq: number): void {
    const lane = this.lane(role);
    if (lane.ordering !== 'complete') return;
    lane.pending.set(seq, 'skip');
    this.flush(lane);
  }

  stats(role: string): LaneStats {
    const l = this.lane(role);
    return { delivered: l.delivered, discarded: l.discarded, pending: l.pending.size, lastSeq: l.lastSeq };
  }

  private lane(role: string): Lane {
    const lane = this.lanes.get(role);
    if (!lane) throw new Error(`no ${role} lane in the dispatcher`);
    return lane;
  }

  private flush(lane: Lane): void {
    for (let next = lane.pending.get(lane.lastSeq + 1); next !== undefined; next = lane.pending.get(lane.lastSeq + 1)) {
      lane.pending.delete(lane.lastSeq + 1);
      if (next === 'skip') lane.lastSeq++;
      else this.emit(lane, next);
    }
  }

  private emit(lane: Lane, result: PipelineResult): void {
    lane.lastSeq = result.seq;
    lane.delivered++;
    const frozen = Object.freeze(result);
    for (const l of this.listeners) l(frozen);
  }
}
