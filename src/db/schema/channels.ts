import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { CHANNEL_STATUSES, type ChannelStatus, PLATFORMS, type Platform } from '../../domain/vocabulary';
import { createdAt, id, oneOf, tstz, updatedAt } from './columns';
import { units } from './org';

/** One social account owned by a unit. */
export const channels = pgTable(
  'channels',
  {
    id: id(),
    unitId: uuid('unit_id')
      .notNull()
      .references(() => units.id, { onDelete: 'restrict' }),
    platform: text('platform').$type<Platform>().notNull(),
    name: text('name').notNull(),
    /** The account's public handle or name on the platform, for display. */
    handle: text('handle'),
    status: text('status').$type<ChannelStatus>().notNull().default('active'),
    statusReason: text('status_reason'),
    /** Non-secret, platform-specific settings (instance URL, page id, chat id, character limit…). */
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
    /** AES-256-GCM envelope with the key id; never returned by the API. */
    credentials: text('credentials'),
    /** Bumped on every credential write, so a rotated refresh token is stored exactly once. */
    credentialsVersion: integer('credentials_version').notNull().default(0),
    credentialsExpiresAt: tstz('credentials_expires_at'),
    timeZone: text('time_zone').notNull(),
    dailyCap: integer('daily_cap'),
    minSpacingMinutes: integer('min_spacing_minutes').notNull().default(0),
    creditTemplate: text('credit_template').notNull().default('{text}\n\n📍 {unit} {source_url}'),
    archivedAt: tstz('archived_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    oneOf('channels_platform_check', t.platform, PLATFORMS),
    oneOf('channels_status_check', t.status, CHANNEL_STATUSES),
    check('channels_daily_cap_check', sql`${t.dailyCap} is null or ${t.dailyCap} > 0`),
    check('channels_spacing_check', sql`${t.minSpacingMinutes} >= 0`),
    index('channels_unit_idx').on(t.unitId),
    index('channels_credentials_expiry_idx').on(t.credentialsExpiresAt).where(sql`${t.archivedAt} is null`),
  ],
);

/** A recurring posting time of a channel: a cron expression in the channel's time zone. */
export const postingSlots = pgTable(
  'posting_slots',
  {
    id: id(),
    channelId: uuid('channel_id')
      .notNull()
      .references(() => channels.id, { onDelete: 'cascade' }),
    cron: text('cron').notNull(),
    /** The order in which the administrator listed the slots. */
    position: integer('position').notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [index('posting_slots_channel_idx').on(t.channelId, t.position)],
);
