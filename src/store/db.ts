import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { isQuotaExceeded, versionChangeCallbacks, type VersionChange } from '../platform/storage';
import type { Task } from '../task/types';
import type { Progress } from '../task/session';
import type { Analysis } from '../analysis/export';
import type { LayoutRecord } from '../vision/layout';

interface FramewiseDB extends DBSchema {
  /** Tasks the person imported or wrote (built-in ones live in the code). */
  tasks: { key: string; value: Task };
  /** Where each task got to, so a reload resumes it. */
  progress: { key: string; value: Progress };
  /** Small settings: which task is selected. */
  meta: { key: string; value: string };
  /** Results of analysed video files. */
  analyses: { key: string; value: Analysis };
  /** The pipeline layout calibrated per device and model (src/vision/layout.ts), by layoutKey. */
  layouts: { key: string; value: LayoutRecord };
}

/** The database's version: 3 added `layouts`. Each upgrade only adds: the stores before keep their data. */
export const DB_VERSION = 3;

/** The app's IndexedDB, with storage errors turned into messages a person can act on. */
export class Store {
  private constructor(private readonly db: IDBPDatabase<FramewiseDB>) {}

  static async open(name = 'framewise', change: VersionChange = {}): Promise<Store> {
    let db: IDBPDatabase<FramewiseDB> | undefined;
    db = await openDB<FramewiseDB>(name, DB_VERSION, {
      ...versionChangeCallbacks(change, () => db),
      upgrade(db, oldVersion) {
        if (oldVersion < 1) {
          db.createObjectStore('tasks', { keyPath: 'id' });
          db.createObjectStore('progress', { keyPath: 'taskId' });
          db.createObjectStore('meta');
        }
        if (oldVersion < 2) db.createObjectStore('analyses', { keyPath: 'id' });
        if (oldVersion < 3) db.createObjectStore('layouts', { keyPath: 'key' });
      },
    });
    return new Store(db);
  }

  listTasks(): Promise<Task[]> {
    return this.db.getAll('tasks');
  }

  saveTask(task: Task): Promise<void> {
    return this.write(async () => void (await this.db.put('tasks', task)));
  }

  getProgress(taskId: string): Promise<Progress | undefined> {
    return this.db.get('progress', taskId);
  }

  saveProgress(p: Progress): Promise<void> {
    return this.write(async () => void (await this.db.put('progress', p)));
  }

  clearProgress(taskId: string): Promise<void> {
    return this.write(() => this.db.delete('progress', taskId));
  }

  getSelectedTask(): Promise<string | undefined> {
    return this.db.get('meta', 'selected-task');
  }

  setSelectedTask(id: string): Promise<void> {
    return this.write(async () => void (await this.db.put('meta', id, 'selected-task')));
  }

  saveAnalysis(a: Analysis): Promise<void> {
    return this.write(async () => void (await this.db.put('analyses', a)));
  }

  listAnalyses(): Promise<Analysis[]> {
    return this.db.getAll('analyses');
  }

  getLayout(key: string): Promise<LayoutRecord | undefined> {
    return this.db.get('layouts', key);
  }

  saveLayout(record: LayoutRecord): Promise<void> {
    return this.write(async () => void (await this.db.put('layouts', record)));
  }

  /** How many calibrations this device keeps (any model or browser): none means there is nothing to look up. */
  countLayouts(): Promise<number> {
    return this.db.count('layouts');
  }

  close(): void {
    this.db.close();
  }

  private async write(op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (err) {
      if (isQuotaExceeded(err)) {
        throw new StorageFullError('This device is out of storage for Framewise: progress cannot be saved. Free some space (or clear old sessions) and try again.');
      }
      throw err;
    }
  }
}

export class StorageFullError extends Error {}
