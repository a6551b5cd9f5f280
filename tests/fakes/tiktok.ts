import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createFakeServer, type FakeServer } from './harness';

/**
 * A fake of TikTok's Open API on loopback: Login Kit v2's token endpoint, the Display API's user
 * info, video query and video list, and the Content Posting API (creator info, video and photo
 * inits, the upload URL, status fetch). TikTok publishes no machine-readable spec, so the rules
 * below follow its reference pages field by field; `TIKTOK_FAKE_RULES` lists them, and
 * tests/integration/platforms/tiktok.test.ts checks each one.
 */
export const TIKTOK_FAKE_RULES = [
  'every API call carries "Authorization: Bearer <access token>"; a missing, unknown or expired token answers 401 access_token_invalid',
  'each endpoint requires its scope (creator info, inits, status: video.publish; user info: user.info.basic; video query and list: video.list), else 401 scope_not_authorized',
  'answers use the envelope { data, error: { code, message, log_id } } with error.code "ok" on success',
  'POST bodies must be application/json; unknown fields and wrong types answer 400 invalid_params',
  'video init and photo init: at most 6 a minute per access token, then 429 rate_limit_exceeded',
  'status fetch: at most 30 a minute per access token, then 429 rate_limit_exceeded',
  'post_info.privacy_level must be one of the creator_info privacy_level_options, else 403 privacy_level_option_mismatch',
  'an unaudited client posts only SELF_ONLY to private accounts (403 unaudited_client_can_only_post_to_private_accounts) and only for 5 accounts in 24 h (403 reached_active_user_cap)',
  'an account over its daily post cap answers 403 spam_risk_too_many_posts; a banned one 403 spam_risk_user_banned_from_posting',
  'a video title holds 2,200 UTF-16 runes; a photo title 90 and a photo description 4,000',
  'FILE_UPLOAD: chunk_size 5–64 MB (a file under 5 MB, or up to 64 MB, may be one chunk of its own size), total_chunk_count = floor(video_size / chunk_size), 1–1000 chunks, the last chunk at most 128 MB',
  'upload PUTs carry Content-Type (video/mp4, video/quicktime, video/webm), Content-Length and Content-Range "bytes first-last/total" for the next chunk in order, else 416; 206 for a part, 201 when the file is whole; an unknown or expired upload URL answers 404',
  'PULL_FROM_URL: the URL must start with a verified domain or prefix, else 403 url_ownership_unverified; TikTok downloads it (a failed download ends FAILED video_pull_failed / photo_pull_failed)',
  'photos: media_type PHOTO, post_mode DIRECT_POST or MEDIA_UPLOAD, 1–35 photo_images, photo_cover_index within them',
  'status flow: PROCESSING_UPLOAD (with uploaded_bytes) or PROCESSING_DOWNLOAD → PUBLISH_COMPLETE, or FAILED with fail_reason; publicaly_available_post_id (int64) only for public posts',
  'token endpoint: application/x-www-form-urlencoded; authorization_code needs the redirect_uri and the PKCE code_verifier (challenge: hex SHA-256); codes are single-use; refresh tokens rotate and the old one stops working; a revoked grant answers invalid_grant',
  'video query: filters.video_ids up to 20; video list: max_count up to 20 with a cursor',
] as const;

const MB = 1024 * 1024;
const PRIVACY = ['PUBLIC_TO_EVERYONE', 'MUTUAL_FOLLOW_FRIENDS', 'FOLLOWER_OF_CREATOR', 'SELF_ONLY'];
const UPLOAD_TYPES = new Set(['video/mp4', 'video/quicktime', 'video/webm']);

export interface FakeTiktokAccount {
  openId: string;
  username: string;
  nickname: string;
  privateAccount: boolean;
  privacyOptions: string[];
  commentDisabled: boolean;
  duetDisabled: boolean;
  stitchDisabled: boolean;
  maxVideoSeconds: number;
  banned: boolean;
  dailyCap: number;
}

export interface FakeTiktokPost {
  publishId: string;
  openId: string;
  kind: 'video' | 'photo';
  postInfo: Record<string, unknown>;
  source: 'FILE_UPLOAD' | 'PULL_FROM_URL';
  status: 'PROCESSING_UPLOAD' | 'PROCESSING_DOWNLOAD' | 'PUBLISH_COMPLETE' | 'FAILED';
  failReason: string | null;
  videoSize: number;
  chunkSize: number;
  chunkCount: number;
  received: Buffer[];
  uploadedBytes: number;
  uploadToken: string | null;
  photos: number;
  postId: string | null;
  /** Every chunk arrived, or every URL was pulled. */
  mediaComplete: boolean;
  /** Status fetches still answered PROCESSING after the media arrived. */
  pendingPolls: number;
  createdAt: number;
  views: number;
  likes: number;
  comments: number;
  shares: number;
}

interface Token {
  openId: string;
  clientKey: string;
  scopes: string[];
  expiresAt: number;
}

export interface FakeTiktok {
  server: FakeServer;
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  registerClient(clientKey: string, clientSecret: string, options?: { audited?: boolean }): void;
  addAccount(options?: Partial<Omit<FakeTiktokAccount, 'openId'>>): FakeTiktokAccount;
  issueTokens(
    openId: string,
    options: { clientKey: string; scopes?: string[]; expiresInSeconds?: number },
  ): { accessToken: string; refreshToken: string; expiresAt: Date };
  /** Login Kit's consent screen: the user approves, TikTok redirects with a code. */
  consent(authorizeUrl: string, openId: string): { code: string; state: string; redirectUri: string };
  revoke(refreshToken: string): void;
  expireAccessTokens(): void;
  expireUploadUrls(): void;
  /** Media URLs starting with this are "verified" for PULL_FROM_URL. */
  verifyPrefix(prefix: string): void;
  /** The next post to finish processing ends FAILED with this reason. */
  failNext(reason: string): void;
  /** Status fetches that answer PROCESSING after the media are complete (default 1). */
  setProcessingPolls(count: number): void;
  posts(openId?: string): FakeTiktokPost[];
  chunkRequests(): { range: string; bytes: number; status: number }[];
  /** Video ids TikTok lists for the account, newest first (for video list). */
  addListedVideo(openId: string, video: { title: string; createTime: Date; cover?: string }): string;
  /** The account deleted the video. */
  removeListedVideo(openId: string, videoId: string): void;
}

const MAX_POST_ID = 2n ** 63n - 1n;

/** A 19-digit id beyond Number.MAX_SAFE_INTEGER, as TikTok's are. */
const postId = () => (7_000_000_000_000_000_000n + BigInt(randomInt(0, 2 ** 47)) * 1000n).toString();

/** `now` drives the per-minute windows, so a test can share its clock with Gaung's limiter. */
export function createFakeTiktok(options: { now?: () => number } = {}): FakeTiktok {
  const clock = options.now ?? Date.now;
  const server = createFakeServer({ bodyLimit: 200 * MB });
  const { app } = server;
  const clients = new Map<string, { secret: string; audited: boolean }>();
  const accounts = new Map<string, FakeTiktokAccount>();
  const tokens = new Map<string, Token>();
  const refreshTokens = new Map<string, { openId: string; clientKey: string; scopes: string[] }>();
  const codes = new Map<
    string,
    { openId: string; clientKey: string; redirectUri: string; challenge: string; scopes: string[] }
  >();
  const posts: FakeTiktokPost[] = [];
  const listed = new Map<string, { id: string; title: string; createTime: number; cover: string }[]>();
  const calls = new Map<string, number[]>();
  const activeUsers = new Map<string, Map<string, number>>();
  const prefixes: string[] = [];
  const chunks: { range: string; bytes: number; status: number }[] = [];
  const failures: string[] = [];
  let processingPolls = 1;

  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_r, body, done) => done(null, body));
  app.removeContentTypeParser('application/x-www-form-urlencoded');
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  const id = (bytes: number) => randomBytes(bytes).toString('hex');
  const logId = () => `2026${id(12)}`;
  const envelope = (reply: FastifyReply, status: number, code: string, message: string, data: unknown = {}) =>
    reply.code(status).send({ data, error: { code, message, log_id: logId() } });
  const ok = (reply: FastifyReply, data: unknown) => envelope(reply, 200, 'ok', '', data);

  /** Auth and scope; answers the error itself and returns null. */
  const admit = (request: FastifyRequest, reply: FastifyReply, scope: string): Token | null => {
    const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
    const token = bearer ? tokens.get(bearer) : undefined;
    if (!token || token.expiresAt < Date.now()) {
      envelope(
        reply,
        401,
        'access_token_invalid',
        'The access token is invalid or not found in the request.',
      );
      return null;
    }
    if (!token.scopes.includes(scope)) {
      envelope(
        reply,
        401,
        'scope_not_authorized',
        `The user did not authorize the scope required: ${scope}.`,
      );
      return null;
    }
    return token;
  };

  const isJson = (request: FastifyRequest) =>
    String(request.headers['content-type'] ?? '').startsWith('application/json');

  /** A sliding minute per access token and endpoint family. */
  const limited = (reply: FastifyReply, key: string, max: number): boolean => {
    const now = clock();
    const recent = (calls.get(key) ?? []).filter((t) => t > now - 60_000);
    if (recent.length >= max) {
      calls.set(key, recent);
      reply.header('retry-after', String(Math.ceil((recent[0]! + 60_000 - now) / 1000)));
      envelope(reply, 429, 'rate_limit_exceeded', 'The API rate limit was exceeded. Please try again later.');
      return true;
    }
    recent.push(now);
    calls.set(key, recent);
    return false;
  };

  const bearerOf = (request: FastifyRequest) => String(request.headers.authorization ?? '');

  /** Field-by-field body checks: returns the first problem. */
  const unknownFields = (value: Record<string, unknown>, allowed: string[], where: string) => {
    const extra = Object.keys(value).filter((key) => !allowed.includes(key));
    return extra.length > 0 ? `unknown field ${where}.${extra[0]}` : null;
  };

  const checkPostInfo = (info: unknown, kind: 'video' | 'photo'): string | null => {
    if (!info || typeof info !== 'object') return 'post_info is required';
    const p = info as Record<string, unknown>;
    const allowed =
      kind === 'video'
        ? [
            'title',
            'privacy_level',
            'disable_duet',
            'disable_comment',
            'disable_stitch',
            'video_cover_timestamp_ms',
            'brand_content_toggle',
            'brand_organic_toggle',
            'is_aigc',
          ]
        : [
            'title',
            'description',
            'privacy_level',
            'disable_comment',
            'auto_add_music',
            'brand_content_toggle',
            'brand_organic_toggle',
          ];
    const extra = unknownFields(p, allowed, 'post_info');
    if (extra) return extra;
    if (typeof p.privacy_level !== 'string' || !PRIVACY.includes(p.privacy_level))
      return 'post_info.privacy_level is invalid';
    for (const flag of ['disable_duet', 'disable_comment', 'disable_stitch', 'auto_add_music'])
      if (p[flag] !== undefined && typeof p[flag] !== 'boolean') return `post_info.${flag} must be a boolean`;
    if (p.title !== undefined && typeof p.title !== 'string') return 'post_info.title must be a string';
    const title = (p.title as string | undefined) ?? '';
    if (kind === 'video' && title.length > 2200) return 'post_info.title exceeds 2200 runes';
    if (kind === 'photo' && title.length > 90) return 'post_info.title exceeds 90 runes';
    if (kind === 'photo' && typeof p.description === 'string' && p.description.length > 4000)
      return 'post_info.description exceeds 4000 runes';
    return null;
  };

  /** The account-level refusals every init shares; answers and returns true when refused. */
  const refusedForAccount = (
    reply: FastifyReply,
    token: Token,
    account: FakeTiktokAccount,
    privacy: string,
  ): boolean => {
    const client = clients.get(token.clientKey)!;
    if (account.banned) {
      envelope(reply, 403, 'spam_risk_user_banned_from_posting', 'The user is banned from making new posts.');
      return true;
    }
    if (!account.privacyOptions.includes(privacy)) {
      envelope(
        reply,
        403,
        'privacy_level_option_mismatch',
        "privacy_level is not one of the creator's options.",
      );
      return true;
    }
    if (!client.audited) {
      if (!account.privateAccount || privacy !== 'SELF_ONLY') {
        envelope(
          reply,
          403,
          'unaudited_client_can_only_post_to_private_accounts',
          'Unaudited clients can only post to a private account.',
        );
        return true;
      }
      const users = activeUsers.get(token.clientKey) ?? new Map<string, number>();
      for (const [user, at] of users) if (at < Date.now() - 24 * 3_600_000) users.delete(user);
      if (!users.has(account.openId) && users.size >= 5) {
        envelope(
          reply,
          403,
          'reached_active_user_cap',
          'The daily quota for active publishing users from your client is reached.',
        );
        return true;
      }
      users.set(account.openId, Date.now());
      activeUsers.set(token.clientKey, users);
    }
    const today = posts.filter(
      (p) => p.openId === account.openId && p.createdAt > Date.now() - 24 * 3_600_000,
    );
    if (today.length >= account.dailyCap) {
      envelope(
        reply,
        403,
        'spam_risk_too_many_posts',
        'The daily post cap from the API is reached for the current user.',
      );
      return true;
    }
    return false;
  };

  const verified = (url: string) => prefixes.some((prefix) => url.startsWith(prefix));

  const newPost = (
    token: Token,
    kind: 'video' | 'photo',
    postInfo: Record<string, unknown>,
    source: FakeTiktokPost['source'],
  ): FakeTiktokPost => {
    const post: FakeTiktokPost = {
      publishId: `v_pub_url~v2-1.${id(12)}`,
      openId: token.openId,
      kind,
      postInfo,
      source,
      status: source === 'FILE_UPLOAD' ? 'PROCESSING_UPLOAD' : 'PROCESSING_DOWNLOAD',
      failReason: null,
      videoSize: 0,
      chunkSize: 0,
      chunkCount: 0,
      received: [],
      uploadedBytes: 0,
      uploadToken: null,
      photos: 0,
      postId: null,
      mediaComplete: false,
      pendingPolls: processingPolls,
      createdAt: Date.now(),
      views: 1520,
      likes: 87,
      comments: 9,
      shares: 14,
    };
    posts.push(post);
    return post;
  };

  /** Decides how processing ends, once the media are complete and the processing polls are spent. */
  const settle = (post: FakeTiktokPost) => {
    const failure = failures.shift();
    if (failure) {
      post.status = 'FAILED';
      post.failReason = failure;
      return;
    }
    post.status = 'PUBLISH_COMPLETE';
    if (post.postInfo.privacy_level === 'PUBLIC_TO_EVERYONE') post.postId = postId();
  };

  /** TikTok pulls the media; a URL that does not answer ends the post FAILED. */
  const download = async (post: FakeTiktokPost, urls: string[]) => {
    try {
      for (const url of urls) {
        const response = await fetch(url);
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const bytes = Buffer.from(await response.arrayBuffer());
        post.received.push(bytes);
        post.uploadedBytes += bytes.length;
      }
      post.mediaComplete = true;
    } catch {
      post.status = 'FAILED';
      post.failReason = post.kind === 'video' ? 'video_pull_failed' : 'photo_pull_failed';
    }
  };

  app.post('/v2/oauth/token/', async (request, reply) => {
    if (!String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
      return reply.code(400).send({
        error: 'invalid_request',
        error_description: 'Content-Type must be application/x-www-form-urlencoded',
        log_id: logId(),
      });
    const form = request.body as Record<string, string>;
    const client = clients.get(form.client_key ?? '');
    if (!client || client.secret !== form.client_secret)
      return reply.code(401).send({
        error: 'invalid_client',
        error_description: 'Client key or secret is incorrect.',
        log_id: logId(),
      });
    let grant: { openId: string; clientKey: string; scopes: string[] } | undefined;
    if (form.grant_type === 'authorization_code') {
      const code = codes.get(form.code ?? '');
      codes.delete(form.code ?? '');
      if (!code || code.clientKey !== form.client_key || code.redirectUri !== form.redirect_uri)
        return reply.code(400).send({
          error: 'invalid_grant',
          error_description: 'Authorization code is expired.',
          log_id: logId(),
        });
      if (
        !form.code_verifier ||
        createHash('sha256').update(form.code_verifier).digest('hex') !== code.challenge
      )
        return reply.code(400).send({
          error: 'invalid_request',
          error_description: 'Code verifier or code challenge is invalid.',
          log_id: logId(),
        });
      grant = { openId: code.openId, clientKey: code.clientKey, scopes: code.scopes };
    } else if (form.grant_type === 'refresh_token') {
      grant = refreshTokens.get(form.refresh_token ?? '');
      if (!grant || grant.clientKey !== form.client_key)
        return reply.code(400).send({
          error: 'invalid_grant',
          error_description: 'Refresh token is invalid or expired.',
          log_id: logId(),
        });
      // Refresh tokens rotate: the one just used stops working.
      refreshTokens.delete(form.refresh_token!);
    } else {
      return reply.code(400).send({
        error: 'unsupported_grant_type',
        error_description: 'grant_type is not supported.',
        log_id: logId(),
      });
    }
    const issued = issue(grant.openId, grant.clientKey, grant.scopes, 86_400);
    return reply.send({
      access_token: issued.accessToken,
      expires_in: 86_400,
      open_id: grant.openId,
      refresh_token: issued.refreshToken,
      refresh_expires_in: 31_536_000,
      scope: grant.scopes.join(','),
      token_type: 'Bearer',
    });
  });

  app.get('/v2/user/info/', async (request, reply) => {
    const token = admit(request, reply, 'user.info.basic');
    if (!token) return reply;
    const fields = String((request.query as Record<string, unknown>).fields ?? '')
      .split(',')
      .filter(Boolean);
    if (fields.length === 0) return envelope(reply, 400, 'invalid_params', 'fields is required');
    const account = accounts.get(token.openId)!;
    const all: Record<string, unknown> = {
      open_id: account.openId,
      union_id: `u${account.openId}`,
      display_name: account.nickname,
      avatar_url: 'https://p16.tiktokcdn.com/avatar.jpeg',
    };
    const unknown = fields.find((f) => !(f in all) && f !== 'username');
    if (unknown) return envelope(reply, 400, 'invalid_params', `unknown field ${unknown}`);
    if (fields.includes('username') && !token.scopes.includes('user.info.profile'))
      return envelope(reply, 401, 'scope_not_authorized', 'username needs user.info.profile');
    return ok(reply, { user: Object.fromEntries(fields.map((f) => [f, all[f]])) });
  });

  app.post('/v2/post/publish/creator_info/query/', async (request, reply) => {
    const token = admit(request, reply, 'video.publish');
    if (!token) return reply;
    if (!isJson(request))
      return envelope(reply, 400, 'invalid_params', 'Content-Type must be application/json');
    const account = accounts.get(token.openId)!;
    return ok(reply, {
      creator_avatar_url: 'https://p16.tiktokcdn.com/avatar.jpeg',
      creator_username: account.username,
      creator_nickname: account.nickname,
      privacy_level_options: account.privacyOptions,
      comment_disabled: account.commentDisabled,
      duet_disabled: account.duetDisabled,
      stitch_disabled: account.stitchDisabled,
      max_video_post_duration_sec: account.maxVideoSeconds,
    });
  });

  app.post('/v2/post/publish/video/init/', async (request, reply) => {
    const token = admit(request, reply, 'video.publish');
    if (!token) return reply;
    if (limited(reply, `init:${bearerOf(request)}`, 6)) return reply;
    if (!isJson(request))
      return envelope(reply, 400, 'invalid_params', 'Content-Type must be application/json');
    const body = (request.body ?? {}) as Record<string, unknown>;
    const problem =
      unknownFields(body, ['post_info', 'source_info'], 'body') ?? checkPostInfo(body.post_info, 'video');
    if (problem) return envelope(reply, 400, 'invalid_params', problem);
    const source = body.source_info as Record<string, unknown> | undefined;
    if (!source || (source.source !== 'FILE_UPLOAD' && source.source !== 'PULL_FROM_URL'))
      return envelope(
        reply,
        400,
        'invalid_params',
        'source_info.source must be FILE_UPLOAD or PULL_FROM_URL',
      );
    const postInfo = body.post_info as Record<string, unknown>;
    const account = accounts.get(token.openId)!;
    if (source.source === 'FILE_UPLOAD') {
      const extra = unknownFields(
        source,
        ['source', 'video_size', 'chunk_size', 'total_chunk_count'],
        'source_info',
      );
      if (extra) return envelope(reply, 400, 'invalid_params', extra);
      const chunking = checkChunking(source);
      if (chunking) return envelope(reply, 400, 'invalid_params', chunking);
    } else {
      const extra = unknownFields(source, ['source', 'video_url'], 'source_info');
      if (extra) return envelope(reply, 400, 'invalid_params', extra);
      if (typeof source.video_url !== 'string')
        return envelope(reply, 400, 'invalid_params', 'source_info.video_url is required');
      if (!verified(source.video_url))
        return envelope(
          reply,
          403,
          'url_ownership_unverified',
          'The domain or URL prefix of video_url is not verified.',
        );
    }
    if (refusedForAccount(reply, token, account, postInfo.privacy_level as string)) return reply;
    const post = newPost(token, 'video', postInfo, source.source);
    if (source.source === 'FILE_UPLOAD') {
      post.videoSize = source.video_size as number;
      post.chunkSize = source.chunk_size as number;
      post.chunkCount = source.total_chunk_count as number;
      post.uploadToken = id(16);
      return ok(reply, {
        publish_id: post.publishId,
        upload_url: `${server.url}/upload/?upload_id=${post.uploadToken}`,
      });
    }
    void download(post, [source.video_url as string]);
    return ok(reply, { publish_id: post.publishId });
  });

  app.post('/v2/post/publish/content/init/', async (request, reply) => {
    const token = admit(request, reply, 'video.publish');
    if (!token) return reply;
    if (limited(reply, `init:${bearerOf(request)}`, 6)) return reply;
    if (!isJson(request))
      return envelope(reply, 400, 'invalid_params', 'Content-Type must be application/json');
    const body = (request.body ?? {}) as Record<string, unknown>;
    const problem =
      unknownFields(body, ['post_info', 'source_info', 'post_mode', 'media_type'], 'body') ??
      (body.media_type !== 'PHOTO' ? 'media_type must be PHOTO' : null) ??
      (body.post_mode !== 'DIRECT_POST' && body.post_mode !== 'MEDIA_UPLOAD'
        ? 'post_mode must be DIRECT_POST or MEDIA_UPLOAD'
        : null) ??
      checkPostInfo(body.post_info, 'photo');
    if (problem) return envelope(reply, 400, 'invalid_params', problem);
    const source = (body.source_info ?? {}) as Record<string, unknown>;
    const extra = unknownFields(source, ['source', 'photo_cover_index', 'photo_images'], 'source_info');
    if (extra) return envelope(reply, 400, 'invalid_params', extra);
    if (source.source !== 'PULL_FROM_URL')
      return envelope(reply, 400, 'invalid_params', 'photos are only pulled from URLs');
    const images = source.photo_images;
    if (
      !Array.isArray(images) ||
      images.length < 1 ||
      images.length > 35 ||
      images.some((u) => typeof u !== 'string')
    )
      return envelope(reply, 400, 'invalid_params', 'photo_images holds 1 to 35 URLs');
    const cover = source.photo_cover_index;
    if (typeof cover !== 'number' || !Number.isInteger(cover) || cover < 0 || cover >= images.length)
      return envelope(reply, 400, 'invalid_params', 'photo_cover_index is out of range');
    if (!images.every((u: string) => verified(u)))
      return envelope(
        reply,
        403,
        'url_ownership_unverified',
        'The domain or URL prefix of a photo is not verified.',
      );
    const postInfo = body.post_info as Record<string, unknown>;
    const account = accounts.get(token.openId)!;
    if (refusedForAccount(reply, token, account, postInfo.privacy_level as string)) return reply;
    const post = newPost(token, 'photo', postInfo, 'PULL_FROM_URL');
    post.photos = images.length;
    void download(post, images as string[]);
    return ok(reply, { publish_id: post.publishId });
  });

  app.put('/upload/', async (request, reply) => {
    const uploadId = String((request.query as Record<string, unknown>).upload_id ?? '');
    const post = posts.find((p) => p.uploadToken === uploadId);
    const range = String(request.headers['content-range'] ?? '');
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const answer = (status: number) => {
      chunks.push({ range, bytes: body.length, status });
      return reply.code(status).send();
    };
    if (!post) return answer(404);
    if (!UPLOAD_TYPES.has(String(request.headers['content-type'] ?? '').split(';')[0]!)) return answer(400);
    if (Number(request.headers['content-length']) !== body.length) return answer(400);
    const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(range);
    if (!match) return answer(416);
    const [first, last, total] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const index = post.received.length;
    const expectedFirst = index * post.chunkSize;
    const expectedLast =
      index === post.chunkCount - 1 ? post.videoSize - 1 : expectedFirst + post.chunkSize - 1;
    // Chunks go in order, each exactly where the init's chunking puts it.
    if (
      total !== post.videoSize ||
      first !== expectedFirst ||
      last !== expectedLast ||
      body.length !== last - first + 1
    )
      return answer(416);
    post.received.push(body);
    post.uploadedBytes += body.length;
    if (post.received.length < post.chunkCount) return answer(206);
    post.mediaComplete = true;
    return answer(201);
  });

  app.post('/v2/post/publish/status/fetch/', async (request, reply) => {
    const token = admit(request, reply, 'video.publish');
    if (!token) return reply;
    if (limited(reply, `status:${bearerOf(request)}`, 30)) return reply;
    if (!isJson(request))
      return envelope(reply, 400, 'invalid_params', 'Content-Type must be application/json');
    const body = (request.body ?? {}) as Record<string, unknown>;
    const extra = unknownFields(body, ['publish_id'], 'body');
    if (extra || typeof body.publish_id !== 'string')
      return envelope(reply, 400, 'invalid_params', extra ?? 'publish_id is required');
    const post = posts.find((p) => p.publishId === body.publish_id && p.openId === token.openId);
    if (!post) return envelope(reply, 400, 'invalid_params', 'publish_id not found');
    if (
      post.mediaComplete &&
      (post.status === 'PROCESSING_UPLOAD' || post.status === 'PROCESSING_DOWNLOAD')
    ) {
      if (post.pendingPolls > 0) post.pendingPolls -= 1;
      else settle(post);
    }
    // int64 ids are written as JSON numbers, as TikTok does: beyond what a JavaScript number holds.
    const data = [
      `"status":"${post.status}"`,
      ...(post.failReason ? [`"fail_reason":"${post.failReason}"`] : []),
      ...(post.status === 'PUBLISH_COMPLETE' && post.postId
        ? [`"publicaly_available_post_id":[${post.postId}]`]
        : []),
      ...(post.source === 'FILE_UPLOAD'
        ? [`"uploaded_bytes":${post.uploadedBytes}`]
        : [`"downloaded_bytes":${post.uploadedBytes}`]),
    ].join(',');
    return reply
      .type('application/json; charset=utf-8')
      .send(`{"data":{${data}},"error":{"code":"ok","message":"","log_id":"${logId()}"}}`);
  });

  const videoFields = new Set([
    'id',
    'title',
    'create_time',
    'cover_image_url',
    'share_url',
    'video_description',
    'duration',
    'height',
    'width',
    'embed_link',
    'like_count',
    'comment_count',
    'share_count',
    'view_count',
  ]);

  const videoObject = (
    video: { id: string; title: string; createTime: number; cover: string },
    username: string,
    stats: Partial<FakeTiktokPost> | undefined,
    fields: string[],
  ) => {
    const all: Record<string, unknown> = {
      id: video.id,
      title: video.title,
      video_description: video.title,
      create_time: video.createTime,
      cover_image_url: video.cover,
      share_url: `https://www.tiktok.com/@${username}/video/${video.id}`,
      embed_link: `https://www.tiktok.com/player/v1/${video.id}`,
      duration: 30,
      height: 1920,
      width: 1080,
      view_count: stats?.views ?? 0,
      like_count: stats?.likes ?? 0,
      comment_count: stats?.comments ?? 0,
      share_count: stats?.shares ?? 0,
    };
    return Object.fromEntries(fields.map((f) => [f, all[f]]));
  };

  const fieldsOf = (request: FastifyRequest, reply: FastifyReply): string[] | null => {
    const fields = String((request.query as Record<string, unknown>).fields ?? '')
      .split(',')
      .filter(Boolean);
    const unknown = fields.find((f) => !videoFields.has(f));
    if (fields.length === 0 || unknown) {
      envelope(reply, 400, 'invalid_params', unknown ? `unknown field ${unknown}` : 'fields is required');
      return null;
    }
    return fields;
  };

  app.post('/v2/video/query/', async (request, reply) => {
    const token = admit(request, reply, 'video.list');
    if (!token) return reply;
    const fields = fieldsOf(request, reply);
    if (!fields) return reply;
    const body = (request.body ?? {}) as { filters?: { video_ids?: unknown } };
    const ids = body.filters?.video_ids;
    if (!Array.isArray(ids) || ids.length < 1 || ids.length > 20 || ids.some((v) => typeof v !== 'string'))
      return envelope(reply, 400, 'invalid_params', 'filters.video_ids holds 1 to 20 ids');
    const account = accounts.get(token.openId)!;
    const videos = posts
      .filter((p) => p.openId === token.openId && p.postId && ids.includes(p.postId))
      .map((p) =>
        videoObject(
          {
            id: p.postId!,
            title: String(p.postInfo.title ?? ''),
            createTime: Math.floor(p.createdAt / 1000),
            cover: 'https://p16.tiktokcdn.com/cover.jpeg',
          },
          account.username,
          p,
          fields,
        ),
      );
    for (const video of listed.get(token.openId) ?? [])
      if (ids.includes(video.id)) videos.push(videoObject(video, account.username, undefined, fields));
    return ok(reply, { videos, cursor: 0, has_more: false });
  });

  app.post('/v2/video/list/', async (request, reply) => {
    const token = admit(request, reply, 'video.list');
    if (!token) return reply;
    const fields = fieldsOf(request, reply);
    if (!fields) return reply;
    const body = (request.body ?? {}) as { max_count?: unknown; cursor?: unknown };
    const max = body.max_count ?? 10;
    if (typeof max !== 'number' || max < 1 || max > 20)
      return envelope(reply, 400, 'invalid_params', 'max_count is 1 to 20');
    const cursor = body.cursor === undefined ? Number.MAX_SAFE_INTEGER : body.cursor;
    if (typeof cursor !== 'number') return envelope(reply, 400, 'invalid_params', 'cursor must be a number');
    const account = accounts.get(token.openId)!;
    const all = (listed.get(token.openId) ?? [])
      .filter((v) => v.createTime * 1000 < cursor)
      .sort((a, b) => b.createTime - a.createTime);
    const page = all.slice(0, max);
    return ok(reply, {
      videos: page.map((v) => videoObject(v, account.username, undefined, fields)),
      cursor: page.length > 0 ? page.at(-1)!.createTime * 1000 : cursor,
      has_more: all.length > page.length,
    });
  });

  function checkChunking(source: Record<string, unknown>): string | null {
    const { video_size: size, chunk_size: chunk, total_chunk_count: count } = source;
    if (![size, chunk, count].every((n) => typeof n === 'number' && Number.isInteger(n) && n > 0))
      return 'video_size, chunk_size and total_chunk_count are positive integers';
    const [s, c, n] = [size as number, chunk as number, count as number];
    if (s < 5 * MB && c !== s) return 'a video under 5 MB is uploaded whole (chunk_size = video_size)';
    if (s > 64 * MB && n < 2) return 'a video over 64 MB is uploaded in several chunks';
    if (c !== s && (c < 5 * MB || c > 64 * MB)) return 'chunk_size is 5 MB to 64 MB';
    if (c === s && c > 64 * MB) return 'chunk_size is at most 64 MB';
    if (n !== Math.floor(s / c)) return 'total_chunk_count must be floor(video_size / chunk_size)';
    if (n < 1 || n > 1000) return 'total_chunk_count is 1 to 1000';
    if (s - (n - 1) * c > 128 * MB) return 'the last chunk is at most 128 MB';
    return null;
  }

  function issue(openId: string, clientKey: string, scopes: string[], expiresInSeconds: number) {
    const accessToken = `act.${id(24)}`;
    const refreshToken = `rft.${id(24)}`;
    const expiresAt = Date.now() + expiresInSeconds * 1000;
    tokens.set(accessToken, { openId, clientKey, scopes, expiresAt });
    refreshTokens.set(refreshToken, { openId, clientKey, scopes });
    return { accessToken, refreshToken, expiresAt: new Date(expiresAt) };
  }

  return {
    server,
    get url() {
      return server.url;
    },
    async start() {
      await server.start();
    },
    stop: () => server.stop(),
    registerClient(clientKey, clientSecret, options = {}) {
      clients.set(clientKey, { secret: clientSecret, audited: options.audited ?? true });
    },
    addAccount(options = {}) {
      const account: FakeTiktokAccount = {
        openId: `-000${id(12)}`,
        username: `imigrasi_${id(3)}`,
        nickname: 'Ditjen Imigrasi',
        privateAccount: false,
        privacyOptions: ['PUBLIC_TO_EVERYONE', 'MUTUAL_FOLLOW_FRIENDS', 'SELF_ONLY'],
        commentDisabled: false,
        duetDisabled: false,
        stitchDisabled: false,
        maxVideoSeconds: 600,
        banned: false,
        dailyCap: 15,
        ...options,
      };
      accounts.set(account.openId, account);
      return account;
    },
    issueTokens(openId, options) {
      return issue(
        openId,
        options.clientKey,
        options.scopes ?? ['user.info.basic', 'video.publish', 'video.upload', 'video.list'],
        options.expiresInSeconds ?? 86_400,
      );
    },
    consent(authorizeUrl, openId) {
      const url = new URL(authorizeUrl);
      const q = url.searchParams;
      const clientKey = q.get('client_key') ?? '';
      if (!clients.has(clientKey)) throw new Error('unknown client_key');
      if (q.get('response_type') !== 'code') throw new Error('response_type must be code');
      const redirectUri = q.get('redirect_uri') ?? '';
      if (!redirectUri.startsWith('https://')) throw new Error('TikTok web redirect URIs must be https');
      if (q.get('code_challenge_method') !== 'S256' || !/^[0-9a-f]{64}$/.test(q.get('code_challenge') ?? ''))
        throw new Error('code_challenge must be the hex SHA-256 of the verifier');
      const scopes = (q.get('scope') ?? '').split(',').filter(Boolean);
      if (scopes.length === 0) throw new Error('scope is required (comma-separated)');
      const code = id(20);
      codes.set(code, { openId, clientKey, redirectUri, challenge: q.get('code_challenge')!, scopes });
      return { code, state: q.get('state') ?? '', redirectUri };
    },
    revoke(refreshToken) {
      const grant = refreshTokens.get(refreshToken);
      refreshTokens.delete(refreshToken);
      if (grant)
        for (const [token, info] of tokens)
          if (info.openId === grant.openId && info.clientKey === grant.clientKey) tokens.delete(token);
    },
    expireAccessTokens() {
      for (const token of tokens.values()) token.expiresAt = Date.now() - 1;
    },
    expireUploadUrls() {
      for (const post of posts) post.uploadToken = null;
    },
    verifyPrefix(prefix) {
      prefixes.push(prefix);
    },
    failNext(reason) {
      failures.push(reason);
    },
    setProcessingPolls(count) {
      processingPolls = count;
    },
    posts: (openId) => posts.filter((p) => !openId || p.openId === openId),
    chunkRequests: () => chunks,
    removeListedVideo(openId, videoId) {
      listed.set(
        openId,
        (listed.get(openId) ?? []).filter((video) => video.id !== videoId),
      );
    },
    addListedVideo(openId, video) {
      const videoId = postId();
      if (BigInt(videoId) > MAX_POST_ID) throw new Error('id out of range');
      const list = listed.get(openId) ?? [];
      list.push({
        id: videoId,
        title: video.title,
        createTime: Math.floor(video.createTime.getTime() / 1000),
        cover: video.cover ?? `https://p16-sign.tiktokcdn.com/obj/cover-${videoId}.jpeg`,
      });
      listed.set(openId, list);
      return videoId;
    },
  };
}
