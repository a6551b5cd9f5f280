import { randomBytes } from 'node:crypto';
import formbody from '@fastify/formbody';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createFakeServer, type FakeServer } from '../harness';
import {
  bool,
  type CdnFile,
  type ContainerState,
  checkFields,
  containerStatus,
  createCdn,
  DAY_SECONDS,
  type EndpointSpec,
  fail,
  fetchMedia,
  graphTimestamp,
  isImage,
  isVideo,
  list,
  nestedFields,
  newId,
  paramsOf,
  pick,
  type SourceMediumSeed,
  sendGraph,
  shortcode,
  type Token,
  timePage,
  tokenOf,
  unknownObject,
  validate,
} from './graph';

/**
 * The fake Threads API: the same token, parameter and field checks as the Graph fake, containers
 * through IN_PROGRESS → FINISHED, the 24-hour publishing and delete quotas, and a timeline that
 * tests read. Faults come from the harness.
 *
 * Documented parameters: developers.facebook.com/docs/threads/reference/publishing,
 * …/threads/reference/user, …/threads/reference/insights.
 */

export interface ThreadsPost {
  id: string;
  userId: string;
  mediaType: 'TEXT_POST' | 'IMAGE' | 'VIDEO' | 'CAROUSEL_ALBUM' | 'REPOST_FACADE';
  text: string;
  linkAttachment: string | null;
  altTexts: string[];
  children: number;
  permalink: string;
  createdAt: number;
  /** Its files, for threads the office posted in the app and a source reads. */
  files?: CdnFile[];
  quotedPost?: string;
  repostedPost?: string;
  /** The thread it answers: replies are on the /replies edge, never on /threads. */
  repliedTo?: string;
}

export interface ThreadsFake {
  server: FakeServer;
  url: string;
  /** The Threads app Gaung is configured with (GAUNG_THREADS_APP_ID, GAUNG_THREADS_APP_SECRET). */
  app: { appId: string; appSecret: string };
  /** Where the authorization window is (GAUNG_THREADS_AUTH_URL). */
  authorizeUrl: string;
  /**
   * The user grants the authorization window Gaung opened (its parameters are checked): the code
   * the browser brings back, single-use and valid for an hour.
   */
  consent(authorizeUrl: string, userId: string): { code: string; state: string; redirectUri: string };
  /** A long-lived token as if issued this many seconds ago (Threads refreshes only those a day old). */
  ageToken(token: string, seconds: number): void;
  /** A Threads user and a token; `permissions` defaults to every one Gaung asks for, threads_delete included. */
  createUser(username: string, options?: { permissions?: string[] }): { userId: string; token: string };
  expireToken(token: string): void;
  /** Ids of the threads DELETE removed, one entry per removal. */
  deleted: string[];
  /** Whether a token is still accepted (a refreshed token replaces the old one). */
  tokenValid(token: string): boolean;
  threads(userId: string): ThreadsPost[];
  seedThread(userId: string, post: { text: string; createdAt: number }): ThreadsPost;
  /** The office posts in the Threads app: text, media, a quote, a repost of another thread, or a reply. */
  postThread(
    userId: string,
    post: {
      text: string;
      media?: SourceMediumSeed[];
      quoting?: string;
      reposting?: string;
      replyingTo?: string;
      createdAt?: number;
    },
  ): ThreadsPost;
  deleteThread(id: string): void;
  /** A media file's CDN URL stops answering (404). */
  dropFile(url: string): void;
  setEngagement(id: string, insights: Record<string, number>): void;
  start(): Promise<string>;
  stop(): Promise<void>;
}

const THREADS_SPECS: Record<string, EndpointSpec> = {
  'GET node': { params: { fields: 'string' } },
  // developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions
  'POST /oauth/access_token': {
    params: {
      client_id: 'string',
      client_secret: 'string',
      grant_type: 'string',
      redirect_uri: 'string',
      code: 'string',
    },
    required: ['client_id', 'client_secret', 'grant_type', 'redirect_uri', 'code'],
  },
  // developers.facebook.com/docs/threads/get-started/long-lived-tokens
  'GET /access_token': {
    params: { grant_type: 'string', client_secret: 'string', access_token: 'string' },
    required: ['grant_type', 'client_secret', 'access_token'],
  },
  'GET /refresh_access_token': {
    params: { grant_type: 'string', access_token: 'string' },
    required: ['grant_type', 'access_token'],
  },
  'GET threads': {
    params: {
      fields: 'string',
      since: 'time',
      until: 'time',
      limit: 'integer',
      before: 'string',
      after: 'string',
    },
  },
  'POST threads': {
    params: {
      media_type: 'string',
      text: 'string',
      image_url: 'string',
      video_url: 'string',
      is_carousel_item: 'boolean',
      children: 'list',
      reply_to_id: 'string',
      reply_control: 'string',
      allowlisted_country_codes: 'list',
      alt_text: 'string',
      link_attachment: 'string',
      quote_post_id: 'string',
      poll_attachment: 'json',
      auto_publish_text: 'boolean',
      topic_tag: 'string',
      location_id: 'string',
    },
    required: ['media_type'],
  },
  'POST threads_publish': { params: { creation_id: 'string' }, required: ['creation_id'] },
  // developers.facebook.com/docs/threads/posts/reposts: POST /{threads-media-id}/repost, no parameters.
  'POST repost': { params: {} },
  'GET threads_publishing_limit': { params: { fields: 'string' } },
  'GET insights': { params: { metric: 'list', since: 'time', until: 'time' }, required: ['metric'] },
  'DELETE node': { params: {} },
};

const THREADS_METRICS = ['views', 'likes', 'replies', 'reposts', 'quotes', 'shares'];
const THREADS_QUOTA = 250;
/** developers.facebook.com/docs/threads/posts/delete-posts: 100 deletes per account per day. */
const THREADS_DELETE_QUOTA = 100;
const THREADS_PERMISSIONS = [
  'threads_basic',
  'threads_content_publish',
  'threads_manage_insights',
  'threads_delete',
];
const THREADS_TEXT_MAX = 500;
const HOUR_SECONDS = 3_600;
/** What Threads answers for a long-lived token: about 60 days. */
const LONG_LIVED_SECONDS = 5_183_944;

export function createThreadsFake(options: { pollsUntilFinished?: number } = {}): ThreadsFake {
  const server = createFakeServer();
  server.app.register(formbody);
  const pollsUntilFinished = options.pollsUntilFinished ?? 2;
  const tokens = new Map<string, Token>();
  const users = new Map<string, { id: string; username: string }>();
  const containers = new Map<
    string,
    ContainerState & { text: string; link: string | null; altText: string | null; quotedPost: string | null }
  >();
  const threads: ThreadsPost[] = [];
  const insights = new Map<string, Record<string, number>>();
  const cdn = createCdn(server);
  const permissions = new Map<string, string[]>();
  const deletes: { userId: string; at: number }[] = [];
  const deleted: string[] = [];
  const userSeq = newId('2584');
  const objectId = newId('1790');
  const app = { appId: '1190022334455', appSecret: randomBytes(16).toString('hex') };
  /** Authorization codes: single-use, an hour. */
  const codes = new Map<string, { userId: string; redirectUri: string; scopes: string[]; until: number }>();
  /** Short-lived tokens (an hour, only to exchange) and when each long-lived one was issued. */
  const shortLived = new Map<string, { userId: string; scopes: string[]; until: number }>();
  const issuedAt = new Map<string, number>();

  const issueToken = (subject: string, issued = Date.now()) => {
    const value = `THAA${randomBytes(24).toString('base64url')}`;
    tokens.set(value, { value, subject, kind: 'threads', expired: false });
    issuedAt.set(value, issued);
    return value;
  };
  const checkSecret = (params: Record<string, unknown>) => {
    if (params.client_secret !== app.appSecret) throw fail(1, 'Error validating client secret.', {}, 400);
  };

  const ownUser = (token: Token, id: string) => {
    const resolved = id === 'me' ? token.subject : id;
    if (resolved !== token.subject || !users.has(resolved)) throw unknownObject(id, 'get');
    return resolved;
  };

  const publishedInWindow = (userId: string) =>
    threads.filter((t) => t.userId === userId && t.createdAt > Date.now() - DAY_SECONDS * 1000).length;
  const deletedInWindow = (userId: string) =>
    deletes.filter((d) => d.userId === userId && d.at > Date.now() - DAY_SECONDS * 1000).length;

  const handle =
    (work: (request: FastifyRequest, params: Record<string, unknown>) => Promise<unknown>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        return await work(request, paramsOf(request));
      } catch (error) {
        return sendGraph(reply, error);
      }
    };

  /** Step 2 of the authorization window: the code for a short-lived token (an hour) and the user id. */
  server.app.post(
    '/oauth/access_token',
    handle(async (_request, params) => {
      validate(params, THREADS_SPECS['POST /oauth/access_token']!);
      if (params.grant_type !== 'authorization_code') throw fail(100, '(#100) Unsupported grant_type');
      if (params.client_id !== app.appId)
        throw fail(101, 'Error validating application. Invalid application ID.');
      checkSecret(params);
      const code = codes.get(String(params.code));
      codes.delete(String(params.code));
      if (!code || code.until < Date.now())
        throw fail(100, 'Invalid verification code format.', { error_subcode: 36008 }, 400);
      if (code.redirectUri !== params.redirect_uri)
        throw fail(
          100,
          'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request',
          { error_subcode: 36008 },
          400,
        );
      const value = `THQV${randomBytes(24).toString('base64url')}`;
      shortLived.set(value, {
        userId: code.userId,
        scopes: code.scopes,
        until: Date.now() + HOUR_SECONDS * 1000,
      });
      return { access_token: value, user_id: Number(code.userId) };
    }),
  );

  /** A short-lived token for a long-lived one (60 days); the short one is used up. */
  server.app.get(
    '/access_token',
    handle(async (_request, params) => {
      validate(params, THREADS_SPECS['GET /access_token']!);
      if (params.grant_type !== 'th_exchange_token') throw fail(100, '(#100) Unsupported grant_type');
      checkSecret(params);
      const short = shortLived.get(String(params.access_token));
      shortLived.delete(String(params.access_token));
      if (!short || short.until < Date.now())
        throw fail(190, 'Invalid OAuth access token - Cannot parse access token');
      permissions.set(short.userId, short.scopes);
      return { access_token: issueToken(short.userId), token_type: 'bearer', expires_in: LONG_LIVED_SECONDS };
    }),
  );

  /**
   * A long-lived token at least a day old and not expired, for a new one; the old one stops working.
   * (The refusal of a token younger than a day is Graph's error shape; Meta documents no wording.)
   */
  server.app.get(
    '/refresh_access_token',
    handle(async (request, params) => {
      validate(params, THREADS_SPECS['GET /refresh_access_token']!);
      if (params.grant_type !== 'th_refresh_token') throw fail(100, '(#100) Unsupported grant_type');
      const token = tokenOf(request, params, tokens);
      if (Date.now() - (issuedAt.get(token.value) ?? 0) < DAY_SECONDS * 1000)
        throw fail(100, '(#100) The access token can be refreshed once it is at least 24 hours old');
      tokens.delete(token.value);
      return {
        access_token: issueToken(token.subject),
        token_type: 'bearer',
        expires_in: LONG_LIVED_SECONDS,
      };
    }),
  );

  server.app.get(
    '/:id',
    handle(async (request, params) => {
      validate(params, THREADS_SPECS['GET node']!);
      const token = tokenOf(request, params, tokens);
      const { id } = request.params as { id: string };
      const userId = id === 'me' ? token.subject : id;
      const user = users.get(userId);
      if (user && userId === token.subject)
        return pick(
          { id: user.id, username: user.username, name: user.username },
          checkFields(params.fields, 'ThreadsUser'),
        );
      const container = containers.get(id);
      if (container && container.owner === token.subject) {
        const fields = checkFields(params.fields, 'ThreadsContainer');
        container.polls += 1;
        const status = container.published ? 'PUBLISHED' : containerStatus(container, pollsUntilFinished);
        return pick({ id, status, error_message: container.failed ?? undefined }, fields);
      }
      const post = threads.find((t) => t.id === id);
      if (post && post.userId === token.subject)
        return pick(threadNode(post, params.fields), checkFields(params.fields, 'ThreadsMedia'));
      throw unknownObject(id, 'get');
    }),
  );

  const threadNode = (post: ThreadsPost, fieldsParam?: unknown) => {
    const files = post.files ?? [];
    const carousel = post.mediaType === 'CAROUSEL_ALBUM' && files.length > 0;
    const childFields = nestedFields(fieldsParam, 'children');
    return {
      id: post.id,
      media_product_type: 'THREADS',
      media_type: post.mediaType,
      permalink: post.permalink,
      owner: { id: post.userId },
      username: users.get(post.userId)?.username,
      text: post.mediaType === 'REPOST_FACADE' ? undefined : post.text,
      timestamp: graphTimestamp(post.createdAt),
      shortcode: post.permalink.split('/').pop(),
      is_quote_post: post.quotedPost !== undefined,
      quoted_post: post.quotedPost ? { id: post.quotedPost } : undefined,
      reposted_post: post.repostedPost ? { id: post.repostedPost } : undefined,
      is_reply: post.repliedTo !== undefined,
      media_url: carousel ? undefined : cdn.url(files[0]?.name),
      thumbnail_url: carousel ? undefined : cdn.url(files[0]?.thumbnail),
      alt_text: carousel ? undefined : files[0]?.altText,
      children: carousel
        ? {
            data: files.map((file, index) =>
              pick(
                {
                  id: `${post.id}${String(index + 1).padStart(2, '0')}`,
                  media_type: file.kind === 'image' ? 'IMAGE' : 'VIDEO',
                  media_url: cdn.url(file.name),
                  thumbnail_url: cdn.url(file.thumbnail),
                  alt_text: file.altText,
                },
                childFields,
              ),
            ),
          }
        : undefined,
    };
  };

  server.app.get(
    '/:id/:edge',
    handle(async (request, params) => {
      const { id, edge } = request.params as { id: string; edge: string };
      const token = tokenOf(request, params, tokens);
      switch (edge) {
        case 'threads': {
          validate(params, THREADS_SPECS['GET threads']!);
          const userId = ownUser(token, id);
          const fields = checkFields(params.fields, 'ThreadsMedia');
          return timePage(
            threads.filter((t) => t.userId === userId && t.repliedTo === undefined),
            request,
            params,
            (t) => pick(threadNode(t, params.fields), fields),
          );
        }
        case 'threads_publishing_limit': {
          validate(params, THREADS_SPECS['GET threads_publishing_limit']!);
          const userId = ownUser(token, id);
          const fields = checkFields(params.fields ?? 'quota_usage', 'PublishingLimit');
          return {
            data: [
              pick(
                {
                  quota_usage: publishedInWindow(userId),
                  config: { quota_total: THREADS_QUOTA, quota_duration: DAY_SECONDS },
                  delete_quota_usage: deletedInWindow(userId),
                  delete_config: { quota_total: THREADS_DELETE_QUOTA, quota_duration: DAY_SECONDS },
                },
                fields,
              ),
            ],
          };
        }
        case 'insights': {
          validate(params, THREADS_SPECS['GET insights']!);
          const post = threads.find((t) => t.id === id);
          if (!post || post.userId !== token.subject) throw unknownObject(id, 'get');
          const metrics = list(params.metric);
          for (const metric of metrics)
            if (!THREADS_METRICS.includes(metric))
              throw fail(100, `(#100) The value must be a valid insights metric: ${metric}`);
          const values = insights.get(id) ?? {};
          return {
            data: metrics.map((name) => ({
              name,
              period: 'lifetime',
              values: [{ value: values[name] ?? 0 }],
              title: name,
              id: `${id}/insights/${name}/lifetime`,
            })),
          };
        }
        default:
          throw fail(100, `(#100) Unknown path components: /${edge}`);
      }
    }),
  );

  /**
   * DELETE /{threads-media-id}: the author's own thread, with threads_delete granted, at most 100 a
   * day per account (throttled as Graph throttles, code 613). A thread that is gone is error 100/33.
   */
  server.app.delete(
    '/:id',
    handle(async (request, params) => {
      validate(params, THREADS_SPECS['DELETE node']!);
      const token = tokenOf(request, params, tokens);
      const { id } = request.params as { id: string };
      if (!(permissions.get(token.subject) ?? []).includes('threads_delete'))
        throw fail(10, '(#10) Application does not have permission for this action', {
          type: 'OAuthException',
        });
      const index = threads.findIndex((t) => t.id === id && t.userId === token.subject);
      if (index < 0) throw unknownObject(id, 'delete');
      if (deletedInWindow(token.subject) >= THREADS_DELETE_QUOTA)
        throw fail(613, '(#613) Calls to this api have exceeded the rate limit.', { is_transient: true });
      threads.splice(index, 1);
      deletes.push({ userId: token.subject, at: Date.now() });
      deleted.push(id);
      return { success: true, deleted_id: id };
    }),
  );

  /** The token's user reposts a thread: a REPOST_FACADE on its profile whose reposted_post is the original. */
  const repost = (token: Token, mediaId: string, params: Record<string, unknown>) => {
    validate(params, THREADS_SPECS['POST repost']!);
    const original = threads.find((t) => t.id === mediaId && t.mediaType !== 'REPOST_FACADE');
    if (!original) throw unknownObject(mediaId, 'post');
    const post: ThreadsPost = {
      id: objectId(),
      userId: token.subject,
      mediaType: 'REPOST_FACADE',
      text: '',
      linkAttachment: null,
      altTexts: [],
      children: 0,
      permalink: `https://www.threads.net/@${users.get(token.subject)!.username}/post/${shortcode()}`,
      createdAt: Date.now(),
      repostedPost: original.id,
    };
    threads.push(post);
    return { id: post.id };
  };

  server.app.post(
    '/:id/:edge',
    handle(async (request, params) => {
      const { id, edge } = request.params as { id: string; edge: string };
      const token = tokenOf(request, params, tokens);
      if (edge === 'repost') return repost(token, id, params);
      const userId = ownUser(token, id);
      switch (edge) {
        case 'threads': {
          validate(params, THREADS_SPECS['POST threads']!);
          const type = String(params.media_type);
          const text = String(params.text ?? '');
          const carouselItem = bool(params.is_carousel_item);
          if ([...text].length > THREADS_TEXT_MAX)
            throw fail(100, `Param text must be at most ${THREADS_TEXT_MAX} characters long.`, {
              error_subcode: 4279009,
            });
          const container = {
            id: objectId(),
            owner: userId,
            mediaType: type,
            carouselItem,
            children: [] as string[],
            caption: '',
            text,
            link: (params.link_attachment as string | undefined) ?? null,
            altText: (params.alt_text as string | undefined) ?? null,
            quotedPost: null as string | null,
            polls: 0,
            failed: null as string | null,
            published: false,
          };
          if (type === 'TEXT') {
            if (!text) throw fail(100, '(#100) The parameter text is required for TEXT posts');
          } else if (type === 'IMAGE') {
            if (!params.image_url) throw fail(100, '(#100) The parameter image_url is required');
            if (!isImage(await fetchMedia(params.image_url))) container.failed = 'FAILED_DOWNLOADING_IMAGE';
          } else if (type === 'VIDEO') {
            if (!params.video_url) throw fail(100, '(#100) The parameter video_url is required');
            if (!isVideo(await fetchMedia(params.video_url))) container.failed = 'FAILED_DOWNLOADING_VIDEO';
          } else if (type === 'CAROUSEL') {
            const children = list(params.children);
            if (children.length < 2 || children.length > 20)
              throw fail(100, '(#100) A carousel has between 2 and 20 children');
            for (const childId of children) {
              const child = containers.get(childId);
              if (!child || child.owner !== userId || !child.carouselItem)
                throw fail(100, `(#100) Invalid carousel child ${childId}`);
              if (containerStatus(child, pollsUntilFinished) !== 'FINISHED')
                throw fail(24, 'The requested resource does not exist or is not ready', {
                  error_subcode: 4279009,
                });
            }
            container.children = children;
          } else throw fail(100, '(#100) Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}');
          if (type !== 'TEXT' && type !== 'CAROUSEL' && params.link_attachment)
            throw fail(100, '(#100) link_attachment is only available for TEXT posts');
          if (params.quote_post_id !== undefined) {
            // developers.facebook.com/docs/threads/posts/quote-posts: the media id of a thread to quote.
            if (carouselItem) throw fail(100, '(#100) A carousel item cannot quote a post');
            const quoted = threads.find(
              (t) => t.id === params.quote_post_id && t.mediaType !== 'REPOST_FACADE',
            );
            if (!quoted) throw unknownObject(String(params.quote_post_id), 'post');
            container.quotedPost = quoted.id;
          }
          containers.set(container.id, container);
          return { id: container.id };
        }
        case 'threads_publish': {
          validate(params, THREADS_SPECS['POST threads_publish']!);
          const container = containers.get(String(params.creation_id));
          if (!container || container.owner !== userId || container.carouselItem)
            throw fail(100, '(#100) Invalid parameter creation_id');
          if (container.published) throw fail(100, '(#100) The container was already published');
          if (containerStatus(container, pollsUntilFinished) !== 'FINISHED')
            throw fail(24, 'The requested resource does not exist or is not ready', {
              error_subcode: 4279009,
            });
          if (container.quotedPost && !threads.some((t) => t.id === container.quotedPost))
            throw unknownObject(container.quotedPost, 'post');
          if (publishedInWindow(userId) >= THREADS_QUOTA)
            throw fail(9, 'You have reached the maximum number of posts allowed in 24 hours.', {
              error_subcode: 2207042,
            });
          container.published = true;
          const post: ThreadsPost = {
            id: objectId(),
            userId,
            mediaType:
              container.mediaType === 'TEXT'
                ? 'TEXT_POST'
                : container.mediaType === 'CAROUSEL'
                  ? 'CAROUSEL_ALBUM'
                  : (container.mediaType as 'IMAGE' | 'VIDEO'),
            text: container.text,
            linkAttachment: container.link,
            altTexts: [container, ...container.children.map((c) => containers.get(c)!)]
              .map((c) => c.altText)
              .filter((a): a is string => !!a),
            children: container.children.length,
            permalink: `https://www.threads.net/@${users.get(userId)!.username}/post/${shortcode()}`,
            createdAt: Date.now(),
            ...(container.quotedPost ? { quotedPost: container.quotedPost } : {}),
          };
          threads.push(post);
          return { id: post.id };
        }
        default:
          throw fail(100, `(#100) Unknown path components: /${edge}`);
      }
    }),
  );

  const fake: ThreadsFake = {
    server,
    url: '',
    app,
    get authorizeUrl() {
      return `${fake.url}/oauth/authorize`;
    },
    consent(authorizeUrl, userId) {
      const q = new URL(authorizeUrl).searchParams;
      if (q.get('client_id') !== app.appId) throw new Error('unknown client_id');
      if (q.get('response_type') !== 'code') throw new Error('response_type must be code');
      const redirectUri = q.get('redirect_uri');
      if (!redirectUri) throw new Error('redirect_uri is required');
      const scopes = (q.get('scope') ?? '').split(/[, ]/).filter(Boolean);
      if (!scopes.includes('threads_basic')) throw new Error('threads_basic is required');
      if (!users.has(userId)) throw new Error('unknown Threads user');
      const code = `AQB${randomBytes(24).toString('base64url')}`;
      codes.set(code, { userId, redirectUri, scopes, until: Date.now() + HOUR_SECONDS * 1000 });
      return { code, state: q.get('state') ?? '', redirectUri };
    },
    ageToken(value, seconds) {
      issuedAt.set(value, (issuedAt.get(value) ?? Date.now()) - seconds * 1000);
    },
    createUser(username, options = {}) {
      const id = userSeq();
      users.set(id, { id, username });
      permissions.set(id, options.permissions ?? THREADS_PERMISSIONS);
      // A token the account has had for a while (it can be refreshed).
      return { userId: id, token: issueToken(id, Date.now() - 2 * DAY_SECONDS * 1000) };
    },
    expireToken(value) {
      const token = tokens.get(value);
      if (token) token.expired = true;
    },
    tokenValid: (value) => tokens.has(value) && !tokens.get(value)!.expired,
    deleted,
    threads: (userId) => threads.filter((t) => t.userId === userId),
    seedThread(userId, seed) {
      const post: ThreadsPost = {
        id: objectId(),
        userId,
        mediaType: 'TEXT_POST',
        text: seed.text,
        linkAttachment: null,
        altTexts: [],
        children: 0,
        permalink: `https://www.threads.net/@${users.get(userId)!.username}/post/${shortcode()}`,
        createdAt: seed.createdAt,
      };
      threads.push(post);
      return post;
    },
    postThread(userId, seed) {
      const files = (seed.media ?? []).map((medium) => cdn.add(medium));
      const post: ThreadsPost = {
        id: objectId(),
        userId,
        mediaType: seed.reposting
          ? 'REPOST_FACADE'
          : files.length > 1
            ? 'CAROUSEL_ALBUM'
            : files[0]?.kind === 'video'
              ? 'VIDEO'
              : files.length === 1
                ? 'IMAGE'
                : 'TEXT_POST',
        text: seed.text,
        linkAttachment: null,
        altTexts: files.map((file) => file.altText ?? ''),
        children: files.length > 1 ? files.length : 0,
        permalink: `https://www.threads.net/@${users.get(userId)!.username}/post/${shortcode()}`,
        createdAt: seed.createdAt ?? Date.now(),
        files,
        ...(seed.quoting ? { quotedPost: seed.quoting } : {}),
        ...(seed.reposting ? { repostedPost: seed.reposting } : {}),
        ...(seed.replyingTo ? { repliedTo: seed.replyingTo } : {}),
      };
      threads.push(post);
      return post;
    },
    deleteThread(id) {
      const index = threads.findIndex((t) => t.id === id);
      if (index >= 0) threads.splice(index, 1);
    },
    dropFile: (url) => cdn.drop(url),
    setEngagement(id, values) {
      insights.set(id, values);
    },
    async start() {
      fake.url = await server.start();
      return fake.url;
    },
    stop: () => server.stop(),
  };
  return fake;
}
