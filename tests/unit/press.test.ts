import { describe, expect, it } from 'vitest';
import { type InspectedMediaFacts, PRESS_DOWNLOAD_PLATFORM, planMedia } from '../../src/domain/media-rules';
import { isUsableSlug } from '../../src/domain/org';
import { pressFileName } from '../../src/domain/press';

const photo: InspectedMediaFacts = {
  kind: 'image',
  mime: 'image/jpeg',
  bytes: 38_000_000,
  width: 8000,
  height: 6000,
  durationMs: null,
  animated: false,
  hasAlpha: false,
  hasMetadata: true,
  videoCodec: null,
  audioCodec: null,
};

describe('press room downloads', () => {
  it('keep the original resolution and format of a large photo but drop its camera and location data', () => {
    const plan = planMedia(photo, PRESS_DOWNLOAD_PLATFORM, { ffmpeg: true });
    expect(plan.outcome).toBe('image');
    if (plan.outcome !== 'image') return;
    expect(plan.image).toMatchObject({
      format: 'jpeg',
      width: 8000,
      height: 6000,
      canvasWidth: 8000,
      maxBytes: null,
    });
    expect(plan.changes).toEqual(['removed camera and location data (EXIF)']);
  });

  it('keep a clean photo as it is, and copy a video without its metadata', () => {
    expect(
      planMedia({ ...photo, hasMetadata: false }, PRESS_DOWNLOAD_PLATFORM, { ffmpeg: true }).outcome,
    ).toBe('keep');
    const video = {
      ...photo,
      kind: 'video' as const,
      mime: 'video/mp4',
      videoCodec: 'hevc',
      audioCodec: 'aac',
    };
    expect(planMedia(video, PRESS_DOWNLOAD_PLATFORM, { ffmpeg: true }).outcome).toBe('strip');
  });

  it('are named after the office, the day and the first words of the post', () => {
    const base = {
      unitSlug: 'kantor-surabaya',
      publishedAt: new Date('2031-03-03T17:30:00Z'),
      mime: 'image/jpeg',
    };
    expect(
      pressFileName({
        ...base,
        text: 'Pelayanan Paspor "Simpatik" — Surabaya! hari ini, pukul 08.00',
        index: 1,
        count: 1,
      }),
    ).toBe('kantor-surabaya-2031-03-03-pelayanan-paspor-simpatik-surabaya-hari-ini.jpg');
    expect(
      pressFileName({ ...base, text: 'Kunjungan ke Pulau Bawéan', index: 2, count: 3, mime: 'video/mp4' }),
    ).toBe('kantor-surabaya-2031-03-03-kunjungan-ke-pulau-bawean-2.mp4');
    expect(pressFileName({ ...base, text: '📢🇮🇩', index: 1, count: 1 })).toBe(
      'kantor-surabaya-2031-03-03.jpg',
    );
  });
});

describe('unit slugs', () => {
  it('refuse the press room’s own paths', () => {
    expect(isUsableSlug('kantor-surabaya')).toBe(true);
    for (const reserved of ['feed.xml', 'feed.json', 'media']) expect(isUsableSlug(reserved)).toBe(false);
  });
});
