import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import type { Tx } from '../db/client';
import { channels, posts, ruleApprovals, sourceRules, sources, units, users } from '../db/schema';
import { AppError, conflict, type FieldError, forbidden, invalid, notFound } from '../domain/errors';
import { type Actor, contains, decide } from '../domain/permissions';
import { normaliseHashtags, ruleDecidesAt, rulePublishesAt, ruleTakes } from '../domain/source-rules';
import type { DeliveryMode, Platform } from '../domain/vocabulary';
import { recordAudit } from './audit';
import type { ActingUser } from './channels';
import { postFacts, postResource } from './posts';
import { approvePost } from './reviews/approval';
import { channelsWithSlots } from './slot-planning';

/**
 * Auto-approval rules (trusted offices): a reviewer attaches rules to a source in their subtree; each
 * new item the rule takes is approved by the rule, as its author, to the rule's channels once the stop
 * window has passed — unless a reviewer stopped it. The author's right to target each channel is
 * checked when the rule is made and again when it approves; the approval goes through the same
 * approval as a person's, so paused or `needs_reauth` channels hold its deliveries as any other.
 */

export type SourceRuleRow = typeof sourceRules.$inferSelect;

export interface SourceRuleView {
  id: string;
  sourceId: string;
  createdBy: string;
  authorName: string;
  hashtags: string[];
  channelIds: string[];
  mode: DeliveryMode;
  delayMinutes: number | null;
  stopWindowMinutes: number;
  /** A paused rule takes no new items; its pending approvals are not made. */
  paused: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface SourceRuleInput {
  hashtags?: string[];
  channelIds: string[];
  mode: DeliveryMode;
  /** Minutes after the item arrived; null or absent: the channel's next free slot. */
  delayMinutes?: number | null;
  stopWindowMinutes: number;
}

/** How long a reviewer has to stop an approval when the rule does not say. */
export const DEFAULT_STOP_WINDOW_MINUTES = 30;

const view = (row: SourceRuleRow, authorName: string): SourceRuleView => ({
  id: row.id,
  sourceId: row.sourceId,
  createdBy: row.createdBy,
  authorName,
  hashtags: row.hashtags,
  channelIds: row.channelIds,
  mode: row.mode,
  delayMinutes: row.delayMinutes,
  stopWindowMinutes: row.stopWindowMinutes,
  paused: row.pausedAt !== null,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/** The source, if the actor may do `action` with it: 404 when they do not see it, 403 when they may not. */
async function sourceFor(
  ctx: AppContext,
  actor: Actor,
  sourceId: string,
  action: 'source.read' | 'source.rules',
) {
  const [row] = await ctx.db
    .select({ source: sources, unitPath: units.path })
    .from(sources)
    .innerJoin(units, eq(units.id, sources.unitId))
    .where(eq(sources.id, sourceId));
  if (!row) throw notFound('Source');
  const { source, unitPath } = row;
  const decision = decide(actor, action, { type: 'source', unitPath });
  if (decision === 'not_found') throw notFound('Source');
  if (decision === 'forbidden')
    throw forbidden("Only reviewers of the source's office or above may set its approval rules");
  return { source, unitPath };
}

async function ruleOf(ctx: AppContext, sourceId: string, ruleId: string): Promise<SourceRuleRow> {
  const [rule] = await ctx.db
    .select()
    .from(sourceRules)
    .where(and(eq(sourceRules.id, ruleId), eq(sourceRules.sourceId, sourceId)));
  if (!rule) throw notFound('Rule');
  return rule;
}

/**
 * The rule's channels must exist, be the author's to target, and, for a repost or a quote, be on the
 * source's own platform (the original is what they act on) with an adapter that can do it.
 */
async function checkTargets(
  ctx: AppContext,
  actor: Actor,
  sourceKind: string,
  input: Pick<SourceRuleInput, 'channelIds' | 'mode' | 'delayMinutes'>,
): Promise<FieldError[]> {
  const found = new Map(
    (
      await ctx.db
        .select({
          id: channels.id,
          platform: channels.platform,
          archivedAt: channels.archivedAt,
          unitPath: units.path,
        })
        .from(channels)
        .innerJoin(units, eq(units.id, channels.unitId))
        .where(inArray(channels.id, input.channelIds))
    ).map((row) => [row.id, row]),
  );
  // Without a delay the rule publishes in each channel's next free slot: a channel needs slots for that.
  const slotted = input.delayMinutes == null ? await channelsWithSlots(ctx.db, input.channelIds) : null;
  const errors: FieldError[] = [];
  input.channelIds.forEach((channelId, index) => {
    const channel = found.get(channelId);
    const field = `channelIds.${index}`;
    const decision = channel
      ? decide(actor, 'channel.target', { type: 'channel', unitPath: channel.unitPath })
      : 'not_found';
    if (!channel || channel.archivedAt || decision === 'not_found')
      errors.push({ field, code: 'channel_not_found', message: 'No such channel' });
    else if (decision !== 'allow')
      errors.push({ field, code: 'channel_not_targetable', message: 'You may not publish to this channel' });
    else if (input.mode !== 'copy') {
      const adapter = ctx.platforms.get(channel.platform);
      const able = input.mode === 'repost' ? adapter?.repost : adapter?.quote;
      if (channel.platform !== sourceKind || !able)
        errors.push({
          field,
          code: 'mode_unavailable',
          message: `A ${input.mode} needs a channel on the source's own platform that can ${input.mode}`,
        });
    }
    if (channel && slotted && !slotted.has(channelId) && !errors.some((e) => e.field === field))
      errors.push({
        field,
        code: 'no_slots',
        message: 'This channel has no posting slots: give the rule a delay, or add slots to the channel',
      });
  });
  return errors;
}

async function viewsOf(ctx: AppContext, rows: SourceRuleRow[]): Promise<SourceRuleView[]> {
  if (rows.length === 0) return [];
  const names = new Map(
    (
      await ctx.db
        .select({ id: users.id, name: users.name })
        .from(users)
        .where(inArray(users.id, [...new Set(rows.map((r) => r.createdBy))]))
    ).map((row) => [row.id, row.name]),
  );
  return rows.map((row) => view(row, names.get(row.createdBy) ?? ''));
}

export async function listRules(ctx: AppContext, actor: Actor, sourceId: string): Promise<SourceRuleView[]> {
  await sourceFor(ctx, actor, sourceId, 'source.read');
  const rows = await ctx.db
    .select()
    .from(sourceRules)
    .where(eq(sourceRules.sourceId, sourceId))
    .orderBy(asc(sourceRules.createdAt));
  return viewsOf(ctx, rows);
}

/** The rules of these sources (ones the caller already shows), by source, and the names of their channels. */
export async function rulesOfSources(
  ctx: AppContext,
  sourceIds: readonly string[],
): Promise<{ rules: Map<string, SourceRuleView[]>; channelNames: Map<string, string> }> {
  const rules = new Map<string, SourceRuleView[]>();
  if (sourceIds.length === 0) return { rules, channelNames: new Map() };
  const rows = await ctx.db
    .select()
    .from(sourceRules)
    .where(inArray(sourceRules.sourceId, [...sourceIds]))
    .orderBy(asc(sourceRules.createdAt));
  for (const view of await viewsOf(ctx, rows))
    rules.set(view.sourceId, [...(rules.get(view.sourceId) ?? []), view]);
  const channelIds = [...new Set(rows.flatMap((row) => row.channelIds))];
  const channelNames = new Map(
    channelIds.length === 0
      ? []
      : (
          await ctx.db
            .select({ id: channels.id, name: channels.name })
            .from(channels)
            .where(inArray(channels.id, channelIds))
        ).map((row) => [row.id, row.name]),
  );
  return { rules, channelNames };
}

/** The channels a rule of this actor may approve to: those they may target (their own unit's). */
export async function ruleChannels(
  ctx: AppContext,
  actor: Actor,
): Promise<{ id: string; name: string; platform: Platform }[]> {
  if (actor.role === 'contributor') return [];
  const rows = await ctx.db
    .select({ id: channels.id, name: channels.name, platform: channels.platform, unitPath: units.path })
    .from(channels)
    .innerJoin(units, eq(units.id, channels.unitId))
    .where(and(eq(channels.unitId, actor.unitId), isNull(channels.archivedAt)))
    .orderBy(asc(channels.name));
  return rows
    .filter((row) => decide(actor, 'channel.target', { type: 'channel', unitPath: row.unitPath }) === 'allow')
    .map(({ unitPath: _, ...channel }) => channel);
}

export async function createRule(
  ctx: AppContext,
  who: ActingUser,
  sourceId: string,
  input: SourceRuleInput,
): Promise<SourceRuleView> {
  const { source } = await sourceFor(ctx, who.actor, sourceId, 'source.rules');
  const errors = await checkTargets(ctx, who.actor, source.kind, input);
  if (errors.length > 0) throw invalid(errors, "The rule's channels are not valid");
  const row = await ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    const [created] = await tx
      .insert(sourceRules)
      .values({
        sourceId,
        createdBy: who.actor.userId,
        hashtags: normaliseHashtags(input.hashtags ?? []),
        channelIds: [...new Set(input.channelIds)],
        mode: input.mode,
        delayMinutes: input.delayMinutes ?? null,
        stopWindowMinutes: input.stopWindowMinutes,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await recordAudit(ctx, tx, {
      actorId: who.actor.userId,
      unitId: source.unitId,
      action: 'source_rule.created',
      targetType: 'source_rule',
      targetId: created!.id,
      ip: who.ip,
      details: {
        sourceId,
        channelIds: created!.channelIds,
        mode: created!.mode,
        hashtags: created!.hashtags,
      },
    });
    return created!;
  });
  return (await viewsOf(ctx, [row]))[0]!;
}

export type SourceRulePatch = Partial<SourceRuleInput> & { paused?: boolean };

/**
 * Changes a rule; the editor becomes its author (the channels are checked as theirs). Pausing or
 * resuming alone leaves the author as it was: a paused rule takes no new items and the approvals it
 * has not made yet are not made (those posts wait for a person).
 */
export async function updateRule(
  ctx: AppContext,
  who: ActingUser,
  sourceId: string,
  ruleId: string,
  patch: SourceRulePatch,
): Promise<SourceRuleView> {
  const { source } = await sourceFor(ctx, who.actor, sourceId, 'source.rules');
  const rule = await ruleOf(ctx, sourceId, ruleId);
  const { paused, ...change } = patch;
  const edits = Object.keys(change).length > 0;
  const next = {
    channelIds: change.channelIds ?? rule.channelIds,
    mode: change.mode ?? rule.mode,
    delayMinutes: change.delayMinutes !== undefined ? change.delayMinutes : rule.delayMinutes,
  };
  if (edits) {
    const errors = await checkTargets(ctx, who.actor, source.kind, next);
    if (errors.length > 0) throw invalid(errors, "The rule's channels are not valid");
  }
  const row = await ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    const [updated] = await tx
      .update(sourceRules)
      .set({
        ...(edits
          ? {
              createdBy: who.actor.userId,
              channelIds: [...new Set(next.channelIds)],
              mode: next.mode,
            }
          : {}),
        ...(change.hashtags ? { hashtags: normaliseHashtags(change.hashtags) } : {}),
        ...(change.delayMinutes !== undefined ? { delayMinutes: change.delayMinutes } : {}),
        ...(change.stopWindowMinutes !== undefined ? { stopWindowMinutes: change.stopWindowMinutes } : {}),
        ...(paused === true && !rule.pausedAt ? { pausedAt: now } : {}),
        ...(paused === false ? { pausedAt: null } : {}),
        updatedAt: now,
      })
      .where(eq(sourceRules.id, ruleId))
      .returning();
    const audit = (action: string, details: Record<string, unknown>) =>
      recordAudit(ctx, tx, {
        actorId: who.actor.userId,
        unitId: source.unitId,
        action,
        targetType: 'source_rule',
        targetId: ruleId,
        ip: who.ip,
        details: { sourceId, ...details },
      });
    if (edits) await audit('source_rule.updated', { previousAuthor: rule.createdBy, ...change });
    if (paused === true && !rule.pausedAt) await audit('source_rule.paused', {});
    if (paused === false && rule.pausedAt) await audit('source_rule.resumed', {});
    return updated!;
  });
  return (await viewsOf(ctx, [row]))[0]!;
}

/** Removes a rule; the approvals it has not made yet are not made. */
export async function deleteRule(ctx: AppContext, who: ActingUser, sourceId: string, ruleId: string) {
  const { source } = await sourceFor(ctx, who.actor, sourceId, 'source.rules');
  await ruleOf(ctx, sourceId, ruleId);
  await ctx.db.transaction(async (tx) => {
    await tx.delete(sourceRules).where(eq(sourceRules.id, ruleId));
    await recordAudit(ctx, tx, {
      actorId: who.actor.userId,
      unitId: source.unitId,
      action: 'source_rule.deleted',
      targetType: 'source_rule',
      targetId: ruleId,
      ip: who.ip,
      details: { sourceId },
    });
  });
}

/** A reviewer stops what a rule would approve: the post stays in the inbox for a person to decide. */
export async function stopRuleApproval(
  ctx: AppContext,
  who: ActingUser,
  sourceId: string,
  ruleId: string,
  postId: string,
): Promise<void> {
  const { source } = await sourceFor(ctx, who.actor, sourceId, 'source.rules');
  await ruleOf(ctx, sourceId, ruleId);
  await ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    const [stopped] = await tx
      .update(ruleApprovals)
      .set({ stoppedAt: now, stoppedBy: who.actor.userId })
      .where(
        and(
          eq(ruleApprovals.ruleId, ruleId),
          eq(ruleApprovals.postId, postId),
          isNull(ruleApprovals.stoppedAt),
          isNull(ruleApprovals.appliedAt),
        ),
      )
      .returning({ postId: ruleApprovals.postId });
    if (!stopped) {
      const [row] = await tx
        .select()
        .from(ruleApprovals)
        .where(and(eq(ruleApprovals.ruleId, ruleId), eq(ruleApprovals.postId, postId)));
      if (!row)
        throw invalid([
          { field: 'postId', code: 'not_found', message: 'This rule has no approval of that post' },
        ]);
      throw conflict(
        'rule_approval_settled',
        row.stoppedAt ? 'This approval was stopped already' : 'The rule has approved this post already',
      );
    }
    await recordAudit(ctx, tx, {
      actorId: who.actor.userId,
      unitId: source.unitId,
      action: 'source_rule.stopped',
      targetType: 'post',
      targetId: postId,
      ip: who.ip,
      details: { sourceId, ruleId },
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Applying

/** What bringing items in needs of a source's rules: which items each takes, and its stop window. */
export type IngestRule = Pick<SourceRuleRow, 'id' | 'hashtags' | 'stopWindowMinutes'>;

/**
 * The rules that take a source's new items (those not paused, oldest first), as one JSON column of a
 * statement on `sources`: the poll's claim reads them with the source instead of asking again.
 */
export const rulesOfSourceJson = sql<IngestRule[]>`(select coalesce(json_agg(json_build_object(
    'id', r.id, 'hashtags', r.hashtags, 'stopWindowMinutes', r.stop_window_minutes) order by r.created_at), '[]'::json)
  from source_rules r where r.source_id = sources.id and r.paused_at is null)`;

/** The rules that take the source's new items, read on their own. */
export async function rulesOfSource(ctx: AppContext, sourceId: string): Promise<IngestRule[]> {
  const [row] = await ctx.db
    .select({ rules: rulesOfSourceJson })
    .from(sources)
    .where(eq(sources.id, sourceId));
  return row?.rules ?? [];
}

/**
 * The approvals the rules that take these items will make, in the transaction that brings them in,
 * in one statement. Returns the posts some rule takes: those go to review at once, whatever the
 * source's auto-submit says.
 */
export async function queueRuleApprovals(
  tx: Tx,
  rules: readonly IngestRule[],
  items: readonly { id: string; body: string; tags: string[] }[],
  at: Date,
): Promise<Set<string>> {
  const rows = items.flatMap((post) =>
    rules
      .filter((rule) => ruleTakes(rule.hashtags, post.body, post.tags))
      .map((rule) => ({
        postId: post.id,
        ruleId: rule.id,
        decideAt: ruleDecidesAt(at, rule.stopWindowMinutes),
        createdAt: at,
      })),
  );
  if (rows.length > 0) await tx.insert(ruleApprovals).values(rows);
  return new Set(rows.map((row) => row.postId));
}

/** Makes the approvals whose stop window has passed; returns how many were looked at. */
export async function applyDueRuleApprovals(ctx: AppContext, limit = 50): Promise<number> {
  const now = ctx.now();
  // Claimed first (applied_at set), so a stop that comes later gets a clear "already approved".
  const claimed = await ctx.db
    .update(ruleApprovals)
    .set({ appliedAt: now })
    .where(
      sql`(${ruleApprovals.postId}, ${ruleApprovals.ruleId}) in (
        select post_id, rule_id from rule_approvals
        where stopped_at is null and applied_at is null and decide_at <= ${now.toISOString()}::timestamptz
        order by decide_at limit ${limit} for update skip locked)`,
    )
    .returning();
  for (const approval of claimed) {
    const outcome = await applyRuleApproval(ctx, approval).catch((error: unknown) => {
      if (error instanceof AppError) return `not approved: ${error.message}`;
      ctx.log.error(
        { err: error, postId: approval.postId, ruleId: approval.ruleId },
        'a rule could not approve',
      );
      return 'not approved: an internal error';
    });
    await ctx.db
      .update(ruleApprovals)
      .set({ outcome })
      .where(and(eq(ruleApprovals.postId, approval.postId), eq(ruleApprovals.ruleId, approval.ruleId)));
  }
  return claimed.length;
}

async function applyRuleApproval(
  ctx: AppContext,
  approval: typeof ruleApprovals.$inferSelect,
): Promise<string> {
  const [rule] = await ctx.db.select().from(sourceRules).where(eq(sourceRules.id, approval.ruleId));
  if (!rule) return 'not approved: the rule is gone';
  if (rule.pausedAt) return 'not approved: the rule is paused';
  const [author] = await ctx.db
    .select({
      id: users.id,
      name: users.name,
      role: users.role,
      unitId: users.unitId,
      unitPath: units.path,
      disabledAt: users.disabledAt,
    })
    .from(users)
    .innerJoin(units, eq(units.id, users.unitId))
    .where(eq(users.id, rule.createdBy));
  if (!author || author.disabledAt) return "not approved: the rule's author no longer has access";
  const actor: Actor = {
    userId: author.id,
    role: author.role,
    unitId: author.unitId,
    unitPath: author.unitPath,
  };
  const facts = await postFacts(ctx.db, approval.postId);
  if (
    decide(actor, 'post.review', postResource(facts)) !== 'allow' ||
    !contains(actor.unitPath, facts.unitPath)
  )
    return "not approved: the post is outside the rule's author's review";
  if (facts.status !== 'submitted' && facts.status !== 'approved')
    return `not approved: the post is ${facts.status.replace('_', ' ')}`;
  const [post] = await ctx.db
    .select({ deleted: posts.originDeletedAt })
    .from(posts)
    .where(eq(posts.id, facts.id));
  if (post?.deleted) return 'not approved: the original was deleted';
  const publishAt = rulePublishesAt(approval.createdAt, rule);
  const now = ctx.now();
  const at = publishAt === null ? 'next-slot' : publishAt > now ? publishAt.toISOString() : 'now';
  await approvePost(ctx, actor, facts.id, {
    version: facts.version,
    targets: rule.channelIds.map((channelId) => ({ channelId, mode: rule.mode, at })),
    comment: `Approved by rule ${rule.id} (by ${author.name})`,
  });
  await recordAudit(ctx, ctx.db, {
    actorId: author.id,
    unitId: facts.unitId,
    action: 'post.approved_by_rule',
    targetType: 'post',
    targetId: facts.id,
    ip: null,
    details: { ruleId: rule.id, author: author.name, channelIds: rule.channelIds, mode: rule.mode },
  });
  return 'approved';
}

// ---------------------------------------------------------------------------------------------
// The inbox lane

export interface PendingRuleApproval {
  postId: string;
  ruleId: string;
  sourceId: string;
  excerpt: string;
  unitName: string;
  authorName: string;
  mode: DeliveryMode;
  channelNames: string[];
  /** When the rule approves it (the end of the stop window). */
  decideAt: Date;
  /** When it publishes, where the rule fixes it; null: the channels' next free slot after `decideAt`. */
  publishAt: Date | null;
}

/**
 * The approvals rules will make of posts in the actor's subtree, soonest first (reviewers only): the
 * approvals `heldByRule` keeps out of the ordinary inbox.
 */
export async function pendingRuleApprovals(ctx: AppContext, actor: Actor): Promise<PendingRuleApproval[]> {
  if (actor.role === 'contributor') return [];
  const rows = await ctx.db
    .select({
      approval: ruleApprovals,
      rule: sourceRules,
      body: posts.body,
      unitName: units.name,
      authorName: users.name,
    })
    .from(ruleApprovals)
    .innerJoin(sourceRules, eq(sourceRules.id, ruleApprovals.ruleId))
    .innerJoin(posts, eq(posts.id, ruleApprovals.postId))
    .innerJoin(units, eq(units.id, posts.unitId))
    .innerJoin(users, eq(users.id, sourceRules.createdBy))
    .innerJoin(sources, eq(sources.id, sourceRules.sourceId))
    .where(
      and(
        isNull(ruleApprovals.stoppedAt),
        isNull(ruleApprovals.appliedAt),
        isNull(sourceRules.pausedAt),
        eq(posts.status, 'submitted'),
        sql`${units.path} like ${`${actor.unitPath}%`}`,
        lte(ruleApprovals.createdAt, ctx.now()),
      ),
    )
    .orderBy(asc(ruleApprovals.decideAt))
    .limit(100);
  const channelIds = [...new Set(rows.flatMap((row) => row.rule.channelIds))];
  const names = new Map(
    channelIds.length === 0
      ? []
      : (
          await ctx.db
            .select({ id: channels.id, name: channels.name })
            .from(channels)
            .where(inArray(channels.id, channelIds))
        ).map((row) => [row.id, row.name]),
  );
  return rows.map((row) => ({
    postId: row.approval.postId,
    ruleId: row.rule.id,
    sourceId: row.rule.sourceId,
    excerpt: row.body.length > 140 ? `${row.body.slice(0, 139)}…` : row.body,
    unitName: row.unitName,
    authorName: row.authorName,
    mode: row.rule.mode,
    channelNames: row.rule.channelIds.map((id) => names.get(id) ?? id),
    decideAt: row.approval.decideAt,
    publishAt: rulePublishesAt(row.approval.createdAt, row.rule),
  }));
}
