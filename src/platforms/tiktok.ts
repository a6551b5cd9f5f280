import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { type AxiosResponse, isAxiosError } from 'axios';
import { z } from 'zod';
import {
  TIKTOK_INITS_PER_MINUTE,
  TIKTOK_MAX_PHOTOS,
  TIKTOK_PHOTO_DESCRIPTION_MAX,
  TIKTOK_PHOTO_TITLE_MAX,
  TIKTOK_STATUS_FETCHES_PER_MINUTE,
  TIKTOK_VIDEO_CAPTION_MAX,
} from '../../config/platform-limits';
import { TIKTOK_PRIVACY_LEVELS, type TiktokPrivacyLevel } from '../domain/tiktok';
import { classifyHttpError, createHttpClient, header, retryAfter } from './http';
import { expiringToken, sleep, storeRenewed, withLink } from './shared';
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
  type SourceItem,
} from './types';

/**
 * TikTok through the Content Posting API (Direct Post) with a Login Kit v2 user grant. Before each
 * post the creator's current options are read (`creator_info/query`): the privacy levels this
 * creator may use, whether comments, duets and stitches are off, the longest video allowed; the
 * post goes out only with what the creator allows. A video is sent in chunks to the upload URL the
 * init answers with (or pulled by TikTok from Gaung's signed media URL when the media domain is
 * verified with TikTok); photos are always pulled by URL. TikTok then processes the post: its
 * status is polled until it is published or failed. The publish_id is recorded as soon as the init
 * answers, so a crash is reconciled (and an interrupted upload resumed) through it.
 */

export const TIKTOK_SCOPES = ['user.info.basic', 'video.publish', 'video.upload', 'video.list'] as const;

/** https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide: chunk rules. */
export const TIKTOK_MIN_CHUNK = 5 * 1024 * 1024;
export const TIKTOK_MAX_CHUNK = 64 * 1024 * 1024;
export const TIKTOK_MAX_LAST_CHUNK = 128 * 1024 * 1024;
const TIKTOK_MAX_CHUNKS = 1000;

const credentialsSchema = z.strictObject({
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  expiresAt: z.iso.datetime({ offset: true }),
  /** When the refresh token itself runs out (365 days after the grant). */
  refreshExpiresAt: z.iso.datetime({ offset: true }).optional(),
  openId: z.string().optional(),
  /** Comma-separated, as TikTok grants them. */
  scope: z.string().optional(),
});
type TiktokCredentials = z.infer<typeof credentialsSchema>;

/** The choices the approve screen offers for one delivery, within what the creator allows. */
export const tiktokOptionsSchema = z.strictObject({
  privacyLevel: z.enum(TIKTOK_PRIVACY_LEVELS).optional(),
  allowComment: z.boolean().optional(),
  allowDuet: z.boolean().optional(),
  allowStitch: z.boolean().optional(),
});
export type TiktokOptions = z.infer<typeof tiktokOptionsSchema>;

const settingsSchema = z.strictObject({
  openId: z.string().optional(),
  username: z.string().optional(),
  /**
   * TikTok has not audited Gaung's app: every post goes out SELF_ONLY, to private accounts only,
   * and only a few accounts may post through the app each day.
   */
  unaudited: z.boolean().optional(),
  /** Gaung's media domain is verified with TikTok: videos are pulled from the signed media URL. */
  mediaDomainVerified: z.boolean().optional(),
  /** The channel's standing privacy choice, used when the approve screen made none. */
  privacyLevel: z.enum(TIKTOK_PRIVACY_LEVELS).optional(),
  /**
   * What the creator allowed when the credentials were last verified, for the approve screen; every
   * publish reads it again from TikTok and refuses what is no longer allowed.
   */
  privacyLevelOptions: z.array(z.enum(TIKTOK_PRIVACY_LEVELS)).optional(),
  commentDisabled: z.boolean().optional(),
  duetDisabled: z.boolean().optional(),
  stitchDisabled: z.boolean().optional(),
  maxVideoSeconds: z.number().int().positive().optional(),
});
type TiktokSettings = z.infer<typeof settingsSchema>;

const capabilities: Capabilities = {
  text: false,
  images: true,
  video: true,
  repost: false,
  quote: false,
  metrics: true,
  reconcile: 'search',
  mediaByUrl: true,
  retract: 'person',
  replies: false,
};

/** Access tokens live 24 hours; refresh this long before. */
const REFRESH_MARGIN_MS = 10 * 60_000;
/** After a refused refresh token, how often and how long apart the store is read for a rotated one. */
const ROTATION_LOOKS = 4;
const ROTATION_WAIT_MS = 250;

export interface TiktokAdapterOptions {
  /** Bytes per PUT (5–64 MB as TikTok documents); smaller files go in one chunk. */
  chunkBytes?: number;
  /** Between status fetches while TikTok processes the post. */
  pollIntervalMs?: number;
  /** How long one attempt waits for TikTok to finish; then the outcome is reconciled later. */
  pollTimeoutMs?: number;
  /** Retries of a chunk after a dropped connection. */
  maxResumes?: number;
  resumeDelayMs?: number;
  timeoutMs?: number;
}

/** The answer envelope of every Content Posting API call. */
interface TiktokEnvelope<T> {
  data?: T;
  error?: { code?: string; message?: string; log_id?: string };
}

/** The OAuth token endpoint's own error shape. */
interface OAuthErrorBody {
  error?: string;
  error_description?: string;
}

const codeOf = (response: AxiosResponse | undefined): string | undefined => {
  const error = (response?.data as TiktokEnvelope<unknown> | OAuthErrorBody | undefined)?.error;
  if (typeof error === 'string') return error;
  return error?.code;
};

function describe(response: AxiosResponse): string {
  const body = response.data as TiktokEnvelope<unknown> | OAuthErrorBody | undefined;
  if (body && typeof body.error === 'string')
    return `TikTok answered ${response.status}: ${body.error}${'error_description' in body && body.error_description ? ` (${body.error_description})` : ''}`;
  if (body && typeof body.error === 'object' && body.error)
    return `TikTok answered ${response.status}: ${body.error.code ?? ''}${body.error.message ? ` (${body.error.message})` : ''}`;
  return `TikTok answered ${response.status}`;
}

const DAY_MS = 24 * 3_600_000;

/**
 * error.code together with the HTTP status, as TikTok's error reference lists them
 * (https://developers.tiktok.com/doc/tiktok-api-v2-error-handling and the Direct Post reference).
 */
function classifyError(error: unknown): ErrorClass {
  if (error instanceof PlatformError) return error.classification;
  if (isAxiosError(error) && error.response) {
    const response = error.response;
    const status = response.status;
    const code = codeOf(response);
    const message = describe(response);
    switch (code) {
      case 'rate_limit_exceeded':
        return {
          kind: 'rate_limited',
          until: retryAfter(header(response, 'retry-after')) ?? new Date(Date.now() + 60_000),
          scope: 'channel',
          message,
          httpStatus: status,
        };
      case 'spam_risk_too_many_posts':
        return {
          kind: 'rate_limited',
          until: new Date(Date.now() + DAY_MS),
          scope: 'channel',
          message: `${message}: the account reached TikTok's daily post cap`,
          httpStatus: status,
        };
      case 'reached_active_user_cap':
        return {
          kind: 'rate_limited',
          until: new Date(Date.now() + DAY_MS),
          scope: 'app',
          message: `${message}: TikTok lets only a few accounts post through an unaudited app each day`,
          httpStatus: status,
        };
      case 'spam_risk_user_banned_from_posting':
        return {
          kind: 'invalid',
          message: `${message}: TikTok has banned this account from posting`,
          httpStatus: status,
        };
      case 'unaudited_client_can_only_post_to_private_accounts':
        return {
          kind: 'invalid',
          message: `${message}: Gaung's TikTok app is not audited, so the account must be private`,
          httpStatus: status,
        };
      case 'url_ownership_unverified':
        return {
          kind: 'invalid',
          message: `${message}: Gaung's media domain is not verified with TikTok; turn "media domain verified" off in the channel settings`,
          httpStatus: status,
        };
      case 'privacy_level_option_mismatch':
        return {
          kind: 'invalid',
          message: `${message}: the creator does not allow this privacy level`,
          httpStatus: status,
        };
      case 'access_token_invalid':
        return { kind: 'auth', message, httpStatus: status };
      case 'scope_not_authorized':
      case 'scope_permission_missed':
        return {
          kind: 'auth',
          message: `${message}: connect the channel again and allow every permission asked`,
          httpStatus: status,
        };
      case 'invalid_grant':
        return {
          kind: 'auth',
          message: `${message}: the TikTok grant was revoked or expired; connect the channel again`,
          httpStatus: status,
        };
      case 'invalid_param':
      case 'invalid_params':
      case 'invalid_file_upload':
        return { kind: 'invalid', message, httpStatus: status };
      case 'internal_error':
        return { kind: 'retry', message, httpStatus: status };
    }
  }
  return classifyHttpError(error, describe);
}

const invalid = (message: string) => new PlatformError({ kind: 'invalid', message });

/** A read that changes nothing on TikTok: an unsure outcome is simply retried. */
function asRead(error: unknown): PlatformError {
  const classification = classifyError(error);
  return new PlatformError(
    classification.kind === 'unknown' ? { ...classification, kind: 'retry' } : classification,
    { cause: error },
  );
}

function credentials(ctx: PlatformContext): TiktokCredentials {
  return credentialsSchema.parse(ctx.credentials);
}

function tiktokApp(apps: PlatformApps): { clientKey: string; clientSecret: string } {
  if (!apps.tiktok)
    throw new PlatformError({
      kind: 'auth',
      message: 'no TikTok app configured (GAUNG_TIKTOK_CLIENT_KEY, GAUNG_TIKTOK_CLIENT_SECRET)',
    });
  return apps.tiktok;
}

interface TokenAnswer {
  access_token: string;
  expires_in: number;
  open_id: string;
  refresh_token: string;
  refresh_expires_in: number;
  scope: string;
  token_type: string;
}

/** https://developers.tiktok.com/doc/oauth-user-access-token-management: POST /v2/oauth/token/. */
async function tokenRequest(
  endpoints: PlatformEndpoints,
  form: Record<string, string>,
  signal?: AbortSignal,
): Promise<TokenAnswer> {
  const http = createHttpClient(endpoints.tiktok, { signal });
  try {
    const response = await http.post<TokenAnswer & OAuthErrorBody>(
      '/v2/oauth/token/',
      new URLSearchParams(form).toString(),
      { headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    );
    // TikTok may answer a refused grant with 200 and an error body.
    if (response.data.error)
      throw new PlatformError({
        kind: response.data.error === 'invalid_grant' ? 'auth' : 'invalid',
        message: `${describe(response)}${response.data.error === 'invalid_grant' ? ': connect the channel again' : ''}`,
        httpStatus: response.status,
      });
    return response.data;
  } catch (error) {
    if (error instanceof PlatformError) throw error;
    throw new PlatformError(classifyError(error), { cause: error });
  }
}

function fromAnswer(answer: TokenAnswer, previous?: TiktokCredentials): TiktokCredentials {
  const now = Date.now();
  return {
    accessToken: answer.access_token,
    refreshToken: answer.refresh_token ?? previous?.refreshToken,
    expiresAt: new Date(now + answer.expires_in * 1000).toISOString(),
    ...(answer.refresh_expires_in
      ? { refreshExpiresAt: new Date(now + answer.refresh_expires_in * 1000).toISOString() }
      : previous?.refreshExpiresAt
        ? { refreshExpiresAt: previous.refreshExpiresAt }
        : {}),
    ...((answer.open_id ?? previous?.openId) ? { openId: answer.open_id ?? previous?.openId } : {}),
    ...((answer.scope ?? previous?.scope) ? { scope: answer.scope ?? previous?.scope } : {}),
  };
}

/**
 * Renews the access token. TikTok may rotate the refresh token on use: the new pair is stored with
 * a compare-and-set, and a refused refresh token is checked against the store first (another worker
 * may have rotated it a moment ago).
 */
async function refresh(ctx: PlatformContext): Promise<TiktokCredentials> {
  const current = credentials(ctx);
  const app = tiktokApp(ctx.apps);
  let answer: TokenAnswer;
  try {
    answer = await tokenRequest(
      ctx.endpoints,
      {
        client_key: app.clientKey,
        client_secret: app.clientSecret,
        grant_type: 'refresh_token',
        refresh_token: current.refreshToken,
      },
      ctx.signal,
    );
  } catch (error) {
    if (!(error instanceof PlatformError) || error.classification.kind !== 'auth') throw error;
    // The worker that won the rotation may still be storing its pair: look a few times.
    for (let look = 0; look < ROTATION_LOOKS; look++) {
      if (look > 0) await sleep(ROTATION_WAIT_MS, ctx.signal);
      const stored = credentialsSchema.parse(await ctx.reloadCredentials());
      if (stored.refreshToken !== current.refreshToken) return tokens.fresh(stored) ? stored : refresh(ctx);
    }
    throw error;
  }
  return storeRenewed(ctx, fromAnswer(answer, current), (stored) => credentialsSchema.parse(stored));
}

/** Requests with a fresh token; an access_token_invalid refreshes once and tries again. */
const tokens = expiringToken({
  credentials,
  refresh,
  marginMs: REFRESH_MARGIN_MS,
  refused: (error) => isAxiosError(error) && codeOf(error.response) === 'access_token_invalid',
});
const { authorized } = tokens;

/** https://developers.tiktok.com/doc/content-posting-api-reference-query-creator-info */
export interface CreatorInfo {
  creator_avatar_url?: string;
  creator_username?: string;
  creator_nickname?: string;
  privacy_level_options: TiktokPrivacyLevel[];
  comment_disabled: boolean;
  duet_disabled: boolean;
  stitch_disabled: boolean;
  max_video_post_duration_sec: number;
}

interface StatusAnswer {
  status: 'PROCESSING_UPLOAD' | 'PROCESSING_DOWNLOAD' | 'SEND_TO_USER_INBOX' | 'PUBLISH_COMPLETE' | 'FAILED';
  fail_reason?: string;
  publicaly_available_post_id?: (number | string)[];
  uploaded_bytes?: number;
  downloaded_bytes?: number;
}

/** What is recorded once the init answered: enough to find the post, or finish its upload, later. */
interface Checkpoint {
  publishId: string;
  uploadUrl?: string;
  videoBytes?: number;
  chunkBytes?: number;
}

/** How a video of `total` bytes is cut: TikTok's chunk rules for FILE_UPLOAD. */
export function tiktokChunking(total: number, preferred: number): { chunkSize: number; count: number } {
  const size = Math.min(Math.max(preferred, TIKTOK_MIN_CHUNK), TIKTOK_MAX_CHUNK);
  // Under 5 MB, and up to one chunk's size, the whole file is one chunk.
  if (total <= size) return { chunkSize: total, count: 1 };
  const count = Math.floor(total / size);
  if (total - (count - 1) * size > TIKTOK_MAX_LAST_CHUNK || count > TIKTOK_MAX_CHUNKS)
    throw invalid('TikTok cannot take a video this large in chunks');
  return { chunkSize: size, count };
}

/** UTF-16 code units, as TikTok counts its "runes". */
const runes = (text: string) => text.length;

function cut(text: string, max: number): string {
  if (runes(text) <= max) return text;
  const chars = Array.from(text);
  let out = '';
  for (const char of chars) {
    if (runes(out) + char.length > max - 1) break;
    out += char;
  }
  return `${out}…`;
}

/** A photo post's title: the first line, within 90 runes. */
export function tiktokPhotoTitle(text: string): string {
  const line = text.split('\n').find((l) => l.trim().length > 0) ?? '';
  return cut(line.trim(), TIKTOK_PHOTO_TITLE_MAX);
}

export const tiktokVideoUrl = (username: string | undefined, id: string) =>
  username ? `https://www.tiktok.com/@${username}/video/${id}` : null;

function splitMedia(media: PublishMedia[]): { video: PublishMedia } | { photos: PublishMedia[] } {
  const videos = media.filter((m) => m.kind === 'video');
  const photos = media.filter((m) => m.kind === 'image');
  if (videos.length > 0 && photos.length > 0) throw invalid('TikTok takes one video or photos, not both');
  if (videos.length > 1) throw invalid('TikTok takes one video per post');
  if (videos.length === 1) return { video: videos[0]! };
  if (photos.length === 0) throw invalid('TikTok needs a video or photos');
  if (photos.length > TIKTOK_MAX_PHOTOS) throw invalid(`TikTok takes at most ${TIKTOK_MAX_PHOTOS} photos`);
  return { photos };
}

/**
 * The privacy level and interactions a post goes out with: the delivery's choice, else the channel's
 * standing one; never more than the creator allows; SELF_ONLY for an unaudited app.
 */
export function tiktokPostChoices(
  creator: CreatorInfo,
  settings: { unaudited?: boolean; privacyLevel?: TiktokPrivacyLevel },
  options: TiktokOptions,
): {
  privacyLevel: TiktokPrivacyLevel;
  disableComment: boolean;
  disableDuet: boolean;
  disableStitch: boolean;
} {
  const privacyLevel: TiktokPrivacyLevel | undefined = settings.unaudited
    ? 'SELF_ONLY'
    : (options.privacyLevel ?? settings.privacyLevel);
  if (!privacyLevel)
    throw invalid(
      'Choose who may see this TikTok post on the approve screen (TikTok requires a choice for every post)',
    );
  if (!creator.privacy_level_options.includes(privacyLevel))
    throw invalid(
      `The TikTok account does not allow the privacy level ${privacyLevel} now (it allows ${creator.privacy_level_options.join(', ')})`,
    );
  return {
    privacyLevel,
    disableComment: creator.comment_disabled || options.allowComment === false,
    disableDuet: creator.duet_disabled || options.allowDuet === false,
    disableStitch: creator.stitch_disabled || options.allowStitch === false,
  };
}

/** The creator's current options, kept in the channel's settings for the approve screen. */
function creatorSettings(creator: CreatorInfo): Partial<TiktokSettings> {
  return {
    privacyLevelOptions: creator.privacy_level_options.filter((level): level is TiktokPrivacyLevel =>
      (TIKTOK_PRIVACY_LEVELS as readonly string[]).includes(level),
    ),
    commentDisabled: creator.comment_disabled,
    duetDisabled: creator.duet_disabled,
    stitchDisabled: creator.stitch_disabled,
    maxVideoSeconds: creator.max_video_post_duration_sec,
  };
}

class UploadExpired extends Error {}

/** A source's settings carry its address (url, handle, account id) besides the channel's: read leniently. */
const sourceSettings = z.object({ username: z.string().optional() });

/** Video list pages one source read may take. */
const SOURCE_PAGES = 5;

/** https://developers.tiktok.com/doc/tiktok-api-v2-video-object */
interface TiktokVideo {
  id: string;
  create_time?: number;
  title?: string;
  video_description?: string;
  share_url?: string;
  cover_image_url?: string;
}

/** One of the office's videos as a copy: its description and share link, its cover as the image. */
function sourceItem(video: TiktokVideo, username: string | undefined): SourceItem {
  const url = video.share_url ?? tiktokVideoUrl(username, video.id);
  const description = (video.video_description || video.title || '').trim();
  const publishedAt = video.create_time ? new Date(video.create_time * 1000) : null;
  return {
    key: video.id,
    url,
    publishedAt,
    text: url ? (description ? `${description}\n\n${url}` : url) : description,
    media: video.cover_image_url
      ? [{ url: video.cover_image_url, kind: 'image', altText: video.title ?? description.slice(0, 200) }]
      : [],
    origin: {
      platform: 'tiktok',
      nativeId: video.id,
      url,
      authorHandle: username ? `@${username}` : null,
      publishedAt: (publishedAt ?? new Date()).toISOString(),
    },
    kind: 'post',
  };
}

export function createTiktokAdapter(options: TiktokAdapterOptions = {}): PlatformAdapter {
  const chunkBytes = options.chunkBytes ?? 16 * 1024 * 1024;
  if (chunkBytes < TIKTOK_MIN_CHUNK || chunkBytes > TIKTOK_MAX_CHUNK)
    throw new Error('chunkBytes must be between 5 MB and 64 MB');
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const pollTimeoutMs = options.pollTimeoutMs ?? 10 * 60_000;
  const maxResumes = options.maxResumes ?? 5;
  const resumeDelayMs = options.resumeDelayMs ?? 1_000;

  const api = (ctx: PlatformContext) =>
    createHttpClient(ctx.endpoints.tiktok, { signal: ctx.signal, timeoutMs: options.timeoutMs });

  const budget = (ctx: PlatformContext, what: 'init' | 'status') =>
    ctx.callSlot?.(
      what === 'init'
        ? { id: `tiktok-init:${ctx.channel.id}`, max: TIKTOK_INITS_PER_MINUTE, windowMs: 60_000 }
        : { id: `tiktok-status:${ctx.channel.id}`, max: TIKTOK_STATUS_FETCHES_PER_MINUTE, windowMs: 60_000 },
    );

  /** POST with a JSON body; TikTok's envelope is unwrapped into its data. */
  async function post<T>(
    ctx: PlatformContext,
    path: string,
    body: unknown,
    params?: Record<string, string>,
  ): Promise<T> {
    const response = await authorized(ctx, (headers) =>
      api(ctx).post<TiktokEnvelope<T>>(path, body, {
        params,
        transformResponse: parseKeepingIds,
        headers: { ...headers, 'content-type': 'application/json; charset=UTF-8' },
      }),
    );
    const error = response.data.error;
    if (error?.code && error.code !== 'ok')
      throw new PlatformError({ kind: 'invalid', message: describe(response), httpStatus: response.status });
    return response.data.data as T;
  }

  async function creatorInfo(ctx: PlatformContext): Promise<CreatorInfo> {
    try {
      return await post<CreatorInfo>(ctx, '/v2/post/publish/creator_info/query/', {});
    } catch (error) {
      throw asRead(error);
    }
  }

  async function fetchStatus(ctx: PlatformContext, publishId: string): Promise<StatusAnswer> {
    await budget(ctx, 'status');
    try {
      return await post<StatusAnswer>(ctx, '/v2/post/publish/status/fetch/', { publish_id: publishId });
    } catch (error) {
      throw asRead(error);
    }
  }

  function outcome(ctx: PlatformContext, publishId: string, status: StatusAnswer): PublishResult {
    const settings = settingsSchema.parse(ctx.channel.settings);
    const postId = status.publicaly_available_post_id?.[0];
    // A private post gets no public id: the publish_id is all TikTok gives.
    if (postId === undefined) return { remoteId: publishId, url: null };
    const id = String(postId);
    return { remoteId: id, url: tiktokVideoUrl(settings.username, id) };
  }

  /** Polls until TikTok has published or refused the post; an unfinished wait is unsure. */
  async function waitForOutcome(ctx: PlatformContext, publishId: string): Promise<PublishResult> {
    const deadline = Date.now() + pollTimeoutMs;
    for (;;) {
      const status = await fetchStatus(ctx, publishId);
      if (status.status === 'PUBLISH_COMPLETE') return outcome(ctx, publishId, status);
      if (status.status === 'FAILED')
        throw invalid(`TikTok did not publish the post: ${status.fail_reason ?? 'no reason given'}`);
      if (Date.now() >= deadline)
        throw new PlatformError({
          kind: 'unknown',
          message: `TikTok was still processing the post (${status.status}) after ${Math.round(pollTimeoutMs / 1000)} s`,
        });
      await sleep(pollIntervalMs, ctx.signal);
    }
  }

  /** An init: the one call that creates something on TikTok. A lost answer is unsure. */
  async function init<T>(ctx: PlatformContext, path: string, body: unknown): Promise<T> {
    await budget(ctx, 'init');
    try {
      return await post<T>(ctx, path, body);
    } catch (error) {
      if (error instanceof PlatformError) throw error;
      throw new PlatformError(classifyError(error), { cause: error });
    }
  }

  /** PUTs the chunks from `offset` on, in order; a dropped connection asks the status how much TikTok holds. */
  async function upload(
    ctx: PlatformContext,
    checkpoint: Required<Pick<Checkpoint, 'publishId' | 'uploadUrl' | 'videoBytes' | 'chunkBytes'>>,
    video: PublishMedia,
    offset: number,
  ): Promise<void> {
    const { uploadUrl, videoBytes: total, chunkBytes: size } = checkpoint;
    const count = size >= total ? 1 : Math.floor(total / size);
    let position = offset;
    let resumes = 0;
    while (position < total) {
      try {
        const index = Math.floor(position / size);
        const end = index === count - 1 ? total : position + size;
        const bytes = await readRange(await video.open(), position, end);
        await createHttpClient(uploadUrl, { signal: ctx.signal, timeoutMs: options.timeoutMs }).put(
          '',
          bytes,
          {
            headers: {
              'content-type': video.mime,
              'content-length': String(bytes.length),
              'content-range': `bytes ${position}-${end - 1}/${total}`,
            },
          },
        );
        position = end;
      } catch (error) {
        if (isAxiosError(error) && (error.response?.status === 404 || error.response?.status === 410))
          throw new UploadExpired();
        const classification = classifyError(error);
        if (classification.kind !== 'unknown' && classification.kind !== 'retry')
          throw new PlatformError(classification, { cause: error });
        resumes += 1;
        if (resumes > maxResumes)
          throw new PlatformError(
            { kind: 'unknown', message: `the TikTok upload kept breaking off (${classification.message})` },
            { cause: error },
          );
        await sleep(resumeDelayMs * resumes, ctx.signal);
        // Resume where TikTok's copy ends: a chunk that arrived before the drop is not sent again.
        const status = await fetchStatus(ctx, checkpoint.publishId);
        const held = status.uploaded_bytes ?? 0;
        if (status.status !== 'PROCESSING_UPLOAD' || held >= total) return;
        // TikTok holds whole chunks only: its count is where the next chunk starts.
        position = Math.floor(held / size) * size;
      }
    }
  }

  async function publishVideo(
    ctx: PlatformContext,
    request: PublishRequest,
    video: PublishMedia,
    settings: TiktokSettings,
    choices: ReturnType<typeof tiktokPostChoices>,
  ): Promise<PublishResult> {
    const caption = withLink(request.text, request.link);
    if (runes(caption) > TIKTOK_VIDEO_CAPTION_MAX)
      throw invalid(`TikTok captions hold ${TIKTOK_VIDEO_CAPTION_MAX} characters`);
    const postInfo = {
      title: caption,
      privacy_level: choices.privacyLevel,
      disable_comment: choices.disableComment,
      disable_duet: choices.disableDuet,
      disable_stitch: choices.disableStitch,
    };
    if (settings.mediaDomainVerified) {
      const answer = await init<{ publish_id: string }>(ctx, '/v2/post/publish/video/init/', {
        post_info: postInfo,
        source_info: { source: 'PULL_FROM_URL', video_url: video.publicUrl() },
      });
      await request.checkpoint?.save({ publishId: answer.publish_id });
      return waitForOutcome(ctx, answer.publish_id);
    }
    const { chunkSize, count } = tiktokChunking(video.bytes, chunkBytes);
    const answer = await init<{ publish_id: string; upload_url: string }>(
      ctx,
      '/v2/post/publish/video/init/',
      {
        post_info: postInfo,
        source_info: {
          source: 'FILE_UPLOAD',
          video_size: video.bytes,
          chunk_size: chunkSize,
          total_chunk_count: count,
        },
      },
    );
    const checkpoint = {
      publishId: answer.publish_id,
      uploadUrl: answer.upload_url,
      videoBytes: video.bytes,
      chunkBytes: chunkSize,
    };
    await request.checkpoint?.save(checkpoint);
    await upload(ctx, checkpoint, video, 0);
    return waitForOutcome(ctx, answer.publish_id);
  }

  async function publishPhotos(
    ctx: PlatformContext,
    request: PublishRequest,
    photos: PublishMedia[],
    choices: ReturnType<typeof tiktokPostChoices>,
  ): Promise<PublishResult> {
    const description = withLink(request.text, request.link);
    if (runes(description) > TIKTOK_PHOTO_DESCRIPTION_MAX)
      throw invalid(`TikTok photo descriptions hold ${TIKTOK_PHOTO_DESCRIPTION_MAX} characters`);
    const answer = await init<{ publish_id: string }>(ctx, '/v2/post/publish/content/init/', {
      post_info: {
        title: tiktokPhotoTitle(request.text),
        description,
        privacy_level: choices.privacyLevel,
        disable_comment: choices.disableComment,
        auto_add_music: true,
      },
      source_info: {
        source: 'PULL_FROM_URL',
        photo_cover_index: 0,
        photo_images: photos.map((photo) => photo.publicUrl()),
      },
      post_mode: 'DIRECT_POST',
      media_type: 'PHOTO',
    });
    await request.checkpoint?.save({ publishId: answer.publish_id });
    return waitForOutcome(ctx, answer.publish_id);
  }

  /**
   * Carries on with what an earlier attempt started: a finished post is the result, a post still in
   * processing is waited for, an interrupted upload is resumed from TikTok's count. Null: start anew.
   */
  async function carryOn(
    ctx: PlatformContext,
    request: PublishRequest,
    saved: Checkpoint,
  ): Promise<PublishResult | null> {
    const status = await fetchStatus(ctx, saved.publishId);
    if (status.status === 'PUBLISH_COMPLETE') return outcome(ctx, saved.publishId, status);
    if (status.status === 'FAILED') return null;
    const video = request.media.find((m) => m.kind === 'video');
    if (
      status.status === 'PROCESSING_UPLOAD' &&
      saved.uploadUrl &&
      saved.videoBytes &&
      saved.chunkBytes &&
      video &&
      video.bytes === saved.videoBytes &&
      (status.uploaded_bytes ?? 0) < saved.videoBytes
    ) {
      const done = status.uploaded_bytes ?? 0;
      try {
        await upload(
          ctx,
          {
            publishId: saved.publishId,
            uploadUrl: saved.uploadUrl,
            videoBytes: saved.videoBytes,
            chunkBytes: saved.chunkBytes,
          },
          video,
          Math.floor(done / saved.chunkBytes) * saved.chunkBytes,
        );
      } catch (error) {
        // An upload URL lives an hour; an unfinished upload publishes nothing, so a new one is safe.
        if (error instanceof UploadExpired) return null;
        throw error;
      }
    }
    return waitForOutcome(ctx, saved.publishId);
  }

  async function publish(ctx: PlatformContext, request: PublishRequest): Promise<PublishResult> {
    const settings = settingsSchema.parse(ctx.channel.settings);
    const choice = tiktokOptionsSchema.safeParse(request.options ?? {});
    if (!choice.success) throw invalid('The TikTok choices recorded for this delivery are not valid');
    const media = splitMedia(request.media);
    const saved = request.checkpoint?.saved as Checkpoint | null | undefined;
    if (saved?.publishId) {
      const carried = await carryOn(ctx, request, saved);
      if (carried) return carried;
    }
    const creator = await creatorInfo(ctx);
    const choices = tiktokPostChoices(creator, settings, choice.data);
    if ('photos' in media) return publishPhotos(ctx, request, media.photos, choices);
    const seconds = media.video.durationMs === null ? null : media.video.durationMs / 1000;
    if (seconds !== null && seconds > creator.max_video_post_duration_sec)
      throw invalid(
        `This TikTok account posts videos of up to ${creator.max_video_post_duration_sec} seconds; this one lasts ${Math.ceil(seconds)}`,
      );
    try {
      return await publishVideo(ctx, request, media.video, settings, choices);
    } catch (error) {
      if (error instanceof UploadExpired)
        throw new PlatformError({
          kind: 'retry',
          message: 'the TikTok upload URL expired before the upload ended',
        });
      throw error;
    }
  }

  async function findPublished(
    ctx: PlatformContext,
    request: PublishRequest,
  ): Promise<PublishResult | null | 'cannot_tell'> {
    const saved = request.checkpoint?.saved as Checkpoint | null | undefined;
    // An init whose answer was lost left no publish_id: TikTok offers no way to look the post up.
    if (!saved?.publishId) return 'cannot_tell';
    const status = await fetchStatus(ctx, saved.publishId);
    if (status.status === 'PUBLISH_COMPLETE') return outcome(ctx, saved.publishId, status);
    if (status.status === 'FAILED') return null;
    // Still uploading or processing: the next attempt carries on with the same publish_id.
    return null;
  }

  async function fetchMetrics(ctx: PlatformContext, remoteId: string): Promise<DeliveryMetrics> {
    const scope = credentials(ctx).scope;
    if (scope && !scope.split(',').includes('video.list'))
      throw new PlatformError({
        kind: 'auth',
        message: 'the TikTok grant lacks video.list; connect the channel again to read metrics',
      });
    if (!/^\d+$/.test(remoteId))
      throw invalid('TikTok gives metrics of public posts only; this post has no public id');
    let videos: Record<string, unknown>[];
    try {
      const data = await post<{ videos?: Record<string, unknown>[] }>(
        ctx,
        '/v2/video/query/',
        { filters: { video_ids: [remoteId] } },
        { fields: 'id,view_count,like_count,comment_count,share_count' },
      );
      videos = data.videos ?? [];
    } catch (error) {
      throw asRead(error);
    }
    const video = videos.find((v) => String(v.id) === remoteId);
    if (!video) throw invalid(`TikTok video ${remoteId} not found`);
    const count = (key: string) => (typeof video[key] === 'number' ? (video[key] as number) : null);
    return {
      impressions: count('view_count'),
      likes: count('like_count'),
      reposts: count('share_count'),
      replies: count('comment_count'),
      quotes: null,
      clicks: null,
      raw: { ...video },
    };
  }

  /** TikTok's API has no delete: a person removes the post in the app. */
  async function retract(_ctx: PlatformContext, request: RetractRequest): Promise<RetractResult> {
    const where = request.remoteUrl ?? "the post (find it on the account's profile)";
    return {
      outcome: 'needs_person',
      message: `TikTok's API cannot delete posts. In the TikTok app, open ${where}, tap ⋯ (More), choose Delete and confirm; then confirm here that it is gone.`,
    };
  }

  async function account(ctx: PlatformContext): Promise<{ account: AccountInfo; creator: CreatorInfo }> {
    const creator = await creatorInfo(ctx);
    let openId = credentials(ctx).openId;
    if (!openId) {
      try {
        const response = await authorized(ctx, (headers) =>
          api(ctx).get<TiktokEnvelope<{ user?: { open_id?: string; display_name?: string } }>>(
            '/v2/user/info/',
            {
              params: { fields: 'open_id,display_name' },
              headers,
            },
          ),
        );
        openId = response.data.data?.user?.open_id;
      } catch (error) {
        throw asRead(error);
      }
    }
    const handle = creator.creator_username ?? creator.creator_nickname ?? openId ?? 'tiktok';
    return {
      creator,
      account: {
        remoteId: openId ?? handle,
        handle: creator.creator_username ? `@${creator.creator_username}` : handle,
        ...(creator.creator_nickname ? { name: creator.creator_nickname } : {}),
      },
    };
  }

  /**
   * The office's own videos, newest first (`POST /v2/video/list/`, scope video.list): each a copy
   * with the video's share link, its cover as the image. The cursor is the newest create_time read.
   */
  async function readSource(
    ctx: PlatformContext,
    request: { cursor: string | null; since: Date; limit: number },
  ): Promise<{ items: SourceItem[]; cursor: string | null }> {
    const after = Math.max(
      request.cursor ? Number(request.cursor) : 0,
      Math.floor(request.since.getTime() / 1000),
    );
    const { username } = sourceSettings.parse(ctx.channel.settings);
    const items: SourceItem[] = [];
    let newest = request.cursor ? Number(request.cursor) : null;
    let cursor: number | undefined;
    try {
      for (let page = 0; page < SOURCE_PAGES && items.length < request.limit; page++) {
        const data = await post<{ videos?: TiktokVideo[]; cursor?: number; has_more?: boolean }>(
          ctx,
          '/v2/video/list/',
          {
            max_count: Math.min(20, Math.max(1, request.limit - items.length)),
            ...(cursor ? { cursor } : {}),
          },
          { fields: 'id,create_time,title,video_description,share_url,cover_image_url' },
        );
        const videos = data.videos ?? [];
        let reachedOld = false;
        for (const video of videos) {
          const created = Number(video.create_time ?? 0);
          if (created <= after) {
            reachedOld = true;
            break;
          }
          newest = Math.max(newest ?? 0, created);
          if (items.length < request.limit) items.push(sourceItem(video, username));
        }
        if (reachedOld || !data.has_more || data.cursor === undefined) break;
        cursor = data.cursor;
      }
    } catch (error) {
      throw asRead(error);
    }
    return { items, cursor: newest === null ? request.cursor : String(newest) };
  }

  async function originExists(ctx: PlatformContext, origin: { nativeId: string }): Promise<boolean> {
    try {
      const data = await post<{ videos?: TiktokVideo[] }>(
        ctx,
        '/v2/video/query/',
        { filters: { video_ids: [origin.nativeId] } },
        { fields: 'id' },
      );
      return (data.videos ?? []).some((video) => String(video.id) === origin.nativeId);
    } catch (error) {
      throw asRead(error);
    }
  }

  return {
    platform: 'tiktok',
    capabilities,
    source: { readSource, originExists },
    credentialsSchema,
    settingsSchema,
    publish,
    findPublished,
    retract,
    fetchMetrics,
    async verifyCredentials(ctx) {
      return (await account(ctx)).account;
    },
    async describeChannel(ctx) {
      const { account: who, creator } = await account(ctx);
      return {
        openId: who.remoteId,
        ...(creator.creator_username ? { username: creator.creator_username } : {}),
        ...creatorSettings(creator),
      };
    },
    async refreshCredentials(ctx) {
      const next = await refresh(ctx);
      return { expiresAt: new Date(next.expiresAt) };
    },
    classifyError,
  };
}

export const tiktokAdapter = createTiktokAdapter();

/**
 * JSON.parse, keeping TikTok's int64 post ids (`publicaly_available_post_id`, numbers in the JSON)
 * as strings: they are larger than a JavaScript number holds exactly.
 */
export function parseKeepingIds(raw: unknown): unknown {
  if (typeof raw !== 'string' || raw.length === 0) return raw;
  const quoted = raw.replace(
    /("publicaly_available_post_id"\s*:\s*\[)([^\]]*)\]/g,
    (_all, head: string, list: string) => `${head}${list.replace(/-?\d+/g, (n) => `"${n}"`)}]`,
  );
  try {
    return JSON.parse(quoted);
  } catch {
    return raw;
  }
}

/** Reads [start, end) of a stream. */
async function readRange(stream: Readable, start: number, end: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let position = 0;
  for await (const piece of stream) {
    const data = Buffer.isBuffer(piece) ? piece : Buffer.from(piece as Uint8Array);
    const from = Math.max(start - position, 0);
    const to = Math.min(end - position, data.length);
    if (to > from) parts.push(data.subarray(from, to));
    position += data.length;
    if (position >= end) break;
  }
  stream.destroy();
  return Buffer.concat(parts);
}

/**
 * TikTok's PKCE challenge: the SHA-256 of the verifier, hex-encoded (TikTok's Login Kit reference;
 * not the base64url of RFC 7636).
 */
export function tiktokCodeChallenge(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier).digest('hex');
}

/** Step 1 of connecting a TikTok account: Login Kit v2's consent URL (web, PKCE). */
export function buildTiktokAuthorizeUrl(
  endpoints: PlatformEndpoints,
  apps: PlatformApps,
  redirectUri: string,
): { url: string; state: string; codeVerifier: string } {
  const app = tiktokApp(apps);
  // Unreserved characters only, 43–128 long.
  const codeVerifier = randomBytes(48).toString('base64url');
  const state = randomBytes(24).toString('base64url');
  const url = new URL(endpoints.tiktokAuth);
  url.search = new URLSearchParams({
    client_key: app.clientKey,
    scope: TIKTOK_SCOPES.join(','),
    response_type: 'code',
    redirect_uri: redirectUri,
    state,
    code_challenge: tiktokCodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  }).toString();
  return { url: url.toString(), state, codeVerifier };
}

/** Step 2: trades the callback's code for tokens and names the account they belong to. */
export async function exchangeTiktokCode(
  endpoints: PlatformEndpoints,
  apps: PlatformApps,
  callback: { code: string; codeVerifier: string; redirectUri: string },
): Promise<{ credentials: TiktokCredentials; settings: Record<string, unknown>; account: AccountInfo }> {
  const app = tiktokApp(apps);
  const answer = await tokenRequest(endpoints, {
    client_key: app.clientKey,
    client_secret: app.clientSecret,
    code: callback.code,
    grant_type: 'authorization_code',
    redirect_uri: callback.redirectUri,
    code_verifier: callback.codeVerifier,
  });
  const granted = new Set((answer.scope ?? '').split(','));
  const missing = TIKTOK_SCOPES.filter((scope) => scope !== 'video.list' && !granted.has(scope));
  if (missing.length > 0)
    throw invalid(`TikTok granted the account without ${missing.join(', ')}; allow every permission asked`);
  const creds = fromAnswer(answer);
  const http = createHttpClient(endpoints.tiktok);
  let creator: CreatorInfo;
  try {
    const response = await http.post<TiktokEnvelope<CreatorInfo>>(
      '/v2/post/publish/creator_info/query/',
      {},
      {
        headers: {
          authorization: `Bearer ${creds.accessToken}`,
          'content-type': 'application/json; charset=UTF-8',
        },
      },
    );
    creator = response.data.data!;
  } catch (error) {
    throw new PlatformError(classifyError(error), { cause: error });
  }
  return {
    credentials: creds,
    settings: {
      openId: answer.open_id,
      ...(creator.creator_username ? { username: creator.creator_username } : {}),
      ...creatorSettings(creator),
    },
    account: {
      remoteId: answer.open_id,
      handle: creator.creator_username ? `@${creator.creator_username}` : answer.open_id,
      ...(creator.creator_nickname ? { name: creator.creator_nickname } : {}),
    },
  };
}
