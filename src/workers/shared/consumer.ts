// The worker half of a frame channel: receives transferred frames on a MessagePort,
// runs the processor, answers each frame with exactly one result or error (which is
// also the acknowledgement that returns the page's credit), and closes every frame it
// received exactly once.
import * as Comlink from 'comlink';
import type { ConsumerApi, ControlMessage, FrameMessage, FromWorker, ProcessorInfo, ProcessorOutput, ToWorker, WorkerInit, WorkerStats } from '../../shared/protocol';

export interface Processor {
  /** Changes when the processor falls back (then onInfo is called). */
  info: ProcessorInfo;
  process(msg: FrameMessage): Promise<ProcessorOutput> | ProcessorOutput;
  /** Called when the processor's info changed; set by the runtime. */
  onInfo?: (info: ProcessorInfo) => void;
  control?(msg: ControlMessage): void;
}

export type ProcessorFactory = (init: WorkerInit) => Promise<Processor>;

export function serveConsumer(makeProcessor: ProcessorFactory): void {
  let workerId = '';
  let received = 0;
  let processed = 0;
  let failed = 0;
  let openFrames = 0;
  let running = 0;
  let maxConcurrent = 0;

  const api: ConsumerApi = {
    async start(init: WorkerInit, port: MessagePort): Promise<ProcessorInfo> {
      workerId = init.workerId;
      // Messages posted to the port while the processor loads wait in the port until onmessage is set.
      const p = await makeProcessor(init);
      const send = (msg: FromWorker) => port.postMessage(msg);
      p.onInfo = (info) => send({ type: 'info', info });
      const onFrame = async (msg: FrameMessage) => {
        received++;
        openFrames++;
        // Deliberately no queue here: overlapping calls would show up in maxConcurrent,
        // which is how the tests prove the page never sends a second frame early.
        running++;
        maxConcurrent = Math.max(maxConcurrent, running);
        const t0 = performance.now();
        try {
          const output = await p.process(msg);
          processed++;
          running--;
          msg.pixels.close();
          openFrames--;
          send({ type: 'result', seq: msg.meta.seq, output, processMs: performance.now() - t0 });
        } catch (err) {
          failed++;
          running--;
          msg.pixels.close();
          openFrames--;
          send({ type: 'error', seq: msg.meta.seq, message: err instanceof Error ? err.message : String(err), processMs: performance.now() - t0 });
        }
      };
      port.onmessage = (event: MessageEvent<ToWorker>) => {
        const msg = event.data;
        switch (msg.type) {
          case 'control':
            p.control?.(msg.control);
            return;
          case 'frame':
            void onFrame(msg);
            return;
        }
      };
      setInterval(() => send({ type: 'heartbeat' }), init.heartbeatMs);
      return p.info;
    },
    stats(): WorkerStats {
      return { workerId, received, processed, failed, openFrames, maxConcurrent };
    },
  };
  Comlink.expose(api);
}
