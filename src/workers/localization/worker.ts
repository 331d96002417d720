// A localization worker: one of the pool fed by the shared drop-new queue.
import { defineProcessor } from '../../pipeline/worker';
import type { LocalizationOutput, ProcessorConfig } from '../../shared/protocol';
import { createProcessor } from '../shared/processors';

// Detections only: the page tracks them and builds the instruction from the current step.
defineProcessor<ProcessorConfig, LocalizationOutput>((init) => createProcessor(init));
