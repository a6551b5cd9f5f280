import { z } from 'zod';
import {
  CORRECTION_KINDS,
  DELIVERY_MODES,
  DELIVERY_STATUSES,
  PLATFORMS,
  POST_EVENT_KINDS,
  POST_STATUSES,
  SOURCE_KINDS,
} from '../domain/vocabulary';
import { versionField } from './common';
import { mediaFactsView } from './media';

/** Inputs and views of posts, shared by the API and the web app. */

export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048);
export const isoTime = z.iso.datetime({ offset: true });

/** The editable content of a post, shared by create and PATCH. */
export const postContent = {
  body: z.string().max(65_536),
  variants: z
    .partialRecord(z.enum(PLATFORMS), z.string().max(65_536))
    .describe('Per-platform text replacing the body there; an empty string removes the variant'),
  media: z
    .array(z.strictObject({ id: z.uuid(), altText: z.string().max(1_500).nullable().optional() }))
    .max(20)
    .describe('Media of the post unit, in publishing order, with alt text for this post'),
  link: httpUrl.nullable(),
  sourceUrl: httpUrl.nullable().describe("The original post on the office's own account"),
  tags: z.array(z.string().trim().min(1).max(100)).max(30),
  preferredFrom: isoTime.nullable(),
  preferredTo: isoTime.nullable(),
};

/** Longest comment in a post's thread, in characters (the web form's field says it too). */
export const COMMENT_MAX = 5_000;
export const commentBody = z.string().trim().min(1).max(COMMENT_MAX);

/** Longest reason for withdrawing a post. */
export const WITHDRAW_REASON_MAX = 5_000;
export const withdrawReason = z.string().trim().min(1).max(WITHDRAW_REASON_MAX);

/** Longest reason for retracting a published post. */
export const RETRACTION_REASON_MAX = 2_000;
export const retractionReason = z.string().trim().min(1).max(RETRACTION_REASON_MAX);

/** Longest correction published in a retracted post's place. */
export const CORRECTION_MAX = 65_536;

export const unitRef = z.object({ id: z.uuid(), name: z.string() });

export const deliveryView = z.object({
  id: z.uuid(),
  channelId: z.uuid(),
  channelName: z.string(),
  platform: z.enum(PLATFORMS),
  mode: z.enum(DELIVERY_MODES),
  status: z.enum(DELIVERY_STATUSES),
  dueAt: z.string(),
  slotted: z.boolean(),
  renderedText: z.string(),
  attempts: z.number().int(),
  remoteUrl: z.string().nullable(),
  publishedAt: z.string().nullable(),
  lastError: z.string().nullable(),
  version: z.number().int(),
});

export const postView = z.object({
  id: z.uuid(),
  unit: unitRef,
  author: unitRef,
  status: z.enum(POST_STATUSES),
  version: z.number().int(),
  body: z.string(),
  variants: z.partialRecord(z.enum(PLATFORMS), z.string()),
  media: z.array(
    z.object({
      id: z.uuid(),
      position: z.number().int(),
      altText: z.string(),
      ...mediaFactsView,
    }),
  ),
  link: z.string().nullable(),
  sourceUrl: z.string().nullable(),
  origin: z
    .object({
      platform: z.enum(SOURCE_KINDS),
      nativeId: z.string(),
      url: z.string().nullable(),
      authorHandle: z.string().nullable(),
      publishedAt: z.string(),
      ref: z.record(z.string(), z.string()).optional(),
    })
    .nullable()
    .describe("The original on the office's account, when a source brought the post in"),
  tags: z.array(z.string()),
  preferredFrom: z.string().nullable(),
  preferredTo: z.string().nullable(),
  submittedAt: z.string().nullable(),
  decidedAt: z.string().nullable(),
  retractionReason: z.string().nullable(),
  retractedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  deliveries: z.array(deliveryView),
});

export const postSummary = z.object({
  id: z.uuid(),
  unit: unitRef,
  author: unitRef,
  status: z.enum(POST_STATUSES),
  version: z.number().int(),
  body: z.string(),
  tags: z.array(z.string()),
  sourceUrl: z.string().nullable(),
  submittedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const postEventView = z.object({
  id: z.number().int(),
  kind: z.enum(POST_EVENT_KINDS),
  actor: unitRef.nullable(),
  fromStatus: z.enum(POST_STATUSES).nullable(),
  toStatus: z.enum(POST_STATUSES).nullable(),
  body: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});

export const statusList = z
  .string()
  .transform((value) => value.split(',').map((s) => s.trim()))
  .pipe(z.array(z.enum(POST_STATUSES)).min(1))
  .describe('One status or several, comma-separated');

export const createPostBody = z.strictObject({
  body: postContent.body.default(''),
  variants: postContent.variants.optional(),
  media: postContent.media.optional(),
  link: postContent.link.optional(),
  sourceUrl: postContent.sourceUrl.optional(),
  tags: postContent.tags.optional(),
  preferredFrom: postContent.preferredFrom.optional(),
  preferredTo: postContent.preferredTo.optional(),
});

export const postListQuery = z.strictObject({
  status: statusList.optional(),
  unit: z.uuid().optional().describe('A unit and its subtree'),
  author: z.uuid().optional(),
  q: z.string().trim().min(1).max(200).optional().describe('Words of the body'),
  from: isoTime.optional().describe('Created at or after'),
  to: isoTime.optional().describe('Created before'),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const postPage = z.object({ items: z.array(postSummary), nextCursor: z.string().nullable() });

export const updatePostBody = z.strictObject({
  version: versionField,
  body: postContent.body.optional(),
  variants: postContent.variants.optional(),
  media: postContent.media.optional(),
  link: postContent.link.optional(),
  sourceUrl: postContent.sourceUrl.optional(),
  tags: postContent.tags.optional(),
  preferredFrom: postContent.preferredFrom.optional(),
  preferredTo: postContent.preferredTo.optional(),
});

export const submitBody = z.strictObject({ version: versionField.optional() }).nullish();

export const withdrawBody = z
  .strictObject({
    version: versionField.optional(),
    reason: withdrawReason.optional(),
  })
  .nullish();

export const retractBody = z.strictObject({
  version: versionField,
  reason: retractionReason,
  correction: z
    .strictObject({
      text: z.string().trim().min(1).max(CORRECTION_MAX),
      as: z.enum(CORRECTION_KINDS),
    })
    .optional(),
});

export const retractionView = z.object({
  post: postView,
  deliveries: z.array(
    z.object({
      deliveryId: z.uuid(),
      channelId: z.uuid(),
      channelName: z.string(),
      platform: z.enum(PLATFORMS),
      status: z.enum(DELIVERY_STATUSES),
      plan: z.enum(['retract', 'cancel', 'after_publish', 'nothing']),
      byHand: z.boolean(),
    }),
  ),
  correctionPostId: z.uuid().nullable(),
});

export const postEventsView = z.object({ events: z.array(postEventView) });

export const postCommentsView = z.object({ comments: z.array(postEventView) });

export const commentCreateBody = z.strictObject({ body: commentBody });
