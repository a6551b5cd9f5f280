import { and, asc, eq, gte, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import { type DbOrTx, queryRows, type Tx } from '../db/client';
import {
  channels,
  deliveries,
  deliveryEvents,
  media,
  postingSlots,
  postMedia,
  posts,
  units,
} from '../db/schema';
import { AppError, conflict, notFound, staleVersion } from '../domain/errors';
import { type Actor, type Decision, decide } from '../domain/permissions';
import {
  type MediaFacts,
  type RenderInput,
  renderText,
  type TextCount,
  type ValidationIssue,
  validateForPlatform,
} from '../domain/rendering';
import { nextFreeSlot } from '../domain/slots';
import type { DeliveryMode, Platform } from '../domain/vocabulary';
import { enqueueDueDeliveries, enqueueNotify } from '../queues/producers';
import type { ChannelRow } from './channels';
import { mediaIssuesForPlatform } from './media';
import { recordNotifications } from './notifications';
import {
  bumpPost,
  decodeCursor,
  encodeCursor,
  expectedVersion,
  insertPostEvent,
  loadPostView,
  nextStatus,
  type PostFacts,
  type PostView,
  postVariantMap,
  transitionInTx,
} from './posts';

/**
 * Review: the inbox of submitted posts, decisions (request changes, reject, approve), preview of
 * what each channel would publish, and the deliveries an approval fans out to.
 */

// ---------------------------------------------------------------------------------------------
// Inbox

export interface InboxFilters {
  /** The subtree to look at (already authorised). */
  scopePath: string;
  q?: string;
  /** Only posts whose original is on this platform (from the source URL). */
  platform?: Platform;
  cursor?: string;
  limit: number;
}

export interface InboxItem {
  id: string;
  unit: { id: string; name: string };
  author: { id: string; name: string };
  version: number;
  body: string;
  tags: string[];
  sourceUrl: string | null;
  submittedAt: string;
  ageSeconds: number;
}

export interface InboxUnitCount {
  unit: { id: string; name: string };
  count: number;
  oldestSubmittedAt: string;
  oldestAgeSeconds: number;
}

export interface Inbox {
  items: InboxItem[];
  units: InboxUnitCount[];
  total: number;
  nextCursor: string | null;
}

/** The optional filters of the inbox, as one condition. */
const narrowing = (filters: Pick<InboxFilters, 'q' | 'platform'>) =>
  sql.join(
    [
      filters.q ? sql`p.search @@ websearch_to_tsquery('simple', ${filters.q})` : sql`true`,
      filters.platform ? sql`p.source_platform = ${filters.platform}` : sql`true`,
    ],
    sql` and `,
  );

/**
 * The page query of the inbox, oldest submission first; exported so its plan can be checked.
 * Without words it takes the first page of each unit of the scope from the partial index
 * posts_inbox_idx (unit_id, submitted_at, id) WHERE status = 'submitted' and merges them, so its
 * cost grows with the number of units, never with the backlog. With words, the GIN index on
 * `search` narrows first.
 */
export function inboxPageSql(filters: InboxFilters): SQL {
  const cursor = filters.cursor ? decodeCursor(filters.cursor) : undefined;
  const after = cursor
    ? sql`and (p.submitted_at, p.id) > (${cursor.at}::timestamptz, ${cursor.id}::uuid)`
    : sql``;
  const take = filters.limit + 1;
  const top =
    filters.q || filters.platform
      ? sql`select p.id, p.submitted_at from posts p join units s on s.id = p.unit_id
          where p.status = 'submitted' and s.path like ${`${filters.scopePath}%`} and ${narrowing(filters)} ${after}
          order by p.submitted_at, p.id limit ${take}`
      : sql`select w.id, w.submitted_at from units s
          cross join lateral (
            select p.id, p.submitted_at from posts p
            where p.unit_id = s.id and p.status = 'submitted' ${after}
            order by p.submitted_at, p.id limit ${take}
          ) w
          where s.path like ${`${filters.scopePath}%`}
          order by w.submitted_at, w.id limit ${take}`;
  return sql`select p.id, p.unit_id, u.name as unit_name, p.author_id, a.name as author_name, p.version, p.body,
                    p.tags, p.source_url, p.submitted_at,
                    to_char(p.submitted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as exact_submitted_at
             from (${top}) top
             join posts p on p.id = top.id
             join units u on u.id = p.unit_id
             join users a on a.id = p.author_id
             order by p.submitted_at, p.id`;
}

/** Waiting posts per unit of the scope, with the oldest submission of each; from the same index. */
export function inboxCountsSql(filters: Pick<InboxFilters, 'scopePath' | 'q' | 'platform'>): SQL {
  if (filters.q || filters.platform)
    return sql`select s.id as unit_id, s.name as unit_name, count(*)::int as count, min(p.submitted_at) as oldest
               from posts p join units s on s.id = p.unit_id
               where p.status = 'submitted' and s.path like ${`${filters.scopePath}%`} and ${narrowing(filters)}
               group by s.id, s.name`;
  return sql`select s.id as unit_id, s.name as unit_name, c.count, c.oldest
             from units s
             cross join lateral (
               select count(*)::int as count, min(p.submitted_at) as oldest
               from posts p where p.unit_id = s.id and p.status = 'submitted'
             ) c
             where s.path like ${`${filters.scopePath}%`} and c.count > 0`;
}

interface InboxRow extends Record<string, unknown> {
  id: string;
  unit_id: string;
  unit_name: string;
  author_id: string;
  author_name: string;
  version: number;
  body: string;
  tags: string[];
  source_url: string | null;
  submitted_at: Date | string;
  exact_submitted_at: string;
}

interface InboxCountRow extends Record<string, unknown> {
  unit_id: string;
  unit_name: string;
  count: number;
  oldest: Date | string;
}

/** Raw queries answer timestamps as the driver gives them: text through drizzle, a Date elsewhere. */
const asDate = (value: Date | string) => (value instanceof Date ? value : new Date(value));

export async function reviewInbox(ctx: AppContext, filters: InboxFilters): Promise<Inbox> {
  const now = ctx.now().getTime();
  const age = (at: Date) => Math.max(0, Math.floor((now - at.getTime()) / 1000));
  const [rows, counts] = await Promise.all([
    queryRows<InboxRow>(ctx.db, inboxPageSql(filters)),
    queryRows<InboxCountRow>(ctx.db, inboxCountsSql(filters)),
  ]);
  const page = rows.slice(0, filters.limit);
  const last = page.at(-1);
  return {
    items: page.map((row) => {
      const submittedAt = asDate(row.submitted_at);
      return {
        id: row.id,
        unit: { id: row.unit_id, name: row.unit_name },
        author: { id: row.author_id, name: row.author_name },
        version: Number(row.version),
        body: row.body,
        tags: row.tags,
        sourceUrl: row.source_url,
        submittedAt: submittedAt.toISOString(),
        ageSeconds: age(submittedAt),
      };
    }),
    units: counts
      .map((c) => {
        const oldest = asDate(c.oldest);
        return {
          unit: { id: c.unit_id, name: c.unit_name },
          count: Number(c.count),
          oldestSubmittedAt: oldest.toISOString(),
          oldestAgeSeconds: age(oldest),
        };
      })
      .sort((a, b) => a.oldestSubmittedAt.localeCompare(b.oldestSubmittedAt)),
    total: counts.reduce((sum, c) => sum + Number(c.count), 0),
    nextCursor:
      rows.length > filters.limit && last ? encodeCursor({ at: last.exact_submitted_at, id: last.id }) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Decisions without deliveries

/** After the commit: queue what the transaction recorded. Redis being away must not undo a decision. */
async function afterCommit(ctx: AppContext, deliveryIds: string[], outbox: number[]): Promise<void> {
  await enqueueDueDeliveries(ctx, deliveryIds).catch((error: unknown) =>
    ctx.log.warn({ err: error, deliveryIds }, 'could not enqueue deliveries; the sweeper will'),
  );
  await enqueueNotify(ctx, outbox).catch((error: unknown) =>
    ctx.log.warn({ err: error }, 'could not enqueue notifications; the sweeper will'),
  );
}

async function recordDecision(
  ctx: AppContext,
  actor: Actor,
  facts: PostFacts,
  event: 'request_changes' | 'reject',
  version: number,
  comment: string,
): Promise<PostView> {
  expectedVersion(facts, version);
  const jobs = await ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    const result = await transitionInTx(tx, actor, facts, event, version, now, {
      comment,
      columns: { decidedAt: now, decidedBy: actor.userId },
    });
    return recordNotifications(ctx, tx, {
      postId: facts.id,
      unitId: facts.unitId,
      postEventId: result.eventId,
      kind: event === 'reject' ? 'post.rejected' : 'post.changes_requested',
      data: { comment, reviewer: actor.userId },
      at: now,
    });
  });
  await afterCommit(ctx, [], jobs);
  return loadPostView(ctx.db, facts.id);
}

export const requestChanges = (
  ctx: AppContext,
  actor: Actor,
  facts: PostFacts,
  version: number,
  comment: string,
) => recordDecision(ctx, actor, facts, 'request_changes', version, comment);

export const rejectPost = (
  ctx: AppContext,
  actor: Actor,
  facts: PostFacts,
  version: number,
  reason: string,
) => recordDecision(ctx, actor, facts, 'reject', version, reason);

// ---------------------------------------------------------------------------------------------
// Targets: rendering and validation per channel

export interface TargetChannel {
  channel: ChannelRow;
  unitPath: string;
}

/** Live channels by id, with their unit's path; archived and unknown ones are simply absent. */
export async function loadTargetChannels(
  db: DbOrTx,
  ids: readonly string[],
): Promise<Map<string, TargetChannel>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ channel: channels, unitPath: units.path })
    .from(channels)
    .innerJoin(units, eq(units.id, channels.unitId))
    .where(and(inArray(channels.id, [...ids]), isNull(channels.archivedAt)));
  return new Map(rows.map((row) => [row.channel.id, row]));
}

/** What the post is made of, at one version: the input of rendering and validation. */
/** What a post says, as rendering needs it (a saved post's, or a draft's in the editor). */
export interface PostContentSnapshot {
  version: number;
  unitName: string;
  body: string;
  link: string | null;
  sourceUrl: string | null;
  tags: string[];
  preferredFrom: Date | null;
  variants: Partial<Record<Platform, string>>;
  mediaIds: string[];
  media: MediaFacts[];
}

async function contentSnapshot(db: DbOrTx, facts: PostFacts): Promise<PostContentSnapshot> {
  const [row] = await db
    .select({
      version: posts.version,
      body: posts.body,
      link: posts.link,
      sourceUrl: posts.sourceUrl,
      tags: posts.tags,
      preferredFrom: posts.preferredFrom,
    })
    .from(posts)
    .where(eq(posts.id, facts.id));
  if (!row) throw notFound('Post');
  const [variants, mediaRows] = await Promise.all([
    postVariantMap(db, facts.id),
    db
      .select({
        id: media.id,
        kind: media.kind,
        mime: media.mime,
        bytes: media.bytes,
        width: media.width,
        height: media.height,
        durationMs: media.durationMs,
      })
      .from(postMedia)
      .innerJoin(media, eq(media.id, postMedia.mediaId))
      .where(eq(postMedia.postId, facts.id))
      .orderBy(asc(postMedia.position)),
  ]);
  return {
    ...row,
    unitName: facts.unitName,
    variants,
    mediaIds: mediaRows.map((m) => m.id),
    media: mediaRows.map(({ id: _, ...m }) => ({ ...m, kind: m.kind as MediaFacts['kind'] })),
  };
}

/** The numeric text settings of a channel (Mastodon instances set their own limit). */
/** A channel's own text limits (a Mastodon instance's character limit and URL length). */
function textSettings(settings: Record<string, unknown>): { maxCharacters?: number; urlLength?: number } {
  const pick = (key: string) => (typeof settings[key] === 'number' ? (settings[key] as number) : undefined);
  const maxCharacters = pick('maxCharacters');
  const urlLength = pick('charactersReservedPerUrl');
  return {
    ...(maxCharacters !== undefined ? { maxCharacters } : {}),
    ...(urlLength !== undefined ? { urlLength } : {}),
  };
}

export interface TargetReport {
  channelId: string;
  channelName: string | null;
  platform: Platform | null;
  mode: DeliveryMode;
  text: string;
  count: TextCount | null;
  issues: ValidationIssue[];
}

const blocking = (issues: readonly ValidationIssue[]) => issues.some((issue) => issue.severity === 'error');

/** The text a channel would publish and everything it would object to (errors block approval). */
export async function renderTarget(
  ctx: AppContext,
  content: PostContentSnapshot,
  target: {
    channel: Pick<ChannelRow, 'id' | 'name' | 'platform' | 'creditTemplate' | 'settings' | 'status'>;
  },
  mode: DeliveryMode,
  textOverride: string | null,
): Promise<TargetReport> {
  const { channel } = target;
  const platform = channel.platform;
  const input: RenderInput = {
    body: content.body,
    variant: content.variants[platform] ?? null,
    textOverride,
    creditTemplate: channel.creditTemplate,
    unitName: content.unitName,
    sourceUrl: content.sourceUrl,
    link: content.link,
    tags: content.tags,
  };
  const text = renderText(input);
  const { count, issues } = validateForPlatform({
    platform,
    text,
    media: content.media,
    mode,
    sourceUrl: content.sourceUrl,
    link: content.link,
    settings: textSettings(channel.settings),
  });
  // A repost publishes the original as it is: our media never goes out.
  if (mode !== 'repost' && content.mediaIds.length > 0)
    issues.push(...(await mediaIssuesForPlatform(ctx, content.mediaIds, platform)));
  if (channel.status !== 'active')
    issues.push({
      code: `channel_${channel.status}`,
      severity: 'warning',
      message:
        channel.status === 'paused'
          ? 'This channel is paused; the post waits until it is resumed.'
          : 'This channel must be reconnected; the post waits until it is.',
    });
  return { channelId: channel.id, channelName: channel.name, platform, mode, text, count, issues };
}

/** For preview: every channel must be readable by the actor (checked by the caller). */
export async function previewTargets(
  ctx: AppContext,
  facts: PostFacts,
  targets: readonly TargetChannel[],
  mode: DeliveryMode,
): Promise<TargetReport[]> {
  const content = await contentSnapshot(ctx.db, facts);
  return Promise.all(targets.map((target) => renderTarget(ctx, content, target, mode, null)));
}

// ---------------------------------------------------------------------------------------------
// Approval and targets

export interface TargetInput {
  channelId: string;
  mode: DeliveryMode;
  /** 'now', 'next-slot', or an ISO time. */
  at: string;
  text?: string | null;
}

interface PlannedTarget {
  channel: ChannelRow;
  mode: DeliveryMode;
  textOverride: string | null;
  renderedText: string;
  /** A fixed time, or null for the channel's next free slot. */
  dueAt: Date | null;
}

/** A few seconds of clock skew between a browser and the server still count as "now". */
const PAST_TOLERANCE_MS = 60_000;

/**
 * Checks every target before anything is written: the channel exists and may be targeted, the text
 * and media pass the platform's rules, the time is usable. Any error refuses the whole request (422)
 * with the issues per channel.
 */
async function planTargets(
  ctx: AppContext,
  facts: PostFacts,
  version: number,
  targets: readonly TargetInput[],
  actor: Actor,
  existing: ReadonlySet<string>,
): Promise<{ planned: PlannedTarget[]; content: PostContentSnapshot }> {
  const content = await contentSnapshot(ctx.db, facts);
  // The content must be the one the reviewer decided on; the version check in the write keeps it so.
  if (content.version !== version) throw staleVersion(content.version);
  const found = await loadTargetChannels(
    ctx.db,
    targets.map((t) => t.channelId),
  );
  const slotted = targets.filter((t) => t.at === 'next-slot').map((t) => t.channelId);
  const withSlots = new Set(
    slotted.length === 0
      ? []
      : (
          await ctx.db
            .selectDistinct({ channelId: postingSlots.channelId })
            .from(postingSlots)
            .where(inArray(postingSlots.channelId, slotted))
        ).map((row) => row.channelId),
  );
  const now = ctx.now().getTime();
  const reports: TargetReport[] = [];
  const planned: PlannedTarget[] = [];
  for (const target of targets) {
    const entry = found.get(target.channelId);
    const decision: Decision = entry
      ? decide(actor, 'channel.target', { type: 'channel', unitPath: entry.unitPath })
      : 'not_found';
    if (!entry || decision !== 'allow') {
      reports.push({
        channelId: target.channelId,
        channelName: decision === 'not_found' ? null : (entry?.channel.name ?? null),
        platform: decision === 'not_found' ? null : (entry?.channel.platform ?? null),
        mode: target.mode,
        text: '',
        count: null,
        issues: [
          decision === 'not_found'
            ? { code: 'channel_not_found', severity: 'error', field: 'channelId', message: 'No such channel' }
            : {
                code: 'channel_not_targetable',
                severity: 'error',
                field: 'channelId',
                message:
                  'You may not publish to this channel; reviewers publish to their own unit’s channels',
              },
        ],
      });
      continue;
    }
    const report = await renderTarget(ctx, content, entry, target.mode, target.text ?? null);
    if (existing.has(target.channelId))
      report.issues.push({
        code: 'delivery_exists',
        severity: 'error',
        field: 'channelId',
        message: 'This post already has a delivery on this channel',
      });
    let dueAt: Date | null = null;
    if (target.at === 'now') dueAt = new Date(now);
    else if (target.at === 'next-slot') {
      if (!withSlots.has(target.channelId))
        report.issues.push({
          code: 'no_slots',
          severity: 'error',
          field: 'at',
          message: 'This channel has no posting slots; choose a time instead',
        });
    } else {
      const at = Date.parse(target.at);
      if (at < now - PAST_TOLERANCE_MS)
        report.issues.push({
          code: 'at_in_past',
          severity: 'error',
          field: 'at',
          message: 'This time has passed',
        });
      dueAt = new Date(Math.max(at, now));
    }
    reports.push(report);
    planned.push({
      channel: entry.channel,
      mode: target.mode,
      textOverride: target.text ?? null,
      renderedText: report.text,
      dueAt,
    });
  }
  if (reports.some((report) => blocking(report.issues)))
    throw new AppError('invalid_targets', 422, 'Some targets cannot be published as they are', {
      extra: { targets: reports },
    });
  return { planned, content };
}

/** How far back taken deliveries matter to slot choice: a day covers daily caps and spacing. */
const TAKEN_LOOKBACK_MS = 24 * 60 * 60 * 1000;

/**
 * Writes one delivery per planned target. Channels asking for their next free slot are locked
 * (in id order, so two approvals never deadlock) while the slot is chosen, so no two approvals take
 * the same slot.
 */
async function createDeliveries(
  tx: Tx,
  actor: Actor,
  facts: PostFacts,
  content: PostContentSnapshot,
  planned: readonly PlannedTarget[],
  now: Date,
): Promise<string[]> {
  const slotted = planned.filter((p) => p.dueAt === null).map((p) => p.channel.id);
  const dueAt = new Map<string, Date>();
  if (slotted.length > 0) {
    const locked = await tx
      .select()
      .from(channels)
      .where(inArray(channels.id, slotted))
      .orderBy(asc(channels.id))
      .for('update');
    const after =
      content.preferredFrom && content.preferredFrom.getTime() > now.getTime() ? content.preferredFrom : now;
    for (const channel of locked) {
      const [crons, taken] = await Promise.all([
        tx
          .select({ cron: postingSlots.cron })
          .from(postingSlots)
          .where(eq(postingSlots.channelId, channel.id)),
        // Taken as the calendar counts it: what is scheduled, under way or out, at its publish time.
        tx
          .select({
            at: sql<Date>`coalesce(${deliveries.publishedAt}, ${deliveries.dueAt})`.mapWith(deliveries.dueAt),
          })
          .from(deliveries)
          .where(
            and(
              eq(deliveries.channelId, channel.id),
              inArray(deliveries.status, ['scheduled', 'publishing', 'unknown', 'published']),
              gte(deliveries.dueAt, new Date(now.getTime() - TAKEN_LOOKBACK_MS)),
            ),
          ),
      ]);
      const slot = nextFreeSlot(
        {
          timeZone: channel.timeZone,
          crons: crons.map((c) => c.cron),
          dailyCap: channel.dailyCap,
          minSpacingMinutes: channel.minSpacingMinutes,
        },
        taken.map((t) => t.at),
        after,
      );
      if (!slot)
        throw new AppError('invalid_targets', 422, 'Some targets cannot be published as they are', {
          extra: {
            targets: [
              {
                channelId: channel.id,
                issues: [
                  {
                    code: 'no_free_slot',
                    severity: 'error',
                    field: 'at',
                    message: 'No free slot is left on this channel',
                  },
                ],
              },
            ],
          },
        });
      dueAt.set(channel.id, slot);
    }
  }
  const rows = await tx
    .insert(deliveries)
    .values(
      planned.map((p) => ({
        postId: facts.id,
        channelId: p.channel.id,
        mode: p.mode,
        status: 'scheduled' as const,
        dueAt: p.dueAt ?? dueAt.get(p.channel.id)!,
        slotted: p.dueAt === null ? 1 : 0,
        textOverride: p.textOverride,
        renderedText: p.renderedText,
        createdBy: actor.userId,
        createdAt: now,
        updatedAt: now,
      })),
    )
    .onConflictDoNothing({ target: [deliveries.postId, deliveries.channelId] })
    .returning({ id: deliveries.id, channelId: deliveries.channelId, dueAt: deliveries.dueAt });
  if (rows.length !== planned.length)
    throw conflict('delivery_exists', 'This post already has a delivery on one of these channels');
  await tx.insert(deliveryEvents).values(
    rows.map((row) => ({
      deliveryId: row.id,
      actorId: actor.userId,
      fromStatus: null,
      toStatus: 'scheduled' as const,
      reason: 'approved',
      createdAt: now,
    })),
  );
  for (const row of rows) {
    const plan = planned.find((p) => p.channel.id === row.channelId)!;
    await insertPostEvent(tx, {
      postId: facts.id,
      actorId: actor.userId,
      kind: 'delivery',
      data: {
        change: 'scheduled',
        deliveryId: row.id,
        channelId: row.channelId,
        channelName: plan.channel.name,
        platform: plan.channel.platform,
        mode: plan.mode,
        dueAt: row.dueAt.toISOString(),
      },
      at: now,
    });
  }
  return rows.map((row) => row.id);
}

export interface ApprovalInput {
  version: number;
  targets: TargetInput[];
  comment?: string;
}

/**
 * Approves a submitted post and fans it out: the post's transition, one delivery per target and the
 * office's notifications, all in one transaction conditional on the version — of two reviewers
 * approving at once, exactly one wins and the other gets 409.
 */
export async function approvePost(
  ctx: AppContext,
  actor: Actor,
  facts: PostFacts,
  input: ApprovalInput,
): Promise<PostView> {
  expectedVersion(facts, input.version);
  nextStatus(facts.status, 'approve');
  const { planned, content } = await planTargets(ctx, facts, input.version, input.targets, actor, new Set());
  const { ids, jobs } = await ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    const result = await transitionInTx(tx, actor, facts, 'approve', input.version, now, {
      comment: input.comment ?? null,
      columns: { decidedAt: now, decidedBy: actor.userId },
    });
    const ids = await createDeliveries(tx, actor, facts, content, planned, now);
    const jobs = await recordNotifications(ctx, tx, {
      postId: facts.id,
      unitId: facts.unitId,
      postEventId: result.eventId,
      kind: 'post.approved',
      data: { comment: input.comment ?? null, reviewer: actor.userId, deliveries: ids.length },
      at: now,
    });
    return { ids, jobs };
  });
  await afterCommit(ctx, ids, jobs);
  return loadPostView(ctx.db, facts.id);
}

/** More channels for an approved post; the same checks as approval, and the version is bumped. */
export async function addTargets(
  ctx: AppContext,
  actor: Actor,
  facts: PostFacts,
  input: { version: number; targets: TargetInput[] },
): Promise<PostView> {
  expectedVersion(facts, input.version);
  if (facts.status !== 'approved')
    throw conflict('invalid_transition', 'Only an approved post can get more channels; approve it first', {
      postStatus: facts.status,
    });
  const existing = await ctx.db
    .select({ channelId: deliveries.channelId })
    .from(deliveries)
    .where(eq(deliveries.postId, facts.id));
  const { planned, content } = await planTargets(
    ctx,
    facts,
    input.version,
    input.targets,
    actor,
    new Set(existing.map((e) => e.channelId)),
  );
  const ids = await ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    await bumpPost(tx, facts.id, input.version, {}, now);
    return createDeliveries(tx, actor, facts, content, planned, now);
  });
  await afterCommit(ctx, ids, []);
  return loadPostView(ctx.db, facts.id);
}

/** The delivery of a post on a channel (for cancelling one target), or 404. */
export async function deliveryIdFor(db: DbOrTx, postId: string, channelId: string): Promise<string> {
  const [row] = await db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(and(eq(deliveries.postId, postId), eq(deliveries.channelId, channelId)));
  if (!row) throw notFound('Delivery');
  return row.id;
}
