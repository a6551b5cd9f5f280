import { sql } from 'drizzle-orm';
import {
  bigint,
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
  DELIVERY_MODES,
  type DeliveryMode,
  SOURCE_KINDS,
  type SourceKind,
  type SourceStatus,
} from '../../domain/vocabulary';
import { channels } from './channels';
import { createdAt, id, oneOf, tstz, updatedAt } from './columns';
import { units, users } from './org';

/**
 * An office's own account that Gaung reads (ingest): new items become posts of the office, as drafts
 * for the office to finish or, with `auto_submit`, straight into the reviewers' inbox.
 */
export const sources = pgTable(
  'sources',
  {
    id: id(),
    unitId: uuid('unit_id')
      .notNull()
      .references(() => units.id, { onDelete: 'restrict' }),
    /** Who added the source: the author of the posts it brings in. */
    createdBy: uuid('created_by')
      .notNull()
      .references(() => users.id, { onDelete: 'restrict' }),
    kind: text('kind').$type<SourceKind>().notNull(),
    /** The source's address (RSS/Atom) or the account's profile address (Mastodon). */
    url: text('url').notNull(),
    /** The account's handle on its platform, where the source names one (`kanim_pontianak`). */
    handle: text('handle'),
    /** Non-secret settings of the reader (which items to include, a page id, a PDS…). */
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
    /** The source's own credentials, encrypted and bound to the source's id; null when it reads without. */
    credentials: text('credentials'),
    /** Compare-and-set guard for rotated tokens, as on channels. */
    credentialsVersion: integer('credentials_version').notNull().default(0),
    credentialsExpiresAt: tstz('credentials_expires_at'),
    /** A channel of the same unit and platform whose credentials the source reads with (connected once). */
    channelId: uuid('channel_id').references(() => channels.id, { onDelete: 'set null' }),
    /** `needs_reauth` once the platform refused the credentials: not read until they are given again. */
    status: text('status').$type<SourceStatus>().notNull().default('active'),
    /** What the last read returned for the next one (a since_id, a page cursor). */
    cursor: text('cursor'),
    /** For Mastodon: the account id behind the profile address, found when the source was added. */
    accountId: text('account_id'),
    title: text('title'),
    autoSubmit: boolean('auto_submit').notNull().default(false),
    /** Tags given to every post from this source. */
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    /** Items published before this are not brought in (a new source does not import its archive). */
    since: tstz('since').notNull(),
    pausedAt: tstz('paused_at'),
    /** When the next poll is due. */
    nextPollAt: tstz('next_poll_at').notNull(),
    /** A poll in progress holds the source until then (its lease); a worker that died lets go when it passes. */
    pollingUntil: tstz('polling_until'),
    lastPolledAt: tstz('last_polled_at'),
    /** Consecutive failed polls; each one doubles the wait before the next. */
    failures: integer('failures').notNull().default(0),
    lastError: text('last_error'),
    itemsImported: integer('items_imported').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    oneOf('sources_kind_check', t.kind, SOURCE_KINDS),
    check('sources_failures_check', sql`${t.failures} >= 0`),
    check('sources_status_check', sql`${t.status} in ('active', 'needs_reauth')`),
    uniqueIndex('sources_unit_url_idx').on(t.unitId, t.url),
    index('sources_due_idx').on(t.nextPollAt).where(sql`${t.pausedAt} is null`),
  ],
);

/**
 * An auto-approval rule of a trusted office's source: its items (optionally only those with these
 * hashtags) are approved to the rule's channels, with the rule's mode and time, unless a reviewer
 * stops them within the stop window. Only channels its author may target; checked again when applied.
 */
export const sourceRules = pgTable(
  'source_rules',
  {
    id: id(),
    sourceId: uuid('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    /** The reviewer the rule approves as (its last editor). */
    createdBy: uuid('created_by')
      .notNull()
      .references(() => users.id, { onDelete: 'restrict' }),
    /** Only items carrying one of these hashtags (without `#`, lower case); empty: every item. */
    hashtags: text('hashtags').array().notNull().default(sql`'{}'::text[]`),
    channelIds: uuid('channel_ids').array().notNull(),
    mode: text('mode').$type<DeliveryMode>().notNull(),
    /** Minutes after the item arrived; null: the channel's next free slot. */
    delayMinutes: integer('delay_minutes'),
    /** How long a reviewer has to stop an approval before the rule makes it. */
    stopWindowMinutes: integer('stop_window_minutes').notNull(),
    /** A paused rule takes no new items and makes none of its pending approvals; they wait for a person. */
    pausedAt: tstz('paused_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    oneOf('source_rules_mode_check', t.mode, DELIVERY_MODES),
    check('source_rules_window_check', sql`${t.stopWindowMinutes} between 0 and 1440`),
    check(
      'source_rules_delay_check',
      sql`${t.delayMinutes} is null or ${t.delayMinutes} between 0 and 10080`,
    ),
    index('source_rules_source_idx').on(t.sourceId),
  ],
);

/**
 * A Telegram source bot's state. Polling: the offset of its next `getUpdates`, stored once the
 * updates below it are saved, so they are brought in once across restarts and processes. Webhook:
 * the key its secret token was derived from when Gaung set the webhook, and when Telegram was last
 * asked whether the webhook is still Gaung's.
 */
export const telegramSourceBots = pgTable('telegram_source_bots', {
  /** The bot's numeric id (the part of its token before the colon). */
  botId: text('bot_id').primaryKey(),
  /** Null until the bot's first poll reads something. */
  updateOffset: bigint('update_offset', { mode: 'number' }),
  /** The id of the secret key the webhook's secret token was derived from; null while Gaung set no webhook. */
  webhookKeyId: text('webhook_key_id'),
  webhookCheckedAt: tstz('webhook_checked_at'),
  updatedAt: updatedAt(),
});

/**
 * Channel posts Telegram delivered to the source bot's webhook, kept until the bot's round has saved
 * their posts: a crash re-reads them, and a redelivered update (Telegram sends again when it got no
 * 2xx) finds its row and adds nothing.
 */
export const telegramSourceUpdates = pgTable(
  'telegram_source_updates',
  {
    botId: text('bot_id').notNull(),
    updateId: bigint('update_id', { mode: 'number' }).notNull(),
    /** The update's `channel_post` (a Message) as Telegram sent it. */
    channelPost: jsonb('channel_post').$type<Record<string, unknown>>().notNull(),
    receivedAt: tstz('received_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.botId, t.updateId] })],
);
