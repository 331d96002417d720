import type { WorkerInit } from '../../shared/protocol';
import type { Processor } from './consumer';
import { createDetectorProcessor, type Analyst } from './detector-processor';
import { createProbe } from './probe';

/** The processor a worker runs; `analyst` is what its kind adds to the detector's output. */
export async function createProcessor(init: WorkerInit, analyst?: Analyst): Promise<Processor> {
  switch (init.processor.kind) {
    case 'probe':
      return createProbe(init.processor.script);
    case 'detector':
      return createDetectorProcessor(init.processor, analyst);
  }
}
