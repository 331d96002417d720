// This device's credential for one backend: read from the outbox database, or enrolled for
// once (inside the sync lock, so two tabs never enrol twice).
import type { CredentialSource } from './client';
import { enrol, EnrolmentRefused, NEEDS_CODE } from './enroll';
import type { Outbox } from './outbox';
import type { SyncTarget } from './setup';

export interface EnrolmentDetails {
  readonly name: string;
  /** The operator's enrolment code; used once, never stored. */
  readonly code?: string;
}

export class DeviceCredentials implements CredentialSource {
  constructor(
    private readonly outbox: Outbox,
    private readonly target: SyncTarget,
    private readonly details: () => EnrolmentDetails,
    private readonly fetchFn: typeof fetch = (...a) => fetch(...a),
  ) {}

  async token(onEnrolling: () => void): Promise<string> {
    const kept = await this.outbox.credential(this.target.syncUrl);
    if (kept) return kept.token;
    const { name, code } = this.details();
    if (this.target.enrollment === 'code' && !code) throw new EnrolmentRefused(NEEDS_CODE);
    onEnrolling();
    const got = await enrol(this.target.enrollUrl, { name, ...(code ? { code } : {}) }, this.fetchFn);
    await this.outbox.saveCredential({ backend: this.target.syncUrl, deviceId: got.deviceId, token: got.token, name, enrolledAt: Date.now() });
    return got.token;
  }

  /** Drops the kept credential (revoked, or the person asked to enrol again): the next start enrols anew. */
  forget(): Promise<void> {
    return this.outbox.forgetCredential(this.target.syncUrl);
  }
}
