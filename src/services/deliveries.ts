import { and, asc, desc, eq, gte, inArray, lte, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { AppContext } from '../context';
import type { DbOrTx } from '../db/client';
import {
  channels,
  deliveries,
  deliveryAttempts,
  deliveryEvents,
  postingSlots,
  posts,
  units,
  users,
} from '../db/schema';
import { allowedDeliveryEvents, type DeliveryEvent, transitionDelivery } from '../domain/delivery-machine';
import { conflict, invalid, notFound, staleVersion } from '../domain/errors';
import { type Actor, atLeast, authorize, decide, type Resource } from '../domain/permissions';
import { freeSlots } from '../domain/slots';
import type { AttemptOutcome, DeliveryMode, DeliveryStatus, Platform } from '../domain/vocabulary';
import {
  dropPublishJob,
  enqueueDueDeliveries,
  enqueueNotify,
  enqueueRetractionJobs,
  followRescheduledDelivery,
} from '../queues/producers';
import { readableChannel } from './channels';
import { type DeliveryTransition, transitionDeliveryRow } from './delivery-transitions';
import { publishOutcomeCtes } from './notifications';
import { exactTime } from './posts';
import { settleRetractedPosts } from './retraction';
import { blackoutPeriods, channelShares, replanAfterFreed, type SlotShare } from './slot-planning';
import { loadUnit } from './units';

/**
 * Deliveries for the people who run them: the list (failed and unsure ones first when asked), one
 * delivery with its attempts and audit trail, and the manual steps — retry, cancel, confirm with the
 * URL, move to another time. Every change goes through the delivery state machine.
 */

const channelUnits = alias(units, 'channel_units');
const postUnits = alias(units, 'post_units');

/** Where a summary's post and channel are, selected beside the delivery (posts, post units and channels joined). */
const placeColumns = {
  unitId: posts.unitId,
  unitName: postUnits.name,
  channelId: channels.id,
  channelName: channels.name,
  platform: channels.platform,
};

export interface DeliveryFacts {
  id: string;
  status: DeliveryStatus;
  version: number;
  attempts: number;
  dueAt: Date;
  channelId: string;
  channelUnitPath: string;
  postUnitPath: string;
}

export const deliveryResource = (
  facts: Pick<DeliveryFacts, 'channelUnitPath' | 'postUnitPath'>,
): Resource => ({
  type: 'delivery',
  channelUnitPath: facts.channelUnitPath,
  postUnitPath: facts.postUnitPath,
});

/** What `authorize` needs about a delivery, or 404. */
export async function deliveryFacts(db: DbOrTx, id: string): Promise<DeliveryFacts> {
  const [row] = await db
    .select({
      id: deliveries.id,
      status: deliveries.status,
      version: deliveries.version,
      attempts: deliveries.attempts,
      dueAt: deliveries.dueAt,
      channelId: deliveries.channelId,
      channelUnitPath: channelUnits.path,
      postUnitPath: postUnits.path,
    })
    .from(deliveries)
    .innerJoin(channels, eq(channels.id, deliveries.channelId))
    .innerJoin(channelUnits, eq(channelUnits.id, channels.unitId))
    .innerJoin(posts, eq(posts.id, deliveries.postId))
    .innerJoin(postUnits, eq(postUnits.id, posts.unitId))
    .where(eq(deliveries.id, id));
  if (!row) throw notFound('Delivery');
  return row;
}

export interface DeliverySummary {
  id: string;
  postId: string;
  unit: { id: string; name: string };
  channel: { id: string; name: string; platform: Platform };
  mode: DeliveryMode;
  status: DeliveryStatus;
  dueAt: string;
  slotted: boolean;
  attempts: number;
  excerpt: string;
  remoteUrl: string | null;
  publishedAt: string | null;
  lastError: string | null;
  lastErrorCode: string | null;
  /** The reviewer's platform choices recorded with the delivery (TikTok's privacy level and interactions). */
  platformOptions: Record<string, unknown> | null;
  version: number;
  updatedAt: string;
}

export interface DeliveryListFilters {
  status?: DeliveryStatus[];
  channelId?: string;
  /** Originating unit and its subtree (the actor must see the unit). */
  unitId?: string;
  postId?: string;
  from?: string;
  to?: string;
  /** `due`: by due time; `attention`: failed and needs_attention first, then unknown, then the rest. */
  sort: 'due' | 'attention';
  cursor?: string;
  limit: number;
}

/** The deliveries an actor may read, as SQL: the same rule as `decide(actor, 'delivery.read', …)`. */
function visibleDeliveries(actor: Actor): SQL {
  if (!atLeast(actor, 'reviewer')) return eq(postUnits.path, actor.unitPath);
  return sql`(${channelUnits.path} like ${`${actor.unitPath}%`} or ${postUnits.path} like ${`${actor.unitPath}%`})`;
}

const attentionRank = sql<number>`(case ${deliveries.status} when 'failed' then 0 when 'needs_attention' then 0 when 'unknown' then 1 else 2 end)`;

interface Cursor {
  rank: number;
  at: string;
  id: string;
}

const encodeCursor = (cursor: Cursor) =>
  Buffer.from(JSON.stringify([cursor.rank, cursor.at, cursor.id])).toString('base64url');

function decodeCursor(value: string): Cursor {
  try {
    const [rank, at, id] = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown[];
    if (
      typeof rank === 'number' &&
      Number.isInteger(rank) &&
      typeof at === 'string' &&
      !Number.isNaN(Date.parse(at)) &&
      typeof id === 'string' &&
      /^[0-9a-f-]{36}$/i.test(id)
    )
      return { rank, at, id };
  } catch {
    // fall through to the validation error
  }
  throw invalid([{ field: 'cursor', message: 'not a cursor this API returned', code: 'invalid_cursor' }]);
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** Keyset-paginated: rows changing meanwhile never shift a page. */
export async function listDeliveries(
  ctx: AppContext,
  actor: Actor,
  filters: DeliveryListFilters,
): Promise<{ items: DeliverySummary[]; nextCursor: string | null }> {
  let unitPath: string | undefined;
  if (filters.unitId) {
    unitPath = (await loadUnit(ctx, filters.unitId)).path;
    authorize(actor, 'unit.read', { type: 'unit', unitPath }, 'Unit');
  }
  const cursor = filters.cursor ? decodeCursor(filters.cursor) : undefined;
  const rank = filters.sort === 'attention' ? attentionRank : sql<number>`0::int`;
  const rows = await ctx.db
    .select({
      ...placeColumns,
      id: deliveries.id,
      postId: deliveries.postId,
      mode: deliveries.mode,
      status: deliveries.status,
      dueAt: deliveries.dueAt,
      slotted: deliveries.slotted,
      attempts: deliveries.attempts,
      excerpt: sql<string>`left(${deliveries.renderedText}, 200)`,
      remoteUrl: deliveries.remoteUrl,
      publishedAt: deliveries.publishedAt,
      lastError: deliveries.lastError,
      lastErrorCode: deliveries.lastErrorCode,
      platformOptions: deliveries.platformOptions,
      version: deliveries.version,
      updatedAt: deliveries.updatedAt,
      rank,
      exactDueAt: exactTime(deliveries.dueAt),
      channelUnitPath: channelUnits.path,
      postUnitPath: postUnits.path,
    })
    .from(deliveries)
    .innerJoin(channels, eq(channels.id, deliveries.channelId))
    .innerJoin(channelUnits, eq(channelUnits.id, channels.unitId))
    .innerJoin(posts, eq(posts.id, deliveries.postId))
    .innerJoin(postUnits, eq(postUnits.id, posts.unitId))
    .where(
      and(
        visibleDeliveries(actor),
        filters.status?.length ? inArray(deliveries.status, filters.status) : undefined,
        filters.channelId ? eq(deliveries.channelId, filters.channelId) : undefined,
        unitPath ? sql`${postUnits.path} like ${`${unitPath}%`}` : undefined,
        filters.postId ? eq(deliveries.postId, filters.postId) : undefined,
        filters.from ? gte(deliveries.dueAt, new Date(filters.from)) : undefined,
        filters.to
          ? sql`${deliveries.dueAt} < ${new Date(filters.to).toISOString()}::timestamptz`
          : undefined,
        cursor
          ? sql`(${rank}, ${deliveries.dueAt}, ${deliveries.id}) > (${cursor.rank}::int, ${cursor.at}::timestamptz, ${cursor.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(asc(rank), asc(deliveries.dueAt), asc(deliveries.id))
    .limit(filters.limit + 1);
  const page = rows.slice(0, filters.limit);
  const last = page.at(-1);
  return {
    // The SQL above mirrors `decide`; `decide` stays the authority.
    items: page
      .filter((row) => decide(actor, 'delivery.read', deliveryResource(row)) === 'allow')
      .map((row) => summaryOf(row, row, row.excerpt)),
    nextCursor:
      rows.length > filters.limit && last
        ? encodeCursor({ rank: Number(last.rank), at: last.exactDueAt, id: last.id })
        : null,
  };
}

/** The columns of a delivery a summary shows, and where its post and channel are. */
type SummaryColumns = Pick<
  typeof deliveries.$inferSelect,
  | 'id'
  | 'postId'
  | 'mode'
  | 'status'
  | 'dueAt'
  | 'slotted'
  | 'attempts'
  | 'remoteUrl'
  | 'publishedAt'
  | 'lastError'
  | 'lastErrorCode'
  | 'platformOptions'
  | 'version'
  | 'updatedAt'
>;
interface SummaryPlace {
  unitId: string;
  unitName: string;
  channelId: string;
  channelName: string;
  platform: Platform;
}

function summaryOf(d: SummaryColumns, place: SummaryPlace, excerpt: string): DeliverySummary {
  return {
    id: d.id,
    postId: d.postId,
    unit: { id: place.unitId, name: place.unitName },
    channel: { id: place.channelId, name: place.channelName, platform: place.platform },
    mode: d.mode,
    status: d.status,
    dueAt: d.dueAt.toISOString(),
    slotted: d.slotted !== 0,
    attempts: d.attempts,
    excerpt,
    remoteUrl: d.remoteUrl,
    publishedAt: iso(d.publishedAt),
    lastError: d.lastError,
    lastErrorCode: d.lastErrorCode,
    platformOptions: d.platformOptions ?? null,
    version: d.version,
    updatedAt: d.updatedAt.toISOString(),
  };
}

export interface DeliveryDetail extends DeliverySummary {
  renderedText: string;
  leaseUntil: string | null;
  /** What a person may do now (cancel, retry, confirm, reschedule). */
  actions: DeliveryEvent[];
  attemptHistory: {
    number: number;
    startedAt: string;
    endedAt: string | null;
    outcome: AttemptOutcome | null;
    httpStatus: number | null;
    error: string | null;
    errorCode: string | null;
    worker: string | null;
  }[];
  events: {
    id: number;
    from: DeliveryStatus | null;
    to: DeliveryStatus;
    reason: string | null;
    actor: { id: string; name: string } | null;
    at: string;
  }[];
}

const HUMAN_ACTIONS: DeliveryEvent[] = [
  'cancel',
  'retry',
  'confirm',
  'reschedule',
  'retry_retraction',
  'confirm_retracted',
];

export async function loadDeliveryDetail(ctx: AppContext, actor: Actor, id: string): Promise<DeliveryDetail> {
  const facts = await deliveryFacts(ctx.db, id);
  authorize(actor, 'delivery.read', deliveryResource(facts), 'Delivery');
  const [[row], attemptRows, eventRows] = await Promise.all([
    ctx.db
      .select({ ...placeColumns, delivery: deliveries })
      .from(deliveries)
      .innerJoin(channels, eq(channels.id, deliveries.channelId))
      .innerJoin(posts, eq(posts.id, deliveries.postId))
      .innerJoin(postUnits, eq(postUnits.id, posts.unitId))
      .where(eq(deliveries.id, id)),
    ctx.db
      .select()
      .from(deliveryAttempts)
      .where(eq(deliveryAttempts.deliveryId, id))
      .orderBy(asc(deliveryAttempts.number)),
    ctx.db
      .select({ event: deliveryEvents, actorName: users.name })
      .from(deliveryEvents)
      .leftJoin(users, eq(users.id, deliveryEvents.actorId))
      .where(eq(deliveryEvents.deliveryId, id))
      .orderBy(desc(deliveryEvents.id)),
  ]);
  if (!row) throw notFound('Delivery');
  const d = row.delivery;
  const controls = decide(actor, 'delivery.manage', deliveryResource(facts));
  return {
    ...summaryOf(d, row, d.renderedText.slice(0, 200)),
    renderedText: d.renderedText,
    leaseUntil: iso(d.leaseUntil),
    actions:
      controls === 'allow'
        ? allowedDeliveryEvents(d.status).filter((event) => HUMAN_ACTIONS.includes(event))
        : [],
    attemptHistory: attemptRows.map((attempt) => ({
      number: attempt.number,
      startedAt: attempt.startedAt.toISOString(),
      endedAt: iso(attempt.endedAt),
      outcome: attempt.outcome,
      httpStatus: attempt.httpStatus,
      error: attempt.error,
      errorCode: attempt.errorCode,
      worker: attempt.worker,
    })),
    events: eventRows.map(({ event, actorName }) => ({
      id: event.id,
      from: event.fromStatus,
      to: event.toStatus,
      reason: event.reason,
      actor: event.actorId ? { id: event.actorId, name: actorName ?? '' } : null,
      at: event.createdAt.toISOString(),
    })),
  };
}

/** The delivery, when the actor may steer it (`delivery.manage`); 404 or 403 otherwise. */
async function manageableDelivery(ctx: AppContext, actor: Actor, id: string): Promise<DeliveryFacts> {
  const facts = await deliveryFacts(ctx.db, id);
  authorize(actor, 'delivery.manage', deliveryResource(facts), 'Delivery');
  return facts;
}

/**
 * A person's step on a delivery: the state machine must allow it from the current status, and the
 * row must still be at the version the caller saw (when the caller says which).
 */
async function act(
  ctx: AppContext,
  actor: Actor,
  facts: DeliveryFacts,
  event: DeliveryEvent,
  change: Omit<DeliveryTransition, 'deliveryId' | 'from' | 'event' | 'now' | 'actorId' | 'version'>,
  options: { version?: number; notify?: 'published' },
) {
  if (options.version !== undefined && options.version !== facts.version) throw staleVersion(facts.version);
  const step = transitionDelivery(facts.status, event);
  if (!step.ok) throw conflict(step.code, step.message, { deliveryStatus: facts.status });
  const transition: DeliveryTransition = {
    ...change,
    deliveryId: facts.id,
    from: facts.status,
    event,
    version: facts.version,
    now: ctx.now(),
    actorId: actor.userId,
  };
  const row = await transitionDeliveryRow(ctx.db, {
    ...transition,
    announce: options.notify ? publishOutcomeCtes(ctx, options.notify, transition.now) : undefined,
  });
  if (!row) {
    // Changed meanwhile (by the engine or another person): the caller reloads and decides again.
    const current = await deliveryFacts(ctx.db, facts.id);
    throw staleVersion(current.version);
  }
  await enqueueNotify(ctx, row.outbox).catch((error: unknown) =>
    ctx.log.warn({ err: error, deliveryId: facts.id }, 'could not queue the notification; the sweeper will'),
  );
  return row;
}

/**
 * failed / needs_attention → scheduled now, with a fresh attempt budget. A retraction that needed a
 * person is retried as a retraction (never as a publication, which would put the post back).
 */
export async function retryDelivery(ctx: AppContext, actor: Actor, id: string, version?: number) {
  const facts = await manageableDelivery(ctx, actor, id);
  if (facts.status === 'retraction_needs_attention') {
    const row = await act(
      ctx,
      actor,
      facts,
      'retry_retraction',
      { reason: 'retraction retried by a person', attempts: 0, dueAt: ctx.now(), lastError: null },
      { version },
    );
    await enqueueRetractionJobs(ctx, [{ id: row.id, attempts: row.attempts, dueAt: row.dueAt }]).catch(
      (error: unknown) =>
        ctx.log.warn(
          { err: error, deliveryId: facts.id },
          'could not queue the retraction; the sweeper will',
        ),
    );
    return row;
  }
  const row = await act(
    ctx,
    actor,
    facts,
    'retry',
    { reason: 'retried by a person', attempts: 0, dueAt: ctx.now(), lastError: null },
    { version },
  );
  await enqueueDueDeliveries(ctx, [facts.id]).catch((error: unknown) =>
    ctx.log.warn({ err: error, deliveryId: facts.id }, 'could not queue the retry; the sweeper will'),
  );
  // A retried slotted delivery goes out now: its slot is free for the provisional ones.
  await replanAfterFreed(ctx, [facts.channelId]);
  return row;
}

export async function cancelDelivery(ctx: AppContext, actor: Actor, id: string, version?: number) {
  const facts = await manageableDelivery(ctx, actor, id);
  const row = await act(ctx, actor, facts, 'cancel', { reason: 'cancelled by a person' }, { version });
  await dropPublishJob(ctx, facts).catch(() => {});
  await replanAfterFreed(ctx, [facts.channelId]);
  return row;
}

/** A person checked the platform and saw the post: recorded as published with its URL. */
export async function confirmDelivery(
  ctx: AppContext,
  actor: Actor,
  id: string,
  url: string,
  version?: number,
) {
  const facts = await manageableDelivery(ctx, actor, id);
  return act(
    ctx,
    actor,
    facts,
    'confirm',
    { reason: `confirmed by a person: ${url}`, remote: { remoteId: null, remoteUrl: url }, lastError: null },
    { version, notify: 'published' },
  );
}

/** A person removed the post from the platform by hand (or saw it gone): recorded as retracted. */
export async function confirmRetracted(ctx: AppContext, actor: Actor, id: string, version?: number) {
  const facts = await manageableDelivery(ctx, actor, id);
  const row = await act(
    ctx,
    actor,
    facts,
    'confirm_retracted',
    { reason: 'a person confirmed the post is gone from the platform', retracted: true, lastError: null },
    { version },
  );
  const [delivery] = await ctx.db
    .select({ postId: deliveries.postId })
    .from(deliveries)
    .where(eq(deliveries.id, facts.id));
  if (delivery) await settleRetractedPosts(ctx, [delivery.postId]);
  return row;
}

/** Moves a scheduled delivery to another time (the calendar's drag and drop). */
export async function rescheduleDelivery(
  ctx: AppContext,
  actor: Actor,
  id: string,
  dueAt: Date,
  version: number,
) {
  const facts = await manageableDelivery(ctx, actor, id);
  const row = await act(
    ctx,
    actor,
    facts,
    'reschedule',
    // A fixed time now: the channel's slot allocation no longer owns it.
    { reason: `moved to ${dueAt.toISOString()}`, dueAt, slotted: false },
    { version },
  );
  await followRescheduledDelivery(ctx, { id: row.id, attempts: row.attempts, dueAt: row.dueAt }).catch(
    (error: unknown) =>
      ctx.log.warn({ err: error, deliveryId: facts.id }, 'could not move the job; the sweeper will'),
  );
  return row;
}

/** Times taken on a channel: what is scheduled, being published or published there. */
async function takenTimes(db: DbOrTx, channelId: string, from: Date, to: Date): Promise<Date[]> {
  const rows = await db
    .select({
      at: sql<Date>`coalesce(${deliveries.publishedAt}, ${deliveries.dueAt})`.mapWith(deliveries.dueAt),
    })
    .from(deliveries)
    .where(
      and(
        eq(deliveries.channelId, channelId),
        inArray(deliveries.status, ['scheduled', 'publishing', 'unknown', 'published']),
        gte(deliveries.dueAt, from),
        lte(deliveries.dueAt, to),
      ),
    );
  return rows.map((row) => row.at);
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The channel's free posting slots in [from, to), judged against what is already booked there and the blackouts over it. */
export async function channelFreeSlots(
  ctx: AppContext,
  channel: { id: string; timeZone: string; dailyCap: number | null; minSpacingMinutes: number },
  from: Date,
  to: Date,
): Promise<Date[]> {
  const crons = await ctx.db
    .select({ cron: postingSlots.cron })
    .from(postingSlots)
    .where(eq(postingSlots.channelId, channel.id));
  if (crons.length === 0) return [];
  // A day either side: the daily cap counts whole local days and spacing reaches across the edges.
  const taken = await takenTimes(
    ctx.db,
    channel.id,
    new Date(from.getTime() - DAY_MS),
    new Date(to.getTime() + DAY_MS),
  );
  // A blackout's slots are not free: nothing may be booked into them.
  const blocked = await blackoutPeriods(ctx.db, channel.id, from);
  return freeSlots(
    {
      crons: crons.map((row) => row.cron),
      timeZone: channel.timeZone,
      dailyCap: channel.dailyCap,
      minSpacingMinutes: channel.minSpacingMinutes,
    },
    taken,
    from,
    to,
    undefined,
    blocked,
  );
}

const MAX_SLOT_RANGE_MS = 62 * DAY_MS;

/** A channel's free posting slots in [from, to) (default: the seven days from now), for whoever reads the channel. */
export async function listFreeSlots(
  ctx: AppContext,
  actor: Actor,
  channelId: string,
  range: { from?: Date; to?: Date },
): Promise<Date[]> {
  const { channel } = await readableChannel(ctx, actor, channelId);
  const from = range.from ?? ctx.now();
  const to = range.to ?? new Date(from.getTime() + 7 * DAY_MS);
  if (to <= from) throw invalid([{ field: 'to', message: 'must be after from', code: 'empty_range' }]);
  if (to.getTime() - from.getTime() > MAX_SLOT_RANGE_MS)
    throw invalid([{ field: 'to', message: 'at most 62 days after from', code: 'range_too_long' }]);
  return channelFreeSlots(ctx, channel, from, to);
}

/** Each office's share of a channel's slots over the fair-share window, for whoever reads the channel. */
export async function listSlotShares(
  ctx: AppContext,
  actor: Actor,
  channelId: string,
): Promise<{ windowDays: number; shares: SlotShare[] }> {
  const { channel } = await readableChannel(ctx, actor, channelId);
  const windowDays = ctx.config.GAUNG_FAIR_SHARE_DAYS;
  return { windowDays, shares: await channelShares(ctx.db, channel.id, ctx.now(), windowDays) };
}
