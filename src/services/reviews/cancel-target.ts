import { and, eq } from 'drizzle-orm';
import type { AppContext } from '../../context';
import { deliveries } from '../../db/schema';
import { notFound } from '../../domain/errors';
import { type Actor, authorize } from '../../domain/permissions';
import { cancelDelivery } from '../deliveries';
import { loadPostView, type PostView, postFacts, postResource } from '../posts';

/**
 * Cancels the post's delivery on one channel, if it has not been published: whoever reads the post
 * finds the delivery, and the delivery's own rule (`delivery.manage`) decides the cancel.
 */
export async function cancelTarget(
  ctx: AppContext,
  actor: Actor,
  postId: string,
  channelId: string,
  version?: number,
): Promise<PostView> {
  const facts = await postFacts(ctx.db, postId);
  authorize(actor, 'post.read', postResource(facts), 'Post');
  const [row] = await ctx.db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(and(eq(deliveries.postId, facts.id), eq(deliveries.channelId, channelId)));
  if (!row) throw notFound('Delivery');
  await cancelDelivery(ctx, actor, row.id, version);
  return loadPostView(ctx.db, facts.id);
}
