import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { AppContext } from '../../context';
import { media, postMedia, posts, units } from '../../db/schema';
import { notFound } from '../../domain/errors';
import type { MediaFacts } from '../../domain/media-rules';
import { type Actor, authorize } from '../../domain/permissions';
import type { MediaKind, PostStatus } from '../../domain/vocabulary';
import { transitionInTx } from '../post-transitions';

/** A unit's media as people see and edit them: the view, reading with permission, the editor's thumbnails, alt text. */

export type MediaRow = typeof media.$inferSelect;

export interface MediaView extends MediaFacts {
  id: string;
  unitId: string;
  altText: string;
  originalName: string | null;
  sha256: string;
  /** What inspection found: a video's codecs, frame rate and bit rate; an image's animation and transparency. */
  details: Record<string, unknown> | null;
  thumbnailUrl: string | null;
  contentUrl: string;
  createdAt: string;
}

export const mediaFactsOf = (row: MediaRow): MediaFacts => ({
  kind: row.kind,
  mime: row.mime,
  bytes: row.bytes,
  width: row.width,
  height: row.height,
  durationMs: row.durationMs,
});

export function mediaView(row: MediaRow): MediaView {
  return {
    id: row.id,
    unitId: row.unitId,
    ...mediaFactsOf(row),
    altText: row.altText,
    originalName: row.originalName,
    sha256: row.sha256,
    details: row.probe ?? null,
    thumbnailUrl: row.thumbnailSha256 ? `/api/v1/media/${row.id}/thumbnail` : null,
    contentUrl: `/api/v1/media/${row.id}/content`,
    createdAt: row.createdAt.toISOString(),
  };
}

/** A medium, when the actor may do `action` on it (by default, read it); 404 or 403 otherwise. */
export async function loadMedia(
  ctx: AppContext,
  actor: Actor,
  id: string,
  action: 'media.read' | 'media.update' = 'media.read',
): Promise<MediaRow> {
  const [row] = await ctx.db
    .select({ media, unitPath: units.path })
    .from(media)
    .innerJoin(units, eq(units.id, media.unitId))
    .where(eq(media.id, id));
  if (!row) throw notFound('Media');
  authorize(actor, action, { type: 'media', unitPath: row.unitPath }, 'Media');
  return row.media;
}

/** The editor's thumbnails of media of the actor's unit, in the order given; others are left out. */
export async function unitMediaThumbnails(
  ctx: AppContext,
  actor: Actor,
  ids: string[],
): Promise<Map<string, { kind: MediaKind; thumbnailUrl: string | null }>> {
  if (ids.length === 0) return new Map();
  const rows = await ctx.db
    .select({ id: media.id, kind: media.kind, thumbnail: media.thumbnailSha256 })
    .from(media)
    .where(and(inArray(media.id, ids), eq(media.unitId, actor.unitId)));
  return new Map(
    rows.map((row) => [
      row.id,
      { kind: row.kind, thumbnailUrl: row.thumbnail ? `/api/v1/media/${row.id}/thumbnail` : null },
    ]),
  );
}

/** Posts whose alt text follows the medium's own and whose content may still change: drafts and posts in review. */
const FOLLOWING_STATUSES: PostStatus[] = ['draft', 'submitted', 'changes_requested'];

/**
 * Changes a medium's alt text. Each post in review that shows it (without alt text of its own) is
 * edited with it: its version moves, so a decision taken on what was seen before is refused as
 * stale, and its timeline says so. Approved posts keep the text they were approved with.
 */
export async function updateAltText(
  ctx: AppContext,
  actor: Actor,
  id: string,
  altText: string,
): Promise<MediaView> {
  await loadMedia(ctx, actor, id, 'media.update');
  return ctx.db.transaction(async (tx) => {
    const [before] = await tx
      .select({ altText: media.altText })
      .from(media)
      .where(eq(media.id, id))
      .for('update');
    const [row] = await tx.update(media).set({ altText }).where(eq(media.id, id)).returning();
    if (!row || !before) throw notFound('Media');
    if (before.altText === altText) return mediaView(row);
    const following = await tx
      .select({
        id: posts.id,
        unitId: posts.unitId,
        unitPath: units.path,
        status: posts.status,
        version: posts.version,
      })
      .from(postMedia)
      .innerJoin(posts, eq(posts.id, postMedia.postId))
      .innerJoin(units, eq(units.id, posts.unitId))
      .where(
        and(eq(postMedia.mediaId, id), isNull(postMedia.altText), inArray(posts.status, FOLLOWING_STATUSES)),
      );
    const now = ctx.now();
    for (const post of following) {
      await transitionInTx(tx, actor, post, 'edit', post.version, now, {
        kind: 'edit',
        comment: altText,
        data: { fields: ['media'], mediaId: id },
      });
    }
    return mediaView(row);
  });
}
