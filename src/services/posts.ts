import { and, asc, desc, eq, inArray, isNotNull, like, or, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { AppContext } from '../context';
import { type DbOrTx, queryRows, type Tx } from '../db/client';
import {
  channels,
  deliveries,
  media,
  postEvents,
  postMedia,
  posts,
  postVariants,
  units,
  users,
} from '../db/schema';
import { AppError, type FieldError, invalid, notFound, staleVersion } from '../domain/errors';
import type { MediaFacts } from '../domain/media-rules';
import { type Action, type Actor, atLeast, authorize, type Resource } from '../domain/permissions';
import { platformOfUrl } from '../domain/rendering';
import {
  type DeliveryMode,
  type DeliveryStatus,
  isPlatform,
  type Platform,
  type PostEventKind,
  type PostStatus,
} from '../domain/vocabulary';
import type { PostOrigin } from '../platforms/types';
import { insertPostEvent, transitionInTx } from './post-transitions';
import { loadUnit } from './units';

/**
 * Posts: what an office submits. Every change bumps `version` with a conditional UPDATE, so of two
 * concurrent writers exactly one wins and the other gets 409 with the current version.
 */

/** What permission decisions about a post need, read before the use case runs. */
export interface PostFacts {
  id: string;
  unitId: string;
  unitPath: string;
  unitName: string;
  authorId: string;
  status: PostStatus;
  version: number;
  /** Submitted at least once. */
  submitted: boolean;
}

export const postResource = (facts: PostFacts): Resource => ({
  type: 'post',
  unitPath: facts.unitPath,
  authorId: facts.authorId,
  status: facts.status,
  submitted: facts.submitted,
});

/** A post the actor would write: a draft of their own unit. */
export const newPostResource = (actor: Actor): Resource => ({
  type: 'post',
  unitPath: actor.unitPath,
  authorId: actor.userId,
  status: 'draft',
  submitted: false,
});

export async function postFacts(db: DbOrTx, postId: string): Promise<PostFacts> {
  const [row] = await db
    .select({
      id: posts.id,
      unitId: posts.unitId,
      unitPath: units.path,
      unitName: units.name,
      authorId: posts.authorId,
      status: posts.status,
      version: posts.version,
      submittedAt: posts.submittedAt,
    })
    .from(posts)
    .innerJoin(units, eq(units.id, posts.unitId))
    .where(eq(posts.id, postId));
  if (!row) throw notFound('Post');
  const { submittedAt, ...facts } = row;
  return { ...facts, submitted: submittedAt !== null };
}

/** The post's facts, when the actor may do `action` on it; 404 or 403 otherwise. */
export async function authorizedPost(
  ctx: AppContext,
  actor: Actor,
  postId: string,
  action: Action,
): Promise<PostFacts> {
  const facts = await postFacts(ctx.db, postId);
  authorize(actor, action, postResource(facts), 'Post');
  return facts;
}

export interface PostMediaInput {
  id: string;
  altText?: string | null;
}

/** The editable content of a post; on PATCH, a field left out stays as it is. */
export interface PostContent {
  body?: string;
  variants?: Partial<Record<Platform, string>>;
  media?: PostMediaInput[];
  link?: string | null;
  sourceUrl?: string | null;
  tags?: string[];
  preferredFrom?: string | null;
  preferredTo?: string | null;
}

export interface PostMediaView extends MediaFacts {
  id: string;
  position: number;
  altText: string;
}

export interface PostDeliveryView {
  id: string;
  channelId: string;
  channelName: string;
  platform: Platform;
  mode: DeliveryMode;
  status: DeliveryStatus;
  dueAt: string;
  slotted: boolean;
  renderedText: string;
  attempts: number;
  remoteUrl: string | null;
  publishedAt: string | null;
  lastError: string | null;
  version: number;
}

export interface PostSummary {
  id: string;
  unit: { id: string; name: string };
  author: { id: string; name: string };
  status: PostStatus;
  version: number;
  body: string;
  tags: string[];
  sourceUrl: string | null;
  submittedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface PostView extends PostSummary {
  variants: Partial<Record<Platform, string>>;
  media: PostMediaView[];
  link: string | null;
  /** The original on the office's account, when a source brought the post in. */
  origin: PostOrigin | null;
  preferredFrom: string | null;
  preferredTo: string | null;
  decidedAt: string | null;
  /** Why it was withdrawn from the platforms after publication; null if it was not. */
  retractionReason: string | null;
  retractedAt: string | null;
  deliveries: PostDeliveryView[];
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** The columns of a post's summary (its unit and author joined), selected by lists and by the full view. */
const summaryColumns = {
  id: posts.id,
  unitId: posts.unitId,
  unitName: units.name,
  authorId: posts.authorId,
  authorName: users.name,
  status: posts.status,
  version: posts.version,
  body: posts.body,
  tags: posts.tags,
  sourceUrl: posts.sourceUrl,
  submittedAt: posts.submittedAt,
  createdAt: posts.createdAt,
  updatedAt: posts.updatedAt,
};

type SummaryRow = Pick<
  typeof posts.$inferSelect,
  | 'id'
  | 'unitId'
  | 'authorId'
  | 'status'
  | 'version'
  | 'body'
  | 'tags'
  | 'sourceUrl'
  | 'submittedAt'
  | 'createdAt'
  | 'updatedAt'
> & { unitName: string; authorName: string };

const summaryOf = (row: SummaryRow): PostSummary => ({
  id: row.id,
  unit: { id: row.unitId, name: row.unitName },
  author: { id: row.authorId, name: row.authorName },
  status: row.status,
  version: row.version,
  body: row.body,
  tags: row.tags,
  sourceUrl: row.sourceUrl,
  submittedAt: iso(row.submittedAt),
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/** Tags are stored without '#', as the office typed them otherwise; duplicates (any case) collapse. */
export function normaliseTags(tags: readonly string[]): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const raw of tags) {
    const tag = raw.trim().replace(/^#+/, '');
    if (!tag || seen.has(tag.toLowerCase())) continue;
    seen.add(tag.toLowerCase());
    result.push(tag);
  }
  return result;
}

/** Ordered media of a post, with the alt text given for this post or else the medium's own. */
export async function postMediaList(db: DbOrTx, postId: string): Promise<PostMediaView[]> {
  const rows = await db
    .select({
      id: media.id,
      position: postMedia.position,
      postAlt: postMedia.altText,
      mediaAlt: media.altText,
      kind: media.kind,
      mime: media.mime,
      width: media.width,
      height: media.height,
      durationMs: media.durationMs,
      bytes: media.bytes,
    })
    .from(postMedia)
    .innerJoin(media, eq(media.id, postMedia.mediaId))
    .where(eq(postMedia.postId, postId))
    .orderBy(asc(postMedia.position));
  return rows.map(({ postAlt, mediaAlt, ...row }) => ({
    ...row,
    kind: row.kind,
    altText: postAlt ?? mediaAlt,
  }));
}

export async function postVariantMap(db: DbOrTx, postId: string): Promise<Partial<Record<Platform, string>>> {
  const rows = await db
    .select({ platform: postVariants.platform, body: postVariants.body })
    .from(postVariants)
    .where(eq(postVariants.postId, postId));
  return Object.fromEntries(rows.map((row) => [row.platform, row.body]));
}

export async function loadPostView(db: DbOrTx, postId: string): Promise<PostView> {
  const [row] = await db
    .select({
      ...summaryColumns,
      link: posts.link,
      origin: posts.origin,
      preferredFrom: posts.preferredFrom,
      preferredTo: posts.preferredTo,
      decidedAt: posts.decidedAt,
      retractionReason: posts.retractionReason,
      retractedAt: posts.retractedAt,
    })
    .from(posts)
    .innerJoin(units, eq(units.id, posts.unitId))
    .innerJoin(users, eq(users.id, posts.authorId))
    .where(eq(posts.id, postId));
  if (!row) throw notFound('Post');
  const [variants, mediaList, deliveryRows] = await Promise.all([
    postVariantMap(db, postId),
    postMediaList(db, postId),
    db
      .select({
        id: deliveries.id,
        channelId: deliveries.channelId,
        channelName: channels.name,
        platform: channels.platform,
        mode: deliveries.mode,
        status: deliveries.status,
        dueAt: deliveries.dueAt,
        slotted: deliveries.slotted,
        renderedText: deliveries.renderedText,
        attempts: deliveries.attempts,
        remoteUrl: deliveries.remoteUrl,
        publishedAt: deliveries.publishedAt,
        lastError: deliveries.lastError,
        version: deliveries.version,
      })
      .from(deliveries)
      .innerJoin(channels, eq(channels.id, deliveries.channelId))
      .where(eq(deliveries.postId, postId))
      .orderBy(asc(deliveries.dueAt), asc(deliveries.id)),
  ]);
  return {
    ...summaryOf(row),
    variants,
    media: mediaList,
    link: row.link,
    origin: row.origin,
    preferredFrom: iso(row.preferredFrom),
    preferredTo: iso(row.preferredTo),
    decidedAt: iso(row.decidedAt),
    retractionReason: row.retractionReason,
    retractedAt: iso(row.retractedAt),
    deliveries: deliveryRows.map((d) => ({
      ...d,
      platform: d.platform,
      mode: d.mode,
      status: d.status,
      dueAt: d.dueAt.toISOString(),
      slotted: d.slotted === 1,
      publishedAt: iso(d.publishedAt),
    })),
  };
}

/** The post as the actor may see it (`action`, by default reading), with the facts its pages decide buttons on. */
export async function readPost(
  ctx: AppContext,
  actor: Actor,
  postId: string,
  action: Action = 'post.read',
): Promise<{ facts: PostFacts; post: PostView }> {
  const facts = await authorizedPost(ctx, actor, postId, action);
  return { facts, post: await loadPostView(ctx.db, facts.id) };
}

/** Media must be the post unit's own; anything else reads as "not found", so other units' ids leak nothing. */
async function checkMedia(tx: Tx, unitId: string, list: readonly PostMediaInput[]): Promise<void> {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  list.forEach((item, index) => {
    if (seen.has(item.id))
      errors.push({ field: `media.${index}.id`, message: 'listed twice', code: 'duplicate' });
    seen.add(item.id);
  });
  if (list.length > 0) {
    const found = await tx
      .select({ id: media.id })
      .from(media)
      .where(
        and(
          inArray(
            media.id,
            list.map((item) => item.id),
          ),
          eq(media.unitId, unitId),
        ),
      );
    const ids = new Set(found.map((row) => row.id));
    list.forEach((item, index) => {
      if (!ids.has(item.id))
        errors.push({ field: `media.${index}.id`, message: 'no such media in this unit', code: 'not_found' });
    });
  }
  if (errors.length > 0) throw invalid(errors);
}

function checkWindow(from: Date | null | undefined, to: Date | null | undefined): void {
  if (from && to && from > to)
    throw invalid([{ field: 'preferredTo', message: 'must not be before preferredFrom', code: 'too_small' }]);
}

const toDate = (value: string | null | undefined) =>
  value === undefined ? undefined : value === null ? null : new Date(value);

/** Writes the child rows of the content that was given (each list replaces the stored one). */
/** Writes a post's variants and media rows; a `fresh` post has none yet to replace. */
async function writeContentRows(
  tx: Tx,
  postId: string,
  unitId: string,
  content: PostContent,
  fresh = false,
): Promise<void> {
  if (content.variants !== undefined) {
    if (!fresh) await tx.delete(postVariants).where(eq(postVariants.postId, postId));
    const rows = Object.entries(content.variants)
      .filter((entry): entry is [Platform, string] => typeof entry[1] === 'string' && entry[1].trim() !== '')
      .map(([platform, body]) => ({ postId, platform, body }));
    if (rows.length > 0) await tx.insert(postVariants).values(rows);
  }
  if (content.media !== undefined) {
    await checkMedia(tx, unitId, content.media);
    if (!fresh) await tx.delete(postMedia).where(eq(postMedia.postId, postId));
    if (content.media.length > 0)
      await tx.insert(postMedia).values(
        content.media.map((item, position) => ({
          postId,
          mediaId: item.id,
          position,
          altText: item.altText ?? null,
        })),
      );
  }
}

/** The columns of `posts` a content change sets. */
function contentColumns(content: PostContent) {
  return {
    ...(content.body !== undefined ? { body: content.body } : {}),
    ...(content.link !== undefined ? { link: content.link } : {}),
    ...(content.sourceUrl !== undefined
      ? {
          sourceUrl: content.sourceUrl,
          sourcePlatform: content.sourceUrl ? platformOfUrl(content.sourceUrl) : null,
        }
      : {}),
    ...(content.tags !== undefined ? { tags: normaliseTags(content.tags) } : {}),
    ...(content.preferredFrom !== undefined ? { preferredFrom: toDate(content.preferredFrom) } : {}),
    ...(content.preferredTo !== undefined ? { preferredTo: toDate(content.preferredTo) } : {}),
  };
}

/** Where a post came from when an office source brought it in; one post per source item. */
export interface IngestOrigin {
  sourceId: string;
  sourceItemKey: string;
  /** The original on the office's account, as the source read it. */
  origin: PostOrigin;
  /** Kept on the creation event (the item's address, media that could not be taken). */
  details: Record<string, unknown>;
  /**
   * Whether the source's platform can tell that an original exists: the read that brought the item
   * in just saw it, so its post starts checked.
   */
  checkable: boolean;
}

/**
 * Inserts a new draft of the actor's unit with its content rows and creation event, in the caller's
 * transaction. (A source's items come in through `insertSourceDrafts`.)
 */
export async function insertDraftInTx(
  tx: Tx,
  actor: Pick<Actor, 'userId' | 'unitId'>,
  content: PostContent,
  at: Date,
): Promise<string> {
  const [row] = await tx
    .insert(posts)
    .values({
      unitId: actor.unitId,
      authorId: actor.userId,
      ...contentColumns(content),
      // created_at stays the database's (microsecond) time: it orders lists and their cursors.
      updatedAt: at,
    })
    .returning({ id: posts.id });
  await writeContentRows(tx, row!.id, actor.unitId, content, true);
  await insertPostEvent(tx, {
    postId: row!.id,
    actorId: actor.userId,
    kind: 'edit',
    toStatus: 'draft',
    data: { version: 1, created: true },
    at,
  });
  return row!.id;
}

/** A source item to bring in as a draft: its text, address and media, and where it came from. */
export interface SourceDraft {
  body: string;
  sourceUrl: string | null;
  media: { id: string; altText: string | null }[];
  origin: IngestOrigin;
}

/**
 * `insertDraftInTx` for many items of one source at once, in one statement (so atomic without a
 * transaction of its own): the posts, their media rows and their creation events. An item already
 * brought in (by another poll) inserts nothing. The media are the unit's own, just taken through the
 * upload checks; each is linked once. Returns the posts made, in the order given (their `created_at`
 * follows it: lists are ordered by it).
 */
export async function insertSourceDrafts(
  db: DbOrTx,
  actor: Pick<Actor, 'userId' | 'unitId'>,
  tags: readonly string[],
  drafts: readonly SourceDraft[],
  at: Date,
): Promise<{ id: string; key: string }[]> {
  const keys = new Set<string>();
  // An item listed twice is brought in once, as its first listing.
  const once = drafts.filter(
    (draft) => !keys.has(draft.origin.sourceItemKey) && keys.add(draft.origin.sourceItemKey),
  );
  if (once.length === 0) return [];
  const input = once.map((draft, ord) => {
    const { sourcePlatform } = contentColumns({ sourceUrl: draft.sourceUrl });
    const seen = new Set<string>();
    return {
      ord,
      key: draft.origin.sourceItemKey,
      body: draft.body,
      source_url: draft.sourceUrl,
      // The origin knows its platform; its address may be one no URL rule recognises (YouTube).
      source_platform: isPlatform(draft.origin.origin.platform)
        ? draft.origin.origin.platform
        : sourcePlatform,
      origin: draft.origin.origin,
      checked: draft.origin.checkable,
      event: { version: 1, created: true, source: draft.origin.details },
      media: draft.media
        .filter((item) => !seen.has(item.id) && seen.add(item.id))
        .map((item, position) => ({ id: item.id, position, alt_text: item.altText ?? null })),
    };
  });
  const sourceIds = new Set(once.map((draft) => draft.origin.sourceId));
  if (sourceIds.size !== 1) throw new Error('insertSourceDrafts takes the items of one source');
  const [sourceId] = sourceIds;
  const when = sql`${at.toISOString()}::timestamptz`;
  const rows = await queryRows<{ id: string; key: string }>(
    db,
    sql`with input as (
        select * from jsonb_to_recordset(${JSON.stringify(input)}::jsonb) as i(ord int, key text, body text,
          source_url text, source_platform text, origin jsonb, checked boolean, event jsonb, media jsonb)
      ), made as (
        insert into posts (unit_id, author_id, body, source_url, source_platform, tags, source_id, source_item_key,
          origin, origin_checked_at, created_at, updated_at)
        select ${actor.unitId}::uuid, ${actor.userId}::uuid, body, source_url, source_platform,
          array(select tag from jsonb_array_elements_text(${JSON.stringify(normaliseTags(tags))}::jsonb)
            with ordinality as t(tag, n) order by n),
          ${sourceId}::uuid, key, origin, case when checked then ${when} end, clock_timestamp(), ${when}
        from input order by ord
        on conflict (source_id, source_item_key) do nothing
        returning id, source_item_key
      ), made_in_order as (
        select made.id, input.* from made join input on input.key = made.source_item_key
      ), linked as (
        insert into post_media (post_id, media_id, position, alt_text)
        select p.id, m.id, m.position, m.alt_text
        from made_in_order p cross join jsonb_to_recordset(p.media) as m(id uuid, position int, alt_text text)
        where exists (select 1 from media where media.id = m.id and media.unit_id = ${actor.unitId}::uuid)
      ), created as (
        insert into post_events (post_id, actor_id, kind, to_status, data, created_at)
        select id, ${actor.userId}::uuid, 'edit', 'draft', event, ${when} from made_in_order order by ord
      )
      select id, key from made_in_order order by ord`,
  );
  return rows;
}

/** A new draft in the actor's own unit. */
export async function createPost(ctx: AppContext, actor: Actor, content: PostContent): Promise<PostView> {
  authorize(actor, 'post.create', newPostResource(actor));
  const preferredFrom = toDate(content.preferredFrom);
  const preferredTo = toDate(content.preferredTo);
  checkWindow(preferredFrom, preferredTo);
  const id = await ctx.db.transaction((tx) => insertDraftInTx(tx, actor, content, ctx.now()));
  return loadPostView(ctx.db, id);
}

/** The version a write must match: the client's, which must still be the one the facts were read at. */
export function expectedVersion(facts: PostFacts, given: number | undefined): number {
  if (given !== undefined && given !== facts.version) throw staleVersion(facts.version);
  return facts.version;
}

export async function updatePost(
  ctx: AppContext,
  actor: Actor,
  postId: string,
  input: PostContent & { version: number },
): Promise<PostView> {
  const facts = await authorizedPost(ctx, actor, postId, 'post.update');
  const version = expectedVersion(facts, input.version);
  const { version: _, ...content } = input;
  const changed = Object.keys(content);
  if (changed.length === 0) throw invalid([{ field: 'body', message: 'nothing to change', code: 'empty' }]);
  await ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    const [current] = await tx
      .select({ preferredFrom: posts.preferredFrom, preferredTo: posts.preferredTo })
      .from(posts)
      .where(eq(posts.id, facts.id));
    const from = toDate(content.preferredFrom);
    const to = toDate(content.preferredTo);
    checkWindow(
      from === undefined ? current?.preferredFrom : from,
      to === undefined ? current?.preferredTo : to,
    );
    await transitionInTx(tx, actor, facts, 'edit', version, now, {
      kind: 'edit',
      columns: contentColumns(content),
      data: { fields: changed },
    });
    await writeContentRows(tx, facts.id, facts.unitId, content);
  });
  return loadPostView(ctx.db, facts.id);
}

export async function submitPost(
  ctx: AppContext,
  actor: Actor,
  postId: string,
  given: number | undefined,
): Promise<PostView> {
  const facts = await authorizedPost(ctx, actor, postId, 'post.submit');
  const version = expectedVersion(facts, given);
  await ctx.db.transaction(async (tx) => {
    const [content] = await tx
      .select({
        body: posts.body,
        mediaCount: sql<number>`(select count(*)::int from post_media where post_id = ${posts.id})`,
      })
      .from(posts)
      .where(eq(posts.id, facts.id));
    if (!content || (content.body.trim() === '' && Number(content.mediaCount) === 0))
      throw new AppError('empty_post', 422, 'Write something or attach media before submitting');
    const now = ctx.now();
    await transitionInTx(tx, actor, facts, 'submit', version, now, { columns: { submittedAt: now } });
  });
  return loadPostView(ctx.db, facts.id);
}

export async function withdrawPost(
  ctx: AppContext,
  actor: Actor,
  postId: string,
  given: number | undefined,
  reason: string | undefined,
): Promise<PostView> {
  const facts = await authorizedPost(ctx, actor, postId, 'post.withdraw');
  const version = expectedVersion(facts, given);
  await ctx.db.transaction(async (tx) => {
    await transitionInTx(tx, actor, facts, 'withdraw', version, ctx.now(), { comment: reason ?? null });
  });
  return loadPostView(ctx.db, facts.id);
}

export interface PostEventView {
  id: number;
  kind: PostEventKind;
  actor: { id: string; name: string } | null;
  fromStatus: PostStatus | null;
  toStatus: PostStatus | null;
  body: string | null;
  data: Record<string, unknown>;
  createdAt: string;
}

/** A post's timeline, oldest first: transitions, comments, edits and delivery outcomes. */
export async function listPostEvents(
  db: DbOrTx,
  postId: string,
  only: 'all' | 'comments' = 'all',
): Promise<PostEventView[]> {
  const commentsOnly = or(
    eq(postEvents.kind, 'comment'),
    and(eq(postEvents.kind, 'transition'), sql`${postEvents.body} is not null`),
  );
  const rows = await db
    .select({
      id: postEvents.id,
      kind: postEvents.kind,
      actorId: postEvents.actorId,
      actorName: users.name,
      fromStatus: postEvents.fromStatus,
      toStatus: postEvents.toStatus,
      body: postEvents.body,
      data: postEvents.data,
      createdAt: postEvents.createdAt,
    })
    .from(postEvents)
    .leftJoin(users, eq(users.id, postEvents.actorId))
    .where(and(eq(postEvents.postId, postId), only === 'comments' ? commentsOnly : undefined))
    .orderBy(asc(postEvents.id));
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    actor: row.actorId && row.actorName ? { id: row.actorId, name: row.actorName } : null,
    fromStatus: row.fromStatus,
    toStatus: row.toStatus,
    body: row.body,
    data: row.data,
    createdAt: row.createdAt.toISOString(),
  }));
}

/** A post's timeline (or only its comments), when the actor may read the post. */
export async function readPostEvents(
  ctx: AppContext,
  actor: Actor,
  postId: string,
  only: 'all' | 'comments' = 'all',
): Promise<PostEventView[]> {
  const facts = await authorizedPost(ctx, actor, postId, 'post.read');
  return listPostEvents(ctx.db, facts.id, only);
}

/** A comment in the post's thread; it does not change the post, so the version stays. */
export async function addComment(
  ctx: AppContext,
  actor: Actor,
  postId: string,
  body: string,
): Promise<PostEventView> {
  const facts = await authorizedPost(ctx, actor, postId, 'post.comment');
  const id = await ctx.db.transaction((tx) =>
    insertPostEvent(tx, {
      postId: facts.id,
      actorId: actor.userId,
      kind: 'comment',
      body,
      at: ctx.now(),
    }),
  );
  const events = await listPostEvents(ctx.db, facts.id, 'comments');
  return events.find((event) => event.id === id)!;
}

export interface PostListFilters {
  status?: PostStatus[];
  /** A unit and its subtree (the actor must see the unit). */
  unitId?: string;
  authorId?: string;
  q?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit: number;
}

interface Cursor {
  at: string;
  id: string;
}

export const encodeCursor = (cursor: Cursor) =>
  Buffer.from(JSON.stringify([cursor.at, cursor.id])).toString('base64url');

export function decodeCursor(value: string): Cursor {
  try {
    const [at, id] = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown[];
    if (
      typeof at === 'string' &&
      typeof id === 'string' &&
      !Number.isNaN(Date.parse(at)) &&
      /^[0-9a-f-]{36}$/i.test(id)
    )
      return { at, id };
  } catch {
    // fall through to the validation error
  }
  throw invalid([{ field: 'cursor', message: 'not a cursor this API returned', code: 'invalid_cursor' }]);
}

/** A timestamp at full (microsecond) precision, so a cursor never skips rows created in the same millisecond. */
export const exactTime = (column: SQL | AnyPgColumn) =>
  sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * The posts an actor may read, as SQL: the same rule as `decide(actor, 'post.read', …)` — the own
 * unit's posts, and for reviewers and admins the subtree's posts once submitted (ever: a withdrawn
 * draft that never was stays inside its office).
 */
export function visiblePosts(actor: Actor): SQL {
  const ownUnit = eq(posts.unitId, actor.unitId);
  if (!atLeast(actor, 'reviewer')) return ownUnit;
  return or(ownUnit, and(like(units.path, `${actor.unitPath}%`), isNotNull(posts.submittedAt)))!;
}

/** Newest first; the cursor is (created_at, id), so rows inserted meanwhile never shift a page. */
export async function listPosts(
  ctx: AppContext,
  actor: Actor,
  filters: PostListFilters,
): Promise<{ items: PostSummary[]; nextCursor: string | null }> {
  let unitPath: string | undefined;
  if (filters.unitId) {
    unitPath = (await loadUnit(ctx, filters.unitId)).path;
    authorize(actor, 'unit.read', { type: 'unit', unitPath }, 'Unit');
  }
  const cursor = filters.cursor ? decodeCursor(filters.cursor) : undefined;
  const rows = await ctx.db
    .select({ ...summaryColumns, exactCreatedAt: exactTime(posts.createdAt) })
    .from(posts)
    .innerJoin(units, eq(units.id, posts.unitId))
    .innerJoin(users, eq(users.id, posts.authorId))
    .where(
      and(
        visiblePosts(actor),
        filters.status?.length ? inArray(posts.status, filters.status) : undefined,
        unitPath ? like(units.path, `${unitPath}%`) : undefined,
        filters.authorId ? eq(posts.authorId, filters.authorId) : undefined,
        filters.q ? sql`${posts.search} @@ websearch_to_tsquery('simple', ${filters.q})` : undefined,
        filters.from ? sql`${posts.createdAt} >= ${filters.from}::timestamptz` : undefined,
        filters.to ? sql`${posts.createdAt} < ${filters.to}::timestamptz` : undefined,
        cursor
          ? sql`(${posts.createdAt}, ${posts.id}) < (${cursor.at}::timestamptz, ${cursor.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(desc(posts.createdAt), desc(posts.id))
    .limit(filters.limit + 1);
  const page = rows.slice(0, filters.limit);
  const last = page.at(-1);
  return {
    items: page.map(summaryOf),
    nextCursor:
      rows.length > filters.limit && last ? encodeCursor({ at: last.exactCreatedAt, id: last.id }) : null,
  };
}
