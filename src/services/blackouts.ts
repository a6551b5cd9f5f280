import { and, eq, isNull, sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import { queryRows, type Tx } from '../db/client';
import { blackouts, postingSlots, units } from '../db/schema';
import { forbidden, invalid, notFound } from '../domain/errors';
import { type Actor, authorize, decide } from '../domain/permissions';
import { allocateSlots } from '../domain/slots';
import type { BlackoutOnEnd } from '../domain/vocabulary';
import { enqueueDueDeliveries, enqueueNotify } from '../queues/producers';
import { recordAudit } from './audit';
import { transitionDeliveryRow } from './delivery-transitions';
import { recordNotifications } from './notifications';
import { insertPostEvent } from './post-transitions';
import { blackoutPeriods, replanAfterFreed, usageByOffice } from './slot-planning';

/**
 * Blackouts: periods in which the channels of a unit's subtree (or some of them) publish nothing.
 * The publish claim itself refuses a covered channel (`blackoutHolds`), so a blackout takes effect
 * the moment it is saved, for jobs already in Redis too. Once it ends, what fell due inside is moved
 * into the channel's next free slots, fairly across offices (`reschedule`), or handed to a person
 * (`hold`). Retractions are never held.
 */

const ts = (date: Date) => sql`${date.toISOString()}::timestamptz`;

/**
 * The SQL condition "a blackout holds this delivery now", for a query where `c` is the channel and
 * `dueAt` the delivery's due time: a blackout covering now, or one that has ended but whose
 * deliveries (due before its end) are not settled yet.
 */
export function blackoutHolds(now: Date, dueAt = sql`deliveries.due_at`) {
  return sql`exists (select 1 from blackouts b join units bu on bu.id = b.unit_id join units cu on cu.id = c.unit_id
    where b.settled_at is null and b.starts_at <= ${ts(now)}
      and (b.ends_at is null or b.ends_at > ${ts(now)} or ${dueAt} < b.ends_at)
      and cu.path like bu.path || '%'
      and (b.channel_ids is null or c.id = any(b.channel_ids)))`;
}

export interface BlackoutView {
  id: string;
  unit: { id: string; name: string };
  startsAt: string;
  endsAt: string | null;
  reason: string;
  channelIds: string[] | null;
  onEnd: BlackoutOnEnd;
  /** Covers now. */
  active: boolean;
  /** National, from now, no end: the emergency stop. */
  emergency: boolean;
  createdBy: { id: string; name: string } | null;
  createdAt: string;
}

type BlackoutRow = {
  id: string;
  unit_id: string;
  unit_name: string;
  unit_path: string;
  parent_id: string | null;
  starts_ms: number;
  ends_ms: number | null;
  reason: string;
  channel_ids: string[] | null;
  on_end: BlackoutOnEnd;
  created_by: string | null;
  creator_name: string | null;
  created_ms: number;
};

const blackoutColumns = sql`b.id, b.unit_id, u.name as unit_name, u.path as unit_path, u.parent_id,
  (extract(epoch from b.starts_at) * 1000)::float8 as starts_ms, (extract(epoch from b.ends_at) * 1000)::float8 as ends_ms,
  b.reason, b.channel_ids, b.on_end, b.created_by, cu.name as creator_name,
  (extract(epoch from b.created_at) * 1000)::float8 as created_ms`;

function view(row: BlackoutRow, now: Date): BlackoutView & { unitPath: string } {
  const startsAt = new Date(Number(row.starts_ms));
  const endsAt = row.ends_ms === null ? null : new Date(Number(row.ends_ms));
  return {
    id: row.id,
    unit: { id: row.unit_id, name: row.unit_name },
    unitPath: row.unit_path,
    startsAt: startsAt.toISOString(),
    endsAt: endsAt?.toISOString() ?? null,
    reason: row.reason,
    channelIds: row.channel_ids,
    onEnd: row.on_end,
    active: startsAt <= now && (endsAt === null || endsAt > now),
    emergency: row.parent_id === null && endsAt === null && row.channel_ids === null,
    createdBy: row.created_by ? { id: row.created_by, name: row.creator_name ?? '' } : null,
    createdAt: new Date(Number(row.created_ms)).toISOString(),
  };
}

/**
 * Blackouts that are not over, as the actor may see them: those over their unit or above it (the
 * banner), and those in their subtree. `coveringUnitPath`: only those covering that unit.
 */
export async function listBlackouts(
  ctx: AppContext,
  actor: Actor,
  options: { coveringUnitPath?: string; includeEnded?: boolean } = {},
): Promise<BlackoutView[]> {
  const now = ctx.now();
  const rows = await queryRows<BlackoutRow>(
    ctx.db,
    sql`select ${blackoutColumns} from blackouts b join units u on u.id = b.unit_id
      left join users cu on cu.id = b.created_by
      where ${options.includeEnded ? sql`true` : sql`(b.ends_at is null or b.ends_at > ${ts(now)})`}
        ${options.coveringUnitPath ? sql`and ${options.coveringUnitPath} like u.path || '%'` : sql``}
      order by b.starts_at, b.id limit 500`,
  );
  return rows
    .map((row) => view(row, now))
    .filter(
      (entry) => decide(actor, 'blackout.read', { type: 'blackout', unitPath: entry.unitPath }) === 'allow',
    )
    .map(({ unitPath: _, ...entry }) => entry);
}

/** The blackouts covering now the viewer's unit (for the banner on every page). */
export async function activeBlackoutsOver(ctx: AppContext, actor: Actor): Promise<BlackoutView[]> {
  return (await listBlackouts(ctx, actor, { coveringUnitPath: actor.unitPath })).filter(
    (entry) => entry.active,
  );
}

export interface BlackoutInput {
  unitId: string;
  startsAt: string;
  endsAt: string | null;
  reason: string;
  channelIds?: string[];
  onEnd: BlackoutOnEnd;
}

/** Saves a blackout; covering now, it holds every claim of its channels from this commit on. */
export async function createBlackout(
  ctx: AppContext,
  actor: Actor,
  input: BlackoutInput,
  ip: string | null = null,
): Promise<BlackoutView> {
  const [unit] = await ctx.db.select().from(units).where(eq(units.id, input.unitId));
  if (!unit) throw notFound('Unit');
  const decision = decide(actor, 'blackout.manage', { type: 'blackout', unitPath: unit.path });
  if (decision === 'not_found') throw notFound('Unit');
  if (decision === 'forbidden')
    throw forbidden('Only administrators of this unit (or above it) may set a blackout over it');
  const startsAt = new Date(input.startsAt);
  const endsAt = input.endsAt ? new Date(input.endsAt) : null;
  if (endsAt && endsAt <= startsAt)
    throw invalid([{ field: 'endsAt', message: 'must be after startsAt', code: 'empty_range' }]);
  if (endsAt && endsAt <= ctx.now())
    throw invalid([{ field: 'endsAt', message: 'is already past', code: 'in_the_past' }]);
  const channelIds = input.channelIds?.length ? [...new Set(input.channelIds)] : null;
  if (channelIds) {
    const found = await queryRows<{ id: string }>(
      ctx.db,
      sql`select c.id from channels c join units u on u.id = c.unit_id
        where c.id in (${sql.join(
          channelIds.map((id) => sql`${id}::uuid`),
          sql`, `,
        )}) and u.path like ${`${unit.path}%`}`,
    );
    const known = new Set(found.map((row) => row.id));
    const errors = channelIds
      .map((id, index) => ({ id, index }))
      .filter(({ id }) => !known.has(id))
      .map(({ index }) => ({
        field: `channelIds.${index}`,
        message: "is not a channel of the unit's subtree",
        code: 'unknown_channel',
      }));
    if (errors.length > 0) throw invalid(errors);
  }
  const id = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(blackouts)
      .values({
        unitId: unit.id,
        startsAt,
        endsAt,
        reason: input.reason.trim(),
        channelIds,
        onEnd: input.onEnd,
        createdBy: actor.userId,
        createdAt: ctx.now(),
      })
      .returning({ id: blackouts.id });
    await recordAudit(ctx, tx, {
      actorId: actor.userId,
      unitId: unit.id,
      action: 'blackout.create',
      targetType: 'blackout',
      targetId: row!.id,
      ip,
      details: {
        startsAt: input.startsAt,
        endsAt: input.endsAt,
        reason: input.reason,
        channelIds,
        onEnd: input.onEnd,
      },
    });
    return row!.id;
  });
  return loadBlackout(ctx, id);
}

export async function loadBlackout(ctx: AppContext, id: string): Promise<BlackoutView> {
  const [row] = await queryRows<BlackoutRow>(
    ctx.db,
    sql`select ${blackoutColumns} from blackouts b join units u on u.id = b.unit_id
      left join users cu on cu.id = b.created_by where b.id = ${id}::uuid`,
  );
  if (!row) throw notFound('Blackout');
  const { unitPath: _, ...entry } = view(row, ctx.now());
  return entry;
}

/** The unit path of a blackout, for `authorize`, or 404. */
async function blackoutUnitPath(ctx: AppContext, id: string): Promise<string> {
  const [row] = await ctx.db
    .select({ path: units.path })
    .from(blackouts)
    .innerJoin(units, eq(units.id, blackouts.unitId))
    .where(eq(blackouts.id, id));
  if (!row) throw notFound('Blackout');
  return row.path;
}

/**
 * Ends a blackout now (lifts an emergency stop); one that has not started yet is called off. What
 * fell due inside is settled by the next sweep, as the blackout says.
 */
export async function endBlackout(ctx: AppContext, actor: Actor, id: string, ip: string | null = null) {
  authorize(
    actor,
    'blackout.manage',
    { type: 'blackout', unitPath: await blackoutUnitPath(ctx, id) },
    'Blackout',
  );
  const now = ctx.now();
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx.select().from(blackouts).where(eq(blackouts.id, id)).for('update');
    if (!row) throw notFound('Blackout');
    if (row.endsAt && row.endsAt <= now) return;
    if (row.startsAt >= now)
      await tx.update(blackouts).set({ endsAt: null, settledAt: now }).where(eq(blackouts.id, id));
    else await tx.update(blackouts).set({ endsAt: now }).where(eq(blackouts.id, id));
    await recordAudit(ctx, tx, {
      actorId: actor.userId,
      unitId: row.unitId,
      action: 'blackout.end',
      targetType: 'blackout',
      targetId: id,
      ip,
      details: { reason: row.reason, startedAt: row.startsAt.toISOString() },
    });
  });
  await settleEndedBlackouts(ctx);
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Where a channel has no posting slots, rescheduled deliveries go out from the end on, a minute apart at the least. */
const EVERY_MINUTE = '* * * * *';

/**
 * For each blackout that has ended and is not settled: the deliveries held by it (scheduled, due
 * before its end, on its channels) are rescheduled into free slots after the end, fairly across the
 * offices they came from, or handed to a person. Each blackout is settled once (row lock).
 */
export async function settleEndedBlackouts(ctx: AppContext): Promise<number> {
  const now = ctx.now();
  const ended = await ctx.db
    .select({ id: blackouts.id })
    .from(blackouts)
    .where(and(isNull(blackouts.settledAt), sql`${blackouts.endsAt} <= ${ts(now)}`));
  let moved = 0;
  for (const { id } of ended) moved += await settleBlackout(ctx, id);
  return moved;
}

async function settleBlackout(ctx: AppContext, id: string): Promise<number> {
  const now = ctx.now();
  const due: string[] = [];
  const freed = new Set<string>();
  const outbox: number[] = [];
  await ctx.db.transaction(async (tx) => {
    const [blackout] = await tx
      .select()
      .from(blackouts)
      .where(and(eq(blackouts.id, id), isNull(blackouts.settledAt)))
      .for('update', { skipLocked: true });
    if (!blackout?.endsAt) return;
    const endsAt = blackout.endsAt;
    const candidates = await queryRows<{
      id: string;
      channel_id: string;
      channel_name: string;
      post_id: string;
      post_unit_id: string;
      due_ms: number;
      still_held: boolean;
    }>(
      tx,
      sql`select d.id, d.channel_id, c.name as channel_name, d.post_id, p.unit_id as post_unit_id, (extract(epoch from d.due_at) * 1000)::float8 as due_ms,
          ${blackoutHoldsOther(id, now)} as still_held
        from deliveries d join channels c on c.id = d.channel_id join units cu on cu.id = c.unit_id
          join posts p on p.id = d.post_id, units bu
        where bu.id = ${blackout.unitId}::uuid and cu.path like bu.path || '%'
          and ${blackout.channelIds ? sql`c.id = any(${sql.raw(`'{${blackout.channelIds.join(',')}}'`)}::uuid[])` : sql`true`}
          and d.status = 'scheduled' and d.due_at < ${ts(endsAt)}
        order by d.due_at, d.id
        for update of d`,
    );
    // Another blackout still covering the channel settles these when it ends.
    const held = candidates.filter((row) => !row.still_held);
    // Its slots are free again for the channels' provisional deliveries.
    const provisional = await queryRows<{ channel_id: string }>(
      tx,
      sql`select distinct d.channel_id from deliveries d join channels c on c.id = d.channel_id
          join units cu on cu.id = c.unit_id, units bu
        where bu.id = ${blackout.unitId}::uuid and cu.path like bu.path || '%'
          and ${blackout.channelIds ? sql`c.id = any(${sql.raw(`'{${blackout.channelIds.join(',')}}'`)}::uuid[])` : sql`true`}
          and d.status = 'scheduled' and d.slotted = 1 and d.due_at >= ${ts(endsAt)}`,
    );
    for (const row of [...held, ...provisional]) freed.add(row.channel_id);
    const reason = `blackout: ${blackout.reason}`;
    if (blackout.onEnd === 'hold') {
      for (const row of held)
        await transitionDeliveryRow(tx, {
          deliveryId: row.id,
          from: 'scheduled',
          event: 'hold',
          now,
          reason: `held for a person after the ${reason}`,
          lastError: {
            message: `It fell due during a blackout (${blackout.reason}); retry it to publish now, or cancel it`,
            code: 'blackout_hold',
          },
        });
    } else {
      const byChannel = new Map<string, typeof held>();
      for (const row of held) byChannel.set(row.channel_id, [...(byChannel.get(row.channel_id) ?? []), row]);
      for (const [channelId, rows] of byChannel) {
        const allocation = await allocateAfter(ctx.config, tx, channelId, rows, endsAt);
        for (const row of rows) {
          const at = allocation.get(row.id);
          if (at) {
            await transitionDeliveryRow(tx, {
              deliveryId: row.id,
              from: 'scheduled',
              event: 'reschedule',
              now,
              reason: `moved to ${at.toISOString()} after the ${reason}`,
              dueAt: at,
            });
            due.push(row.id);
            outbox.push(...(await tellOffice(ctx, tx, row, at, blackout.reason, now)));
          } else {
            await transitionDeliveryRow(tx, {
              deliveryId: row.id,
              from: 'scheduled',
              event: 'hold',
              now,
              reason: `no free slot after the ${reason}`,
              lastError: {
                message: `No free slot within 30 days after the blackout (${blackout.reason}); retry or cancel it`,
                code: 'blackout_hold',
              },
            });
          }
        }
      }
    }
    await tx.update(blackouts).set({ settledAt: now }).where(eq(blackouts.id, id));
  });
  await enqueueDueDeliveries(ctx, due).catch((error: unknown) =>
    ctx.log.warn(
      { err: error, blackoutId: id },
      'could not queue the rescheduled deliveries; the sweeper will',
    ),
  );
  // The blackout's slots are free again: provisional deliveries may move into them.
  await replanAfterFreed(ctx, [...freed]);
  await enqueueNotify(ctx, outbox).catch((error: unknown) =>
    ctx.log.warn({ err: error, blackoutId: id }, 'could not queue the notices; the sweeper will'),
  );
  return due.length;
}

/**
 * The office of a rescheduled delivery is told its new time: the post's timeline, an in-app notice
 * for its people and the notify outbox (e-mail, the unit's webhook), in the settling transaction.
 */
async function tellOffice(
  ctx: AppContext,
  tx: Tx,
  row: { id: string; channel_id: string; channel_name: string; post_id: string; post_unit_id: string },
  at: Date,
  blackoutReason: string,
  now: Date,
): Promise<number[]> {
  const data = {
    outcome: 'rescheduled',
    deliveryId: row.id,
    channelId: row.channel_id,
    channelName: row.channel_name,
    dueAt: at.toISOString(),
    blackout: blackoutReason,
  };
  const postEventId = await insertPostEvent(tx, {
    postId: row.post_id,
    actorId: null,
    kind: 'delivery',
    body: `Moved to ${at.toISOString()} after the blackout: ${blackoutReason}`,
    data,
    at: now,
  });
  return recordNotifications(ctx, tx, {
    postId: row.post_id,
    unitId: row.post_unit_id,
    postEventId,
    kind: 'delivery.rescheduled',
    deliveryId: row.id,
    data,
    at: now,
  });
}

/** Whether another unsettled blackout still holds the delivery `d` of channel `c` (then it decides). */
function blackoutHoldsOther(id: string, now: Date) {
  return sql`exists (select 1 from blackouts o join units ou on ou.id = o.unit_id
    where o.id <> ${id}::uuid and o.settled_at is null and o.starts_at <= ${ts(now)}
      and (o.ends_at is null or o.ends_at > ${ts(now)}) and cu.path like ou.path || '%'
      and (o.channel_ids is null or c.id = any(o.channel_ids)))`;
}

/** Free times after `after` for the held deliveries of one channel, shared fairly across their offices. */
async function allocateAfter(
  config: AppContext['config'],
  tx: Tx,
  channelId: string,
  rows: { id: string; post_unit_id: string; due_ms: number }[],
  after: Date,
): Promise<Map<string, Date>> {
  const [channel] = await queryRows<{
    time_zone: string;
    daily_cap: number | null;
    min_spacing_minutes: number;
  }>(tx, sql`select time_zone, daily_cap, min_spacing_minutes from channels where id = ${channelId}::uuid`);
  if (!channel) return new Map();
  const crons = await tx
    .select({ cron: postingSlots.cron })
    .from(postingSlots)
    .where(eq(postingSlots.channelId, channelId));
  const ids = rows.map((row) => row.id);
  const taken = await queryRows<{ at_ms: number }>(
    tx,
    sql`select (extract(epoch from coalesce(published_at, due_at)) * 1000)::float8 as at_ms from deliveries
      where channel_id = ${channelId}::uuid and status in ('scheduled', 'publishing', 'unknown', 'published')
        and coalesce(published_at, due_at) >= ${ts(new Date(after.getTime() - DAY_MS))}
        and id not in (${sql.join(
          ids.map((rowId) => sql`${rowId}::uuid`),
          sql`, `,
        )})`,
  );
  const usage = await usageByOffice(tx, channelId, after, config.GAUNG_FAIR_SHARE_DAYS, ids);
  const blocked = await blackoutPeriods(tx, channelId, after);
  // One minute before the end: the end itself may be the first slot.
  return allocateSlots(
    {
      crons: crons.length > 0 ? crons.map((row) => row.cron) : [EVERY_MINUTE],
      timeZone: channel.time_zone,
      dailyCap: channel.daily_cap,
      minSpacingMinutes: channel.min_spacing_minutes,
    },
    rows.map((row) => ({ id: row.id, unitId: row.post_unit_id, requestedAt: new Date(Number(row.due_ms)) })),
    taken.map((row) => new Date(Number(row.at_ms))),
    new Date(after.getTime() - 1),
    { usage, blocked },
  );
}

/** The blackouts over a channel at some time (the approve screen warns about them). */
export async function blackoutsAt(ctx: AppContext, channelIds: readonly string[], at: Date) {
  return blackoutsOver(ctx, channelIds, at, new Date(at.getTime() + 1));
}

export interface ChannelBlackout {
  channelId: string;
  reason: string;
  startsAt: Date;
  endsAt: Date | null;
}

/** The blackouts over each of these channels that overlap [from, to) (the calendar shades them). */
export async function blackoutsOver(
  ctx: AppContext,
  channelIds: readonly string[],
  from: Date,
  to: Date,
): Promise<ChannelBlackout[]> {
  if (channelIds.length === 0) return [];
  const rows = await queryRows<{
    channel_id: string;
    reason: string;
    starts_ms: number;
    ends_ms: number | null;
  }>(
    ctx.db,
    sql`select c.id as channel_id, b.reason, (extract(epoch from b.starts_at) * 1000)::float8 as starts_ms,
        (extract(epoch from b.ends_at) * 1000)::float8 as ends_ms
      from channels c join units cu on cu.id = c.unit_id
      join blackouts b on b.starts_at < ${ts(to)} and (b.ends_at is null or b.ends_at > ${ts(from)})
        and (b.settled_at is null or b.ends_at is not null)
      join units bu on bu.id = b.unit_id
      where c.id in (${sql.join(
        channelIds.map((id) => sql`${id}::uuid`),
        sql`, `,
      )}) and cu.path like bu.path || '%'
        and (b.channel_ids is null or c.id = any(b.channel_ids))
      order by b.starts_at`,
  );
  return rows.map((row) => ({
    channelId: row.channel_id,
    reason: row.reason,
    startsAt: new Date(Number(row.starts_ms)),
    endsAt: row.ends_ms === null ? null : new Date(Number(row.ends_ms)),
  }));
}
