import type { Processor, WorkerInit } from '../../pipeline/worker';
import type { DetectionsOutput, ProbeOutput, ProcessorConfig } from '../../shared/protocol';
import { createDetectorProcessor, type Analyst } from '../detector/detector-processor';
import { createProbe } from './probe';

/** The processor a worker of the app runs; `analyst` is what its group adds to the detector's output. */
export async function createProcessor<Extra extends object = Record<never, never>, Control = never>(
  init: WorkerInit<ProcessorConfig>,
  analyst?: Analyst<Extra, Control>,
): Promise<Processor<ProbeOutput | (DetectionsOutput & Extra), Control>> {
  switch (init.config.kind) {
    case 'probe':
      return createProbe(init.config.script, init);
    case 'detector':
      return createDetectorProcessor(init.config, analyst);
  }
}
