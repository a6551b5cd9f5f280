import { z } from 'zod';
import { DELIVERY_EVENTS } from '../domain/delivery-machine';
import {
  ATTEMPT_OUTCOMES,
  DELIVERY_MODES,
  DELIVERY_STATUSES,
  PLATFORMS,
  SNAPSHOT_WINDOWS,
} from '../domain/vocabulary';
import { versionField } from './common';
import { httpUrl, isoTime, unitRef } from './posts';

/** Inputs and views of deliveries. */

export const statusList = z
  .string()
  .transform((value) => value.split(',').map((s) => s.trim()))
  .pipe(z.array(z.enum(DELIVERY_STATUSES)).min(1))
  .describe('One status or several, comma-separated');

export const deliverySummary = z.object({
  id: z.uuid(),
  postId: z.uuid(),
  unit: unitRef.describe('The office the post came from'),
  channel: z.object({ id: z.uuid(), name: z.string(), platform: z.enum(PLATFORMS) }),
  mode: z.enum(DELIVERY_MODES),
  status: z.enum(DELIVERY_STATUSES),
  dueAt: z.string(),
  slotted: z.boolean(),
  attempts: z.number().int().describe('Attempts that counted against the retry budget'),
  excerpt: z.string(),
  remoteUrl: z.string().nullable(),
  publishedAt: z.string().nullable(),
  lastError: z.string().nullable(),
  lastErrorCode: z.string().nullable(),
  platformOptions: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe("The reviewer's platform choices (TikTok: privacyLevel, allowComment, allowDuet, allowStitch)"),
  version: z.number().int(),
  updatedAt: z.string(),
});

export const deliveryDetail = deliverySummary.extend({
  renderedText: z.string(),
  leaseUntil: z.string().nullable(),
  actions: z.array(z.enum(DELIVERY_EVENTS)).describe('What the caller may do now'),
  attemptHistory: z.array(
    z.object({
      number: z.number().int(),
      startedAt: z.string(),
      endedAt: z.string().nullable(),
      outcome: z.enum(ATTEMPT_OUTCOMES).nullable(),
      httpStatus: z.number().int().nullable(),
      error: z.string().nullable(),
      errorCode: z.string().nullable(),
      worker: z.string().nullable(),
    }),
  ),
  events: z.array(
    z.object({
      id: z.number().int(),
      from: z.enum(DELIVERY_STATUSES).nullable(),
      to: z.enum(DELIVERY_STATUSES),
      reason: z.string().nullable(),
      actor: unitRef.nullable(),
      at: z.string(),
    }),
  ),
});

export const optionalVersion = z
  .strictObject({ version: versionField.optional().describe('Refuse (409) if it changed since') })
  .nullish();

export const deliveryListQuery = z.strictObject({
  status: statusList.optional(),
  channel: z.uuid().optional(),
  unit: z.uuid().optional().describe('Originating unit and its subtree'),
  post: z.uuid().optional(),
  from: isoTime.optional().describe('Due at or after'),
  to: isoTime.optional().describe('Due before'),
  sort: z
    .enum(['due', 'attention'])
    .default('due')
    .describe('`attention`: failed and needs_attention first, then unknown, then the rest'),
  cursor: z.string().max(300).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const deliveryPage = z.object({ items: z.array(deliverySummary), nextCursor: z.string().nullable() });

export const snapshotView = z.object({
  window: z.enum(SNAPSHOT_WINDOWS),
  takenAt: z.string(),
  impressions: z.number().nullable(),
  likes: z.number().nullable(),
  reposts: z.number().nullable(),
  replies: z.number().nullable(),
  quotes: z.number().nullable(),
  clicks: z.number().nullable(),
});

export const metricsRefreshView = z.object({ deliveryId: z.uuid(), snapshots: z.array(snapshotView) });

export const confirmBody = z.strictObject({ url: httpUrl, version: versionField.optional() });

export const rescheduleBody = z.strictObject({ dueAt: isoTime, version: versionField });

export const freeSlotsQuery = z.strictObject({
  from: isoTime.optional().describe('Default: now'),
  to: isoTime.optional().describe('Default: seven days after `from`; at most 62 days after it'),
});

export const freeSlotsView = z.object({ slots: z.array(z.string()) });

export const slotSharesView = z.object({
  windowDays: z.number().int(),
  shares: z.array(
    z.object({
      unit: z.object({ id: z.string(), name: z.string() }),
      used: z.number().int(),
      booked: z.number().int(),
    }),
  ),
});
