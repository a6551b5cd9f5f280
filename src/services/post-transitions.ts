import { and, eq, type SQL, sql } from 'drizzle-orm';
import { type DbOrTx, queryRows, type Tx } from '../db/client';
import { media, postEvents, postMedia, posts } from '../db/schema';
import { conflict, notFound, staleVersion } from '../domain/errors';
import { type PostEvent, transitionPost } from '../domain/post-machine';
import type { PostEventKind, PostStatus } from '../domain/vocabulary';
import { enterInboxes, leaveInboxes } from './review-levels';

/**
 * Every post status change is written here: the next status asked of the post state machine (a
 * refused step is a 409 that changes nothing), the row updated only at the version the caller read
 * (of two concurrent writers exactly one wins), and the timeline event, in the caller's transaction.
 * Writes that change no status bump the version through `bumpPost`, which cannot set one.
 */

/** Columns written with a version bump; the status is not among them. */
export type PostColumns = Omit<Partial<typeof posts.$inferInsert>, 'id' | 'status' | 'version' | 'updatedAt'>;

/** What a transition needs to know of the post, as read before it. */
export interface PostState {
  id: string;
  unitId: string;
  unitPath: string;
  status: PostStatus;
}

export async function insertPostEvent(
  tx: Tx,
  event: {
    postId: string;
    actorId: string | null;
    kind: PostEventKind;
    fromStatus?: PostStatus | null;
    toStatus?: PostStatus | null;
    body?: string | null;
    data?: Record<string, unknown>;
    at: Date;
  },
): Promise<number> {
  const [row] = await tx
    .insert(postEvents)
    .values({
      postId: event.postId,
      actorId: event.actorId,
      kind: event.kind,
      fromStatus: event.fromStatus ?? null,
      toStatus: event.toStatus ?? null,
      body: event.body ?? null,
      data: event.data ?? {},
      createdAt: event.at,
    })
    .returning({ id: postEvents.id });
  return row!.id;
}

async function currentVersion(db: DbOrTx, postId: string): Promise<number> {
  const [row] = await db.select({ version: posts.version }).from(posts).where(eq(posts.id, postId));
  if (!row) throw notFound('Post');
  return row.version;
}

async function writeAtVersion(
  tx: Tx,
  postId: string,
  version: number,
  columns: Partial<typeof posts.$inferInsert>,
  at: Date,
): Promise<number> {
  const [row] = await tx
    .update(posts)
    .set({ ...columns, version: sql`${posts.version} + 1`, updatedAt: at })
    .where(and(eq(posts.id, postId), eq(posts.version, version)))
    .returning({ version: posts.version });
  if (!row) throw staleVersion(await currentVersion(tx, postId));
  return row.version;
}

/**
 * Bumps the post's version (and sets `columns`) only if it is still at `version`: the one write
 * that makes concurrent edits and decisions safe. Throws 409 with the current version otherwise.
 */
export function bumpPost(
  tx: Tx,
  postId: string,
  version: number,
  columns: PostColumns,
  at: Date,
): Promise<number> {
  return writeAtVersion(tx, postId, version, columns, at);
}

/** Asks the state machine; a refused transition is a 409 that changes nothing. */
export function nextStatus(from: PostStatus, event: PostEvent): PostStatus {
  const result = transitionPost(from, event);
  if (!result.ok) throw conflict(result.code, result.message, { postStatus: from });
  return result.to;
}

/** Gives each medium of the post that uses the medium's own alt text that text, so later edits of the medium pass it by. */
async function freezeAltText(tx: Tx, postId: string): Promise<void> {
  await tx
    .update(postMedia)
    .set({ altText: sql`(select ${media.altText} from ${media} where ${media.id} = ${postMedia.mediaId})` })
    .where(and(eq(postMedia.postId, postId), sql`${postMedia.altText} is null`));
}

/**
 * Moves a post through the state machine in the caller's transaction: the conditional row update and
 * the event row together. A `transition` event names the machine's event; an `edit` event says what
 * changed (`data`). Returns the new version and the event's id.
 */
export async function transitionInTx(
  tx: Tx,
  actor: { userId: string },
  post: PostState,
  event: PostEvent,
  version: number,
  at: Date,
  options: {
    comment?: string | null;
    columns?: PostColumns;
    /** More facts for the timeline event (the review level a decision was taken at, the fields edited). */
    data?: Record<string, unknown>;
    kind?: 'transition' | 'edit';
    /** Who the timeline names; null when Gaung itself acted (the original was deleted at its source). */
    actorId?: string | null;
  } = {},
): Promise<{ version: number; eventId: number; to: PostStatus }> {
  const to = nextStatus(post.status, event);
  const newVersion = await writeAtVersion(tx, post.id, version, { ...options.columns, status: to }, at);
  // What was approved is what is published: the media's alt text is copied onto the post with the approval.
  if (to === 'approved') await freezeAltText(tx, post.id);
  // The inboxes follow the status: a submission enters them, a post sent back or withdrawn leaves them.
  if (event === 'submit') await enterInboxes(tx, post, at);
  else if (event === 'request_changes' || event === 'reject' || event === 'withdraw')
    await leaveInboxes(tx, post.id, at);
  const kind = options.kind ?? 'transition';
  const eventId = await insertPostEvent(tx, {
    postId: post.id,
    actorId: options.actorId === undefined ? actor.userId : options.actorId,
    kind,
    fromStatus: post.status,
    toStatus: to,
    body: options.comment ?? null,
    data:
      kind === 'transition'
        ? { ...options.data, event, version: newVersion }
        : { version: newVersion, ...options.data },
    at,
  });
  return { version: newVersion, eventId, to };
}

/**
 * approved → retracted, set-based, for the posts whose retraction is complete: a retraction asked for
 * and every delivery retracted or cancelled. Conditional, so safe from any process. `only` narrows
 * the posts (`p`). Returns the posts changed.
 */
export async function retractSettledPosts(db: DbOrTx, now: Date, only: SQL = sql``): Promise<string[]> {
  const to = nextStatus('approved', 'retract');
  const at = sql`${now.toISOString()}::timestamptz`;
  const rows = await queryRows<{ id: string }>(
    db,
    sql`with settled as (
        update posts p set status = ${to}, retracted_at = ${at}, version = p.version + 1, updated_at = ${at}
        where p.status = 'approved' and p.retraction_reason is not null ${only}
          and not exists (select 1 from deliveries d where d.post_id = p.id and d.status not in ('retracted', 'cancelled'))
        returning p.id, p.version, p.retraction_reason
      ), event as (
        insert into post_events (post_id, actor_id, kind, from_status, to_status, body, data, created_at)
        select id, null, 'transition', 'approved', ${to}, retraction_reason,
          jsonb_build_object('event', 'retract', 'version', version), ${at} from settled
      )
      select id from settled`,
  );
  return rows.map((row) => row.id);
}
