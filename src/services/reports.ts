import { sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import { queryRows } from '../db/client';
import { PLATFORMS, type Platform } from '../domain/vocabulary';

/**
 * Who contributes reach: per originating unit of a subtree, over [from, to) — posts submitted,
 * approved and rejected; deliveries published and failed per platform; and the reach of what was
 * published (the latest engagement snapshot of each delivery, summed).
 */

export interface UnitReport {
  unit: { id: string; name: string; kind: string };
  posts: { submitted: number; approved: number; rejected: number };
  published: Partial<Record<Platform, number>>;
  failed: Partial<Record<Platform, number>>;
  reach: { impressions: number; likes: number; reposts: number };
}

export interface UnitsReport {
  from: string;
  to: string;
  units: UnitReport[];
}

const ts = (date: Date) => sql`${date.toISOString()}::timestamptz`;
const KIND_ORDER: Record<string, number> = { national: 0, regional: 1, office: 2 };

export async function unitsReport(
  ctx: AppContext,
  scopePath: string,
  from: Date,
  to: Date,
): Promise<UnitsReport> {
  const scope = sql`(select id from units where path like ${`${scopePath}%`})`;
  const [unitRows, postRows, deliveryRows, reachRows] = await Promise.all([
    queryRows<{ id: string; name: string; kind: string }>(
      ctx.db,
      sql`select id, name, kind from units where path like ${`${scopePath}%`}`,
    ),
    queryRows<{ unit_id: string; submitted: number; approved: number; rejected: number }>(
      ctx.db,
      sql`select p.unit_id,
          count(distinct e.post_id) filter (where e.to_status = 'submitted')::int as submitted,
          count(distinct e.post_id) filter (where e.to_status = 'approved')::int as approved,
          count(distinct e.post_id) filter (where e.to_status = 'rejected')::int as rejected
        from post_events e join posts p on p.id = e.post_id
        where e.kind = 'transition' and e.created_at >= ${ts(from)} and e.created_at < ${ts(to)}
          and p.unit_id in ${scope}
        group by p.unit_id`,
    ),
    queryRows<{ unit_id: string; platform: Platform; published: number; failed: number }>(
      ctx.db,
      sql`select p.unit_id, c.platform,
          count(*) filter (where d.status = 'published')::int as published,
          count(*) filter (where d.status = 'failed')::int as failed
        from deliveries d join posts p on p.id = d.post_id join channels c on c.id = d.channel_id
        where p.unit_id in ${scope}
          and ((d.status = 'published' and d.published_at >= ${ts(from)} and d.published_at < ${ts(to)})
            or (d.status = 'failed' and d.updated_at >= ${ts(from)} and d.updated_at < ${ts(to)}))
        group by p.unit_id, c.platform`,
    ),
    queryRows<{ unit_id: string; impressions: number; likes: number; reposts: number }>(
      ctx.db,
      sql`select p.unit_id,
          coalesce(sum(s.impressions), 0)::float8 as impressions,
          coalesce(sum(s.likes), 0)::float8 as likes,
          coalesce(sum(s.reposts), 0)::float8 as reposts
        from deliveries d join posts p on p.id = d.post_id
        join lateral (
          select impressions, likes, reposts from metrics_snapshots m
          where m.delivery_id = d.id order by m.taken_at desc limit 1
        ) s on true
        where d.status = 'published' and d.published_at >= ${ts(from)} and d.published_at < ${ts(to)}
          and p.unit_id in ${scope}
        group by p.unit_id`,
    ),
  ]);
  const reports = new Map<string, UnitReport>(
    unitRows.map((unit) => [
      unit.id,
      {
        unit,
        posts: { submitted: 0, approved: 0, rejected: 0 },
        published: {},
        failed: {},
        reach: { impressions: 0, likes: 0, reposts: 0 },
      },
    ]),
  );
  for (const row of postRows) {
    const report = reports.get(row.unit_id);
    if (report)
      report.posts = {
        submitted: Number(row.submitted),
        approved: Number(row.approved),
        rejected: Number(row.rejected),
      };
  }
  for (const row of deliveryRows) {
    const report = reports.get(row.unit_id);
    if (!report) continue;
    if (Number(row.published) > 0) report.published[row.platform] = Number(row.published);
    if (Number(row.failed) > 0) report.failed[row.platform] = Number(row.failed);
  }
  for (const row of reachRows) {
    const report = reports.get(row.unit_id);
    if (report)
      report.reach = {
        impressions: Number(row.impressions),
        likes: Number(row.likes),
        reposts: Number(row.reposts),
      };
  }
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    units: [...reports.values()].sort(
      (a, b) =>
        (KIND_ORDER[a.unit.kind] ?? 9) - (KIND_ORDER[b.unit.kind] ?? 9) ||
        a.unit.name.localeCompare(b.unit.name),
    ),
  };
}

/** A spreadsheet cell: quoted when needed, and never read as a formula by a spreadsheet program. */
function cell(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The report as CSV: one row per unit, a column per platform for published and failed deliveries. */
export function unitsReportCsv(report: UnitsReport): string {
  const platforms = PLATFORMS.filter((platform) => platform !== 'sandbox');
  const header = [
    'unit_id',
    'unit',
    'kind',
    'posts_submitted',
    'posts_approved',
    'posts_rejected',
    ...platforms.map((platform) => `published_${platform}`),
    ...platforms.map((platform) => `failed_${platform}`),
    'impressions',
    'likes',
    'reposts',
  ];
  const lines = report.units.map((row) =>
    [
      row.unit.id,
      row.unit.name,
      row.unit.kind,
      row.posts.submitted,
      row.posts.approved,
      row.posts.rejected,
      ...platforms.map((platform) => row.published[platform] ?? 0),
      ...platforms.map((platform) => row.failed[platform] ?? 0),
      row.reach.impressions,
      row.reach.likes,
      row.reach.reposts,
    ]
      .map(cell)
      .join(','),
  );
  return `${[header.join(','), ...lines].join('\r\n')}\r\n`;
}
