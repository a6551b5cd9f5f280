import { eq } from 'drizzle-orm';
import type { AppContext } from '../context';
import type { Tx } from '../db/client';
import { sources } from '../db/schema';
import { AppError } from '../domain/errors';
import { type SourceEvent, type SourceState, transitionSource } from '../domain/source-machine';
import { recordAudit } from './audit';

/**
 * Every source status change is written here: the row locked, the next state asked of the source
 * state machine (a refused step is a 409 that changes nothing), the row's `status` and `paused_at`
 * updated and the step recorded in the audit trail, in the caller's transaction.
 */

type SourceRow = typeof sources.$inferSelect;
type SourceColumns = Omit<Partial<typeof sources.$inferInsert>, 'id' | 'status' | 'pausedAt'>;

export interface SourceTransition {
  sourceId: string;
  event: SourceEvent;
  now: Date;
  /** Who, for the audit trail; `actorId` null when Gaung itself acts. */
  by: { actorId: string | null; ip: string | null };
  /** The audit action (`source.paused`), and what it records beyond the step. */
  action: string;
  details?: Record<string, unknown>;
  /** Other columns written with the step (new credentials, the next poll on resuming). */
  columns?: SourceColumns;
  /** Write nothing when the step leaves the state as it was (a repeated refusal is not news). */
  onlyIfChanged?: boolean;
}

export interface TransitionedSource {
  source: SourceRow;
  from: SourceState;
  to: SourceState;
}

const stateOf = (row: SourceRow): SourceState => ({ status: row.status, paused: row.pausedAt !== null });

/** Applies the step; null when the source does not exist (or, `onlyIfChanged`, its state would stay). */
export async function transitionSourceRow(
  ctx: AppContext,
  tx: Tx,
  change: SourceTransition,
): Promise<TransitionedSource | null> {
  const [current] = await tx.select().from(sources).where(eq(sources.id, change.sourceId)).for('update');
  if (!current) return null;
  const from = stateOf(current);
  const step = transitionSource(from, change.event);
  if (!step.ok) throw new AppError(step.code, 409, step.message);
  const { to } = step;
  const same = to.status === from.status && to.paused === from.paused;
  if (change.onlyIfChanged && same) return null;
  const [row] = await tx
    .update(sources)
    .set({
      ...change.columns,
      status: to.status,
      // A pause keeps the time it began; a resume clears it.
      pausedAt: to.paused ? (current.pausedAt ?? change.now) : null,
      updatedAt: change.now,
    })
    .where(eq(sources.id, change.sourceId))
    .returning();
  await recordAudit(ctx, tx, {
    ...change.by,
    unitId: current.unitId,
    action: change.action,
    targetType: 'source',
    targetId: current.id,
    details: {
      from: from.status,
      status: to.status,
      paused: to.paused,
      event: change.event,
      ...change.details,
    },
  });
  return { source: row!, from, to };
}
