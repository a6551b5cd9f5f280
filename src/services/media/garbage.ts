import { and, asc, inArray, sql } from 'drizzle-orm';
import type { AppContext } from '../../context';
import { media, mediaRenditions, postMedia } from '../../db/schema';
import { deleteIfUnused, lockBlobs } from './blobs';

/** Garbage collection of media no post took, their renditions, unused blobs and staging files. */

export interface MediaGarbageCounts {
  media: number;
  renditions: number;
  blobs: number;
  staging: number;
}

const GC_BATCH = 500;
const STAGING_MAX_AGE_MS = 24 * 3600 * 1000;

/**
 * Deletes media that no post refers to once GAUNG_MEDIA_GC_GRACE_HOURS have passed since upload,
 * with their renditions, then the blobs no row refers to any more, and staging files left by
 * crashes. The maintenance queue calls it; a batch per call keeps transactions short.
 */
export async function collectGarbageMedia(ctx: AppContext): Promise<MediaGarbageCounts> {
  const cutoff = new Date(ctx.now().getTime() - ctx.config.GAUNG_MEDIA_GC_GRACE_HOURS * 3600 * 1000);
  const unreferenced = sql`${media.createdAt} < ${cutoff} and not exists (select 1 from ${postMedia} where ${postMedia.mediaId} = ${media.id})`;
  const { gone, renditionHashes } = await ctx.db.transaction(async (tx) => {
    const ids = (
      await tx
        .select({ id: media.id })
        .from(media)
        .where(unreferenced)
        .orderBy(asc(media.createdAt))
        .limit(GC_BATCH)
    ).map((row) => row.id);
    if (ids.length === 0) return { gone: [], renditionHashes: [] };
    const renditions = await tx
      .delete(mediaRenditions)
      .where(inArray(mediaRenditions.mediaId, ids))
      .returning({ sha256: mediaRenditions.sha256 });
    // Re-checked here: a post may have taken one of them since the select.
    const deleted = await tx
      .delete(media)
      .where(and(inArray(media.id, ids), unreferenced))
      .returning({ sha256: media.sha256, thumbnailSha256: media.thumbnailSha256 });
    return { gone: deleted, renditionHashes: renditions.map((r) => r.sha256) };
  });

  const candidates = new Set<string>(renditionHashes);
  for (const row of gone) {
    candidates.add(row.sha256);
    if (row.thumbnailSha256) candidates.add(row.thumbnailSha256);
  }
  let blobs = 0;
  for (const hash of candidates) {
    const removed = await ctx.db.transaction(async (tx) => {
      await lockBlobs(tx, [hash]);
      return deleteIfUnused(ctx, tx, hash);
    });
    if (removed) blobs += 1;
  }
  const staging = await ctx.storage.sweepStaging(STAGING_MAX_AGE_MS, ctx.now());
  return { media: gone.length, renditions: renditionHashes.length, blobs, staging };
}
