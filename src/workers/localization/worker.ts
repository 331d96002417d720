// A localization worker: one of the pool fed by the shared localization queue (latest-only by default).
import { defineProcessor } from '@framewise/pipeline/worker';
import type { LocalizationOutput, ProcessorConfig } from '../../shared/protocol';
import { createProcessor } from '../shared/processors';

// Detections only: the page tracks them and builds the instruction from the current step.
defineProcessor<ProcessorConfig, LocalizationOutput>((init) => createProcessor(init));
