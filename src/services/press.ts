import { asc, eq, inArray, like, sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import { queryRows } from '../db/client';
import { channels, deliveries, media, postMedia, posts, units } from '../db/schema';
import { notFound } from '../domain/errors';
import { PRESS_DOWNLOAD_PLATFORM } from '../domain/media-rules';
import { pressFileName } from '../domain/press';
import { type MediaKind, NON_PUBLIC_PLATFORMS, type Platform, type UnitKind } from '../domain/vocabulary';
import { type PreparedMedia, prepareMediaForPlatform } from './media';
import { decodeCursor, encodeCursor } from './posts';

/**
 * The public press room: posts that went out on at least one channel, newest first (by their first
 * publication), with the office they came from, where they can be seen and their media to download.
 * Only deliveries that went out are read; nothing else of a post (drafts, comments, reviewers) is ever
 * exposed, nor what went only to a webhook or the sandbox. A retracted post stays in its place, marked
 * with the reason, without its text, links or media: journalists learn it was pulled instead of seeing
 * it vanish. A press room belongs to a unit: the national one shows everything, a region's shows its
 * offices, an office's its own posts.
 */

/** A delivery that went out: published, or published and since retracted (or being retracted). */
const WENT_OUT = ['published', 'retracting', 'retracted', 'retraction_needs_attention'] as const;

/**
 * Platforms the press room leaves out: webhooks always; the sandbox too, except in the demo
 * (GAUNG_DEMO), whose only channels are sandbox ones and whose press room is marked as demo data.
 */
const hiddenPlatforms = (ctx: AppContext): readonly Platform[] =>
  ctx.config.GAUNG_DEMO ? NON_PUBLIC_PLATFORMS.filter((p) => p !== 'sandbox') : NON_PUBLIC_PLATFORMS;

const wentOut = (ctx: AppContext, alias: string, channel: string) =>
  sql.raw(
    `${alias}.status in (${WENT_OUT.map((s) => `'${s}'`).join(', ')}) and ${alias}.published_at is not null
     and ${channel}.platform not in (${hiddenPlatforms(ctx)
       .map((p) => `'${p}'`)
       .join(', ')})`,
  );

export interface PressUnit {
  id: string;
  name: string;
  slug: string;
  kind: UnitKind;
  path: string;
  parentId: string | null;
  timeZone: string;
}

export interface PressLink {
  channelName: string;
  platform: Platform;
  url: string;
}

export interface PressMedium {
  position: number;
  kind: MediaKind;
  altText: string;
  /** The original's, before camera and location data are removed (what the download will roughly weigh). */
  mime: string;
  bytes: number;
  width: number | null;
  height: number | null;
  /** Where a journalist downloads it, relative to the public URL. */
  path: string;
  fileName: string;
}

export interface PressItem {
  postId: string;
  unit: { id: string; name: string; slug: string; parentName: string | null };
  /** The text as it was published (on the channel that published it first). */
  text: string;
  tags: string[];
  publishedAt: Date;
  links: PressLink[];
  media: PressMedium[];
  /** Why the post was withdrawn from the platforms; then `text`, `tags`, `links` and `media` are empty. */
  retractionReason: string | null;
}

export interface PressQuery {
  /** The press room's unit: its subtree is listed. */
  scope: PressUnit;
  /** Words that must all appear in the post's text. */
  words?: string;
  /** A unit inside the scope whose subtree narrows the list. */
  office?: PressUnit;
  /** First publication in [from, to). */
  from?: Date;
  to?: Date;
  /** A cursor from a previous page's `next`. */
  cursor?: string;
  limit: number;
}

const pressUnitColumns = {
  id: units.id,
  name: units.name,
  slug: units.slug,
  kind: units.kind,
  path: units.path,
  parentId: units.parentId,
  timeZone: units.timeZone,
};

/** The national unit, whose press room is `/press`. */
export async function nationalPressUnit(ctx: AppContext): Promise<PressUnit | null> {
  const [row] = await ctx.db.select(pressUnitColumns).from(units).where(sql`${units.parentId} is null`);
  return row ?? null;
}

export async function pressUnitBySlug(ctx: AppContext, slug: string): Promise<PressUnit | null> {
  const [row] = await ctx.db.select(pressUnitColumns).from(units).where(eq(units.slug, slug));
  return row ?? null;
}

/** The units of a press room's subtree, for the office filter of its search. */
export function pressUnitsUnder(ctx: AppContext, scope: PressUnit): Promise<PressUnit[]> {
  return ctx.db
    .select(pressUnitColumns)
    .from(units)
    .where(like(units.path, `${scope.path}%`))
    .orderBy(asc(units.path));
}

const ts = (date: Date) => sql`${date.toISOString()}::timestamptz`;

/**
 * One page of the press room. A post's place is its first public delivery: read newest first along
 * `deliveries_press_idx`, keeping a delivery only when no public delivery of its post went out before
 * it, so a page costs a short index walk whatever the size of the table.
 */
export async function listPressItems(
  ctx: AppContext,
  query: PressQuery,
): Promise<{ items: PressItem[]; next: string | null }> {
  const filters = [sql`u.path like ${`${(query.office ?? query.scope).path}%`}`];
  if (query.office && !query.office.path.startsWith(query.scope.path)) return { items: [], next: null };
  const words = query.words?.trim();
  if (words) filters.push(sql`p.search @@ plainto_tsquery('simple', ${words})`);
  if (query.from) filters.push(sql`d.published_at >= ${ts(query.from)}`);
  if (query.to) filters.push(sql`d.published_at < ${ts(query.to)}`);
  const before = query.cursor ? decodeCursor(query.cursor) : undefined;
  if (before)
    filters.push(sql`(d.published_at, d.post_id) < (${before.at}::timestamptz, ${before.id}::uuid)`);
  const firsts = await queryRows<{ post_id: string; at: string }>(
    ctx.db,
    sql`select d.post_id, to_char(d.published_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at
      from deliveries d
      join channels c on c.id = d.channel_id
      join posts p on p.id = d.post_id
      join units u on u.id = p.unit_id
      where d.published_at is not null and ${wentOut(ctx, 'd', 'c')} and ${sql.join(filters, sql` and `)}
        and not exists (
          select 1 from deliveries e join channels ec on ec.id = e.channel_id
          where e.post_id = d.post_id and e.published_at is not null and ${wentOut(ctx, 'e', 'ec')}
            and (e.published_at, e.id) < (d.published_at, d.id)
        )
      order by d.published_at desc, d.post_id desc
      limit ${query.limit + 1}`,
  );
  const page = firsts.slice(0, query.limit);
  if (page.length === 0) return { items: [], next: null };
  const items = await pressItemsOf(
    ctx,
    page.map((row) => row.post_id),
  );
  const last = page.at(-1)!;
  return {
    items,
    next: firsts.length > query.limit ? encodeCursor({ at: last.at, id: last.post_id }) : null,
  };
}

/** The posts' press items, in the order given; a post that never went out is left out. */
async function pressItemsOf(ctx: AppContext, ids: string[]): Promise<PressItem[]> {
  const parents = sql`(select pu.name from units pu where pu.id = ${units.parentId})`;
  const [rows, mediaRows] = await Promise.all([
    ctx.db
      .select({
        postId: deliveries.postId,
        text: deliveries.renderedText,
        url: deliveries.remoteUrl,
        publishedAt: deliveries.publishedAt,
        channelName: channels.name,
        platform: channels.platform,
        unitId: units.id,
        unitName: units.name,
        unitSlug: units.slug,
        parentName: sql<string | null>`${parents}`,
        tags: posts.tags,
        retractionReason: posts.retractionReason,
      })
      .from(deliveries)
      .innerJoin(channels, eq(channels.id, deliveries.channelId))
      .innerJoin(posts, eq(posts.id, deliveries.postId))
      .innerJoin(units, eq(units.id, posts.unitId))
      .where(sql`${inArray(deliveries.postId, ids)} and ${wentOut(ctx, 'deliveries', 'channels')}`)
      .orderBy(asc(deliveries.publishedAt), asc(deliveries.id)),
    ctx.db
      .select({
        postId: postMedia.postId,
        position: postMedia.position,
        kind: media.kind,
        mime: media.mime,
        bytes: media.bytes,
        width: media.width,
        height: media.height,
        altText: sql<string>`coalesce(${postMedia.altText}, ${media.altText})`,
      })
      .from(postMedia)
      .innerJoin(media, eq(media.id, postMedia.mediaId))
      .where(inArray(postMedia.postId, ids))
      .orderBy(asc(postMedia.position)),
  ]);
  return ids.flatMap((postId) => {
    const published = rows.filter((row) => row.postId === postId);
    const first = published[0];
    if (!first?.publishedAt) return [];
    const retracted = first.retractionReason !== null;
    const unit = {
      id: first.unitId,
      name: first.unitName,
      slug: first.unitSlug,
      parentName: first.parentName,
    };
    const ofPost = retracted ? [] : mediaRows.filter((row) => row.postId === postId);
    return [
      {
        postId,
        unit,
        text: retracted ? '' : first.text,
        tags: retracted ? [] : first.tags,
        publishedAt: first.publishedAt,
        links: retracted
          ? []
          : published
              .filter((row) => row.url)
              .map((row) => ({ channelName: row.channelName, platform: row.platform, url: row.url! })),
        media: ofPost.map((row, index) => ({
          position: row.position,
          kind: row.kind,
          altText: row.altText,
          mime: row.mime,
          bytes: row.bytes,
          width: row.width,
          height: row.height,
          path: `/press/media/${postId}/${row.position}`,
          fileName: pressFileName({
            unitSlug: unit.slug,
            publishedAt: first.publishedAt!,
            text: first.text,
            index: index + 1,
            count: ofPost.length,
            mime: row.mime,
          }),
        })),
        retractionReason: first.retractionReason,
      },
    ];
  });
}

export interface PressDownload {
  prepared: PreparedMedia;
  fileName: string;
}

/**
 * A medium of a published, unretracted post as a journalist downloads it: at its original resolution,
 * without camera and location data (the media pipeline's rendition for {@link PRESS_DOWNLOAD_PLATFORM},
 * made once and kept), named after the post. 404 for anything the press room does not show.
 */
export async function pressDownload(
  ctx: AppContext,
  postId: string,
  position: number,
): Promise<PressDownload> {
  const [item] = await pressItemsOf(ctx, [postId]);
  const medium = item?.media.find((entry) => entry.position === position);
  if (!item || !medium) throw notFound('Media');
  const [link] = await ctx.db
    .select({ mediaId: postMedia.mediaId })
    .from(postMedia)
    .where(sql`${postMedia.postId} = ${postId} and ${postMedia.position} = ${position}`);
  if (!link) throw notFound('Media');
  const prepared = await prepareMediaForPlatform(ctx, link.mediaId, PRESS_DOWNLOAD_PLATFORM);
  return {
    prepared,
    fileName: pressFileName({
      unitSlug: item.unit.slug,
      publishedAt: item.publishedAt,
      text: item.text,
      index: item.media.indexOf(medium) + 1,
      count: item.media.length,
      mime: prepared.mime,
    }),
  };
}
