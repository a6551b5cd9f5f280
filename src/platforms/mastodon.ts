import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { type AxiosInstance, type AxiosResponse, isAxiosError } from 'axios';
import { z } from 'zod';
import { mastodonSource } from './feeds';
import { classifyHttpError, createHttpClient, header, retryAfter } from './http';
import { decodeEntities, RECONCILE_SKEW_MS, sleep, textFingerprint, withLink } from './shared';
import type { NetworkReach } from './types';
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
 * Mastodon (any instance, base URL per channel). Statuses carry an Idempotency-Key derived from the
 * delivery id, so a retry within the instance's key lifetime (about an hour) returns the status
 * already made instead of a second one; after that, reconciliation reads the account's statuses.
 */

const credentialsSchema = z.object({ accessToken: z.string().min(1) });

const settingsSchema = z.object({
  instanceUrl: z.url({ protocol: /^https?$/, error: 'must be the http(s) URL of the Mastodon instance' }),
  accountId: z.string().min(1).optional(),
  username: z.string().min(1).optional(),
  /** ISO 639-1 language of the channel's statuses. */
  language: z
    .string()
    .regex(/^[a-z]{2,3}$/)
    .optional(),
  maxCharacters: z.number().int().positive().optional(),
  charactersReservedPerUrl: z.number().int().nonnegative().optional(),
  maxMediaAttachments: z.number().int().positive().optional(),
  /** `api_versions.mastodon` of the instance; quotes need 7 (Mastodon 4.5). */
  apiVersion: z.number().int().nonnegative().optional(),
});
type MastodonSettings = z.infer<typeof settingsSchema>;

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

/** Quote posts arrived with Mastodon 4.5, which reports API version 7. */
const QUOTES_API_VERSION = 7;
const MAX_PROCESSING_MS = 10 * 60_000;
const STATUS_PAGES = 10;

/** What the channel-verify flow stores in the channel's settings after reading the instance. */
export interface MastodonInstanceSettings {
  maxCharacters: number;
  charactersReservedPerUrl: number;
  maxMediaAttachments: number;
  apiVersion: number;
}

interface InstanceV2 {
  api_versions?: { mastodon?: number };
  configuration: {
    statuses: { max_characters: number; characters_reserved_per_url: number; max_media_attachments: number };
  };
}

/** Reads the limits and API version of an instance from GET /api/v2/instance (no token needed). */
export async function readMastodonInstance(
  instanceUrl: string,
  options: { signal?: AbortSignal; reach: NetworkReach },
): Promise<MastodonInstanceSettings> {
  try {
    const { data } = await createHttpClient(instanceUrl, options).get<InstanceV2>('/api/v2/instance');
    const statuses = data.configuration.statuses;
    return {
      maxCharacters: statuses.max_characters,
      charactersReservedPerUrl: statuses.characters_reserved_per_url,
      maxMediaAttachments: statuses.max_media_attachments,
      apiVersion: data.api_versions?.mastodon ?? 0,
    };
  } catch (error) {
    throw new PlatformError(classifyError(error), { cause: error });
  }
}

interface Status {
  id: string;
  created_at: string;
  content: string;
  url: string | null;
  uri: string;
  reblog: Status | null;
  favourites_count: number;
  reblogs_count: number;
  replies_count: number;
  quotes_count?: number;
}

interface Attachment {
  id: string;
  url: string | null;
}

function settings(ctx: PlatformContext): MastodonSettings {
  return settingsSchema.parse(ctx.channel.settings);
}

function client(ctx: PlatformContext): AxiosInstance {
  const { accessToken } = credentialsSchema.parse(ctx.credentials);
  const http = createHttpClient(settings(ctx).instanceUrl, { signal: ctx.signal, reach: ctx.reach });
  http.defaults.headers.common.Authorization = `Bearer ${accessToken}`;
  const report = (response: AxiosResponse | undefined) => {
    const remaining = Number(header(response, 'x-ratelimit-remaining'));
    const reset = Date.parse(header(response, 'x-ratelimit-reset') ?? '');
    if (ctx.onRateLimit && Number.isFinite(remaining) && Number.isFinite(reset))
      ctx.onRateLimit({ remaining, resetAt: new Date(reset), scope: 'channel' });
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

/** A multipart body whose file part streams from the medium, with an exact Content-Length. */
function multipart(fields: Record<string, string>, file: { name: string; media: PublishMedia }) {
  const boundary = `----GaungBoundary${randomBytes(12).toString('hex')}`;
  let head = '';
  for (const [name, value] of Object.entries(fields))
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const extension = file.media.mime.split('/')[1] ?? 'bin';
  head += `--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="${file.media.id}.${extension}"\r\nContent-Type: ${file.media.mime}\r\n\r\n`;
  const headBytes = Buffer.from(head, 'utf8');
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const media = file.media;
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: headBytes.length + media.bytes + tail.length,
    body: Readable.from(
      (async function* () {
        yield headBytes;
        yield* await media.open();
        yield tail;
      })(),
    ),
  };
}

/** POST /api/v2/media; a 202 means the instance is still processing, so poll until it has a URL. */
async function upload(ctx: PlatformContext, http: AxiosInstance, media: PublishMedia): Promise<string> {
  const form = multipart(media.altText.trim() ? { description: media.altText } : {}, { name: 'file', media });
  const created = await http.post<Attachment>('/api/v2/media', form.body, {
    headers: { 'content-type': form.contentType, 'content-length': String(form.length) },
  });
  let attachment = created.data;
  let status = created.status;
  const deadline = Date.now() + MAX_PROCESSING_MS;
  for (
    let delay = 250;
    status === 202 || status === 206 || !attachment.url;
    delay = Math.min(delay * 2, 5000)
  ) {
    if (Date.now() > deadline)
      throw new PlatformError({
        kind: 'retry',
        message: 'the Mastodon instance is still processing the media',
      });
    await sleep(delay, ctx.signal);
    const polled = await http.get<Attachment>(`/api/v1/media/${attachment.id}`);
    attachment = polled.data;
    status = polled.status;
  }
  return attachment.id;
}

function checkMedia(ctx: PlatformContext, media: PublishMedia[]): void {
  const max = settings(ctx).maxMediaAttachments ?? 4;
  if (media.length > max)
    throw new PlatformError({
      kind: 'invalid',
      message: `this Mastodon instance takes at most ${max} attachments`,
    });
  if (media.some((m) => m.kind === 'video') && media.length > 1)
    throw new PlatformError({ kind: 'invalid', message: 'Mastodon takes a video only on its own' });
}

/**
 * Finds the source post on this instance (fetching it from its home server if needed): the origin
 * the source read, where the post came from a Mastodon source, else the post's source URL.
 */
async function resolveSource(
  http: AxiosInstance,
  request: Pick<PublishRequest, 'sourceUrl' | 'origin'>,
): Promise<Status> {
  const address =
    request.origin?.platform === 'mastodon' && request.origin.url ? request.origin.url : request.sourceUrl;
  if (!address || !URL.canParse(address))
    throw new PlatformError({ kind: 'invalid', message: `not a post URL: ${address ?? '(none)'}` });
  const { data } = await http.get<{ statuses: Status[] }>('/api/v2/search', {
    params: { q: address, resolve: true, type: 'statuses', limit: 1 },
  });
  const status = data.statuses[0];
  if (!status)
    throw new PlatformError({
      kind: 'invalid',
      message: `the source post ${address} was not found on Mastodon`,
    });
  return status;
}

async function postStatus(
  ctx: PlatformContext,
  request: PublishRequest,
  extra: { quoted_status_id?: string; in_reply_to_id?: string },
  http = client(ctx),
): Promise<PublishResult> {
  checkMedia(ctx, request.media);
  const mediaIds: string[] = [];
  for (const media of request.media) mediaIds.push(await upload(ctx, http, media));
  const language = settings(ctx).language;
  const { data } = await http.post<Status>(
    '/api/v1/statuses',
    {
      status: withLink(request.text, request.link),
      visibility: 'public',
      ...(mediaIds.length > 0 ? { media_ids: mediaIds } : {}),
      ...(language ? { language } : {}),
      ...extra,
    },
    { headers: { 'Idempotency-Key': request.deliveryId } },
  );
  return { remoteId: data.id, url: data.url ?? data.uri };
}

async function accountId(ctx: PlatformContext, http: AxiosInstance): Promise<string> {
  return (
    settings(ctx).accountId ?? (await http.get<{ id: string }>('/api/v1/accounts/verify_credentials')).data.id
  );
}

/** Mastodon's HTML back to the text that was posted (quote fallbacks dropped, breaks restored, entities decoded). */
function statusText(html: string): string {
  return decodeEntities(
    html
      .replace(/<p class="quote-inline">[\s\S]*?<\/p>/gi, '')
      .replace(/<br\s*\/?>/gi, '\n')
      .replace(/<\/p>\s*<p[^>]*>/gi, '\n\n')
      .replace(/<[^>]+>/g, ''),
  );
}

/** Walks the account's statuses from newest back to `since`, returning the first that matches. */
async function scanStatuses(
  http: AxiosInstance,
  account: string,
  since: Date,
  params: Record<string, boolean>,
  match: (status: Status) => boolean,
): Promise<Status | null | 'cannot_tell'> {
  let maxId: string | undefined;
  for (let page = 0; page < STATUS_PAGES; page++) {
    const { data } = await http.get<Status[]>(`/api/v1/accounts/${account}/statuses`, {
      params: { limit: 40, ...params, ...(maxId ? { max_id: maxId } : {}) },
    });
    const found = data.find(match);
    if (found) return found;
    const oldest = data.at(-1);
    if (!oldest || Date.parse(oldest.created_at) < since.getTime()) return null;
    maxId = oldest.id;
  }
  return 'cannot_tell';
}

async function findPublished(
  ctx: PlatformContext,
  request: PublishRequest,
): Promise<PublishResult | null | 'cannot_tell'> {
  const http = client(ctx);
  const account = await accountId(ctx, http);
  const since = new Date(request.firstAttemptAt.getTime() - RECONCILE_SKEW_MS);
  const recent = (status: Status) => Date.parse(status.created_at) >= since.getTime();
  if (request.mode === 'repost') {
    const source = await resolveSource(http, request);
    const found = await scanStatuses(
      http,
      account,
      since,
      { exclude_replies: true },
      (s) => s.reblog?.id === source.id && recent(s),
    );
    return found && found !== 'cannot_tell'
      ? { remoteId: found.id, url: found.reblog?.url ?? found.uri }
      : found;
  }
  const wanted = textFingerprint(withLink(request.text, request.link));
  const found = await scanStatuses(
    http,
    account,
    since,
    { exclude_reblogs: true, exclude_replies: true },
    (s) => recent(s) && textFingerprint(statusText(s.content)) === wanted,
  );
  return found && found !== 'cannot_tell' ? { remoteId: found.id, url: found.url ?? found.uri } : found;
}

async function quote(ctx: PlatformContext, request: PublishRequest): Promise<PublishResult> {
  const stored = settings(ctx);
  const apiVersion =
    stored.apiVersion ??
    (await readMastodonInstance(stored.instanceUrl, { signal: ctx.signal, reach: ctx.reach })).apiVersion;
  // Older instances ignore quoted_status_id and would publish a plain status instead.
  if (apiVersion < QUOTES_API_VERSION)
    throw new PlatformError({
      kind: 'invalid',
      message: `this Mastodon instance (API version ${apiVersion}) cannot make quote posts; Mastodon 4.5 or later is needed`,
    });
  const http = client(ctx);
  const source = await resolveSource(http, request);
  return postStatus(ctx, request, { quoted_status_id: source.id }, http);
}

const notFound = (error: unknown) => isAxiosError(error) && error.response?.status === 404;

/** Deletes the status (copy, quote) or undoes the reblog (repost); a status already gone counts as done. */
async function retract(ctx: PlatformContext, request: RetractRequest): Promise<RetractResult> {
  const http = client(ctx);
  try {
    if (request.mode === 'repost') {
      const source = await resolveSource(http, request).catch((error: unknown) => {
        // The original is gone, and the reblog with it.
        if (error instanceof PlatformError && error.classification.kind === 'invalid') return null;
        throw error;
      });
      if (source) await http.post(`/api/v1/statuses/${source.id}/unreblog`, {});
    } else if (request.remoteId) {
      await http.delete(`/api/v1/statuses/${request.remoteId}`);
    } else {
      return { outcome: 'needs_person', message: noRemoteId(request) };
    }
  } catch (error) {
    if (!notFound(error)) throw error;
  }
  return { outcome: 'retracted' };
}

const noRemoteId = (request: RetractRequest) =>
  `Gaung does not know the status id of this delivery (it was confirmed by hand); delete ${request.remoteUrl ?? 'the status'} on the instance, then confirm here`;

async function fetchMetrics(ctx: PlatformContext, remoteId: string): Promise<DeliveryMetrics> {
  const { data } = await client(ctx).get<Status>(`/api/v1/statuses/${remoteId}`);
  return {
    impressions: null,
    likes: data.favourites_count,
    reposts: data.reblogs_count,
    replies: data.replies_count,
    quotes: data.quotes_count ?? null,
    clicks: null,
    raw: {
      favourites_count: data.favourites_count,
      reblogs_count: data.reblogs_count,
      replies_count: data.replies_count,
      quotes_count: data.quotes_count ?? null,
    },
  };
}

async function verifyCredentials(ctx: PlatformContext): Promise<AccountInfo> {
  const { data } = await client(ctx).get<{ id: string; acct: string; display_name: string }>(
    '/api/v1/accounts/verify_credentials',
  );
  return {
    remoteId: data.id,
    handle: `@${data.acct}@${new URL(settings(ctx).instanceUrl).host}`,
    name: data.display_name,
  };
}

function describe(response: AxiosResponse): string {
  const data = response.data as { error?: string; error_description?: string } | undefined;
  return `Mastodon answered ${response.status}: ${data?.error ?? data?.error_description ?? 'no message'}`;
}

function classifyError(error: unknown): ErrorClass {
  if (error instanceof PlatformError) return error.classification;
  if (isAxiosError(error) && error.response?.status === 429) {
    const reset = header(error.response, 'x-ratelimit-reset');
    const until =
      (reset && !Number.isNaN(Date.parse(reset)) ? new Date(reset) : null) ??
      retryAfter(header(error.response, 'retry-after')) ??
      new Date(Date.now() + 5 * 60_000);
    return {
      kind: 'rate_limited',
      until,
      scope: 'channel',
      message: describe(error.response),
      httpStatus: 429,
    };
  }
  return classifyHttpError(error, describe);
}

export const mastodonAdapter: PlatformAdapter = {
  platform: 'mastodon',
  capabilities,
  credentialsSchema,
  settingsSchema,
  publish: (ctx, request) =>
    postStatus(ctx, request, request.replyTo ? { in_reply_to_id: request.replyTo.remoteId } : {}),
  quote,
  async repost(ctx, request) {
    const http = client(ctx);
    const source = await resolveSource(http, request);
    // Reblogging is idempotent on Mastodon: a second call returns the existing reblog.
    const { data } = await http.post<Status>(`/api/v1/statuses/${source.id}/reblog`, {
      visibility: 'public',
    });
    return { remoteId: data.id, url: data.reblog?.url ?? source.url ?? data.uri };
  },
  findPublished,
  retract,
  fetchMetrics,
  verifyCredentials,
  async describeChannel(ctx) {
    const [instance, account] = await Promise.all([
      readMastodonInstance(settings(ctx).instanceUrl, { signal: ctx.signal, reach: ctx.reach }),
      client(ctx).get<{ id: string; acct: string }>('/api/v1/accounts/verify_credentials'),
    ]);
    return { ...instance, accountId: account.data.id, username: account.data.acct };
  },
  classifyError,
  source: mastodonSource,
};
