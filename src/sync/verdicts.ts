// What a backend's reply may change on this device: pure, so every case is tested on its own.

export type Verdict =
  | { readonly kind: 'advance'; readonly to: number }
  | { readonly kind: 'none' }
  | { readonly kind: 'untrusted'; readonly message: string }
  | { readonly kind: 'lost'; readonly lost: number; readonly holds: number; readonly had: number };

/**
 * What a welcome may change: the backend can hold at most what this device appended (an
 * earlier connection may have sent and lost the ack), never more; holding less than this
 * device already deleted means the backend lost them.
 */
export function judgeWelcome(sessionId: string, ackedSeq: number, local: { readonly appended: number; readonly acked: number }): Verdict {
  if (ackedSeq > local.appended) {
    return { kind: 'untrusted', message: `The backend says it holds session ${sessionId} up to #${ackedSeq}, but this device has only recorded up to #${local.appended}: not trusted. Nothing was deleted here; reconnecting.` };
  }
  if (ackedSeq < local.acked) return { kind: 'lost', lost: local.acked - ackedSeq, holds: ackedSeq, had: local.acked };
  return ackedSeq > local.acked ? { kind: 'advance', to: ackedSeq } : { kind: 'none' };
}

/** What an ack for the batch `first..last` may change: nothing above `last` (what was sent) is believed. */
export function judgeAck(sessionId: string, seq: number, batch: { readonly first: number; readonly last: number }): Verdict {
  if (seq > batch.last) {
    return { kind: 'untrusted', message: `The backend acknowledged #${seq} of session ${sessionId}, but this device has only sent up to #${batch.last}: not trusted. Nothing was deleted here; reconnecting.` };
  }
  if (seq < batch.first - 1) return { kind: 'lost', lost: batch.first - 1 - seq, holds: seq, had: batch.first - 1 };
  return seq === batch.first - 1 ? { kind: 'none' } : { kind: 'advance', to: seq };
}
