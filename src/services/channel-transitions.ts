import { eq } from 'drizzle-orm';
import type { AppContext } from '../context';
import type { Tx } from '../db/client';
import { channels } from '../db/schema';
import { type ChannelEvent, transitionChannel } from '../domain/channel-machine';
import { AppError } from '../domain/errors';
import type { ChannelStatus } from '../domain/vocabulary';
import { recordAudit } from './audit';

/**
 * Every channel status change is written here: the row locked, the next status asked of the channel
 * state machine (a refused step is a 409 that changes nothing), the row updated and the step recorded
 * in the audit trail, in the caller's transaction. Archiving is the event that sets `archived_at`.
 */

type ChannelRow = typeof channels.$inferSelect;
type ChannelColumns = Omit<
  Partial<typeof channels.$inferInsert>,
  'id' | 'status' | 'archivedAt' | 'statusReason'
>;

export interface ChannelTransition {
  channelId: string;
  event: ChannelEvent;
  now: Date;
  /** Who, for the audit trail; `actorId` null when Gaung itself acts. */
  by: { actorId: string | null; ip: string | null };
  /** The audit action (`channel.verified`), and what it records beyond the step. */
  action: string;
  details?: Record<string, unknown>;
  /** The channel's status reason after the step (undefined: unchanged). */
  statusReason?: (to: ChannelStatus, current: ChannelRow) => string | null | undefined;
  /** Other columns written with the step (the account a check found, credentials dropped on archiving). */
  columns?: ChannelColumns;
  /** Write nothing when the step leaves the status as it was (a repeated refusal is not news). */
  onlyIfChanged?: boolean;
}

export interface TransitionedChannel {
  channel: ChannelRow;
  from: ChannelStatus;
  to: ChannelStatus;
}

/** Applies the step; null when the channel does not exist (or, `onlyIfChanged`, the status would stay). */
export async function transitionChannelRow(
  ctx: AppContext,
  tx: Tx,
  change: ChannelTransition,
): Promise<TransitionedChannel | null> {
  const [current] = await tx.select().from(channels).where(eq(channels.id, change.channelId)).for('update');
  if (!current) return null;
  const step = transitionChannel(current.status, change.event);
  if (!step.ok) throw new AppError(step.code, 409, step.message);
  if (change.onlyIfChanged && step.to === current.status) return null;
  const statusReason = change.statusReason?.(step.to, current);
  const [row] = await tx
    .update(channels)
    .set({
      ...change.columns,
      status: step.to,
      ...(statusReason !== undefined ? { statusReason } : {}),
      ...(change.event === 'archive' ? { archivedAt: change.now } : {}),
      updatedAt: change.now,
    })
    .where(eq(channels.id, change.channelId))
    .returning();
  await recordAudit(ctx, tx, {
    ...change.by,
    unitId: current.unitId,
    action: change.action,
    targetType: 'channel',
    targetId: current.id,
    details: { from: current.status, status: step.to, event: change.event, ...change.details },
  });
  return { channel: row!, from: current.status, to: step.to };
}
