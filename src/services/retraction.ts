import { desc, eq, sql } from 'drizzle-orm';
import { PLATFORM_LIMITS } from '../../config/platform-limits';
import type { AppContext } from '../context';
import { type DbOrTx, queryRows, type Tx } from '../db/client';
import { posts } from '../db/schema';
import { forbidden } from '../domain/errors';
import { type Actor, decide } from '../domain/permissions';
import { describeDeleteWindow, waitUntilAfterRateLimit } from '../domain/rate-limits';
import { retryDelayMs } from '../domain/retry-policy';
import type { CorrectionKind, DeliveryMode, DeliveryStatus, Platform } from '../domain/vocabulary';
import { reserveDeleteSlot } from '../infra/rate-limiter';
import { type ErrorClass, PlatformError, type RetractResult } from '../platforms/types';
import {
  dropPublishJob,
  enqueueRetractionJobs,
  followRescheduledDelivery,
  type PublishTarget,
} from '../queues/producers';
import { recordAudit } from './audit';
import { type ChannelRow, loadChannel, platformContextFor } from './channels';
import { transitionDeliveries, transitionDeliveryRow } from './delivery-transitions';
import {
  bumpPost,
  insertPostEvent,
  nextStatus,
  retractSettledPosts,
  transitionInTx,
} from './post-transitions';
import {
  authorizedPost,
  expectedVersion,
  insertDraftInTx,
  loadPostView,
  type PostFacts,
  type PostView,
  postFacts,
} from './posts';
import { WORKER_NAME } from './publishing';
import { approvePost } from './reviews/approval';
import { replanAfterFreed } from './slot-planning';

/**
 * The engine's retraction: take one `retracting` delivery off its platform. The discipline is the
 * publish engine's — claimed with a lease in one statement, the platform called outside any
 * transaction, the outcome recorded in one statement — but simpler, because a delete is idempotent:
 * an unsure attempt (crash, timeout, dropped connection) is sent again, and "not found" is done.
 * Blackouts never hold a retraction.
 */

export type RetractionStep =
  | { next: 'done'; outcome: string }
  | { next: 'wait'; until: Date; attempts: number; reason: string };

const done = (outcome: string): RetractionStep => ({ next: 'done', outcome });

const ts = (date: Date) => sql`${date.toISOString()}::timestamptz`;

interface RetractionClaim {
  id: string;
  postId: string;
  version: number;
  attempts: number;
  attemptNumber: number;
  mode: DeliveryMode;
  remoteId: string | null;
  remoteIds: string[];
  remoteUrl: string | null;
  publishedAt: Date;
  sourceUrl: string | null;
  reason: string;
  channel: ChannelRow;
}

const label = (platform: Platform) => PLATFORM_LIMITS[platform]?.label ?? platform;

/**
 * Claims a retraction: still `retracting`, due, no lease held (or it ran out), and no correction
 * replying to it still on its way out (the reply goes first, then the original is deleted).
 */
async function claimRetraction(ctx: AppContext, deliveryId: string): Promise<RetractionClaim | null> {
  const now = ctx.now();
  const leaseUntil = new Date(now.getTime() + ctx.config.GAUNG_LEASE_SECONDS * 1000);
  const [row] = await transitionDeliveries<{
    id: string;
    post_id: string;
    version: number;
    attempts: number;
    number: number;
    mode: DeliveryMode;
    remote_id: string | null;
    remote_ids: string[];
    remote_url: string | null;
    published_ms: number;
    source_url: string | null;
    reason: string | null;
    channel_id: string;
  }>(
    ctx.db,
    {
      deliveryId,
      from: 'retracting',
      event: 'claim_retraction',
      now,
      reason: sql`'retraction attempt ' || attempt.number`,
      lease: { until: leaseUntil, holder: null },
      attempt: { open: { worker: WORKER_NAME } },
      where: sql`d.due_at <= ${ts(now)} and (d.lease_until is null or d.lease_until < ${ts(now)})
        and not exists (select 1 from deliveries r where r.replies_to = d.id
          and r.status in ('scheduled', 'publishing', 'unknown'))`,
    },
    sql`select d.id, d.post_id, d.version, d.attempts, attempt.number, d.mode, d.remote_id, d.remote_ids, d.remote_url,
        (extract(epoch from coalesce(d.published_at, d.updated_at)) * 1000)::float8 as published_ms,
        p.source_url, d.retraction_reason as reason, d.channel_id
      from changed d join posts p on p.id = d.post_id join attempt on attempt.delivery_id = d.id`,
  );
  if (!row) return null;
  const { channel } = await loadChannel(ctx.db, row.channel_id);
  return {
    id: row.id,
    postId: row.post_id,
    version: Number(row.version),
    attempts: Number(row.attempts),
    attemptNumber: Number(row.number),
    mode: row.mode,
    remoteId: row.remote_id,
    remoteIds: row.remote_ids ?? [],
    remoteUrl: row.remote_url,
    publishedAt: new Date(Number(row.published_ms)),
    sourceUrl: row.source_url,
    reason: row.reason ?? 'retracted',
    channel,
  };
}

function classify(adapter: { classifyError(error: unknown): ErrorClass }, error: unknown): ErrorClass {
  if (error instanceof PlatformError) return error.classification;
  try {
    return adapter.classifyError(error);
  } catch {
    return { kind: 'unknown', message: (error as Error)?.message ?? String(error) };
  }
}

/** Moves a retracting delivery one step: claims it, asks the platform to delete, records the outcome. */
export async function advanceRetraction(ctx: AppContext, deliveryId: string): Promise<RetractionStep> {
  const claim = await claimRetraction(ctx, deliveryId);
  if (!claim) return whyNotClaimed(ctx, deliveryId);
  const platform = claim.channel.platform;
  const adapter = ctx.platforms.get(platform);
  let outcome: RetractResult | ErrorClass;
  if (!adapter) {
    outcome = { kind: 'invalid', message: `This Gaung installation has no ${label(platform)} adapter` };
  } else {
    const quota = await reserveDeleteSlot(
      ctx,
      { platform, channelId: claim.channel.id },
      `retract:${claim.id}#${claim.attempts}`,
    );
    // The platform's delete quota is used up: wait for the slot it frees, without calling it.
    if (!quota.granted)
      return recordRetraction(ctx, claim, {
        kind: 'rate_limited',
        until: quota.at,
        scope: 'channel',
        message: quota.window
          ? describeDeleteWindow(platform, quota.window)
          : `${label(platform)} delete quota used up`,
      });
    try {
      // The lease covers the call: it is aborted well before another worker could claim it again.
      const signal = AbortSignal.timeout(Math.floor(ctx.config.GAUNG_LEASE_SECONDS * 800));
      const platformContext = await platformContextFor(ctx, claim.channel, { signal });
      outcome = await adapter.retract(platformContext, {
        deliveryId: claim.id,
        mode: claim.mode,
        remoteId: claim.remoteId,
        remoteIds: claim.remoteIds,
        remoteUrl: claim.remoteUrl,
        publishedAt: claim.publishedAt,
        sourceUrl: claim.sourceUrl,
        reason: claim.reason,
      });
    } catch (error) {
      outcome = classify(adapter, error);
    }
  }
  return recordRetraction(ctx, claim, outcome);
}

async function whyNotClaimed(ctx: AppContext, deliveryId: string): Promise<RetractionStep> {
  const [row] = await queryRows<{
    status: DeliveryStatus;
    attempts: number;
    due_ms: number;
    lease_ms: number | null;
  }>(
    ctx.db,
    sql`select status, attempts, (extract(epoch from due_at) * 1000)::float8 as due_ms,
        (extract(epoch from lease_until) * 1000)::float8 as lease_ms
      from deliveries where id = ${deliveryId}::uuid`,
  );
  if (!row) return done('missing');
  if (row.status !== 'retracting') return done(row.status);
  const now = ctx.now().getTime();
  const attempts = Number(row.attempts);
  if (row.lease_ms !== null && Number(row.lease_ms) >= now)
    return {
      next: 'wait',
      until: new Date(Number(row.lease_ms) + 1_000),
      attempts,
      reason: 'another worker holds it',
    };
  if (Number(row.due_ms) > now)
    return { next: 'wait', until: new Date(Number(row.due_ms)), attempts, reason: 'not due yet' };
  // A correction replying to it is still on its way out.
  return { next: 'wait', until: new Date(now + 5_000), attempts, reason: 'waits for its correction' };
}

async function recordRetraction(
  ctx: AppContext,
  claim: RetractionClaim,
  outcome: RetractResult | ErrorClass,
): Promise<RetractionStep> {
  const now = ctx.now();
  const platform = claim.channel.platform;
  const base = { deliveryId: claim.id, from: 'retracting' as const, version: claim.version, now };
  const close = claim.attemptNumber;
  const lost = done('lost the claim');
  if ('outcome' in outcome) {
    ctx.metrics.publishAttempts.inc({ platform, outcome: `retraction_${outcome.outcome}` });
    if (outcome.outcome === 'retracted') {
      const row = await transitionDeliveryRow(ctx.db, {
        ...base,
        event: 'retracted',
        reason: `removed from ${label(platform)}`,
        retracted: true,
        lastError: null,
        attempt: { close, outcome: 'retracted' },
      });
      if (!row) return lost;
      await settleRetractedPosts(ctx, [claim.postId]);
      return done('retracted');
    }
    const row = await transitionDeliveryRow(ctx.db, {
      ...base,
      event: 'retraction_failed',
      reason: `${label(platform)} cannot delete it: a person removes it by hand`,
      lastError: { message: outcome.message, code: 'retraction_by_hand' },
      attempt: { close, outcome: 'needs_person', error: outcome.message },
    });
    return row ? done('needs a person') : lost;
  }

  const error = outcome;
  ctx.metrics.publishAttempts.inc({ platform, outcome: `retraction_${error.kind}` });
  const attemptFields = { httpStatus: error.httpStatus ?? null, error: error.message, errorCode: error.kind };
  const handOver = async (message: string, code: string) => {
    const row = await transitionDeliveryRow(ctx.db, {
      ...base,
      event: 'retraction_failed',
      reason: 'the retraction needs a person',
      attemptsDelta: 1,
      lastError: { message, code },
      attempt: {
        close,
        outcome: error.kind === 'auth' ? 'auth' : error.kind === 'invalid' ? 'invalid' : 'retry',
        ...attemptFields,
      },
    });
    return row ? done('needs a person') : lost;
  };
  switch (error.kind) {
    case 'rate_limited': {
      const until = waitUntilAfterRateLimit(error.until, now);
      const row = await transitionDeliveryRow(ctx.db, {
        ...base,
        event: 'retract_later',
        reason: `${label(platform)} rate limit`,
        dueAt: until,
        lastError: { message: error.message, code: 'rate_limited' },
        attempt: { close, outcome: 'rate_limited', ...attemptFields },
      });
      return row ? { next: 'wait', until, attempts: row.attempts, reason: 'rate limited' } : lost;
    }
    case 'auth':
      return handOver(
        `${label(platform)} refused the channel's credentials (${error.message}); reconnect the channel, then retry the retraction`,
        'auth',
      );
    case 'invalid':
      return handOver(`${label(platform)} refused the delete: ${error.message}`, 'invalid');
    case 'retry':
    case 'unknown': {
      const attempts = claim.attempts + 1;
      if (attempts >= ctx.config.GAUNG_MAX_ATTEMPTS)
        return handOver(
          `Gave up deleting after ${attempts} attempts: ${error.message}`,
          'attempts_exhausted',
        );
      // A delete is idempotent: an unsure outcome is simply sent again.
      const dueAt = new Date(
        now.getTime() +
          retryDelayMs(attempts, {
            baseMs: ctx.config.GAUNG_RETRY_BASE_MS,
            maxMs: ctx.config.GAUNG_RETRY_MAX_MS,
          }),
      );
      const row = await transitionDeliveryRow(ctx.db, {
        ...base,
        event: 'retract_later',
        reason: `retraction retry ${attempts + 1} of ${ctx.config.GAUNG_MAX_ATTEMPTS} later`,
        attemptsDelta: 1,
        dueAt,
        lastError: { message: error.message, code: error.kind },
        attempt: { close, outcome: error.kind, ...attemptFields },
      });
      return row ? { next: 'wait', until: dueAt, attempts: row.attempts, reason: 'retry' } : lost;
    }
  }
}

/**
 * Posts whose retraction is complete become `retracted`: every delivery retracted or cancelled, and
 * a retraction asked for. Safe to call any time, from any process (the update is conditional).
 */
export async function settleRetractedPosts(
  ctx: AppContext,
  postIds?: readonly string[],
  db: DbOrTx = ctx.db,
) {
  if (postIds && postIds.length === 0) return [];
  const only = postIds
    ? sql`and p.id in (${sql.join(
        postIds.map((id) => sql`${id}::uuid`),
        sql`, `,
      )})`
    : sql``;
  return retractSettledPosts(db, ctx.now(), only);
}

/**
 * The sweep's part: retractions due without a job (Redis lost them, or they were just asked for), and
 * deliveries that were in flight when their post was retracted and have since been published.
 */
export async function sweepRetractions(ctx: AppContext, limit: number): Promise<number> {
  const now = ctx.now();
  // In flight when retracted, published since: retracted now.
  const resolved = await transitionDeliveries<{ id: string }>(
    ctx.db,
    {
      from: 'published',
      event: 'retract',
      now,
      where: sql`d.retraction_requested_at is not null`,
      reason: sql`'retracted once published: ' || coalesce(changed.retraction_reason, '')`,
      dueAt: now,
      attempts: 0,
    },
    sql`select id from changed`,
  );
  const due = await queryRows<{ id: string; attempts: number; due_ms: number }>(
    ctx.db,
    sql`select id, attempts, (extract(epoch from due_at) * 1000)::float8 as due_ms from deliveries
      where status = 'retracting' and due_at <= ${ts(new Date(now.getTime() + ctx.config.GAUNG_HORIZON_SECONDS * 1000))}
        and (lease_until is null or lease_until < ${ts(now)})
      order by due_at limit ${limit}`,
  );
  await enqueueRetractionJobs(
    ctx,
    due.map((row) => ({ id: row.id, attempts: Number(row.attempts), dueAt: new Date(Number(row.due_ms)) })),
  );
  await settleRetractedPosts(ctx);
  return resolved.length + due.length;
}

export interface RetractionInput {
  version: number;
  reason: string;
  correction?: { text: string; as: CorrectionKind };
}

/** What the retraction does to each delivery of the post in the actor's scope. */
export type RetractionPlan = 'retract' | 'cancel' | 'after_publish' | 'nothing';

export interface RetractionScope {
  deliveryId: string;
  channelId: string;
  channelName: string;
  platform: Platform;
  status: DeliveryStatus;
  plan: RetractionPlan;
  /** The platform cannot delete: a person will have to (Instagram). */
  byHand: boolean;
}

/** A delivery's fate when its post is retracted, by its status now. */
export function retractionPlan(status: DeliveryStatus): RetractionPlan {
  switch (status) {
    case 'published':
      return 'retract';
    case 'scheduled':
    case 'failed':
      return 'cancel';
    // In flight, or waiting for a person to say whether it went out: retracted once it is published.
    case 'publishing':
    case 'unknown':
    case 'needs_attention':
      return 'after_publish';
    default:
      return 'nothing';
  }
}

/** The post's deliveries the actor controls, each with what a retraction would do (the confirmation page lists them). */
async function retractionScope(ctx: AppContext, actor: Actor, postId: string): Promise<RetractionScope[]> {
  const rows = await queryRows<{
    id: string;
    channel_id: string;
    channel_name: string;
    platform: Platform;
    status: DeliveryStatus;
    channel_path: string;
    post_path: string;
  }>(
    ctx.db,
    sql`select d.id, d.channel_id, c.name as channel_name, c.platform, d.status, cu.path as channel_path, pu.path as post_path
      from deliveries d join channels c on c.id = d.channel_id join units cu on cu.id = c.unit_id
        join posts p on p.id = d.post_id join units pu on pu.id = p.unit_id
      where d.post_id = ${postId}::uuid order by c.name, d.id`,
  );
  return rows
    .filter(
      (row) =>
        decide(actor, 'delivery.manage', {
          type: 'delivery',
          channelUnitPath: row.channel_path,
          postUnitPath: row.post_path,
        }) === 'allow',
    )
    .map((row) => ({
      deliveryId: row.id,
      channelId: row.channel_id,
      channelName: row.channel_name,
      platform: row.platform,
      status: row.status,
      plan: retractionPlan(row.status),
      byHand: ctx.platforms.get(row.platform)?.capabilities.retract === 'person',
    }));
}

/** What the confirmation page shows: the post and what a retraction would do on each channel in the actor's scope. */
export async function retractionPreview(
  ctx: AppContext,
  actor: Actor,
  postId: string,
): Promise<{ post: PostView; scope: RetractionScope[] }> {
  const facts = await authorizedPost(ctx, actor, postId, 'post.retract');
  const [post, scope] = await Promise.all([
    loadPostView(ctx.db, facts.id),
    retractionScope(ctx, actor, facts.id),
  ]);
  return { post, scope };
}

/** How a retraction goes, for whoever may read the post: the post, the deliveries the actor controls, the correction if any. */
export async function retractionProgress(
  ctx: AppContext,
  actor: Actor,
  postId: string,
): Promise<{ post: PostView; scope: RetractionScope[]; correctionId: string | null }> {
  const facts = await authorizedPost(ctx, actor, postId, 'post.read');
  const [post, scope, corrections] = await Promise.all([
    loadPostView(ctx.db, facts.id),
    retractionScope(ctx, actor, facts.id),
    ctx.db
      .select({ id: posts.id })
      .from(posts)
      .where(eq(posts.correctionOf, facts.id))
      .orderBy(desc(posts.createdAt))
      .limit(1),
  ]);
  return { post, scope, correctionId: corrections[0]?.id ?? null };
}

/**
 * A person retracts a published post: every delivery in their scope that is published gets a
 * retraction, scheduled (and failed) ones are cancelled, those in flight are marked and retracted
 * once they resolve to published. The reason goes on the post, its timeline and the audit trail,
 * all in one transaction conditional on the post's version.
 */
export async function requestRetraction(
  ctx: AppContext,
  actor: Actor,
  postId: string,
  input: RetractionInput,
  ip: string | null = null,
): Promise<{ post: PostView; scope: RetractionScope[]; correctionPostId: string | null }> {
  const facts = await authorizedPost(ctx, actor, postId, 'post.retract');
  const version = expectedVersion(facts, input.version);
  nextStatus(facts.status, 'retract');
  const scope = await retractionScope(ctx, actor, facts.id);
  if (scope.length === 0)
    throw forbidden(
      'You control none of the channels this post went to, so there is nothing for you to retract',
    );
  const reason = input.reason.trim();
  const retracting: PublishTarget[] = [];
  const cancelled: { id: string; attempts: number; channelId: string }[] = [];
  const replying = input.correction?.as === 'reply';
  let correctionPostId: string | null = null;
  await ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    // A reply goes out before the original is deleted: the deletes wait until the replies are linked.
    const retractAt = replying ? new Date(now.getTime() + CORRECTION_LINK_GRACE_MS) : now;
    await bumpPost(tx, facts.id, version, { retractionReason: reason }, now);
    await insertPostEvent(tx, {
      postId: facts.id,
      actorId: actor.userId,
      kind: 'delivery',
      body: reason,
      data: { event: 'retract', deliveries: scope.length, correction: input.correction?.as ?? null },
      at: now,
    });
    await recordAudit(ctx, tx, {
      actorId: actor.userId,
      unitId: facts.unitId,
      action: 'post.retract',
      targetType: 'post',
      targetId: facts.id,
      ip,
      details: { reason, deliveries: scope.map((entry) => ({ id: entry.deliveryId, plan: entry.plan })) },
    });
    for (const entry of scope) {
      const base = { deliveryId: entry.deliveryId, from: entry.status, now, actorId: actor.userId };
      if (entry.plan === 'retract') {
        const row = await transitionDeliveryRow(tx, {
          ...base,
          event: 'retract',
          reason: `retracted: ${reason}`,
          retraction: { reason },
          attempts: 0,
          dueAt: retractAt,
        });
        if (row) retracting.push({ id: row.id, attempts: row.attempts, dueAt: row.dueAt });
      } else if (entry.plan === 'cancel') {
        const row = await transitionDeliveryRow(tx, {
          ...base,
          event: 'cancel',
          reason: `cancelled by a retraction: ${reason}`,
          retraction: { reason },
        });
        if (row) cancelled.push({ id: row.id, attempts: row.attempts, channelId: entry.channelId });
      } else if (entry.plan === 'after_publish') {
        // Not a status change: the sweep retracts it once it is published.
        await queryRows(
          tx,
          sql`update deliveries set retraction_reason = ${reason},
              retraction_requested_at = coalesce(retraction_requested_at, ${ts(now)})
            where id = ${entry.deliveryId}::uuid`,
        );
      }
    }
    await settleRetractedPosts(ctx, [facts.id], tx);
    if (input.correction)
      correctionPostId = await insertCorrectionInTx(tx, actor, facts, input.correction.text, now);
  });
  if (correctionPostId && input.correction) {
    await publishCorrection(ctx, actor, correctionPostId, scope, input.correction.as);
    if (replying) {
      const now = ctx.now();
      for (const target of retracting) target.dueAt = now;
      if (retracting.length > 0)
        await queryRows(
          ctx.db,
          sql`update deliveries set due_at = ${ts(now)}
            where id in (${sql.join(
              retracting.map((target) => sql`${target.id}::uuid`),
              sql`, `,
            )})
              and status = 'retracting'`,
        );
    }
  }
  await enqueueRetractionJobs(ctx, retracting).catch((error: unknown) =>
    ctx.log.warn({ err: error, postId: facts.id }, 'could not queue the retractions; the sweeper will'),
  );
  for (const target of cancelled) await dropPublishJob(ctx, target).catch(() => {});
  // The cancelled deliveries' slots are free again for the channels' provisional deliveries.
  await replanAfterFreed(
    ctx,
    cancelled.map((target) => target.channelId),
  );
  return { post: await loadPostView(ctx.db, facts.id), scope, correctionPostId };
}

/** How long the deletes of a retraction with a reply correction wait at most for the replies to be linked. */
const CORRECTION_LINK_GRACE_MS = 10 * 60_000;

/** The correction: a post of the same office, written by the retracting person, already submitted. */
async function insertCorrectionInTx(tx: Tx, actor: Actor, original: PostFacts, text: string, now: Date) {
  const id = await insertDraftInTx(
    tx,
    { userId: actor.userId, unitId: original.unitId },
    { body: text },
    now,
  );
  await tx.update(posts).set({ correctionOf: original.id }).where(eq(posts.id, id));
  const draft: PostFacts = { ...original, id, authorId: actor.userId, status: 'draft', version: 1 };
  await transitionInTx(tx, actor, draft, 'submit', 1, now, {
    columns: { submittedAt: now },
    comment: `Correction of a retracted post`,
  });
  return id;
}

/**
 * Approves the correction by the retracting person to the channels of the retraction they may
 * publish to, now, through the normal engine. As a reply, each correction delivery answers the
 * original on platforms that have replies (and the original is deleted after the reply is out).
 */
async function publishCorrection(
  ctx: AppContext,
  actor: Actor,
  correctionId: string,
  scope: RetractionScope[],
  as: CorrectionKind,
): Promise<void> {
  const facts = await postFacts(ctx.db, correctionId);
  const channelUnits = await queryRows<{ id: string; path: string }>(
    ctx.db,
    sql`select c.id, u.path from channels c join units u on u.id = c.unit_id
      where c.id in (${sql.join(
        scope.map((entry) => sql`${entry.channelId}::uuid`),
        sql`, `,
      )})`,
  );
  const targetable = new Set(
    channelUnits
      .filter((row) => decide(actor, 'channel.target', { type: 'channel', unitPath: row.path }) === 'allow')
      .map((row) => row.id),
  );
  // A reply must know what it answers before it goes out: it is held a minute while the link is made.
  const at = as === 'reply' ? new Date(ctx.now().getTime() + 60_000).toISOString() : 'now';
  const targets = scope
    .filter((entry) => entry.plan !== 'nothing' && targetable.has(entry.channelId))
    .map((entry) => ({ channelId: entry.channelId, mode: 'copy' as const, at }));
  // Nothing this person may publish to: the correction waits in the inbox for whoever may.
  if (targets.length === 0) return;
  await approvePost(ctx, actor, facts.id, { version: facts.version, targets });
  if (as !== 'reply') return;
  const replyPlatforms = ctx.platforms
    .list()
    .filter((adapter) => adapter.capabilities.replies)
    .map((adapter) => sql`${adapter.platform}`);
  const now = ctx.now();
  const linked = await queryRows<{ id: string; attempts: number }>(
    ctx.db,
    sql`update deliveries c set due_at = ${ts(now)},
        replies_to = (select o.id from deliveries o join posts p on p.correction_of = o.post_id
          join channels ch on ch.id = o.channel_id
          where p.id = c.post_id and o.channel_id = c.channel_id and o.remote_id is not null
            ${replyPlatforms.length > 0 ? sql`and ch.platform in (${sql.join(replyPlatforms, sql`, `)})` : sql`and false`})
      where c.post_id = ${correctionId}::uuid and c.status = 'scheduled'
      returning c.id, c.attempts`,
  );
  // The approval queued each reply a minute ahead: its job is moved to now.
  for (const row of linked)
    await followRescheduledDelivery(ctx, { id: row.id, attempts: Number(row.attempts), dueAt: now }).catch(
      (error: unknown) =>
        ctx.log.warn({ err: error, correctionId }, 'could not queue the correction; the sweeper will'),
    );
}
