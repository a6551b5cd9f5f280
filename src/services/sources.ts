import path from 'node:path';
import { and, asc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import type { DbOrTx } from '../db/client';
import { posts, sources, units, users } from '../db/schema';
import { AppError, conflict, notFound } from '../domain/errors';
import type { Actor } from '../domain/permissions';
import type { SourceKind } from '../domain/vocabulary';
import {
  FeedError,
  type FeedItem,
  type FeedKind,
  fetchFeedMedia,
  readFeed,
  resolveFeed,
  shorten,
} from '../platforms/feeds';
import { enqueueSourcePolls } from '../queues/producers';
import { recordAudit } from './audit';
import { type ActingUser, reachOf } from './channels';
import { ALT_TEXT_MAX, commitUpload, stageUpload } from './media';
import { insertDraftInTx, normaliseTags, postFacts, transitionInTx } from './posts';

/**
 * Ingest: Gaung reads the offices' own accounts and brings each new item in as a post of the office,
 * with its text, pictures and videos, and the item's address as the source URL (so reviewers can
 * repost or quote the original). Items become drafts for the office to finish or, when the source says
 * so, go straight to the reviewers' inbox. Each item becomes at most one post, however often it is read.
 */

export type SourceRow = typeof sources.$inferSelect;

export interface SourceView {
  id: string;
  unitId: string;
  kind: SourceKind;
  url: string;
  title: string | null;
  autoSubmit: boolean;
  tags: string[];
  since: string;
  paused: boolean;
  nextPollAt: string | null;
  lastPolledAt: string | null;
  failures: number;
  lastError: string | null;
  itemsImported: number;
  createdBy: string;
  createdAt: string;
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function sourceView(row: SourceRow): SourceView {
  return {
    id: row.id,
    unitId: row.unitId,
    kind: row.kind,
    url: row.url,
    title: row.title,
    autoSubmit: row.autoSubmit,
    tags: row.tags,
    since: row.since.toISOString(),
    paused: row.pausedAt !== null,
    nextPollAt: row.pausedAt ? null : iso(row.nextPollAt),
    lastPolledAt: iso(row.lastPolledAt),
    failures: row.failures,
    lastError: row.lastError,
    itemsImported: row.itemsImported,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
  };
}

/** A source with its unit's path (for `authorize`), or 404. */
export async function loadSource(db: DbOrTx, id: string): Promise<{ source: SourceRow; unitPath: string }> {
  const [row] = await db
    .select({ source: sources, unitPath: units.path })
    .from(sources)
    .innerJoin(units, eq(units.id, sources.unitId))
    .where(eq(sources.id, id));
  if (!row) throw notFound('Source');
  return row;
}

/** The sources of the units whose posts the actor sees. */
export async function listSources(
  ctx: AppContext,
  actor: Actor,
  filters: { unitId?: string },
): Promise<SourceView[]> {
  const visible =
    actor.role === 'contributor'
      ? eq(units.path, actor.unitPath)
      : sql`${units.path} like ${`${actor.unitPath}%`}`;
  const rows = await ctx.db
    .select({ source: sources })
    .from(sources)
    .innerJoin(units, eq(units.id, sources.unitId))
    .where(and(visible, filters.unitId ? eq(sources.unitId, filters.unitId) : undefined))
    .orderBy(asc(units.name), asc(sources.createdAt));
  return rows.map((r) => sourceView(r.source));
}

export interface SourceInput {
  kind: FeedKind;
  url: string;
  autoSubmit?: boolean;
  tags?: string[];
  /** Bring in items published from this time on (default: the last day; the archive stays out). */
  since?: Date;
}

const unreadable = (error: FeedError) =>
  new AppError('source_unreadable', 422, error.message, {
    errors: [{ field: 'url', message: error.message, code: 'source_unreadable' }],
  });

/** Adds a source to the actor's own unit after reading it once, and queues its first poll. */
export async function createSource(
  ctx: AppContext,
  who: ActingUser,
  input: SourceInput,
): Promise<SourceView> {
  const { actor } = who;
  const [existing] = await ctx.db
    .select({ id: sources.id })
    .from(sources)
    .where(and(eq(sources.unitId, actor.unitId), eq(sources.url, input.url)));
  if (existing)
    throw conflict('source_exists', 'Your unit already reads this source', { sourceId: existing.id });
  const resolved = await resolveFeed(input.kind, input.url, { reach: reachOf(ctx.config) }).catch(
    (error: unknown) => {
      throw error instanceof FeedError ? unreadable(error) : error;
    },
  );
  const now = ctx.now();
  const row = await ctx.db.transaction(async (tx) => {
    const [created] = await tx
      .insert(sources)
      .values({
        unitId: actor.unitId,
        createdBy: actor.userId,
        kind: input.kind,
        url: input.url,
        accountId: resolved.accountId,
        title: resolved.title ? shorten(resolved.title, 200) : null,
        autoSubmit: input.autoSubmit ?? false,
        tags: normaliseTags(input.tags ?? []),
        since: input.since ?? new Date(now.getTime() - DEFAULT_LOOKBACK_MS),
        nextPollAt: now,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing({ target: [sources.unitId, sources.url] })
      .returning();
    if (!created) throw conflict('source_exists', 'Your unit already reads this source');
    await recordAudit(ctx, tx, {
      actorId: actor.userId,
      unitId: actor.unitId,
      action: 'source.created',
      targetType: 'source',
      targetId: created.id,
      ip: who.ip,
      details: { kind: input.kind, url: input.url, autoSubmit: created.autoSubmit },
    });
    return created;
  });
  await enqueueSourcePolls(ctx, [{ sourceId: row.id, dueAt: row.nextPollAt }]);
  return sourceView(row);
}

export interface SourcePatch {
  autoSubmit?: boolean;
  tags?: string[];
  paused?: boolean;
}

export async function updateSource(
  ctx: AppContext,
  who: ActingUser,
  source: SourceRow,
  patch: SourcePatch,
): Promise<SourceView> {
  const now = ctx.now();
  const row = await ctx.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(sources)
      .set({
        ...(patch.autoSubmit !== undefined ? { autoSubmit: patch.autoSubmit } : {}),
        ...(patch.tags !== undefined ? { tags: normaliseTags(patch.tags) } : {}),
        // Resuming polls at once and forgets earlier failures; pausing keeps the schedule out of the sweep.
        ...(patch.paused === true && !source.pausedAt ? { pausedAt: now } : {}),
        ...(patch.paused === false && source.pausedAt
          ? { pausedAt: null, nextPollAt: now, failures: 0 }
          : {}),
        updatedAt: now,
      })
      .where(eq(sources.id, source.id))
      .returning();
    if (!updated) throw notFound('Source');
    await recordAudit(ctx, tx, {
      actorId: who.actor.userId,
      unitId: source.unitId,
      action: 'source.updated',
      targetType: 'source',
      targetId: source.id,
      ip: who.ip,
      details: { ...patch },
    });
    return updated;
  });
  if (!row.pausedAt) await enqueueSourcePolls(ctx, [{ sourceId: row.id, dueAt: row.nextPollAt }]);
  return sourceView(row);
}

/** Stops reading the source. The posts it brought in stay, without the link to it. */
export async function deleteSource(ctx: AppContext, who: ActingUser, source: SourceRow): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    await tx.delete(sources).where(eq(sources.id, source.id));
    await recordAudit(ctx, tx, {
      actorId: who.actor.userId,
      unitId: source.unitId,
      action: 'source.deleted',
      targetType: 'source',
      targetId: source.id,
      ip: who.ip,
      details: { kind: source.kind, url: source.url },
    });
  });
}

/** Makes the source due now and queues its poll (a paused source is resumed only by unpausing it). */
export async function pollSourceSoon(ctx: AppContext, source: SourceRow): Promise<SourceView> {
  if (source.pausedAt) throw conflict('source_paused', 'This source is paused; resume it first');
  const now = ctx.now();
  // A poll running now keeps its lease; this one follows when it ends.
  const [row] = await ctx.db
    .update(sources)
    .set({ nextPollAt: now, updatedAt: now })
    .where(eq(sources.id, source.id))
    .returning();
  if (!row) throw notFound('Source');
  await enqueueSourcePolls(ctx, [{ sourceId: row.id, dueAt: row.nextPollAt }]);
  return sourceView(row);
}

// ---------------------------------------------------------------------------------------------
// Polling

/** A new source brings in what the office published in the last day: the post it just made is usually why it adds the source. */
const DEFAULT_LOOKBACK_MS = 24 * 60 * 60_000;
/** A poll holds its source this long; a worker that dies mid-poll leaves it due again afterwards. */
const LEASE_MS = 5 * 60_000;
/** A failing source waits at most this long between polls. */
const MAX_BACKOFF_MS = 6 * 60 * 60_000;
/** Items taken per poll; the rest follow on the next one. */
const ITEMS_PER_POLL = 20;
const BODY_MAX = 10_000;

const notPolling = (now: Date) => or(isNull(sources.pollingUntil), lte(sources.pollingUntil, now));

/** Queues a poll for each source that is due; the job id makes a repeated offer a no-op. */
export async function enqueueDueSources(ctx: AppContext): Promise<number> {
  const due = await ctx.db
    .select({ id: sources.id, nextPollAt: sources.nextPollAt })
    .from(sources)
    .where(and(isNull(sources.pausedAt), lte(sources.nextPollAt, ctx.now()), notPolling(ctx.now())))
    .orderBy(asc(sources.nextPollAt))
    .limit(1_000);
  await enqueueSourcePolls(
    ctx,
    due.map((row) => ({ sourceId: row.id, dueAt: row.nextPollAt })),
  );
  return due.length;
}

export interface PollResult {
  outcome: 'polled' | 'not_due' | 'failed';
  imported: number;
  message?: string;
}

/**
 * Reads a due source and brings in its new items, oldest first. The source is claimed with a conditional
 * UPDATE, so two workers never read it at once. A failure is kept on the source (shown to the office)
 * and the next poll waits twice as long each time; an item whose media cannot be taken still becomes
 * a post, with the skipped media named on its creation event.
 */
export async function pollSource(ctx: AppContext, sourceId: string): Promise<PollResult> {
  const now = ctx.now();
  const [source] = await ctx.db
    .update(sources)
    .set({ pollingUntil: new Date(now.getTime() + LEASE_MS) })
    .where(
      and(eq(sources.id, sourceId), isNull(sources.pausedAt), lte(sources.nextPollAt, now), notPolling(now)),
    )
    .returning();
  if (!source) return { outcome: 'not_due', imported: 0 };

  const [author] = await ctx.db
    .select({ id: users.id, unitId: users.unitId, disabledAt: users.disabledAt })
    .from(users)
    .where(eq(users.id, source.createdBy));
  if (!author || author.disabledAt || author.unitId !== source.unitId)
    return recordPoll(ctx, source, 0, {
      message: 'The person who added this source no longer works in this unit; add the source again.',
    });

  let imported = 0;
  try {
    const snapshot = await readFeed(
      { kind: source.kind as FeedKind, url: source.url, accountId: source.accountId },
      { reach: reachOf(ctx.config) },
    );
    const fresh = snapshot.items
      .filter((item) => !item.publishedAt || item.publishedAt >= source.since)
      .sort((a, b) => (a.publishedAt?.getTime() ?? 0) - (b.publishedAt?.getTime() ?? 0));
    const known = new Set(
      fresh.length === 0
        ? []
        : (
            await ctx.db
              .select({ key: posts.sourceItemKey })
              .from(posts)
              .where(
                and(
                  eq(posts.sourceId, source.id),
                  inArray(
                    posts.sourceItemKey,
                    fresh.map((item) => item.key),
                  ),
                ),
              )
          ).map((row) => row.key),
    );
    const actor = { userId: author.id, unitId: source.unitId };
    for (const item of fresh.filter((item) => !known.has(item.key)).slice(0, ITEMS_PER_POLL))
      if (await importItem(ctx, source, actor, item)) imported += 1;
    return await recordPoll(ctx, source, imported, null, snapshot.title);
  } catch (error) {
    if (!(error instanceof FeedError)) throw error;
    return recordPoll(ctx, source, imported, error);
  }
}

/**
 * Keeps the outcome of a poll on the source and schedules the next one: after the usual interval, or
 * after a failure twice as long as the last wait (up to 6 h), and never before a time the site asked for.
 */
async function recordPoll(
  ctx: AppContext,
  source: SourceRow,
  imported: number,
  failure: { message: string; retryAt?: Date | null } | null,
  title: string | null = null,
): Promise<PollResult> {
  const done = ctx.now();
  const failures = failure ? source.failures + 1 : 0;
  const interval = ctx.config.GAUNG_SOURCE_POLL_SECONDS * 1000;
  const asked = failure?.retryAt ? Math.min(failure.retryAt.getTime() - done.getTime(), 86_400_000) : 0;
  const wait = failure ? Math.max(Math.min(interval * 2 ** failures, MAX_BACKOFF_MS), asked) : interval;
  await ctx.db
    .update(sources)
    .set({
      title: source.title ?? (title ? shorten(title, 200) : null),
      lastPolledAt: done,
      nextPollAt: new Date(done.getTime() + wait),
      pollingUntil: null,
      failures,
      lastError: failure?.message ?? null,
      itemsImported: sql`${sources.itemsImported} + ${imported}`,
      updatedAt: done,
    })
    .where(eq(sources.id, source.id));
  const outcome = failure ? 'failed' : 'polled';
  ctx.metrics.sourcePolls.inc({ kind: source.kind, outcome });
  ctx.metrics.sourceItemsImported.inc({ kind: source.kind }, imported);
  if (failure)
    ctx.log.warn({ sourceId: source.id, failures, message: failure.message }, 'source poll failed');
  else if (imported > 0) ctx.log.info({ sourceId: source.id, imported }, 'source items brought in');
  return failure ? { outcome, imported, message: failure.message } : { outcome, imported };
}

/** The last segment of a media address, as the medium's original name. */
function fileNameOf(url: string): string {
  try {
    return decodeURIComponent(path.posix.basename(new URL(url).pathname)).slice(0, 200);
  } catch {
    return '';
  }
}

/**
 * Takes an item's media through the same checks as an upload (type from the bytes, size, pixels),
 * then inserts its post. Returns false when another poll brought the item in first.
 */
async function importItem(
  ctx: AppContext,
  source: SourceRow,
  actor: { userId: string; unitId: string },
  item: FeedItem,
): Promise<boolean> {
  const reach = reachOf(ctx.config);
  const mediaIds: { id: string; altText: string | null }[] = [];
  const skipped: { url: string; reason: string }[] = [];
  for (const medium of item.media) {
    try {
      const maxBytes =
        medium.kind === 'image'
          ? ctx.config.GAUNG_MEDIA_MAX_IMAGE_BYTES
          : ctx.config.GAUNG_MEDIA_MAX_VIDEO_BYTES;
      const stream = await fetchFeedMedia(medium.url, { reach, maxBytes: maxBytes + 1 });
      const staged = await stageUpload(ctx, {
        stream,
        fileName: fileNameOf(medium.url),
        contentType: undefined,
      });
      const altText = medium.altText.slice(0, ALT_TEXT_MAX);
      const { media } = await commitUpload(ctx, actor, staged, altText);
      mediaIds.push({ id: media.id, altText: altText || null });
    } catch (error) {
      // One medium that cannot be taken (refused, too large, the connection lost) does not hold the item back.
      const reason = error instanceof FeedError || error instanceof AppError ? error.message : String(error);
      skipped.push({ url: medium.url, reason });
      if (!(error instanceof FeedError || error instanceof AppError))
        ctx.log.warn(
          { err: error, sourceId: source.id, url: medium.url },
          'a source medium could not be taken',
        );
    }
  }
  const body = shorten(item.text, BODY_MAX);
  if (!body.trim() && mediaIds.length === 0) return false;
  const postId = await ctx.db.transaction(async (tx) => {
    const at = ctx.now();
    const id = await insertDraftInTx(
      tx,
      actor,
      {
        body,
        sourceUrl: item.url && item.url.length <= 2048 ? item.url : null,
        tags: source.tags,
        media: mediaIds,
      },
      at,
      {
        sourceId: source.id,
        sourceItemKey: item.key,
        details: {
          id: source.id,
          kind: source.kind,
          item: item.url,
          ...(skipped.length ? { mediaSkipped: skipped } : {}),
        },
      },
    );
    if (id && source.autoSubmit) {
      const facts = await postFacts(tx, id);
      const submitter = { ...actor, role: 'contributor' as const, unitPath: facts.unitPath };
      await transitionInTx(tx, submitter, facts, 'submit', facts.version, at, {
        columns: { submittedAt: at },
      });
    }
    return id;
  });
  return postId !== null;
}
