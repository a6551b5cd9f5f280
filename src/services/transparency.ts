import { eq, sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import { queryRows } from '../db/client';
import { units } from '../db/schema';
import { notFound } from '../domain/errors';
import { type Actor, authorize } from '../domain/permissions';
import { NON_PUBLIC_PLATFORMS, type Platform } from '../domain/vocabulary';
import { changesOf, recordAudit } from './audit';

/**
 * The public transparency page: per office and month (in the organisation's zone), how many posts
 * went out and on which platforms. Internal figures (posts submitted and rejected, the median time
 * to a first decision) appear only when the organisation turns them on. Both switches live on the
 * national unit and are off until a national admin turns them on.
 */

export interface TransparencySettings {
  page: boolean;
  internal: boolean;
}

export interface TransparencyMonth {
  month: string;
  unitId: string;
  unitName: string;
  published: number;
  byPlatform: Partial<Record<Platform, number>>;
  internal: { submitted: number; rejected: number; medianDecisionMinutes: number | null } | null;
}

async function nationalUnit(ctx: AppContext) {
  const [row] = await ctx.db.select().from(units).where(sql`${units.parentId} is null`);
  if (!row) throw notFound('Unit');
  return row;
}

export async function transparencySettings(
  ctx: AppContext,
): Promise<TransparencySettings & { timeZone: string }> {
  const row = await nationalUnit(ctx);
  return { page: row.transparencyPage, internal: row.transparencyInternal, timeZone: row.timeZone };
}

/** Only those who may change the national unit (its admins) see or change the switches. */
const authorizeSwitches = (actor: Actor, national: { path: string }) =>
  authorize(actor, 'unit.update', { type: 'unit', unitPath: national.path }, 'Unit');

/** The switches, for the national admins who set them. */
export async function transparencySwitches(ctx: AppContext, actor: Actor): Promise<TransparencySettings> {
  const row = await nationalUnit(ctx);
  authorizeSwitches(actor, row);
  return { page: row.transparencyPage, internal: row.transparencyInternal };
}

/** Turns the page and its internal figures on or off: the national admins. */
export async function updateTransparencySettings(
  ctx: AppContext,
  actor: Actor,
  settings: TransparencySettings,
  ip: string | null,
): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const [unit] = await tx.select().from(units).where(sql`${units.parentId} is null`).for('update');
    if (!unit) throw notFound('Unit');
    authorizeSwitches(actor, unit);
    const changes = changesOf(
      { transparencyPage: unit.transparencyPage, transparencyInternal: unit.transparencyInternal },
      { transparencyPage: settings.page, transparencyInternal: settings.internal },
    );
    if (Object.keys(changes).length === 0) return;
    await tx
      .update(units)
      .set({ transparencyPage: settings.page, transparencyInternal: settings.internal, updatedAt: ctx.now() })
      .where(eq(units.id, unit.id));
    await recordAudit(ctx, tx, {
      actorId: actor.userId,
      unitId: unit.id,
      action: 'organisation.transparency_updated',
      targetType: 'unit',
      targetId: unit.id,
      ip,
      details: { changes },
    });
  });
}

/** Months since `since` (newest first), per unit that published anything, or submitted anything when internal figures are on. */
export async function transparencyMonths(
  ctx: AppContext,
  options: { since: Date; timeZone: string; internal: boolean },
): Promise<TransparencyMonth[]> {
  const zone = options.timeZone;
  const month = (column: string) => sql`to_char(${sql.raw(column)} at time zone ${zone}, 'YYYY-MM')`;
  const since = options.since.toISOString();
  const hidden = sql.raw(NON_PUBLIC_PLATFORMS.map((p) => `'${p}'`).join(', '));
  const published = await queryRows<{
    month: string;
    unit_id: string;
    unit_name: string;
    platform: Platform;
    posts: number;
    deliveries: number;
  }>(
    ctx.db,
    sql`select ${month('d.published_at')} as month, u.id as unit_id, u.name as unit_name, c.platform,
        count(distinct d.post_id)::int as posts, count(*)::int as deliveries
      from deliveries d join channels c on c.id = d.channel_id join posts p on p.id = d.post_id join units u on u.id = p.unit_id
      where d.published_at >= ${since}::timestamptz and d.published_at is not null
        and d.status in ('published', 'retracting', 'retracted', 'retraction_needs_attention')
        and c.platform not in (${hidden})
      group by 1, 2, 3, 4`,
  );
  const postsPublished = await queryRows<{ month: string; unit_id: string; posts: number }>(
    ctx.db,
    sql`select ${month('first_at')} as month, unit_id, count(*)::int as posts from (
        select p.id, p.unit_id, min(d.published_at) as first_at
        from deliveries d join channels c on c.id = d.channel_id join posts p on p.id = d.post_id
        where d.published_at is not null and d.status in ('published', 'retracting', 'retracted', 'retraction_needs_attention')
          and c.platform not in (${hidden})
        group by p.id, p.unit_id
      ) f where first_at >= ${since}::timestamptz group by 1, 2`,
  );
  const internalRows = options.internal
    ? await queryRows<{
        month: string;
        unit_id: string;
        unit_name: string;
        submitted: number;
        rejected: number;
        median: number | null;
      }>(
        ctx.db,
        sql`select ${month('p.submitted_at')} as month, u.id as unit_id, u.name as unit_name,
            count(*)::int as submitted, count(*) filter (where p.status = 'rejected')::int as rejected,
            percentile_cont(0.5) within group (order by extract(epoch from p.decided_at - p.submitted_at) / 60)
              filter (where p.decided_at is not null)::float8 as median
          from posts p join units u on u.id = p.unit_id
          where p.submitted_at >= ${since}::timestamptz group by 1, 2, 3`,
      )
    : [];
  const rows = new Map<string, TransparencyMonth>();
  const rowFor = (key: { month: string; unit_id: string; unit_name: string }) => {
    const id = `${key.month}|${key.unit_id}`;
    let row = rows.get(id);
    if (!row) {
      row = {
        month: key.month,
        unitId: key.unit_id,
        unitName: key.unit_name,
        published: 0,
        byPlatform: {},
        internal: options.internal ? { submitted: 0, rejected: 0, medianDecisionMinutes: null } : null,
      };
      rows.set(id, row);
    }
    return row;
  };
  for (const row of published) {
    const target = rowFor(row);
    target.byPlatform[row.platform] = (target.byPlatform[row.platform] ?? 0) + Number(row.posts);
  }
  for (const row of postsPublished) {
    const target = rows.get(`${row.month}|${row.unit_id}`);
    if (target) target.published = Number(row.posts);
  }
  for (const row of internalRows)
    rowFor(row).internal = {
      submitted: Number(row.submitted),
      rejected: Number(row.rejected),
      medianDecisionMinutes: row.median === null ? null : Number(row.median),
    };
  return [...rows.values()].sort(
    (a, b) => b.month.localeCompare(a.month) || a.unitName.localeCompare(b.unitName),
  );
}
