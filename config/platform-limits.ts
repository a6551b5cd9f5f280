import type { Platform } from '../src/domain/vocabulary';

/**
 * What each platform accepts in one post and how fast Gaung may publish to it. A pure table:
 * rendering validates against it, the engine's rate limiter reads `rateLimits` from it.
 */

/** How a platform measures text length. */
export type TextCounting =
  /** twitter-text weighted length: URLs 23, emoji and CJK 2, most Latin text 1. */
  | 'twitter'
  /** User-perceived characters (Unicode grapheme clusters). */
  | 'graphemes'
  /** Mastodon: graphemes, every http(s) URL counts as `urlLength`, `@user@domain` counts as `@user`. */
  | 'mastodon'
  /** Threads: code points, except that an emoji counts as its UTF-8 bytes. */
  | 'threads'
  /** UTF-16 code units: never under-counts the platforms that say "characters" without defining them. */
  | 'utf16';

export interface RateLimit {
  /** `channel`: per connected account; `app`: shared by every channel of Gaung's app on that platform. */
  scope: 'channel' | 'app';
  max: number;
  windowSeconds: number;
  /** A quota day ending at midnight in this zone (Google's project quotas), instead of a sliding window. */
  calendarDay?: { timeZone: string };
  /** Names the quota where the operator may set its figure (GAUNG_YOUTUBE_DAILY_UPLOADS, …). */
  quota?: string;
}

export interface PlatformLimits {
  /** The platform's name as an office worker knows it. */
  label: string;
  text: {
    limit: number;
    unit: 'weighted' | 'graphemes' | 'characters';
    counting: TextCounting;
    /** A second cap on the UTF-8 size of the text, where the platform has one. */
    maxBytes: number | null;
  };
  /** The text limit when the post carries media, where it differs (Telegram captions). */
  captionLimit: number | null;
  /** Media per post; `null` where the platform documents no cap. */
  maxImages: number | null;
  maxVideos: number | null;
  maxMedia: number | null;
  /** Whether images and videos may be combined in one post. */
  mixedMedia: boolean;
  mediaRequired: boolean;
  maxHashtags: number | null;
  /** Distinct links in the text. */
  maxLinks: number | null;
  /** Above these, media preparation has to shrink the file (a warning, not a refusal). */
  maxImageBytes: number | null;
  maxVideoBytes: number | null;
  /** A longer video cannot be published at all. */
  maxVideoSeconds: number | null;
  repost: boolean;
  quote: boolean;
  /** Publish quotas enforced before calling the platform. */
  rateLimits: RateLimit[];
  /** Delete quotas enforced before a retraction calls the platform, where the platform has them. */
  deleteRateLimits?: RateLimit[];
  /** The platform reports the account's remaining quota; the engine reads it before publishing. */
  quotaReadAtRunTime: boolean;
}

const MB = 1024 * 1024;
const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * YouTube quota units one publish may spend besides the upload itself, which has a bucket of its own:
 * thumbnails.set 50 and playlistItems.insert 50, plus reads (channels.list, playlistItems.list for
 * reconciliation, videos.list for three metrics snapshots) at 1 each, rounded up.
 */
export const YOUTUBE_UNITS_PER_PUBLISH = 110;
/** https://developers.google.com/youtube/v3/determine_quota_cost: 100 uploads and 10,000 units a day, reset at midnight PT. */
export const YOUTUBE_DEFAULT_DAILY_UPLOADS = 100;
export const YOUTUBE_DEFAULT_DAILY_UNITS = 10_000;
/** YouTube treats square and vertical videos of up to 3 minutes as Shorts (since October 2024). */
export const YOUTUBE_SHORTS_MAX_SECONDS = 180;
/** Unverified channels upload up to 15 minutes; verified ones up to 12 hours (a channel setting). */
export const YOUTUBE_UNVERIFIED_MAX_SECONDS = 15 * 60;

/**
 * https://developers.tiktok.com/doc/content-posting-api-reference-direct-post: a video's title
 * (its caption) holds 2,200 UTF-16 runes; a photo post's title 90 and its description 4,000.
 */
export const TIKTOK_VIDEO_CAPTION_MAX = 2200;
export const TIKTOK_PHOTO_TITLE_MAX = 90;
export const TIKTOK_PHOTO_DESCRIPTION_MAX = 4000;
/** https://developers.tiktok.com/doc/content-posting-api-reference-photo-post: up to 35 photos. */
export const TIKTOK_MAX_PHOTOS = 35;
/** Each user access token: 6 post inits and 30 status fetches a minute (Direct Post and Get Post Status references). */
export const TIKTOK_INITS_PER_MINUTE = 6;
export const TIKTOK_STATUS_FETCHES_PER_MINUTE = 30;

/** Mastodon's defaults; an instance may configure other values (channel settings override them). */
export const MASTODON_DEFAULT_MAX_CHARACTERS = 500;
export const MASTODON_DEFAULT_URL_LENGTH = 23;

export const PLATFORM_LIMITS: Readonly<Record<Platform, PlatformLimits>> = {
  x: {
    label: 'X',
    // Weights and URL length: twitter-text config v3 (tests/fakes/specs/twitter-text-config-v3.json).
    text: { limit: 280, unit: 'weighted', counting: 'twitter', maxBytes: null },
    captionLimit: null,
    maxImages: 4,
    maxVideos: 1,
    maxMedia: 4,
    mixedMedia: false,
    mediaRequired: false,
    maxHashtags: null,
    maxLinks: null,
    // https://docs.x.com/x-api/media/quickstart/best-practices: images 5 MB, videos 512 MB and 140 s.
    maxImageBytes: 5 * MB,
    maxVideoBytes: 512 * MB,
    maxVideoSeconds: 140,
    repost: true,
    quote: true,
    // https://docs.x.com/x-api/fundamentals/rate-limits: POST /2/tweets 100/15 min per user, 10,000/24 h per app.
    rateLimits: [
      { scope: 'channel', max: 100, windowSeconds: 15 * MINUTE },
      { scope: 'app', max: 10_000, windowSeconds: DAY },
    ],
    quotaReadAtRunTime: false,
  },
  bluesky: {
    label: 'Bluesky',
    // app.bsky.feed.post lexicon: text maxGraphemes 300, maxLength 3000 (bytes).
    text: { limit: 300, unit: 'graphemes', counting: 'graphemes', maxBytes: 3000 },
    captionLimit: null,
    maxImages: 4,
    maxVideos: 1,
    maxMedia: 4,
    mixedMedia: false,
    mediaRequired: false,
    maxHashtags: null,
    maxLinks: null,
    // app.bsky.embed.images / app.bsky.embed.video lexicons: image blobs 2,000,000 bytes, video 300,000,000.
    maxImageBytes: 2_000_000,
    maxVideoBytes: 300_000_000,
    // https://bsky.social/about/blog/03-12-2025-video-upload-limits: videos up to 3 minutes.
    maxVideoSeconds: 180,
    repost: true,
    quote: true,
    // https://docs.bsky.app/docs/advanced-guides/rate-limits: 5,000 points/h and 35,000/day, a create costs 3.
    rateLimits: [
      { scope: 'channel', max: 1666, windowSeconds: HOUR },
      { scope: 'channel', max: 11_666, windowSeconds: DAY },
    ],
    quotaReadAtRunTime: false,
  },
  mastodon: {
    label: 'Mastodon',
    text: {
      limit: MASTODON_DEFAULT_MAX_CHARACTERS,
      unit: 'graphemes',
      counting: 'mastodon',
      maxBytes: null,
    },
    captionLimit: null,
    // Mastodon attaches up to 4 images, or a single video that cannot be combined with images.
    maxImages: 4,
    maxVideos: 1,
    maxMedia: 4,
    mixedMedia: false,
    mediaRequired: false,
    maxHashtags: null,
    maxLinks: null,
    // https://docs.joinmastodon.org/user/posting/#media: images 16 MB, videos 99 MB (instance defaults).
    maxImageBytes: 16 * MB,
    maxVideoBytes: 99 * MB,
    maxVideoSeconds: null,
    repost: true,
    // Quote posts exist from Mastodon 4.5 (quoted_status_id); older instances refuse them.
    quote: true,
    // mastodon/mastodon app/lib/rate_limiter.rb: statuses 300 per 3 hours per account.
    rateLimits: [{ scope: 'channel', max: 300, windowSeconds: 3 * HOUR }],
    quotaReadAtRunTime: false,
  },
  threads: {
    label: 'Threads',
    // https://developers.facebook.com/docs/threads/posts: 500 characters, emoji count as their UTF-8 bytes.
    text: { limit: 500, unit: 'characters', counting: 'threads', maxBytes: null },
    captionLimit: null,
    maxImages: 20,
    maxVideos: 20,
    maxMedia: 20,
    mixedMedia: true,
    mediaRequired: false,
    maxHashtags: null,
    // Threads posts with more than 5 links fail (THREADS_API__LINK_LIMIT_EXCEEDED).
    maxLinks: 5,
    // https://developers.facebook.com/docs/threads/overview#media-specifications: images 8 MB, videos 1 GB, 5 min.
    maxImageBytes: 8 * MB,
    maxVideoBytes: 1024 * MB,
    maxVideoSeconds: 300,
    // A repost (POST /{media-id}/repost) and a quote (quote_post_id on the container) need the
    // original's numeric media id, which only a Threads source knows (a permalink carries a shortcode,
    // with no documented lookup): https://developers.facebook.com/docs/threads/posts/quote-posts.
    repost: true,
    quote: true,
    // https://developers.facebook.com/docs/threads/overview#rate-limiting: 250 API-published posts per 24 h.
    rateLimits: [{ scope: 'channel', max: 250, windowSeconds: DAY }],
    // https://developers.facebook.com/docs/threads/posts/delete-posts: 100 deletes per account per day.
    deleteRateLimits: [{ scope: 'channel', max: 100, windowSeconds: DAY }],
    quotaReadAtRunTime: true,
  },
  instagram: {
    label: 'Instagram',
    text: { limit: 2200, unit: 'characters', counting: 'utf16', maxBytes: null },
    captionLimit: null,
    maxImages: 10,
    maxVideos: 10,
    maxMedia: 10,
    mixedMedia: true,
    mediaRequired: true,
    maxHashtags: 30,
    maxLinks: null,
    // https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media: images 8 MB; reels 300 MB, 15 min.
    maxImageBytes: 8 * MB,
    maxVideoBytes: 300 * MB,
    maxVideoSeconds: 15 * 60,
    repost: false,
    quote: false,
    // https://developers.facebook.com/docs/instagram-platform/content-publishing: 100 API-published posts per 24 h.
    rateLimits: [{ scope: 'channel', max: 100, windowSeconds: DAY }],
    quotaReadAtRunTime: true,
  },
  facebook: {
    label: 'Facebook',
    text: { limit: 63_206, unit: 'characters', counting: 'utf16', maxBytes: null },
    captionLimit: null,
    // A Page post carries several photos or one video; Meta documents no photo count.
    maxImages: null,
    maxVideos: 1,
    maxMedia: null,
    mixedMedia: false,
    mediaRequired: false,
    maxHashtags: null,
    maxLinks: null,
    maxImageBytes: null,
    maxVideoBytes: null,
    maxVideoSeconds: null,
    repost: false,
    quote: false,
    // Pages have no fixed post quota: Business Use Case limits scale with engagement, read from response headers.
    rateLimits: [],
    quotaReadAtRunTime: true,
  },
  telegram: {
    label: 'Telegram',
    // https://core.telegram.org/bots/api#sendmessage: text 1-4096 characters; captions 0-1024.
    text: { limit: 4096, unit: 'characters', counting: 'utf16', maxBytes: null },
    captionLimit: 1024,
    // https://core.telegram.org/bots/api#sendmediagroup: 2-10 photos and videos in one album.
    maxImages: 10,
    maxVideos: 10,
    maxMedia: 10,
    mixedMedia: true,
    mediaRequired: false,
    maxHashtags: null,
    maxLinks: null,
    // https://core.telegram.org/bots/api#sending-files: photos 10 MB, other files 50 MB when uploaded.
    maxImageBytes: 10 * MB,
    maxVideoBytes: 50 * MB,
    maxVideoSeconds: null,
    repost: true,
    quote: false,
    // https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this: 20 messages/min per group, ~30/s per bot.
    rateLimits: [
      { scope: 'channel', max: 20, windowSeconds: MINUTE },
      { scope: 'app', max: 30, windowSeconds: 1 },
    ],
    quotaReadAtRunTime: false,
  },
  youtube: {
    label: 'YouTube',
    // https://developers.google.com/youtube/v3/docs/videos#properties: description at most 5,000 bytes, no < or >.
    text: { limit: 5000, unit: 'characters', counting: 'utf16', maxBytes: 5000 },
    captionLimit: null,
    // One video; an image beside it becomes the video's custom thumbnail (thumbnails.set).
    maxImages: 1,
    maxVideos: 1,
    maxMedia: 2,
    mixedMedia: true,
    mediaRequired: true,
    maxHashtags: null,
    maxLinks: null,
    // https://developers.google.com/youtube/v3/docs/thumbnails/set: thumbnails up to 2 MB; videos.insert maxSize 256 GB.
    maxImageBytes: 2 * MB,
    maxVideoBytes: 256 * 1024 * MB,
    // https://support.google.com/youtube/answer/71673: 12 hours for verified channels (unverified: 15 minutes).
    maxVideoSeconds: 12 * HOUR,
    repost: false,
    quote: false,
    rateLimits: [
      {
        scope: 'app',
        max: YOUTUBE_DEFAULT_DAILY_UPLOADS,
        windowSeconds: DAY,
        calendarDay: { timeZone: 'America/Los_Angeles' },
        quota: 'uploads',
      },
      {
        scope: 'app',
        max: Math.floor(YOUTUBE_DEFAULT_DAILY_UNITS / YOUTUBE_UNITS_PER_PUBLISH),
        windowSeconds: DAY,
        calendarDay: { timeZone: 'America/Los_Angeles' },
        quota: 'units',
      },
    ],
    quotaReadAtRunTime: false,
  },
  tiktok: {
    label: 'TikTok',
    // https://developers.tiktok.com/doc/content-posting-api-reference-direct-post: title ≤ 2,200 UTF-16 runes.
    text: { limit: TIKTOK_VIDEO_CAPTION_MAX, unit: 'characters', counting: 'utf16', maxBytes: null },
    captionLimit: null,
    // One video, or up to 35 photos (a carousel), never both.
    maxImages: TIKTOK_MAX_PHOTOS,
    maxVideos: 1,
    maxMedia: TIKTOK_MAX_PHOTOS,
    mixedMedia: false,
    mediaRequired: true,
    maxHashtags: null,
    maxLinks: null,
    // https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide: photos ≤ 20 MB, videos ≤ 4 GB and 10 minutes.
    maxImageBytes: 20 * MB,
    maxVideoBytes: 4 * 1024 * MB,
    maxVideoSeconds: 10 * MINUTE,
    repost: false,
    quote: false,
    // One publish is one init; TikTok allows 6 inits a minute per user access token.
    rateLimits: [{ scope: 'channel', max: TIKTOK_INITS_PER_MINUTE, windowSeconds: MINUTE }],
    quotaReadAtRunTime: false,
  },
  webhook: {
    label: 'Webhook',
    text: { limit: 100_000, unit: 'characters', counting: 'utf16', maxBytes: null },
    captionLimit: null,
    maxImages: null,
    maxVideos: null,
    maxMedia: null,
    mixedMedia: true,
    mediaRequired: false,
    maxHashtags: null,
    maxLinks: null,
    maxImageBytes: null,
    maxVideoBytes: null,
    maxVideoSeconds: null,
    repost: true,
    quote: true,
    rateLimits: [],
    quotaReadAtRunTime: false,
  },
  sandbox: {
    label: 'Sandbox',
    text: { limit: 100_000, unit: 'characters', counting: 'utf16', maxBytes: null },
    captionLimit: null,
    maxImages: null,
    maxVideos: null,
    maxMedia: null,
    mixedMedia: true,
    mediaRequired: false,
    maxHashtags: null,
    maxLinks: null,
    maxImageBytes: null,
    maxVideoBytes: null,
    maxVideoSeconds: null,
    repost: true,
    quote: true,
    rateLimits: [],
    quotaReadAtRunTime: false,
  },
};
