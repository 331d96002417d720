// A localization worker: one of the pool fed by the shared drop-new queue.
import { serveConsumer } from '../shared/consumer';
import { createProcessor } from '../shared/processors';
import { createInstructor } from './instructor';

serveConsumer((init) => createProcessor(init, createInstructor()));
