import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postMedia, posts } from '../../src/db/schema';
import {
  BlobMissingError,
  type BlobStorage,
  BlobTooLargeError,
  createS3Storage,
} from '../../src/infra/storage';
import { collectGarbageMedia, prepareMediaForPlatform } from '../../src/services/media';
import { createFakeS3, type FakeS3 } from '../fakes/s3';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { filesUnder, solidImage, uploadMedia } from '../helpers/media';
import { seedTestOrg } from '../helpers/org';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const keyOf = (prefix: string, hash: string) =>
  `${prefix}sha256/${hash.slice(0, 2)}/${hash.slice(2, 4)}/${hash}`;

describe('S3 storage against a fake S3-compatible store', () => {
  let s3: FakeS3;
  let storage: BlobStorage;
  let stagingDir: string;

  beforeAll(async () => {
    s3 = createFakeS3();
    await s3.start();
    stagingDir = await mkdtemp(path.join(os.tmpdir(), 'gaung-s3-staging-'));
    storage = await createS3Storage({
      bucket: s3.bucket,
      endpoint: s3.url,
      region: s3.region,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      forcePathStyle: true,
      prefix: 'gaung',
      stagingDir,
    });
  });
  afterAll(async () => {
    await storage.close();
    await s3.stop();
    await rm(stagingDir, { recursive: true, force: true });
  });

  it('puts, reads (whole and in ranges), sizes and deletes objects under their sha256', async () => {
    const data = Buffer.from('Gaung menggemakan kabar dari kantor daerah. '.repeat(1000));
    const stored = await storage.put(Readable.from([data.subarray(0, 1000), data.subarray(1000)]));
    expect(stored).toEqual({ sha256: sha256(data), bytes: data.length });
    expect(s3.objects.get(keyOf('gaung/', stored.sha256))?.equals(data)).toBe(true);
    // The SDK signed the real payload hash and sent a plain body.
    const put = s3.received.find((r) => r.method === 'PUT')!;
    expect(put.headers['x-amz-content-sha256']).toMatch(/^([0-9a-f]{64}|UNSIGNED-PAYLOAD)$/);
    expect(put.headers['content-encoding']).toBeUndefined();

    expect(await storage.exists(stored.sha256)).toBe(true);
    expect(await storage.size(stored.sha256)).toBe(data.length);
    expect((await buffer(await storage.open(stored.sha256))).equals(data)).toBe(true);
    expect(
      (await buffer(await storage.open(stored.sha256, { start: 10, end: 19 }))).equals(data.subarray(10, 20)),
    ).toBe(true);
    const local = await storage.localFile(stored.sha256);
    expect((await readFile(local.path)).equals(data)).toBe(true);
    await local.release();
    expect(await filesUnder(stagingDir)).toEqual([]);

    await storage.delete(stored.sha256);
    expect(s3.objects.size).toBe(0);
    expect(await storage.exists(stored.sha256)).toBe(false);
    expect(await storage.size(stored.sha256)).toBeNull();
    await expect(storage.open(stored.sha256)).rejects.toBeInstanceOf(BlobMissingError);
  });

  it('cuts a stream off at the limit before anything is uploaded', async () => {
    const before = s3.objects.size;
    await expect(
      storage.stage(Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), { maxBytes: 1000 }),
    ).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(s3.objects.size).toBe(before);
    expect(await filesUnder(stagingDir)).toEqual([]);
  });
});

describe.each(testDrivers())('media on S3 storage on %s', (driver) => {
  let s3: FakeS3;
  let t: TestApp;
  let clock = new Date();

  beforeAll(async () => {
    s3 = createFakeS3();
    await s3.start();
    t = await createTestApp(driver, {
      now: () => clock,
      env: {
        GAUNG_S3_BUCKET: s3.bucket,
        GAUNG_S3_ENDPOINT: s3.url,
        GAUNG_S3_REGION: s3.region,
        GAUNG_S3_ACCESS_KEY_ID: s3.accessKeyId,
        GAUNG_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        GAUNG_S3_FORCE_PATH_STYLE: '1',
      },
    });
  });
  afterAll(async () => {
    await t.ctx.storage.close();
    await t.close();
    await s3.stop();
    await rm(t.config.dataDir, { recursive: true, force: true });
  });

  it('uploads into the bucket, serves from it, prepares renditions from it and collects garbage in it', async () => {
    const org = await seedTestOrg(t.ctx);
    const office = org.user('officeB1', 'contributor');
    const png = await solidImage(500, 1000).png().toBuffer();
    const response = await uploadMedia(t.app, office, { filename: 'poster.png', data: png });
    expect(response.statusCode).toBe(201);
    const { id, sha256: hash } = response.json();
    expect(s3.objects.get(keyOf('', hash))?.equals(png)).toBe(true);
    // Only the (empty) staging directory is on local disk.
    expect(await filesUnder(path.join(t.config.dataDir, 'media'))).toEqual([]);

    const content = await t.app.inject({ url: `/api/v1/media/${id}/content`, headers: office.headers });
    expect(content.statusCode).toBe(200);
    expect(content.rawPayload.equals(png)).toBe(true);
    const thumbnail = await t.app.inject({ url: `/api/v1/media/${id}/thumbnail`, headers: office.headers });
    expect(thumbnail.statusCode).toBe(200);

    const prepared = await prepareMediaForPlatform(t.ctx, id, 'instagram');
    expect(prepared.mime).toBe('image/jpeg');
    expect(s3.objects.has(keyOf('', prepared.sha256))).toBe(true);
    expect(s3.objects.size).toBe(3);

    // A second medium stays: a post refers to it.
    const kept = (
      await uploadMedia(t.app, office, {
        filename: 'kept.jpg',
        data: await solidImage(30, 30).jpeg().toBuffer(),
      })
    ).json();
    const [post] = await t.ctx.db
      .insert(posts)
      .values({ unitId: org.units.officeB1.id, authorId: office.id })
      .returning();
    await t.ctx.db.insert(postMedia).values({ postId: post!.id, mediaId: kept.id, position: 0 });

    clock = new Date(clock.getTime() + (t.config.GAUNG_MEDIA_GC_GRACE_HOURS + 1) * 3600_000);
    expect(await collectGarbageMedia(t.ctx)).toEqual({ media: 1, renditions: 1, blobs: 3, staging: 0 });
    expect([...s3.objects.keys()].sort()).toEqual(
      [keyOf('', kept.sha256), keyOf('', (await t.ctx.db.query.media.findFirst())!.thumbnailSha256!)].sort(),
    );
  });
});
