import { eq } from 'drizzle-orm';
import type { AppContext } from '../../context';
import { posts } from '../../db/schema';
import { allowedDeliveryEvents } from '../../domain/delivery-machine';
import { type Actor, decide } from '../../domain/permissions';
import { offeredModes } from '../../domain/rendering';
import { type LevelState, levelAbove } from '../../domain/review-levels';
import type { DeliveryMode, Platform, SourceKind } from '../../domain/vocabulary';
import { sourceReaderFor } from '../../platforms/index';
import { blackoutsOver, type ChannelBlackout } from '../blackouts';
import { listChannels } from '../channels';
import { channelFreeSlots, deliveryResource } from '../deliveries';
import { listPostEvents, loadPostView, type PostFacts, type PostView } from '../posts';
import { type LevelUnit, levelState, loadLevelUnit } from '../review-levels';
import { reviewablePost } from './decisions';
import { type LevelDecisionView, levelDecisions, levelInbox } from './inbox';
import { loadTargetChannels, previewTargets, type TargetChannel, type TargetReport } from './targets';

/** What the review page and the inbox's bulk panel show a reviewer, decided here rather than in a front end. */

/** How far ahead the approve screen names the blackouts over a channel. */
const BLACKOUT_NOTICE_DAYS = 60;
/** How far ahead the approve screen looks for a channel's next free slot. */
const SLOT_HORIZON_DAYS = 14;

/** A channel the reviewer may publish the post to, as the approve screen shows it. */
export interface TargetView {
  target: TargetChannel;
  /** The post as this channel would publish it as a copy, and what the channel objects to. */
  report: TargetReport;
  /** The modes this channel offers for this post (a repost or quote only of an original on its platform). */
  modes: DeliveryMode[];
  nextSlot: Date | null;
  /** Blackouts over the channel from now on: a time chosen inside one does not publish until it ends. */
  blackouts: ChannelBlackout[];
}

/** The original on the office's account, as the review page describes it. */
export interface OriginView {
  platform: SourceKind;
  url: string | null;
  authorHandle: string | null;
  publishedAt: string;
  /**
   * `deleted`: the platform said it is gone; `exists`: the platform said it is there (at `checkedAt`);
   * `unchecked`: not asked yet; `unknowable`: the platform cannot tell (Telegram, RSS).
   */
  state: 'deleted' | 'exists' | 'unchecked' | 'unknowable';
  deletedAt: string | null;
  checkedAt: string | null;
}

/** The reviewer's level on this post: what it did so far, and the level a forward would reach. */
export interface LevelContext {
  unit: LevelUnit;
  state: LevelState | null;
  above: LevelUnit | null;
}

export interface ReviewScreen {
  post: PostView;
  /** The post's unit, which the retract button's permission check is decided on. */
  unitPath: string;
  origin: OriginView | null;
  events: Awaited<ReturnType<typeof listPostEvents>>;
  level: LevelContext;
  /** What the other levels did with the post. */
  decisions: LevelDecisionView[];
  /** The channels the post may still be approved to (not those it already has a delivery on). */
  targets: TargetView[];
  /** Deliveries of the post the reviewer may cancel. */
  cancellable: ReadonlySet<string>;
  /** The posts before and after it in the reviewer's inbox. */
  neighbours: { previous: string | null; next: string | null };
}

/** The review page of a post: everything the reviewer decides with, when they may review it (404 or 403 otherwise). */
export async function reviewScreen(ctx: AppContext, actor: Actor, postId: string): Promise<ReviewScreen> {
  const facts = await reviewablePost(ctx, actor, postId);
  const above = levelAbove(actor.unitPath);
  const [post, origin, events, inbox, unit, state, aboveUnit, decisions] = await Promise.all([
    loadPostView(ctx.db, facts.id),
    originView(ctx, facts.id),
    listPostEvents(ctx.db, facts.id),
    levelInbox(ctx, { levelId: actor.unitId, limit: 200 }),
    loadLevelUnit(ctx.db, actor.unitId),
    levelState(ctx.db, facts.id, actor.unitId),
    above ? loadLevelUnit(ctx.db, above) : null,
    levelDecisions(ctx.db, [facts.id]),
  ]);
  // Channels the post already has a delivery on cannot be added again.
  const taken = new Set(post.deliveries.map((d) => d.channelId));
  const [targets, cancellable] = await Promise.all([
    targetViews(ctx, actor, facts, post, taken),
    cancellableDeliveries(ctx, actor, facts, post),
  ]);
  const index = inbox.items.findIndex((item) => item.id === facts.id);
  return {
    post,
    unitPath: facts.unitPath,
    origin,
    events,
    level: { unit, state, above: aboveUnit },
    decisions: (decisions.get(facts.id) ?? []).filter((d) => d.unit.id !== actor.unitId),
    targets,
    cancellable,
    neighbours:
      index >= 0
        ? { previous: inbox.items[index - 1]?.id ?? null, next: inbox.items[index + 1]?.id ?? null }
        : { previous: null, next: inbox.items[0]?.id ?? null },
  };
}

/** The origin of a post a source brought in, and what its platform last said about it. */
async function originView(ctx: AppContext, postId: string): Promise<OriginView | null> {
  const [row] = await ctx.db
    .select({ origin: posts.origin, deletedAt: posts.originDeletedAt, checkedAt: posts.originCheckedAt })
    .from(posts)
    .where(eq(posts.id, postId));
  const origin = row?.origin;
  if (!row || !origin) return null;
  const canTell = sourceReaderFor(ctx.platforms, origin.platform)?.originExists !== undefined;
  return {
    platform: origin.platform,
    url: origin.url,
    authorHandle: origin.authorHandle,
    publishedAt: origin.publishedAt,
    state: row.deletedAt ? 'deleted' : row.checkedAt ? 'exists' : canTell ? 'unchecked' : 'unknowable',
    deletedAt: row.deletedAt?.toISOString() ?? null,
    checkedAt: row.checkedAt?.toISOString() ?? null,
  };
}

/** The live channels the actor may publish to, with their unit's path, by platform and name. */
async function targetableChannels(ctx: AppContext, actor: Actor): Promise<TargetChannel[]> {
  const visible = await listChannels(ctx, actor, {});
  const found = await loadTargetChannels(
    ctx.db,
    visible.map((c) => c.id),
  );
  return [...found.values()]
    .filter(
      (entry) => decide(actor, 'channel.target', { type: 'channel', unitPath: entry.unitPath }) === 'allow',
    )
    .sort(
      (a, b) =>
        a.channel.platform.localeCompare(b.channel.platform) || a.channel.name.localeCompare(b.channel.name),
    );
}

/** The channels the reviewer may publish to, each with its rendering of this post and its next free slot. */
async function targetViews(
  ctx: AppContext,
  actor: Actor,
  facts: PostFacts,
  post: PostView,
  taken: ReadonlySet<string>,
): Promise<TargetView[]> {
  const targets = (await targetableChannels(ctx, actor)).filter((target) => !taken.has(target.channel.id));
  const reports = await previewTargets(ctx, facts, targets, 'copy');
  const now = ctx.now();
  const horizon = new Date(now.getTime() + SLOT_HORIZON_DAYS * 86_400_000);
  const blackouts = await blackoutsOver(
    ctx,
    targets.map((target) => target.channel.id),
    now,
    new Date(now.getTime() + BLACKOUT_NOTICE_DAYS * 86_400_000),
  );
  return Promise.all(
    targets.map(async (target, index) => ({
      target,
      report: reports[index]!,
      modes: offeredModes(target.channel.platform, post),
      nextSlot: (await channelFreeSlots(ctx, target.channel, now, horizon))[0] ?? null,
      blackouts: blackouts.filter((blackout) => blackout.channelId === target.channel.id),
    })),
  );
}

/** The deliveries of the post the reviewer may cancel: those of channels they control, if not out yet. */
async function cancellableDeliveries(
  ctx: AppContext,
  actor: Actor,
  facts: PostFacts,
  post: PostView,
): Promise<ReadonlySet<string>> {
  const channels = await loadTargetChannels(
    ctx.db,
    post.deliveries.map((d) => d.channelId),
  );
  return new Set(
    post.deliveries
      .filter((d) => {
        const channel = channels.get(d.channelId);
        return (
          channel !== undefined &&
          allowedDeliveryEvents(d.status).includes('cancel') &&
          decide(
            actor,
            'delivery.manage',
            deliveryResource({ channelUnitPath: channel.unitPath, postUnitPath: facts.unitPath }),
          ) === 'allow'
        );
      })
      .map((d) => d.id),
  );
}

/** A channel the reviewer may approve posts to from the inbox, all at once. */
export interface BulkChannel {
  id: string;
  name: string;
  platform: Platform;
}

/** The channels a reviewer may approve to from the inbox: their own level's that they may target. */
export async function bulkChannels(ctx: AppContext, actor: Actor): Promise<BulkChannel[]> {
  return (await targetableChannels(ctx, actor))
    .filter((entry) => entry.channel.unitId === actor.unitId)
    .map((entry) => ({ id: entry.channel.id, name: entry.channel.name, platform: entry.channel.platform }));
}
