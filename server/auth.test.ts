// What counts as a credential strong enough to be set by hand.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MIN_ADMIN_TOKEN_CHARS, MIN_ENROLL_CODE_CHARS, newAdminToken, secretWeakness } from './auth';

describe('secretWeakness', () => {
  it('passes random values of the minimum length in every usual alphabet, and generated tokens', () => {
    for (let i = 0; i < 2000; i++) {
      expect(secretWeakness(newAdminToken(), MIN_ADMIN_TOKEN_CHARS)).toBeUndefined();
      expect(secretWeakness(randomBytes(16).toString('hex'), MIN_ADMIN_TOKEN_CHARS)).toBeUndefined();
      expect(secretWeakness(randomBytes(24).toString('base64'), MIN_ADMIN_TOKEN_CHARS)).toBeUndefined();
      expect(secretWeakness(randomBytes(9).toString('base64url'), MIN_ENROLL_CODE_CHARS)).toBeUndefined();
    }
    expect(secretWeakness('kettle-orchard-7-lantern', MIN_ENROLL_CODE_CHARS)).toBeUndefined();
  });

  it('names what is wrong with what people type', () => {
    expect(secretWeakness('a', 32)).toBe('it is 1 character long; it must be at least 32');
    expect(secretWeakness('0000-0000-0000', 12)).toBe('it has only 2 different characters; it needs at least 6');
    expect(secretWeakness('qwe12!qwe12!', 12)).toBe('it repeats "qwe12!"');
    expect(secretWeakness('aaaaaabcdefghhhh', 12)).toMatch(/mostly runs or sequences/);
    expect(secretWeakness('9876543210zz', 12)).toMatch(/mostly runs or sequences/);
  });
});
