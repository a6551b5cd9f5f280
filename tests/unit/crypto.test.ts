import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPassword, KeyRing, verifyPassword } from '../../src/infra/crypto';

const key = () => randomBytes(32).toString('base64');

describe('credential encryption', () => {
  it('round-trips and never holds the plaintext', () => {
    const ring = new KeyRing(key());
    const envelope = ring.encrypt({ accessToken: 'rahasia-sekali' });
    expect(envelope).not.toContain('rahasia');
    expect(envelope.split('.')[1]).toBe(ring.currentKeyId);
    expect(ring.decrypt(envelope)).toEqual({ accessToken: 'rahasia-sekali' });
  });

  it('reads envelopes of a previous key after rotation and marks them stale', () => {
    const oldKey = key();
    const envelope = new KeyRing(oldKey).encrypt({ token: 'a' });
    const rotated = new KeyRing(key(), [oldKey]);
    expect(rotated.decrypt(envelope)).toEqual({ token: 'a' });
    expect(rotated.isStale(envelope)).toBe(true);
    expect(rotated.isStale(rotated.encrypt({ token: 'a' }))).toBe(false);
    expect(() => new KeyRing(key()).decrypt(envelope)).toThrow(/GAUNG_SECRET_KEY_PREVIOUS/);
  });

  it('detects tampering', () => {
    const ring = new KeyRing(key());
    const parts = ring.encrypt({ token: 'a' }).split('.');
    parts[4] = Buffer.from('x').toString('base64url') + parts[4]!.slice(2);
    expect(() => ring.decrypt(parts.join('.'))).toThrow();
  });

  it('keeps signatures of one purpose from verifying for another', () => {
    const ring = new KeyRing(key());
    const signature = ring.sign('media-url', 'abc');
    expect(ring.verify('media-url', 'abc', signature)).toBe(true);
    expect(ring.verify('csrf', 'abc', signature)).toBe(false);
    expect(ring.verify('media-url', 'abd', signature)).toBe(false);
  });
});

describe('password hashing', () => {
  it('verifies the right password only, with a fresh salt each time', async () => {
    const a = await hashPassword('kata sandi yang panjang');
    const b = await hashPassword('kata sandi yang panjang');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword('kata sandi yang panjang', a)).toBe(true);
    expect(await verifyPassword('kata sandi yang salah', a)).toBe(false);
  });
});
