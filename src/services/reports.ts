import { type SQL, sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import { queryRows } from '../db/client';
import { METRIC_WINDOWS, type MetricWindow, type Platform } from '../domain/vocabulary';

/**
 * Whose content reached whom: per office, region, channel or platform of a subtree over [from, to) —
 * posts submitted and decided, the time to a first decision, deliveries published and failed, the
 * reach and engagements at 1 h, 24 h and 7 d and as last measured, the share of the national
 * accounts' output and reach, week by week in the viewer's time zone, and the period's top posts.
 * A figure a platform does not give is null, never 0, and the platforms that gave none are named.
 */

export const REPORT_GROUPS = ['office', 'region', 'channel', 'platform'] as const;
export type ReportGroup = (typeof REPORT_GROUPS)[number];

export const METRIC_FIELDS = ['impressions', 'likes', 'reposts', 'replies', 'quotes', 'clicks'] as const;
export type MetricField = (typeof METRIC_FIELDS)[number];
/** A reach figure: each platform metric summed, and engagements (every interaction) in one number. */
export type Figures = Record<MetricField | 'engagements', number | null>;
export type ReachWindow = MetricWindow | 'latest';
export const REACH_WINDOWS: readonly ReachWindow[] = [...METRIC_WINDOWS, 'latest'];

export interface ReportQuery {
  scopePath: string;
  /** The scope's whole subtree (reviewers, admins), or its own unit only (contributors). */
  subtree: boolean;
  from: Date;
  to: Date;
  group: ReportGroup;
  /** Weeks and their labels follow this zone. */
  timeZone: string;
  platforms?: Platform[];
  channelIds?: string[];
}

export interface WeekFigures {
  published: number;
  impressions: number | null;
  engagements: number | null;
}

export interface GroupReport {
  key: string;
  name: string;
  /** What the group is: a unit kind, a channel or a platform. */
  kind: string;
  /** Posts and review speed belong to units: null when grouping by channel or platform. */
  posts: { submitted: number; approved: number; rejected: number; changesRequested: number } | null;
  firstDecisionMinutes: { median: number | null; p90: number | null } | null;
  deliveries: { published: number; failed: number };
  publishedByPlatform: Partial<Record<Platform, number>>;
  reach: Record<ReachWindow, Figures>;
  /** Fractions (0…1) of the national accounts' published deliveries and their reach in the period. */
  share: { output: number | null; reach: number | null };
  /** Aligned with the report's `weeks`. */
  weekly: WeekFigures[];
  /** Per figure, the platforms of the group's deliveries that do not report it. */
  notAvailableFrom: Partial<Record<MetricField | 'engagements', Platform[]>>;
}

export interface TopPost {
  postId: string;
  unit: { id: string; name: string };
  text: string;
  thumbnailMediaId: string | null;
  publishedAt: string;
  platforms: Platform[];
  reach: Figures;
}

export interface Report {
  from: string;
  to: string;
  timeZone: string;
  group: ReportGroup;
  organisation: string;
  scope: { id: string; name: string };
  filters: { platforms: Platform[]; channelIds: string[] };
  /** Mondays (start of the week in the viewer's zone), as instants. */
  weeks: string[];
  totals: GroupReport;
  groups: GroupReport[];
  topPosts: TopPost[];
  /** Demo figures (GAUNG_DEMO) are among the snapshots read. */
  demo: boolean;
}

const ts = (date: Date) => sql`${date.toISOString()}::timestamptz`;
const TOP_POSTS = 10;
const KIND_ORDER: Record<string, number> = { national: 0, regional: 1, office: 2 };

const emptyFigures = (): Figures => ({
  impressions: null,
  likes: null,
  reposts: null,
  replies: null,
  quotes: null,
  clicks: null,
  engagements: null,
});

/** Null-preserving sum: a figure no platform gave stays null. */
const plus = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : a + b);

function groupKey(group: ReportGroup): SQL {
  switch (group) {
    case 'office':
      return sql`u.id::text`;
    case 'region':
      // `/root/region/office/`: the second segment, or the root itself for national posts.
      return sql`coalesce(nullif(split_part(u.path, '/', 3), ''), split_part(u.path, '/', 2))`;
    case 'channel':
      return sql`c.id::text`;
    case 'platform':
      return sql`c.platform`;
  }
}

const FIGURES = [...METRIC_FIELDS, 'engagements'] as const;
/** The rollup's column of a figure: the latest reading, or a window's (`impressions_24h`). */
const column = (field: (typeof FIGURES)[number], window: ReachWindow) =>
  window === 'latest' ? field : `${field}_${window}`;
const figureSums = (alias: string, windows: readonly ReachWindow[] = ['latest']) =>
  sql.raw(
    windows
      .flatMap((window) =>
        FIGURES.map((field) => `sum(${alias}.${column(field, window)})::float8 as ${column(field, window)}`),
      )
      .join(', '),
  );

type FigureRow = Record<string, unknown>;
const figuresOf = (row: FigureRow, window: ReachWindow = 'latest'): Figures => {
  const out = emptyFigures();
  for (const field of FIGURES) {
    const value = row[column(field, window)];
    out[field] = value === null || value === undefined ? null : Number(value);
  }
  return out;
};

/**
 * What the report reads per published delivery: post, originating unit (`unit_id`), channel,
 * `published_at`, `taken_at` and `demo` of the latest snapshot, and the figures as last measured and
 * at each window (columns as in delivery_metric_rollups). The rollup table is kept exact by triggers;
 * its test passes the same relation derived from the snapshots and expects the same report.
 */
export const METRIC_ROLLUP: SQL = sql`delivery_metric_rollups`;

const addInto = (target: Figures, figures: Figures) => {
  for (const field of FIGURES) target[field] = plus(target[field], figures[field]);
};

function deliveryFilter(query: ReportQuery): SQL {
  const parts: SQL[] = [];
  if (query.platforms?.length)
    parts.push(
      sql`c.platform in (${sql.join(
        query.platforms.map((p) => sql`${p}`),
        sql`, `,
      )})`,
    );
  if (query.channelIds?.length)
    parts.push(
      sql`c.id in (${sql.join(
        query.channelIds.map((id) => sql`${id}::uuid`),
        sql`, `,
      )})`,
    );
  return parts.length ? sql`and ${sql.join(parts, sql` and `)}` : sql``;
}

/** The instants of the Mondays (in `zone`) of every week that overlaps [from, to). */
async function weekStarts(ctx: AppContext, query: ReportQuery): Promise<string[]> {
  const rows = await queryRows<{ week: string }>(
    ctx.db,
    sql`select to_char(w at time zone ${query.timeZone}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as week
      from generate_series(
        date_trunc('week', ${ts(query.from)} at time zone ${query.timeZone}),
        date_trunc('week', (${ts(query.to)} - interval '1 microsecond') at time zone ${query.timeZone}),
        interval '1 week') as w`,
  );
  return rows.map((row) => row.week);
}

const numberOrNull = (value: number | string | null | undefined) =>
  value === null || value === undefined ? null : Number(value);

export async function buildReport(
  ctx: AppContext,
  query: ReportQuery,
  source: SQL = METRIC_ROLLUP,
): Promise<Report> {
  const inScope = query.subtree
    ? sql`u.path like ${`${query.scopePath}%`}`
    : sql`u.path = ${query.scopePath}`;
  const segments = query.scopePath.split('/').filter(Boolean);
  const rootId = segments[0]!;
  const scopeId = segments.at(-1)!;
  const key = groupKey(query.group);
  const filter = deliveryFilter(query);
  const inPeriod = (column: SQL) => sql`${column} >= ${ts(query.from)} and ${column} < ${ts(query.to)}`;
  const byUnit = query.group === 'office' || query.group === 'region';
  // Each published delivery of the period with what it had reached when last measured and at each window.
  const reached = (where: SQL) => sql`
    select r.post_id, r.published_at, c.platform, c.unit_id as channel_unit_id, ${key} as k,
      to_char(date_trunc('week', r.published_at at time zone ${query.timeZone}) at time zone ${query.timeZone}
        at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as week,
      r.taken_at is not null as measured, r.demo, ${sql.raw(
        REACH_WINDOWS.flatMap((window) => FIGURES.map((field) => `r.${column(field, window)}`)).join(', '),
      )}
    from ${source} r
    join channels c on c.id = r.channel_id
    join units u on u.id = r.unit_id
    where ${inPeriod(sql`r.published_at`)} ${where} ${filter}`;

  const [units, channelRows, weeks, postRows, publishedRows, failedRows, nationalRows, topRows] =
    await Promise.all([
      queryRows<{ id: string; name: string; kind: string; path: string }>(
        ctx.db,
        sql`select id, name, kind, path from units u where ${inScope} or id = ${rootId}::uuid`,
      ),
      query.group === 'channel'
        ? queryRows<{ id: string; name: string; platform: Platform }>(
            ctx.db,
            sql`select id, name, platform from channels`,
          )
        : Promise.resolve([]),
      weekStarts(ctx, query),
      byUnit
        ? queryRows<{
            k: string | null;
            submitted: number;
            approved: number;
            rejected: number;
            changes: number;
            median: number | null;
            p90: number | null;
          }>(
            ctx.db,
            sql`with ev as (
                select e.post_id, ${key} as k,
                  bool_or(e.to_status = 'submitted') as submitted,
                  bool_or(e.to_status = 'approved') as approved,
                  bool_or(e.to_status = 'rejected') as rejected,
                  bool_or(e.to_status = 'changes_requested') as changes,
                  min(e.created_at) filter (where e.to_status = 'submitted') as submitted_at
                from post_events e join posts p on p.id = e.post_id join units u on u.id = p.unit_id
                where e.kind = 'transition' and e.to_status in ('submitted', 'approved', 'rejected', 'changes_requested')
                  and ${inPeriod(sql`e.created_at`)} and ${inScope}
                group by e.post_id, 2
              )
              select ev.k,
                count(*) filter (where ev.submitted)::int as submitted,
                count(*) filter (where ev.approved)::int as approved,
                count(*) filter (where ev.rejected)::int as rejected,
                count(*) filter (where ev.changes)::int as changes,
                percentile_cont(0.5) within group (order by extract(epoch from d.at - ev.submitted_at) / 60)::float8 as median,
                percentile_cont(0.9) within group (order by extract(epoch from d.at - ev.submitted_at) / 60)::float8 as p90
              from ev left join lateral (
                select min(x.created_at) as at from post_events x
                where x.post_id = ev.post_id and x.kind = 'transition'
                  and x.to_status in ('approved', 'rejected', 'changes_requested') and x.created_at >= ev.submitted_at
              ) d on ev.submitted_at is not null
              group by grouping sets ((ev.k), ())`,
          )
        : Promise.resolve([]),
      queryRows<
        FigureRow & {
          k: string;
          week: string;
          platform: Platform;
          published: number;
          measured: number;
          national_published: number;
          national_impressions: number | null;
          demo: boolean;
        }
      >(
        ctx.db,
        sql`with l as (${reached(sql`and ${inScope}`)})
          select l.k, l.week, l.platform,
            count(*)::int as published, count(*) filter (where l.measured)::int as measured,
            count(*) filter (where l.channel_unit_id = ${rootId}::uuid)::int as national_published,
            sum(l.impressions) filter (where l.channel_unit_id = ${rootId}::uuid)::float8 as national_impressions,
            bool_or(l.demo) as demo, ${figureSums('l', REACH_WINDOWS)}
          from l group by 1, 2, 3`,
      ),
      queryRows<{ k: string; failed: number }>(
        ctx.db,
        sql`select ${key} as k, count(*)::int as failed
          from deliveries d join channels c on c.id = d.channel_id join posts p on p.id = d.post_id
          join units u on u.id = p.unit_id
          where d.status = 'failed' and ${inPeriod(sql`d.updated_at`)} and ${inScope} ${filter}
          group by 1`,
      ),
      queryRows<{ published: number; impressions: number | null }>(
        ctx.db,
        sql`with l as (${reached(sql`and c.unit_id = ${rootId}::uuid`)})
          select count(*)::int as published, sum(l.impressions)::float8 as impressions from l`,
      ),
      queryRows<
        FigureRow & {
          post_id: string;
          unit_id: string;
          unit_name: string;
          body: string;
          published_at: string;
          platforms: Platform[];
          media_id: string | null;
        }
      >(
        ctx.db,
        sql`with l as (${reached(sql`and ${inScope}`)}),
          ranked as (
            select l.post_id, min(l.published_at) as first_published, array_to_json(array_agg(distinct l.platform)) as platforms,
              ${figureSums('l')}
            from l group by l.post_id
            order by sum(l.impressions) desc nulls last, sum(l.engagements) desc nulls last, min(l.published_at) desc
            limit ${TOP_POSTS}
          )
          select r.*, p.unit_id, u.name as unit_name, p.body,
            to_char(r.first_published at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as published_at,
            (select pm.media_id from post_media pm where pm.post_id = r.post_id order by pm.position limit 1) as media_id
          from ranked r join posts p on p.id = r.post_id join units u on u.id = p.unit_id
          order by r.impressions desc nulls last, r.engagements desc nulls last, r.first_published desc`,
      ),
    ]);

  const unitById = new Map(units.map((unit) => [unit.id, unit]));
  const channelById = new Map(channelRows.map((channel) => [channel.id, channel]));
  const weekIndex = new Map(weeks.map((week, i) => [week, i]));
  const blank = (k: string, name: string, kind: string): GroupReport => ({
    key: k,
    name,
    kind,
    posts: byUnit ? { submitted: 0, approved: 0, rejected: 0, changesRequested: 0 } : null,
    firstDecisionMinutes: byUnit ? { median: null, p90: null } : null,
    deliveries: { published: 0, failed: 0 },
    publishedByPlatform: {},
    reach: { '1h': emptyFigures(), '24h': emptyFigures(), '7d': emptyFigures(), latest: emptyFigures() },
    share: { output: null, reach: null },
    weekly: weeks.map(() => ({ published: 0, impressions: null, engagements: null })),
    notAvailableFrom: {},
  });
  const groups = new Map<string, GroupReport>();
  const groupFor = (k: string): GroupReport => {
    let found = groups.get(k);
    if (!found) {
      const unit = unitById.get(k);
      const channel = channelById.get(k);
      found = unit
        ? blank(k, unit.name, unit.kind)
        : channel
          ? blank(k, channel.name, channel.platform)
          : blank(k, k, query.group);
      groups.set(k, found);
    }
    return found;
  };
  const totals = blank('total', unitById.get(scopeId)?.name ?? '', 'total');
  // The scope's units appear even with nothing to show: an office that sent nothing is news too.
  for (const unit of units)
    if (
      (query.subtree ? unit.path.startsWith(query.scopePath) : unit.path === query.scopePath) &&
      (query.group === 'office' || (query.group === 'region' && unit.kind !== 'office'))
    )
      groupFor(unit.id);

  for (const row of postRows) {
    const target = row.k === null ? totals : groupFor(row.k);
    target.posts = {
      submitted: Number(row.submitted),
      approved: Number(row.approved),
      rejected: Number(row.rejected),
      changesRequested: Number(row.changes),
    };
    target.firstDecisionMinutes = { median: numberOrNull(row.median), p90: numberOrNull(row.p90) };
  }

  let demo = false;
  const nationalOfGroup = new Map<string, { published: number; impressions: number | null }>();
  const platformsOfGroup = new Map<string, Map<Platform, { measured: number; sums: Figures }>>();
  const platformsOfTotal = new Map<Platform, { measured: number; sums: Figures }>();
  for (const row of publishedRows) {
    const figures = figuresOf(row);
    const published = Number(row.published);
    for (const target of [groupFor(row.k), totals]) {
      target.deliveries.published += published;
      target.publishedByPlatform[row.platform] = (target.publishedByPlatform[row.platform] ?? 0) + published;
      for (const window of REACH_WINDOWS) addInto(target.reach[window], figuresOf(row, window));
      const week = target.weekly[weekIndex.get(row.week) ?? -1];
      if (week) {
        week.published += published;
        week.impressions = plus(week.impressions, figures.impressions);
        week.engagements = plus(week.engagements, figures.engagements);
      }
    }
    for (const [perPlatform, k] of [
      [platformsOfGroup.get(row.k) ?? new Map(), row.k],
      [platformsOfTotal, null],
    ] as const) {
      if (k !== null) platformsOfGroup.set(k, perPlatform);
      const entry = perPlatform.get(row.platform) ?? { measured: 0, sums: emptyFigures() };
      entry.measured += Number(row.measured);
      addInto(entry.sums, figures);
      perPlatform.set(row.platform, entry);
    }
    const national = nationalOfGroup.get(row.k) ?? { published: 0, impressions: null };
    national.published += Number(row.national_published);
    national.impressions = plus(national.impressions, numberOrNull(row.national_impressions));
    nationalOfGroup.set(row.k, national);
    demo ||= row.demo === true;
  }
  for (const row of failedRows) {
    groupFor(row.k).deliveries.failed += Number(row.failed);
    totals.deliveries.failed += Number(row.failed);
  }

  const nationalPublished = Number(nationalRows[0]?.published ?? 0);
  const nationalImpressions = numberOrNull(nationalRows[0]?.impressions);
  const shareOf = (part: { published: number; impressions: number | null }) => ({
    output: nationalPublished > 0 ? part.published / nationalPublished : null,
    reach: nationalImpressions && part.impressions !== null ? part.impressions / nationalImpressions : null,
  });
  const ofScope = { published: 0, impressions: null as number | null };
  for (const [k, part] of nationalOfGroup) {
    groupFor(k).share = shareOf(part);
    ofScope.published += part.published;
    ofScope.impressions = plus(ofScope.impressions, part.impressions);
  }
  totals.share = shareOf(ofScope);

  // A platform that measured a delivery but left a figure out, or cannot measure at all, is named.
  const missingFrom = (perPlatform: Map<Platform, { measured: number; sums: Figures }>) => {
    const out: GroupReport['notAvailableFrom'] = {};
    for (const field of FIGURES) {
      const missing = [...perPlatform]
        .filter(([platform, entry]) =>
          entry.measured > 0
            ? entry.sums[field] === null
            : !ctx.platforms.get(platform)?.capabilities.metrics,
        )
        .map(([platform]) => platform)
        .sort();
      if (missing.length) out[field] = missing;
    }
    return out;
  };
  for (const [k, perPlatform] of platformsOfGroup) groupFor(k).notAvailableFrom = missingFrom(perPlatform);
  totals.notAvailableFrom = missingFrom(platformsOfTotal);

  return {
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    timeZone: query.timeZone,
    group: query.group,
    organisation: unitById.get(rootId)?.name ?? '',
    scope: { id: scopeId, name: unitById.get(scopeId)?.name ?? '' },
    filters: { platforms: query.platforms ?? [], channelIds: query.channelIds ?? [] },
    weeks,
    totals,
    groups: [...groups.values()].sort(
      (a, b) =>
        (KIND_ORDER[a.kind] ?? 9) - (KIND_ORDER[b.kind] ?? 9) ||
        (b.reach.latest.impressions ?? -1) - (a.reach.latest.impressions ?? -1) ||
        b.deliveries.published - a.deliveries.published ||
        a.name.localeCompare(b.name),
    ),
    topPosts: topRows.map((row) => ({
      postId: row.post_id,
      unit: { id: row.unit_id, name: row.unit_name },
      text: row.body,
      thumbnailMediaId: row.media_id,
      publishedAt: row.published_at,
      platforms: [...row.platforms].sort(),
      reach: figuresOf(row),
    })),
    demo,
  };
}
