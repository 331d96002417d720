// A localization worker: one of the pool fed by the shared drop-new queue.
import { serveConsumer } from '../shared/consumer';
import { createProcessor } from '../shared/processors';

// Detections only: the page tracks them and builds the instruction from the current step.
serveConsumer((init) => createProcessor(init));
