// The probe processor: real but cheap pixel work (mean luma at 16×16) with scripted
// delays, failures, hangs and crashes. It stands in for a model so that the pipeline's
// guarantees can be tested and shown on their own.
import type { FrameMessage, Processor, WorkerInit } from '@framewise/pipeline/worker';
import type { ProbeFault, ProbeOutput, ProbeScript } from '../../shared/protocol';

const SAMPLE = 16;

export function createProbe<Control>(script: ProbeScript, worker: Pick<WorkerInit, 'workerId' | 'restarts'>): Processor<ProbeOutput, Control> {
  // A replacement worker runs clean: the scripted fault already happened to its predecessor.
  const faults = worker.restarts === 0 ? (script.faults ?? []).filter((f) => f.workerId === undefined || f.workerId === worker.workerId) : [];
  const faultOn = (n: number): ProbeFault['kind'] | undefined => faults.find((f) => f.onReceived === n)?.kind;
  let received = 0;
  const canvas = new OffscreenCanvas(SAMPLE, SAMPLE);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('probe: no 2D context for OffscreenCanvas in this worker');
  return {
    info: { processor: 'probe', provider: 'cpu', reason: 'probe processor (no model)', warmupMs: 0 },
    async process({ meta, pixels }: FrameMessage): Promise<ProbeOutput> {
      const fault = faultOn(++received);
      const which = `frame ${meta.seq} (${worker.workerId}'s frame #${received})`;
      if (fault === 'crash') {
        // Thrown outside any handler: reaches the page as the worker's error event.
        setTimeout(() => {
          throw new Error(`probe: scripted crash on ${which}`);
        });
        return new Promise<never>(() => {});
      }
      if (fault === 'hang') {
        // Spin: the worker stops answering anything, heartbeats included.
        for (;;) {
          /* hang */
        }
      }
      ctx.drawImage(pixels, 0, 0, SAMPLE, SAMPLE);
      const data = ctx.getImageData(0, 0, SAMPLE, SAMPLE).data;
      let sum = 0;
      for (let i = 0; i < data.length; i += 4) sum += 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
      if (script.delayMs > 0) await new Promise((r) => setTimeout(r, script.delayMs));
      if (fault === 'fail') throw new Error(`probe: scripted failure on ${which}`);
      return { kind: 'probe', meanLuma: sum / (SAMPLE * SAMPLE) };
    },
  };
}
