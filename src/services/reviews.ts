import { and, asc, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import { PLATFORM_LIMITS, YOUTUBE_UNVERIFIED_MAX_SECONDS } from '../../config/platform-limits';
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
  type PlatformRulesInput,
  type RenderInput,
  renderText,
  type TextCount,
  type ValidationIssue,
  validateForPlatform,
} from '../domain/rendering';
import { levelAbove } from '../domain/review-levels';
import { decideTiktokChoice, type TiktokChoice, tiktokFacts } from '../domain/tiktok';
import type { DeliveryMode, LevelArrival, LevelDecision, Platform, PostStatus } from '../domain/vocabulary';
import { exhaustedQuotas } from '../infra/rate-limiter';
import { enqueueDueDeliveries, enqueueNotify } from '../queues/producers';
import { type ChannelRow, quotaOverridesOf } from './channels';
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
import { type LevelUnit, loadLevelUnit, recordLevelAction, requireApprovedLevel } from './review-levels';
import { replanChannel } from './slot-planning';

/**
 * Review: the inbox of submitted posts, decisions (request changes, reject, approve), preview of
 * what each channel would publish, and the deliveries an approval fans out to.
 */

// ---------------------------------------------------------------------------------------------
// Inbox

export interface InboxFilters {
  /** The level whose inbox this is: the reviewer's own unit. */
  levelId: string;
  /** Only posts of offices in this subtree (already authorised). */
  scopePath?: string;
  q?: string;
  /** Only posts whose original is on this platform (from the source URL). */
  platform?: Platform;
  /** Only posts the level below forwarded. */
  forwarded?: boolean;
  cursor?: string;
  limit: number;
}

/** What one level did with a post, as the inbox lists it for the levels above and beside. */
export interface LevelDecisionView {
  unit: { id: string; name: string };
  decision: LevelDecision | null;
  /** Its own channels the level approved the post for. */
  channels: string[];
  note: string | null;
  forwarded: boolean;
  forwardNote: string | null;
}

export interface InboxItem {
  id: string;
  unit: { id: string; name: string };
  author: { id: string; name: string };
  status: PostStatus;
  version: number;
  body: string;
  tags: string[];
  sourceUrl: string | null;
  sourcePlatform: Platform | null;
  /** The first photo or video of the post (its thumbnail), if any. */
  thumbnailMediaId: string | null;
  arrival: LevelArrival;
  submittedAt: string;
  /** When the post reached this level's inbox; the waiting time counts from here. */
  arrivedAt: string;
  ageSeconds: number;
  /** The post waited past this level's limit (working time) and its reviewers were told. */
  overdue: boolean;
  decisions: LevelDecisionView[];
}

export interface InboxUnitCount {
  unit: { id: string; name: string };
  count: number;
  oldestArrivedAt: string;
  oldestAgeSeconds: number;
}

export interface Inbox {
  items: InboxItem[];
  units: InboxUnitCount[];
  total: number;
  nextCursor: string | null;
}

/** The posts waiting at a level, with the optional filters, as one condition on `l` (post_levels) and `p`. */
function waitingAt(filters: Omit<InboxFilters, 'cursor' | 'limit'>, needsPost: boolean): SQL {
  return sql.join(
    [
      sql`l.unit_id = ${filters.levelId}::uuid and l.decision is null and l.closed_at is null`,
      filters.scopePath
        ? sql`l.origin_unit_id in (select id from units where path like ${`${filters.scopePath}%`})`
        : sql`true`,
      filters.forwarded ? sql`l.arrival = 'forwarded'` : sql`true`,
      needsPost && filters.q ? sql`p.search @@ websearch_to_tsquery('simple', ${filters.q})` : sql`true`,
      needsPost && filters.platform ? sql`p.source_platform = ${filters.platform}` : sql`true`,
    ],
    sql` and `,
  );
}

/**
 * The page query of a level's inbox, oldest arrival first; exported so its plan can be checked.
 * Without words it walks the partial index post_levels_inbox_idx (unit_id, arrived_at, post_id) of
 * the waiting rows, so its cost grows with the page, never with the backlog.
 */
export function inboxPageSql(filters: InboxFilters): SQL {
  const cursor = filters.cursor ? decodeCursor(filters.cursor) : undefined;
  const after = cursor
    ? sql`and (l.arrived_at, l.post_id) > (${cursor.at}::timestamptz, ${cursor.id}::uuid)`
    : sql``;
  return sql`select p.id, p.unit_id, u.name as unit_name, p.author_id, a.name as author_name, p.status, p.version,
                    p.body, p.tags, p.source_url, p.source_platform, p.submitted_at, l.arrival, l.arrived_at,
                    (l.alarmed_at is not null) as overdue,
                    (select pm.media_id from post_media pm where pm.post_id = p.id order by pm.position limit 1)
                      as thumbnail_media_id,
                    to_char(l.arrived_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as exact_arrived_at
             from post_levels l
             join posts p on p.id = l.post_id
             join units u on u.id = p.unit_id
             join users a on a.id = p.author_id
             where ${waitingAt(filters, true)} ${after}
             order by l.arrived_at, l.post_id
             limit ${filters.limit + 1}`;
}

/**
 * Waiting posts per office, with the oldest arrival of each. Without words, platform or the
 * forwarded filter the counts come from inbox_tallies (kept exact by a trigger on post_levels) and
 * each office's oldest arrival is the first entry of post_levels_inbox_origin_idx, so the cost grows
 * with the number of offices, never with the backlog; with them, the waiting rows are counted.
 */
export function inboxCountsSql(
  filters: Omit<InboxFilters, 'cursor' | 'limit'>,
  options: { countRows?: boolean } = {},
): SQL {
  const needsPost = Boolean(filters.q || filters.platform);
  if (!needsPost && !filters.forwarded && !options.countRows)
    return sql`select t.origin_unit_id as unit_id, s.name as unit_name, t.waiting as count,
                 (select l.arrived_at from post_levels l
                  where l.unit_id = t.unit_id and l.origin_unit_id = t.origin_unit_id
                    and l.decision is null and l.closed_at is null
                  order by l.arrived_at limit 1) as oldest
               from inbox_tallies t join units s on s.id = t.origin_unit_id
               where t.unit_id = ${filters.levelId}::uuid and t.waiting > 0
                 ${filters.scopePath ? sql`and s.path like ${`${filters.scopePath}%`}` : sql``}`;
  return sql`select c.origin_unit_id as unit_id, s.name as unit_name, c.count, c.oldest
             from (
               select l.origin_unit_id, count(*)::int as count, min(l.arrived_at) as oldest
               from post_levels l ${needsPost ? sql`join posts p on p.id = l.post_id` : sql``}
               where ${waitingAt(filters, needsPost)}
               group by l.origin_unit_id
             ) c join units s on s.id = c.origin_unit_id`;
}

/** What every level did with these posts so far (the levels that have done something). */
export function levelDecisionsSql(postIds: readonly string[]): SQL {
  return sql`select l.post_id, l.unit_id, s.name as unit_name, l.decision, l.note, l.forwarded_at, l.forward_note,
               coalesce((select array_agg(c.name order by c.name) from deliveries d join channels c on c.id = d.channel_id
                         where d.post_id = l.post_id and c.unit_id = l.unit_id), '{}') as channels
             from post_levels l join units s on s.id = l.unit_id
             where l.post_id in (${sql.join(
               postIds.map((id) => sql`${id}::uuid`),
               sql`, `,
             )}) and (l.decision is not null or l.forwarded_at is not null)
             order by l.post_id, length(s.path) desc`;
}

interface InboxRow extends Record<string, unknown> {
  id: string;
  unit_id: string;
  unit_name: string;
  author_id: string;
  author_name: string;
  status: PostStatus;
  version: number;
  body: string;
  tags: string[];
  source_url: string | null;
  source_platform: Platform | null;
  submitted_at: Date | string;
  arrival: LevelArrival;
  arrived_at: Date | string;
  overdue: boolean;
  thumbnail_media_id: string | null;
  exact_arrived_at: string;
}

interface InboxCountRow extends Record<string, unknown> {
  unit_id: string;
  unit_name: string;
  count: number;
  oldest: Date | string;
}

interface LevelDecisionRow extends Record<string, unknown> {
  post_id: string;
  unit_id: string;
  unit_name: string;
  decision: LevelDecision | null;
  note: string | null;
  forwarded_at: Date | string | null;
  forward_note: string | null;
  channels: string[];
}

/** Raw queries answer timestamps as the driver gives them: text through drizzle, a Date elsewhere. */
const asDate = (value: Date | string) => (value instanceof Date ? value : new Date(value));

/** What the levels did with each of these posts, by post id. */
export async function levelDecisions(db: DbOrTx, postIds: readonly string[]) {
  const byPost = new Map<string, LevelDecisionView[]>();
  if (postIds.length === 0) return byPost;
  for (const row of await queryRows<LevelDecisionRow>(db, levelDecisionsSql(postIds))) {
    const list = byPost.get(row.post_id) ?? [];
    list.push({
      unit: { id: row.unit_id, name: row.unit_name },
      decision: row.decision,
      channels: row.channels,
      note: row.note,
      forwarded: row.forwarded_at !== null,
      forwardNote: row.forward_note,
    });
    byPost.set(row.post_id, list);
  }
  return byPost;
}

export async function reviewInbox(ctx: AppContext, filters: InboxFilters): Promise<Inbox> {
  const now = ctx.now().getTime();
  const age = (at: Date) => Math.max(0, Math.floor((now - at.getTime()) / 1000));
  const [rows, counts] = await Promise.all([
    queryRows<InboxRow>(ctx.db, inboxPageSql(filters)),
    queryRows<InboxCountRow>(ctx.db, inboxCountsSql(filters)),
  ]);
  const page = rows.slice(0, filters.limit);
  const last = page.at(-1);
  const decisions = await levelDecisions(
    ctx.db,
    page.map((row) => row.id),
  );
  return {
    items: page.map((row) => {
      const arrivedAt = asDate(row.arrived_at);
      return {
        id: row.id,
        unit: { id: row.unit_id, name: row.unit_name },
        author: { id: row.author_id, name: row.author_name },
        status: row.status,
        version: Number(row.version),
        body: row.body,
        tags: row.tags,
        sourceUrl: row.source_url,
        sourcePlatform: row.source_platform,
        thumbnailMediaId: row.thumbnail_media_id,
        arrival: row.arrival,
        submittedAt: asDate(row.submitted_at).toISOString(),
        arrivedAt: arrivedAt.toISOString(),
        ageSeconds: age(arrivedAt),
        overdue: Boolean(row.overdue),
        decisions: decisions.get(row.id) ?? [],
      };
    }),
    units: counts
      .map((c) => {
        const oldest = asDate(c.oldest);
        return {
          unit: { id: c.unit_id, name: c.unit_name },
          count: Number(c.count),
          oldestArrivedAt: oldest.toISOString(),
          oldestAgeSeconds: age(oldest),
        };
      })
      .sort((a, b) => a.oldestArrivedAt.localeCompare(b.oldestArrivedAt)),
    total: counts.reduce((sum, c) => sum + Number(c.count), 0),
    nextCursor:
      rows.length > filters.limit && last ? encodeCursor({ at: last.exact_arrived_at, id: last.id }) : null,
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

/** The actor's level: the unit they review at, as the timeline names it. */
async function actorLevel(tx: Tx, actor: Actor): Promise<LevelUnit> {
  return loadLevelUnit(tx, actor.unitId);
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
    const level = await actorLevel(tx, actor);
    const result = await transitionInTx(tx, actor, facts, event, version, now, {
      comment,
      columns: { decidedAt: now, decidedBy: actor.userId },
      data: { level: { id: level.id, name: level.name } },
    });
    // Post-wide decisions send the post back; once a level has fanned it out they would strand its deliveries.
    const [delivery] = await tx
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(eq(deliveries.postId, facts.id))
      .limit(1);
    if (delivery)
      throw conflict(
        'has_deliveries',
        'A level has already approved this post; cancel its deliveries instead',
      );
    return recordNotifications(ctx, tx, {
      postId: facts.id,
      unitId: facts.unitId,
      postEventId: result.eventId,
      kind: event === 'reject' ? 'post.rejected' : 'post.changes_requested',
      data: { comment, reviewer: actor.userId, level: level.name },
      at: now,
    });
  });
  await afterCommit(ctx, [], jobs);
  return loadPostView(ctx.db, facts.id);
}

/**
 * Pass (not for this level's channels) or forward (to the level above): the level's row and the
 * post's timeline event in one transaction conditional on the version.
 */
async function levelStep(
  ctx: AppContext,
  actor: Actor,
  facts: PostFacts,
  action: 'pass' | 'forward',
  version: number,
  note: string | null,
): Promise<PostView> {
  expectedVersion(facts, version);
  nextStatus(facts.status, action);
  await ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    const level = await actorLevel(tx, actor);
    const above = action === 'forward' ? levelAbove(level.path) : null;
    const to = above ? await loadLevelUnit(tx, above) : null;
    await transitionInTx(tx, actor, facts, action, version, now, {
      comment: note,
      data: {
        level: { id: level.id, name: level.name },
        ...(to ? { to: { id: to.id, name: to.name } } : {}),
      },
    });
    await recordLevelAction(tx, facts, level, action, { userId: actor.userId, note, at: now });
  });
  return loadPostView(ctx.db, facts.id);
}

export const passPost = (
  ctx: AppContext,
  actor: Actor,
  facts: PostFacts,
  version: number,
  note: string | null,
) => levelStep(ctx, actor, facts, 'pass', version, note);

export const forwardPost = (
  ctx: AppContext,
  actor: Actor,
  facts: PostFacts,
  version: number,
  note: string | null,
) => levelStep(ctx, actor, facts, 'forward', version, note);

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

/**
 * A channel's own rules: a Mastodon instance's character limit and URL length; a YouTube channel's
 * longest upload (15 minutes until it is verified) and its made-for-kids answer; a TikTok
 * creator's longest video and whether Gaung's TikTok app is unaudited.
 */
function channelRules(
  platform: Platform,
  settings: Record<string, unknown>,
): NonNullable<PlatformRulesInput['settings']> {
  const pick = (key: string) => (typeof settings[key] === 'number' ? (settings[key] as number) : undefined);
  const maxCharacters = pick('maxCharacters');
  const urlLength = pick('charactersReservedPerUrl');
  return {
    ...(maxCharacters !== undefined ? { maxCharacters } : {}),
    ...(urlLength !== undefined ? { urlLength } : {}),
    ...(platform === 'youtube'
      ? {
          ...(settings.longUploads === true ? {} : { maxVideoSeconds: YOUTUBE_UNVERIFIED_MAX_SECONDS }),
          ...(typeof settings.madeForKids === 'boolean' ? { madeForKids: settings.madeForKids } : {}),
        }
      : {}),
    // TikTok: the creator's longest video as last read from TikTok, and whether the app is unaudited.
    ...(platform === 'tiktok'
      ? {
          ...(pick('maxVideoSeconds') !== undefined ? { maxVideoSeconds: pick('maxVideoSeconds') } : {}),
          ...(settings.unaudited === true ? { unaudited: true } : {}),
        }
      : {}),
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
    settings: channelRules(platform, channel.settings),
    tags: content.tags,
  });
  // A repost publishes the original as it is: our media never goes out.
  if (mode !== 'repost' && content.mediaIds.length > 0)
    issues.push(...(await mediaIssuesForPlatform(ctx, content.mediaIds, platform)));
  for (const quota of await exhaustedQuotas(
    ctx,
    { platform, channelId: channel.id },
    quotaOverridesOf(ctx.config),
  ))
    issues.push({
      code: 'quota_exhausted',
      severity: 'warning',
      message: `${PLATFORM_LIMITS[platform].label}'s ${quota.quota ?? 'publish'} quota for today is used up; the post waits until ${quota.resetAt!.toISOString()} (midnight in ${ctx.config.GAUNG_YOUTUBE_QUOTA_TIME_ZONE}).`,
    });
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
  /** TikTok channels: who may see the post and which interactions it allows. */
  tiktok?: TiktokChoice;
}

interface PlannedTarget {
  channel: ChannelRow;
  mode: DeliveryMode;
  textOverride: string | null;
  /** What the delivery records of the reviewer's platform choices (TikTok). */
  platformOptions: Record<string, unknown> | null;
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
    let platformOptions: Record<string, unknown> | null = null;
    if (entry.channel.platform === 'tiktok') {
      const decided = decideTiktokChoice(tiktokFacts(entry.channel.settings), target.tiktok);
      report.issues.push(...decided.issues);
      platformOptions = { ...decided.recorded };
    } else if (target.tiktok)
      report.issues.push({
        code: 'tiktok_options_wrong_platform',
        severity: 'error',
        field: 'tiktok',
        message: 'TikTok choices apply to TikTok channels only',
      });
    reports.push(report);
    planned.push({
      channel: entry.channel,
      mode: target.mode,
      textOverride: target.text ?? null,
      platformOptions,
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

/**
 * Writes one delivery per planned target. Channels asking for their next free slot are locked
 * (in id order, so two approvals never deadlock) while their provisional deliveries and this one
 * are given the free slots fairly (`replanChannel`), so no two approvals take the same slot.
 * Returns the new deliveries and the provisional ones that moved.
 */
async function createDeliveries(
  ctx: AppContext,
  tx: Tx,
  actor: Actor,
  facts: PostFacts,
  content: PostContentSnapshot,
  planned: readonly PlannedTarget[],
  now: Date,
): Promise<{ ids: string[]; moved: string[] }> {
  const slotted = planned.filter((p) => p.dueAt === null).map((p) => p.channel.id);
  const dueAt = new Map<string, Date>();
  const moved: string[] = [];
  if (slotted.length > 0) {
    const locked = await tx
      .select({ id: channels.id })
      .from(channels)
      .where(inArray(channels.id, slotted))
      .orderBy(asc(channels.id))
      .for('update');
    const notBefore =
      content.preferredFrom && content.preferredFrom.getTime() > now.getTime() ? content.preferredFrom : null;
    for (const channel of locked) {
      const plan = await replanChannel(ctx, tx, channel.id, now, [
        { key: facts.id, unitId: facts.unitId, notBefore },
      ]);
      dueAt.set(channel.id, plan.fresh.get(facts.id)!);
      moved.push(...plan.moved);
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
        platformOptions: p.platformOptions,
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
  return { ids: rows.map((row) => row.id), moved };
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
  const { ids, moved, jobs } = await ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    const level = await actorLevel(tx, actor);
    const result = await transitionInTx(tx, actor, facts, 'approve', input.version, now, {
      comment: input.comment ?? null,
      columns: { decidedAt: now, decidedBy: actor.userId },
      data: { level: { id: level.id, name: level.name } },
    });
    await recordLevelAction(tx, facts, level, 'approve', {
      userId: actor.userId,
      note: input.comment ?? null,
      at: now,
    });
    const { ids, moved } = await createDeliveries(ctx, tx, actor, facts, content, planned, now);
    const jobs = await recordNotifications(ctx, tx, {
      postId: facts.id,
      unitId: facts.unitId,
      postEventId: result.eventId,
      kind: 'post.approved',
      data: {
        comment: input.comment ?? null,
        reviewer: actor.userId,
        level: level.name,
        deliveries: ids.length,
      },
      at: now,
    });
    return { ids, moved, jobs };
  });
  await afterCommit(ctx, [...ids, ...moved], jobs);
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
  const { ids, moved } = await ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    await bumpPost(tx, facts.id, input.version, {}, now);
    await requireApprovedLevel(tx, facts.id, actor.unitId);
    return createDeliveries(ctx, tx, actor, facts, content, planned, now);
  });
  await afterCommit(ctx, [...ids, ...moved], []);
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
