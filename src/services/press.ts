import { and, asc, desc, eq, inArray, isNotNull, lt, min, notInArray, sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import { channels, deliveries, posts, units } from '../db/schema';
import { NON_PUBLIC_PLATFORMS, type Platform } from '../domain/vocabulary';

/**
 * The public press room: posts that went out on at least one channel, newest first, with the office
 * they came from and where they can be seen. Only deliveries that went out are read; nothing else of
 * a post (drafts, comments, reviewers) is ever exposed, nor what went only to a webhook or the sandbox.
 * A retracted post stays in its place, marked with the reason, without its text or links: journalists
 * learn it was pulled instead of seeing it vanish.
 */

/** A delivery that went out: published, or published and since retracted (or being retracted). */
const WENT_OUT = ['published', 'retracting', 'retracted', 'retraction_needs_attention'] as const;

const publicDelivery = and(
  inArray(deliveries.status, [...WENT_OUT]),
  isNotNull(deliveries.publishedAt),
  notInArray(channels.platform, [...NON_PUBLIC_PLATFORMS]),
);

export interface PressLink {
  channelName: string;
  platform: Platform;
  url: string;
}

export interface PressItem {
  postId: string;
  unit: { id: string; name: string };
  /** The text as it was published (on the channel that published it first). */
  text: string;
  tags: string[];
  publishedAt: Date;
  links: PressLink[];
  /** Why the post was withdrawn from the platforms; then `text`, `tags` and `links` are empty. */
  retractionReason: string | null;
}

export async function listPressItems(
  ctx: AppContext,
  options: { limit: number; before?: Date },
): Promise<{ items: PressItem[]; nextBefore: Date | null }> {
  const firstPublished = min(deliveries.publishedAt);
  const latest = await ctx.db
    .select({ postId: deliveries.postId, at: firstPublished })
    .from(deliveries)
    .innerJoin(channels, eq(channels.id, deliveries.channelId))
    .where(publicDelivery)
    .groupBy(deliveries.postId)
    .having(options.before ? lt(firstPublished, options.before) : undefined)
    .orderBy(desc(firstPublished), desc(deliveries.postId))
    .limit(options.limit + 1);
  const page = latest.slice(0, options.limit);
  if (page.length === 0) return { items: [], nextBefore: null };
  const ids = page.map((row) => row.postId);
  const rows = await ctx.db
    .select({
      postId: deliveries.postId,
      text: deliveries.renderedText,
      url: deliveries.remoteUrl,
      publishedAt: deliveries.publishedAt,
      channelName: channels.name,
      platform: channels.platform,
      unitId: units.id,
      unitName: units.name,
      tags: posts.tags,
      retractionReason: posts.retractionReason,
    })
    .from(deliveries)
    .innerJoin(channels, eq(channels.id, deliveries.channelId))
    .innerJoin(posts, eq(posts.id, deliveries.postId))
    .innerJoin(units, eq(units.id, posts.unitId))
    .where(and(inArray(deliveries.postId, ids), publicDelivery))
    .orderBy(asc(deliveries.publishedAt), asc(sql`${channels.name}`));
  const items = page.flatMap((entry) => {
    const published = rows.filter((row) => row.postId === entry.postId);
    const first = published[0];
    if (!first?.publishedAt) return [];
    const retracted = first.retractionReason !== null;
    return [
      {
        postId: entry.postId,
        unit: { id: first.unitId, name: first.unitName },
        text: retracted ? '' : first.text,
        tags: retracted ? [] : first.tags,
        publishedAt: first.publishedAt,
        links: retracted
          ? []
          : published
              .filter((row) => row.url)
              .map((row) => ({
                channelName: row.channelName,
                platform: row.platform,
                url: row.url!,
              })),
        retractionReason: first.retractionReason,
      },
    ];
  });
  const last = page.at(-1);
  return {
    items,
    nextBefore: latest.length > options.limit && last?.at ? new Date(last.at) : null,
  };
}
