import { type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { queryRows } from '../db/client';
import { type DeliveryEvent, transitionDelivery } from '../domain/delivery-machine';
import { conflict } from '../domain/errors';
import type { AttemptOutcome, DeliveryStatus } from '../domain/vocabulary';
import { publishOutcomeResult } from './notifications';

/**
 * One delivery status change as one SQL statement: the row update (conditional on the status it is
 * changing from, and on the version where given), the attempt row it closes or records, and the
 * audit event. The next status comes from the delivery state machine. Zero rows back means another
 * process changed the delivery first; the caller decides what that means.
 */

export interface AttemptWrite {
  outcome: AttemptOutcome;
  httpStatus?: number | null;
  error?: string | null;
  errorCode?: string | null;
}

export interface DeliveryTransition {
  deliveryId: string;
  from: DeliveryStatus;
  event: DeliveryEvent;
  /** Only if the row still has this version (the one the claim or the caller saw). */
  version?: number;
  now: Date;
  reason: string;
  actorId?: string | null;
  /** Counted attempts to add (rate limits and rejected credentials add none). */
  attemptsDelta?: number;
  /** Replaces the counted attempts (a person's retry starts a fresh budget). */
  attempts?: number;
  dueAt?: Date;
  /** Whether the channel's slot allocation owns the time (`replan`) or a person fixed it (false). */
  slotted?: boolean;
  remote?: { remoteId: string | null; remoteUrl: string | null; remoteIds?: string[] };
  /** A retraction was asked for (why); kept on the row for the delivery's record and the press room. */
  retraction?: { reason: string };
  /** The post is gone from the platform now. */
  retracted?: boolean;
  /** Sets last_error / last_error_code (null clears them). */
  lastError?: { message: string; code: string } | null;
  /** The attempt row this change ends (the claim's), or a new finished row (a reconciliation check). */
  attempt?: ({ close: number } | { record: { startedAt: Date; worker: string } }) & AttemptWrite;
  /** Announce the outcome to the post's timeline and office in the same statement (`publishOutcomeCtes`). */
  announce?: SQL;
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

export function transitionStatement(change: DeliveryTransition): SQL {
  const step = transitionDelivery(change.from, change.event);
  if (!step.ok) throw conflict(step.code, step.message, { deliveryStatus: change.from });
  const to = step.to;
  const sets: SQL[] = [
    sql`status = ${to}`,
    sql`version = d.version + 1`,
    sql`updated_at = ${ts(change.now)}`,
    sql`lease_until = null`,
    sql`lease_holder = null`,
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
  const versionCheck = change.version === undefined ? sql`` : sql` and d.version = ${change.version}::int`;
  const attempt = change.attempt;
  const attemptCte = !attempt
    ? sql``
    : 'close' in attempt
      ? sql`, attempt as (
          update delivery_attempts set ended_at = ${ts(change.now)}, outcome = ${attempt.outcome},
            http_status = ${attempt.httpStatus ?? null}::int, error = ${attempt.error ?? null},
            error_code = ${attempt.errorCode ?? null}
          where delivery_id = ${change.deliveryId}::uuid and number = ${attempt.close}::int
            and exists (select 1 from changed))`
      : sql`, attempt as (
          insert into delivery_attempts (delivery_id, number, started_at, ended_at, outcome, http_status, error, error_code, worker)
          select id, coalesce((select max(number) from delivery_attempts where delivery_id = ${change.deliveryId}::uuid), 0) + 1,
            ${ts(attempt.record.startedAt)}, ${ts(change.now)}, ${attempt.outcome}, ${attempt.httpStatus ?? null}::int,
            ${attempt.error ?? null}, ${attempt.errorCode ?? null}, ${attempt.record.worker}
          from changed)`;
  return sql`with changed as (
      update deliveries d set ${sql.join(sets, sql`, `)}
      where d.id = ${change.deliveryId}::uuid and d.status = ${change.from}${versionCheck}
      returning d.id, d.status, d.attempts, d.version, (extract(epoch from d.due_at) * 1000)::float8 as due_ms,
        d.post_id, d.channel_id, d.remote_url, d.last_error
    )${attemptCte}, event as (
      insert into delivery_events (delivery_id, actor_id, from_status, to_status, reason, created_at)
      select id, ${change.actorId ?? null}::uuid, ${change.from}, ${to}, ${change.reason}, ${ts(change.now)} from changed
    )${change.announce ? sql`, ${change.announce}` : sql``}
    select id, status, attempts, version, due_ms, ${change.announce ? publishOutcomeResult : sql`'{}'::bigint[] as outbox`}
    from changed`;
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
