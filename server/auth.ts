// Credentials: the operator's admin token, and per-device tokens of which only a hash is kept.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const sha256 = (s: string | Buffer): Buffer => createHash('sha256').update(s).digest();

/**
 * Constant-time equality of two secrets. Both are hashed first, so the comparison takes the
 * same time whatever their lengths and wherever they first differ.
 */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

/** The secret from `Authorization: Bearer <secret>`, if the header has that form. */
export function bearer(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
  return m?.[1];
}

export function newAdminToken(): string {
  return `fwa.${randomBytes(32).toString('base64url')}`;
}

/**
 * A device credential: `fwd.<deviceId>.<secret>`. The id lets the server find the device
 * without a search by secret; only SHA-256 of the secret is stored, so a copy of the
 * database cannot be used to sign in as a device.
 */
export interface IssuedCredential {
  readonly deviceId: string;
  readonly token: string;
  readonly secretHash: string;
}

export function newDeviceCredential(): IssuedCredential {
  const deviceId = randomBytes(12).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  return { deviceId, token: `fwd.${deviceId}.${secret}`, secretHash: sha256(secret).toString('hex') };
}

const DEVICE_TOKEN = /^fwd\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/;

export function parseDeviceToken(token: string): { deviceId: string; secret: string } | undefined {
  const m = DEVICE_TOKEN.exec(token);
  return m ? { deviceId: m[1]!, secret: m[2]! } : undefined;
}

// Compared against when a token names no device, so that an unknown id costs the same hash and compare as a wrong secret.
const NO_DEVICE_HASH = sha256(randomBytes(32)).toString('hex');

/** Whether `secret` is the one whose hash is `storedHash` (hex SHA-256), in constant time. */
export function secretMatches(secret: string, storedHash: string | undefined): boolean {
  const expected = Buffer.from(storedHash ?? NO_DEVICE_HASH, 'hex');
  const given = sha256(secret);
  if (expected.length !== given.length) return timingSafeEqual(given, given) && false;
  return timingSafeEqual(given, expected);
}
