import { asc, eq, inArray } from 'drizzle-orm';
import type { AppContext } from '../../context';
import type { Tx } from '../../db/client';
import { channels, deliveries, deliveryEvents } from '../../db/schema';
import { AppError, conflict, staleVersion } from '../../domain/errors';
import { type Actor, type Decision, decide } from '../../domain/permissions';
import { decideTiktokChoice, type TiktokChoice, tiktokFacts } from '../../domain/tiktok';
import type { DeliveryMode } from '../../domain/vocabulary';
import type { ChannelRow } from '../channels';
import { recordNotifications } from '../notifications';
import { bumpPost, insertPostEvent, nextStatus, transitionInTx } from '../post-transitions';
import { expectedVersion, loadPostView, type PostFacts, type PostView } from '../posts';
import { recordLevelAction, requireApprovedLevel } from '../review-levels';
import { channelsWithSlots, replanChannel } from '../slot-planning';
import { actorLevel, afterCommit, reviewablePost } from './decisions';
import {
  blocking,
  contentSnapshot,
  loadTargetChannels,
  type PostContentSnapshot,
  renderTarget,
  type TargetReport,
} from './targets';

/** Approval and targets: the deliveries an approval fans out to, and more channels for an approved post. */

export interface TargetInput {
  channelId: string;
  mode: DeliveryMode;
  /** 'now', 'next-slot', or an ISO time. */
  at: string;
  text?: string | null;
  /** TikTok channels: who may see the post and which interactions it allows. */
  tiktok?: TiktokChoice;
}

interface PlannedTarget {
  channel: ChannelRow;
  mode: DeliveryMode;
  textOverride: string | null;
  /** What the delivery records of the reviewer's platform choices (TikTok). */
  platformOptions: Record<string, unknown> | null;
  renderedText: string;
  /** A fixed time, or null for the channel's next free slot. */
  dueAt: Date | null;
}

/** A few seconds of clock skew between a browser and the server still count as "now". */
const PAST_TOLERANCE_MS = 60_000;

/**
 * Checks every target before anything is written: the channel exists and may be targeted, the text
 * and media pass the platform's rules, the time is usable. Any error refuses the whole request (422)
 * with the issues per channel.
 */
async function planTargets(
  ctx: AppContext,
  facts: PostFacts,
  version: number,
  targets: readonly TargetInput[],
  actor: Actor,
  existing: ReadonlySet<string>,
): Promise<{ planned: PlannedTarget[]; content: PostContentSnapshot }> {
  const content = await contentSnapshot(ctx.db, facts);
  // The content must be the one the reviewer decided on; the version check in the write keeps it so.
  if (content.version !== version) throw staleVersion(content.version);
  const found = await loadTargetChannels(
    ctx.db,
    targets.map((t) => t.channelId),
  );
  const slotted = targets.filter((t) => t.at === 'next-slot').map((t) => t.channelId);
  const withSlots = await channelsWithSlots(ctx.db, slotted);
  const now = ctx.now().getTime();
  const reports: TargetReport[] = [];
  const planned: PlannedTarget[] = [];
  for (const target of targets) {
    const entry = found.get(target.channelId);
    const decision: Decision = entry
      ? decide(actor, 'channel.target', { type: 'channel', unitPath: entry.unitPath })
      : 'not_found';
    if (!entry || decision !== 'allow') {
      reports.push({
        channelId: target.channelId,
        channelName: decision === 'not_found' ? null : (entry?.channel.name ?? null),
        platform: decision === 'not_found' ? null : (entry?.channel.platform ?? null),
        mode: target.mode,
        text: '',
        count: null,
        issues: [
          decision === 'not_found'
            ? { code: 'channel_not_found', severity: 'error', field: 'channelId', message: 'No such channel' }
            : {
                code: 'channel_not_targetable',
                severity: 'error',
                field: 'channelId',
                message:
                  'You may not publish to this channel; reviewers publish to their own unit’s channels',
              },
        ],
      });
      continue;
    }
    const report = await renderTarget(ctx, content, entry, target.mode, target.text ?? null);
    if (existing.has(target.channelId))
      report.issues.push({
        code: 'delivery_exists',
        severity: 'error',
        field: 'channelId',
        message: 'This post already has a delivery on this channel',
      });
    let dueAt: Date | null = null;
    if (target.at === 'now') dueAt = new Date(now);
    else if (target.at === 'next-slot') {
      if (!withSlots.has(target.channelId))
        report.issues.push({
          code: 'no_slots',
          severity: 'error',
          field: 'at',
          message: 'This channel has no posting slots; choose a time instead',
        });
    } else {
      const at = Date.parse(target.at);
      if (at < now - PAST_TOLERANCE_MS)
        report.issues.push({
          code: 'at_in_past',
          severity: 'error',
          field: 'at',
          message: 'This time has passed',
        });
      dueAt = new Date(Math.max(at, now));
    }
    let platformOptions: Record<string, unknown> | null = null;
    if (entry.channel.platform === 'tiktok') {
      const decided = decideTiktokChoice(tiktokFacts(entry.channel.settings), target.tiktok);
      report.issues.push(...decided.issues);
      platformOptions = { ...decided.recorded };
    } else if (target.tiktok)
      report.issues.push({
        code: 'tiktok_options_wrong_platform',
        severity: 'error',
        field: 'tiktok',
        message: 'TikTok choices apply to TikTok channels only',
      });
    reports.push(report);
    planned.push({
      channel: entry.channel,
      mode: target.mode,
      textOverride: target.text ?? null,
      platformOptions,
      renderedText: report.text,
      dueAt,
    });
  }
  if (reports.some((report) => blocking(report.issues)))
    throw new AppError('invalid_targets', 422, 'Some targets cannot be published as they are', {
      extra: { targets: reports },
    });
  return { planned, content };
}

/**
 * Writes one delivery per planned target. Channels asking for their next free slot are locked
 * (in id order, so two approvals never deadlock) while their provisional deliveries and this one
 * are given the free slots fairly (`replanChannel`), so no two approvals take the same slot.
 * Returns the new deliveries and the provisional ones that moved.
 */
async function createDeliveries(
  ctx: AppContext,
  tx: Tx,
  actor: Actor,
  facts: PostFacts,
  content: PostContentSnapshot,
  planned: readonly PlannedTarget[],
  now: Date,
): Promise<{ ids: string[]; moved: string[] }> {
  const slotted = planned.filter((p) => p.dueAt === null).map((p) => p.channel.id);
  const dueAt = new Map<string, Date>();
  const moved: string[] = [];
  if (slotted.length > 0) {
    const locked = await tx
      .select({ id: channels.id })
      .from(channels)
      .where(inArray(channels.id, slotted))
      .orderBy(asc(channels.id))
      .for('update');
    const notBefore =
      content.preferredFrom && content.preferredFrom.getTime() > now.getTime() ? content.preferredFrom : null;
    for (const channel of locked) {
      const plan = await replanChannel(ctx, tx, channel.id, now, [
        { key: facts.id, unitId: facts.unitId, notBefore },
      ]);
      dueAt.set(channel.id, plan.fresh.get(facts.id)!);
      moved.push(...plan.moved);
    }
  }
  const rows = await tx
    .insert(deliveries)
    .values(
      planned.map((p) => ({
        postId: facts.id,
        channelId: p.channel.id,
        mode: p.mode,
        status: 'scheduled' as const,
        dueAt: p.dueAt ?? dueAt.get(p.channel.id)!,
        slotted: p.dueAt === null ? 1 : 0,
        textOverride: p.textOverride,
        renderedText: p.renderedText,
        platformOptions: p.platformOptions,
        createdBy: actor.userId,
        createdAt: now,
        updatedAt: now,
      })),
    )
    .onConflictDoNothing({ target: [deliveries.postId, deliveries.channelId] })
    .returning({ id: deliveries.id, channelId: deliveries.channelId, dueAt: deliveries.dueAt });
  if (rows.length !== planned.length)
    throw conflict('delivery_exists', 'This post already has a delivery on one of these channels');
  await tx.insert(deliveryEvents).values(
    rows.map((row) => ({
      deliveryId: row.id,
      actorId: actor.userId,
      fromStatus: null,
      toStatus: 'scheduled' as const,
      reason: 'approved',
      createdAt: now,
    })),
  );
  for (const row of rows) {
    const plan = planned.find((p) => p.channel.id === row.channelId)!;
    await insertPostEvent(tx, {
      postId: facts.id,
      actorId: actor.userId,
      kind: 'delivery',
      data: {
        change: 'scheduled',
        deliveryId: row.id,
        channelId: row.channelId,
        channelName: plan.channel.name,
        platform: plan.channel.platform,
        mode: plan.mode,
        dueAt: row.dueAt.toISOString(),
      },
      at: now,
    });
  }
  return { ids: rows.map((row) => row.id), moved };
}

export interface ApprovalInput {
  version: number;
  targets: TargetInput[];
  comment?: string;
}

/**
 * Approves a submitted post and fans it out: the post's transition, one delivery per target and the
 * office's notifications, all in one transaction conditional on the version — of two reviewers
 * approving at once, exactly one wins and the other gets 409.
 */
export async function approvePost(
  ctx: AppContext,
  actor: Actor,
  postId: string,
  input: ApprovalInput,
): Promise<PostView> {
  const facts = await reviewablePost(ctx, actor, postId);
  expectedVersion(facts, input.version);
  nextStatus(facts.status, 'approve');
  const { planned, content } = await planTargets(ctx, facts, input.version, input.targets, actor, new Set());
  const { ids, moved, jobs } = await ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    const level = await actorLevel(tx, actor);
    const result = await transitionInTx(tx, actor, facts, 'approve', input.version, now, {
      comment: input.comment ?? null,
      columns: { decidedAt: now, decidedBy: actor.userId },
      data: { level: { id: level.id, name: level.name } },
    });
    await recordLevelAction(tx, facts, level, 'approve', {
      userId: actor.userId,
      note: input.comment ?? null,
      at: now,
    });
    const { ids, moved } = await createDeliveries(ctx, tx, actor, facts, content, planned, now);
    const jobs = await recordNotifications(ctx, tx, {
      postId: facts.id,
      unitId: facts.unitId,
      postEventId: result.eventId,
      kind: 'post.approved',
      data: {
        comment: input.comment ?? null,
        reviewer: actor.userId,
        level: level.name,
        deliveries: ids.length,
      },
      at: now,
    });
    return { ids, moved, jobs };
  });
  await afterCommit(ctx, [...ids, ...moved], jobs);
  return loadPostView(ctx.db, facts.id);
}

/** More channels for an approved post; the same checks as approval, and the version is bumped. */
export async function addTargets(
  ctx: AppContext,
  actor: Actor,
  postId: string,
  input: { version: number; targets: TargetInput[] },
): Promise<PostView> {
  const facts = await reviewablePost(ctx, actor, postId);
  expectedVersion(facts, input.version);
  nextStatus(facts.status, 'add_targets');
  const existing = await ctx.db
    .select({ channelId: deliveries.channelId })
    .from(deliveries)
    .where(eq(deliveries.postId, facts.id));
  const { planned, content } = await planTargets(
    ctx,
    facts,
    input.version,
    input.targets,
    actor,
    new Set(existing.map((e) => e.channelId)),
  );
  const { ids, moved } = await ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    await bumpPost(tx, facts.id, input.version, {}, now);
    await requireApprovedLevel(tx, facts.id, actor.unitId);
    return createDeliveries(ctx, tx, actor, facts, content, planned, now);
  });
  await afterCommit(ctx, [...ids, ...moved], []);
  return loadPostView(ctx.db, facts.id);
}
