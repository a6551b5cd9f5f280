import { type SQL, sql } from 'drizzle-orm';
import type { AppContext } from '../../context';
import { type DbOrTx, queryRows } from '../../db/client';
import { type Actor, authorize, contains } from '../../domain/permissions';
import type { LevelArrival, LevelDecision, Platform, PostStatus } from '../../domain/vocabulary';
import { decodeCursor, encodeCursor } from '../posts';
import { listVisibleUnits, loadUnit, type UnitRow } from '../units';

/** The review inbox: the posts waiting at a level, with what the levels below and beside did with them. */

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

/**
 * Whether a source's auto-approval rule holds the post `postId` names: the rule will approve it when
 * its stop window ends, unless a reviewer stops it. Such a post waits in the inbox's rule lane
 * (`pendingRuleApprovals`, which lists the same approvals), not among the posts for a person to decide.
 */
export function heldByRule(postId: SQL): SQL {
  return sql`exists (select 1 from rule_approvals ra join source_rules sr on sr.id = ra.rule_id
                     where ra.post_id = ${postId} and ra.stopped_at is null and ra.applied_at is null
                       and sr.paused_at is null)`;
}

/** The posts waiting at a level, with the optional filters, as one condition on `l` (post_levels) and `p`. */
function waitingAt(filters: Omit<InboxFilters, 'cursor' | 'limit'>, needsPost: boolean): SQL {
  return sql.join(
    [
      sql`l.unit_id = ${filters.levelId}::uuid and l.decision is null and l.closed_at is null`,
      sql`not ${heldByRule(sql`l.post_id`)}`,
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
 * What every level did with the post `postId` names so far (the levels that have done something),
 * the lowest level first, as one JSON array: the page query folds it in for each of its rows.
 */
function levelDecisionsOf(postId: SQL): SQL {
  return sql`coalesce((
      select json_agg(json_build_object(
               'unitId', d.unit_id, 'unitName', s.name, 'decision', d.decision, 'note', d.note,
               'forwarded', d.forwarded_at is not null, 'forwardNote', d.forward_note,
               'channels', coalesce((select array_agg(c.name order by c.name)
                                     from deliveries x join channels c on c.id = x.channel_id
                                     where x.post_id = d.post_id and c.unit_id = d.unit_id), '{}'))
             order by length(s.path) desc, d.unit_id)
      from post_levels d join units s on s.id = d.unit_id
      where d.post_id = ${postId} and (d.decision is not null or d.forwarded_at is not null)), '[]')`;
}

/**
 * The page query of a level's inbox, oldest arrival first; exported so its plan can be checked.
 * Without words it walks the partial index post_levels_inbox_idx (unit_id, arrived_at, post_id) of
 * the waiting rows, so its cost grows with the page, never with the backlog. The thumbnail and the
 * levels' decisions are looked up for the page's rows only (by primary key), in the same query.
 */
export function inboxPageSql(filters: InboxFilters): SQL {
  const cursor = filters.cursor ? decodeCursor(filters.cursor) : undefined;
  const after = cursor
    ? sql`and (l.arrived_at, l.post_id) > (${cursor.at}::timestamptz, ${cursor.id}::uuid)`
    : sql``;
  return sql`select w.*,
                    (select pm.media_id from post_media pm where pm.post_id = w.id order by pm.position limit 1)
                      as thumbnail_media_id,
                    ${levelDecisionsOf(sql`w.id`)} as decisions
             from (
               select p.id, p.unit_id, u.name as unit_name, p.author_id, a.name as author_name, p.status,
                      p.version, p.body, p.tags, p.source_url, p.source_platform, p.submitted_at, l.arrival,
                      l.arrived_at, (l.alarmed_at is not null) as overdue,
                      to_char(l.arrived_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as exact_arrived_at
               from post_levels l
               join posts p on p.id = l.post_id
               join units u on u.id = p.unit_id
               join users a on a.id = p.author_id
               where ${waitingAt(filters, true)} ${after}
               order by l.arrived_at, l.post_id
               limit ${filters.limit + 1}
             ) w
             order by w.arrived_at, w.id`;
}

/**
 * Waiting posts per office, with the oldest arrival of each. Without words, platform or the
 * forwarded filter the counts come from inbox_tallies (kept exact by a trigger on post_levels), less
 * the posts a rule holds (few: only those inside a stop window), and each office's oldest arrival is
 * the first entry of post_levels_inbox_origin_idx not held by a rule, so the cost grows with the
 * number of offices, never with the backlog; with them, the waiting rows are counted.
 */
export function inboxCountsSql(
  filters: Omit<InboxFilters, 'cursor' | 'limit'>,
  options: { countRows?: boolean } = {},
): SQL {
  const needsPost = Boolean(filters.q || filters.platform);
  if (!needsPost && !filters.forwarded && !options.countRows)
    return sql`select c.* from (
                 select t.origin_unit_id as unit_id, s.name as unit_name,
                        t.waiting - coalesce(h.held, 0) as count,
                        (select l.arrived_at from post_levels l
                         where l.unit_id = t.unit_id and l.origin_unit_id = t.origin_unit_id
                           and l.decision is null and l.closed_at is null
                           and not ${heldByRule(sql`l.post_id`)}
                         order by l.arrived_at limit 1) as oldest
                 from inbox_tallies t join units s on s.id = t.origin_unit_id
                 left join (
                   -- From the pending approvals (a partial index keeps them), never from the backlog.
                   select l.origin_unit_id, count(distinct l.post_id)::int as held
                   from rule_approvals ra
                   join source_rules sr on sr.id = ra.rule_id
                   join post_levels l on l.post_id = ra.post_id
                   where ra.stopped_at is null and ra.applied_at is null and sr.paused_at is null
                     and l.unit_id = ${filters.levelId}::uuid and l.decision is null and l.closed_at is null
                   group by l.origin_unit_id
                 ) h on h.origin_unit_id = t.origin_unit_id
                 where t.unit_id = ${filters.levelId}::uuid and t.waiting > 0
                   ${filters.scopePath ? sql`and s.path like ${`${filters.scopePath}%`}` : sql``}
               ) c where c.count > 0`;
  return sql`select c.origin_unit_id as unit_id, s.name as unit_name, c.count, c.oldest
             from (
               select l.origin_unit_id, count(*)::int as count, min(l.arrived_at) as oldest
               from post_levels l ${needsPost ? sql`join posts p on p.id = l.post_id` : sql``}
               where ${waitingAt(filters, needsPost)}
               group by l.origin_unit_id
             ) c join units s on s.id = c.origin_unit_id`;
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
  decisions: LevelDecisionJson[];
}

interface InboxCountRow extends Record<string, unknown> {
  unit_id: string;
  unit_name: string;
  count: number;
  oldest: Date | string;
}

/** One level's entry of levelDecisionsOf, as the JSON of both drivers gives it. */
interface LevelDecisionJson {
  unitId: string;
  unitName: string;
  decision: LevelDecision | null;
  note: string | null;
  forwarded: boolean;
  forwardNote: string | null;
  channels: string[];
}

const decisionView = (d: LevelDecisionJson): LevelDecisionView => ({
  unit: { id: d.unitId, name: d.unitName },
  decision: d.decision,
  channels: d.channels,
  note: d.note,
  forwarded: d.forwarded,
  forwardNote: d.forwardNote,
});

/** Raw queries answer timestamps as the driver gives them: text through drizzle, a Date elsewhere. */
const asDate = (value: Date | string) => (value instanceof Date ? value : new Date(value));

/** What the levels did with each of these posts, by post id. */
export async function levelDecisions(db: DbOrTx, postIds: readonly string[]) {
  const byPost = new Map<string, LevelDecisionView[]>();
  if (postIds.length === 0) return byPost;
  const rows = await queryRows<{ id: string; decisions: LevelDecisionJson[] }>(
    db,
    sql`select p.id, ${levelDecisionsOf(sql`p.id`)} as decisions from posts p
        where p.id in (${sql.join(
          postIds.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})`,
  );
  for (const row of rows) byPost.set(row.id, row.decisions.map(decisionView));
  return byPost;
}

export interface InboxQuery {
  /** Only posts of this unit and its subtree; the reviewer's whole review otherwise. */
  unit?: string;
  q?: string;
  platform?: Platform;
  forwarded?: boolean;
  cursor?: string;
  limit: number;
}

/**
 * The reviewer's inbox: the posts waiting at their level. A submitted post anywhere in the scope
 * stands for all of them: the reviewer may review the whole subtree, or nothing (404 for a unit they
 * do not see, 403 for one they may not review).
 */
export async function reviewInbox(ctx: AppContext, actor: Actor, query: InboxQuery): Promise<Inbox> {
  const { unit, ...filters } = query;
  const scopePath = unit ? (await loadUnit(ctx, unit)).path : undefined;
  authorize(
    actor,
    'post.review',
    {
      type: 'post',
      unitPath: scopePath ?? actor.unitPath,
      authorId: actor.userId,
      status: 'submitted',
      submitted: true,
    },
    'Unit',
  );
  return levelInbox(ctx, { ...filters, levelId: actor.unitId, scopePath });
}

/** The units a reviewer may narrow their inbox to: their own and those below it. */
export async function inboxUnits(ctx: AppContext, actor: Actor): Promise<UnitRow[]> {
  return (await listVisibleUnits(ctx, actor)).filter((unit) => contains(actor.unitPath, unit.path));
}

/** The posts waiting at a level, unauthorised: the caller decided who may read them. */
export async function levelInbox(ctx: AppContext, filters: InboxFilters): Promise<Inbox> {
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
        decisions: row.decisions.map(decisionView),
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
