import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import {
  ATTEMPT_OUTCOMES,
  type AttemptOutcome,
  DELIVERY_MODES,
  DELIVERY_STATUSES,
  type DeliveryMode,
  type DeliveryStatus,
  SNAPSHOT_WINDOWS,
  type SnapshotWindow,
} from '../../domain/vocabulary';
import { channels } from './channels';
import { createdAt, id, oneOf, tstz, updatedAt } from './columns';
import { users } from './org';
import { posts } from './posts';

/** One (post, channel) pair: what will be, or was, published where and when. */
export const deliveries = pgTable(
  'deliveries',
  {
    id: id(),
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'restrict' }),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channels.id, { onDelete: 'restrict' }),
    /**
     * The post's office, kept by triggers (migration 0020): set from the post whenever the delivery is
     * written, and followed when the post moves to another office. Reports count failed deliveries per
     * office from it without reading the posts.
     */
    unitId: uuid('unit_id'),
    mode: text('mode').$type<DeliveryMode>().notNull(),
    status: text('status').$type<DeliveryStatus>().notNull().default('scheduled'),
    /** When the next attempt may start. */
    dueAt: tstz('due_at').notNull(),
    /** The reviewer asked for the channel's next free slot rather than a fixed time. */
    slotted: integer('slotted').notNull().default(0),
    /** The reviewer's per-channel text, replacing the post's body and variant. */
    textOverride: text('text_override'),
    /** The text as approved, after the credit line; what the platform receives. */
    renderedText: text('rendered_text').notNull(),
    /** Attempts that counted against the retry budget (rate limits do not count). */
    attempts: integer('attempts').notNull().default(0),
    leaseUntil: tstz('lease_until'),
    /** The worker process holding the lease, when it heartbeats in Redis: its lease ends as soon as it is gone. */
    leaseHolder: text('lease_holder'),
    remoteId: text('remote_id'),
    remoteUrl: text('remote_url'),
    /** Every platform id the delivery made (a Telegram album is several messages); a retraction removes them all. */
    remoteIds: jsonb('remote_ids').$type<string[]>().notNull().default([]),
    publishedAt: tstz('published_at'),
    /** Set when someone retracted the post: a delivery still in flight is retracted once it resolves to published. */
    retractionRequestedAt: tstz('retraction_requested_at'),
    retractionReason: text('retraction_reason'),
    retractedAt: tstz('retracted_at'),
    /** A correction published as a reply: the original delivery it answers (deleted only after the reply is out). */
    repliesTo: uuid('replies_to').references((): AnyPgColumn => deliveries.id, { onDelete: 'set null' }),
    /** Choices made for this delivery on the approve screen (TikTok: privacy level, comments, duet, stitch). */
    platformOptions: jsonb('platform_options').$type<Record<string, unknown>>(),
    /** What an attempt recorded before it finished (TikTok's publish_id), for reconciliation after a crash. */
    platformState: jsonb('platform_state').$type<Record<string, unknown>>(),
    lastErrorCode: text('last_error_code'),
    lastError: text('last_error'),
    version: integer('version').notNull().default(1),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    oneOf('deliveries_mode_check', t.mode, DELIVERY_MODES),
    oneOf('deliveries_status_check', t.status, DELIVERY_STATUSES),
    check('deliveries_published_check', sql`${t.status} <> 'published' or (${t.publishedAt} is not null)`),
    check('deliveries_lease_check', sql`${t.status} <> 'publishing' or ${t.leaseUntil} is not null`),
    uniqueIndex('deliveries_post_channel_key').on(t.postId, t.channelId),
    // The sweeper: scheduled deliveries by due time.
    index('deliveries_due_idx').on(t.dueAt).where(sql`${t.status} = 'scheduled'`),
    // Lease expiry.
    index('deliveries_lease_idx').on(t.leaseUntil).where(sql`${t.status} = 'publishing'`),
    // The sweeper: retractions to (re)start.
    index('deliveries_retracting_idx').on(t.dueAt).where(sql`${t.status} = 'retracting'`),
    // Deliveries in flight when their post was retracted: retracted once they resolve.
    index('deliveries_retraction_requested_idx')
      .on(t.postId)
      .where(sql`${t.retractionRequestedAt} is not null and ${t.status} = 'published'`),
    // The calendar: a channel's deliveries over time.
    index('deliveries_channel_due_idx').on(t.channelId, t.dueAt),
    // Metrics snapshots and reports: published deliveries by publish time.
    index('deliveries_published_idx').on(t.publishedAt).where(sql`${t.status} = 'published'`),
    // The press room walks deliveries that went out newest first, and finds a post's first one.
    index('deliveries_press_idx').on(t.publishedAt, t.postId).where(sql`${t.publishedAt} is not null`),
    index('deliveries_attention_idx')
      .on(t.status, t.updatedAt)
      .where(sql`${t.status} in ('failed', 'needs_attention', 'unknown', 'retraction_needs_attention')`),
    // Reports: a period's failed deliveries per office and channel, read from the index alone.
    index('deliveries_failed_unit_idx')
      .on(t.updatedAt, t.unitId, t.channelId)
      .where(sql`${t.status} = 'failed'`),
  ],
);

/** Every publish attempt: start, end, outcome, HTTP status and error. */
export const deliveryAttempts = pgTable(
  'delivery_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deliveryId: uuid('delivery_id')
      .notNull()
      .references(() => deliveries.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    startedAt: tstz('started_at').notNull().defaultNow(),
    endedAt: tstz('ended_at'),
    outcome: text('outcome').$type<AttemptOutcome>(),
    httpStatus: integer('http_status'),
    errorCode: text('error_code'),
    error: text('error'),
    worker: text('worker'),
  },
  (t) => [
    check(
      'delivery_attempts_outcome_check',
      sql`${t.outcome} is null or ${t.outcome} in (${sql.raw(ATTEMPT_OUTCOMES.map((o) => `'${o}'`).join(', '))})`,
    ),
    uniqueIndex('delivery_attempts_number_key').on(t.deliveryId, t.number),
  ],
);

/** The audit trail of a delivery's status changes. */
export const deliveryEvents = pgTable(
  'delivery_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deliveryId: uuid('delivery_id')
      .notNull()
      .references(() => deliveries.id, { onDelete: 'cascade' }),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    fromStatus: text('from_status').$type<DeliveryStatus>(),
    toStatus: text('to_status').$type<DeliveryStatus>().notNull(),
    reason: text('reason'),
    createdAt: createdAt(),
  },
  (t) => [index('delivery_events_delivery_idx').on(t.deliveryId, t.id)],
);

/** Engagement of a published delivery, taken 1 h, 24 h and 7 d after publishing, and the latest taken on demand. */
export const metricsSnapshots = pgTable(
  'metrics_snapshots',
  {
    id: id(),
    deliveryId: uuid('delivery_id')
      .notNull()
      .references(() => deliveries.id, { onDelete: 'cascade' }),
    window: text('window').$type<SnapshotWindow>().notNull(),
    takenAt: tstz('taken_at').notNull().defaultNow(),
    impressions: bigint('impressions', { mode: 'number' }),
    likes: bigint('likes', { mode: 'number' }),
    reposts: bigint('reposts', { mode: 'number' }),
    replies: bigint('replies', { mode: 'number' }),
    quotes: bigint('quotes', { mode: 'number' }),
    clicks: bigint('clicks', { mode: 'number' }),
    raw: jsonb('raw').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    oneOf('metrics_snapshots_window_check', t.window, SNAPSHOT_WINDOWS),
    uniqueIndex('metrics_snapshots_delivery_window_key').on(t.deliveryId, t.window),
  ],
);

const figure = (name: string) => bigint(name, { mode: 'number' });

/**
 * What each published delivery has reached, kept by triggers on metrics_snapshots, deliveries and
 * posts in the same transaction as the write (migration 0011): the latest snapshot's figures and
 * those of the 1 h, 24 h and 7 d windows, with engagements summed (null when no interaction was
 * counted). Reports read this instead of every snapshot; it equals what the snapshots say.
 */
export const deliveryMetricRollups = pgTable(
  'delivery_metric_rollups',
  {
    deliveryId: uuid('delivery_id')
      .primaryKey()
      .references(() => deliveries.id, { onDelete: 'cascade' }),
    postId: uuid('post_id').notNull(),
    /** The post's originating unit. */
    unitId: uuid('unit_id').notNull(),
    channelId: uuid('channel_id').notNull(),
    publishedAt: tstz('published_at').notNull(),
    /** When the latest snapshot was taken; null when the delivery was never measured. */
    takenAt: tstz('taken_at'),
    /** The latest snapshot is demo data (GAUNG_DEMO). */
    demo: boolean('demo').notNull().default(false),
    impressions: figure('impressions'),
    likes: figure('likes'),
    reposts: figure('reposts'),
    replies: figure('replies'),
    quotes: figure('quotes'),
    clicks: figure('clicks'),
    engagements: figure('engagements'),
    impressions1h: figure('impressions_1h'),
    likes1h: figure('likes_1h'),
    reposts1h: figure('reposts_1h'),
    replies1h: figure('replies_1h'),
    quotes1h: figure('quotes_1h'),
    clicks1h: figure('clicks_1h'),
    engagements1h: figure('engagements_1h'),
    impressions24h: figure('impressions_24h'),
    likes24h: figure('likes_24h'),
    reposts24h: figure('reposts_24h'),
    replies24h: figure('replies_24h'),
    quotes24h: figure('quotes_24h'),
    clicks24h: figure('clicks_24h'),
    engagements24h: figure('engagements_24h'),
    impressions7d: figure('impressions_7d'),
    likes7d: figure('likes_7d'),
    reposts7d: figure('reposts_7d'),
    replies7d: figure('replies_7d'),
    quotes7d: figure('quotes_7d'),
    clicks7d: figure('clicks_7d'),
    engagements7d: figure('engagements_7d'),
  },
  (t) => [
    // Reports: a period's published deliveries with every figure, read from the index alone, are
    // `delivery_metric_rollups_edges_idx` (published_at) INCLUDE (unit, channel, taken_at, the 28 figures),
    // and the demo ones `delivery_metric_rollups_demo_idx` (published_at) WHERE demo: both made by
    // migration 0018's SQL, as drizzle cannot declare INCLUDE.
    // The weekly sums: one (unit, channel, week)'s deliveries.
    index('delivery_metric_rollups_unit_channel_idx').on(t.unitId, t.channelId, t.publishedAt),
    // Reports: the weekly series and the top posts of a period, read from the index alone.
    index('delivery_metric_rollups_reach_idx').on(
      t.publishedAt,
      t.unitId,
      t.channelId,
      t.postId,
      t.impressions,
      t.engagements,
    ),
  ],
);

const FIGURE_COLUMNS = ['impressions', 'likes', 'reposts', 'replies', 'quotes', 'clicks', 'engagements'];
const figureSumColumns = Object.fromEntries(
  ['', '_1h', '_24h', '_7d'].flatMap((suffix) =>
    FIGURE_COLUMNS.map((field) => [`${field}${suffix}`, figure(`${field}${suffix}`)]),
  ),
);

/**
 * The published deliveries of each (originating unit, channel, UTC week from Monday), summed: kept by
 * triggers on delivery_metric_rollups in the same transaction (migration 0016), so a report of a
 * period reads the whole weeks inside it from here and only its edges from the rollup. Each figure is
 * the sum of the rollup's, null when every one of them is null.
 */
export const deliveryMetricWeeks = pgTable(
  'delivery_metric_weeks',
  {
    week: tstz('week').notNull(),
    unitId: uuid('unit_id').notNull(),
    channelId: uuid('channel_id').notNull(),
    published: integer('published').notNull(),
    /** Deliveries with at least one snapshot. */
    measured: integer('measured').notNull(),
    /** Deliveries whose latest snapshot is demo data. */
    demo: integer('demo').notNull(),
    ...(figureSumColumns as Record<string, ReturnType<typeof figure>>),
    /** Deliveries whose latest impressions are known: a part of the week sums to null when it has none. */
    impressionsCount: integer('impressions_count').notNull().default(0),
    /** Deliveries whose latest engagements are known. */
    engagementsCount: integer('engagements_count').notNull().default(0),
  },
  // Reports: a period's whole weeks, read from indexes alone, are `delivery_metric_weeks_latest_idx` (week)
  // INCLUDE (unit, channel, the counts and the figures as last measured) and `delivery_metric_weeks_windows_idx`
  // (week) INCLUDE (unit, channel, published, the figures at 1 h, 24 h and 7 d), made by migration 0021's
  // SQL, as drizzle cannot declare INCLUDE.
  (t) => [primaryKey({ columns: [t.week, t.unitId, t.channelId] })],
);

/**
 * Each post's published deliveries, summed: kept by triggers on delivery_metric_rollups in the same
 * transaction (migration 0017), so the top posts of a period come from an index that stops at the tenth,
 * with only the posts whose deliveries straddle the period's start or end read delivery by delivery. A
 * row stays once made (published 0 and no times when its deliveries are gone).
 */
export const postMetricTotals = pgTable(
  'post_metric_totals',
  {
    postId: uuid('post_id')
      .primaryKey()
      .references(() => posts.id, { onDelete: 'cascade' }),
    /** The post's originating unit, as its deliveries' rollup rows say. */
    unitId: uuid('unit_id'),
    /** The first and the last of its deliveries' publication times. */
    firstPublishedAt: tstz('first_published_at'),
    lastPublishedAt: tstz('last_published_at'),
    published: integer('published').notNull(),
    impressions: figure('impressions'),
    engagements: figure('engagements'),
  },
  (t) => [
    // The top posts: by reach, the same order as the report's.
    index('post_metric_totals_rank_idx').on(
      t.impressions.desc().nullsLast(),
      t.engagements.desc().nullsLast(),
      t.firstPublishedAt.desc(),
      t.postId,
    ),
    // The posts whose deliveries straddle an instant (a period's start or end).
    index('post_metric_totals_span_idx').using(
      'gist',
      sql`tstzrange(${t.firstPublishedAt}, ${t.lastPublishedAt}, '[]')`,
    ),
  ],
);

/** Gaung's own timeline: what `sandbox` channels "publish", for demos and dry runs. */
export const sandboxPosts = pgTable(
  'sandbox_posts',
  {
    id: id(),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channels.id, { onDelete: 'cascade' }),
    /** The delivery's idempotency key: a retry finds the post instead of writing it again. */
    idempotencyKey: text('idempotency_key').notNull(),
    kind: text('kind').notNull().default('post'),
    text: text('text').notNull(),
    media: jsonb('media').$type<unknown[]>().notNull().default([]),
    refersTo: text('refers_to'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('sandbox_posts_key').on(t.channelId, t.idempotencyKey),
    index('sandbox_posts_channel_idx').on(t.channelId, t.createdAt),
  ],
);
