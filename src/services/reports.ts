import { type SQL, sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import { type Driver, queryRows } from '../db/client';
import { invalid } from '../domain/errors';
import { type Actor, atLeast, authorize } from '../domain/permissions';
import {
  METRIC_WINDOWS,
  type Platform,
  REACH_WINDOWS,
  type ReachWindow,
  type ReportGroup,
} from '../domain/vocabulary';
import { loadUnit } from './units';

/**
 * Whose content reached whom: per office, region, channel or platform of a subtree over [from, to) —
 * posts submitted and decided, the time to a first decision, deliveries published and failed, the
 * reach and engagements at 1 h, 24 h and 7 d and as last measured, the share of the national
 * accounts' output and reach, week by week in the viewer's time zone, and the period's top posts.
 * A figure a platform does not give is null, never 0, and the platforms that gave none are named.
 */

export const METRIC_FIELDS = ['impressions', 'likes', 'reposts', 'replies', 'quotes', 'clicks'] as const;
export type MetricField = (typeof METRIC_FIELDS)[number];
/** A reach figure: each platform metric summed, and engagements (every interaction) in one number. */
export type Figures = Record<MetricField | 'engagements', number | null>;

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
/** `column` in [from, to). */
const inRange = (column: SQL, from: Date | number, to: Date | number) =>
  sql`${column} >= ${ts(new Date(from))} and ${column} < ${ts(new Date(to))}`;
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
      return sql`u.id`;
    case 'region':
      // `/root/region/office/`: the second segment, or the root itself for national posts.
      return sql`coalesce(nullif(split_part(u.path, '/', 3), ''), split_part(u.path, '/', 2))`;
    case 'channel':
      return sql`c.id`;
    case 'platform':
      return sql`c.platform`;
  }
}

const FIGURES = [...METRIC_FIELDS, 'engagements'] as const;
/** The rollup's column of a figure: the latest reading, or a window's (`impressions_24h`). */
const column = (field: (typeof FIGURES)[number], window: ReachWindow) =>
  window === 'latest' ? field : `${field}_${window}`;
/**
 * A figure's sum as the driver reads it best. On PostgreSQL as float8 (exact for integers below 2^53):
 * summing bigint into numeric costs several times as much per row there, and node-postgres reads a
 * numeric as a string. On PGlite, whose report rows come packed as JSON (a numeric is a JSON number
 * there), the bigint's own sum: its WebAssembly build pays more for the cast to float8 of each value
 * than for the wider sum (the whole weeks summed in one statement at a tenth of the benchmark's size:
 * 47 ms instead of 59 to 71).
 */
const sumOf = (driver: Driver, expression: string) =>
  driver === 'postgres' ? `sum(${expression}::float8)` : `sum(${expression})`;
/** Each figure of `windows` summed, named as its column. */
const figureSums = (driver: Driver, alias: string, windows: readonly ReachWindow[] = ['latest']) =>
  sql.raw(
    windows
      .flatMap((window) =>
        FIGURES.map(
          (field) => `${sumOf(driver, `${alias}.${column(field, window)}`)} as ${column(field, window)}`,
        ),
      )
      .join(', '),
  );

/** The figure columns of `windows`, in their order. */
const columnsOf = (windows: readonly ReachWindow[]) =>
  windows.flatMap((window) => FIGURES.map((field) => column(field, window)));
/** Every figure column of the rollup, at every window: the windows first, then the latest. */
const REACH_COLUMNS = columnsOf(REACH_WINDOWS);
/** The figures as last measured (read per unit and channel), and at 1 h, 24 h and 7 d (read per group). */
const LATEST_COLUMNS = columnsOf(['latest']);
const WINDOW_COLUMNS = columnsOf(METRIC_WINDOWS);
/** The figure columns of `windows` as `alias.column`. */
const figureColumns = (alias: string, windows: readonly ReachWindow[]) =>
  sql.raw(
    columnsOf(windows)
      .map((name) => `${alias}.${name}`)
      .join(', '),
  );

type FigureRow = Record<string, unknown>;

/**
 * A statement's rows, which on PGlite come as one JSON array of arrays: a report's statements return
 * thousands of rows of up to a dozen columns, and PGlite's cost for each field returned (about 2 µs)
 * outweighs the statements' own work (the report's queries at a tenth of the benchmark's size: 205 ms
 * at p50 field by field, 137 ms packed). PostgreSQL builds the JSON at a higher cost than node-postgres
 * spends reading the fields, so there the rows come as they are. `columns` names the statement's
 * columns, in its order.
 */
async function packedRows<T>(ctx: AppContext, columns: readonly string[], statement: SQL): Promise<T[]> {
  if (ctx.database.driver === 'postgres') return (await queryRows(ctx.db, statement)) as T[];
  const list = sql.raw(columns.map((name) => `q."${name}"`).join(', '));
  const [packed] = await queryRows<{ rows: string }>(
    ctx.db,
    sql`select coalesce(json_agg(json_build_array(${list})), '[]')::text as rows from (${statement}) q`,
  );
  // A loop rather than Object.fromEntries: a third of the time for rows of 33 columns.
  return (JSON.parse(packed!.rows) as unknown[][]).map((values) => {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[i];
    return row as T;
  });
}

/** The columns of the statement that sums a period's published deliveries per unit and channel. */
const CELL_COLUMNS = ['unit_id', 'channel_id', 'published', 'measured', 'demo', ...LATEST_COLUMNS];
/** A unit's published deliveries on a channel over a period: counts and the figures as last measured. */
type CellRow = FigureRow & {
  unit_id: string;
  channel_id: string;
  published: number;
  measured: number;
  demo: number;
};
/** A row's latest figures (the top posts' rows carry no others). */
const figuresOf = (row: FigureRow): Figures => {
  const out = emptyFigures();
  for (const field of FIGURES)
    out[field] = numberOrNull(row[column(field, 'latest')] as number | string | null);
  return out;
};

/**
 * What the report reads per published delivery: post, originating unit (`unit_id`), channel,
 * `published_at`, `taken_at` and `demo` of the latest snapshot, and the figures as last measured and
 * at each window (columns as in delivery_metric_rollups). The rollup table is kept exact by triggers;
 * its test passes the same relation derived from the snapshots and expects the same report.
 */
export const METRIC_ROLLUP: SQL = sql`delivery_metric_rollups`;

/**
 * What the report reads per review transition (to submitted, approved, rejected or changes requested):
 * `post_id`, the post's `unit_id`, `to_status`, `at`, `previous_at` (the post's previous transition to
 * the same status, by time then event) and, for a submission, `decided_at` (the first decision at or
 * after it). Kept by triggers on post_events and posts; its test passes the same
 * relation derived from the timelines and expects the same report.
 */
export const REVIEW_STEPS: SQL = sql`post_review_steps`;

/**
 * What the report reads per (UTC week from Monday, `unit_id`, `channel_id`) of published deliveries:
 * `published`, `measured` and `demo` counts, the sums of the rollup's figures (null when all are) and
 * `impressions_count` and `engagements_count`, the deliveries whose latest impressions and engagements are
 * known. Kept by triggers on delivery_metric_rollups; its test passes the same sums of the raw derivation.
 */
export const METRIC_WEEKS: SQL = sql`delivery_metric_weeks`;

/**
 * What the report reads per post with published deliveries: `post_id`, `unit_id`, `first_published_at`
 * and `last_published_at` of its deliveries, and the sums of their `impressions` and `engagements` as
 * last measured (null when all are). Kept by triggers on delivery_metric_rollups; its test passes the same
 * sums of the raw derivation.
 */
export const POST_TOTALS: SQL = sql`post_metric_totals`;

/**
 * The relations a report reads: the tables kept by triggers, or (in their tests) the raw derivations;
 * `metricWeeks: null` reads every delivery of the period one by one, `postTotals: null` ranks the top
 * posts from them too.
 */
export interface ReportSources {
  metrics: SQL;
  metricWeeks: SQL | null;
  postTotals: SQL | null;
  reviews: SQL;
}

const WEEK_MS = 7 * 86_400_000;
/** A Monday, 00:00 UTC: the weekly sums start on the Mondays after it. */
const A_MONDAY = Date.UTC(1970, 0, 5);
/** The whole UTC weeks inside [from, to): empty (`from` = `to`) when there are none. */
function wholeWeeks(from: Date, to: Date): { from: Date; to: Date } {
  const first = A_MONDAY + Math.ceil((from.getTime() - A_MONDAY) / WEEK_MS) * WEEK_MS;
  const last = A_MONDAY + Math.floor((to.getTime() - A_MONDAY) / WEEK_MS) * WEEK_MS;
  return first < last ? { from: new Date(first), to: new Date(last) } : { from: to, to };
}

/** The weekly sums (`w`) of the whole weeks `whole` with published deliveries. */
const cellsOf = (whole: { from: Date; to: Date }) =>
  sql`${inRange(sql`w.week`, whole.from, whole.to)} and w.published > 0`;
/** The period's edges: before its first whole week and after its last, those not empty. */
const edgesOf = (query: ReportQuery, whole: { from: Date; to: Date }): [Date, Date][] =>
  (
    [
      [query.from, whole.from],
      [whole.to, query.to],
    ] as [Date, Date][]
  ).filter(([from, to]) => from < to);

/** A unit's (or channel's) published deliveries in one of the report's weeks (1-based). */
type WeeklyRow = {
  unit_id?: string;
  channel_id?: string;
  week: number;
  published: number;
  impressions: number | null;
  impressions_count: number;
  engagements: number | null;
  engagements_count: number;
};
const WEEKLY_COLUMNS = [
  'week',
  'published',
  'impressions',
  'impressions_count',
  'engagements',
  'engagements_count',
] as const;

/**
 * How a statement keys the rows it sums per group: by unit (grouping by office or region, scope applied in
 * JavaScript, where each unit's group is known) or by channel (grouping by channel or platform, scope
 * applied here), with the report's filters.
 */
interface GroupedRead {
  byUnit: boolean;
  inScope: SQL;
  filter: SQL;
  filtered: boolean;
}
/** The column of `alias` a group is found by: its unit or its channel. */
const groupColumn = (alias: string, read: GroupedRead) =>
  sql.raw(`${alias}.${read.byUnit ? 'unit_id' : 'channel_id'}`);
/** The scope (rows keyed by channel) and the filters, as conditions on the unit and channel of `alias`. */
function scopeAndFilters(alias: string, read: GroupedRead): SQL {
  const conditions: SQL[] = [];
  if (!read.byUnit)
    conditions.push(sql`${sql.raw(alias)}.unit_id in (select u.id from units u where ${read.inScope})`);
  if (read.filtered)
    conditions.push(
      sql`${sql.raw(alias)}.channel_id in (select c.id from channels c where true ${read.filter})`,
    );
  return sql.join(conditions.map((condition) => sql` and ${condition}`));
}

/**
 * The weekly series in the viewer's zone, per unit (office and region, in scope or not) or per channel
 * (channel and platform, in scope), with the filters applied. A whole UTC week's cell counts in the
 * report's week that holds its middle; the hours of that UTC week which belong to the report's week
 * before or after (the viewer's zone is off UTC) are read delivery by delivery and moved from the one to
 * the other; the period's edges are read delivery by delivery into their weeks. Each row counts the
 * deliveries whose impressions and engagements are known, so that a week whose parts sum to nothing known
 * is null. Without weekly sums (their tests), the whole period is an edge.
 */
function weeklySeries(
  query: ReportQuery,
  weeks: string[],
  whole: { from: Date; to: Date },
  read: GroupedRead & { driver: Driver; source: SQL; metricWeeks: SQL },
): SQL {
  const starts = weeks.map((week) => Date.parse(week));
  const startsArray = sql`array[${sql.join(
    starts.map((start) => ts(new Date(start))),
    sql`, `,
  )}]`;
  /** The report's week (1-based) an instant falls in, as width_bucket gives it over `startsArray`. */
  const weekOf = (instant: number) => starts.filter((start) => start <= instant).length;
  // The hours of a whole UTC week outside the report's week that holds its middle: each such range lies
  // in one other report week (it is shorter than half a week), the one its deliveries move to.
  const moved: { from: number; to: number; out: number; into: number }[] = [];
  for (let week = whole.from.getTime(); week < whole.to.getTime(); week += WEEK_MS) {
    const reportWeek = weekOf(week + WEEK_MS / 2);
    const start = starts[reportWeek - 1]!;
    const end = starts[reportWeek] ?? Number.POSITIVE_INFINITY;
    if (start > week) moved.push({ from: week, to: start, out: reportWeek, into: weekOf(week) });
    if (end < week + WEEK_MS)
      moved.push({ from: end, to: week + WEEK_MS, out: reportWeek, into: weekOf(end) });
  }
  const key = (alias: string) => groupColumn(alias, read);
  const where = (alias: string) => scopeAndFilters(alias, read);
  // Delivery by delivery, each range on its own so that it is read from the rollup's index alone.
  const published = (from: Date | number, to: Date | number) =>
    sql`${inRange(sql`r.published_at`, from, to)} ${where('r')}`;
  const parts: SQL[] = [
    ...edgesOf(query, whole).map(
      ([from, to]) => sql`select ${key('r')}, width_bucket(r.published_at, (select starts from b)), 1,
          r.impressions, (r.impressions is not null)::int, r.engagements, (r.engagements is not null)::int
        from ${read.source} r where ${published(from, to)}`,
    ),
    ...moved.map(
      (
        part,
      ) => sql`select ${key('r')}, v.week, v.sign, v.sign * r.impressions, v.sign * (r.impressions is not null)::int,
          v.sign * r.engagements, v.sign * (r.engagements is not null)::int
        from ${read.source} r cross join (values (${part.into}::int, 1), (${part.out}::int, -1)) v(week, sign)
        where ${published(part.from, part.to)}`,
    ),
  ];
  if (whole.from < whole.to)
    parts.push(sql`select ${key('w')}, width_bucket(w.week + interval '84 hours', (select starts from b)), w.published,
        w.impressions, w.impressions_count, w.engagements, w.engagements_count
      from ${read.metricWeeks} w
      where ${cellsOf(whole)} ${where('w')}`);
  return sql`with b(starts) as (select ${startsArray})
    select s.key as ${sql.raw(read.byUnit ? 'unit_id' : 'channel_id')}, s.week,
      sum(s.published)::int as published, ${sql.raw(sumOf(read.driver, 's.impressions'))} as impressions,
      sum(s.impressions_count)::int as impressions_count, ${sql.raw(sumOf(read.driver, 's.engagements'))} as engagements,
      sum(s.engagements_count)::int as engagements_count
    from (${sql.join(parts, sql` union all `)})
      s(key, week, published, impressions, impressions_count, engagements, engagements_count)
    group by 1, 2`;
}

/** Figure sums while rows are added, in REACH_COLUMNS order (or FIGURES order for one window); null: none known. */
type FlatSums = (number | null)[];
const flatSums = (length: number): FlatSums => new Array<number | null>(length).fill(null);
/** Where the latest figures start in REACH_COLUMNS order, and where impressions sit among FIGURES. */
const LATEST = REACH_COLUMNS.indexOf(LATEST_COLUMNS[0]!);
const IMPRESSIONS = FIGURES.indexOf('impressions');
/** `row`'s `columns` into `values`, in their order. */
const readFigures = (values: FlatSums, row: FigureRow, columns: readonly string[]) => {
  for (let i = 0; i < columns.length; i++)
    values[i] = numberOrNull(row[columns[i]!] as number | string | null);
};
/** Adds each of `values` into `target` from place `at` on, as `plus` does. */
const addAt = (target: FlatSums, values: FlatSums, at: number) => {
  for (let i = 0; i < values.length; i++) target[at + i] = plus(target[at + i]!, values[i]!);
};
/** The figures of one window from flat sums, starting at `from`. */
const figuresAt = (sums: FlatSums, from: number): Figures => {
  const out = emptyFigures();
  FIGURES.forEach((field, f) => {
    out[field] = sums[from + f]!;
  });
  return out;
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

/** The Mondays 00:00 (in the viewer's zone, as local times `w`) of every week that overlaps [from, to). */
const localMondays = (query: ReportQuery) => sql`generate_series(
    date_trunc('week', ${ts(query.from)} at time zone ${query.timeZone}),
    date_trunc('week', (${ts(query.to)} - interval '1 microsecond') at time zone ${query.timeZone}),
    interval '1 week') as w`;

/** The instants the report's weeks start at. */
async function weekStarts(ctx: AppContext, query: ReportQuery): Promise<string[]> {
  const rows = await queryRows<{ week: string }>(
    ctx.db,
    sql`select to_char(w at time zone ${query.timeZone}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as week
      from ${localMondays(query)}`,
  );
  return rows.map((row) => row.week);
}

const numberOrNull = (value: number | string | null | undefined) =>
  value === null || value === undefined ? null : Number(value);

/** The longest period one report covers. */
export const REPORT_MAX_DAYS = 400;

/**
 * The report a reader asks for: a unit (default their own) they may read reports of, over at most
 * `REPORT_MAX_DAYS`, with weeks in the reader's time zone. `unitField` names the field that chose the unit.
 */
export async function unitReport(
  ctx: AppContext,
  actor: Actor & { timeZone: string },
  query: Omit<ReportQuery, 'scopePath' | 'subtree' | 'timeZone'> & { unitId?: string; unitField?: string },
): Promise<Report> {
  const { unitId, unitField, ...rest } = query;
  const scopePath = unitId ? (await loadUnit(ctx, unitId)).path : actor.unitPath;
  authorize(actor, 'report.read', { type: 'report', unitPath: scopePath }, 'Unit', unitField);
  if (rest.to.getTime() - rest.from.getTime() > REPORT_MAX_DAYS * 86_400_000)
    throw invalid([{ field: 'from', message: `at most ${REPORT_MAX_DAYS} days`, code: 'range_too_long' }]);
  return buildReport(ctx, {
    ...rest,
    scopePath,
    subtree: atLeast(actor, 'reviewer'),
    timeZone: actor.timeZone,
  });
}

export async function buildReport(
  ctx: AppContext,
  query: ReportQuery,
  sources: Partial<ReportSources> = {},
): Promise<Report> {
  const driver = ctx.database.driver;
  const source = sources.metrics ?? METRIC_ROLLUP;
  const metricWeeks = sources.metricWeeks === undefined ? METRIC_WEEKS : sources.metricWeeks;
  const postTotals = sources.postTotals === undefined ? POST_TOTALS : sources.postTotals;
  const inScope = query.subtree
    ? sql`u.path like ${`${query.scopePath}%`}`
    : sql`u.path = ${query.scopePath}`;
  const segments = query.scopePath.split('/').filter(Boolean);
  const rootId = segments[0]!;
  const scopeId = segments.at(-1)!;
  const key = groupKey(query.group);
  const filter = deliveryFilter(query);
  const filtered = Boolean(query.platforms?.length || query.channelIds?.length);
  const inPeriod = (column: SQL) => inRange(column, query.from, query.to);
  const byUnit = query.group === 'office' || query.group === 'region';
  const whole = metricWeeks ? wholeWeeks(query.from, query.to) : { from: query.to, to: query.to };
  const grouped: GroupedRead = { byUnit, inScope, filter, filtered };
  // The period's published deliveries are summed from two parts: the weekly sums of its whole UTC weeks, and
  // its edges (before the first whole week, after the last) delivery by delivery, each edge a range of its
  // own so that it is read from the rollup's covering index alone (migration 0018). Two statements, each
  // reading the weeks' covering index of its columns (migration 0021): the counts and the figures as last
  // measured per unit and channel, every unit's and channel's (the national accounts' share needs them all;
  // the scope, the filters and the grouping are applied to them below), and the figures at 1 h, 24 h and 7 d
  // per unit or channel of the scope with the filters applied, a few hundred rows whatever the period.
  const edges = edgesOf(query, whole);
  const edgeRows = (columns: SQL, where: SQL = sql``) =>
    edges.map(
      ([from, to]) => sql` union all select ${columns}
        from ${source} r where ${inRange(sql`r.published_at`, from, to)} ${where}`,
    );
  const weeksIn = cellsOf(whole);
  const cellSums = sql`select r.unit_id, r.channel_id, sum(r.published)::int as published,
      sum(r.measured)::int as measured, sum(r.demo)::int as demo, ${figureSums(driver, 'r')}
    from (
      select w.unit_id, w.channel_id, w.published, w.measured, w.demo, ${figureColumns('w', ['latest'])}
      from ${metricWeeks ?? METRIC_WEEKS} w where ${weeksIn}
      ${sql.join(edgeRows(sql`r.unit_id, r.channel_id, 1, (r.taken_at is not null)::int, 0, ${figureColumns('r', ['latest'])}`))}
      ${
        // The demo deliveries, which the edges' index does not carry (none outside GAUNG_DEMO).
        edges.length
          ? sql` union all select r.unit_id, r.channel_id, 0, 0, 1, ${sql.raw(LATEST_COLUMNS.map(() => 'null::bigint').join(', '))}
            from ${source} r where r.demo and (${sql.join(
              edges.map(([from, to]) => sql`(${inRange(sql`r.published_at`, from, to)})`),
              sql` or `,
            )})`
          : sql``
      }
    ) r
    group by 1, 2`;
  const windowSums = sql`select r.key as ${sql.raw(byUnit ? 'unit_id' : 'channel_id')}, ${figureSums(driver, 'r', METRIC_WINDOWS)}
    from (
      select ${groupColumn('w', grouped)} as key, ${figureColumns('w', METRIC_WINDOWS)}
      from ${metricWeeks ?? METRIC_WEEKS} w where ${weeksIn} ${scopeAndFilters('w', grouped)}
      ${sql.join(edgeRows(sql`${groupColumn('r', grouped)}, ${figureColumns('r', METRIC_WINDOWS)}`, scopeAndFilters('r', grouped)))}
    ) r
    group by 1`;
  // Each published delivery of the period, as far as the weekly series and the ranking of posts need it.
  const delivered = sql`
    from ${source} r
    join channels c on c.id = r.channel_id
    join units u on u.id = r.unit_id
    where ${inPeriod(sql`r.published_at`)} and ${inScope} ${filter}`;

  const weeksStarting = weekStarts(ctx, query);
  const [units, channelRows, weeks, postRows, cellRows, windowRows, weeklyRows, failedRows, topRows] =
    await Promise.all([
      queryRows<{ id: string; name: string; kind: string; path: string }>(
        ctx.db,
        sql`select id, name, kind, path from units u where ${inScope} or id = ${rootId}::uuid`,
      ),
      queryRows<{ id: string; name: string; platform: Platform; unit_id: string }>(
        ctx.db,
        sql`select id, name, platform, unit_id from channels`,
      ),
      weeksStarting,
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
            // A post counts once per status: at its first step to that status in the period, the one whose
            // previous step to it came before the period. Its first submission there gives the time to decide.
            // The minutes are float8 (date_part), not numeric (extract): the same sort, at a fraction of the cost.
            sql`select ${key} as k,
                count(*) filter (where s.to_status = 'submitted')::int as submitted,
                count(*) filter (where s.to_status = 'approved')::int as approved,
                count(*) filter (where s.to_status = 'rejected')::int as rejected,
                count(*) filter (where s.to_status = 'changes_requested')::int as changes,
                percentile_cont(0.5) within group (order by date_part('epoch', s.decided_at - s.at) / 60)
                  filter (where s.to_status = 'submitted')::float8 as median,
                percentile_cont(0.9) within group (order by date_part('epoch', s.decided_at - s.at) / 60)
                  filter (where s.to_status = 'submitted')::float8 as p90
              from units u join ${sources.reviews ?? REVIEW_STEPS} s on s.unit_id = u.id
              where ${inScope} and ${inPeriod(sql`s.at`)}
                and (s.previous_at is null or s.previous_at < ${ts(query.from)})
              group by grouping sets ((1), ())`,
          )
        : Promise.resolve([]),
      // On PostgreSQL the pool runs the statements at once; on PGlite they run one after another.
      packedRows<CellRow>(ctx, CELL_COLUMNS, cellSums),
      packedRows<FigureRow & { unit_id?: string; channel_id?: string }>(
        ctx,
        [byUnit ? 'unit_id' : 'channel_id', ...WINDOW_COLUMNS],
        windowSums,
      ),
      // The weekly series needs the report's weeks first.
      weeksStarting.then((weeks) =>
        packedRows<WeeklyRow>(
          ctx,
          [byUnit ? 'unit_id' : 'channel_id', ...WEEKLY_COLUMNS],
          weeklySeries(query, weeks, whole, {
            ...grouped,
            driver,
            source,
            metricWeeks: metricWeeks ?? METRIC_WEEKS,
          }),
        ),
      ),
      packedRows<{ unit_id: string; channel_id: string; failed: number }>(
        ctx,
        ['unit_id', 'channel_id', 'failed'],
        sql`select d.unit_id, d.channel_id, count(*)::int as failed
          from deliveries d
          where d.status = 'failed' and ${inPeriod(sql`d.updated_at`)}
          group by 1, 2`,
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
        sql`with ranked as (${
          postTotals && !filtered
            ? // The posts whose deliveries all fall in the period by their totals' index, stopping at the
              // tenth; those with deliveries on both sides of its start or end by their deliveries in it.
              sql`select c.post_id, c.first_published from (
                  (select t.post_id, t.first_published_at as first_published, t.impressions, t.engagements
                    from ${postTotals} t
                    where t.first_published_at >= ${ts(query.from)} and t.last_published_at < ${ts(query.to)}
                      and t.unit_id in (select u.id from units u where ${inScope})
                    order by t.impressions desc nulls last, t.engagements desc nulls last,
                      t.first_published_at desc nulls last, t.post_id
                    limit ${TOP_POSTS})
                  union all
                  (select r.post_id, min(r.published_at), sum(r.impressions), sum(r.engagements)
                    from (${sql.join(
                      [query.from, query.to].map(
                        (edge) => sql`select t.post_id from ${postTotals} t
                          where tstzrange(t.first_published_at, t.last_published_at, '[]') @> ${ts(edge)}
                            and t.first_published_at < ${ts(edge)}`,
                      ),
                      sql` union `,
                    )}) t
                    join deliveries d on d.post_id = t.post_id
                    join ${source} r on r.delivery_id = d.id
                    where ${inPeriod(sql`r.published_at`)}
                      and r.unit_id in (select u.id from units u where ${inScope})
                    group by r.post_id)
                ) c
                order by c.impressions desc nulls last, c.engagements desc nulls last, c.first_published desc, c.post_id
                limit ${TOP_POSTS}`
            : sql`select r.post_id, min(r.published_at) as first_published
                ${delivered}
                group by r.post_id
                order by sum(r.impressions) desc nulls last, sum(r.engagements) desc nulls last,
                  min(r.published_at) desc, r.post_id
                limit ${TOP_POSTS}`
        }),
          reach as (
            select t.post_id, t.first_published, array_to_json(array_agg(distinct c.platform)) as platforms,
              ${figureSums(driver, 'x')}
            from ranked t
            join deliveries d on d.post_id = t.post_id
            join ${source} x on x.delivery_id = d.id
            join channels c on c.id = x.channel_id
            where ${inPeriod(sql`x.published_at`)} ${filter}
            group by t.post_id, t.first_published
          )
          select r.*, p.unit_id, u.name as unit_name, p.body,
            to_char(r.first_published at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as published_at,
            (select pm.media_id from post_media pm where pm.post_id = r.post_id order by pm.position limit 1) as media_id
          from reach r join posts p on p.id = r.post_id join units u on u.id = p.unit_id
          order by r.impressions desc nulls last, r.engagements desc nulls last, r.first_published desc, r.post_id`,
      ),
    ]);

  const unitById = new Map(units.map((unit) => [unit.id, unit]));
  const channelById = new Map(channelRows.map((channel) => [channel.id, channel]));
  const inScopePath = (path: string) =>
    query.subtree ? path.startsWith(query.scopePath) : path === query.scopePath;
  const platforms = query.platforms?.length ? new Set<string>(query.platforms) : null;
  const channelIds = query.channelIds?.length ? new Set(query.channelIds) : null;
  /** The delivery filter of the query, as `deliveryFilter` gives it in SQL. */
  const passes = (channel: { id: string; platform: Platform }) =>
    (!platforms || platforms.has(channel.platform)) && (!channelIds || channelIds.has(channel.id));
  /** The group of a delivery of a unit's post on a channel, as `groupKey` gives it in SQL; null out of scope. */
  const keyOf = (unitId: string, channel: { id: string; platform: Platform } | null): string | null => {
    const unit = unitById.get(unitId);
    if (!unit || !inScopePath(unit.path)) return null;
    switch (query.group) {
      case 'office':
        return unit.id;
      case 'region': {
        const parts = unit.path.split('/');
        return parts[2] || parts[1]!;
      }
      case 'channel':
        return channel?.id ?? null;
      case 'platform':
        return channel?.platform ?? null;
    }
  };
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
      inScopePath(unit.path) &&
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
  const platformsOfGroup = new Map<string, Map<Platform, { measured: number; sums: FlatSums }>>();
  const platformsOfTotal = new Map<Platform, { measured: number; sums: FlatSums }>();
  const reachSums = new Map<GroupReport, FlatSums>();
  // The national accounts' output and reach in the period, whoever's posts they carried.
  let nationalPublished = 0;
  let nationalImpressions: number | null = null;
  // Each row's figures are read once and summed into flat lists, in REACH_COLUMNS order; the report's
  // figure objects are made from those at the end (thousands of rows, two targets each).
  const sumsOf = (target: GroupReport) => {
    const sums = reachSums.get(target) ?? flatSums(REACH_COLUMNS.length);
    reachSums.set(target, sums);
    return sums;
  };
  const latest = flatSums(LATEST_COLUMNS.length);
  for (const row of cellRows) {
    const channel = channelById.get(row.channel_id);
    if (!channel || !passes(channel)) continue;
    const published = Number(row.published);
    readFigures(latest, row, LATEST_COLUMNS);
    const impressions = latest[IMPRESSIONS]!;
    const national = channel.unit_id === rootId;
    if (national) {
      nationalPublished += published;
      nationalImpressions = plus(nationalImpressions, impressions);
    }
    const k = keyOf(row.unit_id, channel);
    if (k === null) continue;
    for (const target of [groupFor(k), totals]) {
      target.deliveries.published += published;
      target.publishedByPlatform[channel.platform] =
        (target.publishedByPlatform[channel.platform] ?? 0) + published;
      addAt(sumsOf(target), latest, LATEST);
    }
    for (const [perPlatform, group] of [
      [platformsOfGroup.get(k) ?? new Map(), k],
      [platformsOfTotal, null],
    ] as const) {
      if (group !== null) platformsOfGroup.set(group, perPlatform);
      const entry = perPlatform.get(channel.platform) ?? { measured: 0, sums: flatSums(FIGURES.length) };
      entry.measured += Number(row.measured);
      addAt(entry.sums, latest, 0);
      perPlatform.set(channel.platform, entry);
    }
    const ofGroup = nationalOfGroup.get(k) ?? { published: 0, impressions: null };
    if (national) {
      ofGroup.published += published;
      ofGroup.impressions = plus(ofGroup.impressions, impressions);
    }
    nationalOfGroup.set(k, ofGroup);
    demo ||= Number(row.demo) > 0;
  }
  /** The group of a row summed per unit or channel with the scope (per channel) and the filters applied. */
  const groupOfRow = (row: { unit_id?: string; channel_id?: string }) =>
    byUnit
      ? keyOf(row.unit_id!, null)
      : query.group === 'channel'
        ? row.channel_id
        : channelById.get(row.channel_id!)?.platform;
  const windowed = flatSums(WINDOW_COLUMNS.length);
  for (const row of windowRows) {
    const k = groupOfRow(row);
    if (!k) continue;
    readFigures(windowed, row, WINDOW_COLUMNS);
    for (const target of [groupFor(k), totals]) addAt(sumsOf(target), windowed, 0);
  }
  for (const [target, sums] of reachSums)
    REACH_WINDOWS.forEach((window, w) => {
      target.reach[window] = figuresAt(sums, w * FIGURES.length);
    });
  for (const row of weeklyRows) {
    const k = groupOfRow(row);
    if (!k) continue;
    for (const target of [groupFor(k), totals]) {
      const week = target.weekly[Number(row.week) - 1];
      if (week) {
        week.published += Number(row.published);
        // A figure summed over none of the week's deliveries is not given (null), whatever the parts added up to.
        if (Number(row.impressions_count) > 0)
          week.impressions = plus(week.impressions, numberOrNull(row.impressions));
        if (Number(row.engagements_count) > 0)
          week.engagements = plus(week.engagements, numberOrNull(row.engagements));
      }
    }
  }
  for (const row of failedRows) {
    const channel = channelById.get(row.channel_id);
    const k = channel && passes(channel) ? keyOf(row.unit_id, channel) : null;
    if (k === null) continue;
    groupFor(k).deliveries.failed += Number(row.failed);
    totals.deliveries.failed += Number(row.failed);
  }

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
  const missingFrom = (perPlatform: Map<Platform, { measured: number; sums: FlatSums }>) => {
    const out: GroupReport['notAvailableFrom'] = {};
    for (const [f, field] of FIGURES.entries()) {
      const missing = [...perPlatform]
        .filter(([platform, entry]) =>
          entry.measured > 0 ? entry.sums[f] === null : !ctx.platforms.get(platform)?.capabilities.metrics,
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
