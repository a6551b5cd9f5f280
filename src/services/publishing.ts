import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { eq, getTableColumns, sql } from 'drizzle-orm';
import { PLATFORM_LIMITS } from '../../config/platform-limits';
import type { AppContext } from '../context';
import { queryRows } from '../db/client';
import { channels, deliveries } from '../db/schema';
import { AppError } from '../domain/errors';
import { describeRateWindow, waitUntilAfterRateLimit } from '../domain/rate-limits';
import { retryDelayMs } from '../domain/retry-policy';
import type { DeliveryMode, DeliveryStatus, Platform } from '../domain/vocabulary';
import { blockPublishing, releasePublishSlot, reservePublishSlot } from '../infra/rate-limiter';
import {
  type ErrorClass,
  type PlatformAdapter,
  type PlatformContext,
  PlatformError,
  type PostOrigin,
  type PublishRequest,
  type PublishResult,
} from '../platforms/types';
import { enqueueNotify } from '../queues/producers';
import { blackoutHolds } from './blackouts';
import { type ChannelRow, markNeedsReauth, platformContextFor, quotaOverridesOf } from './channels';
import { type DeliveryTransition, transitionDeliveries, transitionDeliveryRow } from './delivery-transitions';
import { loadPublishMedia } from './media';
import { type PublishOutcome, publishOutcomeCtes } from './notifications';
import { holdIfOriginDeleted } from './sources';
import type { WorkerLiveness } from './worker-liveness';

/**
 * The publishing engine's use case: take one delivery one step further. Claim it with a conditional
 * UPDATE (scheduled → publishing, with a lease), call the platform outside any transaction, then
 * record what happened in a short transaction of its own. A delivery whose outcome is unsure is
 * reconciled with the platform before anything else is tried; where the platform cannot tell, a
 * person decides. Nothing here knows BullMQ: the processor turns the returned step into job moves.
 */

export type PublishStep =
  /** Nothing more for this job to do. */
  | { next: 'done'; outcome: string }
  /**
   * Try again at `until`. `attempts` is the delivery's count now: when it differs from the job's,
   * the next try belongs to a new job.
   */
  | { next: 'wait'; until: Date; attempts: number; reason: string };

/** Identifies this process in the attempt history and as a lease holder (unique across restarts: a container's pid is always 1). */
export const WORKER_NAME = `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;

/** Who claims: a worker with a heartbeat (`liveness`) is named as the holder, so its claims end as soon as it is gone. */
export interface PublishWorker {
  name: string;
  liveness?: WorkerLiveness;
}

const done = (outcome: string): PublishStep => ({ next: 'done', outcome });
const wait = (until: Date, attempts: number, reason: string): PublishStep => ({
  next: 'wait',
  until,
  attempts,
  reason,
});

/** A delivery as the engine needs it, with its channel and the post fields adapters use. */
interface DeliveryWork {
  id: string;
  postId: string;
  channel: ChannelRow;
  mode: DeliveryMode;
  renderedText: string;
  attempts: number;
  version: number;
  dueAt: Date;
  leaseUntil: Date | null;
  updatedAt: Date;
  lastError: string | null;
  link: string | null;
  sourceUrl: string | null;
  /** The original as its source read it: repost and quote act on it. */
  origin: PostOrigin | null;
  tags: string[];
  mediaCount: number;
  firstAttemptAt: Date | null;
  /** A correction published as a reply: the original it answers. */
  replyTo: { remoteId: string; url: string | null } | null;
  /** Choices made for this delivery on the approve screen (TikTok). */
  platformOptions: Record<string, unknown> | null;
  /** What an earlier attempt recorded before it finished (TikTok's publish_id). */
  platformState: Record<string, unknown> | null;
}

export interface Claim extends DeliveryWork {
  attemptNumber: number;
  /** The worker named as the lease's holder; null when its heartbeat was not healthy (the lease alone then applies). */
  holder: string | null;
}

type RawWork = {
  id: string;
  post_id: string;
  channel: Record<string, unknown>;
  mode: DeliveryMode;
  rendered_text: string;
  attempts: number;
  version: number;
  due_ms: number;
  lease_ms: number | null;
  updated_ms: number;
  last_error: string | null;
  link: string | null;
  source_url: string | null;
  origin: PostOrigin | null;
  tags: string[] | null;
  media_count: number;
  first_ms: number | null;
  reply_to: { remoteId: string | null; url: string | null } | null;
  platform_options: Record<string, unknown> | null;
  platform_state: Record<string, unknown> | null;
};

const channelColumns = Object.entries(getTableColumns(channels));

/** A channel row from `row_to_json(channels)`, converted the way drizzle converts driver values. */
function channelFromJson(json: Record<string, unknown>): ChannelRow {
  const row: Record<string, unknown> = {};
  for (const [key, column] of channelColumns) {
    const value = json[column.name];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as ChannelRow;
}

const msDate = (ms: number | null) => (ms === null ? null : new Date(Number(ms)));

function workFromRaw(raw: RawWork): DeliveryWork {
  return {
    id: raw.id,
    postId: raw.post_id,
    channel: channelFromJson(raw.channel),
    mode: raw.mode,
    renderedText: raw.rendered_text,
    attempts: Number(raw.attempts),
    version: Number(raw.version),
    dueAt: new Date(Number(raw.due_ms)),
    leaseUntil: msDate(raw.lease_ms),
    updatedAt: new Date(Number(raw.updated_ms)),
    lastError: raw.last_error,
    link: raw.link,
    sourceUrl: raw.source_url,
    origin: raw.origin ?? null,
    tags: raw.tags ?? [],
    mediaCount: Number(raw.media_count),
    firstAttemptAt: msDate(raw.first_ms),
    replyTo: raw.reply_to?.remoteId ? { remoteId: raw.reply_to.remoteId, url: raw.reply_to.url } : null,
    platformOptions: raw.platform_options ?? null,
    platformState: raw.platform_state ?? null,
  };
}

const ts = (date: Date) => sql`${date.toISOString()}::timestamptz`;

/** The columns of DeliveryWork, for a query whose `d` is the delivery row (as updated) and `c` its channel. */
const workColumns = sql`d.id, d.post_id, row_to_json(c) as channel, d.mode, d.rendered_text, d.attempts, d.version,
  (extract(epoch from d.due_at) * 1000)::float8 as due_ms,
  (extract(epoch from d.lease_until) * 1000)::float8 as lease_ms,
  (extract(epoch from d.updated_at) * 1000)::float8 as updated_ms,
  d.last_error, p.link, p.source_url, p.origin, p.tags, d.platform_options, d.platform_state,
  (select count(*)::int from post_media pm where pm.post_id = d.post_id) as media_count,
  (select (extract(epoch from min(a.started_at)) * 1000)::float8 from delivery_attempts a where a.delivery_id = d.id) as first_ms,
  (select json_build_object('remoteId', o.remote_id, 'url', o.remote_url) from deliveries o where o.id = d.replies_to) as reply_to`;

/**
 * scheduled → publishing in one statement: only if it is still scheduled, due, its channel is
 * active and no blackout holds it. Opens the attempt row and writes the audit event. Null: not
 * claimable (someone else has it, it is not due, its channel is paused or blacked out).
 */
export async function claimDelivery(
  ctx: AppContext,
  deliveryId: string,
  worker: PublishWorker,
): Promise<Claim | null> {
  const now = ctx.now();
  const leaseUntil = new Date(now.getTime() + ctx.config.GAUNG_LEASE_SECONDS * 1000);
  const holder = worker.liveness?.healthy() ? worker.name : null;
  const [row] = await transitionDeliveries<RawWork & { number: number }>(
    ctx.db,
    {
      deliveryId,
      from: 'scheduled',
      event: 'claim',
      now,
      reason: sql`'attempt ' || attempt.number`,
      lease: { until: leaseUntil, holder },
      attempt: { open: { worker: worker.name } },
      using: sql`channels c`,
      where: sql`d.due_at <= ${ts(now)}
        and c.id = d.channel_id and c.status = 'active' and c.archived_at is null
        and not ${blackoutHolds(now, sql`d.due_at`)}`,
    },
    sql`select ${workColumns}, attempt.number
      from changed d join channels c on c.id = d.channel_id join posts p on p.id = d.post_id
        join attempt on attempt.delivery_id = d.id`,
  );
  if (!row) return null;
  const work = workFromRaw(row);
  return { ...work, attemptNumber: Number(row.number), firstAttemptAt: work.firstAttemptAt ?? now, holder };
}

interface DeliveryState extends DeliveryWork {
  status: DeliveryStatus;
  channelActive: boolean;
  blackedOut: boolean;
}

async function loadDeliveryState(ctx: AppContext, deliveryId: string): Promise<DeliveryState | null> {
  const [row] = await queryRows<
    RawWork & { status: DeliveryStatus; channel_active: boolean; blacked_out: boolean }
  >(
    ctx.db,
    sql`select ${workColumns}, d.status, (c.status = 'active' and c.archived_at is null) as channel_active,
        ${blackoutHolds(ctx.now(), sql`d.due_at`)} as blacked_out
      from deliveries d join channels c on c.id = d.channel_id join posts p on p.id = d.post_id
      where d.id = ${deliveryId}::uuid`,
  );
  if (!row) return null;
  return {
    ...workFromRaw(row),
    status: row.status,
    channelActive: Boolean(row.channel_active),
    blackedOut: Boolean(row.blacked_out),
  };
}

const label = (platform: Platform) => PLATFORM_LIMITS[platform]?.label ?? platform;

const backoff = (ctx: AppContext, attempts: number) =>
  retryDelayMs(attempts, { baseMs: ctx.config.GAUNG_RETRY_BASE_MS, maxMs: ctx.config.GAUNG_RETRY_MAX_MS });

/**
 * Moves the delivery one step: publishes it when it is due and claimable, reconciles it when its
 * last outcome is unsure, and otherwise says when to look again.
 */
export async function advanceDelivery(
  ctx: AppContext,
  deliveryId: string,
  worker: PublishWorker = { name: WORKER_NAME },
): Promise<PublishStep> {
  // A few rounds: a reconciliation that finds nothing makes the delivery claimable at once.
  // An original deleted at its source is never republished: the delivery waits for a person instead.
  if (await holdIfOriginDeleted(ctx, deliveryId)) return done('the original was deleted');
  for (let round = 0; round < 3; round++) {
    const claim = await claimDelivery(ctx, deliveryId, worker);
    if (claim) return publishClaimed(ctx, claim, worker);
    const state = await loadDeliveryState(ctx, deliveryId);
    if (!state) return done('missing');
    const now = ctx.now();
    switch (state.status) {
      case 'scheduled':
        if (!state.channelActive) return done('channel not active');
        // The job leaves Redis; when the blackout ends, the sweep reschedules or holds the delivery.
        if (state.blackedOut) return done('held by a blackout');
        if (state.dueAt > now) return wait(state.dueAt, state.attempts, 'not due yet');
        continue;
      case 'publishing':
        if (state.leaseUntil && state.leaseUntil > now)
          return wait(
            new Date(state.leaseUntil.getTime() + 1_000),
            state.attempts,
            'another worker holds it',
          );
        await expireLeases(ctx, { deliveryId });
        continue;
      case 'unknown': {
        if (!state.channelActive) return done('channel not active');
        const step = await reconcile(ctx, state, worker.name);
        if (step) return step;
        continue;
      }
      default:
        return done(state.status);
    }
  }
  const state = await loadDeliveryState(ctx, deliveryId);
  return state ? wait(new Date(ctx.now().getTime() + 1_000), state.attempts, 'contended') : done('missing');
}

/**
 * publishing → unknown for claims whose worker is gone: their lease ran out, or (`gone`) their holder's
 * heartbeat stopped, for claims made before it was seen gone. The attempt may have reached the
 * platform, so it counts, and reconciliation decides what happened. All of them, one delivery, or one
 * holder's. Returns the deliveries changed.
 */
export async function expireLeases(
  ctx: AppContext,
  scope: { deliveryId?: string; gone?: { holder: string; claimedBefore: Date } } = {},
): Promise<{ id: string; attempts: number }[]> {
  const now = ctx.now();
  const { deliveryId, gone } = scope;
  const rows = await transitionDeliveries<{ id: string; attempts: number }>(
    ctx.db,
    {
      deliveryId,
      from: 'publishing',
      event: 'lease_expired',
      now,
      where: gone
        ? sql`d.lease_holder = ${gone.holder} and d.updated_at < ${ts(gone.claimedBefore)}`
        : sql`d.lease_until < ${ts(now)}`,
      reason: gone ? 'the worker holding it is gone' : 'lease expired',
      attemptsDelta: 1,
      lastError: { message: 'The worker stopped before it recorded the outcome', code: 'lease_expired' },
      attempt: {
        close: 'open',
        outcome: 'unknown',
        error: 'lease expired: the worker stopped before it recorded the outcome',
        errorCode: 'lease_expired',
      },
    },
    sql`select id, attempts from changed`,
  );
  return rows.map((row) => ({ id: row.id, attempts: Number(row.attempts) }));
}

function classify(adapter: PlatformAdapter, error: unknown): ErrorClass {
  if (error instanceof PlatformError) return error.classification;
  try {
    return adapter.classifyError(error);
  } catch {
    return { kind: 'unknown', message: (error as Error)?.message ?? String(error) };
  }
}

class LeaseLostError extends Error {
  constructor() {
    super('the claim on this delivery could not be kept, so the call was abandoned; the outcome is unknown');
    this.name = this.constructor.name;
  }
}

/**
 * Keeps the claim while the platform call runs: extends the lease every third of its length and
 * aborts the call before the lease would run out unextended, or as soon as the worker's heartbeat
 * stops reaching Redis (either way another worker may then reconcile).
 */
function holdLease(
  ctx: AppContext,
  claim: Claim,
  worker: PublishWorker,
): { signal: AbortSignal; lost: Promise<never>; release(): void } {
  const leaseMs = ctx.config.GAUNG_LEASE_SECONDS * 1000;
  const controller = new AbortController();
  let rejectLost: (error: Error) => void = () => {};
  const lost = new Promise<never>((_, reject) => {
    rejectLost = reject;
  });
  lost.catch(() => {});
  const abort = () => {
    const error = new LeaseLostError();
    controller.abort(error);
    rejectLost(error);
  };
  let heldUntil = Date.now() + leaseMs;
  const timer = setInterval(() => {
    if (Date.now() > heldUntil - leaseMs / 6) return abort();
    const extended = Date.now() + leaseMs;
    queryRows(
      ctx.db,
      sql`update deliveries set lease_until = ${ts(new Date(ctx.now().getTime() + leaseMs))}
        where id = ${claim.id}::uuid and status = 'publishing' and version = ${claim.version}::int returning id`,
    )
      .then((rows) => {
        if (rows.length > 0) heldUntil = extended;
        else abort();
      })
      // The next beat tries again; the check above aborts before the lease runs out.
      .catch(() => {});
  }, leaseMs / 3);
  timer.unref();
  // Only a named holder can be taken for dead early, so only its calls stop with the heartbeat.
  const unwatch = (claim.holder && worker.liveness?.onLost(abort)) || (() => {});
  return {
    signal: controller.signal,
    lost,
    release: () => {
      clearInterval(timer);
      unwatch();
    },
  };
}

type Result = { ok: true; result: PublishResult } | { ok: false; error: ErrorClass };

async function callPlatform(
  ctx: AppContext,
  adapter: PlatformAdapter,
  claim: Claim,
  request: PublishRequest,
  worker: PublishWorker,
): Promise<Result> {
  const lease = holdLease(ctx, claim, worker);
  const platform = claim.channel.platform;
  try {
    const platformContext = await platformContextFor(ctx, claim.channel, {
      signal: lease.signal,
      onRateLimit: (state) => {
        // The platform says the window is used up: later publishes wait without a 429.
        if (state.remaining <= 0)
          void blockPublishing(
            ctx,
            { platform, channelId: claim.channel.id, scope: state.scope },
            state.resetAt,
          ).catch(() => {});
      },
    });
    const act = publishAction(adapter, claim.mode);
    if (!act) {
      return {
        ok: false,
        error: { kind: 'invalid', message: `${label(platform)} does not support ${claim.mode} in Gaung` },
      };
    }
    const result = await Promise.race([act(platformContext, request), lease.lost]);
    return { ok: true, result };
  } catch (error) {
    if (error instanceof LeaseLostError)
      return { ok: false, error: { kind: 'unknown', message: error.message } };
    return { ok: false, error: classify(adapter, error) };
  } finally {
    lease.release();
  }
}

function publishAction(
  adapter: PlatformAdapter,
  mode: DeliveryMode,
): ((context: PlatformContext, request: PublishRequest) => Promise<PublishResult>) | undefined {
  if (mode === 'copy') return adapter.publish.bind(adapter);
  if (mode === 'repost') return adapter.repost?.bind(adapter);
  return adapter.quote?.bind(adapter);
}

/** What adapters receive; media are prepared for the platform (and may be refused). */
async function publishRequest(
  ctx: AppContext,
  work: DeliveryWork,
  firstAttemptAt: Date,
): Promise<PublishRequest> {
  const media = work.mediaCount > 0 ? await loadPublishMedia(ctx, work.postId, work.channel.platform) : [];
  return {
    deliveryId: work.id,
    mode: work.mode,
    text: work.renderedText,
    media,
    link: work.link,
    sourceUrl: work.sourceUrl,
    origin: work.origin,
    tags: work.tags,
    firstAttemptAt,
    replyTo: work.replyTo,
    ...(work.platformOptions ? { options: work.platformOptions } : {}),
    checkpoint: {
      saved: work.platformState,
      // Written at once, outside the attempt's transaction: it must survive a crash a moment later.
      async save(state) {
        await ctx.db.update(deliveries).set({ platformState: state }).where(eq(deliveries.id, work.id));
      },
    },
  };
}

async function publishClaimed(ctx: AppContext, claim: Claim, worker: PublishWorker): Promise<PublishStep> {
  const platform = claim.channel.platform;
  const now = ctx.now();
  ctx.metrics.publishLateness.observe(
    { platform },
    Math.max(0, now.getTime() - claim.dueAt.getTime()) / 1000,
  );
  const adapter = ctx.platforms.get(platform);
  if (!adapter)
    return finish(
      ctx,
      claim,
      { kind: 'invalid', message: `This Gaung installation has no ${label(platform)} adapter` },
      false,
    );
  if (claim.attempts >= ctx.config.GAUNG_MAX_ATTEMPTS)
    return finish(
      ctx,
      claim,
      {
        kind: 'invalid',
        message: `Gave up after ${claim.attempts} attempts${claim.lastError ? `: ${claim.lastError}` : ''}`,
      },
      false,
    );

  const target = { platform, channelId: claim.channel.id };
  const quotas = quotaOverridesOf(ctx.config);
  const reservation = await reservePublishSlot(ctx, target, `${claim.id}#${claim.attempts}`, quotas);
  if (!reservation.granted) {
    const why = reservation.window
      ? describeRateWindow(platform, reservation.window)
      : `${label(platform)} asked Gaung to wait`;
    return finish(
      ctx,
      claim,
      { kind: 'rate_limited', until: reservation.at, scope: 'channel', message: why },
      false,
    );
  }

  let request: PublishRequest;
  try {
    request = await publishRequest(ctx, claim, claim.firstAttemptAt ?? now);
  } catch (error) {
    await releasePublishSlot(ctx, target, reservation.token, quotas).catch(() => {});
    const refused = error instanceof AppError && error.status < 500;
    return finish(
      ctx,
      claim,
      { kind: refused ? 'invalid' : 'retry', message: (error as Error).message },
      false,
    );
  }
  const outcome = await callPlatform(ctx, adapter, claim, request, worker);
  return outcome.ok ? finish(ctx, claim, outcome.result) : finish(ctx, claim, outcome.error);
}

function attemptFields(error: ErrorClass) {
  return { httpStatus: error.httpStatus ?? null, error: error.message, errorCode: error.kind };
}

/**
 * Records how the claimed attempt ended. `fromPlatform` is false when Gaung stopped the attempt
 * before the platform was called (its own quota, media it cannot prepare): such an attempt does not
 * count, except a transient failure, which must not loop forever.
 */
async function finish(
  ctx: AppContext,
  claim: Claim,
  outcome: PublishResult | ErrorClass,
  fromPlatform = true,
): Promise<PublishStep> {
  const now = ctx.now();
  const platform = claim.channel.platform;
  const base = {
    deliveryId: claim.id,
    from: 'publishing' as const,
    version: claim.version,
    now,
  };
  const close = claim.attemptNumber;

  if ('remoteId' in outcome) {
    ctx.metrics.publishAttempts.inc({ platform, outcome: 'published' });
    const row = await recordWithNotice(ctx, 'published', {
      ...base,
      event: 'published',
      reason: outcome.url ? `published as ${outcome.url}` : 'published',
      attemptsDelta: 1,
      remote: { remoteId: outcome.remoteId, remoteUrl: outcome.url, remoteIds: outcome.remoteIds },
      lastError: null,
      attempt: { close, outcome: 'published' },
    });
    if (row) {
      ctx.metrics.deliveriesPublished.inc({ platform });
      return done('published');
    }
    return recordLateSuccess(ctx, claim, outcome);
  }

  const error = outcome;
  ctx.metrics.publishAttempts.inc({
    platform,
    outcome: fromPlatform ? error.kind : `${error.kind}_before_call`,
  });
  switch (error.kind) {
    case 'rate_limited': {
      const until = waitUntilAfterRateLimit(error.until, now);
      if (fromPlatform)
        await blockPublishing(ctx, { platform, channelId: claim.channel.id, scope: error.scope }, until);
      const row = await transitionDeliveryRow(ctx.db, {
        ...base,
        event: 'rate_limited',
        reason: fromPlatform ? `${label(platform)} rate limit` : 'publish quota',
        dueAt: until,
        lastError: { message: error.message, code: 'rate_limited' },
        attempt: { close, outcome: 'rate_limited', ...attemptFields(error) },
      });
      return row ? wait(until, row.attempts, 'rate limited') : done('lost the claim');
    }
    case 'auth': {
      const row = await transitionDeliveryRow(ctx.db, {
        ...base,
        event: 'auth_failed',
        reason: 'the platform refused the credentials',
        lastError: { message: error.message, code: 'auth' },
        attempt: { close, outcome: 'auth', ...attemptFields(error) },
      });
      // The delivery waits while the channel is not active; re-verifying the channel resumes it.
      if (row) await markNeedsReauth(ctx, claim.channel.id, error.message);
      return done('channel needs reauthorisation');
    }
    case 'unknown': {
      const row = await transitionDeliveryRow(ctx.db, {
        ...base,
        event: 'outcome_unknown',
        reason: 'the outcome of the attempt is unknown',
        attemptsDelta: 1,
        lastError: { message: error.message, code: 'unknown' },
        attempt: { close, outcome: 'unknown', ...attemptFields(error) },
      });
      if (!row) return done('lost the claim');
      return wait(new Date(now.getTime() + ctx.config.GAUNG_RECONCILE_DELAY_MS), row.attempts, 'reconcile');
    }
    case 'retry': {
      const attempts = claim.attempts + 1;
      if (attempts < ctx.config.GAUNG_MAX_ATTEMPTS) {
        const dueAt = new Date(now.getTime() + backoff(ctx, attempts));
        const row = await transitionDeliveryRow(ctx.db, {
          ...base,
          event: 'retry_later',
          reason: `retry ${attempts + 1} of ${ctx.config.GAUNG_MAX_ATTEMPTS} later`,
          attemptsDelta: 1,
          dueAt,
          lastError: { message: error.message, code: 'retry' },
          attempt: { close, outcome: 'retry', ...attemptFields(error) },
        });
        return row ? wait(dueAt, row.attempts, 'retry') : done('lost the claim');
      }
      const row = await recordWithNotice(ctx, 'failed', {
        ...base,
        event: 'failed',
        reason: 'attempts exhausted',
        attemptsDelta: 1,
        lastError: {
          message: `Gave up after ${attempts} attempts: ${error.message}`,
          code: 'attempts_exhausted',
        },
        attempt: { close, outcome: 'retry', ...attemptFields(error) },
      });
      if (row) ctx.metrics.deliveriesFailed.inc({ platform });
      return done('failed');
    }
    case 'invalid': {
      const row = await recordWithNotice(ctx, 'failed', {
        ...base,
        event: 'failed',
        reason: 'the platform refused the post',
        attemptsDelta: fromPlatform ? 1 : 0,
        lastError: { message: error.message, code: 'invalid' },
        attempt: { close, outcome: 'invalid', ...attemptFields(error) },
      });
      if (row) ctx.metrics.deliveriesFailed.inc({ platform });
      return done('failed');
    }
  }
}

/** A status change that the post's timeline and the submitting office hear about, in one statement. */
async function recordWithNotice(ctx: AppContext, outcome: PublishOutcome, change: DeliveryTransition) {
  const row = await transitionDeliveryRow(ctx.db, {
    ...change,
    announce: publishOutcomeCtes(ctx, outcome, change.now),
  });
  if (row)
    await enqueueNotify(ctx, row.outbox).catch((error: unknown) =>
      ctx.log.warn({ err: error, deliveryId: change.deliveryId }, 'could not queue the publish notification'),
    );
  return row;
}

/**
 * The platform accepted the post, but the claim was lost meanwhile (the lease ran out and the
 * delivery became unknown). The result is known here, so record it rather than leave it to a search.
 */
async function recordLateSuccess(ctx: AppContext, claim: Claim, result: PublishResult): Promise<PublishStep> {
  const row = await recordWithNotice(ctx, 'published', {
    deliveryId: claim.id,
    from: 'unknown',
    event: 'reconciled_found',
    now: ctx.now(),
    reason: `published${result.url ? ` as ${result.url}` : ''} (recorded after the lease ran out)`,
    remote: { remoteId: result.remoteId, remoteUrl: result.url, remoteIds: result.remoteIds },
    lastError: null,
  });
  if (row) {
    ctx.metrics.deliveriesPublished.inc({ platform: claim.channel.platform });
    return done('published');
  }
  ctx.log.error(
    { deliveryId: claim.id, url: result.url },
    'published, but the delivery was already resolved by another worker',
  );
  return done('lost the claim');
}

function cannotTellMessage(platform: Platform, lastError: string | null): string {
  const what = platform === 'telegram' ? 'message' : 'post';
  const why = lastError ? ` (last attempt: ${lastError})` : '';
  return `${label(platform)} cannot tell whether the ${what} was sent; check the channel and confirm or retry${why}`;
}

/**
 * Asks the platform whether an unsure attempt published the post. Found → published; certainly not
 * → scheduled again (null: claim it now); no way to know → needs_attention for a person.
 */
async function reconcile(ctx: AppContext, state: DeliveryState, worker: string): Promise<PublishStep | null> {
  const now = ctx.now();
  const settleAt = state.updatedAt.getTime() + ctx.config.GAUNG_RECONCILE_DELAY_MS;
  if (settleAt > now.getTime())
    return wait(new Date(settleAt), state.attempts, 'reconcile after the platform settles');
  const platform = state.channel.platform;
  const adapter = ctx.platforms.get(platform);
  const base = {
    deliveryId: state.id,
    from: 'unknown' as const,
    version: state.version,
    now,
  };
  const impossible = (message: string) =>
    recordWithNotice(ctx, 'needs_attention', {
      ...base,
      event: 'reconcile_impossible',
      reason: 'the platform cannot tell whether the post exists',
      lastError: { message, code: 'reconcile_impossible' },
      attempt: { record: { startedAt: now, worker }, outcome: 'reconcile_impossible', error: message },
    }).then(() => done('needs attention'));
  if (!adapter) return impossible(cannotTellMessage(platform, state.lastError));

  let found: PublishResult | null | 'cannot_tell';
  try {
    const request = await publishRequest(ctx, state, state.firstAttemptAt ?? state.updatedAt);
    const platformContext = await platformContextFor(ctx, state.channel, {
      signal: AbortSignal.timeout(ctx.config.GAUNG_LEASE_SECONDS * 1000),
    });
    found = await adapter.findPublished(platformContext, request);
  } catch (error) {
    const failure = classify(adapter, error);
    ctx.metrics.publishAttempts.inc({ platform, outcome: `reconcile_${failure.kind}` });
    switch (failure.kind) {
      case 'rate_limited': {
        const until = waitUntilAfterRateLimit(failure.until, now);
        await blockPublishing(ctx, { platform, channelId: state.channel.id, scope: failure.scope }, until);
        return wait(until, state.attempts, 'rate limited while reconciling');
      }
      case 'auth':
        await markNeedsReauth(ctx, state.channel.id, failure.message);
        return done('channel needs reauthorisation');
      case 'invalid':
        return impossible(
          `Gaung could not check with ${label(platform)} whether the post was sent (${failure.message}); check the channel and confirm or retry`,
        );
      default:
        return wait(
          new Date(now.getTime() + backoff(ctx, 1)),
          state.attempts,
          'reconciliation failed; trying again',
        );
    }
  }

  if (found === 'cannot_tell') {
    ctx.metrics.publishAttempts.inc({ platform, outcome: 'reconcile_impossible' });
    return impossible(cannotTellMessage(platform, state.lastError));
  }
  if (found) {
    ctx.metrics.publishAttempts.inc({ platform, outcome: 'reconciled_found' });
    const row = await recordWithNotice(ctx, 'published', {
      ...base,
      event: 'reconciled_found',
      reason: `found on ${label(platform)} as ${found.url}`,
      remote: { remoteId: found.remoteId, remoteUrl: found.url },
      lastError: null,
      attempt: { record: { startedAt: now, worker }, outcome: 'reconciled_found' },
    });
    if (row) ctx.metrics.deliveriesPublished.inc({ platform });
    return done('published (found by reconciliation)');
  }
  ctx.metrics.publishAttempts.inc({ platform, outcome: 'reconciled_missing' });
  const dueAt = new Date(now.getTime() + backoff(ctx, Math.max(1, state.attempts)));
  const row = await transitionDeliveryRow(ctx.db, {
    ...base,
    event: 'reconciled_missing',
    reason: `not found on ${label(platform)}; trying again`,
    dueAt,
    attempt: { record: { startedAt: now, worker }, outcome: 'reconciled_missing' },
  });
  if (!row) return null;
  return wait(dueAt, row.attempts, 'retry after reconciliation');
}
