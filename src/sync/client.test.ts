import { afterEach, describe, expect, it, vi } from 'vitest';
import { reconnecting, BACKOFF } from './backoff';
import { fitBatch, normalisePayload, OversizeEventError, BATCH_LIMITS } from './batch';
import { judgeAck, judgeWelcome } from './verdicts';
import { LIMITS, type SyncEvent } from './protocol';
import { jsonBytes } from './bounded-json';
import { compactFrame, MAX_BOXES_PER_FRAME } from './payloads';
import { COCO_LABELS } from '../model/labels';
import type { Detection } from '../model/decode';

// Realistic detections: COCO labels, scores and boxes on a 1920×1080 frame, as the decoder gives them (full float precision).
function detections(n: number, seed = 1): Detection[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: n }, () => {
    const classId = Math.floor(rnd() * COCO_LABELS.length);
    const w = 20 + rnd() * 400;
    const h = 20 + rnd() * 300;
    return { classId, label: COCO_LABELS[classId]!, score: 0.25 + rnd() * 0.75, x: rnd() * (1920 - w), y: rnd() * (1080 - h), w, h };
  });
}

const frameEvent = (seq: number, n: number): SyncEvent => ({ seq, ts: 1_764_000_000_000 + seq * 33, kind: 'detections', payload: compactFrame(seq, seq / 30, detections(n, seq)) });
const verdict = (seq: number): SyncEvent => ({
  seq,
  ts: 1_764_000_000_000 + seq * 250,
  kind: 'state',
  payload: { task: 'desk-setup', step: 2, frame: seq * 8, event: { type: 'progress', step: 2, met: false, reason: 'keyboard is not left of the mouse' }, objects: { keyboard: 1, mouse: 1, cup: 2 } },
});

describe('recorder: compact frames', () => {
  it('keeps all 200 detections of a crowded frame, far under the per-event limit', () => {
    const payload = compactFrame(17, 0.5666666, detections(200));
    expect(payload.boxes).toHaveLength(200);
    expect(payload.omitted).toBe(0);
    const bytes = jsonBytes(payload);
    expect(bytes).toBeLessThan(LIMITS.maxPayloadBytes / 2);
    expect(payload.boxes[0]!.every((v) => Number.isFinite(v))).toBe(true);
    expect(payload.time).toBe(0.567);
    // Every box maps back to its label and keeps the decoder's box to 0.1 px.
    const d = [...detections(200)].sort((a, b) => b.score - a.score)[0]!;
    const [li, score, x] = payload.boxes[0]!;
    expect(payload.labels[li]).toBe(d.label);
    expect(score).toBeCloseTo(d.score, 3);
    expect(x).toBeCloseTo(d.x, 1);
  });

  it('caps a frame with more boxes than the cap (highest scores kept), and labels long enough to pass the budget, saying how many were left out', () => {
    const many = compactFrame(1, 0, detections(MAX_BOXES_PER_FRAME + 50));
    expect(many.boxes).toHaveLength(MAX_BOXES_PER_FRAME);
    expect(many.omitted).toBe(50);
    const lowestKept = Math.min(...many.boxes.map((b) => b[1]));
    expect(lowestKept).toBeGreaterThanOrEqual(0.25);
    const longLabels = detections(250).map((d, i) => ({ ...d, label: `custom-part-${i}-${'x'.repeat(60)}` }));
    const capped = compactFrame(2, 0, longLabels);
    expect(jsonBytes(capped)).toBeLessThanOrEqual(LIMITS.maxPayloadBytes);
    expect(capped.omitted).toBe(250 - capped.boxes.length);
    expect(capped.omitted).toBeGreaterThan(0);
  });
});

describe('outbox: what may be kept', () => {
  it('refuses a payload over the per-event limit with a clear message, and keeps the JSON form of one that fits', () => {
    const huge = { frame: 1, objects: detections(300).map((d) => ({ label: d.label, score: d.score, box: [d.x, d.y, d.w, d.h] })) };
    expect(jsonBytes(huge)).toBeGreaterThan(LIMITS.maxPayloadBytes);
    expect(() => normalisePayload('detections', huge)).toThrow(OversizeEventError);
    expect(() => normalisePayload('detections', huge)).toThrow(/A detections event of \d+\.\d KiB was refused: the backend accepts at most 16 KiB per event, so it was not kept and will not be sent\./);
    let deep: unknown = 'leaf';
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(() => normalisePayload('state', deep)).toThrow(/nested deeper than the backend's limit of 29 levels/);
    expect(normalisePayload('state', { a: undefined, b: NaN, c: 1 }).payload).toEqual({ b: null, c: 1 });
  });
});

describe('outbox: batches by bytes', () => {
  const messageBytes = (sessionId: string, events: SyncEvent[]) => jsonBytes({ type: 'events', sessionId, events });

  it('a busy scene of 200-detection frames is cut into messages under the server limit', () => {
    const events = Array.from({ length: 120 }, (_, i) => frameEvent(i + 1, 200));
    const sid = 's-busy-scene-0001';
    let rest = events;
    const sizes: number[] = [];
    while (rest.length) {
      const n = fitBatch(sid, rest);
      expect(n).toBeGreaterThan(0);
      sizes.push(messageBytes(sid, rest.slice(0, n)));
      // The byte count is exact: one more event would not have fitted.
      if (n < rest.length && n < LIMITS.maxEventsPerMessage) expect(messageBytes(sid, rest.slice(0, n + 1))).toBeGreaterThan(BATCH_LIMITS.maxBytes);
      rest = rest.slice(n);
    }
    expect(sizes.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(LIMITS.maxMessageBytes - 1024);
  });

  it('small events are cut by count at maxEventsPerMessage', () => {
    const events = Array.from({ length: 450 }, (_, i) => verdict(i + 1));
    expect(fitBatch('s-verdicts-0001', events)).toBe(LIMITS.maxEventsPerMessage);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const label = '杯子'.repeat(100); // 3 bytes per character
    const events = Array.from({ length: 100 }, (_, i): SyncEvent => ({ seq: i + 1, ts: 1, kind: 'instruction', payload: { text: label.repeat(10) } }));
    const n = fitBatch('s-unicode-0001', events, { maxBytes: 64 * 1024, maxEvents: 200 });
    expect(messageBytes('s-unicode-0001', events.slice(0, n))).toBeLessThanOrEqual(64 * 1024);
    expect(JSON.stringify(events.slice(0, n + 1)).length).toBeLessThan(64 * 1024); // by characters it would have taken more
  });

  it('an event that cannot fit at all gives an empty batch', () => {
    expect(fitBatch('s-x-00000001', [frameEvent(1, 200)], { maxBytes: 1000, maxEvents: 200 })).toBe(0);
  });

  it('stops before an over-limit payload an older outbox may hold, so the events before it still go', () => {
    const verbose: SyncEvent = { seq: 4, ts: 1, kind: 'detections', payload: { objects: detections(300).map((d) => ({ label: d.label, score: d.score, box: [d.x, d.y, d.w, d.h] })) } };
    expect(fitBatch('s-old-outbox', [verdict(1), verdict(2), verdict(3), verbose, verdict(5)])).toBe(3);
    expect(fitBatch('s-old-outbox', [verbose, verdict(5)])).toBe(0);
  });
});

describe('ack trust rules', () => {
  it('a welcome may advance up to what was appended, never above; below what was deleted is a loss', () => {
    expect(judgeWelcome('s1', 40, { appended: 50, acked: 30 })).toEqual({ kind: 'advance', to: 40 });
    expect(judgeWelcome('s1', 30, { appended: 50, acked: 30 })).toEqual({ kind: 'none' });
    expect(judgeWelcome('s1', 51, { appended: 50, acked: 30 })).toMatchObject({ kind: 'untrusted', message: expect.stringContaining('not trusted') });
    expect(judgeWelcome('s1', 0, { appended: 50, acked: 30 })).toEqual({ kind: 'lost', lost: 30, holds: 0, had: 30 });
  });

  it('an ack may advance within what was sent, never above', () => {
    expect(judgeAck('s1', 60, { first: 31, last: 60 })).toEqual({ kind: 'advance', to: 60 });
    expect(judgeAck('s1', 45, { first: 31, last: 60 })).toEqual({ kind: 'advance', to: 45 });
    expect(judgeAck('s1', 30, { first: 31, last: 60 })).toEqual({ kind: 'none' });
    expect(judgeAck('s1', 61, { first: 31, last: 60 })).toMatchObject({ kind: 'untrusted', message: expect.stringContaining('has only sent up to #60') });
    expect(judgeAck('s1', 10, { first: 31, last: 60 })).toEqual({ kind: 'lost', lost: 20, holds: 10, had: 30 });
  });
});

describe('backoff helper', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('waits (full jitter) up to 0.5 s, doubling to 30 s, after failures; resets after a run that made progress', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.999999); // the top of each jitter range
    const starts: number[] = [];
    const abort = new AbortController();
    let failuresLeft = 9;
    const done = reconnecting(
      async () => {
        starts.push(Date.now());
        if (failuresLeft-- > 0) throw new Error('down');
        if (starts.length === 10) return; // progress: the next run starts at once
        abort.abort();
      },
      { signal: abort.signal },
    );
    await vi.advanceTimersByTimeAsync(200_000);
    await done;
    const waits = starts.slice(1).map((t, i) => t - starts[i]!);
    expect(waits.slice(0, 9)).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(waits[9]).toBe(0);
    expect(BACKOFF).toMatchObject({ startingDelay: 500, maxDelay: 30_000, jitter: 'full' });
  });

  it('jitters: a low random number waits less', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.1);
    const starts: number[] = [];
    const abort = new AbortController();
    const done = reconnecting(async () => {
      starts.push(Date.now());
      if (starts.length === 5) abort.abort();
      throw new Error('down');
    }, { signal: abort.signal });
    await vi.advanceTimersByTimeAsync(10_000);
    await done;
    expect(starts.slice(1).map((t, i) => t - starts[i]!)).toEqual([50, 100, 200, 400]);
  });

  it('stops at once in the middle of a 30 s wait', async () => {
    const abort = new AbortController();
    let runs = 0;
    const done = reconnecting(async () => {
      runs++;
      throw new Error('down');
    }, { signal: abort.signal, startingDelay: 30_000 });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    abort.abort();
    await done;
    expect(performance.now() - t0).toBeLessThan(50);
    expect(runs).toBe(1);
  });

  it('rejects with a fatal error without retrying it', async () => {
    const abort = new AbortController();
    let runs = 0;
    const failures: number[] = [];
    await expect(
      reconnecting(
        async () => {
          runs++;
          throw new Error(runs < 3 ? 'down' : 'credential refused');
        },
        { signal: abort.signal, startingDelay: 1, isFatal: (e) => (e as Error).message === 'credential refused', onFailure: (_e, n) => failures.push(n) },
      ),
    ).rejects.toThrow('credential refused');
    expect(runs).toBe(3);
    expect(failures).toEqual([1, 2]);
  });
});
