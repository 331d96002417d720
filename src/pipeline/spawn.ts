import type { WorkerRole } from '../shared/protocol';

// The bundler finds worker entries only in this literal `new Worker(new URL(...))` form.
export function spawnWorker(role: WorkerRole): Worker {
  switch (role) {
    case 'state':
      return new Worker(new URL('../workers/state/worker.ts', import.meta.url), { type: 'module', name: 'state' });
    case 'localization':
      return new Worker(new URL('../workers/localization/worker.ts', import.meta.url), { type: 'module', name: 'localization' });
  }
}
