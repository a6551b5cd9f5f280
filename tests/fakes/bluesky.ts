import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createFakeServer, type FakeServer, type Fault } from './harness';
import { loadLexicons, TID_PATTERN } from './lexicon';
import { specPath } from './specs';
import { looksLike } from './x';

/**
 * A fake Bluesky PDS: sessions (createSession with an app password, rotating refreshSession, JWTs
 * with real expiry), uploadBlob, createRecord / getRecord, resolveHandle and app.bsky.feed.getPosts.
 * Procedure inputs and records are validated against the official atproto lexicons (graphemes,
 * UTF-8 byte lengths, facets, embeds, blob MIME types and sizes); record keys must fit the
 * collection's key type and cannot be reused. Errors use XRPC's {error, message} shape.
 */

export const LEXICONS = specPath('atproto-lexicons');

export interface FakeBlueskyAccount {
  did: string;
  handle: string;
  appPassword: string;
}

export interface FakeBlueskyRecord {
  uri: string;
  cid: string;
  did: string;
  collection: string;
  rkey: string;
  value: Record<string, unknown>;
  counts: { likeCount: number; repostCount: number; replyCount: number; quoteCount: number };
}

export interface FakeBlueskyBlob {
  cid: string;
  did: string;
  mimeType: string;
  size: number;
  bytes: Buffer;
}

export interface FakeBluesky {
  server: FakeServer;
  url: string;
  records: FakeBlueskyRecord[];
  blobs: Map<string, FakeBlueskyBlob>;
  start(): Promise<string>;
  stop(): Promise<void>;
  addAccount(options: { handle: string; appPassword: string }): FakeBlueskyAccount;
  /**
   * The account posts (in the Bluesky app, say): text, up to four images or a video (stored as its
   * blobs), a quote, a reply, link facets.
   */
  addPost(did: string, text: string, options?: PostOptions): FakeBlueskyRecord;
  /** The account deletes a record (com.atproto.repo.deleteRecord). */
  deleteRecord(uri: string): void;
  /** A blob is gone from the PDS: getBlob answers BlobNotFound. */
  dropBlob(cid: string): void;
  postsOf(did: string, collection?: string): FakeBlueskyRecord[];
  /** Makes every access token of the account expired (the PDS then answers ExpiredToken). */
  expireAccessTokens(did: string): void;
  /** Revokes every refresh token of the account (as an app-password reset does). */
  revokeRefreshTokens(did: string): void;
  changeAppPassword(did: string, appPassword: string): void;
  /** A 429 as the PDS sends it: ratelimit-* headers with the reset in epoch seconds. */
  rateLimitFault(resetAt: Date): Fault;
}

export interface PostOptions {
  images?: { bytes: Buffer; mimeType: string; alt?: string }[];
  video?: { bytes: Buffer; alt?: string };
  quote?: FakeBlueskyRecord;
  replyTo?: FakeBlueskyRecord;
  facets?: Record<string, unknown>[];
  createdAt?: Date;
}

interface Token {
  did: string;
  expiresAt: number;
  revoked: boolean;
}

export function createFakeBluesky(options: { accessTtlSeconds?: number } = {}): FakeBluesky {
  const server = createFakeServer();
  const { app } = server;
  const lexicons = loadLexicons(LEXICONS);
  const accounts = new Map<string, FakeBlueskyAccount>();
  const access = new Map<string, Token>();
  const refresh = new Map<string, Token>();
  const records: FakeBlueskyRecord[] = [];
  const blobs = new Map<string, FakeBlueskyBlob>();
  const windows = new Map<string, { used: number; resetAt: number }>();

  // uploadBlob takes the raw bytes under their own MIME type.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const fail = (reply: FastifyReply, status: number, error: string, message: string) =>
    reply.code(status).send({ error, message });

  const jwt = (payload: Record<string, unknown>) =>
    [{ typ: 'at+jwt', alg: 'ES256K' }, payload, randomBytes(32)]
      .map((part) => (Buffer.isBuffer(part) ? part : Buffer.from(JSON.stringify(part))).toString('base64url'))
      .join('.');

  const issueSession = (account: FakeBlueskyAccount) => {
    const now = Math.floor(Date.now() / 1000);
    const accessTtl = options.accessTtlSeconds ?? 7200;
    const accessJwt = jwt({
      scope: 'com.atproto.appPass',
      sub: account.did,
      iat: now,
      exp: now + accessTtl,
      jti: randomBytes(8).toString('hex'),
    });
    const refreshJwt = jwt({
      scope: 'com.atproto.refresh',
      sub: account.did,
      iat: now,
      exp: now + 90 * 86_400,
      jti: randomBytes(8).toString('hex'),
    });
    access.set(accessJwt, { did: account.did, expiresAt: (now + accessTtl) * 1000, revoked: false });
    refresh.set(refreshJwt, { did: account.did, expiresAt: (now + 90 * 86_400) * 1000, revoked: false });
    return { accessJwt, refreshJwt, handle: account.handle, did: account.did, active: true };
  };

  const meter = (reply: FastifyReply, key: string) => {
    let window = windows.get(key);
    if (!window || window.resetAt <= Date.now()) {
      window = { used: 0, resetAt: Date.now() + 5 * 60_000 };
      windows.set(key, window);
    }
    window.used += 1;
    reply.header('ratelimit-limit', '3000');
    reply.header('ratelimit-remaining', String(Math.max(0, 3000 - window.used)));
    reply.header('ratelimit-reset', String(Math.ceil(window.resetAt / 1000)));
    reply.header('ratelimit-policy', '3000;w=300');
  };

  /** Checks the Bearer access token the way the PDS does; answers and returns null when it fails. */
  const authenticate = (request: FastifyRequest, reply: FastifyReply): FakeBlueskyAccount | null => {
    const header = request.headers.authorization ?? '';
    if (!header.startsWith('Bearer ')) {
      fail(reply, 401, 'AuthenticationRequired', 'Authentication Required');
      return null;
    }
    const token = access.get(header.slice(7));
    if (!token || token.revoked) {
      fail(reply, 401, 'InvalidToken', 'Token could not be verified');
      return null;
    }
    if (token.expiresAt <= Date.now()) {
      fail(reply, 400, 'ExpiredToken', 'Token has expired');
      return null;
    }
    return accounts.get(token.did)!;
  };

  const xrpc = (
    method: 'GET' | 'POST',
    nsid: string,
    auth: boolean,
    handle: (request: FastifyRequest, reply: FastifyReply, account: FakeBlueskyAccount | null) => unknown,
  ) => {
    app.route({
      method,
      url: `/xrpc/${nsid}`,
      handler: async (request, reply) => {
        const account = auth ? authenticate(request, reply) : null;
        if (auth && !account) return reply;
        meter(reply, account?.did ?? request.ip);
        return handle(request, reply, account);
      },
    });
  };

  const byActor = (actor: string) =>
    accounts.get(actor) ?? [...accounts.values()].find((a) => a.handle === actor.toLowerCase());

  const cidOf = (bytes: Buffer | string) =>
    `bafyrei${createHash('sha256').update(bytes).digest('hex').slice(0, 52)}`;

  xrpc('POST', 'com.atproto.server.createSession', false, (request, reply) => {
    const errors = lexicons.validateInput('com.atproto.server.createSession', request.body);
    if (errors.length > 0) return fail(reply, 400, 'InvalidRequest', errors.join('; '));
    const { identifier, password } = request.body as { identifier: string; password: string };
    const account = byActor(identifier);
    if (!account || account.appPassword !== password)
      return fail(reply, 401, 'AuthenticationRequired', 'Invalid identifier or password');
    return issueSession(account);
  });

  xrpc('POST', 'com.atproto.server.refreshSession', false, (request, reply) => {
    const header = request.headers.authorization ?? '';
    const token = refresh.get(header.replace(/^Bearer /, ''));
    if (!token) return fail(reply, 400, 'InvalidToken', 'Token could not be verified');
    if (token.revoked) return fail(reply, 400, 'ExpiredToken', 'Token has been revoked');
    if (token.expiresAt <= Date.now()) return fail(reply, 400, 'ExpiredToken', 'Token has expired');
    // Refresh tokens are single-use: the session rotates.
    token.revoked = true;
    return issueSession(accounts.get(token.did)!);
  });

  xrpc('GET', 'com.atproto.identity.resolveHandle', false, (request, reply) => {
    const account = byActor(String((request.query as { handle?: string }).handle ?? ''));
    return account ? { did: account.did } : fail(reply, 400, 'InvalidRequest', 'Unable to resolve handle');
  });

  xrpc('POST', 'com.atproto.repo.uploadBlob', true, (request, reply, account) => {
    const bytes = request.body as Buffer;
    const mimeType = String(request.headers['content-type'] ?? 'application/octet-stream').split(';')[0]!;
    if (!Buffer.isBuffer(bytes) || bytes.length === 0)
      return fail(reply, 400, 'InvalidRequest', 'Request body is empty');
    if (!looksLike(mimeType, bytes))
      return fail(reply, 400, 'InvalidMimeType', `Content does not look like ${mimeType}`);
    const cid = cidOf(bytes);
    blobs.set(cid, { cid, did: account!.did, mimeType, size: bytes.length, bytes });
    return { blob: { $type: 'blob', ref: { $link: cid }, mimeType, size: bytes.length } };
  });

  xrpc('POST', 'com.atproto.repo.createRecord', true, (request, reply, account) => {
    const inputErrors = lexicons.validateInput('com.atproto.repo.createRecord', request.body);
    if (inputErrors.length > 0) return fail(reply, 400, 'InvalidRequest', inputErrors.join('; '));
    const body = request.body as {
      repo: string;
      collection: string;
      rkey?: string;
      validate?: boolean;
      record: Record<string, unknown>;
    };
    if (byActor(body.repo)?.did !== account!.did)
      return fail(reply, 400, 'InvalidRequest', 'Input/repo must be the authenticated account');
    const keyType = lexicons.recordKey(body.collection);
    if (body.validate !== false && keyType) {
      const errors = lexicons.validateRecord(body.collection, body.record);
      if (errors.length > 0)
        return fail(reply, 400, 'InvalidRequest', `Invalid ${body.collection} record: ${errors.join('; ')}`);
    }
    const rkey = body.rkey ?? tidNow();
    if (keyType === 'tid' && !TID_PATTERN.test(rkey))
      return fail(reply, 400, 'InvalidRequest', `Invalid record key: ${rkey} is not a TID`);
    const uri = `at://${account!.did}/${body.collection}/${rkey}`;
    if (records.some((r) => r.uri === uri))
      return fail(reply, 400, 'InvalidRequest', `Record already exists: ${uri}`);
    for (const ref of blobRefs(body.record)) {
      const blob = blobs.get(ref.ref.$link);
      if (!blob || blob.did !== account!.did)
        return fail(reply, 400, 'InvalidRequest', `Could not find blob: ${ref.ref.$link}`);
      if (blob.mimeType !== ref.mimeType || blob.size !== ref.size)
        return fail(reply, 400, 'InvalidRequest', `Referenced blob does not match: ${ref.ref.$link}`);
    }
    const record = store(account!.did, body.collection, rkey, body.record);
    return {
      uri: record.uri,
      cid: record.cid,
      commit: { cid: cidOf(`commit ${record.cid}`), rev: tidNow() },
      validationStatus: 'valid',
    };
  });

  xrpc('GET', 'com.atproto.repo.getRecord', false, (request, reply) => {
    const query = request.query as { repo?: string; collection?: string; rkey?: string };
    const did = query.repo ? byActor(query.repo)?.did : undefined;
    const uri = `at://${did ?? query.repo}/${query.collection}/${query.rkey}`;
    const record = records.find((r) => r.uri === uri);
    if (!record) return fail(reply, 400, 'RecordNotFound', `Could not locate record: ${uri}`);
    return { uri: record.uri, cid: record.cid, value: record.value };
  });

  const badParams = (reply: FastifyReply, nsid: string, query: unknown) => {
    const errors = lexicons.validateParams(nsid, query as Record<string, unknown>);
    if (errors.length > 0) fail(reply, 400, 'InvalidRequest', errors.join('; '));
    return errors.length > 0;
  };

  // Newest record key first (reverse=true: oldest first); the cursor is the last key of a page.
  xrpc('GET', 'com.atproto.repo.listRecords', false, (request, reply) => {
    if (badParams(reply, 'com.atproto.repo.listRecords', request.query)) return reply;
    const query = request.query as {
      repo: string;
      collection: string;
      limit?: string;
      cursor?: string;
      reverse?: string;
    };
    const did = byActor(query.repo)?.did;
    if (!did) return fail(reply, 400, 'InvalidRequest', `Could not find repo: ${query.repo}`);
    const reverse = query.reverse === 'true';
    const limit = Number(query.limit ?? 50);
    const page = records
      .filter((r) => r.did === did && r.collection === query.collection)
      .filter((r) => !query.cursor || (reverse ? r.rkey > query.cursor : r.rkey < query.cursor))
      .sort((a, b) => (reverse ? a.rkey.localeCompare(b.rkey) : b.rkey.localeCompare(a.rkey)))
      .slice(0, limit);
    return {
      records: page.map((r) => ({ uri: r.uri, cid: r.cid, value: r.value })),
      ...(page.length === limit ? { cursor: page.at(-1)!.rkey } : {}),
    };
  });

  xrpc('GET', 'com.atproto.sync.getBlob', false, (request, reply) => {
    if (badParams(reply, 'com.atproto.sync.getBlob', request.query)) return reply;
    const query = request.query as { did: string; cid: string };
    const blob = blobs.get(query.cid);
    if (!blob || blob.did !== query.did) return fail(reply, 400, 'BlobNotFound', 'Blob not found');
    return reply
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .type(blob.mimeType)
      .send(blob.bytes);
  });

  xrpc('GET', 'app.bsky.feed.getPosts', true, (request) => {
    const raw = (request.query as { uris?: string | string[] }).uris ?? [];
    const uris = Array.isArray(raw) ? raw : [raw];
    return {
      posts: records
        .filter((r) => uris.includes(r.uri) && r.collection === 'app.bsky.feed.post')
        .map((r) => ({
          uri: r.uri,
          cid: r.cid,
          author: { did: r.did, handle: accounts.get(r.did)!.handle },
          record: r.value,
          indexedAt: new Date().toISOString(),
          ...r.counts,
        })),
    };
  });

  function store(
    did: string,
    collection: string,
    rkey: string,
    value: Record<string, unknown>,
  ): FakeBlueskyRecord {
    const record: FakeBlueskyRecord = {
      uri: `at://${did}/${collection}/${rkey}`,
      cid: cidOf(JSON.stringify(value)),
      did,
      collection,
      rkey,
      value,
      counts: { likeCount: 0, repostCount: 0, replyCount: 0, quoteCount: 0 },
    };
    records.push(record);
    const subject = (value.subject as { uri?: string } | undefined)?.uri;
    if (collection === 'app.bsky.feed.repost' && subject) {
      const target = records.find((r) => r.uri === subject);
      if (target) target.counts.repostCount += 1;
    }
    const embed = value.embed as { record?: { uri?: string; record?: { uri?: string } } } | undefined;
    const quoted = embed?.record?.uri ?? embed?.record?.record?.uri;
    const target = quoted ? records.find((r) => r.uri === quoted) : undefined;
    if (target) target.counts.quoteCount += 1;
    return record;
  }

  return {
    server,
    get url() {
      return server.url;
    },
    records,
    blobs,
    start: () => server.start(),
    stop: () => server.stop(),
    addAccount({ handle, appPassword }) {
      const account = { did: `did:plc:${randomBytes(12).toString('hex').slice(0, 24)}`, handle, appPassword };
      accounts.set(account.did, account);
      return account;
    },
    addPost(did, text, options = {}) {
      const blobOf = (bytes: Buffer, mimeType: string) => {
        const cid = cidOf(bytes);
        blobs.set(cid, { cid, did, mimeType, size: bytes.length, bytes });
        return { $type: 'blob', ref: { $link: cid }, mimeType, size: bytes.length };
      };
      const strong = (r: FakeBlueskyRecord) => ({ uri: r.uri, cid: r.cid });
      const media = options.images
        ? {
            $type: 'app.bsky.embed.images',
            images: options.images.map((image) => ({
              image: blobOf(image.bytes, image.mimeType),
              alt: image.alt ?? '',
            })),
          }
        : options.video
          ? {
              $type: 'app.bsky.embed.video',
              video: blobOf(options.video.bytes, 'video/mp4'),
              alt: options.video.alt,
            }
          : undefined;
      const embed = options.quote
        ? media
          ? { $type: 'app.bsky.embed.recordWithMedia', record: { record: strong(options.quote) }, media }
          : { $type: 'app.bsky.embed.record', record: strong(options.quote) }
        : media;
      const record: Record<string, unknown> = {
        $type: 'app.bsky.feed.post',
        text,
        createdAt: (options.createdAt ?? new Date()).toISOString(),
        ...(embed ? { embed } : {}),
        ...(options.facets ? { facets: options.facets } : {}),
        ...(options.replyTo
          ? { reply: { root: strong(options.replyTo), parent: strong(options.replyTo) } }
          : {}),
      };
      const errors = lexicons.validateRecord('app.bsky.feed.post', record);
      if (errors.length > 0) throw new Error(`not a valid post: ${errors.join('; ')}`);
      return store(did, 'app.bsky.feed.post', tidNow(options.createdAt), record);
    },
    deleteRecord(uri) {
      const index = records.findIndex((r) => r.uri === uri);
      if (index >= 0) records.splice(index, 1);
    },
    dropBlob(cid) {
      blobs.delete(cid);
    },
    postsOf(did, collection = 'app.bsky.feed.post') {
      return records.filter((r) => r.did === did && r.collection === collection);
    },
    expireAccessTokens(did) {
      for (const token of access.values()) if (token.did === did) token.expiresAt = Date.now() - 1;
    },
    revokeRefreshTokens(did) {
      for (const token of refresh.values()) if (token.did === did) token.revoked = true;
    },
    changeAppPassword(did, appPassword) {
      accounts.get(did)!.appPassword = appPassword;
    },
    rateLimitFault(resetAt) {
      return {
        kind: 'respond',
        status: 429,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'ratelimit-limit': '5000',
          'ratelimit-remaining': '0',
          'ratelimit-reset': String(Math.floor(resetAt.getTime() / 1000)),
          'ratelimit-policy': '5000;w=3600',
        },
        body: { error: 'RateLimitExceeded', message: 'Rate Limit Exceeded' },
      };
    },
  };
}

/** Every blob reference inside a record. */
function blobRefs(value: unknown): { ref: { $link: string }; mimeType: string; size: number }[] {
  if (Array.isArray(value)) return value.flatMap(blobRefs);
  if (!value || typeof value !== 'object') return [];
  const object = value as Record<string, unknown>;
  if (object.$type === 'blob')
    return [object as unknown as { ref: { $link: string }; mimeType: string; size: number }];
  return Object.values(object).flatMap(blobRefs);
}

let lastMicros = 0;
/** A fresh TID for records the fake creates itself. */
function tidNow(at?: Date): string {
  lastMicros = at ? at.getTime() * 1000 + (lastMicros++ % 1000) : Math.max(lastMicros + 1, Date.now() * 1000);
  let value = (BigInt(lastMicros) << 10n) | BigInt(Math.floor(Math.random() * 1024));
  let key = '';
  for (let i = 0; i < 13; i++) {
    key = '234567abcdefghijklmnopqrstuvwxyz'[Number(value & 31n)] + key;
    value >>= 5n;
  }
  return key;
}
