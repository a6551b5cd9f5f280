import { z } from 'zod';
import { unitRef } from './posts';

/** Views of the audit trail. */

export const auditEventSchema = z.object({
  id: z.string(),
  at: z.string(),
  action: z.string(),
  actor: unitRef.nullable(),
  unit: unitRef.nullable(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  ip: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

export const auditQuery = z.strictObject({
  unitId: z.uuid().optional(),
  action: z
    .string()
    .max(64)
    .regex(/^[a-z_]+(\.[a-z_]+)*$/, 'an action such as auth.login_failed')
    .optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  cursor: z
    .string()
    .regex(/^\d{1,18}$/, 'the nextCursor of the previous page')
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const auditPage = z.object({ events: z.array(auditEventSchema), nextCursor: z.string().nullable() });
