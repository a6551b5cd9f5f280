import { inArray, sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import { type DbOrTx, queryRows, type Tx } from '../db/client';
import { postingSlots } from '../db/schema';
import { AppError } from '../domain/errors';
import { allocateSlots, type BlockedPeriod, type SlotChannel, type SlotRequest } from '../domain/slots';
import { enqueueDueDeliveries } from '../queues/producers';
import { transitionDeliveryRow } from './delivery-transitions';

/**
 * Fair share of a channel's slots. A "next free slot" delivery is provisional until it enters the
 * queue horizon: at each slotted approval on its channel and whenever a slot is freed there (a
 * cancellation, a retry, a blackout's end) the provisional deliveries of the channel are given the
 * channel's free slots again, the next slot going to the office that has had the fewest of the
 * channel's slots over the fair-share window (ties: the longest wait). Fixed times never move, and
 * no slot inside a blackout is used.
 */

const ts = (date: Date) => sql`${date.toISOString()}::timestamptz`;
const DAY_MS = 24 * 60 * 60 * 1000;
/** How far back taken deliveries matter to slot choice: a day covers daily caps and spacing. */
const TAKEN_LOOKBACK_MS = DAY_MS;
/** Statuses that hold a slot of the channel. */
const TAKING = sql`('scheduled', 'publishing', 'unknown', 'published')`;

/** Which of these channels have posting slots (a "next free slot" needs them). */
export async function channelsWithSlots(db: DbOrTx, channelIds: readonly string[]): Promise<Set<string>> {
  if (channelIds.length === 0) return new Set();
  const rows = await db
    .selectDistinct({ channelId: postingSlots.channelId })
    .from(postingSlots)
    .where(inArray(postingSlots.channelId, [...channelIds]));
  return new Set(rows.map((row) => row.channelId));
}

/** The posting rules of a channel, or null when it has no posting slots. */
export async function slotChannel(db: DbOrTx, channelId: string): Promise<SlotChannel | null> {
  const rows = await queryRows<{
    time_zone: string;
    daily_cap: number | null;
    min_spacing_minutes: number;
    cron: string | null;
  }>(
    db,
    sql`select c.time_zone, c.daily_cap, c.min_spacing_minutes, s.cron
      from channels c left join posting_slots s on s.channel_id = c.id where c.id = ${channelId}::uuid`,
  );
  const crons = rows.flatMap((row) => (row.cron === null ? [] : [row.cron]));
  const first = rows[0];
  if (!first || crons.length === 0) return null;
  return {
    crons,
    timeZone: first.time_zone,
    dailyCap: first.daily_cap === null ? null : Number(first.daily_cap),
    minSpacingMinutes: Number(first.min_spacing_minutes),
  };
}

/** The blackouts over a channel that are not over at `from` (their slots are not to be used). */
export async function blackoutPeriods(db: DbOrTx, channelId: string, from: Date): Promise<BlockedPeriod[]> {
  const rows = await queryRows<{ starts_ms: number; ends_ms: number | null }>(
    db,
    sql`select (extract(epoch from b.starts_at) * 1000)::float8 as starts_ms,
        (extract(epoch from b.ends_at) * 1000)::float8 as ends_ms
      from channels c join units cu on cu.id = c.unit_id, blackouts b join units bu on bu.id = b.unit_id
      where c.id = ${channelId}::uuid and b.settled_at is null and cu.path like bu.path || '%'
        and (b.channel_ids is null or c.id = any(b.channel_ids))
        and (b.ends_at is null or b.ends_at > ${ts(from)})`,
  );
  return rows.map((row) => ({
    from: new Date(Number(row.starts_ms)),
    to: row.ends_ms === null ? null : new Date(Number(row.ends_ms)),
  }));
}

/**
 * The slots of a channel each office has had over the window ending `now`, and those it holds from
 * then on: what was published or is under way, or booked (excluding `except`, the provisional
 * deliveries being planned).
 */
export async function usageByOffice(
  tx: DbOrTx,
  channelId: string,
  now: Date,
  windowDays: number,
  except: readonly string[],
): Promise<Map<string, number>> {
  const rows = await queryRows<{ unit_id: string; n: number }>(
    tx,
    sql`select p.unit_id, count(*)::int as n from deliveries d join posts p on p.id = d.post_id
      where d.channel_id = ${channelId}::uuid and d.status in ${TAKING}
        and coalesce(d.published_at, d.due_at) >= ${ts(new Date(now.getTime() - windowDays * DAY_MS))}
        ${
          except.length > 0
            ? sql`and d.id not in (${sql.join(
                except.map((id) => sql`${id}::uuid`),
                sql`, `,
              )})`
            : sql``
        }
      group by p.unit_id`,
  );
  return new Map(rows.map((row) => [row.unit_id, Number(row.n)]));
}

export interface SlotShare {
  unit: { id: string; name: string };
  /** Published (or under way) over the window. */
  used: number;
  /** Booked from now on (fixed or provisional). */
  booked: number;
}

/** Each office's share of a channel's slots: used over the last `windowDays`, and booked ahead. */
export async function channelShares(
  db: DbOrTx,
  channelId: string,
  now: Date,
  windowDays: number,
): Promise<SlotShare[]> {
  const rows = await queryRows<{ unit_id: string; unit_name: string; used: number; booked: number }>(
    db,
    sql`select p.unit_id, u.name as unit_name,
        count(*) filter (where coalesce(d.published_at, d.due_at) <= ${ts(now)})::int as used,
        count(*) filter (where coalesce(d.published_at, d.due_at) > ${ts(now)})::int as booked
      from deliveries d join posts p on p.id = d.post_id join units u on u.id = p.unit_id
      where d.channel_id = ${channelId}::uuid and d.status in ${TAKING}
        and coalesce(d.published_at, d.due_at) >= ${ts(new Date(now.getTime() - windowDays * DAY_MS))}
      group by p.unit_id, u.name
      order by count(*) desc, u.name`,
  );
  return rows.map((row) => ({
    unit: { id: row.unit_id, name: row.unit_name },
    used: Number(row.used),
    booked: Number(row.booked),
  }));
}

/** A delivery asking for its first slot (an approval in progress). */
export interface FreshRequest {
  /** A key of the caller's choosing (the delivery does not exist yet). */
  key: string;
  unitId: string;
  notBefore: Date | null;
}

export interface ReplanResult {
  /** The slot of each fresh request, by key. */
  fresh: Map<string, Date>;
  /** Provisional deliveries that moved (queue those that came within the horizon). */
  moved: string[];
}

/**
 * Plans a channel's provisional deliveries (and the fresh requests) again. The caller's transaction
 * holds the channel row (locked here, in case it does not); a fresh request without a slot within
 * the planning horizon refuses the whole request (422), a provisional delivery without one keeps
 * its time.
 */
export async function replanChannel(
  ctx: AppContext,
  tx: Tx,
  channelId: string,
  now: Date,
  fresh: readonly FreshRequest[] = [],
): Promise<ReplanResult> {
  const result: ReplanResult = { fresh: new Map(), moved: [] };
  await tx.execute(sql`select id from channels where id = ${channelId}::uuid for update`);
  const channel = await slotChannel(tx, channelId);
  if (!channel) return result;
  const horizon = new Date(now.getTime() + ctx.config.GAUNG_HORIZON_SECONDS * 1000);
  const provisional = await queryRows<{
    id: string;
    unit_id: string;
    due_ms: number;
    created_ms: number;
    preferred_ms: number | null;
  }>(
    tx,
    sql`select d.id, p.unit_id, (extract(epoch from d.due_at) * 1000)::float8 as due_ms,
        (extract(epoch from d.created_at) * 1000)::float8 as created_ms,
        (extract(epoch from p.preferred_from) * 1000)::float8 as preferred_ms
      from deliveries d join posts p on p.id = d.post_id
      where d.channel_id = ${channelId}::uuid and d.status = 'scheduled' and d.slotted = 1
        and d.due_at > ${ts(horizon)}
      order by d.id
      for update of d`,
  );
  if (provisional.length === 0 && fresh.length === 0) return result;
  const ids = provisional.map((row) => row.id);
  const taken = await queryRows<{ at_ms: number }>(
    tx,
    sql`select (extract(epoch from coalesce(published_at, due_at)) * 1000)::float8 as at_ms from deliveries
      where channel_id = ${channelId}::uuid and status in ${TAKING}
        and coalesce(published_at, due_at) >= ${ts(new Date(now.getTime() - TAKEN_LOOKBACK_MS))}
        ${
          ids.length > 0
            ? sql`and id not in (${sql.join(
                ids.map((id) => sql`${id}::uuid`),
                sql`, `,
              )})`
            : sql``
        }`,
  );
  const usage = await usageByOffice(tx, channelId, now, ctx.config.GAUNG_FAIR_SHARE_DAYS, ids);
  const blocked = await blackoutPeriods(tx, channelId, now);
  const requests: SlotRequest[] = [
    ...provisional.map((row) => ({
      id: row.id,
      unitId: row.unit_id,
      requestedAt: new Date(Number(row.created_ms)),
      notBefore: row.preferred_ms === null ? null : new Date(Number(row.preferred_ms)),
      current: new Date(Number(row.due_ms)),
    })),
    ...fresh.map((request) => ({
      id: `fresh:${request.key}`,
      unitId: request.unitId,
      requestedAt: now,
      notBefore: request.notBefore,
    })),
  ];
  const allocation = allocateSlots(
    channel,
    requests,
    taken.map((row) => new Date(Number(row.at_ms))),
    now,
    { usage, blocked },
  );
  const missing = fresh.filter((request) => !allocation.has(`fresh:${request.key}`));
  if (missing.length > 0)
    throw new AppError('invalid_targets', 422, 'Some targets cannot be published as they are', {
      extra: {
        targets: [
          {
            channelId,
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
  for (const request of fresh) result.fresh.set(request.key, allocation.get(`fresh:${request.key}`)!);
  for (const row of provisional) {
    const at = allocation.get(row.id);
    if (!at || at.getTime() === Number(row.due_ms)) continue;
    await transitionDeliveryRow(tx, {
      deliveryId: row.id,
      from: 'scheduled',
      event: 'replan',
      now,
      reason: `fair share: moved to ${at.toISOString()}`,
      dueAt: at,
    });
    result.moved.push(row.id);
  }
  return result;
}

/**
 * After a slot of these channels was freed (a cancellation, a retry, a blackout's end): plans their
 * provisional deliveries again, each channel in a transaction of its own, and queues those that
 * came within the horizon. A failure is logged: the next freed slot or approval plans again.
 */
export async function replanAfterFreed(ctx: AppContext, channelIds: readonly string[]): Promise<void> {
  for (const channelId of [...new Set(channelIds)].sort()) {
    try {
      const moved = await ctx.db.transaction(
        async (tx) => (await replanChannel(ctx, tx, channelId, ctx.now())).moved,
      );
      await enqueueDueDeliveries(ctx, moved);
    } catch (error) {
      ctx.log.warn({ err: error, channelId }, 'could not plan the channel’s slots again');
    }
  }
}
