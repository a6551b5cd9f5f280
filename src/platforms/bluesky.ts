import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { type AxiosInstance, type AxiosResponse, isAxiosError } from 'axios';
import { z } from 'zod';
import { lazyRequire } from '../infra/lazy-require';
import { createBlueskySource } from './bluesky-source';
import { classifyHttpError, createHttpClient, header, retryAfter } from './http';
import { withLink } from './shared';
import {
  type AccountInfo,
  type Capabilities,
  type DeliveryMetrics,
  type ErrorClass,
  type PlatformAdapter,
  type PlatformContext,
  PlatformError,
  type PublishMedia,
  type PublishRequest,
  type PublishResult,
  type RetractRequest,
  type RetractResult,
} from './types';

/**
 * Bluesky through the account's PDS (XRPC over axios). Every record is written under a record key
 * derived from the delivery, so a retry cannot make a second post (the PDS refuses an existing key)
 * and reconciliation is a single getRecord on that key.
 */

const credentialsSchema = z.object({
  /** Handle (or e-mail) and an app password: what the channel owner enters when connecting. */
  identifier: z.string().min(1),
  appPassword: z.string().min(1),
  /** The current session, rotated by refreshSession. */
  accessJwt: z.string().min(1).optional(),
  refreshJwt: z.string().min(1).optional(),
  did: z.string().startsWith('did:').optional(),
  handle: z.string().min(1).optional(),
});
type BlueskyCredentials = z.infer<typeof credentialsSchema>;

const settingsSchema = z.object({
  pdsUrl: z
    .url({ protocol: /^https?$/, error: 'must be the http(s) URL of the PDS' })
    .default('https://bsky.social'),
  /** BCP 47 language of the channel's posts (the record's `langs`). */
  language: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]+)*$/)
    .optional(),
});

const capabilities: Capabilities = {
  text: true,
  images: true,
  video: true,
  repost: true,
  quote: true,
  metrics: true,
  reconcile: 'idempotent',
  mediaByUrl: false,
  retract: 'api',
  replies: true,
};

const POST = 'app.bsky.feed.post';
const REPOST = 'app.bsky.feed.repost';
/** The images embed lexicon's blob limit. */
const MAX_IMAGE_BYTES = 2_000_000;
/** Renew a session this long before its access token expires. */
const REFRESH_MARGIN_MS = 60_000;

interface Session {
  accessJwt: string;
  did: string;
  handle: string;
}

interface StrongRef {
  uri: string;
  cid: string;
}

type Blob = { $type: 'blob'; ref: { $link: string }; mimeType: string; size: number };
type Embed = Record<string, unknown> & { $type: string };

const SORTABLE_BASE32 = '234567abcdefghijklmnopqrstuvwxyz';

/** 2023-01-01T00:00:00Z in microseconds: the floor of the clock part of delivery record keys. */
const KEY_EPOCH_MICROS = 1_672_531_200_000_000n;

/**
 * The record key of a delivery: a TID (the key type posts and reposts declare) computed from the
 * delivery id alone, so every attempt, whenever it runs, writes to the same key. Its clock part is
 * hash-derived within about a year after 2023 rather than the wall clock, which the protocol allows
 * (record keys are chosen by the writer and never trusted as times).
 */
export function deliveryRecordKey(deliveryId: string): string {
  const hash = createHash('sha256').update(`gaung delivery ${deliveryId}`).digest();
  const micros = KEY_EPOCH_MICROS + (hash.readBigUInt64BE(0) & ((1n << 45n) - 1n));
  let value = (micros << 10n) | BigInt(hash.readUInt16BE(8) & 0x3ff);
  let key = '';
  for (let i = 0; i < 13; i++) {
    key = SORTABLE_BASE32[Number(value & 31n)] + key;
    value >>= 5n;
  }
  return key;
}

function settings(ctx: PlatformContext) {
  return settingsSchema.parse(ctx.channel.settings);
}

function credentials(ctx: PlatformContext): BlueskyCredentials {
  return credentialsSchema.parse(ctx.credentials);
}

function jwtExpiry(token: string): Date | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      exp?: unknown;
    };
    return typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : null;
  } catch {
    return null;
  }
}

/** A token without a readable expiry is used until the PDS says it expired. */
const fresh = (token: string | undefined): token is string => {
  if (!token) return false;
  const expiry = jwtExpiry(token);
  return !expiry || expiry.getTime() - Date.now() > REFRESH_MARGIN_MS;
};

function client(ctx: PlatformContext): AxiosInstance {
  const http = createHttpClient(settings(ctx).pdsUrl, { signal: ctx.signal, reach: ctx.reach });
  const report = (response: AxiosResponse | undefined) => {
    const remaining = Number(header(response, 'ratelimit-remaining'));
    const reset = Number(header(response, 'ratelimit-reset'));
    if (ctx.onRateLimit && Number.isFinite(remaining) && Number.isFinite(reset) && reset > 0)
      ctx.onRateLimit({ remaining, resetAt: new Date(reset * 1000), scope: 'channel' });
  };
  http.interceptors.response.use(
    (response) => {
      report(response);
      return response;
    },
    (error: unknown) => {
      if (isAxiosError(error)) report(error.response);
      return Promise.reject(error);
    },
  );
  return http;
}

const xrpcError = (error: unknown): string | undefined =>
  isAxiosError(error) ? (error.response?.data as { error?: string } | undefined)?.error : undefined;

/** The PDS rejected the session token itself (expired, revoked or malformed). */
const isTokenError = (error: unknown): boolean =>
  isAxiosError(error) &&
  (error.response?.status === 401 || ['ExpiredToken', 'InvalidToken'].includes(xrpcError(error) ?? ''));

/** Stores a new session with compare-and-set; when another worker stored one first, uses theirs. */
async function adopt(ctx: PlatformContext, next: BlueskyCredentials): Promise<BlueskyCredentials> {
  if (await ctx.saveCredentials(next, next.accessJwt ? jwtExpiry(next.accessJwt) : null)) {
    return next;
  }
  return credentialsSchema.parse(await ctx.reloadCredentials());
}

interface SessionOutput {
  accessJwt: string;
  refreshJwt: string;
  did: string;
  handle: string;
}

async function createSession(ctx: PlatformContext, http: AxiosInstance): Promise<Session> {
  const current = credentials(ctx);
  const { data } = await http.post<SessionOutput>('/xrpc/com.atproto.server.createSession', {
    identifier: current.identifier,
    password: current.appPassword,
  });
  return asSession(await adopt(ctx, { ...current, ...pick(data) }));
}

const pick = ({ accessJwt, refreshJwt, did, handle }: SessionOutput) => ({
  accessJwt,
  refreshJwt,
  did,
  handle,
});

function asSession(stored: BlueskyCredentials): Session {
  if (!stored.accessJwt || !stored.did || !stored.handle)
    throw new PlatformError({ kind: 'auth', message: 'the stored Bluesky session is incomplete' });
  return { accessJwt: stored.accessJwt, did: stored.did, handle: stored.handle };
}

/** refreshSession with the refresh JWT (it rotates); falls back to a new session from the app password. */
async function renew(ctx: PlatformContext, http: AxiosInstance): Promise<Session> {
  const current = credentials(ctx);
  if (fresh(current.refreshJwt)) {
    try {
      const { data } = await http.post<SessionOutput>('/xrpc/com.atproto.server.refreshSession', undefined, {
        headers: { Authorization: `Bearer ${current.refreshJwt}` },
      });
      return asSession(await adopt(ctx, { ...current, ...pick(data) }));
    } catch (error) {
      if (!isTokenError(error)) throw error;
      // Another worker may have rotated the refresh token already: use its session if it is newer.
      const stored = credentialsSchema.parse(await ctx.reloadCredentials());
      if (stored.accessJwt !== current.accessJwt && fresh(stored.accessJwt)) return asSession(stored);
    }
  }
  return createSession(ctx, http);
}

async function session(ctx: PlatformContext, http: AxiosInstance): Promise<Session> {
  const current = credentials(ctx);
  return fresh(current.accessJwt) && current.did && current.handle ? asSession(current) : renew(ctx, http);
}

/** Runs an authenticated call; an expired or refused token gets one renewal and one more try. */
async function authed<T>(
  ctx: PlatformContext,
  http: AxiosInstance,
  call: (session: Session) => Promise<T>,
): Promise<T> {
  const current = await session(ctx, http);
  try {
    return await call(current);
  } catch (error) {
    if (!isTokenError(error)) throw error;
    return call(await renew(ctx, http));
  }
}

const bearer = (s: Session) => ({ Authorization: `Bearer ${s.accessJwt}` });

async function resolveHandle(http: AxiosInstance, handle: string): Promise<string | null> {
  try {
    const { data } = await http.get<{ did: string }>('/xrpc/com.atproto.identity.resolveHandle', {
      params: { handle },
    });
    return data.did;
  } catch (error) {
    if (isAxiosError(error) && error.response?.status === 400) return null;
    throw error;
  }
}

async function getRecord(http: AxiosInstance, repo: string, collection: string, rkey: string) {
  try {
    const { data } = await http.get<{ uri: string; cid: string; value: Record<string, unknown> }>(
      '/xrpc/com.atproto.repo.getRecord',
      { params: { repo, collection, rkey } },
    );
    return data;
  } catch (error) {
    if (xrpcError(error) === 'RecordNotFound') return null;
    throw error;
  }
}

/**
 * @atproto/api's facet detection, without the rest of the package: its entry point loads every
 * lexicon (about 50 MB and half a second of synchronous work, long enough to hold up a worker's
 * heartbeat on a busy machine), while these two modules need only the list of top-level domains.
 * Loaded on first use, and by workers before they take jobs (src/infra/lazy-require.ts).
 */
const richTextDetection = lazyRequire<typeof import('@atproto/api/dist/rich-text/detection')>(
  '@atproto/api/dist/rich-text/detection.js',
);
const richTextUnicode = lazyRequire<typeof import('@atproto/api/dist/rich-text/unicode')>(
  '@atproto/api/dist/rich-text/unicode.js',
);

/** Facets for links, hashtags and mentions, with UTF-8 byte offsets; mentions that do not resolve stay plain text. */
async function facets(http: AxiosInstance, text: string): Promise<Record<string, unknown>[]> {
  const found = richTextDetection().detectFacets(new (richTextUnicode().UnicodeString)(text)) ?? [];
  found.sort((a, b) => a.index.byteStart - b.index.byteStart);
  const out: Record<string, unknown>[] = [];
  for (const facet of found) {
    const features: Record<string, unknown>[] = [];
    for (const feature of facet.features as Record<string, unknown>[]) {
      if (feature.$type !== 'app.bsky.richtext.facet#mention') features.push(feature);
      else {
        const did = await resolveHandle(http, String(feature.did));
        if (did) features.push({ ...feature, did });
      }
    }
    if (features.length > 0) out.push({ ...facet, $type: 'app.bsky.richtext.facet', features });
  }
  return out;
}

const webUrl = (actor: string, rkey: string) => `https://bsky.app/profile/${actor}/post/${rkey}`;

/** `https://bsky.app/profile/{handle|did}/post/{rkey}` or an at:// URI of a post → its actor and record key. */
function blueskyPostFromUrl(url: string): { actor: string; rkey: string } | null {
  const web = url.match(
    /^https:\/\/(?:www\.)?bsky\.app\/profile\/([^/?#]+)\/post\/([A-Za-z0-9._~:-]+)\/?(?:[?#].*)?$/,
  );
  if (web) return { actor: decodeURIComponent(web[1]!), rkey: web[2]! };
  const at = url.match(/^at:\/\/([^/]+)\/app\.bsky\.feed\.post\/([A-Za-z0-9._~:-]+)$/);
  return at ? { actor: at[1]!, rkey: at[2]! } : null;
}

async function resolveSource(http: AxiosInstance, request: PublishRequest): Promise<StrongRef> {
  // A Bluesky source kept the strong ref of the original: nothing to look up.
  const ref = request.origin?.platform === 'bluesky' ? request.origin.ref : undefined;
  if (ref?.uri && ref.cid) return { uri: ref.uri, cid: ref.cid };
  const parsed = request.sourceUrl ? blueskyPostFromUrl(request.sourceUrl) : null;
  if (!parsed)
    throw new PlatformError({
      kind: 'invalid',
      message: `not a Bluesky post URL: ${request.sourceUrl ?? '(none)'}`,
    });
  const did = parsed.actor.startsWith('did:') ? parsed.actor : await resolveHandle(http, parsed.actor);
  const record = did ? await getRecord(http, did, POST, parsed.rkey) : null;
  if (!record)
    throw new PlatformError({
      kind: 'invalid',
      message: `the source post ${request.sourceUrl} was not found`,
    });
  return { uri: record.uri, cid: record.cid };
}

async function uploadBlob(ctx: PlatformContext, http: AxiosInstance, media: PublishMedia): Promise<Blob> {
  // Images are small and read whole; video streams straight from storage.
  const image = media.kind === 'image' ? await buffer(await media.open()) : null;
  const { data } = await authed(ctx, http, async (s) =>
    http.post<{ blob: Blob }>('/xrpc/com.atproto.repo.uploadBlob', image ?? (await media.open()), {
      headers: {
        ...bearer(s),
        'content-type': media.mime,
        'content-length': String(image?.length ?? media.bytes),
      },
    }),
  );
  return data.blob;
}

async function mediaEmbed(
  ctx: PlatformContext,
  http: AxiosInstance,
  media: PublishMedia[],
): Promise<Embed | null> {
  if (media.length === 0) return null;
  const video = media.find((m) => m.kind === 'video');
  if (video) {
    if (media.length > 1)
      throw new PlatformError({ kind: 'invalid', message: 'Bluesky takes a video only on its own' });
    if (video.mime !== 'video/mp4')
      throw new PlatformError({ kind: 'invalid', message: 'Bluesky takes video as MP4 only' });
    const blob = await uploadBlob(ctx, http, video);
    return {
      $type: 'app.bsky.embed.video',
      video: blob,
      ...(video.altText.trim() ? { alt: video.altText } : {}),
    };
  }
  if (media.length > 4)
    throw new PlatformError({ kind: 'invalid', message: 'Bluesky takes at most 4 images per post' });
  const oversized = media.find((m) => m.bytes > MAX_IMAGE_BYTES);
  if (oversized)
    throw new PlatformError({
      kind: 'invalid',
      message: `an image is ${oversized.bytes} bytes; Bluesky takes at most 2 MB`,
    });
  const images = [];
  for (const m of media) images.push({ image: await uploadBlob(ctx, http, m), alt: m.altText });
  return { $type: 'app.bsky.embed.images', images };
}

/** A link card from the URL alone: Gaung does not fetch third-party pages for titles. */
function externalEmbed(link: string): Embed {
  const url = new URL(link);
  return {
    $type: 'app.bsky.embed.external',
    external: { uri: link, title: `${url.host}${url.pathname === '/' ? '' : url.pathname}`, description: '' },
  };
}

async function postRecord(
  ctx: PlatformContext,
  http: AxiosInstance,
  text: string,
  embed: Embed | null,
  reply: { root: StrongRef; parent: StrongRef } | null = null,
) {
  const language = settings(ctx).language;
  const detected = await facets(http, text);
  return {
    $type: POST,
    text,
    ...(detected.length > 0 ? { facets: detected } : {}),
    ...(embed ? { embed } : {}),
    ...(reply ? { reply } : {}),
    ...(language ? { langs: [language] } : {}),
    createdAt: new Date().toISOString(),
  };
}

/**
 * createRecord under the delivery's key. When the PDS refuses or fails, the key is checked: if the
 * record is there, an earlier attempt made it and that is the result.
 */
async function createRecord(
  ctx: PlatformContext,
  http: AxiosInstance,
  request: PublishRequest,
  collection: string,
  record: Record<string, unknown>,
  url: (s: Session, rkey: string) => string,
): Promise<PublishResult> {
  const rkey = deliveryRecordKey(request.deliveryId);
  try {
    return await authed(ctx, http, async (s) => {
      const { data } = await http.post<StrongRef>(
        '/xrpc/com.atproto.repo.createRecord',
        { repo: s.did, collection, rkey, record },
        { headers: bearer(s) },
      );
      return { remoteId: data.uri, url: url(s, rkey) };
    });
  } catch (error) {
    const status = isAxiosError(error) ? (error.response?.status ?? 0) : 0;
    if (status !== 400 && status !== 409 && status < 500) throw error;
    const s = await session(ctx, http);
    const existing = await getRecord(http, s.did, collection, rkey);
    if (!existing) throw error;
    return { remoteId: existing.uri, url: url(s, rkey) };
  }
}

/** Web URL of the post an at:// URI names. */
function webUrlOf(uri: string): string {
  const [, , did, , rkey] = uri.split('/');
  return webUrl(did!, rkey!);
}

async function publish(ctx: PlatformContext, request: PublishRequest): Promise<PublishResult> {
  const http = client(ctx);
  const media = await mediaEmbed(ctx, http, request.media);
  // Without media the link becomes a card; with media it has to travel in the text.
  const embed = media ?? (request.link ? externalEmbed(request.link) : null);
  const text = media ? withLink(request.text, request.link) : request.text;
  const reply = request.replyTo ? await replyRefs(http, request.replyTo.remoteId) : null;
  return createRecord(ctx, http, request, POST, await postRecord(ctx, http, text, embed, reply), (s, rkey) =>
    webUrl(s.handle, rkey),
  );
}

/** The `reply` of a post answering `uri`: its parent, and the root of the thread it belongs to. */
async function replyRefs(http: AxiosInstance, uri: string): Promise<{ root: StrongRef; parent: StrongRef }> {
  const [, , repo, collection, rkey] = uri.split('/');
  const parent = repo && collection && rkey ? await getRecord(http, repo, collection, rkey) : null;
  if (!parent) throw new PlatformError({ kind: 'invalid', message: `the post to answer is gone: ${uri}` });
  const ref = { uri: parent.uri, cid: parent.cid };
  const root = (parent.value.reply as { root?: StrongRef } | undefined)?.root ?? ref;
  return { root, parent: ref };
}

/**
 * deleteRecord of the delivery's record (post, quote or repost) by its record key. Deleting a
 * record that is not there succeeds, so a repeated retraction is done.
 */
async function retract(ctx: PlatformContext, request: RetractRequest): Promise<RetractResult> {
  const http = client(ctx);
  const collection = request.mode === 'repost' ? REPOST : POST;
  const fromUri = request.remoteId?.startsWith('at://') ? request.remoteId.split('/') : null;
  await authed(ctx, http, (s) =>
    http.post(
      '/xrpc/com.atproto.repo.deleteRecord',
      {
        repo: s.did,
        collection: fromUri?.[3] ?? collection,
        rkey: fromUri?.[4] ?? deliveryRecordKey(request.deliveryId),
      },
      { headers: bearer(s) },
    ),
  );
  return { outcome: 'retracted' };
}

async function quote(ctx: PlatformContext, request: PublishRequest): Promise<PublishResult> {
  const http = client(ctx);
  const source = await resolveSource(http, request);
  const media = await mediaEmbed(ctx, http, request.media);
  const record = { $type: 'app.bsky.embed.record', record: source };
  const embed = media ? { $type: 'app.bsky.embed.recordWithMedia', record, media } : record;
  const text = withLink(request.text, request.link);
  return createRecord(ctx, http, request, POST, await postRecord(ctx, http, text, embed), (s, rkey) =>
    webUrl(s.handle, rkey),
  );
}

async function repost(ctx: PlatformContext, request: PublishRequest): Promise<PublishResult> {
  const http = client(ctx);
  const source = await resolveSource(http, request);
  const record = { $type: REPOST, subject: source, createdAt: new Date().toISOString() };
  return createRecord(ctx, http, request, REPOST, record, () => webUrlOf(source.uri));
}

async function findPublished(ctx: PlatformContext, request: PublishRequest): Promise<PublishResult | null> {
  const http = client(ctx);
  const s = await session(ctx, http);
  const collection = request.mode === 'repost' ? REPOST : POST;
  const rkey = deliveryRecordKey(request.deliveryId);
  const record = await getRecord(http, s.did, collection, rkey);
  if (!record) return null;
  const subject = (record.value.subject as StrongRef | undefined)?.uri;
  return {
    remoteId: record.uri,
    url: collection === REPOST && subject ? webUrlOf(subject) : webUrl(s.handle, rkey),
  };
}

interface PostView {
  likeCount?: number;
  repostCount?: number;
  replyCount?: number;
  quoteCount?: number;
}

async function fetchMetrics(ctx: PlatformContext, remoteId: string): Promise<DeliveryMetrics> {
  const none = {
    impressions: null,
    likes: null,
    reposts: null,
    replies: null,
    quotes: null,
    clicks: null,
    raw: {},
  };
  // A repost record has no engagement of its own.
  if (remoteId.includes(`/${REPOST}/`)) return none;
  const http = client(ctx);
  const { data } = await authed(ctx, http, (s) =>
    http.get<{ posts: PostView[] }>('/xrpc/app.bsky.feed.getPosts', {
      params: { uris: remoteId },
      headers: bearer(s),
    }),
  );
  const post = data.posts[0];
  if (!post) throw new PlatformError({ kind: 'invalid', message: `Bluesky post ${remoteId} not found` });
  return {
    ...none,
    likes: post.likeCount ?? null,
    reposts: post.repostCount ?? null,
    replies: post.replyCount ?? null,
    quotes: post.quoteCount ?? null,
    raw: { ...post },
  };
}

function describe(response: AxiosResponse): string {
  const data = response.data as { error?: string; message?: string } | undefined;
  return `Bluesky answered ${response.status}: ${[data?.error, data?.message].filter(Boolean).join(': ') || 'no message'}`;
}

function classifyError(error: unknown): ErrorClass {
  if (error instanceof PlatformError) return error.classification;
  if (isAxiosError(error) && error.response) {
    const response = error.response;
    if (response.status === 429) {
      const reset = Number(header(response, 'ratelimit-reset'));
      const until =
        (Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000) : null) ??
        retryAfter(header(response, 'retry-after')) ??
        new Date(Date.now() + 5 * 60_000);
      return { kind: 'rate_limited', until, scope: 'channel', message: describe(response), httpStatus: 429 };
    }
    if (isTokenError(error) || xrpcError(error) === 'AccountTakedown')
      return { kind: 'auth', message: describe(response), httpStatus: response.status };
  }
  return classifyHttpError(error, describe);
}

export const blueskyAdapter: PlatformAdapter = {
  platform: 'bluesky',
  capabilities,
  credentialsSchema,
  settingsSchema,
  publish,
  quote,
  repost,
  findPublished,
  retract,
  fetchMetrics,
  source: createBlueskySource(classifyError),
  async verifyCredentials(ctx): Promise<AccountInfo> {
    const s = await createSession(ctx, client(ctx));
    return { remoteId: s.did, handle: s.handle };
  },
  async refreshCredentials(ctx) {
    const s = await renew(ctx, client(ctx));
    return { expiresAt: jwtExpiry(s.accessJwt) };
  },
  classifyError,
};
