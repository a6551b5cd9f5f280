import { type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { queryRows } from '../db/client';
import { type DeliveryEvent, transitionDelivery } from '../domain/delivery-machine';
import { conflict } from '../domain/errors';
import type { AttemptOutcome, DeliveryStatus } from '../domain/vocabulary';

/**
 * Every delivery status change is built here, as one SQL statement: the row update (conditional on
 * the status it is changing from, and on the version where given), the attempt row it opens, closes
 * or records, and the audit event. The next status comes from the delivery state machine. A change
 * names one delivery (`deliveryId`) or every delivery matching `where` (the claim's and the lease
 * expiry's set-based form); either may add conditions on `d` and on tables joined with `using`.
 * Zero rows back means another process changed the delivery first; the caller decides what that means.
 */

export interface AttemptWrite {
  outcome: AttemptOutcome;
  httpStatus?: number | null;
  error?: string | null;
  errorCode?: string | null;
}

export type AttemptChange =
  /** Ends the attempt with this number, or (`'open'`) whichever attempt of the delivery is still open. */
  | ({ close: number | 'open' } & AttemptWrite)
  /** A new finished row (a reconciliation check). */
  | ({ record: { startedAt: Date; worker: string } } & AttemptWrite)
  /** A new attempt starts now (a claim); its number is `attempt.number` in `reason` and `select`. */
  | { open: { worker: string } };

export interface DeliveryTransition {
  /** The delivery to change; without it, every delivery matching `where`. */
  deliveryId?: string;
  /** More conditions on the row (`d`) and on the tables of `using`. */
  where?: SQL;
  /** Tables joined to the update (`channels c`), for `where`. */
  using?: SQL;
  from: DeliveryStatus;
  event: DeliveryEvent;
  /** Only if the row still has this version (the one the claim or the caller saw). */
  version?: number;
  now: Date;
  /** Why, for the audit event; SQL may read the changed row (`changed`) and the opened attempt (`attempt`). */
  reason: string | SQL;
  actorId?: string | null;
  /** Counted attempts to add (rate limits and rejected credentials add none). */
  attemptsDelta?: number;
  /** Replaces the counted attempts (a person's retry starts a fresh budget). */
  attempts?: number;
  dueAt?: Date;
  /** Whether the channel's slot allocation owns the time (`replan`) or a person fixed it (false). */
  slotted?: boolean;
  /** A worker holds the delivery until then (a claim); without it, any lease ends. */
  lease?: { until: Date; holder: string | null };
  remote?: { remoteId: string | null; remoteUrl: string | null; remoteIds?: string[] };
  /** A retraction was asked for (why); kept on the row for the delivery's record and the press room. */
  retraction?: { reason: string };
  /** The post is gone from the platform now. */
  retracted?: boolean;
  /** Sets last_error / last_error_code (null clears them). */
  lastError?: { message: string; code: string } | null;
  attempt?: AttemptChange;
  /** Announce the outcome to the post's timeline and office in the same statement (`publishOutcomeCtes`). */
  announce?: Announcement;
}

/** CTEs appended to a change that read the CTE `changed`, and the result column naming the notify outbox rows they wrote. */
export interface Announcement {
  ctes: SQL;
  outbox: SQL;
}

export interface TransitionedDelivery {
  id: string;
  status: DeliveryStatus;
  attempts: number;
  dueAt: Date;
  version: number;
  /** Notify outbox rows the announcement wrote; queue them (`enqueueNotify`). */
  outbox: number[];
}

const ts = (date: Date) => sql`${date.toISOString()}::timestamptz`;

function attemptCte(attempt: AttemptChange | undefined, now: Date): SQL {
  if (!attempt) return sql``;
  if ('open' in attempt)
    return sql`, attempt as (
        insert into delivery_attempts (delivery_id, number, started_at, worker)
        select id, coalesce((select max(a.number) from delivery_attempts a where a.delivery_id = changed.id), 0) + 1,
          ${ts(now)}, ${attempt.open.worker}
        from changed
        returning delivery_id, number)`;
  if ('close' in attempt)
    return sql`, attempt as (
        update delivery_attempts set ended_at = ${ts(now)}, outcome = ${attempt.outcome},
          http_status = ${attempt.httpStatus ?? null}::int, error = ${attempt.error ?? null},
          error_code = ${attempt.errorCode ?? null}
        where delivery_id in (select id from changed)
          and ${attempt.close === 'open' ? sql`ended_at is null` : sql`number = ${attempt.close}::int`})`;
  return sql`, attempt as (
      insert into delivery_attempts (delivery_id, number, started_at, ended_at, outcome, http_status, error, error_code, worker)
      select id, coalesce((select max(a.number) from delivery_attempts a where a.delivery_id = changed.id), 0) + 1,
        ${ts(attempt.record.startedAt)}, ${ts(now)}, ${attempt.outcome}, ${attempt.httpStatus ?? null}::int,
        ${attempt.error ?? null}, ${attempt.errorCode ?? null}, ${attempt.record.worker}
      from changed)`;
}

/**
 * The statement of a change. Its CTEs are `changed` (the updated rows, `d.*`), `attempt` and `event`;
 * `select` reads them (by default the `TransitionedDelivery` columns).
 */
export function transitionStatement(change: DeliveryTransition, select?: SQL): SQL {
  const step = transitionDelivery(change.from, change.event);
  if (!step.ok) throw conflict(step.code, step.message, { deliveryStatus: change.from });
  if (change.deliveryId === undefined && change.where === undefined)
    throw new Error('a delivery transition names a delivery or a condition');
  const to = step.to;
  const sets: SQL[] = [
    sql`status = ${to}`,
    sql`version = d.version + 1`,
    sql`updated_at = ${ts(change.now)}`,
    sql`lease_until = ${change.lease ? ts(change.lease.until) : null}`,
    sql`lease_holder = ${change.lease?.holder ?? null}`,
  ];
  if (change.attempts !== undefined) sets.push(sql`attempts = ${change.attempts}::int`);
  else if (change.attemptsDelta) sets.push(sql`attempts = d.attempts + ${change.attemptsDelta}::int`);
  if (change.dueAt) sets.push(sql`due_at = ${ts(change.dueAt)}`);
  if (change.slotted !== undefined) sets.push(sql`slotted = ${change.slotted ? 1 : 0}::int`);
  if (change.remote)
    sets.push(
      sql`remote_id = ${change.remote.remoteId}`,
      sql`remote_url = ${change.remote.remoteUrl}`,
      sql`remote_ids = ${JSON.stringify(change.remote.remoteIds ?? [])}::jsonb`,
      sql`published_at = ${ts(change.now)}`,
    );
  if (change.retraction)
    sets.push(
      sql`retraction_reason = ${change.retraction.reason}`,
      sql`retraction_requested_at = coalesce(d.retraction_requested_at, ${ts(change.now)})`,
    );
  if (change.retracted) sets.push(sql`retracted_at = ${ts(change.now)}`);
  if (change.lastError !== undefined)
    sets.push(
      sql`last_error = ${change.lastError?.message ?? null}`,
      sql`last_error_code = ${change.lastError?.code ?? null}`,
    );
  const conditions: SQL[] = [sql`d.status = ${change.from}`];
  if (change.deliveryId !== undefined) conditions.push(sql`d.id = ${change.deliveryId}::uuid`);
  if (change.version !== undefined) conditions.push(sql`d.version = ${change.version}::int`);
  if (change.where) conditions.push(change.where);
  const opened = change.attempt !== undefined && 'open' in change.attempt;
  return sql`with changed as (
      update deliveries d set ${sql.join(sets, sql`, `)}
      ${change.using ? sql`from ${change.using}` : sql``}
      where ${sql.join(conditions, sql` and `)}
      returning d.*
    )${attemptCte(change.attempt, change.now)}, event as (
      insert into delivery_events (delivery_id, actor_id, from_status, to_status, reason, created_at)
      select changed.id, ${change.actorId ?? null}::uuid, ${change.from}, ${to}, ${change.reason}, ${ts(change.now)}
      from changed${opened ? sql` join attempt on attempt.delivery_id = changed.id` : sql``}
    )${change.announce ? sql`, ${change.announce.ctes}` : sql``}
    ${
      select ??
      sql`select id, status, attempts, version, (extract(epoch from due_at) * 1000)::float8 as due_ms,
        ${change.announce ? change.announce.outbox : sql`'{}'::bigint[] as outbox`}
      from changed`
    }`;
}

/** Applies the change; null when the delivery was no longer in `from` (or at `version`). */
export async function transitionDeliveryRow(
  db: DbOrTx,
  change: DeliveryTransition,
): Promise<TransitionedDelivery | null> {
  const [row] = await queryRows<{
    id: string;
    status: DeliveryStatus;
    attempts: number;
    version: number;
    due_ms: number;
    outbox: number[];
  }>(db, transitionStatement(change));
  if (!row) return null;
  return {
    id: row.id,
    status: row.status,
    attempts: Number(row.attempts),
    version: Number(row.version),
    dueAt: new Date(Number(row.due_ms)),
    outbox: row.outbox.map(Number),
  };
}

/** Applies a change with its own `select` (a claim reads the claimed work); one row per changed delivery. */
export function transitionDeliveries<T extends Record<string, unknown>>(
  db: DbOrTx,
  change: DeliveryTransition,
  select: SQL,
): Promise<T[]> {
  return queryRows<T>(db, transitionStatement(change, select));
}
