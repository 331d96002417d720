import type { WorkerInit } from '../../shared/protocol';
import type { Processor } from './consumer';
import { createDetectorProcessor } from './detector-processor';
import { createProbe } from './probe';

export async function createProcessor(init: WorkerInit): Promise<Processor> {
  switch (init.processor.kind) {
    case 'probe':
      return createProbe(init.processor.script);
    case 'detector':
      return createDetectorProcessor(init.processor);
  }
}
