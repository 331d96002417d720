import { assertNever } from '../../util/assert-never';
import type { Processor, WorkerInit } from '@framewise/pipeline/worker';
import type { LocalizationOutput, ProcessorConfig } from '../../shared/protocol';
import { createDetectorProcessor } from '../detector/detector-processor';
import { createProbe } from './probe';

/** The processor a localization worker runs: the detector, or the probe. */
export async function createProcessor(init: WorkerInit<ProcessorConfig>): Promise<Processor<LocalizationOutput>> {
  const config = init.config;
  switch (config.kind) {
    case 'probe':
      return createProbe(config.script, init);
    case 'detector':
      return createDetectorProcessor(config);
    default:
      return assertNever(config);
  }
}
