import { z } from 'zod';
import { TIKTOK_PRIVACY_LEVELS } from '../domain/tiktok';
import {
  BULK_ACTIONS,
  DELIVERY_MODES,
  LEVEL_ARRIVALS,
  LEVEL_DECISIONS,
  MAX_BULK_POSTS,
  PLATFORMS,
  POST_STATUSES,
} from '../domain/vocabulary';
import { versionField } from './common';
import { commentBody, unitRef } from './posts';

/** Inputs and views of review: the inbox, previews and the channels a post is approved to. */

export const issue = z.object({
  code: z.string(),
  message: z.string(),
  severity: z.enum(['error', 'warning']),
  field: z.string().optional(),
  mediaId: z.uuid().optional(),
});

export const targetReport = z.object({
  channelId: z.uuid(),
  channelName: z.string().nullable(),
  platform: z.enum(PLATFORMS).nullable(),
  mode: z.enum(DELIVERY_MODES),
  targetable: z.boolean(),
  text: z.string(),
  count: z.object({ used: z.number(), limit: z.number(), unit: z.string() }).nullable(),
  issues: z.array(issue),
});

export const targets = z
  .array(
    z.strictObject({
      channelId: z.uuid(),
      mode: z.enum(DELIVERY_MODES).default('copy'),
      at: z
        .union([z.literal('now'), z.literal('next-slot'), z.iso.datetime({ offset: true })])
        .describe('"now", "next-slot" (the channel\'s next free posting slot) or an ISO time'),
      text: z.string().max(65_536).nullable().optional().describe("Replaces the post's text on this channel"),
      tiktok: z
        .strictObject({
          privacyLevel: z.enum(TIKTOK_PRIVACY_LEVELS).optional(),
          allowComment: z.boolean().optional(),
          allowDuet: z.boolean().optional(),
          allowStitch: z.boolean().optional(),
        })
        .optional()
        .describe(
          'TikTok channels: who may see the post (one of the levels the creator allows) and whether comments, duets and stitches are allowed',
        ),
    }),
  )
  .min(1)
  .max(50)
  .refine((list) => new Set(list.map((t) => t.channelId)).size === list.length, 'each channel once');

export const inboxItem = z.object({
  id: z.uuid(),
  unit: unitRef,
  author: unitRef,
  status: z.enum(POST_STATUSES),
  version: z.number().int(),
  body: z.string(),
  tags: z.array(z.string()),
  sourceUrl: z.string().nullable(),
  sourcePlatform: z.enum(PLATFORMS).nullable().describe('Where the original was posted'),
  thumbnailMediaId: z.uuid().nullable().describe('The first photo or video; GET /media/:id/thumbnail'),
  arrival: z
    .enum(LEVEL_ARRIVALS)
    .describe('How the post reached this level: "forwarded" from the level below'),
  submittedAt: z.string(),
  arrivedAt: z.string().describe('When it reached this level; the waiting time counts from here'),
  ageSeconds: z.number().int(),
  overdue: z.boolean(),
  decisions: z
    .array(
      z.object({
        unit: unitRef,
        decision: z.enum(LEVEL_DECISIONS).nullable(),
        channels: z.array(z.string()),
        note: z.string().nullable(),
        forwarded: z.boolean(),
        forwardNote: z.string().nullable(),
      }),
    )
    .describe('What the levels have done with the post so far'),
});

export const levelNote = commentBody.optional();

export const reviewInboxQuery = z.strictObject({
  unit: z.uuid().optional().describe('Only posts of this unit and its subtree'),
  forwarded: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true')
    .describe('Only posts the level below forwarded'),
  q: z.string().trim().min(1).max(200).optional().describe('Words of the body'),
  platform: z.enum(PLATFORMS).optional().describe('Only posts whose original is on this platform'),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const reviewInboxPage = z.object({
  items: z.array(inboxItem),
  units: z.array(
    z.object({
      unit: unitRef,
      count: z.number().int(),
      oldestArrivedAt: z.string(),
      oldestAgeSeconds: z.number().int(),
    }),
  ),
  total: z.number().int(),
  nextCursor: z.string().nullable(),
});

export const previewBody = z.strictObject({
  channelIds: z.array(z.uuid()).min(1).max(50),
  mode: z.enum(DELIVERY_MODES).default('copy'),
});

export const previewView = z.object({ channels: z.array(targetReport) });

export const requestChangesBody = z.strictObject({ version: versionField, comment: commentBody });

export const rejectBody = z.strictObject({ version: versionField, reason: commentBody });

export const levelDecisionBody = z.strictObject({ version: versionField, note: levelNote });

export const approveBody = z.strictObject({
  version: versionField,
  targets,
  comment: commentBody.optional(),
});

export const bulkReviewResults = z.object({
  results: z.array(
    z.object({
      id: z.uuid(),
      status: z.number().int().describe('What the single decision would have answered'),
      postStatus: z.enum(POST_STATUSES).optional(),
      version: z.number().int().optional(),
      code: z.string().optional(),
      detail: z.string().optional(),
    }),
  ),
});

export const addTargetsBody = z.strictObject({ version: versionField, targets });

export const targetParams = z.strictObject({ id: z.uuid(), channelId: z.uuid() });

export const cancelTargetBody = z
  .strictObject({ version: versionField.optional().describe("The delivery's version") })
  .nullish();

export const bulkReviewBody = z
  .strictObject({
    action: z.enum(BULK_ACTIONS),
    posts: z
      .array(z.strictObject({ id: z.uuid(), version: versionField }))
      .min(1)
      .max(MAX_BULK_POSTS)
      .refine((list) => new Set(list.map((p) => p.id)).size === list.length, 'each post once'),
    targets: targets.optional().describe('For "approve": the channels every post goes to'),
    note: levelNote.describe("The approval's comment, or the pass / forward note"),
  })
  .refine((body) => body.action !== 'approve' || body.targets !== undefined, {
    message: 'approve needs targets',
    path: ['targets'],
  });
