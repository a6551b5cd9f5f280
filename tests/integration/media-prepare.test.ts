import { chmod, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { and, eq } from 'drizzle-orm';
import { fileTypeFromBuffer } from 'file-type';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { media, mediaRenditions, postMedia, posts } from '../../src/db/schema';
import { AppError } from '../../src/domain/errors';
import type { Platform } from '../../src/domain/vocabulary';
import {
  loadPublishMedia,
  mediaIssuesForPlatform,
  type PreparedMedia,
  prepareMediaForPlatform,
} from '../../src/services/media';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { describeWithFfmpeg } from '../helpers/ffmpeg';
import {
  animatedGif,
  filesUnder,
  makeVideo,
  noiseImage,
  packetHashes,
  probe,
  solidImage,
  uploadMedia,
} from '../helpers/media';
import { seedTestOrg, type TestOrg, type TestUser } from '../helpers/org';

const MB = 1024 * 1024;
const VIDEO_METADATA_REMOVED = 'removed camera and location data (video metadata)';

describe.each(testDrivers())('media preparation per platform on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let office: TestUser;
  let clock = new Date('2025-06-01T02:00:00Z');

  beforeAll(async () => {
    t = await createTestApp(driver, { now: () => clock });
    org = await seedTestOrg(t.ctx);
    office = org.user('officeA1', 'contributor');
  });
  afterAll(async () => {
    await t.close();
    await rm(t.config.dataDir, { recursive: true, force: true });
  });

  const upload = async (data: Buffer, filename: string, altText = ''): Promise<string> => {
    const response = await uploadMedia(t.app, office, { filename, data }, altText ? { altText } : {});
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json().id;
  };

  /** The rendition's bytes from storage, with what they really are. */
  const bytesOf = async (prepared: PreparedMedia) => {
    const chunks: Buffer[] = [];
    for await (const chunk of await t.ctx.storage.open(prepared.sha256)) chunks.push(chunk as Buffer);
    const data = Buffer.concat(chunks);
    const type = await fileTypeFromBuffer(data);
    expect(data.length).toBe(prepared.bytes);
    expect(type?.mime).toBe(prepared.mime);
    return { data, mime: type?.mime };
  };

  const imageOf = async (prepared: PreparedMedia) => {
    const { data, mime } = await bytesOf(prepared);
    const meta = await sharp(data).metadata();
    expect([meta.width, meta.height]).toEqual([prepared.width, prepared.height]);
    return { data, mime, width: meta.width!, height: meta.height!, pages: meta.pages ?? 1 };
  };

  const refusal = async (mediaId: string, platform: Platform) => {
    const error = await prepareMediaForPlatform(t.ctx, mediaId, platform).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('media_unacceptable');
    expect((error as AppError).status).toBe(422);
    return (error as AppError).extra!.issues as { code: string; severity: string; message: string }[];
  };

  it('keeps a file the platform takes as it is, without a copy', async () => {
    const jpeg = await solidImage(800, 800).jpeg().toBuffer();
    const id = await upload(jpeg, 'square.jpg');
    for (const platform of [
      'x',
      'mastodon',
      'bluesky',
      'telegram',
      'instagram',
      'threads',
      'facebook',
    ] as const) {
      const prepared = await prepareMediaForPlatform(t.ctx, id, platform);
      expect(prepared.changes, platform).toEqual([]);
      expect(prepared.bytes).toBe(jpeg.length);
    }
  });

  it('removes camera and location data before any platform gets a photo', async () => {
    const photo = await solidImage(800, 600)
      .withExif({
        IFD0: { Make: 'Kamera Kantor', Model: 'Ponsel Petugas' },
        IFD3: {
          GPSLatitudeRef: 'S',
          GPSLatitude: '6/1 12/1 0/1',
          GPSLongitudeRef: 'E',
          GPSLongitude: '106/1 49/1 0/1',
        },
      })
      .jpeg()
      .toBuffer();
    expect((await sharp(photo).metadata()).exif).toBeDefined();
    const id = await upload(photo, 'lokasi.jpg');
    for (const platform of ['x', 'bluesky', 'telegram', 'mastodon', 'webhook'] as const) {
      const prepared = await prepareMediaForPlatform(t.ctx, id, platform);
      expect(prepared.changes, platform).toContain('removed camera and location data (EXIF)');
      const { data } = await bytesOf(prepared);
      const meta = await sharp(data).metadata();
      expect(meta.exif, platform).toBeUndefined();
      expect(data.includes(Buffer.from('Kamera Kantor')), platform).toBe(false);
    }
  });

  describe('Instagram feed images', () => {
    it('pads a tall PNG into 4:5 with white bars and converts it to JPEG', async () => {
      const id = await upload(await solidImage(600, 1200).png().toBuffer(), 'tall.png');
      const prepared = await prepareMediaForPlatform(t.ctx, id, 'instagram');
      const image = await imageOf(prepared);
      expect(image.mime).toBe('image/jpeg');
      expect([image.width, image.height]).toEqual([960, 1200]);
      expect(image.width / image.height).toBeGreaterThanOrEqual(0.8);
      // The bars are white; the picture itself is blue.
      const { data: corner } = await sharp(image.data)
        .extract({ left: 0, top: 0, width: 1, height: 1 })
        .raw()
        .toBuffer({ resolveWithObject: true });
      expect([...corner].every((v) => v > 240)).toBe(true);
      const { data: middle } = await sharp(image.data)
        .extract({ left: 480, top: 600, width: 1, height: 1 })
        .raw()
        .toBuffer({ resolveWithObject: true });
      expect(middle[2]).toBeGreaterThan(150);
      expect(prepared.changes).toEqual([
        'converted PNG to JPEG (Instagram takes JPEG only)',
        'padded from 1:2 to 4:5 with white bars (Instagram feed images must be between 4:5 and 1.91:1)',
      ]);
    });

    it('pads a panorama to 1.91:1 at most', async () => {
      const id = await upload(await solidImage(2000, 500).jpeg().toBuffer(), 'wide.jpg');
      const image = await imageOf(await prepareMediaForPlatform(t.ctx, id, 'instagram'));
      expect(image.mime).toBe('image/jpeg');
      expect(image.width).toBe(2000);
      expect(image.width / image.height).toBeLessThanOrEqual(1.91);
      expect(image.width / image.height).toBeGreaterThan(1.9);
    });

    it('publishes the first frame of an animated GIF as a JPEG', async () => {
      const id = await upload(await animatedGif(80, 80, 3), 'anim.gif');
      const prepared = await prepareMediaForPlatform(t.ctx, id, 'instagram');
      const image = await imageOf(prepared);
      expect(image.mime).toBe('image/jpeg');
      expect(image.pages).toBe(1);
      expect(prepared.changes[0]).toContain('first frame');
    });
  });

  describe('byte limits', () => {
    let heavy: string;
    let heavyBytes: number;
    beforeAll(async () => {
      const noisy = await noiseImage(2400, 1800).jpeg({ quality: 100 }).toBuffer();
      heavyBytes = noisy.length;
      heavy = await upload(noisy, 'noisy.jpg');
    });

    it('re-encodes a photo over 5 MB for X', async () => {
      expect(heavyBytes).toBeGreaterThan(5 * MB);
      const prepared = await prepareMediaForPlatform(t.ctx, heavy, 'x');
      const image = await imageOf(prepared);
      expect(image.mime).toBe('image/jpeg');
      expect(image.data.length).toBeLessThanOrEqual(5 * MB);
      expect(prepared.changes.at(-1)).toMatch(
        /^re-encoded at quality \d+.* to fit 5 MB \(X takes images of up to 5 MB\)$/,
      );
    });

    it('shrinks it under 2,000,000 bytes for Bluesky', async () => {
      const prepared = await prepareMediaForPlatform(t.ctx, heavy, 'bluesky');
      const image = await imageOf(prepared);
      expect(image.mime).toBe('image/jpeg');
      expect(image.data.length).toBeLessThanOrEqual(2_000_000);
      expect(prepared.changes.at(-1)).toContain(
        'to fit 2 MB (Bluesky takes images of up to 2,000,000 bytes)',
      );
    });

    it('brings it under 4 MB for Facebook', async () => {
      const image = await imageOf(await prepareMediaForPlatform(t.ctx, heavy, 'facebook'));
      expect(image.data.length).toBeLessThanOrEqual(4 * MB);
    });

    it('caches the rendition per (medium, platform)', async () => {
      const first = await prepareMediaForPlatform(t.ctx, heavy, 'bluesky');
      const again = await prepareMediaForPlatform(t.ctx, heavy, 'bluesky');
      expect(again).toEqual(first);
      const rows = await t.ctx.db
        .select()
        .from(mediaRenditions)
        .where(and(eq(mediaRenditions.mediaId, heavy), eq(mediaRenditions.platform, 'bluesky')));
      expect(rows).toHaveLength(1);
    });
  });

  describe('Telegram photos', () => {
    it('resizes so that width + height ≤ 10,000', async () => {
      const id = await upload(await solidImage(9000, 2000).jpeg().toBuffer(), 'banner.jpg');
      const prepared = await prepareMediaForPlatform(t.ctx, id, 'telegram');
      const image = await imageOf(prepared);
      expect(image.width + image.height).toBeLessThanOrEqual(10_000);
      expect(image.data.length).toBeLessThanOrEqual(10 * MB);
      expect(image.width / image.height).toBeCloseTo(4.5, 1);
      expect(prepared.changes).toEqual([
        'resized from 9000×2000 to 8181×1818 (Telegram photos must measure at most 10,000 in width + height)',
      ]);
    });

    it('pads a strip narrower than 20:1', async () => {
      const id = await upload(await solidImage(6000, 200).png().toBuffer(), 'strip.png');
      const image = await imageOf(await prepareMediaForPlatform(t.ctx, id, 'telegram'));
      expect(image.mime).toBe('image/png');
      expect(image.width / image.height).toBeLessThanOrEqual(20);
      expect(image.width + image.height).toBeLessThanOrEqual(10_000);
    });
  });

  describe('formats', () => {
    it('converts WebP to JPEG for Threads and Facebook, keeping transparency as PNG where it can', async () => {
      const webp = await upload(await solidImage(400, 300).webp().toBuffer(), 'a.webp');
      for (const platform of ['threads', 'facebook'] as const) {
        const image = await imageOf(await prepareMediaForPlatform(t.ctx, webp, platform));
        expect(image.mime, platform).toBe('image/jpeg');
        expect([image.width, image.height]).toEqual([400, 300]);
      }
      const transparent = await upload(
        await solidImage(400, 300, { alpha: true }).webp().toBuffer(),
        'b.webp',
      );
      const prepared = await prepareMediaForPlatform(t.ctx, transparent, 'threads');
      expect((await imageOf(prepared)).mime).toBe('image/png');
      const instagram = await prepareMediaForPlatform(t.ctx, transparent, 'instagram');
      expect((await imageOf(instagram)).mime).toBe('image/jpeg');
      expect(instagram.changes).toContain('flattened transparency onto white (JPEG has no transparency)');
    });

    it('keeps GIF animation where the platform plays it, and only the first frame elsewhere', async () => {
      const id = await upload(await animatedGif(64, 64, 4), 'loop.gif');
      const x = await imageOf(await prepareMediaForPlatform(t.ctx, id, 'x'));
      expect([x.mime, x.pages]).toEqual(['image/gif', 4]);
      const bluesky = await imageOf(await prepareMediaForPlatform(t.ctx, id, 'bluesky'));
      expect([bluesky.mime, bluesky.pages]).toEqual(['image/gif', 1]);
    });
  });

  describeWithFfmpeg('videos', () => {
    it('rewraps a MOV as MP4 for X without re-encoding', async () => {
      const id = await upload(await makeVideo({ format: 'mov', seconds: 3 }), 'clip.mov');
      const prepared = await prepareMediaForPlatform(t.ctx, id, 'x');
      const { data, mime } = await bytesOf(prepared);
      expect(mime).toBe('video/mp4');
      const info = await probe(data);
      expect(info.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
      expect(Number(info.format.duration)).toBeCloseTo(3, 0);
      expect(prepared.changes).toEqual([
        'rewrapped MOV as MP4 without re-encoding (X takes MP4)',
        VIDEO_METADATA_REMOVED,
      ]);
      const instagram = await prepareMediaForPlatform(t.ctx, id, 'instagram');
      expect(instagram.changes).toEqual([VIDEO_METADATA_REMOVED]);
      expect(instagram.mime).toBe('video/quicktime');
    });

    it('refuses a video too short for Instagram reels and one too long for X, with a clear issue', async () => {
      const short = await upload(await makeVideo({ format: 'mp4', seconds: 1, silent: true }), 'short.mp4');
      const shortIssues = await refusal(short, 'instagram');
      expect(shortIssues).toEqual([
        {
          code: 'video_too_short',
          severity: 'error',
          message: 'This video lasts 1 s; Instagram takes videos of at least 3 s.',
        },
      ]);
      const long = await upload(
        await makeVideo({ format: 'mp4', seconds: 150, width: 32, height: 32, fps: 1, silent: true }),
        'long.mp4',
      );
      const longIssues = await refusal(long, 'x');
      expect(longIssues.map((i) => i.code)).toEqual(['video_too_long']);
      expect(longIssues[0]!.message).toBe('This video lasts 150 s; X takes videos of up to 140 s.');
      expect((await prepareMediaForPlatform(t.ctx, long, 'mastodon')).changes).toEqual([
        VIDEO_METADATA_REMOVED,
      ]);
      const stored = await t.ctx.db.select().from(mediaRenditions).where(eq(mediaRenditions.mediaId, long));
      expect(stored.map((r) => r.platform)).toEqual(['mastodon']);
    });

    it('lists what preparation will do and refuse, per medium, for the preview', async () => {
      const tall = await upload(await solidImage(500, 1000).png().toBuffer(), 'tall2.png');
      const mov = await upload(
        await makeVideo({ format: 'mov', seconds: 1, width: 64, height: 64 }),
        'm.mov',
      );
      const missing = crypto.randomUUID();
      const instagram = await mediaIssuesForPlatform(t.ctx, [tall, mov, missing], 'instagram');
      expect(instagram.map((i) => [i.field, i.code, i.severity])).toEqual([
        ['media[0]', 'image_will_be_converted', 'warning'],
        ['media[0]', 'image_will_be_padded', 'warning'],
        ['media[1]', 'video_too_short', 'error'],
        ['media[2]', 'media_missing', 'error'],
      ]);
      const x = await mediaIssuesForPlatform(t.ctx, [tall, mov], 'x');
      expect(x.map((i) => [i.field, i.code])).toEqual([['media[1]', 'video_will_be_rewrapped']]);
    });

    describe('an iPhone video (HEVC in MOV, held upright)', () => {
      let hevc: string;
      let original: Awaited<ReturnType<typeof probe>>;
      let originalPackets: string;
      beforeAll(async () => {
        const mov = await makeVideo({ format: 'mov', seconds: 3, codec: 'hevc', rotation: 90 });
        original = await probe(mov);
        originalPackets = await packetHashes(mov);
        hevc = await upload(mov, 'IMG_0001.MOV');
      });

      it('is re-encoded as H.264 MP4 for X and Telegram, upright, at its size and length', async () => {
        for (const [platform, label] of [
          ['x', 'X'],
          ['telegram', 'Telegram'],
        ] as const) {
          const prepared = await prepareMediaForPlatform(t.ctx, hevc, platform);
          expect(prepared.changes).toEqual([
            `re-encoded HEVC as H.264 in MP4 (${label} takes H.264)`,
            VIDEO_METADATA_REMOVED,
          ]);
          expect([prepared.width, prepared.height]).toEqual([240, 320]);
          const { data, mime } = await bytesOf(prepared);
          expect(mime).toBe('video/mp4');
          const info = await probe(data);
          const video = info.streams.find((s) => s.codec_type === 'video')!;
          expect(info.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
          expect([video.width, video.height]).toEqual([240, 320]);
          expect(video.side_data_list).toBeUndefined();
          expect(
            Math.abs(Number(info.format.duration) - Number(original.format.duration)),
          ).toBeLessThanOrEqual(0.2);
        }
      });

      it('stays HEVC in MOV for Instagram and Threads, which take it: streams copied, still upright', async () => {
        const [row] = await t.ctx.db.select().from(media).where(eq(media.id, hevc));
        const rotation = original.streams[0]!.side_data_list?.[0]?.rotation;
        expect(Math.abs(rotation!)).toBe(90);
        for (const platform of ['instagram', 'threads'] as const) {
          const prepared = await prepareMediaForPlatform(t.ctx, hevc, platform);
          expect(prepared.changes, platform).toEqual([VIDEO_METADATA_REMOVED]);
          expect(prepared.mime, platform).toBe('video/quicktime');
          expect(prepared.sha256, platform).not.toBe(row!.sha256);
          expect([prepared.width, prepared.height]).toEqual([240, 320]);
          const { data } = await bytesOf(prepared);
          expect(await packetHashes(data), platform).toBe(originalPackets);
          const video = (await probe(data)).streams.find((s) => s.codec_type === 'video')!;
          expect(video.codec_name).toBe('hevc');
          expect(video.side_data_list?.[0]?.rotation, platform).toBe(rotation);
        }
      });

      it('shows the re-encoding in the preview', async () => {
        const issues = await mediaIssuesForPlatform(t.ctx, [hevc], 'x');
        expect(issues).toEqual([
          {
            code: 'video_will_be_transcoded',
            severity: 'warning',
            message: 'This HEVC video will be re-encoded as H.264 for X.',
            field: 'media[0]',
            mediaId: hevc,
          },
        ]);
        expect(await mediaIssuesForPlatform(t.ctx, [hevc], 'instagram')).toEqual([]);
      });

      it('makes a rendition again when it was made under other rules, and deletes the old bytes', async () => {
        const current = await prepareMediaForPlatform(t.ctx, hevc, 'x');
        const stale = await t.ctx.storage.put(Readable.from([Buffer.from('made under older rules')]));
        const where = and(eq(mediaRenditions.mediaId, hevc), eq(mediaRenditions.platform, 'x'));
        await t.ctx.db
          .update(mediaRenditions)
          .set({
            sha256: stale.sha256,
            bytes: stale.bytes,
            changes: ['older change'],
            planHash: 'older-rules',
          })
          .where(where);

        clock = new Date(clock.getTime() + 1000);
        const remade = await prepareMediaForPlatform(t.ctx, hevc, 'x');
        expect(remade).toEqual(current);
        expect(await t.ctx.storage.exists(stale.sha256)).toBe(false);
        const [row] = await t.ctx.db.select().from(mediaRenditions).where(where);
        expect(row!.createdAt).toEqual(clock);
        expect(row!.planHash).not.toBe('older-rules');

        // Made under the same rules, it is used as it is.
        clock = new Date(clock.getTime() + 1000);
        expect(await prepareMediaForPlatform(t.ctx, hevc, 'x')).toEqual(current);
        const [kept] = await t.ctx.db.select().from(mediaRenditions).where(where);
        expect(kept!.createdAt).toEqual(row!.createdAt);
      });
    });

    describe('recording location', () => {
      const LOCATION = '+06.1750+106.8283/';
      /** What would give the place away: the coordinates as text, and the atoms that hold them. */
      const MARKERS = ['106.8283', 'ISO6709', '\u00a9xyz', 'loci'];
      const markersIn = (data: Buffer) =>
        MARKERS.filter((marker) => data.includes(Buffer.from(marker, 'latin1')));
      const locationTags = (info: Awaited<ReturnType<typeof probe>>) =>
        [info.format.tags, ...info.streams.map((stream) => stream.tags)]
          .flatMap((tags) => Object.entries(tags ?? {}))
          .filter(([key, value]) => /location|xyz/i.test(key) || value.includes('106.8283'));

      /** Prepares the upload for each platform and checks the rendition against the original. */
      const expectNoLocation = async (
        clip: Buffer,
        id: string,
        platforms: { platform: Platform; mime: string; changes: string[] }[],
      ) => {
        const before = await probe(clip);
        const packets = await packetHashes(clip);
        for (const { platform, mime, changes } of platforms) {
          const prepared = await prepareMediaForPlatform(t.ctx, id, platform);
          expect(prepared.changes, platform).toEqual(changes);
          const { data } = await bytesOf(prepared);
          expect(prepared.mime, platform).toBe(mime);
          const after = await probe(data);
          expect(locationTags(after), platform).toEqual([]);
          expect(markersIn(data), platform).toEqual([]);
          expect(after.format.duration, platform).toBe(before.format.duration);
          expect(after.streams.map((s) => s.codec_name)).toEqual(before.streams.map((s) => s.codec_name));
          expect(await packetHashes(data), platform).toBe(packets);
        }
      };

      it('is removed from a phone MOV, rewrapped as MP4 or not, without re-encoding', async () => {
        const mov = await makeVideo({ format: 'mov', seconds: 1, width: 64, height: 64, location: LOCATION });
        expect(markersIn(mov)).toEqual(expect.arrayContaining(['106.8283', 'ISO6709']));
        expect(locationTags(await probe(mov)).map(([key]) => key)).toEqual(
          expect.arrayContaining(['location', 'com.apple.quicktime.location.ISO6709']),
        );
        const id = await upload(mov, 'IMG_0100.MOV');
        const kept = { mime: 'video/quicktime', changes: [VIDEO_METADATA_REMOVED] };
        await expectNoLocation(mov, id, [
          {
            platform: 'x',
            mime: 'video/mp4',
            changes: ['rewrapped MOV as MP4 without re-encoding (X takes MP4)', VIDEO_METADATA_REMOVED],
          },
          { platform: 'facebook', ...kept },
          { platform: 'webhook', ...kept },
        ]);
      });

      it('is removed from an MP4, which keeps its container', async () => {
        const mp4 = await makeVideo({ format: 'mp4', seconds: 1, width: 64, height: 64, location: LOCATION });
        expect(markersIn(mp4)).toContain('loci');
        const id = await upload(mp4, 'rekaman.mp4');
        const stripped = { mime: 'video/mp4', changes: [VIDEO_METADATA_REMOVED] };
        await expectNoLocation(mp4, id, [
          { platform: 'x', ...stripped },
          { platform: 'sandbox', ...stripped },
        ]);
        expect(await mediaIssuesForPlatform(t.ctx, [id], 'x')).toEqual([]);
      });

      it('is removed from a video filmed upright, which stays upright', async () => {
        const mp4 = await makeVideo({ format: 'mp4', seconds: 1, rotation: 90, location: LOCATION });
        const rotation = (await probe(mp4)).streams[0]!.side_data_list?.[0]?.rotation;
        expect(Math.abs(rotation!)).toBe(90);
        const id = await upload(mp4, 'tegak.mp4');
        await expectNoLocation(mp4, id, [
          { platform: 'telegram', mime: 'video/mp4', changes: [VIDEO_METADATA_REMOVED] },
        ]);
        const prepared = await prepareMediaForPlatform(t.ctx, id, 'telegram');
        expect([prepared.width, prepared.height]).toEqual([240, 320]);
        const video = (await probe((await bytesOf(prepared)).data)).streams[0]!;
        expect([video.width, video.height]).toEqual([320, 240]);
        expect(video.side_data_list?.[0]?.rotation).toBe(rotation);
      });
    });

    describe('when re-encoding fails', () => {
      let broken: TestApp;
      beforeAll(async () => {
        // ffmpeg, except that an H.264 encoding dies halfway, leaving part of its output behind.
        const script = path.join(t.config.dataDir, 'failing-ffmpeg');
        await writeFile(
          script,
          [
            '#!/bin/sh',
            'case " $* " in *" libx264 "*)',
            '  for last in "$@"; do :; done',
            '  printf partial > "$last"; echo "encoder crashed" >&2; exit 1 ;;',
            'esac',
            'exec ffmpeg "$@"',
            '',
          ].join('\n'),
        );
        await chmod(script, 0o755);
        broken = await createTestApp(driver, { env: { GAUNG_FFMPEG_PATH: script } });
      });
      afterAll(async () => {
        await broken.close();
        await rm(broken.config.dataDir, { recursive: true, force: true });
      });

      it('leaves no temporary file and no rendition behind', async () => {
        const user = (await seedTestOrg(broken.ctx)).user('officeA1', 'contributor');
        const mov = await makeVideo({ format: 'mov', seconds: 1, codec: 'hevc' });
        const response = await uploadMedia(broken.app, user, { filename: 'IMG_0002.MOV', data: mov });
        expect(response.statusCode, response.body).toBe(201);
        const id = response.json().id;
        await expect(prepareMediaForPlatform(broken.ctx, id, 'x')).rejects.toThrow('encoder crashed');
        expect(await filesUnder(broken.ctx.storage.stagingDir)).toEqual([]);
        expect(await broken.ctx.db.select().from(mediaRenditions)).toEqual([]);
      });
    });
  });

  describe('media for adapters and signed URLs', () => {
    let postId: string;
    let photo: string;
    let poster: string;

    beforeAll(async () => {
      photo = await upload(await solidImage(1080, 1350).jpeg().toBuffer(), 'photo.jpg', 'Foto bersama');
      poster = await upload(await solidImage(1000, 2000).png().toBuffer(), 'poster.png', 'Poster layanan');
      const [post] = await t.ctx.db
        .insert(posts)
        .values({ unitId: org.units.officeA1.id, authorId: office.id, body: 'Layanan paspor' })
        .returning({ id: posts.id });
      postId = post!.id;
      await t.ctx.db.insert(postMedia).values([
        { postId, mediaId: poster, position: 0, altText: 'Poster jam layanan paspor' },
        { postId, mediaId: photo, position: 1, altText: null },
      ]);
    });

    it('hands adapters the prepared media in order, with the post’s alt text first', async () => {
      const list = await loadPublishMedia(t.ctx, postId, 'instagram');
      expect(list.map((m) => [m.id, m.altText, m.mime])).toEqual([
        [poster, 'Poster jam layanan paspor', 'image/jpeg'],
        [photo, 'Foto bersama', 'image/jpeg'],
      ]);
      const chunks: Buffer[] = [];
      for await (const chunk of await list[0]!.open()) chunks.push(chunk as Buffer);
      const opened = Buffer.concat(chunks);
      expect(opened.length).toBe(list[0]!.bytes);
      expect((await sharp(opened).metadata()).width).toBe(list[0]!.width);
    });

    it('serves signed URLs without a session, and refuses unsigned, tampered and expired ones', async () => {
      const [first] = await loadPublishMedia(t.ctx, postId, 'instagram');
      const url = new URL(first!.publicUrl());
      expect(url.origin).toBe(t.config.publicUrl);
      expect(url.pathname).toBe(`/media-public/${poster}/instagram`);
      const path = `${url.pathname}${url.search}`;

      const ok = await t.app.inject({ url: path });
      expect(ok.statusCode).toBe(200);
      expect(ok.headers['content-type']).toBe('image/jpeg');
      expect(ok.rawPayload.length).toBe(first!.bytes);

      const problem = async (target: string) => {
        const response = await t.app.inject({ url: target });
        expect(response.statusCode).toBe(403);
        expect(response.headers['content-type']).toContain('application/problem+json');
        return response.json().code;
      };
      expect(await problem(url.pathname)).toBe('media_url_unsigned');
      const sig = url.searchParams.get('sig')!;
      const exp = url.searchParams.get('exp')!;
      const flipped = `${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`;
      expect(await problem(`${url.pathname}?exp=${exp}&sig=${flipped}`)).toBe('media_url_invalid');
      expect(await problem(`${url.pathname}?exp=${Number(exp) + 3600}&sig=${sig}`)).toBe('media_url_invalid');
      expect(await problem(`/media-public/${photo}/instagram?exp=${exp}&sig=${sig}`)).toBe(
        'media_url_invalid',
      );
      expect(await problem(`/media-public/${poster}/threads?exp=${exp}&sig=${sig}`)).toBe(
        'media_url_invalid',
      );

      clock = new Date(clock.getTime() + (t.config.GAUNG_MEDIA_URL_TTL_SECONDS + 1) * 1000);
      expect(await problem(path)).toBe('media_url_expired');
    });
  });
});
