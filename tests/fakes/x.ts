import { createHash, randomBytes } from 'node:crypto';
import multipart from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import twitterText from 'twitter-text';
import { createFakeServer, type FakeServer, type Fault } from './harness';
import { fastifyPath, loadOpenApiValidator, openApiRequest } from './openapi';
import { specPath } from './specs';

/**
 * A fake X API v2: OAuth 2.0 token endpoint (authorization code with PKCE, rotating refresh
 * tokens), users/me, the v2 media upload (initialize / append / finalize / status) and metadata,
 * posts, reposts, user timelines (with their media expanded, as a source reads them) and post
 * lookup, and the media files themselves as pbs.twimg.com / video.twimg.com serve them. Every request is checked against the official
 * OpenAPI document (body schemas with additionalProperties: false, parameters, and unknown query
 * parameters, which X rejects) and against the token's scopes. Stored text is shortened to t.co
 * and HTML-escaped as X does, so reconciliation has to match the way it must in production.
 */

export const X_SPEC = specPath('x-api-v2-openapi.json');

export interface FakeXUser {
  id: string;
  username: string;
  name: string;
}

export interface FakeXPost {
  id: string;
  authorId: string;
  /** The text as submitted. */
  submittedText: string;
  /** The text as X stores and returns it (t.co links, HTML entities). */
  text: string;
  urls: { start: number; end: number; url: string; expanded_url: string; display_url: string }[];
  createdAt: Date;
  mediaIds: string[];
  quoteOf: string | null;
  retweetOf: string | null;
  /** The post this one answers (replies are left out of a timeline read with exclude=replies). */
  replyTo: string | null;
  /** Media as the timeline's `includes.media` shows them. */
  attached: FakeXAttachment[];
  metrics: {
    like_count: number;
    repost_count: number;
    reply_count: number;
    quote_count: number;
    impression_count: number;
    bookmark_count: number;
  };
}

/** A medium of a post as X serves it to readers: a photo URL, or a video's variants. */
export interface FakeXAttachment {
  media_key: string;
  type: 'photo' | 'video' | 'animated_gif';
  url?: string;
  preview_image_url?: string;
  alt_text?: string;
  variants?: { bit_rate?: number; content_type: string; url: string }[];
}

/** What a test attaches to an office's post: bytes to serve, or null for a file that answers 404. */
export type FakeXAttach =
  | { type: 'photo'; bytes: Buffer | null; altText?: string }
  | { type: 'video' | 'animated_gif'; bytes: Buffer | null; altText?: string; mp4?: boolean };

export interface FakeXMedia {
  id: string;
  mediaKey: string;
  ownerId: string;
  mediaType: string;
  category: string;
  totalBytes: number;
  segments: Map<number, Buffer>;
  bytes: Buffer | null;
  state: 'uploading' | 'pending' | 'in_progress' | 'succeeded' | 'failed';
  pollsLeft: number;
  altText: string | null;
}

interface AccessToken {
  userId: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
}

const DEFAULT_SCOPES = ['tweet.read', 'tweet.write', 'users.read', 'media.write', 'offline.access'];
const WINDOW_MS = 15 * 60_000;
/** Per-user limits per 15 minutes, as X documents them for these endpoints. */
const LIMITS: Record<string, number> = {
  'POST /2/tweets': 100,
  'POST /2/users/{id}/retweets': 50,
  'GET /2/users/{id}/tweets': 900,
  'GET /2/users/me': 75,
  'GET /2/tweets/{id}': 900,
  'GET /2/tweets/{id}/retweets': 75,
  'DELETE /2/tweets/{id}': 50,
  'DELETE /2/users/{id}/retweets/{source_tweet_id}': 50,
};

export interface FakeX {
  server: FakeServer;
  url: string;
  users: Map<string, FakeXUser>;
  posts: FakeXPost[];
  media: Map<string, FakeXMedia>;
  /** Every removal the API made: a deleted post (`delete`) or an undone repost (`unretweet`), in order. */
  removals: { kind: 'delete' | 'unretweet'; id: string; userId: string }[];
  start(): Promise<string>;
  stop(): Promise<void>;
  registerClient(clientId: string, clientSecret?: string): void;
  addUser(user: { username: string; name?: string }): FakeXUser;
  issueTokens(
    userId: string,
    options?: { clientId?: string; ttlSeconds?: number; scopes?: string[] },
  ): { accessToken: string; refreshToken: string; expiresAt: Date };
  expireAccessToken(token: string): void;
  /** What X's consent screen does: records the PKCE challenge and returns the code for the redirect. */
  authorize(options: {
    clientId: string;
    userId: string;
    redirectUri: string;
    codeChallenge: string;
    scope: string;
  }): string;
  addPost(
    userId: string,
    text: string,
    createdAt?: Date,
    options?: { media?: FakeXAttach[]; replyTo?: string; retweetOf?: string },
  ): FakeXPost;
  /** The author deleted it: lookups answer resource-not-found. */
  deletePost(id: string): void;
  timeline(userId: string): FakeXPost[];
  /** A 429 exactly as X sends it when the 15-minute window is spent. */
  rateLimitFault(resetAt: Date, limit?: number): Fault;
}

export function createFakeX(options: { videoProcessingPolls?: number; checkAfterSecs?: number } = {}): FakeX {
  const server = createFakeServer();
  const { app } = server;
  const spec = loadOpenApiValidator(X_SPEC, { rejectUnknownQuery: true });
  const users = new Map<string, FakeXUser>();
  const posts: FakeXPost[] = [];
  const media = new Map<string, FakeXMedia>();
  const clients = new Map<string, string | null>();
  const tokens = new Map<string, AccessToken>();
  const refreshTokens = new Map<string, { userId: string; clientId: string; scopes: string[] }>();
  const codes = new Map<
    string,
    { clientId: string; userId: string; redirectUri: string; challenge: string; scope: string }
  >();
  const windows = new Map<string, { used: number; resetAt: number }>();
  const removals: FakeX['removals'] = [];
  let nextId = 1_850_000_000_000_000_000n;
  const newId = () => String(nextId++);
  const secret = () => randomBytes(24).toString('base64url');

  app.register(multipart, { attachFieldsToBody: 'keyValues', limits: { fileSize: 5 * 1024 * 1024 } });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    },
  );

  const problem = (
    reply: FastifyReply,
    status: number,
    title: string,
    detail: string,
    type = 'about:blank',
  ) => reply.code(status).send({ title, detail, type, status });

  const invalidRequest = (reply: FastifyReply, messages: string[]) =>
    reply.code(400).send({
      errors: messages.map((message) => ({ message })),
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.x.com/2/problems/invalid-request',
    });

  const authenticate = (request: FastifyRequest, reply: FastifyReply): AccessToken | null => {
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? tokens.get(header.slice(7)) : undefined;
    if (!token || token.expiresAt <= Date.now()) {
      problem(reply, 401, 'Unauthorized', 'Unauthorized');
      return null;
    }
    return token;
  };

  /** Counts the call in the user's 15-minute window and sets X's x-rate-limit-* headers. */
  const meter = (reply: FastifyReply, key: string, userId: string): boolean => {
    const limit = LIMITS[key];
    if (!limit) return true;
    const id = `${userId} ${key}`;
    let window = windows.get(id);
    if (!window || window.resetAt <= Date.now()) {
      window = { used: 0, resetAt: Date.now() + WINDOW_MS };
      windows.set(id, window);
    }
    const reset = String(Math.ceil(window.resetAt / 1000));
    reply.header('x-rate-limit-limit', String(limit));
    reply.header('x-rate-limit-reset', reset);
    if (window.used >= limit) {
      reply.header('x-rate-limit-remaining', '0');
      problem(reply, 429, 'Too Many Requests', 'Too Many Requests');
      return false;
    }
    window.used += 1;
    reply.header('x-rate-limit-remaining', String(limit - window.used));
    return true;
  };

  /** Registers an operation of the X document: auth, scopes, rate limit, then spec validation. */
  const route = (
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    handle: (request: FastifyRequest, reply: FastifyReply, token: AccessToken) => unknown,
  ) => {
    if (!spec.has(method, path)) throw new Error(`${method} ${path} is not in the X document`);
    const required = spec.scopes(method, path, 'OAuth2UserToken') ?? [];
    app.route({
      method,
      url: fastifyPath(path),
      handler: async (request, reply) => {
        const token = authenticate(request, reply);
        if (!token) return reply;
        const missing = required.filter((scope) => !token.scopes.includes(scope));
        if (missing.length > 0)
          return problem(reply, 403, 'Forbidden', `Missing scopes: ${missing.join(', ')}`);
        if (!meter(reply, `${method} ${path}`, token.userId)) return reply;
        const errors = spec.validate(method, path, openApiRequest(request));
        if (errors.length > 0) return invalidRequest(reply, errors);
        return handle(request, reply, token);
      },
    });
  };

  const issue = (userId: string, clientId: string, scopes: string[], ttlSeconds = 7200) => {
    const accessToken = secret();
    const refreshToken = secret();
    tokens.set(accessToken, { userId, clientId, scopes, expiresAt: Date.now() + ttlSeconds * 1000 });
    if (scopes.includes('offline.access')) refreshTokens.set(refreshToken, { userId, clientId, scopes });
    return { accessToken, refreshToken, expiresAt: new Date(Date.now() + ttlSeconds * 1000), ttlSeconds };
  };

  // OAuth 2.0 token endpoint (RFC 6749: form-encoded; confidential clients authenticate with Basic).
  app.post('/2/oauth2/token', async (request, reply) => {
    const oauthError = (status: number, error: string, description: string) =>
      reply.code(status).send({ error, error_description: description });
    if (!String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
      return oauthError(400, 'invalid_request', 'Missing required parameter [grant_type].');
    const form = request.body as Record<string, string>;
    const basic = String(request.headers.authorization ?? '');
    let clientId = form.client_id;
    if (basic.startsWith('Basic ')) {
      const [id, given] = Buffer.from(basic.slice(6), 'base64').toString().split(':').map(decodeURIComponent);
      if (!id || !clients.has(id) || clients.get(id) !== given)
        return oauthError(401, 'unauthorized_client', 'Missing valid authorization header');
      clientId = id;
    } else if (!clientId || !clients.has(clientId) || clients.get(clientId) !== null) {
      return oauthError(401, 'unauthorized_client', 'Missing valid authorization header');
    }
    const grant = (userId: string, scopes: string[]) => {
      const issued = issue(userId, clientId!, scopes);
      return reply.send({
        token_type: 'bearer',
        expires_in: issued.ttlSeconds,
        access_token: issued.accessToken,
        scope: scopes.join(' '),
        ...(scopes.includes('offline.access') ? { refresh_token: issued.refreshToken } : {}),
      });
    };
    if (form.grant_type === 'authorization_code') {
      const code = codes.get(form.code ?? '');
      codes.delete(form.code ?? '');
      const challenge = createHash('sha256')
        .update(form.code_verifier ?? '')
        .digest('base64url');
      if (
        !code ||
        code.clientId !== clientId ||
        code.redirectUri !== form.redirect_uri ||
        code.challenge !== challenge
      )
        return oauthError(400, 'invalid_request', 'Value passed for the authorization code was invalid.');
      return grant(code.userId, code.scope.split(' '));
    }
    if (form.grant_type === 'refresh_token') {
      const stored = refreshTokens.get(form.refresh_token ?? '');
      if (!stored || stored.clientId !== clientId)
        return oauthError(400, 'invalid_request', 'Value passed for the token was invalid.');
      // Refresh tokens rotate: the one just used is spent.
      refreshTokens.delete(form.refresh_token!);
      return grant(stored.userId, stored.scopes);
    }
    return oauthError(400, 'invalid_request', 'Missing required parameter [grant_type].');
  });

  route('GET', '/2/users/me', (_request, _reply, token) => {
    const user = users.get(token.userId)!;
    return { data: { id: user.id, name: user.name, username: user.username } };
  });

  route('POST', '/2/media/upload/initialize', (request, reply, token) => {
    const body = request.body as { media_type?: string; media_category?: string; total_bytes?: number };
    if (!body.media_type || body.total_bytes === undefined)
      return invalidRequest(reply, ['media_type and total_bytes are required']);
    const category =
      body.media_category ?? (body.media_type.startsWith('video/') ? 'tweet_video' : 'tweet_image');
    const id = newId();
    media.set(id, {
      id,
      mediaKey: `${category === 'tweet_video' ? 7 : 3}_${id}`,
      ownerId: token.userId,
      mediaType: body.media_type,
      category,
      totalBytes: body.total_bytes,
      segments: new Map(),
      bytes: null,
      state: 'uploading',
      pollsLeft: options.videoProcessingPolls ?? 1,
      altText: null,
    });
    return { data: { id, media_key: media.get(id)!.mediaKey, expires_after_secs: 86_400 } };
  });

  const ownedUpload = (reply: FastifyReply, id: string, token: AccessToken) => {
    const upload = media.get(id);
    if (!upload || upload.ownerId !== token.userId) {
      invalidRequest(reply, [`media_id ${id} was not found`]);
      return null;
    }
    return upload;
  };

  route('POST', '/2/media/upload/{id}/append', (request, reply, token) => {
    const upload = ownedUpload(reply, (request.params as { id: string }).id, token);
    if (!upload) return reply;
    const body = request.body as { media: Buffer | string; segment_index: string };
    if (upload.state !== 'uploading') return invalidRequest(reply, ['upload already finalized']);
    const chunk = Buffer.isBuffer(body.media) ? body.media : Buffer.from(body.media, 'base64');
    upload.segments.set(Number(body.segment_index), chunk);
    return { data: { expires_at: Math.floor(Date.now() / 1000) + 86_400 } };
  });

  route('POST', '/2/media/upload/{id}/finalize', (request, reply, token) => {
    const upload = ownedUpload(reply, (request.params as { id: string }).id, token);
    if (!upload) return reply;
    const bytes = Buffer.concat(
      [...upload.segments.entries()].sort(([a], [b]) => a - b).map(([, chunk]) => chunk),
    );
    if (bytes.length !== upload.totalBytes)
      return invalidRequest(reply, ['Segments do not add up to provided total file size.']);
    if (!looksLike(upload.mediaType, bytes)) return invalidRequest(reply, ['media type unrecognized.']);
    upload.bytes = bytes;
    const video = upload.category === 'tweet_video';
    upload.state = video ? 'pending' : 'succeeded';
    return {
      data: {
        id: upload.id,
        media_key: upload.mediaKey,
        size: bytes.length,
        expires_after_secs: 86_400,
        ...(video
          ? { processing_info: { state: 'pending', check_after_secs: options.checkAfterSecs ?? 1 } }
          : {}),
      },
    };
  });

  route('GET', '/2/media/upload', (request, reply, token) => {
    const upload = ownedUpload(reply, (request.query as { media_id: string }).media_id, token);
    if (!upload) return reply;
    if (upload.state === 'pending' || upload.state === 'in_progress') {
      upload.pollsLeft -= 1;
      upload.state = upload.pollsLeft <= 0 ? 'succeeded' : 'in_progress';
    }
    const info =
      upload.state === 'succeeded'
        ? { state: 'succeeded', progress_percent: 100 }
        : { state: upload.state, check_after_secs: options.checkAfterSecs ?? 1, progress_percent: 50 };
    return { data: { id: upload.id, media_key: upload.mediaKey, processing_info: info } };
  });

  route('POST', '/2/media/metadata', (request, reply, token) => {
    const body = request.body as { id: string; metadata?: { alt_text?: { text: string } } };
    const upload = ownedUpload(reply, body.id, token);
    if (!upload) return reply;
    upload.altText = body.metadata?.alt_text?.text ?? null;
    return { data: { id: upload.id, associated_metadata: body.metadata ?? {} } };
  });

  route('POST', '/2/tweets', (request, reply, token) => {
    const body = request.body as { text?: string; media?: { media_ids: string[] }; quote_tweet_id?: string };
    const text = body.text ?? '';
    const mediaIds = body.media?.media_ids ?? [];
    if (text.length === 0 && mediaIds.length === 0)
      return invalidRequest(reply, ['text or media is required']);
    if (text.length > 0 && !twitterText.parseTweet(text).valid)
      return invalidRequest(reply, ['text: Your Tweet text is too long.']);
    const attached = mediaIds.map((id) => media.get(id));
    const usable = attached.every((m) => m && m.ownerId === token.userId && m.state === 'succeeded');
    const videos = attached.filter((m) => m?.category === 'tweet_video').length;
    if (!usable || (videos > 0 && attached.length > 1))
      return invalidRequest(reply, ['Your media IDs are invalid.']);
    if (body.quote_tweet_id && !posts.some((p) => p.id === body.quote_tweet_id))
      return invalidRequest(reply, [
        `quote_tweet_id: Could not find tweet with id: [${body.quote_tweet_id}].`,
      ]);
    if (
      posts.some(
        (p) => p.authorId === token.userId && p.retweetOf === null && p.submittedText === text && text,
      )
    )
      return problem(
        reply,
        403,
        'Forbidden',
        'You are not allowed to create a Tweet with duplicate content.',
      );
    const post = store(token.userId, text, { mediaIds, quoteOf: body.quote_tweet_id ?? null });
    return reply.code(201).send({ data: { id: post.id, text: post.text, edit_history_post_ids: [post.id] } });
  });

  route('POST', '/2/users/{id}/retweets', (request, reply, token) => {
    const { id } = request.params as { id: string };
    if (id !== token.userId)
      return problem(reply, 403, 'Forbidden', 'You are not permitted to act for this user.');
    const { tweet_id } = request.body as { tweet_id: string };
    const source = posts.find((p) => p.id === tweet_id);
    if (!source) return invalidRequest(reply, [`tweet_id: Could not find tweet with id: [${tweet_id}].`]);
    const existing = posts.find((p) => p.authorId === id && p.retweetOf === tweet_id);
    if (existing) return { data: { retweeted: true, rest_id: existing.id } };
    const sourceAuthor = users.get(source.authorId)!;
    const retweet = store(id, `RT @${sourceAuthor.username}: ${source.submittedText}`, {
      retweetOf: tweet_id,
    });
    source.metrics.repost_count += 1;
    return { data: { retweeted: true, rest_id: retweet.id } };
  });

  const notFound = (reply: FastifyReply, id: string) =>
    reply.code(404).send({
      errors: [
        {
          value: id,
          detail: `Could not find tweet with id: [${id}].`,
          title: 'Not Found Error',
          resource_type: 'tweet',
          parameter: 'id',
          resource_id: id,
          type: 'https://api.x.com/2/problems/resource-not-found',
        },
      ],
      title: 'Not Found Error',
      detail: `Could not find tweet with id: [${id}].`,
      type: 'https://api.x.com/2/problems/resource-not-found',
    });

  /** Only the author deletes a post; one that is gone (or never was) is resource-not-found. */
  route('DELETE', '/2/tweets/{id}', (request, reply, token) => {
    const { id } = request.params as { id: string };
    const index = posts.findIndex((p) => p.id === id);
    if (index < 0) return notFound(reply, id);
    const post = posts[index]!;
    if (post.authorId !== token.userId)
      return problem(reply, 403, 'Forbidden', 'You are not allowed to delete this Tweet.');
    posts.splice(index, 1);
    removals.push({ kind: 'delete', id, userId: token.userId });
    return { data: { deleted: true } };
  });

  /** Undoes the user's repost of a post; a repost that is not there answers `retweeted: false` all the same. */
  route('DELETE', '/2/users/{id}/retweets/{source_tweet_id}', (request, reply, token) => {
    const { id, source_tweet_id } = request.params as { id: string; source_tweet_id: string };
    if (id !== token.userId)
      return problem(reply, 403, 'Forbidden', 'You are not permitted to act for this user.');
    const index = posts.findIndex((p) => p.authorId === id && p.retweetOf === source_tweet_id);
    if (index >= 0) {
      const [repost] = posts.splice(index, 1);
      const source = posts.find((p) => p.id === source_tweet_id);
      if (source) source.metrics.repost_count -= 1;
      removals.push({ kind: 'unretweet', id: repost!.id, userId: id });
    }
    return { data: { retweeted: false } };
  });

  /** Media files, public as on pbs.twimg.com and video.twimg.com (no token needed). */
  const files = new Map<string, { bytes: Buffer; mime: string }>();
  app.get<{ Params: { file: string } }>('/pbs/media/:file', async (request, reply) => {
    const file = files.get(request.params.file);
    if (!file) return reply.code(404).type('text/html').send('<html><body>Not Found</body></html>');
    return reply.type(file.mime).send(file.bytes);
  });
  const host = (name: string, bytes: Buffer | null, mime: string) => {
    if (bytes) files.set(name, { bytes, mime });
    return `${server.url}/pbs/media/${name}`;
  };
  const attach = (input: FakeXAttach): FakeXAttachment => {
    const id = newId();
    const alt = input.altText ? { alt_text: input.altText } : {};
    if (input.type === 'photo')
      return {
        media_key: `3_${id}`,
        type: 'photo',
        url: host(`${id}.jpg`, input.bytes, 'image/jpeg'),
        ...alt,
      };
    const preview = host(`${id}-thumb.jpg`, null, 'image/jpeg');
    const hls = {
      content_type: 'application/x-mpegURL',
      url: host(`${id}.m3u8`, null, 'application/x-mpegURL'),
    };
    const mp4 =
      input.mp4 === false
        ? []
        : [
            // X lists variants in no particular order; the best is the one with the highest bit rate.
            {
              bit_rate: 256_000,
              content_type: 'video/mp4',
              url: host(`${id}-320.mp4`, Buffer.from('low'), 'video/mp4'),
            },
            {
              bit_rate: 2_176_000,
              content_type: 'video/mp4',
              url: host(`${id}-1280.mp4`, input.bytes, 'video/mp4'),
            },
            {
              bit_rate: 832_000,
              content_type: 'video/mp4',
              url: host(`${id}-640.mp4`, Buffer.from('mid'), 'video/mp4'),
            },
          ];
    return {
      media_key: `${input.type === 'video' ? 7 : 16}_${id}`,
      type: input.type,
      preview_image_url: preview,
      variants: [hls, ...mp4],
      ...alt,
    };
  };

  route('GET', '/2/users/{id}/tweets', (request) => {
    const { id } = request.params as { id: string };
    const query = request.query as Record<string, string | undefined>;
    const exclude = new Set((query.exclude ?? '').split(',').filter(Boolean));
    const start = query.start_time ? Date.parse(query.start_time) : Number.NEGATIVE_INFINITY;
    const end = query.end_time ? Date.parse(query.end_time) : Number.POSITIVE_INFINITY;
    const selected = timeline(id).filter(
      (p) =>
        p.createdAt.getTime() >= start &&
        p.createdAt.getTime() < end &&
        !(exclude.has('retweets') && p.retweetOf) &&
        !(exclude.has('replies') && p.replyTo) &&
        (!query.since_id || BigInt(p.id) > BigInt(query.since_id)) &&
        (!query.until_id || BigInt(p.id) < BigInt(query.until_id)),
    );
    return page(selected, query, 10);
  });

  route('GET', '/2/tweets/{id}', (request) => {
    const { id } = request.params as { id: string };
    const post = posts.find((p) => p.id === id);
    const query = request.query as Record<string, string | undefined>;
    if (!post)
      return {
        errors: [
          {
            value: id,
            detail: `Could not find tweet with id: [${id}].`,
            title: 'Not Found Error',
            resource_type: 'tweet',
            parameter: 'id',
            resource_id: id,
            type: 'https://api.x.com/2/problems/resource-not-found',
          },
        ],
      };
    return { data: render(post, query) };
  });

  route('GET', '/2/tweets/{id}/retweets', (request) => {
    const { id } = request.params as { id: string };
    const query = request.query as Record<string, string | undefined>;
    const selected = posts.filter((p) => p.retweetOf === id).sort(newestFirst);
    return page(selected, query, 100);
  });

  function page(selected: FakeXPost[], query: Record<string, string | undefined>, defaultSize: number) {
    const size = Number(query.max_results ?? defaultSize);
    const offset = query.pagination_token
      ? Number(Buffer.from(query.pagination_token, 'base64url').toString())
      : 0;
    const slice = selected.slice(offset, offset + size);
    const more = offset + size < selected.length;
    const expansions = new Set((query.expansions ?? '').split(',').filter(Boolean));
    const includes = {
      ...(expansions.has('author_id') && slice.length > 0
        ? { users: [...new Set(slice.map((p) => p.authorId))].map((u) => users.get(u)) }
        : {}),
      ...(expansions.has('attachments.media_keys') && slice.some((p) => p.attached.length > 0)
        ? { media: slice.flatMap((p) => p.attached.map((m) => renderMedia(m, query))) }
        : {}),
    };
    return {
      ...(slice.length > 0 ? { data: slice.map((p) => render(p, query)) } : {}),
      ...(Object.keys(includes).length > 0 ? { includes } : {}),
      meta: {
        result_count: slice.length,
        ...(slice.length > 0 ? { newest_id: slice[0]!.id, oldest_id: slice.at(-1)!.id } : {}),
        ...(more ? { next_token: Buffer.from(String(offset + size)).toString('base64url') } : {}),
      },
    };
  }

  function render(post: FakeXPost, query: Record<string, string | undefined>) {
    const fields = new Set((query['post.fields'] ?? '').split(',').filter(Boolean));
    const expansions = new Set((query.expansions ?? '').split(',').filter(Boolean));
    return {
      id: post.id,
      text: post.text,
      edit_history_post_ids: [post.id],
      ...(fields.has('created_at') ? { created_at: post.createdAt.toISOString() } : {}),
      ...(fields.has('attachments') && post.attached.length > 0
        ? { attachments: { media_keys: post.attached.map((m) => m.media_key) } }
        : {}),
      ...(fields.has('public_metrics') ? { public_metrics: { ...post.metrics } } : {}),
      ...(fields.has('entities') && post.urls.length > 0 ? { entities: { urls: post.urls } } : {}),
      ...(expansions.has('referenced_posts') && (post.replyTo || post.retweetOf)
        ? {
            referenced_posts: [
              post.retweetOf
                ? { type: 'retweeted', id: post.retweetOf }
                : { type: 'replied_to', id: post.replyTo },
            ],
          }
        : {}),
      ...(expansions.has('author_id') ? { author_id: post.authorId } : {}),
    };
  }

  /** A medium with the fields `media.fields` asks for (media_key and type always). */
  function renderMedia(medium: FakeXAttachment, query: Record<string, string | undefined>) {
    const fields = new Set((query['media.fields'] ?? '').split(',').filter(Boolean));
    return Object.fromEntries(
      Object.entries(medium).filter(([name]) => name === 'media_key' || name === 'type' || fields.has(name)),
    );
  }

  function store(
    authorId: string,
    submittedText: string,
    extra: {
      mediaIds?: string[];
      quoteOf?: string | null;
      retweetOf?: string | null;
      replyTo?: string | null;
      attached?: FakeXAttachment[];
      createdAt?: Date;
    },
  ): FakeXPost {
    const { text, urls } = shorten(submittedText);
    const post: FakeXPost = {
      id: newId(),
      authorId,
      submittedText,
      text,
      urls,
      createdAt: extra.createdAt ?? new Date(),
      mediaIds: extra.mediaIds ?? [],
      quoteOf: extra.quoteOf ?? null,
      retweetOf: extra.retweetOf ?? null,
      replyTo: extra.replyTo ?? null,
      attached: extra.attached ?? [],
      metrics: {
        like_count: 0,
        repost_count: 0,
        reply_count: 0,
        quote_count: 0,
        impression_count: 0,
        bookmark_count: 0,
      },
    };
    posts.push(post);
    if (post.quoteOf) {
      const quoted = posts.find((p) => p.id === post.quoteOf);
      if (quoted) quoted.metrics.quote_count += 1;
    }
    return post;
  }

  function timeline(userId: string): FakeXPost[] {
    return posts.filter((p) => p.authorId === userId).sort(newestFirst);
  }

  return {
    server,
    get url() {
      return server.url;
    },
    users,
    posts,
    media,
    removals,
    start: () => server.start(),
    stop: () => server.stop(),
    registerClient(clientId, clientSecret) {
      clients.set(clientId, clientSecret ?? null);
    },
    addUser({ username, name }) {
      const user = { id: newId(), username, name: name ?? username };
      users.set(user.id, user);
      return user;
    },
    issueTokens(userId, { clientId = 'gaung-test-client', ttlSeconds = 7200, scopes = DEFAULT_SCOPES } = {}) {
      const { accessToken, refreshToken, expiresAt } = issue(userId, clientId, scopes, ttlSeconds);
      return { accessToken, refreshToken, expiresAt };
    },
    expireAccessToken(token) {
      const stored = tokens.get(token);
      if (stored) stored.expiresAt = Date.now() - 1;
    },
    authorize({ clientId, userId, redirectUri, codeChallenge, scope }) {
      const code = secret();
      codes.set(code, { clientId, userId, redirectUri, challenge: codeChallenge, scope });
      return code;
    },
    addPost(userId, text, createdAt, options = {}) {
      const attached = (options.media ?? []).map(attach);
      const post = store(userId, text, {
        createdAt,
        attached,
        replyTo: options.replyTo ?? null,
        retweetOf: options.retweetOf ?? null,
      });
      // X appends a t.co link to the post's media, an entity that carries the first medium's key.
      if (attached.length > 0) {
        const link = `https://t.co/${randomBytes(8).toString('base64url').slice(0, 10)}`;
        const start = [...post.text].length + 1;
        post.text = `${post.text} ${link}`;
        post.urls.push({
          start,
          end: start + link.length,
          url: link,
          expanded_url: `https://x.com/${users.get(userId)!.username}/status/${post.id}/${attached[0]!.type === 'photo' ? 'photo' : 'video'}/1`,
          display_url: `pic.x.com/${link.slice(13)}`,
        });
      }
      return post;
    },
    deletePost(id) {
      const index = posts.findIndex((p) => p.id === id);
      if (index >= 0) posts.splice(index, 1);
    },
    timeline,
    rateLimitFault(resetAt, limit = 100) {
      return {
        kind: 'respond',
        status: 429,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'x-rate-limit-limit': String(limit),
          'x-rate-limit-remaining': '0',
          'x-rate-limit-reset': String(Math.floor(resetAt.getTime() / 1000)),
        },
        body: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 },
      };
    },
  };
}

const newestFirst = (a: FakeXPost, b: FakeXPost) =>
  b.createdAt.getTime() - a.createdAt.getTime() || (BigInt(b.id) > BigInt(a.id) ? 1 : -1);

/** X wraps every URL in t.co and HTML-escapes &, < and > in the text it returns. */
function shorten(text: string): { text: string; urls: FakeXPost['urls'] } {
  const urls: FakeXPost['urls'] = [];
  let out = '';
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s]+/g)) {
    out += escapeHtml(text.slice(last, match.index));
    const url = `https://t.co/${randomBytes(8).toString('base64url').slice(0, 10)}`;
    const start = [...out].length;
    out += url;
    urls.push({
      start,
      end: start + url.length,
      url,
      expanded_url: match[0],
      display_url: match[0].replace(/^https?:\/\//, '').slice(0, 25),
    });
    last = match.index + match[0].length;
  }
  out += escapeHtml(text.slice(last));
  return { text: out, urls };
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Checks the bytes are what the declared media type says (X sniffs uploads). */
export function looksLike(mediaType: string, bytes: Buffer): boolean {
  if (mediaType === 'image/png')
    return bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  if (mediaType === 'image/jpeg') return bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (mediaType === 'video/mp4' || mediaType === 'video/quicktime')
    return bytes.subarray(4, 8).toString('latin1') === 'ftyp';
  if (mediaType === 'image/gif') return bytes.subarray(0, 4).toString('latin1') === 'GIF8';
  if (mediaType === 'image/webp') return bytes.subarray(8, 12).toString('latin1') === 'WEBP';
  return true;
}
