import { sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import { queryRows } from '../db/client';
import { METRIC_WINDOWS, type MetricWindow, type Platform, type SnapshotWindow } from '../domain/vocabulary';
import { type ErrorClass, PlatformError } from '../platforms/types';
import {
  enqueueCredentialRefresh,
  enqueueMetricsSnapshots,
  enqueueNotify,
  enqueuePublishJobs,
  withoutPublishJob,
} from '../queues/producers';
import { blackoutHolds, settleEndedBlackouts } from './blackouts';
import { loadChannel, markNeedsReauth, platformContextFor } from './channels';
import { pendingOutbox } from './notifications';
import { expireLeases } from './publishing';
import { sweepRetractions } from './retraction';
import { applyDueRuleApprovals } from './source-rules';
import { enqueueDueSources } from './sources';
import { goneWorkers } from './worker-liveness';

/**
 * The engine's housekeeping. The sweep rebuilds the Redis side of the engine from Postgres every few
 * seconds: it is how deliveries enter the horizon, how crashed claims get reconciled, and how a
 * flushed Redis is refilled.
 */

/** Tokens are refreshed this long before they expire, or their adapter's own lead time. */
const REFRESH_MARGIN_MS = 15 * 60 * 1000;
const refreshAhead = (ctx: AppContext, platform: Platform) =>
  ctx.platforms.get(platform)?.refreshAheadMs ?? REFRESH_MARGIN_MS;
const longestRefreshAhead = (ctx: AppContext) =>
  Math.max(REFRESH_MARGIN_MS, ...ctx.platforms.list().map((adapter) => adapter.refreshAheadMs ?? 0));
/** Unsent notifications older than this have lost their job (Redis was away or flushed). */
const OUTBOX_GRACE_MS = 60_000;
/** Claims younger than this stay with a holder seen gone (it may be back; clocks differ a little). */
const CLAIM_CLOCK_MARGIN_MS = 1_000;
/** One sweep queues at most this many deliveries; the rest follow on the next sweep. */
const SWEEP_BATCH = 20_000;

const ts = (date: Date) => sql`${date.toISOString()}::timestamptz`;

export interface SweepResult {
  leasesExpired: number;
  /** Due within the horizon, and of those, how many had lost their job (or never had one). */
  due: number;
  queued: number;
  reconciling: number;
  refreshing: number;
  /** Notifications queued again. */
  notifications: number;
  /** Office sources due for a poll. */
  sources: number;
  /** Retractions queued (or started for deliveries published after their post was retracted). */
  retractions: number;
  /** Deliveries moved into free slots after a blackout ended. */
  blackoutsSettled: number;
  /** Approvals of auto-approval rules whose stop window passed (made, or refused with the reason kept). */
  ruleApprovals: number;
}

/**
 * Hands the claims of worker processes that are gone to reconciliation at once, instead of after
 * their lease: publishing → unknown, with a job that reconciles them after the reconcile delay.
 * Claims made after the holders were seen gone stay theirs. Returns how many were handed over.
 */
export async function expireClaimsOfGoneWorkers(ctx: AppContext, self: string): Promise<number> {
  const holders = await queryRows<{ holder: string }>(
    ctx.db,
    sql`select distinct lease_holder as holder from deliveries
      where status = 'publishing' and lease_holder is not null and lease_holder <> ${self}`,
  );
  if (holders.length === 0) return 0;
  // A holder seen gone may come back and claim again; the margin covers clocks a little apart.
  const claimedBefore = new Date(ctx.now().getTime() - CLAIM_CLOCK_MARGIN_MS);
  const gone = await goneWorkers(
    ctx,
    holders.map((row) => row.holder),
  );
  let handedOver = 0;
  for (const holder of gone) {
    const expired = await expireLeases(ctx, { gone: { holder, claimedBefore } });
    if (expired.length === 0) continue;
    ctx.log.warn({ worker: holder, deliveries: expired.length }, 'a worker is gone; reconciling its claims');
    const reconcileAt = new Date(ctx.now().getTime() + ctx.config.GAUNG_RECONCILE_DELAY_MS);
    await enqueuePublishJobs(
      ctx,
      expired.map((row) => ({ ...row, dueAt: reconcileAt })),
    );
    handedOver += expired.length;
  }
  return handedOver;
}

export async function sweep(ctx: AppContext): Promise<SweepResult> {
  const expired = await expireLeases(ctx);
  const blackoutsSettled = await settleEndedBlackouts(ctx);
  const now = ctx.now();
  const horizon = new Date(now.getTime() + ctx.config.GAUNG_HORIZON_SECONDS * 1000);
  const [due, unsure, expiring] = await Promise.all([
    queryRows<{ id: string; attempts: number; due_ms: number }>(
      ctx.db,
      sql`select d.id, d.attempts, (extract(epoch from d.due_at) * 1000)::float8 as due_ms
        from deliveries d join channels c on c.id = d.channel_id
        where d.status = 'scheduled' and d.due_at <= ${ts(horizon)}
          and c.status = 'active' and c.archived_at is null
          and not ${blackoutHolds(now, sql`d.due_at`)}
        order by d.due_at limit ${SWEEP_BATCH}`,
    ),
    queryRows<{ id: string; attempts: number; due_ms: number }>(
      ctx.db,
      sql`select d.id, d.attempts,
          (extract(epoch from d.updated_at) * 1000)::float8 + ${ctx.config.GAUNG_RECONCILE_DELAY_MS}::float8 as due_ms
        from deliveries d join channels c on c.id = d.channel_id
        where d.status = 'unknown' and c.status = 'active' and c.archived_at is null
        order by d.updated_at limit ${SWEEP_BATCH}`,
    ),
    queryRows<{ id: string; platform: Platform; expires_ms: number }>(
      ctx.db,
      sql`select id, platform, (extract(epoch from credentials_expires_at) * 1000)::float8 as expires_ms from channels
        where archived_at is null and status = 'active' and credentials is not null
          and credentials_expires_at <= ${ts(new Date(now.getTime() + longestRefreshAhead(ctx)))}`,
    ),
  ]);
  const toTarget = (row: { id: string; attempts: number; due_ms: number }) => ({
    id: row.id,
    attempts: Number(row.attempts),
    dueAt: new Date(Number(row.due_ms)),
  });
  const missing = await withoutPublishJob(ctx, [...due.map(toTarget), ...unsure.map(toTarget)]);
  await enqueuePublishJobs(ctx, missing);
  const renewing = expiring.filter(
    (row) => Number(row.expires_ms) - now.getTime() <= refreshAhead(ctx, row.platform),
  );
  await enqueueCredentialRefresh(
    ctx,
    renewing.map((row) => ({ channelId: row.id, expiresAt: new Date(Number(row.expires_ms)) })),
    now,
  );
  // The job id makes this a no-op for a notification whose job still waits or retries.
  const unsent = await pendingOutbox(ctx, OUTBOX_GRACE_MS);
  await enqueueNotify(ctx, unsent);
  const sources = await enqueueDueSources(ctx);
  const retractions = await sweepRetractions(ctx, SWEEP_BATCH);
  const ruleApprovals = await applyDueRuleApprovals(ctx);
  return {
    ruleApprovals,
    retractions,
    blackoutsSettled,
    leasesExpired: expired.length,
    due: due.length,
    queued: missing.length,
    reconciling: unsure.length,
    refreshing: renewing.length,
    notifications: unsent.length,
    sources,
  };
}

const classification = (error: unknown, fallback: (error: unknown) => ErrorClass): ErrorClass =>
  error instanceof PlatformError ? error.classification : fallback(error);

/**
 * Refreshes a channel's short-lived tokens before they expire (the adapter stores the new ones with a
 * compare-and-set, so two workers refreshing at once store one result). A refused refresh marks the
 * channel needs_reauth; anything else is thrown for the queue to retry.
 */
export async function refreshChannelCredentials(ctx: AppContext, channelId: string): Promise<string> {
  const { channel } = await loadChannel(ctx.db, channelId);
  if (channel.status !== 'active') return 'channel not active';
  const adapter = ctx.platforms.get(channel.platform);
  if (!adapter?.refreshCredentials) return 'nothing to refresh';
  try {
    const { expiresAt } = await adapter.refreshCredentials(await platformContextFor(ctx, channel));
    return `refreshed until ${expiresAt?.toISOString() ?? 'no expiry'}`;
  } catch (error) {
    const failure = classification(error, (e) => adapter.classifyError(e));
    if (failure.kind === 'auth' || failure.kind === 'invalid') {
      await markNeedsReauth(ctx, channelId, failure.message);
      return 'refresh refused: channel needs reauthorisation';
    }
    throw error;
  }
}

const WINDOW_SECONDS: Record<MetricWindow, number> = { '1h': 3_600, '24h': 86_400, '7d': 7 * 86_400 };
/** A snapshot missed by more than this (Gaung was down) is skipped rather than taken late. */
const SNAPSHOT_GRACE_SECONDS = 2 * 86_400;

/** Queues the engagement snapshots that are due: 1 h, 24 h and 7 d after each publication. */
export async function scheduleMetricsSnapshots(ctx: AppContext): Promise<number> {
  const platforms = ctx.platforms
    .list()
    .filter((adapter) => adapter.fetchMetrics)
    .map((adapter) => adapter.platform);
  if (platforms.length === 0) return 0;
  const now = ctx.now();
  const windows = sql.join(
    METRIC_WINDOWS.map((window) => sql`(${window}, ${WINDOW_SECONDS[window]}::int)`),
    sql`, `,
  );
  const rows = await queryRows<{ id: string; window: MetricWindow }>(
    ctx.db,
    sql`select d.id, w.name as window
      from deliveries d join channels c on c.id = d.channel_id
      cross join (values ${windows}) as w(name, seconds)
      where d.status = 'published' and d.remote_id is not null
        and d.published_at <= ${ts(now)} - make_interval(secs => w.seconds)
        and d.published_at > ${ts(now)} - make_interval(secs => w.seconds + ${SNAPSHOT_GRACE_SECONDS}::int)
        and c.status = 'active' and c.archived_at is null
        and c.platform in (${sql.join(
          platforms.map((platform) => sql`${platform}`),
          sql`, `,
        )})
        and not exists (select 1 from metrics_snapshots s where s.delivery_id = d.id and s.window = w.name)
      limit ${SWEEP_BATCH}`,
  );
  await enqueueMetricsSnapshots(
    ctx,
    rows.map((row) => ({ deliveryId: row.id, window: row.window })),
  );
  return rows.length;
}

/**
 * Reads a published delivery's engagement from its platform and keeps it as the window's snapshot
 * (one per window: a repeated job stores nothing twice). Platform errors are thrown classified.
 */
export async function takeMetricsSnapshot(
  ctx: AppContext,
  deliveryId: string,
  window: SnapshotWindow,
): Promise<string> {
  const [row] = await queryRows<{ remote_id: string | null; channel_id: string }>(
    ctx.db,
    sql`select remote_id, channel_id from deliveries where id = ${deliveryId}::uuid and status = 'published'`,
  );
  if (!row?.remote_id) return 'not published';
  const { channel } = await loadChannel(ctx.db, row.channel_id);
  const adapter = ctx.platforms.get(channel.platform);
  if (!adapter?.fetchMetrics || channel.status !== 'active') return 'no metrics for this channel';
  let metrics: Awaited<ReturnType<NonNullable<typeof adapter.fetchMetrics>>>;
  try {
    metrics = await adapter.fetchMetrics(await platformContextFor(ctx, channel), row.remote_id);
  } catch (error) {
    const failure = classification(error, (e) => adapter.classifyError(e));
    if (failure.kind === 'auth') {
      await markNeedsReauth(ctx, channel.id, failure.message);
      return 'channel needs reauthorisation';
    }
    if (failure.kind === 'invalid') return `platform refused: ${failure.message}`;
    throw new PlatformError(failure, { cause: error });
  }
  await queryRows(
    ctx.db,
    sql`insert into metrics_snapshots (delivery_id, "window", taken_at, impressions, likes, reposts, replies, quotes, clicks, raw)
      values (${deliveryId}::uuid, ${window}, ${ts(ctx.now())}, ${metrics.impressions}::bigint, ${metrics.likes}::bigint,
        ${metrics.reposts}::bigint, ${metrics.replies}::bigint, ${metrics.quotes}::bigint, ${metrics.clicks}::bigint,
        ${JSON.stringify(metrics.raw)}::jsonb)
      on conflict (delivery_id, "window") ${
        // The on-demand snapshot is the latest reading; the scheduled ones are taken once.
        window === 'now'
          ? sql`do update set taken_at = excluded.taken_at, impressions = excluded.impressions, likes = excluded.likes,
              reposts = excluded.reposts, replies = excluded.replies, quotes = excluded.quotes, clicks = excluded.clicks,
              raw = excluded.raw`
          : sql`do nothing`
      }`,
  );
  return 'stored';
}

/** The engine's gauges, read at scrape time (any process can serve them). */
export async function refreshDeliveryGauges(ctx: AppContext): Promise<void> {
  const now = ctx.now();
  const [[row], counts] = await Promise.all([
    queryRows<{ due: number; publishing: number; failed: number; unknown: number; needs_attention: number }>(
      ctx.db,
      sql`select
          (select count(*)::int from deliveries d join channels c on c.id = d.channel_id
            where d.status = 'scheduled' and d.due_at <= ${ts(now)} and c.status = 'active') as due,
          (select count(*)::int from deliveries where status = 'publishing') as publishing,
          (select count(*)::int from deliveries where status = 'failed') as failed,
          (select count(*)::int from deliveries where status = 'unknown') as unknown,
          (select count(*)::int from deliveries where status = 'needs_attention') as needs_attention`,
    ),
    ctx.queues.publish.getJobCounts('waiting', 'delayed', 'active', 'prioritized'),
  ]);
  if (row) {
    ctx.metrics.deliveriesDue.set(Number(row.due));
    ctx.metrics.deliveriesPublishing.set(Number(row.publishing));
    for (const status of ['failed', 'unknown', 'needs_attention'] as const)
      ctx.metrics.deliveriesNeedingAttention.set({ status }, Number(row[status]));
  }
  ctx.metrics.deliveriesQueued.set(Object.values(counts).reduce((sum, n) => sum + n, 0));
}
