// A small history of guided sessions for the trainer's views, written through a real store the
// way devices write them (claim, then appends in batches), with what each should come out as.
import type { SyncEvent } from '../../src/sync/protocol';
import { allDone, completed, derailed, DESK, executing, LAPTOP_LEFT, Recording, simulatedFruitBowl } from './guided-sessions';
import type { EventStore } from '../../server/store';

export const T0 = 1_800_000_000_000;

/** Starts with = and holds a quote and a comma: what a CSV must quote and defuse. */
export const BENCH = { deviceId: 'bench-device-0001', name: '=Bench "A", left' };
export const KITCHEN = { deviceId: 'kitchen-device-01', name: 'Kitchen phone' };

/** A settable clock for the store: liveness is judged against it. */
export class Clock {
  constructor(public ms: number) {}
  readonly now = () => this.ms;
}

export interface Seeded {
  readonly device: string;
  readonly events: readonly SyncEvent[];
}

/**
 * - desk-completed-01: the desk task start to finish in 4 s, 8 s, 3 s and 6 s; in step 2 the
 *   laptop left the view for 3 s.
 * - desk-abandoned-01: step 1 in 2 s; in step 2 derailed twice (1 s, then 2 s until the camera
 *   was stopped, derailed).
 * - fruit-progress-01: the fruit-bowl task through the app's own machine, stopped 9.5 s in:
 *   two steps done, derailed in the third since 9 s, no session-end.
 * - desk-resumed-01: resumed on step 3 (two done in an earlier session): 5 s and 4 s, with a 1 s
 *   derailment in step 4.
 * - desk-extra-1…3: step 1 in 3 s, 5 s and 10 s, then stopped.
 * - file-analysis-01: a video file's analysis (no task), finished.
 */
export function history(): Record<string, Seeded> {
  const desk = (start: number) => new Recording(DESK, start);
  const t = (n: number) => T0 + n;

  const s1 = desk(t(0)).instruction(t(100), 0, 'Bring a laptop into view').verdict(t(250), executing(0, { missing: ['laptop'] }));
  s1.verdict(t(4_000), completed(0, 1, 4_000)).instruction(t(4_000), 1, 'Bring a keyboard into view').verdict(t(4_250), executing(1));
  s1.verdict(t(6_000), derailed(1, LAPTOP_LEFT, t(6_000))).verdict(t(6_250), derailed(1, LAPTOP_LEFT, t(6_000))).instruction(t(6_300), 1, 'Bring a laptop into view');
  s1.verdict(t(9_000), executing(1, { recovered: true })).verdict(t(12_000), completed(1, 2, 8_000));
  s1.verdict(t(15_000), completed(2, 3, 3_000)).instruction(t(15_000), 3, 'Move the cup right of the laptop');
  s1.verdict(t(21_000), completed(3, null, 6_000)).verdict(t(21_250), allDone(4)).end(t(22_000));

  const s2 = new Recording(DESK, t(100_000)).verdict(t(100_250), executing(0)).verdict(t(102_000), completed(0, 1, 2_000));
  s2.verdict(t(105_000), derailed(1, LAPTOP_LEFT, t(105_000))).verdict(t(106_000), executing(1, { recovered: true }));
  s2.verdict(t(108_000), derailed(1, LAPTOP_LEFT, t(108_000))).end(t(110_000));

  const s3 = simulatedFruitBowl(t(200_000), 9_500);

  const s4 = new Recording(DESK, t(300_000), { resumeAt: 2 }).verdict(t(300_250), executing(2)).verdict(t(305_000), completed(2, 3, 5_000));
  s4.verdict(t(306_000), derailed(3, LAPTOP_LEFT, t(306_000))).verdict(t(307_000), executing(3, { recovered: true }));
  s4.verdict(t(309_000), completed(3, null, 4_000)).verdict(t(309_250), allDone(4)).end(t(310_000));

  const extra = (n: number, ms: number) => new Recording(DESK, t(n)).verdict(t(n + 250), executing(0)).verdict(t(n + ms), completed(0, 1, ms)).end(t(n + ms + 500));

  const file = new Recording(undefined, t(400_000), { start: { mode: 'file', file: 'bench clip.mp4', frames: 3, fps: 30 } });
  file.detections(t(400_010)).detections(t(400_020)).detections(t(400_030)).end(t(400_040), { frames: 3, failed: 0, cancelled: false });

  return {
    'desk-completed-01': { device: BENCH.deviceId, events: s1.events },
    'desk-abandoned-01': { device: KITCHEN.deviceId, events: s2.events },
    'fruit-progress-01': { device: KITCHEN.deviceId, events: s3.events },
    'desk-resumed-01': { device: BENCH.deviceId, events: s4.events },
    'desk-extra-1': { device: KITCHEN.deviceId, events: extra(500_000, 3_000).events },
    'desk-extra-2': { device: KITCHEN.deviceId, events: extra(600_000, 5_000).events },
    'desk-extra-3': { device: KITCHEN.deviceId, events: extra(700_000, 10_000).events },
    'file-analysis-01': { device: BENCH.deviceId, events: file.events },
  };
}

/** Devices, then each session in batches of 3 events, as a device's outbox would send them. */
export async function seed(store: EventStore, sessions: Record<string, Seeded> = history()): Promise<void> {
  for (const d of [BENCH, KITCHEN]) await store.createDevice({ ...d, secretHash: '00'.repeat(32), createdAt: T0 - 1, revokedAt: null });
  for (const [id, s] of Object.entries(sessions)) {
    await store.claimSession(id, s.device, T0);
    for (let i = 0; i < s.events.length; i += 3) {
      const r = await store.append(s.device, id, s.events.slice(i, i + 3));
      if (!r.ok) throw new Error(`append to ${id}: ${r.why}`);
    }
  }
}
