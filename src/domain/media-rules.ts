import { PLATFORM_LIMITS } from '../../config/platform-limits';
import type { MediaKind, Platform } from './vocabulary';

/** Longest alt text of a medium, in characters. */
export const ALT_TEXT_MAX = 1000;

/**
 * What Gaung accepts as an upload, and what must happen to a medium before a platform takes it.
 * Pure decisions from facts (type, size, dimensions, duration, codecs); src/services/media/ does
 * the sniffing, probing and re-encoding. Byte and duration caps come from config/platform-limits.ts;
 * this file adds what only media preparation needs (formats, aspect ratios, dimensions, codecs).
 */

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif';
export type VideoContainer = 'mp4' | 'mov';

export type AcceptedType =
  | { kind: 'image'; mime: string; format: ImageFormat; label: string }
  | { kind: 'video'; mime: string; container: VideoContainer; label: string };

/** Keyed by the MIME type file-type sniffs from the bytes. */
const ACCEPTED: Record<string, AcceptedType> = {
  'image/jpeg': { kind: 'image', mime: 'image/jpeg', format: 'jpeg', label: 'JPEG' },
  'image/png': { kind: 'image', mime: 'image/png', format: 'png', label: 'PNG' },
  'image/webp': { kind: 'image', mime: 'image/webp', format: 'webp', label: 'WebP' },
  'image/gif': { kind: 'image', mime: 'image/gif', format: 'gif', label: 'GIF' },
  'video/mp4': { kind: 'video', mime: 'video/mp4', container: 'mp4', label: 'MP4' },
  // An MP4 with Apple's brand; the container is the same.
  'video/x-m4v': { kind: 'video', mime: 'video/mp4', container: 'mp4', label: 'MP4' },
  'video/quicktime': { kind: 'video', mime: 'video/quicktime', container: 'mov', label: 'MOV' },
};

export const ACCEPTED_LABELS = 'JPEG, PNG, WebP, GIF, MP4 or MOV';

/** The accepted type for a sniffed MIME type, or null when Gaung does not take it. */
export const acceptedType = (sniffedMime: string | undefined): AcceptedType | null =>
  (sniffedMime && ACCEPTED[sniffedMime]) || null;

export const MIME_OF_FORMAT: Record<ImageFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
};

export const MIME_OF_CONTAINER: Record<VideoContainer, string> = {
  mp4: 'video/mp4',
  mov: 'video/quicktime',
};

const LABEL_OF_FORMAT: Record<ImageFormat, string> = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', gif: 'GIF' };

const IMAGE_EXTENSIONS = new Set([
  'jpg',
  'jpeg',
  'jpe',
  'jfif',
  'png',
  'webp',
  'gif',
  'heic',
  'heif',
  'avif',
  'bmp',
  'tif',
  'tiff',
]);
const VIDEO_EXTENSIONS = new Set([
  'mp4',
  'm4v',
  'mov',
  'qt',
  'avi',
  'mkv',
  'webm',
  '3gp',
  'wmv',
  'mpg',
  'mpeg',
]);

/**
 * The kind the client claims (file name extension, else the part's Content-Type). Never used to
 * decide the type, only to refuse a file whose bytes say something else than its name.
 */
export function claimedKind(fileName: string, contentType: string | undefined): MediaKind | null {
  const extension = /\.([A-Za-z0-9]{1,5})$/.exec(fileName)?.[1]?.toLowerCase();
  if (extension && IMAGE_EXTENSIONS.has(extension)) return 'image';
  if (extension && VIDEO_EXTENSIONS.has(extension)) return 'video';
  const major = contentType?.split('/')[0]?.toLowerCase();
  return major === 'image' || major === 'video' ? major : null;
}

/** Why a client-supplied file name is refused, or null when it is fine to keep as a label. */
export function fileNameProblem(fileName: string): string | null {
  if (Buffer.byteLength(fileName) > 255) return 'is longer than 255 bytes';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(fileName)) return 'contains control characters';
  if (/[/\\]/.test(fileName)) return 'contains a path ("/" or "\\"); send the file name only';
  if (fileName === '.' || fileName === '..') return 'is not a file name';
  return null;
}

/**
 * What Gaung knows about a stored medium (dimensions as displayed, after EXIF rotation): the one
 * shape that rendering checks, views show and adapters receive.
 */
export interface MediaFacts {
  kind: MediaKind;
  mime: string;
  bytes: number;
  width: number | null;
  height: number | null;
  durationMs: number | null;
}

/** The facts with what inspection found, which decide how a medium is prepared for a platform. */
export interface InspectedMediaFacts extends MediaFacts {
  /** More than one frame (GIF, WebP). */
  animated: boolean;
  hasAlpha: boolean;
  /** EXIF, XMP or IPTC data (camera, often GPS position): never published. */
  hasMetadata: boolean;
  videoCodec: string | null;
  audioCodec: string | null;
}

/** An issue for the preview, shaped like the preview's other validation issues. */
export interface MediaIssue {
  code: string;
  message: string;
  severity: 'error' | 'warning';
  /** `media[<index>]`, the medium's place in the post. */
  field?: string;
  mediaId?: string;
}

interface VideoRules {
  containers: readonly VideoContainer[];
  /** ffprobe codec names; null: any. */
  codecs: readonly string[] | null;
  minSeconds: number | null;
}

interface MediaRules {
  /** Image formats the platform takes as they are. */
  imageFormats: readonly ImageFormat[];
  /** Keeps GIF animation; elsewhere only the first frame is published. */
  animation: boolean;
  /** Animated GIFs have their own cap where the platform says so (X: 15 MB). */
  animatedMaxBytes: number | null;
  /** Width ÷ height; outside it the image is padded (never cropped). */
  aspect: { min: number; max: number } | null;
  maxSideSum: number | null;
  video: VideoRules | null;
  /** Caps Meta documents for Facebook but config/platform-limits.ts leaves open. */
  fallback?: { imageMaxBytes: number; videoMaxBytes: number; videoMaxSeconds: number };
  why: { formats?: string; aspect?: string; sideSum?: string; bytes?: string };
}

const MB = 1024 * 1024;
const ANY_IMAGE: readonly ImageFormat[] = ['jpeg', 'png', 'webp', 'gif'];

export const MEDIA_RULES: Readonly<Record<Platform, MediaRules>> = {
  // https://docs.x.com/x-api/media/quickstart/best-practices: JPEG, PNG, WebP, GIF; GIF 15 MB; MP4 H.264, 0.5–140 s.
  x: {
    imageFormats: ANY_IMAGE,
    animation: true,
    animatedMaxBytes: 15 * MB,
    aspect: null,
    maxSideSum: null,
    video: { containers: ['mp4'], codecs: ['h264'], minSeconds: 0.5 },
    why: { bytes: 'X takes images of up to 5 MB' },
  },
  // app.bsky.embed.images: image/* up to 2,000,000 bytes, shown still; app.bsky.embed.video: video/mp4.
  bluesky: {
    imageFormats: ANY_IMAGE,
    animation: false,
    animatedMaxBytes: null,
    aspect: null,
    maxSideSum: null,
    video: { containers: ['mp4'], codecs: null, minSeconds: null },
    why: { bytes: 'Bluesky takes images of up to 2,000,000 bytes' },
  },
  // https://docs.joinmastodon.org/user/posting/#media (instance defaults).
  mastodon: {
    imageFormats: ANY_IMAGE,
    animation: true,
    animatedMaxBytes: null,
    aspect: null,
    maxSideSum: null,
    video: { containers: ['mp4', 'mov'], codecs: null, minSeconds: null },
    why: { bytes: 'Mastodon takes images of up to 16 MB' },
  },
  // https://developers.facebook.com/docs/threads/overview#media-specifications: JPEG, PNG; 10:1 at most; MOV/MP4 H.264 or HEVC.
  threads: {
    imageFormats: ['jpeg', 'png'],
    animation: false,
    animatedMaxBytes: null,
    aspect: { min: 1 / 10, max: 10 },
    maxSideSum: null,
    video: { containers: ['mp4', 'mov'], codecs: ['h264', 'hevc'], minSeconds: null },
    why: {
      formats: 'Threads takes JPEG and PNG',
      aspect: 'Threads takes images up to 10:1',
      bytes: 'Threads takes images of up to 8 MB',
    },
  },
  // https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media: feed images JPEG, 4:5 to 1.91:1; reels MOV/MP4 H.264 or HEVC, from 3 s.
  instagram: {
    imageFormats: ['jpeg'],
    animation: false,
    animatedMaxBytes: null,
    aspect: { min: 4 / 5, max: 1.91 },
    maxSideSum: null,
    video: { containers: ['mp4', 'mov'], codecs: ['h264', 'hevc'], minSeconds: 3 },
    why: {
      formats: 'Instagram takes JPEG only',
      aspect: 'Instagram feed images must be between 4:5 and 1.91:1',
      bytes: 'Instagram takes images of up to 8 MB',
    },
  },
  // https://developers.facebook.com/docs/graph-api/reference/page/photos: JPEG, PNG, GIF up to 4 MB; videos by file_url up to 1 GB and 20 min.
  facebook: {
    imageFormats: ['jpeg', 'png', 'gif'],
    animation: false,
    animatedMaxBytes: null,
    aspect: null,
    maxSideSum: null,
    video: { containers: ['mp4', 'mov'], codecs: null, minSeconds: null },
    fallback: { imageMaxBytes: 4 * MB, videoMaxBytes: 1000 * MB, videoMaxSeconds: 20 * 60 },
    why: { formats: 'Facebook takes JPEG, PNG and GIF photos', bytes: 'Facebook takes photos of up to 4 MB' },
  },
  // https://core.telegram.org/bots/api#sendphoto: 10 MB, width + height ≤ 10,000, ratio ≤ 20; GIFs as animations; MPEG-4 video.
  telegram: {
    imageFormats: ['jpeg', 'png', 'webp', 'gif'],
    animation: true,
    animatedMaxBytes: 50 * MB,
    aspect: { min: 1 / 20, max: 20 },
    maxSideSum: 10_000,
    video: { containers: ['mp4'], codecs: ['h264'], minSeconds: null },
    why: {
      aspect: 'Telegram photos may be at most 20 times wider than high or the other way round',
      sideSum: 'Telegram photos must measure at most 10,000 in width + height',
      bytes: 'Telegram takes photos of up to 10 MB',
    },
  },
  // https://developers.google.com/youtube/v3/docs/thumbnails/set: thumbnails image/jpeg or image/png; videos.insert takes video/* (MP4 and MOV here).
  youtube: {
    imageFormats: ['jpeg', 'png'],
    animation: false,
    animatedMaxBytes: null,
    aspect: null,
    maxSideSum: null,
    video: { containers: ['mp4', 'mov'], codecs: null, minSeconds: null },
    why: { formats: 'YouTube thumbnails are JPEG or PNG', bytes: 'YouTube takes thumbnails of up to 2 MB' },
  },
  // https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide: photos JPEG or WebP; videos MP4, WebM, MOV (H.264, H.265, VP8, VP9).
  tiktok: {
    imageFormats: ['jpeg', 'webp'],
    animation: false,
    animatedMaxBytes: null,
    aspect: null,
    maxSideSum: null,
    video: { containers: ['mp4', 'mov'], codecs: ['h264', 'hevc', 'vp8', 'vp9'], minSeconds: null },
    why: { formats: 'TikTok takes JPEG and WebP photos', bytes: 'TikTok takes photos of up to 20 MB' },
  },
  webhook: {
    imageFormats: ANY_IMAGE,
    animation: true,
    animatedMaxBytes: null,
    aspect: null,
    maxSideSum: null,
    video: { containers: ['mp4', 'mov'], codecs: null, minSeconds: null },
    why: {},
  },
  sandbox: {
    imageFormats: ANY_IMAGE,
    animation: true,
    animatedMaxBytes: null,
    aspect: null,
    maxSideSum: null,
    video: { containers: ['mp4', 'mov'], codecs: null, minSeconds: null },
    why: {},
  },
};

/**
 * Press room downloads are the rendition made for webhooks: any format, no size, aspect or byte
 * limits, so the original resolution, but camera and location data removed like for every platform.
 */
export const PRESS_DOWNLOAD_PLATFORM: Platform = 'webhook';

/** The byte and duration caps of a platform for media. */
export function mediaCaps(platform: Platform): {
  imageMaxBytes: number | null;
  videoMaxBytes: number | null;
  videoMaxSeconds: number | null;
} {
  const limits = PLATFORM_LIMITS[platform];
  const fallback = MEDIA_RULES[platform].fallback;
  return {
    imageMaxBytes: limits.maxImageBytes ?? fallback?.imageMaxBytes ?? null,
    videoMaxBytes: limits.maxVideoBytes ?? fallback?.videoMaxBytes ?? null,
    videoMaxSeconds: limits.maxVideoSeconds ?? fallback?.videoMaxSeconds ?? null,
  };
}

/** What to do to an image: the output format, size and padding, and the byte cap to encode under. */
export interface ImagePlan {
  format: ImageFormat;
  /** Publish the first frame only. */
  still: boolean;
  /** Transparency onto white (JPEG has none). */
  flatten: boolean;
  /** The picture's size after scaling (before padding). */
  width: number;
  height: number;
  /** The canvas after padding to an accepted aspect ratio; equal to width × height when not padded. */
  canvasWidth: number;
  canvasHeight: number;
  maxBytes: number | null;
}

/**
 * How to re-encode a video whose codec the platform does not take: H.264 (libx264) with AAC audio
 * in MP4, at the displayed size rounded down to even numbers (4:2:0 chroma needs them).
 */
export interface VideoPlan {
  preset: string;
  /** libx264 constant quality: lower is better and larger. */
  crf: number;
  audioBitRate: number;
  width: number | null;
  height: number | null;
  /** The platform's byte cap; a result above it is refused. */
  maxBytes: number | null;
}

export type MediaPlan =
  | { outcome: 'keep'; warnings: MediaIssue[] }
  | { outcome: 'image'; image: ImagePlan; changes: string[]; warnings: MediaIssue[] }
  | { outcome: 'rewrap'; changes: string[]; warnings: MediaIssue[] }
  | { outcome: 'strip'; container: VideoContainer; changes: string[]; warnings: MediaIssue[] }
  | { outcome: 'transcode'; video: VideoPlan; changes: string[]; warnings: MediaIssue[] }
  | { outcome: 'refuse'; issues: MediaIssue[] };

export const formatOfMime = (mime: string): ImageFormat | null =>
  (Object.keys(MIME_OF_FORMAT) as ImageFormat[]).find((format) => MIME_OF_FORMAT[format] === mime) ?? null;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** "9:16" for simple ratios, "2.35:1" otherwise. */
export function aspectLabel(width: number, height: number): string {
  const divisor = gcd(width, height);
  const [w, h] = [width / divisor, height / divisor];
  if (w <= 32 && h <= 32) return `${w}:${h}`;
  return width >= height ? `${(width / height).toFixed(2)}:1` : `1:${(height / width).toFixed(2)}`;
}

export const megabytesLabel = (bytes: number) =>
  bytes % MB === 0 ? `${bytes / MB} MB` : `${(bytes / 1_000_000).toLocaleString('en')} MB`;

const issue = (code: string, severity: MediaIssue['severity'], message: string): MediaIssue => ({
  code,
  severity,
  message,
});

function planImage(facts: InspectedMediaFacts, platform: Platform): MediaPlan {
  const rules = MEDIA_RULES[platform];
  const caps = mediaCaps(platform);
  const source = formatOfMime(facts.mime);
  const width = facts.width;
  const height = facts.height;
  if (!source || !width || !height)
    return {
      outcome: 'refuse',
      issues: [issue('media_unreadable', 'error', 'This image could not be read; upload it again.')],
    };
  const changes: string[] = [];
  const warnings: MediaIssue[] = [];
  const keepsAnimation = facts.animated && rules.animation;
  const still = facts.animated && !rules.animation;
  if (still) {
    changes.push('kept the first frame only: the platform shows animated images as still pictures');
    warnings.push(
      issue('animation_dropped', 'warning', 'Only the first frame of this animation will be published.'),
    );
  }

  let format = source;
  const convert = !rules.imageFormats.includes(source);
  if (convert) format = facts.hasAlpha && rules.imageFormats.includes('png') ? 'png' : 'jpeg';
  const flatten = format === 'jpeg' && facts.hasAlpha;

  const maxBytes =
    keepsAnimation && rules.animatedMaxBytes !== null ? rules.animatedMaxBytes : caps.imageMaxBytes;

  // Pad into the accepted aspect ratio; cropping could cut text off posters and infographics.
  let canvasWidth = width;
  let canvasHeight = height;
  if (rules.aspect) {
    const ratio = width / height;
    if (ratio < rules.aspect.min) canvasWidth = Math.ceil(height * rules.aspect.min);
    else if (ratio > rules.aspect.max) canvasHeight = Math.ceil(width / rules.aspect.max);
  }
  const padded = canvasWidth !== width || canvasHeight !== height;

  let scale = 1;
  if (rules.maxSideSum !== null && canvasWidth + canvasHeight > rules.maxSideSum)
    scale = rules.maxSideSum / (canvasWidth + canvasHeight);
  const scaled = (value: number) => Math.max(1, Math.floor(value * scale));
  const plan: ImagePlan = {
    format,
    still,
    flatten,
    width: scaled(width),
    height: scaled(height),
    canvasWidth: scaled(canvasWidth),
    canvasHeight: scaled(canvasHeight),
    maxBytes,
  };

  if (convert) {
    changes.push(
      `converted ${LABEL_OF_FORMAT[source]} to ${LABEL_OF_FORMAT[format]} (${rules.why.formats ?? 'the platform does not take this format'})`,
    );
    warnings.push(
      issue(
        'image_will_be_converted',
        'warning',
        `This ${LABEL_OF_FORMAT[source]} image will be converted to ${LABEL_OF_FORMAT[format]}.`,
      ),
    );
  }
  if (flatten) changes.push('flattened transparency onto white (JPEG has no transparency)');
  // Phone photos carry the place they were taken; re-encoding drops it before anything is published.
  if (facts.hasMetadata) changes.push('removed camera and location data (EXIF)');
  if (padded) {
    changes.push(
      `padded from ${aspectLabel(width, height)} to ${aspectLabel(canvasWidth, canvasHeight)} with white bars (${rules.why.aspect})`,
    );
    warnings.push(
      issue(
        'image_will_be_padded',
        'warning',
        `This ${aspectLabel(width, height)} image will get white bars to ${aspectLabel(canvasWidth, canvasHeight)}: ${rules.why.aspect}.`,
      ),
    );
  }
  if (scale < 1) {
    changes.push(
      `resized from ${width}×${height} to ${plan.width}×${plan.height} (${rules.why.sideSum ?? 'too large for the platform'})`,
    );
    warnings.push(
      issue(
        'image_will_be_resized',
        'warning',
        `This image will be resized to ${plan.canvasWidth}×${plan.canvasHeight}.`,
      ),
    );
  }
  const tooHeavy = maxBytes !== null && facts.bytes > maxBytes;
  if (tooHeavy)
    warnings.push(
      issue(
        'image_will_be_compressed',
        'warning',
        `This image (${megabytesLabel(facts.bytes)}) will be compressed to fit ${megabytesLabel(maxBytes)}.`,
      ),
    );
  if (changes.length === 0 && !tooHeavy) return { outcome: 'keep', warnings };
  return { outcome: 'image', image: plan, changes, warnings };
}

const seconds = (value: number) => `${Number.isInteger(value) ? value : value.toFixed(1)} s`;

const CODEC_LABELS: Record<string, string> = { h264: 'H.264', hevc: 'HEVC' };
/** "H.264" for ffprobe's `h264`; other codec names in capitals. */
const codecLabel = (codec: string) => CODEC_LABELS[codec] ?? codec.toUpperCase();
const even = (value: number | null) => (value === null ? null : Math.max(2, value - (value % 2)));
/**
 * Phones write where a video was recorded, and on what, into its container (QuickTime and MP4
 * metadata). Every step that writes a video with ffmpeg (rewrap, re-encode, strip) leaves it out.
 */
const VIDEO_METADATA_REMOVED = 'removed camera and location data (video metadata)';

function planVideo(facts: InspectedMediaFacts, platform: Platform, tools: { ffmpeg: boolean }): MediaPlan {
  const rules = MEDIA_RULES[platform].video;
  const caps = mediaCaps(platform);
  const label = PLATFORM_LIMITS[platform].label;
  if (!rules)
    return {
      outcome: 'refuse',
      issues: [issue('video_unsupported', 'error', `${label} takes no videos here.`)],
    };
  const issues: MediaIssue[] = [];
  const warnings: MediaIssue[] = [];
  if (caps.videoMaxBytes !== null && facts.bytes > caps.videoMaxBytes)
    issues.push(
      issue(
        'video_too_large',
        'error',
        `This video is ${megabytesLabel(facts.bytes)}; ${label} takes videos of up to ${megabytesLabel(caps.videoMaxBytes)}. Shorten it or export it at a lower quality.`,
      ),
    );
  if (facts.durationMs === null)
    warnings.push(
      issue(
        'video_unchecked',
        'warning',
        `The length of this video is unknown (ffprobe is not installed); ${label} may refuse it.`,
      ),
    );
  else {
    const length = facts.durationMs / 1000;
    if (caps.videoMaxSeconds !== null && length > caps.videoMaxSeconds)
      issues.push(
        issue(
          'video_too_long',
          'error',
          `This video lasts ${seconds(length)}; ${label} takes videos of up to ${seconds(caps.videoMaxSeconds)}.`,
        ),
      );
    if (rules.minSeconds !== null && length < rules.minSeconds)
      issues.push(
        issue(
          'video_too_short',
          'error',
          `This video lasts ${seconds(length)}; ${label} takes videos of at least ${seconds(rules.minSeconds)}.`,
        ),
      );
  }
  const codec = facts.videoCodec;
  const transcode = rules.codecs !== null && codec !== null && !rules.codecs.includes(codec);
  const accepted = rules.codecs?.map(codecLabel).join(' or ');
  if (transcode && !tools.ffmpeg)
    issues.push(
      issue(
        'video_codec_unsupported',
        'error',
        `This video is encoded as ${codecLabel(codec)}; ${label} takes ${accepted}. Export it as H.264.`,
      ),
    );
  const container = acceptedType(facts.mime);
  const rewrap = container?.kind === 'video' && !rules.containers.includes(container.container);
  if (rewrap && !tools.ffmpeg)
    issues.push(
      issue(
        'video_rewrap_unavailable',
        'error',
        `${label} takes MP4 videos; this MOV would have to be rewrapped, which needs ffmpeg on the server.`,
      ),
    );
  if (issues.length > 0) return { outcome: 'refuse', issues };
  if (transcode) {
    warnings.push(
      issue(
        'video_will_be_transcoded',
        'warning',
        `This ${codecLabel(codec)} video will be re-encoded as H.264 for ${label}.`,
      ),
    );
    return {
      outcome: 'transcode',
      video: {
        preset: 'veryfast',
        crf: 23,
        audioBitRate: 128_000,
        width: even(facts.width),
        height: even(facts.height),
        maxBytes: caps.videoMaxBytes,
      },
      changes: [
        `re-encoded ${codecLabel(codec)} as H.264 in MP4 (${label} takes ${accepted})`,
        VIDEO_METADATA_REMOVED,
      ],
      warnings,
    };
  }
  if (rewrap) {
    warnings.push(
      issue(
        'video_will_be_rewrapped',
        'warning',
        `This MOV video will be rewrapped as MP4 for ${label} (not re-encoded).`,
      ),
    );
    return {
      outcome: 'rewrap',
      changes: [`rewrapped MOV as MP4 without re-encoding (${label} takes MP4)`, VIDEO_METADATA_REMOVED],
      warnings,
    };
  }
  // Whether a video carries a location is not recorded at upload, so every video is copied without
  // its metadata (a stream copy: quick, and the picture and sound stay as they were).
  if (tools.ffmpeg && container?.kind === 'video')
    return { outcome: 'strip', container: container.container, changes: [VIDEO_METADATA_REMOVED], warnings };
  warnings.push(
    issue(
      'video_metadata_kept',
      'warning',
      `Any recording location or camera data in this video will reach ${label}: removing it needs ffmpeg on the server.`,
    ),
  );
  return { outcome: 'keep', warnings };
}

/**
 * What must happen to a medium before `platform` takes it: keep it, re-encode the image, rewrap the
 * video as MP4, re-encode the video as H.264, copy the video without its metadata, or refuse it with
 * the reasons. `tools.ffmpeg`: whether the server can rewrap, re-encode and strip videos; without it
 * videos go as they are, metadata included.
 */
export function planMedia(
  facts: InspectedMediaFacts,
  platform: Platform,
  tools: { ffmpeg: boolean },
): MediaPlan {
  return facts.kind === 'image' ? planImage(facts, platform) : planVideo(facts, platform, tools);
}

/** One encoding try: quality for lossy formats, and a scale applied to the planned size. */
export interface EncodingAttempt {
  quality: number;
  scale: number;
}

export const FIRST_ATTEMPT: EncodingAttempt = { quality: 90, scale: 1 };
const LOWEST_QUALITY = 70;
const SMALLEST_SCALE = 0.05;

/**
 * The next try after an encoding came out at `bytes` over `maxBytes`: lower the quality of lossy
 * formats down to 70, then shrink the picture by about the square root of the excess. Null: give up.
 */
export function nextAttempt(
  previous: EncodingAttempt,
  format: ImageFormat,
  bytes: number,
  maxBytes: number,
): EncodingAttempt | null {
  const lossy = format === 'jpeg' || format === 'webp';
  if (lossy && previous.quality > LOWEST_QUALITY)
    return { quality: Math.max(LOWEST_QUALITY, previous.quality - 10), scale: previous.scale };
  const shrink = Math.min(0.9, Math.max(0.3, Math.sqrt(maxBytes / bytes) * 0.95));
  const scale = previous.scale * shrink;
  return scale < SMALLEST_SCALE ? null : { quality: previous.quality, scale };
}
