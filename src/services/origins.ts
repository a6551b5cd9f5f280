import { and, asc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import type { DbOrTx } from '../db/client';
import { preparedPerDatabase, queryRows } from '../db/client';
import { deliveries, notifications, posts, users } from '../db/schema';
import { allowedPostEvents } from '../domain/post-machine';
import type { PlatformContext, PostOrigin, SourceReader } from '../platforms/types';
import { recordAudit } from './audit';
import { transitionDeliveryRow } from './delivery-transitions';
import { transitionInTx } from './post-transitions';
import { postFacts } from './posts';
import { leaveInboxes } from './review-levels';

/**
 * Originals deleted at their source. Where the platform can tell (not Telegram, not RSS), Gaung asks
 * whether a post's original still exists when its source is read and again just before a delivery
 * of it is published. A deleted original is never republished: before approval the post is withdrawn
 * from review; after approval its pending deliveries wait for a person (`needs_attention`).
 */

/** Pending posts of a source whose originals are asked about per read (the least recently asked first). */
export const ORIGIN_CHECKS_PER_READ = 10;

/** What happened to a post whose original was found deleted. */
export type OriginSettlement = { withdrawn: boolean; held: string[]; firstSeen: boolean };

const describe = (origin: PostOrigin | null) =>
  origin
    ? `The original on ${origin.platform}${origin.url ? ` (${origin.url})` : ''} was deleted`
    : 'The original was deleted';

/**
 * Marks the post's original as deleted and acts on it, in one transaction: a post still in review is
 * withdrawn (it leaves every inbox); an approved one keeps its published deliveries and its scheduled
 * ones go to `needs_attention` with the reason. The office is told the first time. Idempotent: a
 * delivery added later (another level approving) is held when its turn comes.
 */
export async function settleDeletedOrigin(ctx: AppContext, postId: string): Promise<OriginSettlement> {
  return ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    const [post] = await tx
      .select({ origin: posts.origin, deletedAt: posts.originDeletedAt })
      .from(posts)
      .where(eq(posts.id, postId))
      .for('update');
    if (!post) return { withdrawn: false, held: [], firstSeen: false };
    const firstSeen = post.deletedAt === null;
    const reason = describe(post.origin);
    if (firstSeen)
      await tx.update(posts).set({ originDeletedAt: now, originCheckedAt: now }).where(eq(posts.id, postId));
    const facts = await postFacts(tx, postId);
    let withdrawn = false;
    if (allowedPostEvents(facts.status).includes('withdraw')) {
      await transitionInTx(tx, { userId: facts.authorId }, facts, 'withdraw', facts.version, now, {
        comment: `${reason}: withdrawn from review.`,
        actorId: null,
        data: { originDeleted: true },
      });
      withdrawn = true;
    } else if (facts.status === 'approved') {
      // Levels that had not decided yet have nothing left to decide on.
      await leaveInboxes(tx, postId, now);
    }
    const pending = await tx
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(and(eq(deliveries.postId, postId), eq(deliveries.status, 'scheduled')))
      .for('update');
    const held: string[] = [];
    for (const delivery of pending) {
      const row = await transitionDeliveryRow(tx, {
        deliveryId: delivery.id,
        from: 'scheduled',
        event: 'hold',
        now,
        reason: 'the original was deleted at its source',
        lastError: {
          message: `${reason}; it is not republished. Cancel this delivery, or retry it to publish anyway`,
          code: 'origin_deleted',
        },
      });
      if (row) held.push(row.id);
    }
    if (firstSeen) {
      await recordAudit(ctx, tx, {
        actorId: null,
        ip: null,
        unitId: facts.unitId,
        action: 'post.origin_deleted',
        targetType: 'post',
        targetId: postId,
        details: { origin: post.origin, withdrawn, held },
      });
      const people = await tx
        .select({ id: users.id })
        .from(users)
        .where(and(eq(users.unitId, facts.unitId), isNull(users.disabledAt)));
      if (people.length > 0)
        await tx.insert(notifications).values(
          people.map((person) => ({
            userId: person.id,
            kind: 'post.origin_deleted' as const,
            postId,
            data: { reason, withdrawn, held: held.length, url: post.origin?.url ?? null },
          })),
        );
    }
    return { withdrawn, held, firstSeen };
  });
}

/**
 * A listed original last checked this recently is not marked again: every read lists the account's
 * latest items, so marking them each time would rewrite the same posts every few minutes. An
 * original that goes is no longer listed, and is asked about by the next read whatever its mark.
 */
const LISTED_RECHECK_MS = 60 * 60_000;

/**
 * Asks the platform about the originals of a source's posts that could still be republished (in
 * review, or approved with deliveries scheduled), the least recently asked first. The items the read
 * just listed (`listed`, their keys) exist: they are marked checked without asking again, which would
 * only spend the platform's read limits (those checked within LISTED_RECHECK_MS, as the posts the
 * read just made, keep their mark). A platform that cannot tell, or a question that fails, leaves
 * the post as it is; the check before publishing asks again.
 */
export async function checkPendingOrigins(
  ctx: AppContext,
  sourceId: string,
  reader: SourceReader,
  reading: PlatformContext,
  listed: readonly string[] = [],
): Promise<{ checked: number; deleted: string[] }> {
  if (!reader.originExists) return { checked: 0, deleted: [] };
  const now = ctx.now();
  const pending = await originStatements(ctx.db).pending.execute({
    sourceId,
    now: now.toISOString(),
    stale: new Date(now.getTime() - LISTED_RECHECK_MS).toISOString(),
    listed: JSON.stringify(listed),
  });
  const deleted: string[] = [];
  let checked = 0;
  for (const post of pending) {
    const exists = await askOrigin(ctx, reader, reading, post.origin!, { postId: post.id });
    if (exists === null) break;
    checked += 1;
    if (exists === false) {
      await settleDeletedOrigin(ctx, post.id);
      deleted.push(post.id);
    } else await ctx.db.update(posts).set({ originCheckedAt: ctx.now() }).where(eq(posts.id, post.id));
  }
  return { checked, deleted };
}

/**
 * One statement marks the items a read just listed (`listed`, a JSON array of keys) checked and
 * picks the source's other pending posts to ask about.
 */
const originStatements = preparedPerDatabase((db) => {
  const sourceId = sql`${sql.placeholder('sourceId')}::uuid`;
  const listed = sql`(select jsonb_array_elements_text(${sql.placeholder('listed')}::jsonb))`;
  const listedChecked = db.$with('listed_checked').as(
    db
      .update(posts)
      .set({ originCheckedAt: sql`${sql.placeholder('now')}::timestamptz` })
      .where(
        and(
          eq(posts.sourceId, sourceId),
          sql`${posts.sourceItemKey} in ${listed}`,
          isNull(posts.originDeletedAt),
          or(
            isNull(posts.originCheckedAt),
            lt(posts.originCheckedAt, sql`${sql.placeholder('stale')}::timestamptz`),
          ),
        ),
      )
      .returning({ id: posts.id }),
  );
  return {
    pending: db
      .with(listedChecked)
      .select({ id: posts.id, origin: posts.origin })
      .from(posts)
      .where(
        and(
          eq(posts.sourceId, sourceId),
          isNull(posts.originDeletedAt),
          sql`${posts.origin} is not null`,
          sql`${posts.sourceItemKey} not in ${listed}`,
          or(
            inArray(posts.status, ['draft', 'submitted', 'changes_requested']),
            sql`exists (select 1 from deliveries d where d.post_id = ${posts.id} and d.status = 'scheduled')`,
          ),
        ),
      )
      .orderBy(sql`${posts.originCheckedAt} asc nulls first`, asc(posts.createdAt))
      .limit(ORIGIN_CHECKS_PER_READ)
      .prepare('origins_pending'),
  };
});

/** true / false as the platform said; null where it cannot tell or the question failed (logged). */
export async function askOrigin(
  ctx: AppContext,
  reader: SourceReader,
  reading: PlatformContext,
  origin: PostOrigin,
  log: Record<string, unknown>,
): Promise<boolean | null> {
  if (!reader.originExists) return null;
  try {
    const answer = await reader.originExists(reading, origin);
    return answer === 'cannot_tell' ? null : answer;
  } catch (error) {
    ctx.log.warn(
      { err: error, ...log, nativeId: origin.nativeId },
      'could not ask whether an original exists',
    );
    return null;
  }
}

/** A due, scheduled delivery whose post came from a source: what the check before publishing needs. */
export async function originOfDueDelivery(
  db: DbOrTx,
  deliveryId: string,
  now: Date,
): Promise<{ postId: string; sourceId: string | null; origin: PostOrigin; deleted: boolean } | null> {
  const [row] = await queryRows<{
    post_id: string;
    source_id: string | null;
    origin: PostOrigin;
    deleted: boolean;
  }>(
    db,
    sql`select p.id as post_id, p.source_id, p.origin, p.origin_deleted_at is not null as deleted
      from deliveries d join posts p on p.id = d.post_id
      where d.id = ${deliveryId}::uuid and d.status = 'scheduled'
        and d.due_at <= ${now.toISOString()}::timestamptz and p.origin is not null`,
  );
  return row
    ? { postId: row.post_id, sourceId: row.source_id, origin: row.origin, deleted: Boolean(row.deleted) }
    : null;
}
