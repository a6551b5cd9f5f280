import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { fileTypeFromBuffer } from 'file-type';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client';
import { media } from '../../src/db/schema';
import { mediaIssuesForPlatform, prepareMediaForPlatform } from '../../src/services/media';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { itWithFfmpeg } from '../helpers/ffmpeg';
import {
  animatedGif,
  decompressionBomb,
  filesUnder,
  makeVideo,
  multipart,
  solidImage,
  streamUpload,
  uploadMedia,
} from '../helpers/media';
import { seedTestOrg, type TestOrg, type TestUser } from '../helpers/org';

const IMAGE_LIMIT = 12_000_000;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe.each(testDrivers())('media uploads on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let mediaDir: string;
  let stagingDir: string;
  let baseUrl: string;
  let contributor: TestUser;

  beforeAll(async () => {
    t = await createTestApp(driver, { env: { GAUNG_MEDIA_MAX_IMAGE_BYTES: String(IMAGE_LIMIT) } });
    org = await seedTestOrg(t.ctx);
    contributor = org.user('officeA1', 'contributor');
    mediaDir = path.join(t.config.dataDir, 'media');
    stagingDir = path.join(mediaDir, 'tmp');
    baseUrl = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await t.close();
    await rm(t.config.dataDir, { recursive: true, force: true });
  });

  const upload = (
    user: TestUser,
    file: { filename: string; data: Buffer; contentType?: string },
    fields: Record<string, string> = {},
  ) => uploadMedia(t.app, user, file, fields);

  const mediaCount = async () =>
    Number((await queryRows<{ n: number }>(t.ctx.db, sql`select count(*)::int as n from media`))[0]!.n);

  const blobPath = (hash: string) => path.join(mediaDir, 'sha256', hash.slice(0, 2), hash.slice(2, 4), hash);

  describe('accepted types', () => {
    it('takes a JPEG, records its dimensions, stores it under its sha256 and serves a WebP thumbnail', async () => {
      const jpeg = await solidImage(640, 480).jpeg().toBuffer();
      const response = await upload(
        contributor,
        { filename: 'kegiatan.jpg', data: jpeg, contentType: 'image/jpeg' },
        {
          altText: 'Petugas melayani pemohon paspor',
        },
      );
      expect(response.statusCode).toBe(201);
      const body = response.json();
      expect(body).toMatchObject({
        kind: 'image',
        mime: 'image/jpeg',
        bytes: jpeg.length,
        width: 640,
        height: 480,
        durationMs: null,
        altText: 'Petugas melayani pemohon paspor',
        originalName: 'kegiatan.jpg',
        sha256: sha256(jpeg),
        unitId: org.units.officeA1.id,
      });
      expect(existsSync(blobPath(sha256(jpeg)))).toBe(true);

      const thumbnail = await t.app.inject({ url: body.thumbnailUrl, headers: contributor.headers });
      expect(thumbnail.statusCode).toBe(200);
      expect(thumbnail.headers['content-type']).toBe('image/webp');
      const thumbMeta = await sharp(thumbnail.rawPayload).metadata();
      expect(thumbMeta.format).toBe('webp');
      expect(Math.max(thumbMeta.width!, thumbMeta.height!)).toBeLessThanOrEqual(320);

      const content = await t.app.inject({ url: body.contentUrl, headers: contributor.headers });
      expect(content.statusCode).toBe(200);
      expect(content.headers['content-type']).toBe('image/jpeg');
      expect(sha256(content.rawPayload)).toBe(sha256(jpeg));

      const range = await t.app.inject({
        url: body.contentUrl,
        headers: { ...contributor.headers, range: 'bytes=0-9' },
      });
      expect(range.statusCode).toBe(206);
      expect(range.headers['content-range']).toBe(`bytes 0-9/${jpeg.length}`);
      expect(range.rawPayload.equals(jpeg.subarray(0, 10))).toBe(true);
    });

    it('reports the displayed size of a photo taken sideways (EXIF orientation)', async () => {
      const rotated = await solidImage(600, 400).jpeg().withMetadata({ orientation: 6 }).toBuffer();
      const response = await upload(contributor, { filename: 'hp.jpg', data: rotated });
      expect(response.statusCode).toBe(201);
      expect(response.json()).toMatchObject({ width: 400, height: 600 });
    });

    it('takes PNG (with transparency), WebP and animated GIF', async () => {
      const png = await solidImage(300, 200, { alpha: true }).png().toBuffer();
      const webp = await solidImage(200, 100).webp().toBuffer();
      const gif = await animatedGif(64, 48, 3);
      const cases = [
        {
          data: png,
          filename: 'logo.png',
          mime: 'image/png',
          width: 300,
          height: 200,
          details: { animated: false, hasAlpha: true, metadata: false },
        },
        { data: webp, filename: 'poster.webp', mime: 'image/webp', width: 200, height: 100, details: null },
        {
          data: gif,
          filename: 'anim.gif',
          mime: 'image/gif',
          width: 64,
          height: 48,
          details: { animated: true },
        },
      ];
      for (const c of cases) {
        const response = await upload(contributor, { filename: c.filename, data: c.data });
        expect(response.statusCode, c.filename).toBe(201);
        expect(response.json()).toMatchObject({
          kind: 'image',
          mime: c.mime,
          width: c.width,
          height: c.height,
          details: c.details,
        });
      }
    });

    itWithFfmpeg('takes MP4 and MOV with duration, codecs and a thumbnail from ffprobe/ffmpeg', async () => {
      const mp4 = await makeVideo({ format: 'mp4', seconds: 2, width: 320, height: 240 });
      const response = await upload(contributor, {
        filename: 'video.mp4',
        data: mp4,
        contentType: 'video/mp4',
      });
      expect(response.statusCode).toBe(201);
      const body = response.json();
      expect(body).toMatchObject({
        kind: 'video',
        mime: 'video/mp4',
        width: 320,
        height: 240,
        bytes: mp4.length,
      });
      expect(body.durationMs).toBeGreaterThanOrEqual(1900);
      expect(body.durationMs).toBeLessThanOrEqual(2200);
      expect(body.details).toMatchObject({ videoCodec: 'h264', audioCodec: 'aac', frameRate: 25 });
      const thumbnail = await t.app.inject({ url: body.thumbnailUrl, headers: contributor.headers });
      expect(thumbnail.statusCode).toBe(200);
      expect((await fileTypeFromBuffer(thumbnail.rawPayload))?.mime).toBe('image/webp');

      const mov = await makeVideo({ format: 'mov', seconds: 1, width: 160, height: 120, silent: true });
      const movResponse = await upload(contributor, { filename: 'IMG_0001.MOV', data: mov });
      expect(movResponse.statusCode).toBe(201);
      expect(movResponse.json()).toMatchObject({
        kind: 'video',
        mime: 'video/quicktime',
        width: 160,
        height: 120,
      });
      expect(movResponse.json().details).toMatchObject({ videoCodec: 'h264', audioCodec: null });
    });
  });

  describe('deduplication', () => {
    it('returns the same medium when a unit uploads the same file twice, and stores the bytes once across units', async () => {
      const jpeg = await solidImage(321, 123).jpeg({ quality: 77 }).toBuffer();
      const first = await upload(contributor, { filename: 'a.jpg', data: jpeg });
      const again = await upload(
        contributor,
        { filename: 'copy of a.jpg', data: jpeg },
        { altText: 'ignored' },
      );
      expect(first.statusCode).toBe(201);
      expect(again.statusCode).toBe(200);
      expect(again.json().id).toBe(first.json().id);
      expect(again.json().altText).toBe('');

      const otherOffice = await upload(org.user('officeA2', 'contributor'), {
        filename: 'a.jpg',
        data: jpeg,
      });
      expect(otherOffice.statusCode).toBe(201);
      expect(otherOffice.json().id).not.toBe(first.json().id);
      expect(otherOffice.json().sha256).toBe(first.json().sha256);
      const rows = await t.ctx.db
        .select()
        .from(media)
        .where(eq(media.sha256, sha256(jpeg)));
      expect(rows).toHaveLength(2);
      const stored = (await filesUnder(path.join(mediaDir, 'sha256'))).filter((f) =>
        f.endsWith(sha256(jpeg)),
      );
      expect(stored).toHaveLength(1);
      expect(await filesUnder(stagingDir)).toEqual([]);
    });
  });

  describe('permissions and alt text', () => {
    let id: string;
    beforeAll(async () => {
      const png = await solidImage(50, 50).png().toBuffer();
      id = (await upload(contributor, { filename: 'p.png', data: png })).json().id;
    });

    it('shows a medium to its office and to reviewers above it, to nobody else', async () => {
      const get = (user: TestUser) => t.app.inject({ url: `/api/v1/media/${id}`, headers: user.headers });
      expect((await get(contributor)).statusCode).toBe(200);
      expect((await get(org.user('officeA1', 'reviewer'))).statusCode).toBe(200);
      expect((await get(org.user('regionA', 'reviewer'))).statusCode).toBe(200);
      expect((await get(org.user('national', 'admin'))).statusCode).toBe(200);
      expect((await get(org.user('officeA2', 'contributor'))).statusCode).toBe(404);
      expect((await get(org.user('regionB', 'reviewer'))).statusCode).toBe(404);
      expect((await get(org.user('regionA', 'contributor'))).statusCode).toBe(404);
      const content = await t.app.inject({
        url: `/api/v1/media/${id}/content`,
        headers: org.user('officeB1', 'admin').headers,
      });
      expect(content.statusCode).toBe(404);
      expect((await t.app.inject({ url: `/api/v1/media/${id}` })).statusCode).toBe(401);
    });

    it('lets the office edit the alt text, not the reviewers above it', async () => {
      const patch = (user: TestUser, altText: string) =>
        t.app.inject({
          method: 'PATCH',
          url: `/api/v1/media/${id}`,
          headers: user.headers,
          payload: { altText },
        });
      const edited = await patch(contributor, 'Logo kantor imigrasi');
      expect(edited.statusCode).toBe(200);
      expect(edited.json().altText).toBe('Logo kantor imigrasi');
      expect((await patch(org.user('regionA', 'reviewer'), 'x')).statusCode).toBe(403);
      const tooLong = await patch(contributor, 'a'.repeat(1001));
      expect(tooLong.statusCode).toBe(400);
      expect(tooLong.json().errors[0].field).toBe('altText');
      const unknown = await t.app.inject({
        method: 'PATCH',
        url: `/api/v1/media/${id}`,
        headers: contributor.headers,
        payload: { altText: 'ok', kind: 'video' },
      });
      expect(unknown.statusCode).toBe(400);
      expect(
        (await t.app.inject({ url: `/api/v1/media/${id}`, headers: contributor.headers })).json().altText,
      ).toBe('Logo kantor imigrasi');
    });
  });

  describe('hostile input is refused and leaves nothing behind', () => {
    const refused = async (
      file: { filename: string; data: Buffer; contentType?: string },
      expected: { status: number; code: string; field?: string },
      fields: Record<string, string> = {},
    ) => {
      const before = await filesUnder(mediaDir);
      const rowsBefore = await mediaCount();
      const response = await upload(contributor, file, fields);
      expect(response.statusCode, response.body).toBe(expected.status);
      expect(response.headers['content-type']).toContain('application/problem+json');
      const problem = response.json();
      expect(problem.code).toBe(expected.code);
      expect(problem.errors?.[0]?.field).toBe(expected.field ?? 'file');
      expect(await filesUnder(mediaDir)).toEqual(before);
      expect(await mediaCount()).toBe(rowsBefore);
      return problem;
    };

    it('zero bytes', async () => {
      await refused({ filename: 'kosong.jpg', data: Buffer.alloc(0) }, { status: 400, code: 'empty_file' });
    });

    it('a truncated JPEG', async () => {
      const jpeg = await solidImage(800, 600).jpeg().toBuffer();
      await refused(
        { filename: 'putus.jpg', data: jpeg.subarray(0, Math.floor(jpeg.length / 2)) },
        { status: 422, code: 'media_unreadable' },
      );
    });

    it('a PNG renamed .mp4', async () => {
      const png = await solidImage(40, 40).png().toBuffer();
      const problem = await refused(
        { filename: 'video.mp4', data: png, contentType: 'video/mp4' },
        { status: 415, code: 'media_type_mismatch' },
      );
      expect(problem.detail).toContain('PNG image');
    });

    it('an HTML file named .jpg', async () => {
      const html = Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>');
      await refused(
        { filename: 'foto.jpg', data: html, contentType: 'image/jpeg' },
        { status: 415, code: 'unsupported_media_type' },
      );
    });

    it('a 20,000 × 20,000 decompression bomb, from its header', async () => {
      const bomb = decompressionBomb();
      expect(bomb.length).toBeLessThan(200_000);
      await refused({ filename: 'bomb.png', data: bomb }, { status: 422, code: 'too_many_pixels' });
    });

    it('a path-traversal file name', async () => {
      const jpeg = await solidImage(10, 10).jpeg().toBuffer();
      const target = path.resolve(mediaDir, '../../evil.jpg');
      await refused({ filename: '../../evil.jpg', data: jpeg }, { status: 400, code: 'invalid_file_name' });
      await refused({ filename: '..\\..\\evil.jpg', data: jpeg }, { status: 400, code: 'invalid_file_name' });
      expect(existsSync(target)).toBe(false);
    });

    itWithFfmpeg('an MP4 header over junk (ffprobe cannot read it)', async () => {
      const mp4 = await makeVideo({ format: 'mp4', seconds: 1, silent: true });
      const junk = Buffer.concat([mp4.subarray(0, 32), Buffer.alloc(4096, 7)]);
      await refused({ filename: 'rusak.mp4', data: junk }, { status: 422, code: 'media_unreadable' });
    });

    it('two files, unknown fields, and a missing file', async () => {
      const jpeg = await solidImage(10, 10).jpeg().toBuffer();
      const form = multipart([
        { name: 'file', filename: 'a.jpg', data: jpeg },
        { name: 'file', filename: 'b.jpg', data: jpeg },
      ]);
      const before = await filesUnder(mediaDir);
      const rowsBefore = await mediaCount();
      const two = await t.app.inject({
        method: 'POST',
        url: '/api/v1/media',
        headers: { ...contributor.headers, ...form.headers },
        payload: form.payload,
      });
      expect(two.statusCode).toBe(400);
      expect(two.json()).toMatchObject({ code: 'too_many_files', errors: [{ field: 'file' }] });
      await refused(
        { filename: 'a.jpg', data: jpeg },
        { status: 400, code: 'validation_failed', field: 'caption' },
        { caption: 'x' },
      );
      const none = multipart([{ name: 'altText', value: 'no file' }]);
      const missing = await t.app.inject({
        method: 'POST',
        url: '/api/v1/media',
        headers: { ...contributor.headers, ...none.headers },
        payload: none.payload,
      });
      expect(missing.statusCode).toBe(400);
      expect(missing.json().errors[0]).toMatchObject({ field: 'file', code: 'required' });
      const json = await t.app.inject({
        method: 'POST',
        url: '/api/v1/media',
        headers: contributor.headers,
        payload: {},
      });
      expect(json.statusCode).toBe(415);
      expect(await filesUnder(mediaDir)).toEqual(before);
      expect(await mediaCount()).toBe(rowsBefore);
    });

    it('an upload over the size limit is cut off while it streams', async () => {
      const before = await filesUnder(mediaDir);
      const rowsBefore = await mediaCount();
      const head = (await solidImage(64, 64).jpeg().toBuffer()).subarray(0, 2048);
      const total = 80_000_000;
      const result = await streamUpload(`${baseUrl}/api/v1/media`, {
        headers: contributor.headers,
        fileName: 'besar.jpg',
        contentType: 'image/jpeg',
        head,
        totalBytes: total,
      });
      expect(result.status).toBe(413);
      expect(JSON.parse(result.body)).toMatchObject({ code: 'media_too_large', errors: [{ field: 'file' }] });
      // The answer came while the client was still sending: after the limit plus what sockets buffer, far from the end.
      expect(result.sentBeforeResponse).toBeGreaterThan(IMAGE_LIMIT);
      expect(result.sentBeforeResponse).toBeLessThan(IMAGE_LIMIT + 16_000_000);
      await expect.poll(() => filesUnder(mediaDir)).toEqual(before);
      expect(await mediaCount()).toBe(rowsBefore);
    });

    it('an upload the client aborts midway', async () => {
      const before = await filesUnder(mediaDir);
      const rowsBefore = await mediaCount();
      const head = (await solidImage(64, 64).jpeg().toBuffer()).subarray(0, 2048);
      const result = await streamUpload(`${baseUrl}/api/v1/media`, {
        headers: contributor.headers,
        fileName: 'lambat.jpg',
        contentType: 'image/jpeg',
        head,
        totalBytes: 10_000_000,
        abortAfter: 3_000_000,
        // Abort only once the server is writing the staging file.
        beforeAbort: async () => {
          await expect.poll(() => filesUnder(stagingDir), { timeout: 10_000 }).toHaveLength(1);
        },
      });
      expect(result.error).toBe('aborted by the client');
      await expect.poll(() => filesUnder(mediaDir), { timeout: 10_000 }).toEqual(before);
      expect(await mediaCount()).toBe(rowsBefore);
    });
  });

  describe('without ffprobe and ffmpeg on the server', () => {
    let bare: TestApp;
    beforeAll(async () => {
      bare = await createTestApp(driver, {
        env: { GAUNG_FFPROBE_PATH: '/nonexistent/ffprobe', GAUNG_FFMPEG_PATH: '/nonexistent/ffmpeg' },
      });
    });
    afterAll(async () => {
      await bare.close();
      await rm(bare.config.dataDir, { recursive: true, force: true });
    });

    itWithFfmpeg(
      'accepts a video unchecked, without a thumbnail, sends it as it is, and says so in the preview',
      async () => {
        const office = await seedTestOrg(bare.ctx);
        const user = office.user('officeB2', 'contributor');
        const mov = await makeVideo({ format: 'mov', seconds: 1, silent: true });
        const response = await uploadMedia(bare.app, user, { filename: 'clip.mov', data: mov });
        expect(response.statusCode).toBe(201);
        expect(response.json()).toMatchObject({
          kind: 'video',
          mime: 'video/quicktime',
          durationMs: null,
          width: null,
          thumbnailUrl: null,
        });
        const id = response.json().id;
        const thumbnail = await bare.app.inject({
          url: `/api/v1/media/${id}/thumbnail`,
          headers: user.headers,
        });
        expect(thumbnail.statusCode).toBe(404);
        expect(thumbnail.json().code).toBe('thumbnail_unavailable');
        const issues = await mediaIssuesForPlatform(bare.ctx, [id], 'x');
        expect(issues.map((i) => [i.code, i.severity])).toEqual([['video_rewrap_unavailable', 'error']]);
        const mastodon = await mediaIssuesForPlatform(bare.ctx, [id], 'mastodon');
        expect(mastodon.map((i) => [i.code, i.severity])).toEqual([
          ['video_unchecked', 'warning'],
          ['video_metadata_kept', 'warning'],
        ]);
        expect(mastodon[1]!.message).toBe(
          'Any recording location or camera data in this video will reach Mastodon: removing it needs ffmpeg on the server.',
        );
        // It goes as it is.
        const prepared = await prepareMediaForPlatform(bare.ctx, id, 'mastodon');
        expect([prepared.sha256, prepared.changes]).toEqual([response.json().sha256, []]);
        expect(bare.logs.text).toContain('ffprobe is not installed');
      },
    );
  });
});
