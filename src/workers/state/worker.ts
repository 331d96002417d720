// The task-state worker: exactly one, fed by a latest-only slot, never two frames at once.
import { defineProcessor } from '@framewise/pipeline/worker';
import type { StateOutput, StateProcessorConfig, TaskControl } from '../../shared/protocol';
import { createStateProcessor } from './state-processor';

defineProcessor<StateProcessorConfig, StateOutput, TaskControl>(createStateProcessor);
