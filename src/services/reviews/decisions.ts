import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context';
import type { Tx } from '../../db/client';
import { deliveries } from '../../db/schema';
import { conflict } from '../../domain/errors';
import { type Actor, authorize } from '../../domain/permissions';
import { levelAbove } from '../../domain/review-levels';
import { enqueueDueDeliveries, enqueueNotify } from '../../queues/producers';
import { recordNotifications } from '../notifications';
import { nextStatus, transitionInTx } from '../post-transitions';
import {
  expectedVersion,
  loadPostView,
  type PostFacts,
  type PostView,
  postFacts,
  postResource,
} from '../posts';
import { type LevelUnit, loadLevelUnit, recordLevelAction } from '../review-levels';

/** Decisions without deliveries: pass, forward, request changes, reject. */

/** After the commit: queue what the transaction recorded. Redis being away must not undo a decision. */
export async function afterCommit(ctx: AppContext, deliveryIds: string[], outbox: number[]): Promise<void> {
  await enqueueDueDeliveries(ctx, deliveryIds).catch((error: unknown) =>
    ctx.log.warn({ err: error, deliveryIds }, 'could not enqueue deliveries; the sweeper will'),
  );
  await enqueueNotify(ctx, outbox).catch((error: unknown) =>
    ctx.log.warn({ err: error }, 'could not enqueue notifications; the sweeper will'),
  );
}

/** The post, when the actor may decide on it: 404 where they may not see it, 403 where they see it only. */
export async function reviewablePost(ctx: AppContext, actor: Actor, postId: string): Promise<PostFacts> {
  const facts = await postFacts(ctx.db, postId);
  authorize(actor, 'post.review', postResource(facts), 'Post');
  return facts;
}

/** The actor's level: the unit they review at, as the timeline names it. */
export async function actorLevel(tx: Tx, actor: Actor): Promise<LevelUnit> {
  return loadLevelUnit(tx, actor.unitId);
}

async function recordDecision(
  ctx: AppContext,
  actor: Actor,
  facts: PostFacts,
  event: 'request_changes' | 'reject',
  version: number,
  comment: string,
): Promise<PostView> {
  expectedVersion(facts, version);
  const jobs = await ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    const level = await actorLevel(tx, actor);
    const result = await transitionInTx(tx, actor, facts, event, version, now, {
      comment,
      columns: { decidedAt: now, decidedBy: actor.userId },
      data: { level: { id: level.id, name: level.name } },
    });
    // Post-wide decisions send the post back; once a level has fanned it out they would strand its deliveries.
    const [delivery] = await tx
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(eq(deliveries.postId, facts.id))
      .limit(1);
    if (delivery)
      throw conflict(
        'has_deliveries',
        'A level has already approved this post; cancel its deliveries instead',
      );
    return recordNotifications(ctx, tx, {
      postId: facts.id,
      unitId: facts.unitId,
      postEventId: result.eventId,
      kind: event === 'reject' ? 'post.rejected' : 'post.changes_requested',
      data: { comment, reviewer: actor.userId, level: level.name },
      at: now,
    });
  });
  await afterCommit(ctx, [], jobs);
  return loadPostView(ctx.db, facts.id);
}

/**
 * Pass (not for this level's channels) or forward (to the level above): the level's row and the
 * post's timeline event in one transaction conditional on the version.
 */
async function levelStep(
  ctx: AppContext,
  actor: Actor,
  facts: PostFacts,
  action: 'pass' | 'forward',
  version: number,
  note: string | null,
): Promise<PostView> {
  expectedVersion(facts, version);
  nextStatus(facts.status, action);
  await ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    const level = await actorLevel(tx, actor);
    const above = action === 'forward' ? levelAbove(level.path) : null;
    const to = above ? await loadLevelUnit(tx, above) : null;
    await transitionInTx(tx, actor, facts, action, version, now, {
      comment: note,
      data: {
        level: { id: level.id, name: level.name },
        ...(to ? { to: { id: to.id, name: to.name } } : {}),
      },
    });
    await recordLevelAction(tx, facts, level, action, { userId: actor.userId, note, at: now });
  });
  return loadPostView(ctx.db, facts.id);
}

export const passPost = async (
  ctx: AppContext,
  actor: Actor,
  postId: string,
  version: number,
  note: string | null,
) => levelStep(ctx, actor, await reviewablePost(ctx, actor, postId), 'pass', version, note);

export const forwardPost = async (
  ctx: AppContext,
  actor: Actor,
  postId: string,
  version: number,
  note: string | null,
) => levelStep(ctx, actor, await reviewablePost(ctx, actor, postId), 'forward', version, note);

export const requestChanges = async (
  ctx: AppContext,
  actor: Actor,
  postId: string,
  version: number,
  comment: string,
) =>
  recordDecision(ctx, actor, await reviewablePost(ctx, actor, postId), 'request_changes', version, comment);

export const rejectPost = async (
  ctx: AppContext,
  actor: Actor,
  postId: string,
  version: number,
  reason: string,
) => recordDecision(ctx, actor, await reviewablePost(ctx, actor, postId), 'reject', version, reason);
