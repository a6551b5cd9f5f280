import { mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { media, mediaRenditions, postMedia, posts } from '../../src/db/schema';
import { collectGarbageMedia, prepareMediaForPlatform } from '../../src/services/media';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { solidImage, uploadMedia } from '../helpers/media';
import { seedTestOrg, type TestOrg } from '../helpers/org';

const HOUR = 3600_000;

describe.each(testDrivers())('media garbage collection on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let clock = new Date();

  beforeAll(async () => {
    t = await createTestApp(driver, { now: () => clock, env: { GAUNG_MEDIA_GC_GRACE_HOURS: '24' } });
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t.close();
    await rm(t.config.dataDir, { recursive: true, force: true });
  });

  const upload = async (unit: 'officeA1' | 'officeA2', data: Buffer, filename: string) => {
    const response = await uploadMedia(t.app, org.user(unit, 'contributor'), { filename, data });
    expect(response.statusCode).toBeLessThan(300);
    return response.json() as { id: string; sha256: string };
  };

  const attach = async (unit: 'officeA1' | 'officeA2', mediaId: string) => {
    const author = org.user(unit, 'contributor');
    const [post] = await t.ctx.db
      .insert(posts)
      .values({ unitId: org.units[unit].id, authorId: author.id })
      .returning();
    await t.ctx.db.insert(postMedia).values({ postId: post!.id, mediaId, position: 0 });
  };

  it('deletes media no post refers to once the grace period is over, then the blobs no row uses', async () => {
    const orphan = await upload('officeA1', await solidImage(9000, 2000).jpeg().toBuffer(), 'banner.jpg');
    const rendition = await prepareMediaForPlatform(t.ctx, orphan.id, 'telegram');
    expect(rendition.sha256).not.toBe(orphan.sha256);
    const attached = await upload('officeA1', await solidImage(100, 100).png().toBuffer(), 'logo.png');
    await attach('officeA1', attached.id);
    // The same bytes: unused by office A1, attached by office A2.
    const sharedBytes = await solidImage(120, 80).jpeg().toBuffer();
    const sharedUnused = await upload('officeA1', sharedBytes, 'shared.jpg');
    const sharedUsed = await upload('officeA2', sharedBytes, 'shared.jpg');
    await attach('officeA2', sharedUsed.id);
    const [orphanRow] = await t.ctx.db.select().from(media).where(eq(media.id, orphan.id));

    expect(await collectGarbageMedia(t.ctx)).toEqual({ media: 0, renditions: 0, blobs: 0, staging: 0 });

    clock = new Date(clock.getTime() + 25 * HOUR);
    const young = await upload('officeA1', await solidImage(60, 60).webp().toBuffer(), 'new.webp');
    const staging = path.join(t.config.dataDir, 'media', 'tmp');
    await mkdir(staging, { recursive: true });
    const leftover = path.join(staging, 'crashed-upload.part');
    await writeFile(leftover, 'half a file');
    const twoDaysAgo = new Date(clock.getTime() - 48 * HOUR);
    await utimes(leftover, twoDaysAgo, twoDaysAgo);

    // The orphan's original, thumbnail and rendition go; the shared bytes and thumbnail stay.
    expect(await collectGarbageMedia(t.ctx)).toEqual({ media: 2, renditions: 1, blobs: 3, staging: 1 });
    const remaining = await t.ctx.db
      .select({ id: media.id })
      .from(media)
      .where(inArray(media.id, [orphan.id, sharedUnused.id, attached.id, sharedUsed.id, young.id]));
    expect(remaining.map((r) => r.id).sort()).toEqual([attached.id, sharedUsed.id, young.id].sort());
    expect(await t.ctx.db.select().from(mediaRenditions)).toEqual([]);
    const { storage } = t.ctx;
    expect(await storage.exists(orphan.sha256)).toBe(false);
    expect(await storage.exists(orphanRow!.thumbnailSha256!)).toBe(false);
    expect(await storage.exists(rendition.sha256)).toBe(false);
    expect(await storage.exists(sharedUsed.sha256)).toBe(true);
    expect(await storage.exists(attached.sha256)).toBe(true);
    expect(await storage.exists(young.sha256)).toBe(true);

    expect(await collectGarbageMedia(t.ctx)).toEqual({ media: 0, renditions: 0, blobs: 0, staging: 0 });
  });
});
