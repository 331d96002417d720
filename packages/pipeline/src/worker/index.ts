// The worker half of the public pipeline API: a worker module calls defineProcessor once.
// It receives transferred frames on a MessagePort, runs the processor, answers each frame
// with exactly one result or error (which is also the acknowledgement that returns the
// page's credit), and closes every frame it received exactly once.
import * as Comlink from 'comlink';
import type { ConsumerApi, FrameMessage, FromWorker, ProcessorInfo, ToWorker, WorkerInit, WorkerStats } from '../protocol.js';

export type { FrameMessage, ProcessorInfo, WorkerInit } from '../protocol.js';
export type { FrameMeta, FramePixels } from '../frame.js';

/** What runs on each frame in a worker. `Output` must survive structured cloning. */
export interface Processor<Output, Control = never> {
  /** Changes when the processor falls back (then onInfo is called). */
  info: ProcessorInfo;
  /** The frame is closed by the runtime once this settles: do not keep it. A throw becomes an error result. */
  process(frame: FrameMessage): Promise<Output> | Output;
  /** Set by the runtime: call it after changing `info`, so the page hears of the change. */
  onInfo?: (info: ProcessorInfo) => void;
  /** A control message from the page, in order with the frames around it. */
  control?(msg: Control): void;
}

/**
 * Makes this worker a pipeline consumer. `create` gets the group's configuration (as given to
 * the page's GroupSpec) and returns the processor, warmed up: the pipeline only sends frames
 * once every worker's `create` has resolved.
 */
export function defineProcessor<Config, Output, Control = never>(create: (init: WorkerInit<Config>) => Promise<Processor<Output, Control>> | Processor<Output, Control>): void {
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
      const p = await create(init as WorkerInit<Config>);
      const send = (msg: FromWorker<Output>) => port.postMessage(msg);
      p.onInfo = (info) => send({ type: 'info', info });
      const onFrame = async (msg: FrameMessage) => {
        received++;
        openFrames++;
        // Deliberately no queue here: overlapping calls would show up in maxConcurrent,
        // which is how the tests prove the page never sends a second frame early.
        running++;
        maxConcurrent = Math.max(maxConcurrent, running);
        const t0 = performance.now();
        let answer: FromWorker<Output>;
        try {
          answer = { type: 'result', seq: msg.meta.seq, output: await p.process(msg), processMs: performance.now() - t0 };
          processed++;
        } catch (err) {
          answer = { type: 'error', seq: msg.meta.seq, message: err instanceof Error ? err.message : String(err), processMs: performance.now() - t0 };
          failed++;
        }
        running--;
        // Closed before the answer goes: once the page hears back, this worker holds nothing of the frame.
        msg.pixels.close();
        openFrames--;
        send(answer);
      };
      port.onmessage = (event: MessageEvent<ToWorker<Control>>) => {
        const msg = event.data;
        switch (msg.type) {
          case 'control':
            p.control?.(msg.control);
            return;
          case 'frame':
            void onFrame(msg);
            return;
          default: {
            const unhandled: never = msg;
            throw new Error(`unhandled ${String(unhandled)}`);
          }
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
