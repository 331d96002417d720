import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { SyncClient } from '../../sync/client';
import type { SyncStatus } from '../../sync/sync-status';
import { DeviceCredentials } from '../../sync/credentials';
import { defaultDeviceName } from '../../sync/enroll';
import { Outbox } from '../../sync/outbox';
import { STORAGE_TAKEN_OVER } from '../../platform/storage';
import { discoverSyncTarget } from '../../sync/setup';
import type { StoragePersistence } from '../sync-status';

export interface SyncIdentity {
  readonly backendUrl: string;
  readonly deviceName: string;
  readonly enrollCode: string;
}

/**
 * The durable record's half of the page: one outbox for the page's lifetime (a running
 * session's recorder keeps appending to it) and a sync client that sends it wherever a backend
 * is configured, under this device's own credential for that backend.
 */
export class SyncController implements ReactiveController {
  outbox: Outbox | undefined;
  status: SyncStatus | undefined;
  /** Why sync is off, when it is. */
  off = '';
  storage: StoragePersistence | undefined;
  private client: SyncClient | undefined;
  /** Each (re)start; an older start still awaiting discovery gives way to a newer one. */
  private generation = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly identity: () => SyncIdentity,
    private readonly onError: (message: string) => void,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    void this.start();
  }

  hostDisconnected(): void {
    this.generation++;
    this.client?.stop();
    this.client = undefined;
  }

  /** (Re)connects to the configured backend; `reenrol` forgets the kept credential first (the person asked to enrol again). */
  async start(reenrol = false): Promise<void> {
    const generation = ++this.generation;
    try {
      this.outbox ??= await Outbox.open('framewise-outbox', STORAGE_TAKEN_OVER((message) => this.onError(message)));
    } catch (err) {
      this.onError(`Events cannot be kept on this device (${err instanceof Error ? err.message : String(err)}); guidance still works.`);
      return;
    }
    if (!this.storage) void this.requestPersistence();
    this.client?.stop();
    this.client = undefined;
    this.status = undefined;
    const target = await discoverSyncTarget(this.identity().backendUrl);
    if (generation !== this.generation) return;
    if (!target) {
      this.off = 'No backend: this app was not served by one and none is set in Settings. Every event is kept on this device.';
      this.host.requestUpdate();
      return;
    }
    const outbox = this.outbox;
    const credentials = new DeviceCredentials(outbox, target, () => {
      const id = this.identity();
      return { name: id.deviceName.trim() || defaultDeviceName(), code: id.enrollCode || undefined };
    });
    if (reenrol) await credentials.forget();
    if (generation !== this.generation) return;
    this.client = new SyncClient(outbox, {
      url: target.syncUrl,
      credential: credentials,
      onStatus: (s) => {
        this.status = s;
        this.host.requestUpdate();
      },
    });
    this.client.start();
  }

  /** Asks the browser to keep the outbox under storage pressure, and shows what it said. */
  private async requestPersistence(): Promise<void> {
    const storage = navigator.storage as StorageManager | undefined;
    try {
      this.storage = !storage?.persist ? 'unsupported' : (await storage.persisted?.()) || (await storage.persist()) ? 'persisted' : 'not-persisted';
    } catch {
      this.storage = 'unsupported';
    }
    this.host.requestUpdate();
  }
}
