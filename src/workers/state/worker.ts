// The task-state worker: exactly one, fed by a latest-only slot, never two frames at once.
import { serveConsumer } from '../shared/consumer';
import { createProcessor } from '../shared/processors';

serveConsumer(createProcessor);
