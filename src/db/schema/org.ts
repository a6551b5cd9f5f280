import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigserial,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import {
  HOLIDAY_KINDS,
  type HolidayKind,
  LOCALES,
  type Locale,
  ROLES,
  type Role,
  UNIT_KINDS,
  type UnitKind,
} from '../../domain/vocabulary';
import { createdAt, id, oneOf, tstz, updatedAt } from './columns';

/** The organisation as a tree: national → regional → office. */
export const units = pgTable(
  'units',
  {
    id: id(),
    parentId: uuid('parent_id').references((): AnyPgColumn => units.id, { onDelete: 'restrict' }),
    kind: text('kind').$type<UnitKind>().notNull(),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    timeZone: text('time_zone').notNull(),
    /** Materialized path of ids, `/<root>/<child>/…/<self>/`; a subtree is `path LIKE '<prefix>%'`. */
    path: text('path').notNull(),
    /** Where decisions and publish outcomes are announced (HMAC-signed JSON POST). */
    notifyWebhookUrl: text('notify_webhook_url'),
    /** On the national (root) unit: every submitted post also waits in the national inbox, forwarded or not. */
    reviewNationalDirect: boolean('review_national_direct').notNull().default(true),
    /** On the national unit: the public transparency page (monthly counts per office) is shown. */
    transparencyPage: boolean('transparency_page').notNull().default(false),
    /** On the national unit: the transparency page also shows internal figures (review times, rejections). */
    transparencyInternal: boolean('transparency_internal').notNull().default(false),
    /** How long a post may wait for this unit's decision, in working minutes, before its reviewers are told. */
    reviewWaitMinutes: integer('review_wait_minutes').notNull().default(240),
    /** The unit's working days (ISO weekdays, 1 = Monday) and hours (minutes after local midnight). */
    workDays: integer('work_days').array().notNull().default(sql`'{1,2,3,4,5}'::integer[]`),
    workStartMinute: integer('work_start_minute').notNull().default(480),
    workEndMinute: integer('work_end_minute').notNull().default(960),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    oneOf('units_kind_check', t.kind, UNIT_KINDS),
    check('units_root_is_national', sql`(${t.parentId} is null) = (${t.kind} = 'national')`),
    check(
      'units_working_hours_check',
      sql`${t.workStartMinute} >= 0 and ${t.workStartMinute} < ${t.workEndMinute} and ${t.workEndMinute} <= 1440 and ${t.reviewWaitMinutes} > 0 and cardinality(${t.workDays}) > 0`,
    ),
    uniqueIndex('units_slug_key').on(t.slug),
    // Exactly one national root: every root row indexes the same value `true`.
    uniqueIndex('units_one_root_key').on(sql`(${t.parentId} is null)`).where(sql`${t.parentId} is null`),
    uniqueIndex('units_path_key').on(t.path),
    index('units_path_prefix_idx').using('btree', sql`${t.path} text_pattern_ops`),
    index('units_parent_idx').on(t.parentId),
  ],
);

export const users = pgTable(
  'users',
  {
    id: id(),
    unitId: uuid('unit_id')
      .notNull()
      .references(() => units.id, { onDelete: 'restrict' }),
    email: text('email').notNull(),
    name: text('name').notNull(),
    role: text('role').$type<Role>().notNull(),
    locale: text('locale').$type<Locale>().notNull().default('id'),
    passwordHash: text('password_hash').notNull(),
    passwordChangedAt: tstz('password_changed_at').notNull().defaultNow(),
    /** The password was set by an admin (a new account or a reset): the person must choose their own first. */
    passwordMustChange: boolean('password_must_change').notNull().default(false),
    /** E-mail topics the person turned off (see EMAIL_TOPICS); the in-app notifications stay. */
    emailOptOuts: text('email_opt_outs').array().notNull().default(sql`'{}'::text[]`),
    /** The daily digest of waiting posts (opt-in) and the weekly figures (opt-out). */
    dailyDigest: boolean('daily_digest').notNull().default(false),
    weeklyDigest: boolean('weekly_digest').notNull().default(true),
    disabledAt: tstz('disabled_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    oneOf('users_role_check', t.role, ROLES),
    oneOf('users_locale_check', t.locale, LOCALES),
    uniqueIndex('users_email_key').on(sql`lower(${t.email})`),
    index('users_unit_idx').on(t.unitId),
  ],
);

/** Server-side sessions behind the sign-in cookie; the cookie holds a secret whose sha256 is the id. */
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    ip: text('ip'),
    userAgent: text('user_agent'),
    createdAt: createdAt(),
    lastSeenAt: tstz('last_seen_at').notNull().defaultNow(),
    expiresAt: tstz('expires_at').notNull(),
  },
  (t) => [index('sessions_user_idx').on(t.userId), index('sessions_expires_idx').on(t.expiresAt)],
);

/** Bearer tokens for automation; only the sha256 of the secret is kept. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    /** The first characters of the token, shown in lists so a user can tell tokens apart. */
    prefix: text('prefix').notNull(),
    createdAt: createdAt(),
    expiresAt: tstz('expires_at'),
    lastUsedAt: tstz('last_used_at'),
    revokedAt: tstz('revoked_at'),
  },
  (t) => [uniqueIndex('api_tokens_hash_key').on(t.tokenHash), index('api_tokens_user_idx').on(t.userId)],
);

/** Who did what to users, units, tokens, channels and sign-ins. */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    /** The unit the event concerns; admins see events of their subtree. */
    unitId: uuid('unit_id').references(() => units.id, { onDelete: 'set null' }),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    ip: text('ip'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index('audit_events_unit_time_idx').on(t.unitId, t.createdAt)],
);

/**
 * Days off for the whole organisation: public holidays and collective leave days (cuti bersama),
 * kept by the national admins each year. Waiting time does not run on them.
 */
export const holidays = pgTable(
  'holidays',
  {
    id: id(),
    date: date('date', { mode: 'string' }).notNull(),
    name: text('name').notNull(),
    kind: text('kind').$type<HolidayKind>().notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
  },
  (t) => [oneOf('holidays_kind_check', t.kind, HOLIDAY_KINDS), uniqueIndex('holidays_date_key').on(t.date)],
);
