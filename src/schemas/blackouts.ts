import { z } from 'zod';
import { BLACKOUT_ON_END } from '../domain/vocabulary';
import { isoTime, unitRef } from './posts';

/** Views of blackouts. */

export const blackoutView = z.object({
  id: z.uuid(),
  unit: unitRef,
  startsAt: z.string(),
  endsAt: z.string().nullable().describe('Null: until it is lifted'),
  reason: z.string(),
  channelIds: z
    .array(z.uuid())
    .nullable()
    .describe("Only these channels; null: every channel of the unit's subtree"),
  onEnd: z.enum(BLACKOUT_ON_END),
  active: z.boolean().describe('Covers now'),
  emergency: z.boolean().describe('The emergency stop: the whole organisation, from now, no end'),
  createdBy: unitRef.nullable(),
  createdAt: z.string(),
});

export const blackoutListQuery = z.strictObject({ ended: z.enum(['true', 'false']).default('false') });

export const blackoutList = z.object({ items: z.array(blackoutView) });

export const createBlackoutBody = z.strictObject({
  unitId: z.uuid(),
  startsAt: isoTime,
  endsAt: isoTime.nullable(),
  reason: z.string().trim().min(1).max(1_000),
  channelIds: z.array(z.uuid()).max(500).optional(),
  onEnd: z.enum(BLACKOUT_ON_END),
});
