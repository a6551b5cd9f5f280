import {
  MASTODON_DEFAULT_MAX_CHARACTERS,
  MASTODON_DEFAULT_URL_LENGTH,
  PLATFORM_LIMITS,
  type PlatformLimits,
  TIKTOK_PHOTO_DESCRIPTION_MAX,
  TIKTOK_PHOTO_TITLE_MAX,
} from '../../config/platform-limits';
import { lazyRequire } from '../infra/lazy-require';
import type { MediaFacts } from './media-rules';
import type { DeliveryMode, Platform } from './vocabulary';

/** X's own counting rules (weighted characters, t.co links, hashtags); loaded on the first count. */
const twitterText = lazyRequire<typeof import('twitter-text')>('twitter-text');

/**
 * What a post becomes on each channel: the text that will be published (variant, credit line,
 * hashtags) and whether the platform will accept it. Pure: the preview route, approval and the
 * publishing engine all call these same functions.
 */

/** The hashtags in a text as X counts them (`#tag`, in any script), without their `#`. */
export const extractHashtags = (text: string): string[] => twitterText().extractHashtags(text);

// ---------------------------------------------------------------------------------------------
// Rendering

export const CREDIT_PLACEHOLDERS = ['text', 'unit', 'source_url', 'link', 'hashtags'] as const;
export type CreditPlaceholder = (typeof CREDIT_PLACEHOLDERS)[number];

export interface RenderInput {
  body: string;
  variant?: string | null;
  textOverride?: string | null;
  creditTemplate: string;
  unitName: string;
  sourceUrl: string | null;
  link: string | null;
  tags: string[];
}

const PLACEHOLDER = /\{([a-z_]+)\}/g;

const isPlaceholder = (name: string): name is CreditPlaceholder =>
  (CREDIT_PLACEHOLDERS as readonly string[]).includes(name);

/** A channel's credit template must place the text once and use only known placeholders. */
export function validateCreditTemplate(template: string): string | null {
  const names = [...template.matchAll(PLACEHOLDER)].map((match) => match[1] ?? '');
  const unknown = names.filter((name) => !isPlaceholder(name));
  if (unknown.length > 0) {
    return `Unknown placeholder ${unknown.map((name) => `{${name}}`).join(', ')}; use ${CREDIT_PLACEHOLDERS.map((name) => `{${name}}`).join(' ')}`;
  }
  const textCount = names.filter((name) => name === 'text').length;
  if (textCount !== 1) return 'The template must contain {text} exactly once, where the post text goes';
  return null;
}

function firstFilled(...candidates: (string | null | undefined)[]): string {
  for (const candidate of candidates) {
    if (candidate != null && candidate.trim() !== '') return candidate;
  }
  return '';
}

/** `#Tag` for each tag, without duplicates and without those the text already carries. */
export function renderHashtags(tags: string[], alreadyPresentIn: string): string {
  const present = new Set(
    twitterText()
      .extractHashtags(alreadyPresentIn)
      .map((tag) => tag.toLowerCase()),
  );
  const rendered: string[] = [];
  for (const tag of tags) {
    // A hashtag ends at the first character that is not a letter, mark, digit or underscore.
    const cleaned = tag.replace(/^[#＃]+/u, '').replace(/[^\p{L}\p{M}\p{N}_]/gu, '');
    // Platforms do not link an all-digit hashtag (#2024), so it would only be noise.
    if (cleaned === '' || /^\p{N}+$/u.test(cleaned)) continue;
    const key = cleaned.toLowerCase();
    if (present.has(key)) continue;
    present.add(key);
    rendered.push(`#${cleaned}`);
  }
  return rendered.join(' ');
}

const HORIZONTAL_SPACE_AT_START = /^[^\S\n]+/;
const HORIZONTAL_SPACE_AT_END = /[^\S\n]+$/;

/** One template line with its placeholders filled; an empty placeholder leaves no double space behind. */
function renderLine(line: string, values: Record<CreditPlaceholder, string>): string {
  let out = '';
  let dropLeadingSpace = false;
  let last = 0;
  for (const match of line.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    const literal = line.slice(last, match.index);
    out += dropLeadingSpace ? literal.replace(HORIZONTAL_SPACE_AT_START, '') : literal;
    last = match.index + match[0].length;
    if (!isPlaceholder(name)) {
      out += match[0];
      dropLeadingSpace = false;
      continue;
    }
    const value = values[name];
    out += value;
    dropLeadingSpace = value === '' && (out === '' || HORIZONTAL_SPACE_AT_END.test(out));
  }
  const rest = line.slice(last);
  out += dropLeadingSpace ? rest.replace(HORIZONTAL_SPACE_AT_START, '') : rest;
  return out.replace(HORIZONTAL_SPACE_AT_END, '');
}

/**
 * The text published on a channel: the reviewer's override, else the post's variant for the
 * platform, else its body; then the channel's credit template. A template line whose
 * placeholders are all empty is left out, and blank lines never pile up.
 */
export function renderText(input: RenderInput): string {
  const text = firstFilled(input.textOverride, input.variant, input.body).replace(/\r\n?/g, '\n').trim();
  let template = input.creditTemplate.replace(/\r\n?/g, '\n');
  if (template.trim() === '') template = '{text}';
  else if (!template.includes('{text}')) template = `{text}\n\n${template}`;

  const values: Record<CreditPlaceholder, string> = {
    text,
    unit: input.unitName.trim(),
    source_url: input.sourceUrl?.trim() ?? '',
    link: input.link?.trim() ?? '',
    hashtags: renderHashtags(input.tags, `${text}\n${template}`),
  };

  const lines: string[] = [];
  for (const line of template.split('\n')) {
    const names = [...line.matchAll(PLACEHOLDER)].map((match) => match[1] ?? '').filter(isPlaceholder);
    if (names.length > 0 && names.every((name) => values[name] === '')) continue;
    const rendered = renderLine(line, values);
    const blank = rendered.trim() === '';
    if (blank && (lines.length === 0 || lines[lines.length - 1] === '')) continue;
    lines.push(blank ? '' : rendered);
  }
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Counting

/** twitter-text's v3 configuration, as published in twitter/twitter-text config/v3.json. */
export const X_TEXT_CONFIG = {
  version: 3,
  maxWeightedTweetLength: 280,
  scale: 100,
  defaultWeight: 200,
  emojiParsingEnabled: true,
  transformedURLLength: 23,
  ranges: [
    { start: 0, end: 4351, weight: 100 },
    { start: 8192, end: 8205, weight: 100 },
    { start: 8208, end: 8223, weight: 100 },
    { start: 8242, end: 8247, weight: 100 },
  ],
};

export interface TextCount {
  used: number;
  limit: number;
  unit: 'weighted' | 'graphemes' | 'characters';
}

export interface CountSettings {
  /** The channel's own limit, where the account has one (a Mastodon instance's configured maximum). */
  maxCharacters?: number;
  /** How many characters a Mastodon instance counts for any URL. */
  urlLength?: number;
  /** With media, platforms that limit captions separately (Telegram) apply the caption limit. */
  hasMedia?: boolean;
}

const graphemeSegmenter = new Intl.Segmenter('id', { granularity: 'grapheme' });
const utf8 = new TextEncoder();

function graphemes(text: string): string[] {
  return Array.from(graphemeSegmenter.segment(text), (segment) => segment.segment);
}

const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;

/** Mastodon replaces each http(s) URL by `urlLength` characters and counts a remote mention as its local part. */
function mastodonCountable(text: string, urlLength: number): string {
  const urls = twitterText().extractUrlsWithIndices(text, { extractUrlsWithoutProtocol: false });
  let out = '';
  let last = 0;
  for (const { indices } of urls) {
    out += text.slice(last, indices[0]) + 'x'.repeat(urlLength);
    last = indices[1];
  }
  out += text.slice(last);
  return out.replace(/(^|[^\p{L}\p{N}_/])@([\p{L}\p{N}_]+)@[\p{L}\p{N}.-]+\.[\p{L}\p{N}-]+/gu, '$1@$2');
}

function countWith(limits: PlatformLimits, text: string, settings: CountSettings): number {
  switch (limits.text.counting) {
    case 'twitter':
      return twitterText().parseTweet(text, X_TEXT_CONFIG).weightedLength;
    case 'graphemes':
      return graphemes(text).length;
    case 'mastodon':
      return graphemes(mastodonCountable(text, settings.urlLength ?? MASTODON_DEFAULT_URL_LENGTH)).length;
    case 'threads':
      return graphemes(text).reduce(
        (sum, grapheme) =>
          sum + (EMOJI.test(grapheme) ? utf8.encode(grapheme).length : Array.from(grapheme).length),
        0,
      );
    case 'utf16':
      return text.length;
  }
}

export function countText(platform: Platform, text: string, settings: CountSettings = {}): TextCount {
  const limits = PLATFORM_LIMITS[platform];
  const limit =
    settings.hasMedia && limits.captionLimit !== null
      ? limits.captionLimit
      : (settings.maxCharacters ??
        (platform === 'mastodon' ? MASTODON_DEFAULT_MAX_CHARACTERS : limits.text.limit));
  return { used: countWith(limits, text, settings), limit, unit: limits.text.unit };
}

// ---------------------------------------------------------------------------------------------
// Source posts (repost and quote act on the office's original post)

export type SourcePost =
  | { platform: 'x'; url: string; statusId: string; username: string | null }
  /** `handle` is a handle (kanim.bsky.social) or a DID (did:plc:…). */
  | { platform: 'bluesky'; url: string; handle: string; rkey: string }
  /** `statusId` is the id on `host`; the status may have been written on another instance. */
  | { platform: 'mastodon'; url: string; host: string; username: string | null; statusId: string }
  /** `chatId` is what the Bot API takes as from_chat_id: `@username`, or `-100…` for a private channel. */
  | { platform: 'telegram'; url: string; chatUsername: string | null; chatId: string; messageId: number }
  | { platform: 'threads'; url: string; username: string | null; shortcode: string }
  | { platform: 'webhook' | 'sandbox'; url: string };

const X_HOSTS = new Set(['x.com', 'twitter.com', 'mobile.twitter.com', 'mobile.x.com']);
const BLUESKY_HOSTS = new Set(['bsky.app']);
const TELEGRAM_HOSTS = new Set(['t.me', 'telegram.me']);
const THREADS_HOSTS = new Set(['threads.net', 'threads.com']);
const FACEBOOK_HOSTS = new Set(['facebook.com', 'm.facebook.com', 'fb.com', 'fb.watch']);
const INSTAGRAM_HOSTS = new Set(['instagram.com']);
const KNOWN_HOSTS = [X_HOSTS, BLUESKY_HOSTS, TELEGRAM_HOSTS, THREADS_HOSTS, FACEBOOK_HOSTS, INSTAGRAM_HOSTS];

const TELEGRAM_RESERVED = new Set([
  'c',
  's',
  'joinchat',
  'addstickers',
  'addemoji',
  'share',
  'proxy',
  'socks',
  'iv',
]);

function parseHttpUrl(raw: string): URL | null {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return null;
  }
  return url.protocol === 'https:' || url.protocol === 'http:' ? url : null;
}

const bareHost = (url: URL) => url.hostname.toLowerCase().replace(/^www\./, '');
const pathSegments = (url: URL) => url.pathname.split('/').filter((segment) => segment !== '');

function parseX(url: URL): SourcePost | null {
  if (!X_HOSTS.has(bareHost(url))) return null;
  const [first, second, third, fourth] = pathSegments(url);
  const isId = (id: string | undefined): id is string => id !== undefined && /^\d{1,19}$/.test(id);
  if (first === 'i' && second === 'web' && third === 'status' && isId(fourth)) {
    return { platform: 'x', url: url.href, statusId: fourth, username: null };
  }
  if (first === 'i' && second === 'status' && isId(third)) {
    return { platform: 'x', url: url.href, statusId: third, username: null };
  }
  if (first && /^\w{1,15}$/.test(first) && (second === 'status' || second === 'statuses') && isId(third)) {
    return { platform: 'x', url: url.href, statusId: third, username: first };
  }
  return null;
}

const BLUESKY_ACTOR =
  /^(?:did:[a-z]+:[A-Za-z0-9._:%-]+|(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*)$/;
const BLUESKY_RKEY = /^[A-Za-z0-9._:~-]{1,512}$/;

function parseBluesky(raw: string): SourcePost | null {
  // An at:// URI names the record directly: at://<actor>/app.bsky.feed.post/<rkey>.
  const atUri = /^at:\/\/([^/]+)\/app\.bsky\.feed\.post\/([^/?#]+)$/.exec(raw.trim());
  if (atUri) {
    const [, handle = '', rkey = ''] = atUri;
    if (!BLUESKY_ACTOR.test(handle) || !BLUESKY_RKEY.test(rkey) || rkey === '.' || rkey === '..') return null;
    return { platform: 'bluesky', url: raw.trim(), handle, rkey };
  }
  const url = parseHttpUrl(raw);
  if (!url || !BLUESKY_HOSTS.has(bareHost(url))) return null;
  const [first, actor, third, rkey] = pathSegments(url).map(decodeURIComponent);
  if (first !== 'profile' || third !== 'post' || actor === undefined || rkey === undefined) return null;
  if (!BLUESKY_ACTOR.test(actor) || !BLUESKY_RKEY.test(rkey) || rkey === '.' || rkey === '..') return null;
  return { platform: 'bluesky', url: url.href, handle: actor, rkey };
}

function parseMastodon(url: URL): SourcePost | null {
  const host = bareHost(url);
  if (KNOWN_HOSTS.some((hosts) => hosts.has(host))) return null;
  const segments = pathSegments(url);
  const isId = (id: string | undefined): id is string => id !== undefined && /^\d{1,20}$/.test(id);
  const [first, second, third, fourth] = segments;
  // https://host/@user/123, https://host/@user@origin.social/123 (a remote status seen on host)
  if (first?.startsWith('@') && first.length > 1 && isId(second)) {
    return {
      platform: 'mastodon',
      url: url.href,
      host: url.host,
      username: first.slice(1),
      statusId: second,
    };
  }
  // https://host/users/user/statuses/123 (the ActivityPub id)
  if (first === 'users' && second && third === 'statuses' && isId(fourth)) {
    return { platform: 'mastodon', url: url.href, host: url.host, username: second, statusId: fourth };
  }
  // https://host/web/statuses/123 (older web UI links)
  if (first === 'web' && second === 'statuses' && isId(third)) {
    return { platform: 'mastodon', url: url.href, host: url.host, username: null, statusId: third };
  }
  return null;
}

function parseTelegram(url: URL): SourcePost | null {
  if (!TELEGRAM_HOSTS.has(bareHost(url))) return null;
  let segments = pathSegments(url);
  if (segments[0] === 's') segments = segments.slice(1);
  const isMessageId = (id: string | undefined): id is string =>
    id !== undefined && /^\d{1,10}$/.test(id) && Number(id) > 0 && Number(id) < 2 ** 31;
  const [first, second, third] = segments;
  if (first === 'c' && second && /^\d{1,13}$/.test(second) && isMessageId(third)) {
    return {
      platform: 'telegram',
      url: url.href,
      chatUsername: null,
      chatId: `-100${second}`,
      messageId: Number(third),
    };
  }
  if (
    first &&
    !TELEGRAM_RESERVED.has(first.toLowerCase()) &&
    /^[A-Za-z][A-Za-z0-9_]{3,31}$/.test(first) &&
    isMessageId(second)
  ) {
    return {
      platform: 'telegram',
      url: url.href,
      chatUsername: first,
      chatId: `@${first}`,
      messageId: Number(second),
    };
  }
  return null;
}

function parseThreads(url: URL): SourcePost | null {
  if (!THREADS_HOSTS.has(bareHost(url))) return null;
  const [first, second, third] = pathSegments(url);
  const isCode = (code: string | undefined): code is string =>
    code !== undefined && /^[A-Za-z0-9_-]{5,64}$/.test(code);
  if (first?.startsWith('@') && /^@[A-Za-z0-9._]{1,30}$/.test(first) && second === 'post' && isCode(third)) {
    return { platform: 'threads', url: url.href, username: first.slice(1), shortcode: third };
  }
  if (first === 't' && isCode(second)) {
    return { platform: 'threads', url: url.href, username: null, shortcode: second };
  }
  return null;
}

/**
 * The identifiers of a post on `platform`, read from its address; `null` when the address is not
 * a post of that platform. Facebook and Instagram have no repost or quote, so nothing is parsed.
 */
export function parseSourceUrl(platform: Platform, raw: string): SourcePost | null {
  if (platform === 'bluesky') return parseBluesky(raw);
  const url = parseHttpUrl(raw);
  if (!url) return null;
  switch (platform) {
    case 'x':
      return parseX(url);
    case 'mastodon':
      return parseMastodon(url);
    case 'telegram':
      return parseTelegram(url);
    case 'threads':
      return parseThreads(url);
    case 'webhook':
    case 'sandbox':
      return { platform, url: url.href };
    case 'facebook':
    case 'instagram':
    case 'youtube':
    case 'tiktok':
      return null;
  }
}

/** Which platform a post address belongs to, as far as its address tells. */
export function platformOfUrl(raw: string): Platform | null {
  for (const platform of ['x', 'bluesky', 'telegram', 'threads'] as const) {
    if (parseSourceUrl(platform, raw)) return platform;
  }
  const url = parseHttpUrl(raw);
  if (!url) return null;
  const host = bareHost(url);
  if (FACEBOOK_HOSTS.has(host)) return 'facebook';
  if (INSTAGRAM_HOSTS.has(host)) return 'instagram';
  return parseMastodon(url) ? 'mastodon' : null;
}

/**
 * The delivery modes a channel on `platform` offers for a post: a copy always; a repost or a quote
 * where the platform has them and the original is on that platform — the origin a source read, or
 * else the source URL the office gave.
 */
export function offeredModes(
  platform: Platform,
  original: { origin: { platform: string } | null; sourceUrl: string | null },
): DeliveryMode[] {
  const limits = PLATFORM_LIMITS[platform];
  // Threads reposts and quotes by the original's media id, which only a Threads source knows: a pasted link is not enough.
  const samePlatform = original.origin
    ? original.origin.platform === platform
    : platform !== 'threads' &&
      original.sourceUrl !== null &&
      parseSourceUrl(platform, original.sourceUrl) !== null;
  if (!samePlatform) return ['copy'];
  return [
    'copy',
    ...(limits.repost ? (['repost'] as const) : []),
    ...(limits.quote ? (['quote'] as const) : []),
  ];
}

// ---------------------------------------------------------------------------------------------
// Validation

export const VALIDATION_CODES = [
  'text_too_long',
  'content_empty',
  'media_required',
  'too_many_media',
  'too_many_images',
  'too_many_videos',
  'mixed_media',
  'image_too_large',
  'video_too_large',
  'video_too_long',
  'too_many_hashtags',
  'too_many_links',
  'mode_unsupported',
  'source_url_missing',
  'source_url_invalid',
  'source_url_wrong_platform',
  'video_required',
  'angle_brackets',
  'title_shortened',
  'tags_shortened',
  'made_for_kids_unset',
  'tiktok_private_only',
] as const;
export type ValidationCode = (typeof VALIDATION_CODES)[number];

export interface ValidationIssue {
  /** One of VALIDATION_CODES here; callers may add their own (a channel that is paused, …). */
  code: string;
  message: string;
  severity: 'error' | 'warning';
  field?: string;
}

export interface PlatformRulesInput {
  platform: Platform;
  text: string;
  media: MediaFacts[];
  mode: DeliveryMode;
  sourceUrl: string | null;
  /** The platform of the original as a source read it (the post's origin), if a source brought the post in. */
  originPlatform?: string | null;
  link: string | null;
  settings?: {
    maxCharacters?: number;
    urlLength?: number;
    maxVideoSeconds?: number;
    madeForKids?: boolean;
    /** TikTok: Gaung's app is not audited, so every post goes out SELF_ONLY. */
    unaudited?: boolean;
  };
  /** The post's tags, for platforms that keep them apart from the text (YouTube). */
  tags?: string[];
}

const SOURCE_EXAMPLES: Partial<Record<Platform, string>> = {
  x: 'https://x.com/account/status/1234567890',
  bluesky: 'https://bsky.app/profile/account.bsky.social/post/3kabc',
  mastodon: 'https://server.example/@account/1234567890',
  telegram: 'https://t.me/channel/123',
  threads: 'https://www.threads.net/@account/post/Cabc123',
  webhook: 'https://…',
  sandbox: 'https://…',
};

const number = (value: number) => value.toLocaleString('en-US');
const megabytes = (bytes: number) =>
  `${(bytes / (1024 * 1024)).toLocaleString('en-US', { maximumFractionDigits: 1 })} MB`;
const plural = (count: number, one: string, many: string) => `${number(count)} ${count === 1 ? one : many}`;

function countingNote(limits: PlatformLimits, settings: CountSettings): string {
  switch (limits.text.counting) {
    case 'twitter':
      return ' (every link counts as 23, an emoji as 2)';
    case 'mastodon':
      return ` (every link counts as ${settings.urlLength ?? MASTODON_DEFAULT_URL_LENGTH})`;
    case 'threads':
      return ' (an emoji counts as several)';
    default:
      return '';
  }
}

function textIssues(
  input: PlatformRulesInput,
  limits: PlatformLimits,
  count: TextCount,
  settings: CountSettings,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const { label } = limits;
  if (count.used > count.limit) {
    const over = count.used - count.limit;
    const what = settings.hasMedia && limits.captionLimit !== null ? 'caption with photos or videos' : 'text';
    const alternative =
      settings.hasMedia && limits.captionLimit !== null ? ', or publish it without photos or videos' : '';
    issues.push({
      code: 'text_too_long',
      severity: 'error',
      field: 'text',
      message:
        `${label} allows a ${what} of up to ${number(count.limit)} characters${countingNote(limits, settings)}; ` +
        `this one has ${number(count.used)}. Shorten it by ${plural(over, 'character', 'characters')}${alternative}.`,
    });
  }
  if (limits.text.maxBytes !== null) {
    const bytes = utf8.encode(input.text).length;
    if (bytes > limits.text.maxBytes) {
      issues.push({
        code: 'text_too_long',
        severity: 'error',
        field: 'text',
        message: `${label} stores at most ${number(limits.text.maxBytes)} bytes of text and this text takes ${number(bytes)} (emoji and accented letters take several bytes each). Shorten it.`,
      });
    }
  }
  if (limits.maxHashtags !== null) {
    const hashtags = twitterText().extractHashtags(input.text).length;
    if (hashtags > limits.maxHashtags) {
      issues.push({
        code: 'too_many_hashtags',
        severity: 'error',
        field: 'text',
        message: `${label} allows up to ${number(limits.maxHashtags)} hashtags; this text has ${number(hashtags)}. Remove ${plural(hashtags - limits.maxHashtags, 'hashtag', 'hashtags')}.`,
      });
    }
  }
  if (limits.maxLinks !== null) {
    // The post's link goes out as a link attachment and counts when the text does not already carry it.
    const normalise = (url: string) => url.trim().replace(/\/+$/, '').toLowerCase();
    const urls = new Set(twitterText().extractUrls(input.text).map(normalise));
    if (input.link && input.link.trim() !== '') urls.add(normalise(input.link));
    const links = urls.size;
    if (links > limits.maxLinks) {
      issues.push({
        code: 'too_many_links',
        severity: 'error',
        field: 'text',
        message: `${label} refuses posts with more than ${plural(limits.maxLinks, 'link', 'links')}; this post has ${number(links)}. Remove ${plural(links - limits.maxLinks, 'link', 'links')}.`,
      });
    }
  }
  return issues;
}

function mediaIssues(input: PlatformRulesInput, limits: PlatformLimits): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const { label } = limits;
  const images = input.media.filter((medium) => medium.kind === 'image').length;
  const videos = input.media.filter((medium) => medium.kind === 'video').length;
  const total = input.media.length;

  if (limits.mediaRequired && total === 0) {
    issues.push({
      code: 'media_required',
      severity: 'error',
      field: 'media',
      message: `${label} posts need at least one photo or video. Add one, or leave ${label} out of this post.`,
    });
  }
  if (!limits.mixedMedia && images > 0 && videos > 0) {
    issues.push({
      code: 'mixed_media',
      severity: 'error',
      field: 'media',
      message: `${label} cannot combine photos and videos in one post. Keep only the photos or only the video.`,
    });
  } else {
    let perKind = false;
    if (limits.maxImages !== null && images > limits.maxImages) {
      perKind = true;
      issues.push({
        code: 'too_many_images',
        severity: 'error',
        field: 'media',
        message: `${label} allows up to ${plural(limits.maxImages, 'photo', 'photos')} per post; this post has ${number(images)}.`,
      });
    }
    if (limits.maxVideos !== null && videos > limits.maxVideos) {
      perKind = true;
      issues.push({
        code: 'too_many_videos',
        severity: 'error',
        field: 'media',
        message: `${label} allows ${limits.maxVideos === 1 ? 'only one video' : `up to ${number(limits.maxVideos)} videos`} per post; this post has ${number(videos)}.`,
      });
    }
    if (!perKind && limits.maxMedia !== null && total > limits.maxMedia) {
      issues.push({
        code: 'too_many_media',
        severity: 'error',
        field: 'media',
        message: `${label} allows up to ${number(limits.maxMedia)} photos and videos together per post; this post has ${number(total)}.`,
      });
    }
  }

  input.media.forEach((medium, index) => {
    const field = `media[${index}]`;
    const name = `${medium.kind === 'image' ? 'Photo' : 'Video'} ${index + 1}`;
    const maxBytes = medium.kind === 'image' ? limits.maxImageBytes : limits.maxVideoBytes;
    if (maxBytes !== null && medium.bytes > maxBytes) {
      issues.push({
        code: medium.kind === 'image' ? 'image_too_large' : 'video_too_large',
        severity: 'warning',
        field,
        message: `${name} is ${megabytes(medium.bytes)}, more than the ${megabytes(maxBytes)} ${label} accepts; it has to be made smaller before it is published.`,
      });
    }
    if (
      medium.kind === 'video' &&
      limits.maxVideoSeconds !== null &&
      medium.durationMs !== null &&
      medium.durationMs > limits.maxVideoSeconds * 1000
    ) {
      issues.push({
        code: 'video_too_long',
        severity: 'error',
        field,
        message: `${name} lasts ${plural(Math.ceil(medium.durationMs / 1000), 'second', 'seconds')}; ${label} accepts videos of up to ${plural(limits.maxVideoSeconds, 'second', 'seconds')}.`,
      });
    }
  });
  return issues;
}

function sourceIssues(input: PlatformRulesInput, limits: PlatformLimits): ValidationIssue[] {
  const { label } = limits;
  const action = input.mode === 'repost' ? 'repost' : 'quote';
  const supported = input.mode === 'repost' ? limits.repost : limits.quote;
  if (!supported) {
    return [
      {
        code: 'mode_unsupported',
        severity: 'error',
        field: 'mode',
        message: `${label} has no ${action === 'repost' ? 'reposts' : 'quote posts'}. Publish a copy with the credit line instead.`,
      },
    ];
  }
  // Threads reposts and quotes by the original's media id, which only a Threads source knows: a pasted link cannot be resolved.
  if (input.platform === 'threads')
    return input.originPlatform === 'threads'
      ? []
      : [
          {
            code: 'mode_unsupported',
            severity: 'error',
            field: 'mode',
            message: `${label} reposts and quotes only posts a Threads source brought in; a pasted link cannot be resolved. Publish a copy with the credit line instead.`,
          },
        ];
  const sourceUrl = input.sourceUrl?.trim() ?? '';
  if (sourceUrl === '') {
    return [
      {
        code: 'source_url_missing',
        severity: 'error',
        field: 'sourceUrl',
        message: `To ${action} on ${label}, the post needs the link to the office's original post on ${label}.`,
      },
    ];
  }
  if (parseSourceUrl(input.platform, sourceUrl)) return [];
  const elsewhere = platformOfUrl(sourceUrl);
  if (elsewhere !== null && elsewhere !== input.platform) {
    return [
      {
        code: 'source_url_wrong_platform',
        severity: 'error',
        field: 'sourceUrl',
        message: `The original post is on ${PLATFORM_LIMITS[elsewhere].label}, so it cannot be ${action === 'repost' ? 'reposted' : 'quoted'} on ${label}. Publish a copy instead, or give the original post on ${label}.`,
      },
    ];
  }
  return [
    {
      code: 'source_url_invalid',
      severity: 'error',
      field: 'sourceUrl',
      message: `This link is not the address of a ${label} post. It should look like ${SOURCE_EXAMPLES[input.platform] ?? 'the address of the post'}.`,
    },
  ];
}

/**
 * Whether `platform` will accept this text and media in this mode. Errors block approval;
 * warnings describe what media preparation will have to change.
 */
export function validateForPlatform(input: PlatformRulesInput): {
  count: TextCount;
  issues: ValidationIssue[];
} {
  const limits = PLATFORM_LIMITS[input.platform];
  const settings: CountSettings = {
    ...input.settings,
    ...(tiktokPhotoPost(input) ? { maxCharacters: TIKTOK_PHOTO_DESCRIPTION_MAX } : {}),
    hasMedia: input.mode !== 'repost' && input.media.length > 0,
  };
  const count = countText(input.platform, input.text, settings);
  const issues: ValidationIssue[] = [];

  if (input.mode !== 'copy') issues.push(...sourceIssues(input, limits));
  // A repost republishes the original as it is: no text or media of ours goes out.
  if (input.mode === 'repost') return { count, issues };

  issues.push(...textIssues(input, limits, count, settings));
  if (input.mode === 'copy' && input.text.trim() === '' && input.media.length === 0) {
    issues.push({
      code: 'content_empty',
      severity: 'error',
      field: 'text',
      message: 'The post has neither text nor photos or videos; there is nothing to publish.',
    });
  }
  // A Threads quote is a thread of ours: a text one needs its text (media_type TEXT requires it).
  if (
    input.mode === 'quote' &&
    input.platform === 'threads' &&
    input.text.trim() === '' &&
    input.media.length === 0
  ) {
    issues.push({
      code: 'content_empty',
      severity: 'error',
      field: 'text',
      message: 'A Threads quote needs text, or a photo or video, of its own.',
    });
  }
  issues.push(...mediaIssues(input, limits));
  if (input.platform === 'youtube') issues.push(...youtubeIssues(input));
  if (input.platform === 'tiktok') issues.push(...tiktokIssues(input));
  return { count, issues };
}

// ---------------------------------------------------------------------------------------------
// TikTok: a video's caption, or a photo post's title and description

/** A TikTok post of photos only: its text is a 4,000-character description under a 90-character title. */
const tiktokPhotoPost = (input: Pick<PlatformRulesInput, 'platform' | 'media'>) =>
  input.platform === 'tiktok' && input.media.length > 0 && input.media.every((m) => m.kind === 'image');

function tiktokIssues(input: PlatformRulesInput): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const firstLine =
    input.text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  if (tiktokPhotoPost(input) && firstLine.length > TIKTOK_PHOTO_TITLE_MAX)
    issues.push({
      code: 'title_shortened',
      severity: 'warning',
      field: 'text',
      message: `The first line becomes the photo post's title, and TikTok titles hold ${TIKTOK_PHOTO_TITLE_MAX} characters; it will be shortened.`,
    });
  const maxSeconds = input.settings?.maxVideoSeconds;
  input.media.forEach((video, index) => {
    if (
      video.kind === 'video' &&
      maxSeconds !== undefined &&
      video.durationMs !== null &&
      video.durationMs > maxSeconds * 1000
    )
      issues.push({
        code: 'video_too_long',
        severity: 'error',
        field: `media[${index}]`,
        message: `This TikTok account posts videos of up to ${plural(maxSeconds, 'second', 'seconds')}; this one lasts ${plural(Math.ceil(video.durationMs / 1000), 'second', 'seconds')}.`,
      });
  });
  if (input.settings?.unaudited)
    issues.push({
      code: 'tiktok_private_only',
      severity: 'warning',
      field: 'channel',
      message:
        "Gaung's TikTok app is not yet audited by TikTok: this post goes out visible to the account only (SELF_ONLY), and the account must be private.",
    });
  return issues;
}

// ---------------------------------------------------------------------------------------------
// YouTube: a title from the first line, tags apart from the text

/** https://developers.google.com/youtube/v3/docs/videos#snippet.title: at most 100 characters. */
export const YOUTUBE_TITLE_MAX = 100;
/** snippet.tags: at most 500 characters, counting the commas between tags and quotes around tags with spaces. */
export const YOUTUBE_TAGS_MAX = 500;
/** News & Politics, where a public body's videos belong; a channel setting may choose another. */
export const YOUTUBE_CATEGORY_DEFAULT = '25';
/** status.privacyStatus of new videos, a channel setting. */
export const YOUTUBE_PRIVACY = ['public', 'unlisted', 'private'] as const;

/** The video's title: the text's first non-empty line, shortened at a word to 100 characters. */
export function youtubeTitle(text: string): string {
  const line =
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? '';
  const chars = Array.from(line);
  if (chars.length <= YOUTUBE_TITLE_MAX) return line || 'Video';
  const cut = chars.slice(0, YOUTUBE_TITLE_MAX - 1).join('');
  const atWord = cut.replace(/\s+\S*$/, '');
  return `${(atWord.length >= 40 ? atWord : cut).trimEnd()}…`;
}

const tagCost = (tag: string) => tag.length + (/\s/.test(tag) ? 2 : 0);

/** The tags that fit YouTube's 500 characters, in order (a '#' is not part of a tag). */
export function youtubeTags(tags: string[]): string[] {
  const out: string[] = [];
  let used = 0;
  for (const raw of tags) {
    const tag = raw.replace(/^#/, '').trim();
    if (tag === '' || /[<>]/.test(tag)) continue;
    const cost = tagCost(tag) + (out.length > 0 ? 1 : 0);
    if (used + cost > YOUTUBE_TAGS_MAX) break;
    out.push(tag);
    used += cost;
  }
  return out;
}

function youtubeIssues(input: PlatformRulesInput): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const videos = input.media.filter((medium) => medium.kind === 'video');
  if (videos.length === 0)
    issues.push({
      code: 'video_required',
      severity: 'error',
      field: 'media',
      message:
        'YouTube publishes videos: add one video (a photo beside it becomes its thumbnail), or leave YouTube out.',
    });
  if (/[<>]/.test(input.text))
    issues.push({
      code: 'angle_brackets',
      severity: 'error',
      field: 'text',
      message: 'YouTube refuses "<" and ">" in titles and descriptions. Remove them from the text.',
    });
  const firstLine =
    input.text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  if (Array.from(firstLine).length > YOUTUBE_TITLE_MAX)
    issues.push({
      code: 'title_shortened',
      severity: 'warning',
      field: 'text',
      message: `The first line becomes the video's title, and YouTube titles hold ${YOUTUBE_TITLE_MAX} characters; it will be shortened to "${youtubeTitle(input.text)}".`,
    });
  const tags = (input.tags ?? []).filter((tag) => tag.replace(/^#/, '').trim() !== '');
  const kept = youtubeTags(tags);
  if (kept.length < tags.length)
    issues.push({
      code: 'tags_shortened',
      severity: 'warning',
      field: 'tags',
      message: `YouTube keeps ${YOUTUBE_TAGS_MAX} characters of tags; ${plural(tags.length - kept.length, 'tag', 'tags')} will be left out.`,
    });
  if (input.settings?.madeForKids === undefined)
    issues.push({
      code: 'made_for_kids_unset',
      severity: 'error',
      field: 'channel',
      message:
        'The channel must say whether its videos are made for kids (YouTube requires it): set it on the channel page.',
    });
  const maxSeconds = input.settings?.maxVideoSeconds;
  videos.forEach((video) => {
    if (maxSeconds !== undefined && video.durationMs !== null && video.durationMs > maxSeconds * 1000)
      issues.push({
        code: 'video_too_long',
        severity: 'error',
        field: `media[${input.media.indexOf(video)}]`,
        message: `This channel uploads videos of up to ${plural(maxSeconds / 60, 'minute', 'minutes')} (YouTube allows longer ones once the channel is verified); this one lasts ${plural(Math.ceil(video.durationMs / 1000), 'second', 'seconds')}.`,
      });
  });
  return issues;
}
