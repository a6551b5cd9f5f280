import { isAxiosError } from 'axios';
import { z } from 'zod';
import { lazyFeedParser } from './feeds';
import { classifyHttpError, createHttpClient } from './http';
import { SOURCE_ANSWER_MAX_BYTES, withLink } from './shared';
import { formatTimeCursor, getSourceJson, oversized, parseTimeCursor, readClass } from './source-read';
import {
  type ErrorClass,
  type PlatformContext,
  PlatformError,
  type PostOrigin,
  type SourceItem,
  type SourceReader,
  type SourceReadRequest,
  type SourceReadResult,
} from './types';

/**
 * An office's YouTube channel as a source. New videos and Shorts come from the channel's public
 * Atom feed (`/feeds/videos.xml?channel_id=…`, its latest 15 uploads); where the source has OAuth
 * tokens, or the operator configured the project's API key (GAUNG_YOUTUBE_API_KEY), the Data API
 * (`videos.list`) adds the full description and the duration, and tells whether a video still exists.
 * The video file cannot be downloaded through any API, so an item is a copy whose text carries the
 * video's link and whose one medium is the video's thumbnail (an image).
 */

const settings = z.object({
  channelId: z.string().regex(/^UC[A-Za-z0-9_-]{22}$/, 'a YouTube channel id (UC…)'),
});
const credentials = z.object({ accessToken: z.string().min(1).optional() });

const DEFAULT_FEEDS = 'https://www.youtube.com';
/** videos.list takes at most 50 ids. */
const VIDEOS_PER_CALL = 50;

/** The channel feed parser. */
const feedParser = lazyFeedParser(['entry', 'link']);

type Node = Record<string, unknown>;
const text = (node: unknown): string =>
  typeof node === 'string'
    ? node
    : node && typeof node === 'object'
      ? String((node as Node)['#text'] ?? '')
      : '';

interface FeedVideo {
  id: string;
  title: string;
  description: string;
  link: string;
  published: number;
  thumbnail: string | null;
  author: string | null;
}

function parseChannelFeed(xml: string): FeedVideo[] {
  let document: Node;
  try {
    document = feedParser().parse(xml) as Node;
  } catch {
    throw new PlatformError({ kind: 'retry', message: 'YouTube sent a channel feed that is not XML' });
  }
  const feed = document.feed as Node | undefined;
  if (!feed || typeof feed !== 'object')
    throw new PlatformError({ kind: 'retry', message: 'YouTube sent something other than an Atom feed' });
  return ((feed.entry as Node[] | undefined) ?? []).flatMap((entry) => {
    const id = text(entry['yt:videoId']);
    const published = Date.parse(text(entry.published));
    if (!/^[A-Za-z0-9_-]{11}$/.test(id) || !Number.isFinite(published)) return [];
    const group = (entry['media:group'] ?? {}) as Node;
    const alternate = ((entry.link as Node[] | undefined) ?? []).find((l) => l['@_rel'] === 'alternate');
    const thumbnail = (group['media:thumbnail'] as Node | undefined)?.['@_url'];
    return [
      {
        id,
        title: text(entry.title),
        description: text(group['media:description']),
        link: String(alternate?.['@_href'] ?? `https://www.youtube.com/watch?v=${id}`),
        published,
        thumbnail: typeof thumbnail === 'string' ? thumbnail : null,
        author: text((entry.author as Node | undefined)?.name) || null,
      },
    ];
  });
}

interface ApiVideo {
  id: string;
  snippet?: {
    title?: string;
    description?: string;
    thumbnails?: Record<string, { url?: string } | undefined>;
  };
  contentDetails?: { duration?: string };
}

/** Google's errors: the reason decides (quotaExceeded waits for the quota day, authError needs reauth). */
function classifyGoogle(error: unknown): ErrorClass {
  if (isAxiosError(error) && error.response) {
    const body = error.response.data as
      | { error?: { errors?: { reason?: string }[]; message?: string } }
      | undefined;
    const reason = body?.error?.errors?.[0]?.reason;
    const message = `YouTube: ${body?.error?.message ?? `HTTP ${error.response.status}`}`;
    if (reason === 'quotaExceeded' || reason === 'rateLimitExceeded' || reason === 'userRateLimitExceeded')
      return { kind: 'rate_limited', until: new Date(Date.now() + 60 * 60_000), scope: 'app', message };
    if (error.response.status === 401) return { kind: 'auth', message };
  }
  return classifyHttpError(error);
}

/** The Data API's view of the videos, where the source has a token or key; empty otherwise. */
async function describeVideos(ctx: PlatformContext, ids: string[]): Promise<Map<string, ApiVideo> | null> {
  const { accessToken } = credentials.parse(ctx.credentials);
  const apiKey = ctx.apps.youtube?.apiKey;
  if (!accessToken && !apiKey) return null;
  const api = createHttpClient(ctx.endpoints.youtube, { signal: ctx.signal });
  const found = new Map<string, ApiVideo>();
  for (let i = 0; i < ids.length; i += VIDEOS_PER_CALL) {
    const { data } = await getSourceJson<{ items?: ApiVideo[] }>(api, '/youtube/v3/videos', {
      platform: 'YouTube',
      params: {
        part: 'snippet,contentDetails',
        id: ids.slice(i, i + VIDEOS_PER_CALL).join(','),
        maxResults: VIDEOS_PER_CALL,
        ...(accessToken ? {} : { key: apiKey! }),
      },
      headers: accessToken ? { authorization: `Bearer ${accessToken}` } : {},
      classify: classifyGoogle,
    });
    for (const video of data.items ?? []) if (typeof video?.id === 'string') found.set(video.id, video);
  }
  return found;
}

const bestThumbnail = (video: ApiVideo | undefined) => {
  const thumbnails = video?.snippet?.thumbnails ?? {};
  for (const size of ['maxres', 'standard', 'high', 'medium', 'default'])
    if (thumbnails[size]?.url) return thumbnails[size]!.url!;
  return null;
};

function youtubeItem(video: FeedVideo, details: ApiVideo | undefined): SourceItem {
  const title = details?.snippet?.title ?? video.title;
  const description = details?.snippet?.description ?? video.description;
  const thumbnail = bestThumbnail(details) ?? video.thumbnail;
  const short = /\/shorts\//.test(video.link);
  const duration = details?.contentDetails?.duration;
  return {
    key: video.id,
    url: video.link,
    publishedAt: new Date(video.published),
    text: withLink([title, description].filter(Boolean).join('\n\n'), video.link),
    media: thumbnail ? [{ url: thumbnail, kind: 'image', altText: title }] : [],
    origin: {
      platform: 'youtube',
      nativeId: video.id,
      url: video.link,
      authorHandle: video.author,
      publishedAt: new Date(video.published).toISOString(),
      ref: { videoId: video.id, ...(short ? { short: 'true' } : {}), ...(duration ? { duration } : {}) },
    },
    kind: 'post',
  };
}

async function readSource(ctx: PlatformContext, request: SourceReadRequest): Promise<SourceReadResult> {
  const { channelId } = settings.parse(ctx.channel.settings);
  const feeds = createHttpClient(ctx.endpoints.youtubeFeeds ?? DEFAULT_FEEDS, { signal: ctx.signal });
  let xml: string;
  try {
    const response = await feeds.get<string>('/feeds/videos.xml', {
      params: { channel_id: channelId },
      responseType: 'text',
      transformResponse: [(body: unknown) => body],
      maxContentLength: SOURCE_ANSWER_MAX_BYTES,
    });
    xml = String(response.data);
  } catch (error) {
    if (isAxiosError(error) && /maxContentLength/i.test(error.message)) throw oversized('YouTube');
    if (isAxiosError(error) && error.response?.status === 404)
      throw new PlatformError({ kind: 'invalid', message: `YouTube has no public channel ${channelId}` });
    throw new PlatformError(readClass(classifyHttpError(error)));
  }
  const previous = parseTimeCursor(request.cursor);
  const since = Math.max(request.since.getTime(), previous?.at ?? 0);
  const fresh = parseChannelFeed(xml)
    .filter((v) => v.published >= since && !(v.published === previous?.at && previous.ids.includes(v.id)))
    .sort((a, b) => b.published - a.published)
    .slice(0, request.limit);
  if (fresh.length === 0) return { items: [], cursor: request.cursor };
  const details = await describeVideos(
    ctx,
    fresh.map((v) => v.id),
  );
  const newest = fresh[0]!.published;
  const atNewest = fresh.filter((v) => v.published === newest).map((v) => v.id);
  const ids = newest === previous?.at ? [...previous.ids, ...atNewest] : atNewest;
  return {
    items: fresh.map((video) => youtubeItem(video, details?.get(video.id))),
    cursor: formatTimeCursor(newest, ids),
  };
}

/** With the Data API, a video that videos.list no longer returns is gone; without it, nobody can tell. */
async function originExists(ctx: PlatformContext, origin: PostOrigin): Promise<boolean | 'cannot_tell'> {
  const found = await describeVideos(ctx, [origin.nativeId]);
  return found === null ? 'cannot_tell' : found.has(origin.nativeId);
}

export const youtubeSource: SourceReader = { readSource, originExists };
