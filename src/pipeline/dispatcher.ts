import type { WorkerRole } from '../shared/protocol';
import type { PipelineResult } from './results';

/**
 * How results of one role are ordered on the way out:
 * - `latest`: live mode; a result older than the last one delivered is stale and discarded
 *   (a slower worker finishing an older frame must not move the boxes back in time);
 * - `complete`: lossless mode; results are held back and delivered in strict `seq` order,
 *   every frame accounted for (a result, an error, or a skip for a dropped frame).
 */
export type Ordering = 'latest' | 'complete';

type Listener = (result: PipelineResult) => void;

interface Lane {
  readonly ordering: Ordering;
  lastSeq: number;
  /** complete mode: results and skips waiting for their turn. */
  readonly pending: Map<number, PipelineResult | 'skip'>;
  delivered: number;
  discarded: number;
}

/** The single ordered output of the pipeline. */
export class Dispatcher {
  private readonly lanes: Record<WorkerRole, Lane>;
  private readonly listeners = new Set<Listener>();

  constructor(ordering: Record<WorkerRole, Ordering>) {
    const lane = (o: Ordering): Lane => ({ ordering: o, lastSeq: 0, pending: new Map(), delivered: 0, discarded: 0 });
    this.lanes = { state: lane(ordering.state), localization: lane(ordering.localization) };
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  push(result: PipelineResult): void {
    const lane = this.lanes[result.role];
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
  skip(role: WorkerRole, seq: number): void {
    const lane = this.lanes[role];
    if (lane.ordering !== 'complete') return;
    lane.pending.set(seq, 'skip');
    this.flush(lane);
  }

  stats(role: WorkerRole): { delivered: number; discarded: number; pending: number; lastSeq: number } {
    const l = this.lanes[role];
    return { delivered: l.delivered, discarded: l.discarded, pending: l.pending.size, lastSeq: l.lastSeq };
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
