// The task-state worker: exactly one, fed by a latest-only slot, never two frames at once.
import { serveConsumer } from '../shared/consumer';
import { createProcessor } from '../shared/processors';
import { createTaskEvaluator } from './task-evaluator';

serveConsumer((init) => createProcessor(init, createTaskEvaluator(init)));
