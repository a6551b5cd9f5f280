import { type SQL, sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import { type DbOrTx, queryRows, type Tx } from '../db/client';
import {
  ARRIVAL_BATCH_MS,
  ARRIVAL_KINDS,
  DIGEST_HOUR,
  DIGEST_LAST_HOUR,
  type NotificationKind,
} from '../domain/notices';
import {
  addDays,
  addWorkingMinutes,
  instantAt,
  localTime,
  type WorkingCalendar,
} from '../domain/working-time';
import { enqueueNotify } from '../queues/producers';

/**
 * What reviewers are told: a post arriving in their level's inbox (at once in the app, by e-mail in
 * batches), a post that waited past the level's limit (reviewers, then the unit's admins after twice
 * as long), and the digests. Every e-mail is an outbox row made with a unique key per recipient and
 * batch or period, so two sweeps or a retried job never send one twice.
 */

const ts = (date: Date) => sql`${date.toISOString()}::timestamptz`;
const uuids = (ids: readonly string[]) =>
  sql.join(
    ids.map((id) => sql`${id}::uuid`),
    sql`, `,
  );
const kindList = (kinds: readonly string[]) =>
  sql.join(
    kinds.map((kind) => sql`${kind}`),
    sql`, `,
  );

/** The reviewers of a unit; a level staffed by admins alone hears through its admins. */
const levelReviewers = (
  user: string,
) => sql`${sql.raw(user)}.disabled_at is null and (${sql.raw(user)}.role = 'reviewer'
  or (${sql.raw(user)}.role = 'admin' and not exists (
    select 1 from users x where x.unit_id = ${sql.raw(user)}.unit_id and x.role = 'reviewer' and x.disabled_at is null)))`;

/**
 * In-app notifications for the reviewers of the levels a post just reached, in the caller's
 * transaction. Their e-mail follows in the reviewer's next batch (see `batchArrivalMails`).
 */
export async function announceArrival(
  tx: Tx,
  arrival: {
    postId: string;
    levelIds: readonly string[];
    kind: Extract<NotificationKind, 'review.submitted' | 'review.forwarded'>;
    note?: string | null;
    fromLevel?: string;
    at: Date;
  },
): Promise<void> {
  if (arrival.levelIds.length === 0) return;
  const extra = JSON.stringify({
    ...(arrival.note ? { comment: arrival.note } : {}),
    ...(arrival.fromLevel ? { fromLevelName: arrival.fromLevel } : {}),
  });
  await queryRows(
    tx,
    sql`insert into notifications (user_id, kind, post_id, data, created_at)
      select r.id, ${arrival.kind}, p.id,
        jsonb_build_object('officeName', o.name, 'levelId', l.id, 'levelName', l.name) || ${extra}::jsonb, ${ts(arrival.at)}
      from posts p join units o on o.id = p.unit_id
      join units l on l.id in (${uuids(arrival.levelIds)})
      join post_levels pl on pl.post_id = p.id and pl.unit_id = l.id and pl.decision is null and pl.closed_at is null
      join users r on r.unit_id = l.id
      where p.id = ${arrival.postId}::uuid and ${levelReviewers('r')}`,
  );
}

/**
 * One e-mail per reviewer listing the arrivals not yet mailed, when their last such e-mail is at
 * least the batch interval old. The batch is keyed by the previous batch's id, so of two sweeps
 * seeing the same last batch only one makes the next. Returns the outbox rows made.
 */
export async function batchArrivalMails(ctx: AppContext): Promise<number[]> {
  if (!ctx.config.SMTP_URL) return [];
  const now = ctx.now();
  const since = new Date(now.getTime() - 86_400_000);
  const unmailed = (user: string) => sql`n.user_id = ${sql.raw(user)} and n.batched_mail_id is null
    and n.kind in (${kindList(ARRIVAL_KINDS)}) and n.created_at > ${ts(since)} and n.created_at <= ${ts(now)}`;
  const rows = await queryRows<{ id: number }>(
    ctx.db,
    sql`with due as (
        select u.id as user_id, coalesce(last.id, 0) as last_id
        from users u
        left join lateral (
          select b.id, b.created_at from batched_mails b
          where b.user_id = u.id and b.kind = 'arrivals' order by b.created_at desc, b.id desc limit 1
        ) last on true
        where u.disabled_at is null and not ('arrivals' = any(u.email_opt_outs))
          and (last.id is null or last.created_at <= ${ts(new Date(now.getTime() - ARRIVAL_BATCH_MS))})
          and exists (select 1 from notifications n where ${unmailed('u.id')})
      ), made as (
        insert into batched_mails (user_id, kind, period, data, created_at)
        select user_id, 'arrivals', 'after-' || last_id, jsonb_build_object('until', ${now.toISOString()}::text), ${ts(now)}
        from due
        on conflict (user_id, kind, period) do nothing
        returning id, user_id
      ), listed as (
        update notifications n set batched_mail_id = m.id from made m
        where ${unmailed('m.user_id')}
        returning n.id
      )
      insert into notify_outbox (via, batched_mail_id, created_at)
      select 'batched_mail', id, ${ts(now)} from made
      returning id`,
  );
  return rows.map((row) => Number(row.id));
}

export type UnitCalendarRow = {
  time_zone: string;
  review_wait_minutes: number;
  work_days: number[] | string;
  work_start_minute: number;
  work_end_minute: number;
};

/** Postgres arrays come back parsed or as `{1,2,3}` depending on the driver. */
const intArray = (value: number[] | string) =>
  Array.isArray(value)
    ? value.map(Number)
    : value.replace(/[{}]/g, '').split(',').filter(Boolean).map(Number);

export const calendarOf = (unit: UnitCalendarRow, holidays: ReadonlySet<string>): WorkingCalendar => ({
  timeZone: unit.time_zone,
  days: intArray(unit.work_days),
  startMinute: Number(unit.work_start_minute),
  endMinute: Number(unit.work_end_minute),
  holidays,
});

/** Every day off of the organisation, as local dates. */
export async function holidayDates(db: DbOrTx): Promise<Set<string>> {
  const rows = await queryRows<{ date: string }>(db, sql`select date::text as date from holidays`);
  return new Set(rows.map((row) => row.date));
}

/** Posts waiting longer than this are left alone (old waits from before the alarms existed). */
const ALARM_LOOKBACK_MS = 30 * 86_400_000;
const ALARM_BATCH = 2_000;

type AlarmStage = 'reviewers' | 'admins';

/**
 * Flags the levels a post waited at past the limit and tells their people, in one statement: the
 * conditional update of the level row is the claim, so of two sweeps only one tells anyone.
 */
async function raiseAlarms(
  ctx: AppContext,
  stage: AlarmStage,
  rows: readonly { postId: string; unitId: string }[],
): Promise<{ raised: number; outbox: number[] }> {
  if (rows.length === 0) return { raised: 0, outbox: [] };
  const now = ctx.now();
  const column = sql.raw(stage === 'reviewers' ? 'alarmed_at' : 'admins_alarmed_at');
  const kind: NotificationKind = stage === 'reviewers' ? 'review.overdue' : 'review.overdue_admin';
  const recipients =
    stage === 'reviewers' ? levelReviewers('r') : sql`r.disabled_at is null and r.role = 'admin'`;
  const email = ctx.config.SMTP_URL ? sql`true` : sql`false`;
  const pairs = sql.join(
    rows.map((row) => sql`(${row.postId}::uuid, ${row.unitId}::uuid)`),
    sql`, `,
  );
  const [result] = await queryRows<{ raised: number; outbox: number[] }>(
    ctx.db,
    sql`with flagged as (
        update post_levels l set ${column} = ${ts(now)}
        from (values ${pairs}) as v(post_id, unit_id)
        where l.post_id = v.post_id and l.unit_id = v.unit_id and l.${column} is null
          and l.decision is null and l.closed_at is null
        returning l.post_id, l.unit_id, l.arrived_at
      ), n as (
        insert into notifications (user_id, kind, post_id, data, created_at)
        select r.id, ${kind}, f.post_id, jsonb_build_object('officeName', o.name, 'levelId', lu.id, 'levelName', lu.name,
            'arrivedAt', f.arrived_at, 'waitMinutes', lu.review_wait_minutes), ${ts(now)}
        from flagged f join posts p on p.id = f.post_id join units o on o.id = p.unit_id
        join units lu on lu.id = f.unit_id join users r on r.unit_id = f.unit_id
        where ${recipients}
        returning id, user_id
      ), mail as (
        insert into notify_outbox (via, notification_id, created_at)
        select 'email', n.id, ${ts(now)} from n join users u on u.id = n.user_id
        where ${email} and not ('overdue' = any(u.email_opt_outs))
        returning id
      )
      select (select count(*)::int from flagged) as raised,
        (select coalesce(array_agg(id), '{}') from mail) as outbox`,
  );
  return { raised: Number(result?.raised ?? 0), outbox: (result?.outbox ?? []).map(Number) };
}

/**
 * The waiting-time alarms: a post that waited for a level longer than the level's limit (working
 * minutes in its time zone) is marked overdue and its reviewers told once; after twice as long, the
 * unit's admins are told once.
 */
export async function sweepWaitingAlarms(
  ctx: AppContext,
): Promise<{ reviewers: number; admins: number; outbox: number[] }> {
  const now = ctx.now();
  const candidates = await queryRows<
    UnitCalendarRow & { post_id: string; unit_id: string; arrived_at: Date | string; alarmed: boolean }
  >(
    ctx.db,
    // Working minutes never outrun the clock: a post younger than the limit in wall time cannot be late.
    sql`select l.post_id, l.unit_id, l.arrived_at, (l.alarmed_at is not null) as alarmed,
        u.time_zone, u.review_wait_minutes, u.work_days, u.work_start_minute, u.work_end_minute
      from post_levels l join units u on u.id = l.unit_id join posts p on p.id = l.post_id
      where l.decision is null and l.closed_at is null and l.admins_alarmed_at is null
        and p.status in ('submitted', 'approved')
        and l.arrived_at > ${ts(new Date(now.getTime() - ALARM_LOOKBACK_MS))}
        and l.arrived_at <= ${ts(now)} - make_interval(mins => u.review_wait_minutes)
        -- Already told the reviewers: back only once the admins' wall-clock bound has passed too.
        and (l.alarmed_at is null or l.arrived_at <= ${ts(now)} - make_interval(mins => 2 * u.review_wait_minutes))
      order by l.arrived_at limit ${ALARM_BATCH}`,
  );
  if (candidates.length === 0) return { reviewers: 0, admins: 0, outbox: [] };
  const holidays = await holidayDates(ctx.db);
  const late: Record<AlarmStage, { postId: string; unitId: string }[]> = { reviewers: [], admins: [] };
  for (const row of candidates) {
    const calendar = calendarOf(row, holidays);
    const arrived = new Date(row.arrived_at);
    const limit = Number(row.review_wait_minutes);
    const target = { postId: row.post_id, unitId: row.unit_id };
    if (!row.alarmed && addWorkingMinutes(arrived, limit, calendar) <= now) late.reviewers.push(target);
    if (addWorkingMinutes(arrived, 2 * limit, calendar) <= now) late.admins.push(target);
  }
  const reviewers = await raiseAlarms(ctx, 'reviewers', late.reviewers);
  const admins = await raiseAlarms(ctx, 'admins', late.admins);
  return {
    reviewers: reviewers.raised,
    admins: admins.raised,
    outbox: [...reviewers.outbox, ...admins.outbox],
  };
}

type DigestRecipient = {
  id: string;
  time_zone: string;
};

/** Batched mails for the recipients whose local morning it is, one per period; returns the outbox rows made. */
async function makeDigests(
  ctx: AppContext,
  kind: 'daily_digest' | 'weekly_digest',
  recipients: SQL,
): Promise<number[]> {
  if (!ctx.config.SMTP_URL) return [];
  const now = ctx.now();
  const people = await queryRows<DigestRecipient>(
    ctx.db,
    sql`select r.id, u.time_zone from users r join units u on u.id = r.unit_id
      where r.disabled_at is null and r.role in ('reviewer', 'admin') and ${recipients}`,
  );
  const due: SQL[] = [];
  for (const person of people) {
    const local = localTime(now, person.time_zone);
    if (local.minute < DIGEST_HOUR * 60 || local.minute >= DIGEST_LAST_HOUR * 60) continue;
    if (kind === 'weekly_digest' && local.weekday !== 1) continue;
    // The daily digest covers yesterday; the weekly one the seven days before this Monday.
    const from = addDays(local.date, kind === 'daily_digest' ? -1 : -7);
    const data = JSON.stringify({
      timeZone: person.time_zone,
      date: local.date,
      from: instantAt(from, 0, person.time_zone).toISOString(),
      to: instantAt(local.date, 0, person.time_zone).toISOString(),
    });
    due.push(sql`(${person.id}::uuid, ${local.date}, ${data}::jsonb)`);
  }
  if (due.length === 0) return [];
  const rows = await queryRows<{ id: number }>(
    ctx.db,
    sql`with made as (
        insert into batched_mails (user_id, kind, period, data, created_at)
        select v.user_id, ${kind}, v.period, v.data, ${ts(now)} from (values ${sql.join(due, sql`, `)}) as v(user_id, period, data)
        on conflict (user_id, kind, period) do nothing
        returning id
      )
      insert into notify_outbox (via, batched_mail_id, created_at)
      select 'batched_mail', id, ${ts(now)} from made
      returning id`,
  );
  return rows.map((row) => Number(row.id));
}

/** Daily digests (opt-in) for every reviewer, weekly ones (opt-out) for national and regional staff. */
export async function queueDigests(ctx: AppContext): Promise<number[]> {
  const daily = await makeDigests(ctx, 'daily_digest', sql`r.daily_digest`);
  const weekly = await makeDigests(
    ctx,
    'weekly_digest',
    sql`r.weekly_digest and u.kind in ('national', 'regional')`,
  );
  return [...daily, ...weekly];
}

export interface NoticeSweepResult {
  arrivalMails: number;
  alarms: { reviewers: number; admins: number };
  digests: number;
}

/**
 * The maintenance task behind reviewer notices: arrivals e-mails, waiting-time alarms, digests.
 * Safe to run on every worker at once; the outbox rows it made are queued for the notify workers.
 */
export async function sweepReviewerNotices(ctx: AppContext): Promise<NoticeSweepResult> {
  const arrivals = await batchArrivalMails(ctx);
  const alarms = await sweepWaitingAlarms(ctx);
  const digests = await queueDigests(ctx);
  await enqueueNotify(ctx, [...arrivals, ...alarms.outbox, ...digests]);
  return {
    arrivalMails: arrivals.length,
    alarms: { reviewers: alarms.reviewers, admins: alarms.admins },
    digests: digests.length,
  };
}
