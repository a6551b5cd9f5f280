import http from 'node:http';
import https from 'node:https';
import { AxiosError, AxiosHeaders, type AxiosResponse } from 'axios';
import type {
  ApiPartialResponseError,
  ApiRequestError,
  ApiResponseError,
  ITwitterApiClientPlugin,
  TwitterApi,
  TwitterRateLimit,
} from 'twitter-api-v2';
import { z } from 'zod';
import { lazyRequire } from '../infra/lazy-require';
import { classifyHttpError, REQUEST_TIMEOUT_MS } from './http';
import {
  decodeEntities,
  RECONCILE_SKEW_MS,
  readChunks,
  SOURCE_ANSWER_MAX_BYTES,
  sleep,
  textFingerprint,
  withLink,
} from './shared';
import {
  type AccountInfo,
  type Capabilities,
  type DeliveryMetrics,
  type ErrorClass,
  type PlatformAdapter,
  type PlatformApps,
  type PlatformContext,
  type PlatformEndpoints,
  PlatformError,
  type PostOrigin,
  type PublishMedia,
  type PublishRequest,
  type PublishResult,
  type RetractRequest,
  type RetractResult,
  type SourceItem,
  type SourceMedia,
  type SourceReader,
} from './types';

/**
 * X (API v2) through twitter-api-v2, with OAuth 2.0 user tokens. The library has no base-URL option:
 * a request plugin re-targets every call to the configured API and upload hosts and picks an
 * http.Agent when that host speaks plain HTTP (the test fakes do).
 */

/** twitter-api-v2, loaded on the first call to X rather than at start. */
const twitter = lazyRequire<typeof import('twitter-api-v2')>('twitter-api-v2');

export const X_SCOPES = ['tweet.read', 'tweet.write', 'users.read', 'media.write', 'offline.access'] as const;

const credentialsSchema = z.object({
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  expiresAt: z.iso.datetime({ offset: true }),
  scope: z.string().optional(),
});
export type XCredentials = z.infer<typeof credentialsSchema>;

const settingsSchema = z.object({
  userId: z
    .string()
    .regex(/^[0-9]{1,19}$/)
    .optional(),
  username: z.string().min(1).optional(),
});

const capabilities: Capabilities = {
  text: true,
  images: true,
  video: true,
  repost: true,
  quote: true,
  metrics: true,
  reconcile: 'search',
  mediaByUrl: false,
  retract: 'api',
  replies: true,
};

/** Access tokens live 2 hours; refresh this long before they expire. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const CHUNK_BYTES = 1024 * 1024;
const MAX_PROCESSING_MS = 10 * 60_000;
const MEDIA_TYPES = new Set([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'video/mp4',
  'video/quicktime',
]);
const TIMELINE_PAGES = 10;

const plainAgent = new http.Agent({ keepAlive: true });
const tlsAgent = new https.Agent({ keepAlive: true });

/** Marks a request whose answer outgrew SOURCE_ANSWER_MAX_BYTES (the connection was cut). */
const OVERSIZED = Symbol('oversized answer');
type Marked = { [OVERSIZED]?: boolean; method?: string };

/**
 * Reads (GET) go over connections of their own: the size cap below listens on each response
 * through the library's event hook, which also listens on the socket, and a kept-alive socket
 * would gather those listeners request after request.
 */
const readAgents = { 'http:': new http.Agent(), 'https:': new https.Agent() };

/**
 * Sends the library's requests to Gaung's configured X hosts, reports rate-limit headers, and cuts
 * an answer to a read larger than SOURCE_ANSWER_MAX_BYTES (the library would buffer any size).
 */
function routing(endpoints: PlatformEndpoints, ctx?: PlatformContext): ITwitterApiClientPlugin {
  return {
    onBeforeRequestConfig({ params }) {
      const marks = params as Marked;
      if (params.method === 'GET')
        params.requestEventDebugHandler = (event, data) => {
          if (event !== 'response' || !data?.res) return;
          const res = data.res as http.IncomingMessage;
          let received = 0;
          res.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received > SOURCE_ANSWER_MAX_BYTES && !marks[OVERSIZED]) {
              marks[OVERSIZED] = true;
              res.destroy();
            }
          });
        };
      const url = new URL(params.url);
      const base = url.pathname.startsWith('/2/media') ? endpoints.xUpload : endpoints.xApi;
      params.url = `${base.replace(/\/+$/, '')}${url.pathname}${url.search}`;
      params.timeout ??= REQUEST_TIMEOUT_MS;
      // RFC 6749 wants a form-encoded token request; elsewhere v2 takes JSON (the library guesses from the host).
      if (url.pathname === '/2/oauth2/token') params.forceBodyMode = 'url';
      else params.forceBodyMode ??= 'json';
    },
    onBeforeRequest({ computedParams, requestOptions }) {
      const plain = computedParams.url.protocol === 'http:';
      if (computedParams.method === 'GET') requestOptions.agent = readAgents[plain ? 'http:' : 'https:'];
      else requestOptions.agent = plain ? plainAgent : tlsAgent;
    },
    onAfterRequest({ response }) {
      if (ctx) reportRateLimit(ctx, response.rateLimit);
    },
    onResponseError({ error }) {
      if (ctx) reportRateLimit(ctx, error.rateLimit);
    },
    onRequestError({ params }) {
      if ((params as Marked)[OVERSIZED])
        throw new PlatformError({
          kind: 'invalid',
          message: `X sent an answer larger than ${SOURCE_ANSWER_MAX_BYTES / 1024 / 1024} MB; it was refused`,
        });
    },
  };
}

function reportRateLimit(ctx: PlatformContext, rateLimit: TwitterRateLimit | undefined): void {
  if (!ctx.onRateLimit || !rateLimit || !Number.isFinite(rateLimit.remaining)) return;
  ctx.onRateLimit({
    remaining: rateLimit.remaining,
    resetAt: new Date(rateLimit.reset * 1000),
    scope: 'channel',
  });
  if (rateLimit.day && Number.isFinite(rateLimit.day.remaining))
    ctx.onRateLimit({
      remaining: rateLimit.day.remaining,
      resetAt: new Date(rateLimit.day.reset * 1000),
      scope: 'app',
    });
}

function appClient(endpoints: PlatformEndpoints, apps: PlatformApps, ctx?: PlatformContext): TwitterApi {
  const app = apps.x;
  if (!app) throw new PlatformError({ kind: 'auth', message: 'no X app configured (GAUNG_X_CLIENT_ID)' });
  return new (twitter().TwitterApi)(
    { clientId: app.clientId, ...(app.clientSecret ? { clientSecret: app.clientSecret } : {}) },
    { plugins: [routing(endpoints, ctx)] },
  );
}

function credentials(ctx: PlatformContext): XCredentials {
  return credentialsSchema.parse(ctx.credentials);
}

/** Stores rotated tokens with compare-and-set; when another worker rotated first, adopts theirs. */
async function adopt(ctx: PlatformContext, next: XCredentials): Promise<XCredentials> {
  if (await ctx.saveCredentials(next, new Date(next.expiresAt))) {
    return next;
  }
  return credentialsSchema.parse(await ctx.reloadCredentials());
}

async function refresh(ctx: PlatformContext): Promise<XCredentials> {
  const current = credentials(ctx);
  let result: Awaited<ReturnType<TwitterApi['refreshOAuth2Token']>>;
  try {
    result = await appClient(ctx.endpoints, ctx.apps, ctx).refreshOAuth2Token(current.refreshToken);
  } catch (error) {
    if (!(error instanceof twitter().ApiResponseError) || (error.code !== 400 && error.code !== 401))
      throw error;
    // Refresh tokens rotate on use: a rejected one may mean another worker already rotated it.
    const stored = credentialsSchema.parse(await ctx.reloadCredentials());
    if (stored.refreshToken !== current.refreshToken) {
      return Date.parse(stored.expiresAt) - Date.now() > REFRESH_MARGIN_MS ? stored : refresh(ctx);
    }
    throw new PlatformError(
      {
        kind: 'auth',
        message: 'X refused the refresh token; the channel must be connected again',
        httpStatus: error.code,
      },
      { cause: error },
    );
  }
  return adopt(ctx, {
    accessToken: result.accessToken,
    refreshToken: result.refreshToken ?? current.refreshToken,
    expiresAt: new Date(Date.now() + result.expiresIn * 1000).toISOString(),
    scope: result.scope.join(' '),
  });
}

/** Runs `call` with a fresh access token; a 401 triggers one refresh and one more try. */
async function withClient<T>(ctx: PlatformContext, call: (client: TwitterApi) => Promise<T>): Promise<T> {
  let current = credentials(ctx);
  if (Date.parse(current.expiresAt) - Date.now() < REFRESH_MARGIN_MS) current = await refresh(ctx);
  const client = (token: string) =>
    new (twitter().TwitterApi)(token, { plugins: [routing(ctx.endpoints, ctx)] });
  try {
    return await call(client(current.accessToken));
  } catch (error) {
    if (!(error instanceof twitter().ApiResponseError) || error.code !== 401) throw error;
    const renewed = await refresh(ctx);
    return call(client(renewed.accessToken));
  }
}

interface Me {
  id: string;
  username: string;
  name?: string;
}

async function me(ctx: PlatformContext): Promise<Me> {
  const settings = settingsSchema.parse(ctx.channel.settings);
  if (settings.userId && settings.username) return { id: settings.userId, username: settings.username };
  const response = await withClient(ctx, (client) => client.v2.get<{ data: Me }>('users/me'));
  return response.data;
}

const postUrl = (username: string, id: string) => `https://x.com/${username}/status/${id}`;

/** `https://x.com/{user}/status/{id}` (and twitter.com, mobile and `/i/web/status/` forms) → the post id. */
function xPostIdFromUrl(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const host = parsed.hostname.replace(/^(www|mobile)\./, '');
  if (host !== 'x.com' && host !== 'twitter.com') return null;
  const match = parsed.pathname.match(
    /^\/(?:[A-Za-z0-9_]{1,15}|i\/web|i)\/status(?:es)?\/([0-9]{1,19})(?:\/|$)/,
  );
  return match?.[1] ?? null;
}

/** The original's post id: the origin an X source read, else the id in the post's source URL. */
function sourcePostId(request: { sourceUrl: string | null; origin?: PostOrigin | null }): string {
  if (request.origin?.platform === 'x') return request.origin.nativeId;
  const id = request.sourceUrl ? xPostIdFromUrl(request.sourceUrl) : null;
  if (!id)
    throw new PlatformError({
      kind: 'invalid',
      message: `not an X post URL: ${request.sourceUrl ?? '(none)'}`,
    });
  return id;
}

function checkMedia(media: PublishMedia[]): void {
  const videos = media.filter((m) => m.kind === 'video').length;
  if (videos > 1 || (videos === 1 && media.length > 1))
    throw new PlatformError({ kind: 'invalid', message: 'X takes one video alone, or up to 4 images' });
  if (media.length > 4)
    throw new PlatformError({ kind: 'invalid', message: 'X takes at most 4 images per post' });
  for (const m of media)
    if (!MEDIA_TYPES.has(m.mime))
      throw new PlatformError({ kind: 'invalid', message: `X does not take media of type ${m.mime}` });
}

interface ProcessingInfo {
  state: 'pending' | 'in_progress' | 'succeeded' | 'failed' | string;
  check_after_secs?: number;
  error?: { message?: string };
}

/** The v2 chunked upload: initialize, append 1 MiB segments from the stream, finalize, poll processing. */
async function upload(ctx: PlatformContext, media: PublishMedia): Promise<string> {
  const category =
    media.kind === 'video' ? 'tweet_video' : media.mime === 'image/gif' ? 'tweet_gif' : 'tweet_image';
  const init = await withClient(ctx, (client) =>
    client.v2.post<{ data: { id: string } }>('media/upload/initialize', {
      media_type: media.mime,
      total_bytes: media.bytes,
      media_category: category,
    }),
  );
  const id = init.data.id;
  let index = 0;
  for await (const chunk of readChunks(await media.open(), CHUNK_BYTES)) {
    const segment = index++;
    await withClient(ctx, (client) =>
      client.v2.post(
        `media/upload/${id}/append`,
        { segment_index: segment, media: chunk },
        { forceBodyMode: 'form-data' },
      ),
    );
  }
  const finalized = await withClient(ctx, (client) =>
    client.v2.post<{ data: { processing_info?: ProcessingInfo } }>(`media/upload/${id}/finalize`),
  );
  let info = finalized.data.processing_info;
  const deadline = Date.now() + MAX_PROCESSING_MS;
  while (info && info.state !== 'succeeded') {
    if (info.state === 'failed')
      throw new PlatformError({
        kind: 'invalid',
        message: `X could not process the media: ${info.error?.message ?? 'failed'}`,
      });
    if (Date.now() > deadline)
      throw new PlatformError({ kind: 'retry', message: 'X is still processing the media' });
    await sleep(Math.min(Math.max(info.check_after_secs ?? 1, 0), 60) * 1000, ctx.signal);
    const status = await withClient(ctx, (client) =>
      client.v2.get<{ data: { processing_info?: ProcessingInfo } }>('media/upload', {
        command: 'STATUS',
        media_id: id,
      }),
    );
    info = status.data.processing_info;
  }
  if (media.kind === 'image' && media.altText.trim())
    await withClient(ctx, (client) =>
      client.v2.post('media/metadata', {
        id,
        metadata: { alt_text: { text: media.altText.slice(0, 1000) } },
      }),
    );
  return id;
}

async function createPost(
  ctx: PlatformContext,
  request: PublishRequest,
  extra: { quote_tweet_id?: string; reply?: { in_reply_to_tweet_id: string } },
): Promise<PublishResult> {
  checkMedia(request.media);
  const mediaIds: string[] = [];
  for (const media of request.media) mediaIds.push(await upload(ctx, media));
  const account = await me(ctx);
  const response = await withClient(ctx, (client) =>
    client.v2.post<{ data: { id: string } }>('tweets', {
      text: withLink(request.text, request.link),
      ...(mediaIds.length > 0 ? { media: { media_ids: mediaIds } } : {}),
      ...extra,
    }),
  );
  return { remoteId: response.data.id, url: postUrl(account.username, response.data.id) };
}

interface TimelinePage {
  data?: { id: string; text: string; author_id?: string }[];
  meta?: { next_token?: string };
}

/** Pages through an X listing until `match` finds a post; 'cannot_tell' if the pages ran out first. */
async function scan(
  ctx: PlatformContext,
  path: string,
  query: Record<string, string>,
  match: (post: { id: string; text: string; author_id?: string }) => boolean,
): Promise<{ id: string } | null | 'cannot_tell'> {
  let token: string | undefined;
  for (let page = 0; page < TIMELINE_PAGES; page++) {
    const response = await withClient(ctx, (client) =>
      client.v2.get<TimelinePage>(path, { ...query, ...(token ? { pagination_token: token } : {}) }),
    );
    const found = (response.data ?? []).find(match);
    if (found) return found;
    token = response.meta?.next_token;
    if (!token) return null;
  }
  return 'cannot_tell';
}

async function findPublished(
  ctx: PlatformContext,
  request: PublishRequest,
): Promise<PublishResult | null | 'cannot_tell'> {
  const account = await me(ctx);
  if (request.mode === 'repost') {
    const found = await scan(
      ctx,
      `tweets/${sourcePostId(request)}/retweets`,
      { max_results: '100', expansions: 'author_id' },
      (post) => post.author_id === account.id,
    );
    return found && found !== 'cannot_tell'
      ? { remoteId: found.id, url: postUrl(account.username, found.id) }
      : found;
  }
  const wanted = textFingerprint(withLink(request.text, request.link));
  const found = await scan(
    ctx,
    `users/${account.id}/tweets`,
    {
      start_time: new Date(request.firstAttemptAt.getTime() - RECONCILE_SKEW_MS).toISOString(),
      max_results: '100',
      exclude: 'replies,retweets',
    },
    (post) => textFingerprint(post.text) === wanted,
  );
  return found && found !== 'cannot_tell'
    ? { remoteId: found.id, url: postUrl(account.username, found.id) }
    : found;
}

interface PublicMetrics {
  impression_count?: number;
  like_count?: number;
  repost_count?: number;
  retweet_count?: number;
  reply_count?: number;
  quote_count?: number;
}

async function fetchMetrics(ctx: PlatformContext, remoteId: string): Promise<DeliveryMetrics> {
  const response = await withClient(ctx, (client) =>
    client.v2.get<{ data?: { public_metrics?: PublicMetrics }; errors?: { detail?: string }[] }>(
      `tweets/${remoteId}`,
      {
        'post.fields': 'public_metrics',
      },
    ),
  );
  const metrics = response.data?.public_metrics;
  if (!metrics)
    throw new PlatformError({
      kind: 'invalid',
      message: response.errors?.[0]?.detail ?? `X post ${remoteId} not found`,
    });
  return {
    impressions: metrics.impression_count ?? null,
    likes: metrics.like_count ?? null,
    // The document names it repost_count; older answers call it retweet_count.
    reposts: metrics.repost_count ?? metrics.retweet_count ?? null,
    replies: metrics.reply_count ?? null,
    quotes: metrics.quote_count ?? null,
    clicks: null,
    raw: { ...metrics },
  };
}

async function verifyCredentials(ctx: PlatformContext): Promise<AccountInfo> {
  const response = await withClient(ctx, (client) => client.v2.get<{ data: Me }>('users/me'));
  return { remoteId: response.data.id, handle: response.data.username, name: response.data.name };
}

/**
 * Deletes the post (copy, quote) or undoes the repost. X answers a post that is gone with 404 (or
 * `deleted: false`), and a repost that is undone already with `retweeted: false`: both are done.
 */
async function retract(ctx: PlatformContext, request: RetractRequest): Promise<RetractResult> {
  try {
    if (request.mode === 'repost') {
      const account = await me(ctx);
      await withClient(ctx, (client) =>
        client.v2.delete<{ data: { retweeted: boolean } }>(
          `users/${account.id}/retweets/${sourcePostId(request)}`,
        ),
      );
    } else if (request.remoteId) {
      const id = request.remoteId;
      await withClient(ctx, (client) => client.v2.delete<{ data: { deleted: boolean } }>(`tweets/${id}`));
    } else {
      return {
        outcome: 'needs_person',
        message: `Gaung does not know the post id (it was confirmed by hand); delete ${request.remoteUrl ?? 'the post'} on X, then confirm here`,
      };
    }
  } catch (error) {
    if (!(error instanceof twitter().ApiResponseError && error.code === 404)) throw error;
  }
  return { outcome: 'retracted' };
}

function describeXError(error: ApiResponseError): string {
  const data = error.data as { detail?: string; title?: string; errors?: { message?: string }[] } | undefined;
  const messages = (data?.errors ?? []).map((e) => e.message).filter(Boolean);
  return `X answered ${error.code}: ${[data?.detail ?? data?.title, ...messages].filter(Boolean).join('; ') || error.message}`;
}

/** The library's errors expressed as axios errors, so the shared transport/status rules apply. */
function asAxiosError(error: ApiRequestError | ApiPartialResponseError | ApiResponseError): AxiosError {
  if (error instanceof twitter().ApiResponseError) {
    const response = {
      status: error.code,
      statusText: '',
      headers: error.headers,
      data: error.data,
      config: { headers: new AxiosHeaders() },
    } as AxiosResponse;
    return new AxiosError(error.message, String(error.code), response.config, undefined, response);
  }
  const cause =
    error instanceof twitter().ApiRequestError ? (error.requestError as NodeJS.ErrnoException) : undefined;
  return new AxiosError(cause?.message ?? error.message, cause?.code ?? 'ERR_X_CONNECTION');
}

function classifyError(error: unknown): ErrorClass {
  if (error instanceof PlatformError) return error.classification;
  if (error instanceof twitter().ApiResponseError) {
    const message = describeXError(error);
    if (error.code === 429) {
      const limits = error.rateLimit;
      // A spent 24-hour allowance outlasts the 15-minute window.
      const day = [limits?.userDay, limits?.day].find((d) => d && d.remaining === 0);
      const reset = day?.reset ?? limits?.reset;
      const until = reset ? new Date(reset * 1000) : new Date(Date.now() + 15 * 60_000);
      const scope = day && day === limits?.day ? 'app' : 'channel';
      return { kind: 'rate_limited', until, scope, message, httpStatus: 429 };
    }
    // X refuses a repeated text: the earlier attempt may well have posted it, so reconcile.
    if (error.code === 403 && /duplicate content/i.test(message))
      return { kind: 'unknown', message, httpStatus: 403 };
    return classifyHttpError(asAxiosError(error), () => message);
  }
  if (error instanceof twitter().ApiRequestError || error instanceof twitter().ApiPartialResponseError)
    return classifyHttpError(asAxiosError(error));
  return classifyHttpError(error);
}

interface XMedia {
  media_key: string;
  type: 'photo' | 'video' | 'animated_gif' | string;
  url?: string;
  preview_image_url?: string;
  alt_text?: string;
  variants?: { bit_rate?: number; content_type: string; url: string }[];
}

interface XUrlEntity {
  start: number;
  end: number;
  url: string;
  expanded_url?: string;
  media_key?: string;
}

interface XTimelinePost {
  id: string;
  text: string;
  created_at?: string;
  attachments?: { media_keys?: string[] };
  entities?: { urls?: XUrlEntity[] };
  referenced_posts?: { type: 'replied_to' | 'retweeted' | 'quoted'; id: string }[];
}

interface XTimelinePage {
  data?: XTimelinePost[];
  includes?: { media?: XMedia[] };
  meta?: { next_token?: string; newest_id?: string; result_count?: number };
}

/** What a source asks of each post: its time, attachments, links and references, and its media's files and alt text. */
const SOURCE_QUERY = {
  expansions: 'attachments.media_keys,referenced_posts',
  'media.fields': 'url,variants,alt_text,type,preview_image_url',
  'post.fields': 'created_at,attachments,entities',
};

/**
 * Replies and retweets are left out by X itself (`exclude`), unless the source's settings include
 * them (`include: ['reply', 'repost']`); those that come are marked as such.
 */
function timelineExclude(settings: Record<string, unknown>): Record<string, string> {
  const include = Array.isArray(settings.include) ? settings.include : [];
  const exclude = [
    ...(include.includes('reply') ? [] : ['replies']),
    ...(include.includes('repost') ? [] : ['retweets']),
  ];
  return exclude.length > 0 ? { exclude: exclude.join(',') } : {};
}

function timelineKind(post: XTimelinePost): SourceItem['kind'] {
  const types = new Set((post.referenced_posts ?? []).map((ref) => ref.type));
  return types.has('retweeted') ? 'repost' : types.has('replied_to') ? 'reply' : 'post';
}

/** A photo as is; a video or GIF as its MP4 variant with the highest bit rate (X also lists an HLS playlist). */
function sourceMedium(medium: XMedia): SourceMedia {
  const altText = medium.alt_text ?? '';
  if (medium.type === 'photo' && medium.url) return { url: medium.url, kind: 'image', altText };
  if (medium.type === 'video' || medium.type === 'animated_gif') {
    const best = (medium.variants ?? [])
      .filter((variant) => variant.content_type === 'video/mp4')
      .sort((a, b) => (b.bit_rate ?? 0) - (a.bit_rate ?? 0))[0];
    if (best) return { url: best.url, kind: 'video', altText };
    return {
      url: medium.preview_image_url ?? '',
      kind: 'video',
      altText,
      skippedReason: `X offers no MP4 file for video ${medium.media_key}`,
    };
  }
  return {
    url: medium.url ?? medium.preview_image_url ?? '',
    kind: 'image',
    altText,
    skippedReason: `X medium ${medium.media_key} is of a type Gaung does not take (${medium.type})`,
  };
}

/**
 * The post's text as written: X's HTML escapes decoded, t.co links back to where they point, and
 * the trailing link to the post's own media dropped (the media travel as media).
 */
function sourceText(post: XTimelinePost): string {
  const chars = [...post.text];
  const urls = [...(post.entities?.urls ?? [])].sort((a, b) => b.start - a.start);
  for (const url of urls) {
    const ownMedia = url.media_key !== undefined || /\/(photo|video)\/\d+$/.test(url.expanded_url ?? '');
    chars.splice(url.start, url.end - url.start, ownMedia ? '' : (url.expanded_url ?? url.url));
  }
  return decodeEntities(chars.join('')).trim();
}

/** Pages of the office's timeline (newest first) until the cursor, `since`, or `limit` posts. */
async function readSource(
  ctx: PlatformContext,
  request: { cursor: string | null; since: Date; limit: number },
): Promise<{ items: SourceItem[]; cursor: string | null }> {
  try {
    const account = await me(ctx);
    const items: SourceItem[] = [];
    let newest: string | null = null;
    let token: string | undefined;
    const pages = Math.ceil(request.limit / 100) + 1;
    for (let page = 0; page < pages && items.length < request.limit; page++) {
      const response = await withClient(ctx, (client) =>
        client.v2.get<XTimelinePage>(`users/${account.id}/tweets`, {
          ...SOURCE_QUERY,
          ...timelineExclude(ctx.channel.settings),
          max_results: String(Math.min(100, Math.max(5, request.limit - items.length))),
          ...(request.cursor ? { since_id: request.cursor } : { start_time: request.since.toISOString() }),
          ...(token ? { pagination_token: token } : {}),
        }),
      );
      if (response.data !== undefined && !Array.isArray(response.data))
        throw new PlatformError({
          kind: 'invalid',
          message: 'X answered a timeline without a list of posts',
        });
      newest ??= response.meta?.newest_id ?? response.data?.[0]?.id ?? null;
      const media = new Map((response.includes?.media ?? []).map((m) => [m.media_key, m]));
      for (const post of response.data ?? []) {
        if (items.length >= request.limit) break;
        const url = postUrl(account.username, post.id);
        const publishedAt = post.created_at ? new Date(post.created_at) : null;
        items.push({
          key: post.id,
          url,
          publishedAt,
          text: sourceText(post),
          media: (post.attachments?.media_keys ?? [])
            .map((key) => media.get(key))
            .filter((m): m is XMedia => m !== undefined)
            .map(sourceMedium),
          origin: {
            platform: 'x',
            nativeId: post.id,
            url,
            authorHandle: `@${account.username}`,
            publishedAt: (publishedAt ?? new Date()).toISOString(),
          },
          kind: timelineKind(post),
        });
      }
      token = response.meta?.next_token;
      if (!token) break;
    }
    return { items, cursor: newest ?? request.cursor };
  } catch (error) {
    throw readFailure(error);
  }
}

/** A read changes nothing at X: an answer that never came is worth another try, not reconciliation. */
function readFailure(error: unknown): PlatformError {
  const classification = classifyError(error);
  return new PlatformError(
    classification.kind === 'unknown' ? { ...classification, kind: 'retry' } : classification,
    { cause: error },
  );
}

/** GET /2/tweets/:id: X answers a deleted post with 200 and a resource-not-found error. */
async function originExists(ctx: PlatformContext, origin: { nativeId: string }): Promise<boolean> {
  try {
    const response = await withClient(ctx, (client) =>
      client.v2.get<{ data?: { id: string }; errors?: { type?: string }[] }>(`tweets/${origin.nativeId}`),
    );
    if (response.data?.id === origin.nativeId) return true;
    if (response.errors?.some((e) => e.type?.endsWith('/resource-not-found'))) return false;
    throw new PlatformError({
      kind: 'retry',
      message: `X did not say whether post ${origin.nativeId} exists`,
    });
  } catch (error) {
    if (error instanceof twitter().ApiResponseError && error.code === 404) return false;
    throw readFailure(error);
  }
}

/**
 * The office's own X account as a source, read with the source's own OAuth tokens: the account is
 * the user the tokens belong to (`users/me`, or the id and handle stored when it was connected).
 */
const source: SourceReader = { readSource, originExists };

export const xAdapter: PlatformAdapter = {
  platform: 'x',
  capabilities,
  credentialsSchema,
  settingsSchema,
  publish: (ctx, request) =>
    createPost(
      ctx,
      request,
      request.replyTo ? { reply: { in_reply_to_tweet_id: request.replyTo.remoteId } } : {},
    ),
  quote: (ctx, request) => createPost(ctx, request, { quote_tweet_id: sourcePostId(request) }),
  async repost(ctx, request) {
    const source = sourcePostId(request);
    const account = await me(ctx);
    const response = await withClient(ctx, (client) =>
      client.v2.post<{ data: { retweeted: boolean; rest_id: string } }>(`users/${account.id}/retweets`, {
        tweet_id: source,
      }),
    );
    return { remoteId: response.data.rest_id, url: postUrl(account.username, response.data.rest_id) };
  },
  findPublished,
  retract,
  fetchMetrics,
  verifyCredentials,
  async refreshCredentials(ctx) {
    const next = await refresh(ctx);
    return { expiresAt: new Date(next.expiresAt) };
  },
  classifyError,
  source,
};

/** Step 1 of connecting a channel: the X consent URL, with the PKCE verifier and state to keep server-side. */
export function buildXAuthorizeUrl(
  endpoints: PlatformEndpoints,
  apps: PlatformApps,
  redirectUri: string,
  state?: string,
): { url: string; state: string; codeVerifier: string } {
  const link = appClient(endpoints, apps).generateOAuth2AuthLink(redirectUri, {
    scope: [...X_SCOPES],
    ...(state ? { state } : {}),
  });
  return { url: link.url, state: link.state, codeVerifier: link.codeVerifier };
}

/** Step 2: trades the callback's code for tokens and names the account they belong to. */
export async function exchangeXCode(
  endpoints: PlatformEndpoints,
  apps: PlatformApps,
  callback: { code: string; codeVerifier: string; redirectUri: string },
): Promise<{
  credentials: XCredentials;
  settings: { userId: string; username: string };
  account: AccountInfo;
}> {
  try {
    const result = await appClient(endpoints, apps).loginWithOAuth2(callback);
    if (!result.refreshToken)
      throw new PlatformError({
        kind: 'invalid',
        message: 'X granted no refresh token (offline.access is required)',
      });
    const user = await new (twitter().TwitterApi)(result.accessToken, {
      plugins: [routing(endpoints)],
    }).v2.get<{
      data: Me;
    }>('users/me');
    return {
      credentials: {
        accessToken: result.accessToken,
        refreshToken: result.refreshToken,
        expiresAt: new Date(Date.now() + result.expiresIn * 1000).toISOString(),
        scope: result.scope.join(' '),
      },
      settings: { userId: user.data.id, username: user.data.username },
      account: { remoteId: user.data.id, handle: user.data.username, name: user.data.name },
    };
  } catch (error) {
    if (error instanceof PlatformError) throw error;
    throw new PlatformError(classifyError(error), { cause: error });
  }
}
