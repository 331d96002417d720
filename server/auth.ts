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

/** The shortest admin token accepted at start: 32 random characters (a generated one has 47). */
export const MIN_ADMIN_TOKEN_CHARS = 32;
/** The shortest enrolment code accepted at start: people type it, and failures are slowed, so 12 characters suffice. */
export const MIN_ENROLL_CODE_CHARS = 12;

/**
 * Why a secret set by hand is too weak to stand online guessing, or undefined if it is not:
 * shorter than `minChars`, too few different characters, a repeated pattern ("abcabcabc…"), or
 * mostly runs and sequences ("aaaa", "1234", "zyxw"). A random value of that length passes with
 * near certainty; this catches what people type, it does not measure entropy.
 */
export function secretWeakness(secret: string, minChars: number): string | undefined {
  const chars = [...secret];
  if (chars.length < minChars) return `it is ${chars.length} character${chars.length === 1 ? '' : 's'} long; it must be at least ${minChars}`;
  const distinct = new Set(chars).size;
  const needed = Math.min(8, Math.ceil(minChars / 2));
  if (distinct < needed) return `it has only ${distinct} different characters; it needs at least ${needed}`;
  for (let period = 1; period <= chars.length / 2; period++) {
    if (chars.length % period === 0 && secret === secret.slice(0, period).repeat(chars.length / period)) return `it repeats "${secret.slice(0, Math.min(period, 8))}${period > 8 ? '…' : ''}"`;
  }
  let steps = 0;
  for (let i = 1; i < chars.length; i++) if (Math.abs(chars[i]!.codePointAt(0)! - chars[i - 1]!.codePointAt(0)!) <= 1) steps++;
  if (steps >= 0.75 * (chars.length - 1)) return 'it is mostly runs or sequences of neighbouring characters (like "aaaa" or "1234")';
  return undefined;
}
