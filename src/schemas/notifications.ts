import { z } from 'zod';
import { EMAIL_TOPICS } from '../domain/notices';

/** Inputs and views of notifications. */

export const notificationView = z.object({
  id: z.uuid(),
  kind: z.string(),
  postId: z.uuid().nullable(),
  deliveryId: z.uuid().nullable(),
  data: z.record(z.string(), z.unknown()),
  readAt: z.string().nullable(),
  createdAt: z.string(),
});

export const noticeSettings = z.strictObject({
  emailOptOuts: z.array(z.enum(EMAIL_TOPICS)).max(EMAIL_TOPICS.length),
  dailyDigest: z.boolean(),
  weeklyDigest: z.boolean(),
});

export const notificationListQuery = z.strictObject({
  unread: z
    .enum(['1', '0', 'true', 'false'])
    .optional()
    .transform((v) => v === '1' || v === 'true'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const notificationPage = z.object({ items: z.array(notificationView), unread: z.number().int() });

export const changedCount = z.object({ changed: z.number().int() });

export const webhookQuery = z.strictObject({ unit: z.uuid() });

export const webhookView = z.object({
  url: z.string().nullable(),
  secret: z.string(),
  signatureHeader: z.string(),
  signatureScheme: z.string(),
});
