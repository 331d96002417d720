// The task-state worker: exactly one, fed by a latest-only slot, never two frames at once.
import { defineProcessor } from '../../pipeline/worker';
import type { ProcessorConfig, StateOutput, TaskControl } from '../../shared/protocol';
import { createProcessor } from '../shared/processors';
import { createTaskEvaluator } from './task-evaluator';

defineProcessor<ProcessorConfig, StateOutput, TaskControl>((init) => createProcessor(init, createTaskEvaluator(init)));
