import { sql } from 'drizzle-orm';
import {
  bigint,
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
import { MEDIA_KINDS, type MediaKind, PLATFORMS, type Platform } from '../../domain/vocabulary';
import { createdAt, id, oneOf } from './columns';
import { units, users } from './org';
import { posts } from './posts';

/** An uploaded file of a unit. Bytes live in storage under their sha256, so a file is stored once. */
export const media = pgTable(
  'media',
  {
    id: id(),
    unitId: uuid('unit_id')
      .notNull()
      .references(() => units.id, { onDelete: 'restrict' }),
    uploadedBy: uuid('uploaded_by').references(() => users.id, { onDelete: 'set null' }),
    sha256: text('sha256').notNull(),
    kind: text('kind').$type<MediaKind>().notNull(),
    mime: text('mime').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    width: integer('width'),
    height: integer('height'),
    durationMs: integer('duration_ms'),
    /** ffprobe's findings for video: codecs, frame rate, bit rate. */
    probe: jsonb('probe').$type<Record<string, unknown>>(),
    altText: text('alt_text').notNull().default(''),
    originalName: text('original_name'),
    /** A small WebP preview, stored like any blob; null for a video when ffmpeg is not installed. */
    thumbnailSha256: text('thumbnail_sha256'),
    createdAt: createdAt(),
  },
  (t) => [
    oneOf('media_kind_check', t.kind, MEDIA_KINDS),
    check('media_bytes_check', sql`${t.bytes} > 0`),
    uniqueIndex('media_unit_sha_key').on(t.unitId, t.sha256),
    index('media_sha_idx').on(t.sha256),
    index('media_thumbnail_sha_idx').on(t.thumbnailSha256),
    // Garbage collection looks for old media that no post refers to.
    index('media_created_idx').on(t.createdAt),
  ],
);

/** Media attached to a post, in order, with the alt text for this post. */
export const postMedia = pgTable(
  'post_media',
  {
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    mediaId: uuid('media_id')
      .notNull()
      .references(() => media.id, { onDelete: 'restrict' }),
    position: integer('position').notNull(),
    altText: text('alt_text'),
  },
  (t) => [
    primaryKey({ columns: [t.postId, t.position] }),
    uniqueIndex('post_media_post_media_key').on(t.postId, t.mediaId),
    index('post_media_media_idx').on(t.mediaId),
  ],
);

/** A medium prepared for one platform (re-encoded or resized), cached while the plan stays the same. */
export const mediaRenditions = pgTable(
  'media_renditions',
  {
    mediaId: uuid('media_id')
      .notNull()
      .references(() => media.id, { onDelete: 'cascade' }),
    platform: text('platform').$type<Platform>().notNull(),
    sha256: text('sha256').notNull(),
    mime: text('mime').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    width: integer('width'),
    height: integer('height'),
    /** What was done to the original, in words shown in the preview. */
    changes: text('changes').array().notNull().default(sql`'{}'::text[]`),
    /** A hash of the plan it was made by: when the rules give another plan, it is made again. */
    planHash: text('plan_hash').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.mediaId, t.platform] }),
    oneOf('media_renditions_platform_check', t.platform, PLATFORMS),
    index('media_renditions_sha_idx').on(t.sha256),
  ],
);
