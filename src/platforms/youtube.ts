import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { type AxiosInstance, type AxiosResponse, isAxiosError } from 'axios';
import { z } from 'zod';
import { YOUTUBE_SHORTS_MAX_SECONDS } from '../../config/platform-limits';
import { nextMidnight } from '../domain/rate-limits';
import { YOUTUBE_CATEGORY_DEFAULT, YOUTUBE_PRIVACY, youtubeTags, youtubeTitle } from '../domain/rendering';
import { classifyHttpError, createHttpClient, header } from './http';
import {
  expiringToken,
  RECONCILE_SKEW_MS,
  readChunks,
  sleep,
  storeRenewed,
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
  type PublishMedia,
  type PublishRequest,
  type PublishResult,
  type RetractRequest,
  type RetractResult,
} from './types';
import { youtubeSource } from './youtube-source';

/**
 * YouTube through the Data API v3 with a Google OAuth 2.0 user grant (offline: a refresh token).
 * Videos go up with the resumable upload protocol: a session is opened with the video's metadata,
 * the bytes follow in chunks, and after a dropped connection the session is asked how much it
 * holds (308 with Range) so the upload resumes there instead of starting over. A cover image
 * becomes the custom thumbnail; a playlist chosen for the channel gets the video. Reconciliation
 * reads the channel's uploads playlist for the delivery's description.
 */

export const YOUTUBE_SCOPES = [
  'https://www.googleapis.com/auth/youtube.upload',
  'https://www.googleapis.com/auth/youtube.readonly',
  'https://www.googleapis.com/auth/youtube.force-ssl',
] as const;

const credentialsSchema = z.strictObject({
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  expiresAt: z.iso.datetime({ offset: true }),
  scope: z.string().optional(),
});
type YoutubeCredentials = z.infer<typeof credentialsSchema>;

const settingsSchema = z.strictObject({
  channelId: z
    .string()
    .regex(/^UC[A-Za-z0-9_-]{22}$/, 'a YouTube channel id (UC…)')
    .optional(),
  uploadsPlaylistId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{2,64}$/)
    .optional(),
  /** YouTube requires every upload to say whether it is made for kids: a choice per channel. */
  madeForKids: z.boolean().optional(),
  privacyStatus: z.enum(YOUTUBE_PRIVACY).optional(),
  categoryId: z
    .string()
    .regex(/^\d{1,3}$/, 'a YouTube video category id (e.g. 25, News & Politics)')
    .optional(),
  /** Every video goes into this playlist too. */
  playlistId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{2,64}$/, 'a YouTube playlist id (PL…)')
    .optional(),
  /** A verified channel uploads videos longer than 15 minutes (up to 12 hours). */
  longUploads: z.boolean().optional(),
});
type YoutubeSettings = z.infer<typeof settingsSchema>;

const capabilities: Capabilities = {
  text: false,
  images: false,
  video: true,
  repost: false,
  quote: false,
  metrics: true,
  reconcile: 'search',
  mediaByUrl: false,
  retract: 'api',
  replies: false,
};

/** Google's access tokens live an hour; refresh this long before. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** Chunks must be multiples of 256 KiB (all but the last). */
export const YOUTUBE_CHUNK_GRANULE = 256 * 1024;
const UPLOAD_PAGES = 4;
const THUMBNAIL_TYPES = new Set(['image/jpeg', 'image/png']);

export interface YoutubeAdapterOptions {
  /** Bytes per PUT; a multiple of 256 KiB. */
  chunkBytes?: number;
  /** Status checks and resumes one upload may take after dropped connections. */
  maxResumes?: number;
  resumeDelayMs?: number;
  timeoutMs?: number;
}

interface GoogleErrorBody {
  error?: {
    code?: number;
    message?: string;
    errors?: { reason?: string; domain?: string; message?: string }[];
    status?: string;
  };
}

const reasonOf = (response: AxiosResponse | undefined): string | undefined =>
  (response?.data as GoogleErrorBody | undefined)?.error?.errors?.[0]?.reason;

function describe(response: AxiosResponse): string {
  const body = response.data as GoogleErrorBody | { error?: string; error_description?: string } | undefined;
  if (body && typeof body.error === 'object' && body.error)
    return `YouTube answered ${response.status}: ${body.error.message ?? body.error.status ?? ''}${reasonOf(response) ? ` (${reasonOf(response)})` : ''}`;
  if (body && typeof body.error === 'string')
    return `Google answered ${response.status}: ${body.error}${'error_description' in body && body.error_description ? ` (${body.error_description})` : ''}`;
  return `YouTube answered ${response.status}`;
}

/** Where the project's quota day ends: Google resets it at midnight Pacific Time. */
const QUOTA_ZONE = 'America/Los_Angeles';

function classifyError(error: unknown): ErrorClass {
  if (error instanceof PlatformError) return error.classification;
  if (isAxiosError(error) && error.response) {
    const response = error.response;
    const reason = reasonOf(response);
    const message = describe(response);
    const status = response.status;
    if (reason === 'quotaExceeded' || reason === 'dailyLimitExceeded')
      return {
        kind: 'rate_limited',
        until: nextMidnight(QUOTA_ZONE, new Date()),
        scope: 'app',
        message,
        httpStatus: status,
      };
    if (reason === 'rateLimitExceeded' || reason === 'userRateLimitExceeded' || status === 429)
      return {
        kind: 'rate_limited',
        until: new Date(Date.now() + 60_000),
        scope: reason === 'rateLimitExceeded' ? 'app' : 'channel',
        message,
        httpStatus: status,
      };
    // The channel's own daily upload allowance (not the project's quota).
    if (reason === 'uploadLimitExceeded')
      return {
        kind: 'rate_limited',
        until: new Date(Date.now() + 24 * 3_600_000),
        scope: 'channel',
        message,
        httpStatus: status,
      };
    if (
      status === 401 ||
      reason === 'insufficientPermissions' ||
      reason === 'forbidden' ||
      reason === 'youtubeSignupRequired'
    )
      return { kind: 'auth', message, httpStatus: status };
    const body = response.data as { error?: unknown } | undefined;
    if (status === 400 && body?.error === 'invalid_grant')
      return {
        kind: 'auth',
        message: `${message}: the Google grant was revoked or expired; connect the channel again`,
        httpStatus: status,
      };
  }
  return classifyHttpError(error, describe);
}

const invalid = (message: string) => new PlatformError({ kind: 'invalid', message });

/** Unwraps an axios call into its data, turning failures into PlatformErrors with YouTube's words. */
async function call<T>(run: () => Promise<AxiosResponse<T>>): Promise<AxiosResponse<T>> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof PlatformError) throw error;
    throw new PlatformError(classifyError(error), { cause: error });
  }
}

function credentials(ctx: PlatformContext): YoutubeCredentials {
  return credentialsSchema.parse(ctx.credentials);
}

function googleApp(apps: PlatformApps): { clientId: string; clientSecret: string } {
  if (!apps.google)
    throw new PlatformError({
      kind: 'auth',
      message: 'no Google OAuth client configured (GAUNG_GOOGLE_CLIENT_ID)',
    });
  return apps.google;
}

interface TokenAnswer {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
  scope?: string;
}

async function tokenRequest(
  endpoints: PlatformEndpoints,
  form: Record<string, string>,
  signal?: AbortSignal,
) {
  const http = createHttpClient(endpoints.googleToken, { signal });
  const response = await call(() =>
    http.post<TokenAnswer>('', new URLSearchParams(form).toString(), {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    }),
  );
  return response.data;
}

async function refresh(ctx: PlatformContext): Promise<YoutubeCredentials> {
  const current = credentials(ctx);
  const app = googleApp(ctx.apps);
  const answer = await tokenRequest(
    ctx.endpoints,
    {
      grant_type: 'refresh_token',
      refresh_token: current.refreshToken,
      client_id: app.clientId,
      client_secret: app.clientSecret,
    },
    ctx.signal,
  );
  const next: YoutubeCredentials = {
    accessToken: answer.access_token,
    // Google keeps the refresh token unless it sends a new one.
    refreshToken: answer.refresh_token ?? current.refreshToken,
    expiresAt: new Date(Date.now() + answer.expires_in * 1000).toISOString(),
    ...(answer.scope ? { scope: answer.scope } : current.scope ? { scope: current.scope } : {}),
  };
  return storeRenewed(ctx, next, (stored) => credentialsSchema.parse(stored));
}

/** Requests with a fresh token; a 401 refreshes the token once and tries again. */
const { authorized } = expiringToken({
  credentials,
  refresh,
  marginMs: REFRESH_MARGIN_MS,
  refused: (error) => isAxiosError(error) && error.response?.status === 401,
});

interface ChannelResource {
  id: string;
  snippet?: { title?: string; customUrl?: string };
  contentDetails?: { relatedPlaylists?: { uploads?: string } };
}

async function myChannel(ctx: PlatformContext, api: AxiosInstance): Promise<ChannelResource> {
  const response = await call(() =>
    authorized(ctx, (headers) =>
      api.get<{ items?: ChannelResource[] }>('/youtube/v3/channels', {
        params: { part: 'snippet,contentDetails', mine: true },
        headers,
      }),
    ),
  );
  const channel = response.data.items?.[0];
  if (!channel)
    throw new PlatformError({ kind: 'auth', message: 'the Google account has no YouTube channel' });
  return channel;
}

const isShort = (video: PublishMedia) =>
  video.width !== null &&
  video.height !== null &&
  video.height >= video.width &&
  video.durationMs !== null &&
  video.durationMs <= YOUTUBE_SHORTS_MAX_SECONDS * 1000;

/** The description: the delivery's text with its link, and #Shorts for a Short that does not say so. */
function description(request: PublishRequest, short: boolean): string {
  const text = withLink(request.text, request.link);
  return short && !/#shorts\b/i.test(text) ? `${text}\n\n#Shorts` : text;
}

const watchUrl = (id: string, short: boolean) =>
  short ? `https://www.youtube.com/shorts/${id}` : `https://www.youtube.com/watch?v=${id}`;

function splitMedia(media: PublishMedia[]): { video: PublishMedia; cover: PublishMedia | null } {
  const videos = media.filter((m) => m.kind === 'video');
  const images = media.filter((m) => m.kind === 'image');
  if (videos.length !== 1) throw invalid('YouTube takes exactly one video per post');
  if (images.length > 1) throw invalid('YouTube takes one cover image (the thumbnail) beside the video');
  const cover = images[0] ?? null;
  if (cover && !THUMBNAIL_TYPES.has(cover.mime))
    throw invalid(`YouTube thumbnails are JPEG or PNG, not ${cover.mime}`);
  return { video: videos[0]!, cover };
}

/** Skips the first `offset` bytes of a stream, yielding the rest. */
async function* from(stream: Readable, offset: number): AsyncGenerator<Buffer> {
  let skipped = 0;
  for await (const piece of stream) {
    const data = Buffer.isBuffer(piece) ? piece : Buffer.from(piece as Uint8Array);
    if (skipped + data.length <= offset) {
      skipped += data.length;
      continue;
    }
    yield skipped < offset ? data.subarray(offset - skipped) : data;
    skipped = offset;
  }
}

/** The next byte the session wants, from a 308's `Range: bytes=0-N` (none: nothing stored yet). */
function nextOffset(response: AxiosResponse): number {
  const range = header(response, 'range');
  const match = range ? /bytes=0-(\d+)/.exec(range) : null;
  return match ? Number(match[1]) + 1 : 0;
}

class SessionExpired extends Error {}

interface VideoResource {
  id: string;
  snippet?: { title?: string; description?: string };
}

export function createYoutubeAdapter(options: YoutubeAdapterOptions = {}): PlatformAdapter {
  const chunkBytes = options.chunkBytes ?? 32 * YOUTUBE_CHUNK_GRANULE;
  if (chunkBytes % YOUTUBE_CHUNK_GRANULE !== 0) throw new Error('chunkBytes must be a multiple of 256 KiB');
  const maxResumes = options.maxResumes ?? 8;
  const resumeDelayMs = options.resumeDelayMs ?? 1_000;

  const api = (ctx: PlatformContext) =>
    createHttpClient(ctx.endpoints.youtube, { signal: ctx.signal, timeoutMs: options.timeoutMs });

  /** Opens a resumable session with the video's metadata; its answer's Location is the session URL. */
  async function openSession(
    ctx: PlatformContext,
    video: PublishMedia,
    metadata: Record<string, unknown>,
  ): Promise<string> {
    try {
      const response = await authorized(ctx, (headers) =>
        api(ctx).post('/upload/youtube/v3/videos', metadata, {
          params: { uploadType: 'resumable', part: 'snippet,status' },
          headers: {
            ...headers,
            'content-type': 'application/json; charset=UTF-8',
            'x-upload-content-length': String(video.bytes),
            'x-upload-content-type': video.mime,
          },
        }),
      );
      const location = header(response, 'location');
      if (!location) throw new PlatformError({ kind: 'retry', message: 'YouTube opened no upload session' });
      return location;
    } catch (error) {
      const classification = classifyError(error);
      // A session that never received bytes publishes nothing: opening another one is safe.
      if (classification.kind === 'unknown')
        throw new PlatformError({ ...classification, kind: 'retry' }, { cause: error });
      throw new PlatformError(classification, { cause: error });
    }
  }

  /** Asks the session how much it holds: the next offset, or the finished video. */
  async function sessionStatus(
    ctx: PlatformContext,
    session: string,
    total: number,
  ): Promise<{ offset: number } | { video: VideoResource }> {
    const response = await authorized(ctx, (headers) =>
      api(ctx).put<VideoResource>(session, Buffer.alloc(0), {
        headers: { ...headers, 'content-range': `bytes */${total}`, 'content-length': '0' },
        validateStatus: (status) => status === 200 || status === 201 || status === 308,
      }),
    ).catch((error: unknown) => {
      if (isAxiosError(error) && (error.response?.status === 404 || error.response?.status === 410))
        throw new SessionExpired();
      throw error;
    });
    if (response.status === 308) return { offset: nextOffset(response) };
    return { video: response.data };
  }

  /** Sends the bytes from `offset` on; resolves with the video once the last chunk is stored. */
  async function sendFrom(
    ctx: PlatformContext,
    session: string,
    video: PublishMedia,
    offset: number,
  ): Promise<{ video: VideoResource } | { offset: number }> {
    let position = offset;
    for await (const chunk of readChunks(Readable.from(from(await video.open(), offset)), chunkBytes)) {
      const end = position + chunk.length - 1;
      const response = await authorized(ctx, (headers) =>
        api(ctx).put<VideoResource>(session, chunk, {
          headers: {
            ...headers,
            'content-type': video.mime,
            'content-range': `bytes ${position}-${end}/${video.bytes}`,
          },
          validateStatus: (status) => status === 200 || status === 201 || status === 308,
        }),
      ).catch((error: unknown) => {
        if (isAxiosError(error) && (error.response?.status === 404 || error.response?.status === 410))
          throw new SessionExpired();
        throw error;
      });
      if (response.status !== 308) return { video: response.data };
      const stored = nextOffset(response);
      // The session kept less than was sent: carry on from what it holds.
      if (stored !== end + 1) return { offset: stored };
      position = stored;
    }
    return { offset: position };
  }

  /** Uploads through one session, resuming after dropped connections; throws SessionExpired. */
  async function upload(ctx: PlatformContext, session: string, video: PublishMedia): Promise<VideoResource> {
    let offset = 0;
    let resumes = 0;
    for (;;) {
      try {
        const sent = await sendFrom(ctx, session, video, offset);
        if ('video' in sent) return sent.video;
        if (sent.offset <= offset) {
          resumes += 1;
          if (resumes > maxResumes)
            throw new PlatformError({
              kind: 'unknown',
              message: 'the YouTube upload session stopped taking bytes',
            });
        }
        offset = sent.offset;
        if (offset >= video.bytes) {
          const status = await sessionStatus(ctx, session, video.bytes);
          if ('video' in status) return status.video;
          offset = status.offset;
        }
        continue;
      } catch (error) {
        if (error instanceof SessionExpired || error instanceof PlatformError) throw error;
        const classification = classifyError(error);
        if (classification.kind !== 'unknown' && classification.kind !== 'retry')
          throw new PlatformError(classification, { cause: error });
        if (resumes >= maxResumes)
          throw new PlatformError(
            { kind: 'unknown', message: `the upload kept breaking off (${classification.message})` },
            { cause: error },
          );
      }
      // The connection dropped: ask the session what it holds, and resume there.
      for (;;) {
        resumes += 1;
        await sleep(resumeDelayMs * Math.min(resumes, 10), ctx.signal);
        try {
          const status = await sessionStatus(ctx, session, video.bytes);
          if ('video' in status) return status.video;
          offset = status.offset;
          break;
        } catch (error) {
          if (error instanceof SessionExpired) throw error;
          const classification = classifyError(error);
          if ((classification.kind !== 'unknown' && classification.kind !== 'retry') || resumes >= maxResumes)
            throw new PlatformError(
              classification.kind === 'retry' ? { ...classification, kind: 'unknown' } : classification,
              { cause: error },
            );
        }
      }
    }
  }

  /** What follows the upload is decoration: a failure there must not make the engine upload again. */
  async function decorate(
    ctx: PlatformContext,
    videoId: string,
    cover: PublishMedia | null,
    settings: YoutubeSettings,
  ): Promise<void> {
    if (cover) {
      try {
        const bytes = await readAll(await cover.open());
        await call(() =>
          authorized(ctx, (headers) =>
            api(ctx).post('/upload/youtube/v3/thumbnails/set', bytes, {
              params: { videoId, uploadType: 'media' },
              headers: { ...headers, 'content-type': cover.mime },
            }),
          ),
        );
      } catch (error) {
        ctx.log.warn(
          { err: error, videoId },
          'YouTube refused the custom thumbnail; the video keeps its own',
        );
      }
    }
    if (settings.playlistId) {
      try {
        await call(() =>
          authorized(ctx, (headers) =>
            api(ctx).post(
              '/youtube/v3/playlistItems',
              {
                snippet: { playlistId: settings.playlistId, resourceId: { kind: 'youtube#video', videoId } },
              },
              { params: { part: 'snippet' }, headers },
            ),
          ),
        );
      } catch (error) {
        ctx.log.warn({ err: error, videoId }, 'YouTube did not add the video to the playlist');
      }
    }
  }

  async function publish(ctx: PlatformContext, request: PublishRequest): Promise<PublishResult> {
    const settings = settingsSchema.parse(ctx.channel.settings);
    if (settings.madeForKids === undefined)
      throw invalid(
        'Choose in the channel settings whether its videos are made for kids; YouTube requires the answer',
      );
    const { video, cover } = splitMedia(request.media);
    const short = isShort(video);
    const text = description(request, short);
    if (/[<>]/.test(text)) throw invalid('YouTube refuses "<" and ">" in titles and descriptions');
    const metadata = {
      snippet: {
        title: youtubeTitle(request.text),
        description: text,
        ...(request.tags && request.tags.length > 0 ? { tags: youtubeTags(request.tags) } : {}),
        categoryId: settings.categoryId ?? YOUTUBE_CATEGORY_DEFAULT,
        defaultLanguage: 'id',
      },
      status: {
        privacyStatus: settings.privacyStatus ?? 'public',
        selfDeclaredMadeForKids: settings.madeForKids,
      },
    };
    let uploaded: VideoResource | null = null;
    // An expired session is the one case the upload starts over (YouTube keeps nothing of it).
    for (let sessions = 0; sessions < 2 && !uploaded; sessions++) {
      const session = await openSession(ctx, video, metadata);
      try {
        uploaded = await upload(ctx, session, video);
      } catch (error) {
        if (!(error instanceof SessionExpired)) throw error;
      }
    }
    if (!uploaded?.id)
      throw new PlatformError({ kind: 'retry', message: 'the YouTube upload session expired twice' });
    await decorate(ctx, uploaded.id, cover, settings);
    return { remoteId: uploaded.id, url: watchUrl(uploaded.id, short) };
  }

  async function findPublished(
    ctx: PlatformContext,
    request: PublishRequest,
  ): Promise<PublishResult | null | 'cannot_tell'> {
    const settings = settingsSchema.parse(ctx.channel.settings);
    const uploads =
      settings.uploadsPlaylistId ??
      (await myChannel(ctx, api(ctx))).contentDetails?.relatedPlaylists?.uploads;
    if (!uploads) return 'cannot_tell';
    const video = request.media.find((m) => m.kind === 'video');
    const short = video ? isShort(video) : false;
    const wanted = textFingerprint(description(request, short));
    const since = request.firstAttemptAt.getTime() - RECONCILE_SKEW_MS;
    let pageToken: string | undefined;
    for (let page = 0; page < UPLOAD_PAGES; page++) {
      const response = await call(() =>
        authorized(ctx, (headers) =>
          api(ctx).get<{
            items?: {
              snippet?: { publishedAt?: string; description?: string; resourceId?: { videoId?: string } };
            }[];
            nextPageToken?: string;
          }>('/youtube/v3/playlistItems', {
            params: {
              part: 'snippet',
              playlistId: uploads,
              maxResults: 50,
              ...(pageToken ? { pageToken } : {}),
            },
            headers,
          }),
        ),
      );
      const items = response.data.items ?? [];
      for (const item of items) {
        const id = item.snippet?.resourceId?.videoId;
        if (id && textFingerprint(item.snippet?.description ?? '') === wanted)
          return { remoteId: id, url: watchUrl(id, short) };
      }
      const oldest = items.at(-1)?.snippet?.publishedAt;
      // Newest first: once the page reaches before the first attempt, the video is not there.
      if (oldest && Date.parse(oldest) < since) return null;
      pageToken = response.data.nextPageToken;
      if (!pageToken) return null;
    }
    return 'cannot_tell';
  }

  async function fetchMetrics(ctx: PlatformContext, remoteId: string): Promise<DeliveryMetrics> {
    const response = await call(() =>
      authorized(ctx, (headers) =>
        api(ctx).get<{ items?: { statistics?: Record<string, string> }[] }>('/youtube/v3/videos', {
          params: { part: 'statistics', id: remoteId },
          headers,
        }),
      ),
    );
    const statistics = response.data.items?.[0]?.statistics;
    if (!statistics) throw invalid(`YouTube video ${remoteId} not found`);
    const count = (key: string) => (statistics[key] === undefined ? null : Number(statistics[key]));
    return {
      impressions: count('viewCount'),
      likes: count('likeCount'),
      reposts: null,
      replies: count('commentCount'),
      quotes: null,
      clicks: null,
      raw: { ...statistics },
    };
  }

  /** videos.delete; a video that is already gone counts as withdrawn. */
  async function retract(ctx: PlatformContext, request: RetractRequest): Promise<RetractResult> {
    const videoId = request.remoteId ?? (request.remoteUrl ? youtubeVideoId(request.remoteUrl) : null);
    if (!videoId)
      return {
        outcome: 'needs_person',
        message: `Gaung does not know which video it is; delete ${request.remoteUrl ?? 'the video'} in YouTube Studio, then confirm here`,
      };
    try {
      await authorized(ctx, (headers) =>
        api(ctx).delete('/youtube/v3/videos', { params: { id: videoId }, headers }),
      );
    } catch (error) {
      if (isAxiosError(error) && error.response?.status === 404) return { outcome: 'retracted' };
      throw new PlatformError(classifyError(error), { cause: error });
    }
    return { outcome: 'retracted' };
  }

  return {
    platform: 'youtube',
    capabilities,
    credentialsSchema,
    settingsSchema,
    publish,
    findPublished,
    retract,
    fetchMetrics,
    async verifyCredentials(ctx): Promise<AccountInfo> {
      const channel = await myChannel(ctx, api(ctx));
      const settings = settingsSchema.parse(ctx.channel.settings);
      if (settings.channelId && settings.channelId !== channel.id)
        throw new PlatformError({
          kind: 'auth',
          message: `the grant belongs to YouTube channel ${channel.id}, not ${settings.channelId}`,
        });
      return {
        remoteId: channel.id,
        handle: channel.snippet?.customUrl ?? channel.snippet?.title ?? channel.id,
        ...(channel.snippet?.title ? { name: channel.snippet.title } : {}),
      };
    },
    async describeChannel(ctx) {
      const channel = await myChannel(ctx, api(ctx));
      const uploads = channel.contentDetails?.relatedPlaylists?.uploads;
      return { channelId: channel.id, ...(uploads ? { uploadsPlaylistId: uploads } : {}) };
    },
    async refreshCredentials(ctx) {
      const next = await refresh(ctx);
      return { expiresAt: new Date(next.expiresAt) };
    },
    classifyError,
    source: youtubeSource,
  };
}

export const youtubeAdapter = createYoutubeAdapter();

/** The video id in a watch, Shorts or youtu.be address. */
export function youtubeVideoId(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const host = parsed.hostname.replace(/^(www|m)\./, '');
  const id =
    host === 'youtu.be'
      ? parsed.pathname.slice(1)
      : host === 'youtube.com'
        ? (parsed.searchParams.get('v') ?? /^\/(?:shorts|live)\/([^/]+)/.exec(parsed.pathname)?.[1] ?? '')
        : '';
  return /^[A-Za-z0-9_-]{11}$/.test(id) ? id : null;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const piece of stream)
    parts.push(Buffer.isBuffer(piece) ? piece : Buffer.from(piece as Uint8Array));
  return Buffer.concat(parts);
}

function pkcePair(): { codeVerifier: string; codeChallenge: string } {
  const codeVerifier = randomBytes(48).toString('base64url');
  return { codeVerifier, codeChallenge: createHash('sha256').update(codeVerifier).digest('base64url') };
}

/** Step 1 of connecting a YouTube channel: Google's consent URL (web flow, PKCE, offline access). */
export function buildGoogleAuthorizeUrl(
  endpoints: PlatformEndpoints,
  apps: PlatformApps,
  redirectUri: string,
): { url: string; state: string; codeVerifier: string } {
  const app = googleApp(apps);
  const { codeVerifier, codeChallenge } = pkcePair();
  const state = randomBytes(24).toString('base64url');
  const url = new URL(endpoints.googleAuth);
  url.search = new URLSearchParams({
    client_id: app.clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: YOUTUBE_SCOPES.join(' '),
    access_type: 'offline',
    // Asks again even for a returning account, so Google hands out a refresh token every time.
    prompt: 'consent',
    include_granted_scopes: 'true',
    state,
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
  }).toString();
  return { url: url.toString(), state, codeVerifier };
}

/** Step 2: trades the callback's code for tokens and names the channel they belong to. */
export async function exchangeGoogleCode(
  endpoints: PlatformEndpoints,
  apps: PlatformApps,
  callback: { code: string; codeVerifier: string; redirectUri: string },
): Promise<{ credentials: YoutubeCredentials; settings: Record<string, unknown>; account: AccountInfo }> {
  const app = googleApp(apps);
  const answer = await tokenRequest(endpoints, {
    grant_type: 'authorization_code',
    code: callback.code,
    code_verifier: callback.codeVerifier,
    redirect_uri: callback.redirectUri,
    client_id: app.clientId,
    client_secret: app.clientSecret,
  });
  if (!answer.refresh_token) throw invalid('Google granted no refresh token (offline access is required)');
  const granted = new Set((answer.scope ?? '').split(' '));
  const missing = YOUTUBE_SCOPES.filter((scope) => !granted.has(scope));
  if (answer.scope && missing.length > 0)
    throw invalid(`Google granted the channel without ${missing.join(', ')}; allow every permission asked`);
  const creds: YoutubeCredentials = {
    accessToken: answer.access_token,
    refreshToken: answer.refresh_token,
    expiresAt: new Date(Date.now() + answer.expires_in * 1000).toISOString(),
    ...(answer.scope ? { scope: answer.scope } : {}),
  };
  const http = createHttpClient(endpoints.youtube);
  const response = await call(() =>
    http.get<{ items?: ChannelResource[] }>('/youtube/v3/channels', {
      params: { part: 'snippet,contentDetails', mine: true },
      headers: { authorization: `Bearer ${creds.accessToken}` },
    }),
  );
  const channel = response.data.items?.[0];
  if (!channel) throw invalid('this Google account has no YouTube channel');
  const uploads = channel.contentDetails?.relatedPlaylists?.uploads;
  return {
    credentials: creds,
    settings: { channelId: channel.id, ...(uploads ? { uploadsPlaylistId: uploads } : {}) },
    account: {
      remoteId: channel.id,
      handle: channel.snippet?.customUrl ?? channel.snippet?.title ?? channel.id,
      ...(channel.snippet?.title ? { name: channel.snippet.title } : {}),
    },
  };
}
