import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  scrypt,
  timingSafeEqual,
} from 'node:crypto';

/**
 * Gaung's secrets: credential encryption (AES-256-GCM with the key id kept in the envelope, so keys
 * can rotate), HMAC signatures, password and token hashing. Keys are derived per purpose from
 * GAUNG_SECRET_KEY with HKDF, so a signature can never be replayed as another kind of signature.
 */

export type Purpose = 'credentials' | 'media-url' | 'csrf' | 'webhook' | 'oauth-state' | 'telegram-webhook';

interface Key {
  id: string;
  material: Buffer;
}

export class KeyRing {
  private readonly current: Key;
  private readonly byId: Map<string, Key>;

  /** `current` and `previous` are 32-byte keys in base64. */
  constructor(current: string, previous: string[] = []) {
    const keys = [current, ...previous].map((encoded) => {
      const material = Buffer.from(encoded.trim(), 'base64');
      if (material.length !== 32) throw new Error('secret keys must be 32 bytes');
      return { id: createHash('sha256').update(material).digest('hex').slice(0, 8), material };
    });
    this.current = keys[0]!;
    this.byId = new Map(keys.map((k) => [k.id, k]));
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  private derive(key: Key, purpose: Purpose): Buffer {
    return Buffer.from(hkdfSync('sha256', key.material, Buffer.alloc(0), `gaung:${purpose}`, 32));
  }

  /** Encrypts a JSON value into `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts). */
  encrypt(value: unknown, aad = ''): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.derive(this.current, 'credentials'), iv);
    cipher.setAAD(Buffer.from(aad));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url'));
    return ['v1', this.current.id, ...parts].join('.');
  }

  /** Decrypts an envelope made by `encrypt` under the current or a previous key. */
  decrypt<T = unknown>(envelope: string, aad = ''): T {
    const [version, keyId, iv, tag, ciphertext] = envelope.split('.');
    if (version !== 'v1' || !keyId || !iv || !tag || ciphertext === undefined)
      throw new Error('not an encrypted envelope');
    const key = this.byId.get(keyId);
    if (!key) throw new Error(`no key with id ${keyId}; add the old key to GAUNG_SECRET_KEY_PREVIOUS`);
    const decipher = createDecipheriv(
      'aes-256-gcm',
      this.derive(key, 'credentials'),
      Buffer.from(iv, 'base64url'),
    );
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as T;
  }

  /** True when the envelope was made under an older key and should be re-encrypted. */
  isStale(envelope: string): boolean {
    return envelope.split('.')[1] !== this.current.id;
  }

  sign(purpose: Purpose, data: string): string {
    return createHmac('sha256', this.derive(this.current, purpose)).update(data).digest('base64url');
  }

  /** Checks a signature made under any key of the ring, in constant time. */
  verify(purpose: Purpose, data: string, signature: string): boolean {
    const given = Buffer.from(signature, 'base64url');
    for (const key of this.byId.values()) {
      const expected = createHmac('sha256', this.derive(key, purpose)).update(data).digest();
      if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
    }
    return false;
  }
}

export const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** A random secret for sessions, API tokens and idempotency; `prefix` tells its kind at a glance. */
export const randomToken = (prefix = '', bytes = 32) =>
  `${prefix}${randomBytes(bytes).toString('base64url')}`;

const SCRYPT = { N: 16_384, r: 8, p: 1, keylen: 32 };

function scryptAsync(password: string, salt: Buffer, params: typeof SCRYPT): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize('NFKC'),
      salt,
      params.keylen,
      { N: params.N, r: params.r, p: params.p, maxmem: 64 * 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  );
}

/** `scrypt$N$r$p$salt$hash`, parameters kept so they can be raised later without breaking old hashes. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, SCRYPT);
  return [
    'scrypt',
    SCRYPT.N,
    SCRYPT.r,
    SCRYPT.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    keylen: expected.length,
  });
  return timingSafeEqual(actual, expected);
}
