import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  bigserial,
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
import type { NotificationKind } from '../../domain/notices';
import {
  BATCHED_MAIL_KINDS,
  type BatchedMailKind,
  LEVEL_ARRIVALS,
  LEVEL_DECISIONS,
  type LevelArrival,
  type LevelDecision,
  PLATFORMS,
  type Platform,
  POST_EVENT_KINDS,
  POST_STATUSES,
  type PostEventKind,
  type PostStatus,
} from '../../domain/vocabulary';
import type { PostOrigin } from '../../platforms/types';
import { createdAt, id, oneOf, tstz, tsvector, updatedAt } from './columns';
import { units, users } from './org';
import { sourceRules, sources } from './sources';

/** A submission from a unit, reviewed by humas. */
export const posts = pgTable(
  'posts',
  {
    id: id(),
    unitId: uuid('unit_id')
      .notNull()
      .references(() => units.id, { onDelete: 'restrict' }),
    authorId: uuid('author_id')
      .notNull()
      .references(() => users.id, { onDelete: 'restrict' }),
    status: text('status').$type<PostStatus>().notNull().default('draft'),
    /** Optimistic concurrency: every change bumps it; a stale edit or decision gets 409. */
    version: integer('version').notNull().default(1),
    body: text('body').notNull().default(''),
    link: text('link'),
    /** The original post on the office's own account (needed for repost and quote). */
    sourceUrl: text('source_url'),
    /** The platform the source URL points to (derived from it), for the reviewers' inbox filter. */
    sourcePlatform: text('source_platform').$type<Platform>(),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    /** The office source the post was brought in from, and the item's key in it (one post per item). */
    sourceId: uuid('source_id').references(() => sources.id, { onDelete: 'set null' }),
    sourceItemKey: text('source_item_key'),
    /** The original on the office's account, as its source read it: repost and quote act on it. */
    origin: jsonb('origin').$type<PostOrigin>(),
    /** When the source's platform last said whether the original still exists. */
    originCheckedAt: tstz('origin_checked_at'),
    /** When the source's platform said the original was deleted: the post is withdrawn or its deliveries held. */
    originDeletedAt: tstz('origin_deleted_at'),
    preferredFrom: tstz('preferred_from'),
    preferredTo: tstz('preferred_to'),
    submittedAt: tstz('submitted_at'),
    decidedAt: tstz('decided_at'),
    decidedBy: uuid('decided_by').references(() => users.id, { onDelete: 'set null' }),
    /** Why the post was withdrawn from the platforms after publication (press room and audit). */
    retractionReason: text('retraction_reason'),
    retractedAt: tstz('retracted_at'),
    /** A correction is a post of its own, published in place of the retracted one. */
    correctionOf: uuid('correction_of').references((): AnyPgColumn => posts.id, { onDelete: 'set null' }),
    search: tsvector('search').generatedAlwaysAs(sql`to_tsvector('simple', body)`),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    oneOf('posts_status_check', t.status, POST_STATUSES),
    check('posts_version_check', sql`${t.version} >= 1`),
    check(
      'posts_source_platform_check',
      sql`${t.sourcePlatform} is null or ${t.sourcePlatform} in (${sql.raw(PLATFORMS.map((p) => `'${p}'`).join(', '))})`,
    ),
    check(
      'posts_window_check',
      sql`${t.preferredFrom} is null or ${t.preferredTo} is null or ${t.preferredFrom} <= ${t.preferredTo}`,
    ),
    index('posts_unit_created_idx').on(t.unitId, t.createdAt, t.id),
    index('posts_status_created_idx').on(t.status, t.createdAt, t.id),
    index('posts_author_idx').on(t.authorId),
    uniqueIndex('posts_source_item_idx').on(t.sourceId, t.sourceItemKey),
    index('posts_search_idx').using('gin', t.search),
    index('posts_tags_idx').using('gin', t.tags),
  ],
);

/**
 * What one review level (a unit above the office, or the office itself) did with a post: the row is
 * the level's inbox entry while `decision` and `closed_at` are null, then its decision (approved for
 * its own channels, or passed) and whether it forwarded the post to the level above. The post's
 * status summarises these rows.
 */
export const postLevels = pgTable(
  'post_levels',
  {
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    unitId: uuid('unit_id')
      .notNull()
      .references(() => units.id, { onDelete: 'restrict' }),
    /** The post's own unit (never changes), so an inbox counts per office from this table alone. */
    originUnitId: uuid('origin_unit_id')
      .notNull()
      .references(() => units.id, { onDelete: 'restrict' }),
    /** How the post reached this level's inbox. */
    arrival: text('arrival').$type<LevelArrival>().notNull(),
    arrivedAt: tstz('arrived_at').notNull(),
    decision: text('decision').$type<LevelDecision>(),
    decidedAt: tstz('decided_at'),
    decidedBy: uuid('decided_by').references(() => users.id, { onDelete: 'set null' }),
    /** The approval comment or the reason for passing. */
    note: text('note'),
    /** This level sent the post on to the level above. */
    forwardedAt: tstz('forwarded_at'),
    forwardedBy: uuid('forwarded_by').references(() => users.id, { onDelete: 'set null' }),
    forwardNote: text('forward_note'),
    /** The post went back to its office (changes requested, rejected, withdrawn): no longer waiting here. */
    closedAt: tstz('closed_at'),
    /** The waiting-time alarm went to the level's reviewers, and later to its admins (each once). */
    alarmedAt: tstz('alarmed_at'),
    adminsAlarmedAt: tstz('admins_alarmed_at'),
  },
  (t) => [
    primaryKey({ columns: [t.postId, t.unitId] }),
    oneOf('post_levels_arrival_check', t.arrival, LEVEL_ARRIVALS),
    check(
      'post_levels_decision_check',
      sql`${t.decision} is null or ${t.decision} in (${sql.raw(LEVEL_DECISIONS.map((d) => `'${d}'`).join(', '))})`,
    ),
    // A level's inbox: what waits for it, oldest arrival first.
    index('post_levels_inbox_idx')
      .on(t.unitId, t.arrivedAt, t.postId)
      .where(sql`${t.decision} is null and ${t.closedAt} is null`),
    // The same per originating office: counts and the office filter of an inbox.
    index('post_levels_inbox_origin_idx')
      .on(t.unitId, t.originUnitId, t.arrivedAt)
      .where(sql`${t.decision} is null and ${t.closedAt} is null`),
    // The waiting-time alarms: posts still waiting whose last alarm has not gone out.
    index('post_levels_alarm_idx')
      .on(t.arrivedAt)
      .where(sql`${t.decision} is null and ${t.closedAt} is null and ${t.adminsAlarmedAt} is null`),
  ],
);

/**
 * How many posts wait at each level per originating office: kept exact by a trigger on post_levels
 * (migration 0007), so an inbox's per-office counts read a few rows instead of counting the backlog.
 */
export const inboxTallies = pgTable(
  'inbox_tallies',
  {
    unitId: uuid('unit_id')
      .notNull()
      .references(() => units.id, { onDelete: 'cascade' }),
    originUnitId: uuid('origin_unit_id')
      .notNull()
      .references(() => units.id, { onDelete: 'cascade' }),
    waiting: integer('waiting').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.unitId, t.originUnitId] })],
);

/**
 * Each review transition of a post (to submitted, approved, rejected or changes requested) with the
 * post's unit, the time of its previous transition to the same status and, for a submission, the first
 * decision at or after it: kept by triggers on post_events and posts in the same transaction as the
 * write (migration 0016), so a report reads a period's reviews by range, without a visit to each post's
 * timeline nor a grouping by post.
 */
export const postReviewSteps = pgTable(
  'post_review_steps',
  {
    eventId: bigint('event_id', { mode: 'number' })
      .primaryKey()
      .references(() => postEvents.id, { onDelete: 'cascade' }),
    /** Gone with its event, which goes with the post. */
    postId: uuid('post_id').notNull(),
    /** The post's originating unit. */
    unitId: uuid('unit_id').notNull(),
    toStatus: text('to_status').$type<PostStatus>().notNull(),
    at: tstz('at').notNull(),
    /** The post's previous transition to the same status (by time, then event); null for its first. */
    previousAt: tstz('previous_at'),
    /** For a submission: the first decision at or after it; null while none. */
    decidedAt: tstz('decided_at'),
  },
  (t) => [
    // Reports: a period's reviews of a subtree's units, without a visit to the table.
    index('post_review_steps_unit_at_idx').on(t.unitId, t.at, t.toStatus, t.previousAt, t.decidedAt),
  ],
);

/** Per-platform text that replaces the body on that platform. */
export const postVariants = pgTable(
  'post_variants',
  {
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    platform: text('platform').$type<Platform>().notNull(),
    body: text('body').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.postId, t.platform] }),
    oneOf('post_variants_platform_check', t.platform, PLATFORMS),
  ],
);

/** The timeline of a post: transitions, comments, edits and delivery outcomes. */
export const postEvents = pgTable(
  'post_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    kind: text('kind').$type<PostEventKind>().notNull(),
    fromStatus: text('from_status').$type<PostStatus>(),
    toStatus: text('to_status').$type<PostStatus>(),
    /** Comment text, or the reason of a decision. */
    body: text('body'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    oneOf('post_events_kind_check', t.kind, POST_EVENT_KINDS),
    index('post_events_post_idx').on(t.postId, t.id),
    // Reports: the review transitions of a period.
    index('post_events_transition_created_idx').on(t.createdAt).where(sql`${t.kind} = 'transition'`),
  ],
);

/** In-app notifications, one row per recipient. */
export const notifications = pgTable(
  'notifications',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<NotificationKind>().notNull(),
    postId: uuid('post_id').references(() => posts.id, { onDelete: 'cascade' }),
    deliveryId: uuid('delivery_id'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    /** The batched e-mail that listed this arrival (reviewers hear of arrivals at most every 30 minutes). */
    batchedMailId: bigint('batched_mail_id', { mode: 'number' }).references(() => batchedMails.id, {
      onDelete: 'set null',
    }),
    readAt: tstz('read_at'),
    createdAt: createdAt(),
  },
  (t) => [
    index('notifications_user_idx').on(t.userId, t.createdAt),
    index('notifications_unread_idx').on(t.userId).where(sql`${t.readAt} is null`),
    // Arrivals not yet listed in an e-mail: what the next batch of each reviewer gathers.
    index('notifications_unbatched_idx')
      .on(t.userId, t.createdAt)
      .where(sql`${t.batchedMailId} is null and ${t.kind} in ('review.submitted', 'review.forwarded')`),
  ],
);

/**
 * One e-mail that gathers several things for one person: the arrivals since their last one, the
 * daily digest, the weekly digest. `period` names the batch (the previous batch's id, a local date,
 * a week), so the unique key makes a second sweep or a retried job find it already made.
 */
export const batchedMails = pgTable(
  'batched_mails',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<BatchedMailKind>().notNull(),
    period: text('period').notNull(),
    /** What the e-mail covers (the local day or week and its bounds, the time zone). */
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    oneOf('batched_mails_kind_check', t.kind, BATCHED_MAIL_KINDS),
    uniqueIndex('batched_mails_period_key').on(t.userId, t.kind, t.period),
    index('batched_mails_user_kind_idx').on(t.userId, t.kind, t.createdAt),
  ],
);

/**
 * E-mails and unit webhooks still to send, written in the transaction that decided them (a
 * transactional outbox): a job lost with Redis is queued again by the maintenance sweep.
 */
export const notifyOutbox = pgTable(
  'notify_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    via: text('via').$type<'email' | 'webhook' | 'batched_mail'>().notNull(),
    notificationId: uuid('notification_id').references(() => notifications.id, { onDelete: 'cascade' }),
    postEventId: bigint('post_event_id', { mode: 'number' }).references(() => postEvents.id, {
      onDelete: 'cascade',
    }),
    batchedMailId: bigint('batched_mail_id', { mode: 'number' }).references(() => batchedMails.id, {
      onDelete: 'cascade',
    }),
    createdAt: createdAt(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    sentAt: tstz('sent_at'),
    /** Given up: the receiver refused for good, or every retry failed. */
    failedAt: tstz('failed_at'),
  },
  (t) => [
    check(
      'notify_outbox_target_check',
      sql`(${t.via} = 'email' and ${t.notificationId} is not null) or (${t.via} = 'webhook' and ${t.postEventId} is not null) or (${t.via} = 'batched_mail' and ${t.batchedMailId} is not null)`,
    ),
    // One outbox row per batched e-mail, whoever made it.
    uniqueIndex('notify_outbox_batched_mail_key')
      .on(t.batchedMailId)
      .where(sql`${t.batchedMailId} is not null`),
    index('notify_outbox_pending_idx')
      .on(t.createdAt)
      .where(sql`${t.sentAt} is null and ${t.failedAt} is null`),
  ],
);

/**
 * An approval a rule will make of a post: after `decideAt` the rule approves it as its author, unless
 * a reviewer stopped it first (the post then waits in the inbox as any other).
 */
export const ruleApprovals = pgTable(
  'rule_approvals',
  {
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    ruleId: uuid('rule_id')
      .notNull()
      .references(() => sourceRules.id, { onDelete: 'cascade' }),
    decideAt: tstz('decide_at').notNull(),
    stoppedAt: tstz('stopped_at'),
    stoppedBy: uuid('stopped_by').references(() => users.id, { onDelete: 'set null' }),
    appliedAt: tstz('applied_at'),
    /** What the application came to: `approved`, or why it did not approve. */
    outcome: text('outcome'),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.postId, t.ruleId] }),
    index('rule_approvals_due_idx')
      .on(t.decideAt)
      .where(sql`${t.stoppedAt} is null and ${t.appliedAt} is null`),
  ],
);
