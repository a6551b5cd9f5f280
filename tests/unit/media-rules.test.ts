import { describe, expect, it } from 'vitest';
import {
  acceptedType,
  aspectLabel,
  claimedKind,
  FIRST_ATTEMPT,
  fileNameProblem,
  type InspectedMediaFacts,
  mediaCaps,
  nextAttempt,
  planMedia,
} from '../../src/domain/media-rules';

const MB = 1024 * 1024;

const image = (facts: Partial<InspectedMediaFacts> = {}): InspectedMediaFacts => ({
  kind: 'image',
  mime: 'image/jpeg',
  bytes: 500_000,
  width: 1080,
  height: 1350,
  durationMs: null,
  animated: false,
  hasAlpha: false,
  hasMetadata: false,
  videoCodec: null,
  audioCodec: null,
  ...facts,
});

const video = (facts: Partial<InspectedMediaFacts> = {}): InspectedMediaFacts => ({
  kind: 'video',
  mime: 'video/mp4',
  bytes: 20 * MB,
  width: 1080,
  height: 1920,
  durationMs: 30_000,
  animated: false,
  hasAlpha: false,
  hasMetadata: false,
  videoCodec: 'h264',
  audioCodec: 'aac',
  ...facts,
});

const withFfmpeg = { ffmpeg: true };
const VIDEO_METADATA_REMOVED = 'removed camera and location data (video metadata)';

describe('what Gaung accepts', () => {
  it('takes JPEG, PNG, WebP, GIF, MP4 and MOV by their sniffed type only', () => {
    expect(acceptedType('image/jpeg')).toMatchObject({ kind: 'image', format: 'jpeg' });
    expect(acceptedType('image/png')).toMatchObject({ kind: 'image', format: 'png' });
    expect(acceptedType('image/webp')).toMatchObject({ kind: 'image', format: 'webp' });
    expect(acceptedType('image/gif')).toMatchObject({ kind: 'image', format: 'gif' });
    expect(acceptedType('video/mp4')).toMatchObject({ kind: 'video', container: 'mp4' });
    expect(acceptedType('video/x-m4v')).toMatchObject({ kind: 'video', container: 'mp4', mime: 'video/mp4' });
    expect(acceptedType('video/quicktime')).toMatchObject({ kind: 'video', container: 'mov' });
    for (const other of [
      'image/heic',
      'image/svg+xml',
      'text/html',
      'video/webm',
      'application/pdf',
      undefined,
    ])
      expect(acceptedType(other)).toBeNull();
  });

  it('reads what the client claims from the extension, then the Content-Type', () => {
    expect(claimedKind('video.MP4', 'image/png')).toBe('video');
    expect(claimedKind('IMG_0001.HEIC', undefined)).toBe('image');
    expect(claimedKind('rekaman', 'video/quicktime')).toBe('video');
    expect(claimedKind('file.bin', 'application/octet-stream')).toBeNull();
  });

  it('refuses file names with paths or control characters', () => {
    expect(fileNameProblem('Foto kegiatan (1).JPG')).toBeNull();
    expect(fileNameProblem('../../etc/passwd')).toMatch(/path/);
    expect(fileNameProblem('C:\\Users\\foto.jpg')).toMatch(/path/);
    expect(fileNameProblem('foto\u0000.jpg')).toMatch(/control/);
    expect(fileNameProblem('..')).not.toBeNull();
    expect(fileNameProblem(`${'a'.repeat(300)}.jpg`)).toMatch(/255/);
  });
});

describe('image preparation per platform', () => {
  it('keeps an image every platform takes', () => {
    for (const platform of [
      'x',
      'bluesky',
      'mastodon',
      'threads',
      'instagram',
      'facebook',
      'telegram',
      'webhook',
    ] as const)
      expect(planMedia(image(), platform, withFfmpeg).outcome, platform).toBe('keep');
  });

  it('re-encodes a photo that carries camera or location data, on every platform', () => {
    for (const platform of ['x', 'bluesky', 'mastodon', 'telegram', 'webhook'] as const) {
      const plan = planMedia(image({ hasMetadata: true }), platform, withFfmpeg);
      expect(plan.outcome, platform).toBe('image');
      if (plan.outcome === 'image') expect(plan.changes).toEqual(['removed camera and location data (EXIF)']);
    }
  });

  it('pads Instagram feed images into 4:5 … 1.91:1 and converts them to JPEG', () => {
    const story = planMedia(image({ width: 1080, height: 1920 }), 'instagram', withFfmpeg);
    expect(story).toMatchObject({
      outcome: 'image',
      image: { format: 'jpeg', width: 1080, height: 1920, canvasWidth: 1536, canvasHeight: 1920 },
      changes: [
        'padded from 9:16 to 4:5 with white bars (Instagram feed images must be between 4:5 and 1.91:1)',
      ],
    });
    const panorama = planMedia(image({ width: 4000, height: 1000 }), 'instagram', withFfmpeg);
    expect(panorama).toMatchObject({ outcome: 'image', image: { canvasWidth: 4000, canvasHeight: 2095 } });
    const png = planMedia(image({ mime: 'image/png', hasAlpha: true }), 'instagram', withFfmpeg);
    expect(png).toMatchObject({ outcome: 'image', image: { format: 'jpeg', flatten: true } });
    if (png.outcome === 'image') expect(png.warnings.map((w) => w.code)).toEqual(['image_will_be_converted']);
  });

  it('resizes Telegram photos to width + height ≤ 10,000 and pads beyond 20:1', () => {
    const big = planMedia(image({ width: 8000, height: 6000 }), 'telegram', withFfmpeg);
    expect(big).toMatchObject({ outcome: 'image', image: { width: 5714, height: 4285 } });
    const strip = planMedia(image({ width: 4200, height: 100 }), 'telegram', withFfmpeg);
    expect(strip).toMatchObject({ outcome: 'image', image: { canvasWidth: 4200, canvasHeight: 210 } });
  });

  it('compresses over the byte caps: X 5 MB, Bluesky 2,000,000 bytes, Facebook 4 MB', () => {
    expect(planMedia(image({ bytes: 6 * MB }), 'x', withFfmpeg)).toMatchObject({
      outcome: 'image',
      image: { format: 'jpeg', maxBytes: 5 * MB },
    });
    const bluesky = planMedia(image({ bytes: 2_000_001 }), 'bluesky', withFfmpeg);
    expect(bluesky).toMatchObject({ outcome: 'image', image: { maxBytes: 2_000_000 } });
    if (bluesky.outcome === 'image') expect(bluesky.warnings[0]!.code).toBe('image_will_be_compressed');
    expect(planMedia(image({ bytes: 2_000_000 }), 'bluesky', withFfmpeg).outcome).toBe('keep');
    expect(mediaCaps('facebook').imageMaxBytes).toBe(4 * MB);
    expect(planMedia(image({ bytes: 5 * MB }), 'facebook', withFfmpeg)).toMatchObject({
      image: { maxBytes: 4 * MB },
    });
  });

  it('keeps GIF animation on X up to 15 MB, and only the first frame where it is not played', () => {
    const gif = image({ mime: 'image/gif', animated: true, bytes: 10 * MB });
    expect(planMedia(gif, 'x', withFfmpeg).outcome).toBe('keep');
    expect(planMedia({ ...gif, bytes: 16 * MB }, 'x', withFfmpeg)).toMatchObject({
      image: { maxBytes: 15 * MB },
    });
    expect(planMedia(gif, 'threads', withFfmpeg)).toMatchObject({ image: { still: true, format: 'jpeg' } });
    expect(planMedia({ ...gif, bytes: 1 * MB }, 'bluesky', withFfmpeg)).toMatchObject({
      image: { still: true, format: 'gif' },
    });
  });
});

describe('video preparation per platform', () => {
  const refusal = (
    facts: InspectedMediaFacts,
    platform: Parameters<typeof planMedia>[1],
    tools = withFfmpeg,
  ) => {
    const plan = planMedia(facts, platform, tools);
    return plan.outcome === 'refuse' ? plan.issues.map((issue) => issue.code) : [];
  };

  it('refuses what cannot be made acceptable, with a reason per platform', () => {
    expect(refusal(video({ durationMs: 141_000 }), 'x')).toEqual(['video_too_long']);
    expect(refusal(video({ durationMs: 400 }), 'x')).toEqual(['video_too_short']);
    expect(refusal(video({ durationMs: 2_000 }), 'instagram')).toEqual(['video_too_short']);
    expect(refusal(video({ durationMs: 181_000 }), 'bluesky')).toEqual(['video_too_long']);
    expect(refusal(video({ bytes: 51 * MB }), 'telegram')).toEqual(['video_too_large']);
    expect(refusal(video({ durationMs: 3_600_000, bytes: 900 * MB }), 'webhook')).toEqual([]);
  });

  it('rewraps MOV as MP4 where only MP4 is taken, if ffmpeg is there, without its metadata', () => {
    const mov = video({ mime: 'video/quicktime' });
    expect(planMedia(mov, 'x', withFfmpeg)).toEqual({
      outcome: 'rewrap',
      changes: ['rewrapped MOV as MP4 without re-encoding (X takes MP4)', VIDEO_METADATA_REMOVED],
      warnings: [
        {
          code: 'video_will_be_rewrapped',
          severity: 'warning',
          message: 'This MOV video will be rewrapped as MP4 for X (not re-encoded).',
        },
      ],
    });
    expect(planMedia(mov, 'instagram', withFfmpeg).outcome).toBe('strip');
    expect(refusal(mov, 'telegram', { ffmpeg: false })).toEqual(['video_rewrap_unavailable']);
  });

  it('copies every other video without its metadata, in its own container, on every platform', () => {
    const platforms = [
      'x',
      'bluesky',
      'mastodon',
      'threads',
      'instagram',
      'facebook',
      'telegram',
      'webhook',
      'sandbox',
    ] as const;
    for (const platform of platforms)
      expect(planMedia(video(), platform, withFfmpeg), platform).toEqual({
        outcome: 'strip',
        container: 'mp4',
        changes: [VIDEO_METADATA_REMOVED],
        warnings: [],
      });
    const mov = video({ mime: 'video/quicktime', videoCodec: 'hevc' });
    expect(planMedia(mov, 'threads', withFfmpeg)).toMatchObject({ outcome: 'strip', container: 'mov' });
  });

  it('sends videos as they are without ffmpeg, warning on each channel that the location stays', () => {
    expect(planMedia(video(), 'facebook', { ffmpeg: false })).toEqual({
      outcome: 'keep',
      warnings: [
        {
          code: 'video_metadata_kept',
          severity: 'warning',
          message:
            'Any recording location or camera data in this video will reach Facebook: removing it needs ffmpeg on the server.',
        },
      ],
    });
    const mov = video({ mime: 'video/quicktime', videoCodec: 'hevc' });
    expect(planMedia(mov, 'instagram', { ffmpeg: false })).toMatchObject({
      outcome: 'keep',
      warnings: [{ code: 'video_metadata_kept' }],
    });
  });

  it('re-encodes HEVC as H.264 in MP4 where only H.264 is taken, keeping an even size', () => {
    const iphone = video({ mime: 'video/quicktime', videoCodec: 'hevc', width: 1081, height: 1921 });
    expect(planMedia(iphone, 'x', withFfmpeg)).toEqual({
      outcome: 'transcode',
      video: {
        preset: 'veryfast',
        crf: 23,
        audioBitRate: 128_000,
        width: 1080,
        height: 1920,
        maxBytes: 512 * MB,
      },
      changes: ['re-encoded HEVC as H.264 in MP4 (X takes H.264)', VIDEO_METADATA_REMOVED],
      warnings: [
        {
          code: 'video_will_be_transcoded',
          severity: 'warning',
          message: 'This HEVC video will be re-encoded as H.264 for X.',
        },
      ],
    });
    expect(planMedia(video({ videoCodec: 'hevc' }), 'telegram', withFfmpeg)).toMatchObject({
      outcome: 'transcode',
      video: { width: 1080, height: 1920, maxBytes: 50 * MB },
      changes: ['re-encoded HEVC as H.264 in MP4 (Telegram takes H.264)', VIDEO_METADATA_REMOVED],
    });
  });

  it('keeps HEVC where the platform takes it (copied, not re-encoded)', () => {
    const iphone = video({ mime: 'video/quicktime', videoCodec: 'hevc' });
    for (const platform of ['instagram', 'threads', 'mastodon', 'facebook'] as const)
      expect(planMedia(iphone, platform, withFfmpeg).outcome, platform).toBe('strip');
    expect(planMedia(video({ videoCodec: 'hevc' }), 'bluesky', withFfmpeg).outcome).toBe('strip');
  });

  it('refuses HEVC where only H.264 is taken when ffmpeg is not there, saying how to export it', () => {
    const plan = planMedia(video({ videoCodec: 'hevc' }), 'x', { ffmpeg: false });
    expect(plan).toEqual({
      outcome: 'refuse',
      issues: [
        {
          code: 'video_codec_unsupported',
          severity: 'error',
          message: 'This video is encoded as HEVC; X takes H.264. Export it as H.264.',
        },
      ],
    });
    const mov = video({ mime: 'video/quicktime', videoCodec: 'hevc' });
    expect(refusal(mov, 'telegram', { ffmpeg: false })).toEqual([
      'video_codec_unsupported',
      'video_rewrap_unavailable',
    ]);
  });

  it('warns when the length could not be checked', () => {
    const plan = planMedia(video({ durationMs: null, videoCodec: null }), 'x', withFfmpeg);
    expect(plan).toMatchObject({
      outcome: 'strip',
      warnings: [{ code: 'video_unchecked', severity: 'warning' }],
    });
  });
});

describe('helpers', () => {
  it('names aspect ratios the way people say them', () => {
    expect(aspectLabel(1080, 1920)).toBe('9:16');
    expect(aspectLabel(1536, 1920)).toBe('4:5');
    expect(aspectLabel(4000, 2095)).toBe('1.91:1');
    expect(aspectLabel(1000, 3001)).toBe('1:3.00');
  });

  it('lowers JPEG quality to 70 before shrinking, and gives up when nothing is left', () => {
    const second = nextAttempt(FIRST_ATTEMPT, 'jpeg', 6 * MB, 5 * MB)!;
    expect(second).toEqual({ quality: 80, scale: 1 });
    const third = nextAttempt(second, 'jpeg', 6 * MB, 5 * MB)!;
    expect(third).toEqual({ quality: 70, scale: 1 });
    const fourth = nextAttempt(third, 'jpeg', 8 * MB, 2 * MB)!;
    expect(fourth.quality).toBe(70);
    expect(fourth.scale).toBeCloseTo(0.475, 3);
    expect(nextAttempt({ quality: 90, scale: 1 }, 'png', 4 * MB, 1 * MB)!.quality).toBe(90);
    expect(nextAttempt({ quality: 70, scale: 0.06 }, 'jpeg', 10 * MB, 1 * MB)).toBeNull();
  });
});
