import { z } from 'zod';
import { DELIVERY_MODES } from '../domain/vocabulary';

/** Auto-approval rules of a source, shared by the API and the web app. */

export const sourceRuleFields = {
  hashtags: z
    .array(
      z
        .string()
        .trim()
        .regex(/^#?[\p{L}\p{M}\p{N}_]{1,100}$/u, 'must be a hashtag'),
    )
    .max(30)
    .describe('Only items carrying one of these hashtags; empty or absent: every item'),
  channelIds: z
    .array(z.uuid())
    .min(1)
    .max(20)
    .describe('The channels the rule approves to: channels its author may target'),
  mode: z.enum(DELIVERY_MODES).describe('`repost` and `quote` need a channel on the source’s own platform'),
  delayMinutes: z
    .number()
    .int()
    .min(0)
    .max(10_080)
    .nullable()
    .describe('Publish this many minutes after the item arrived; null: the next free slot'),
  stopWindowMinutes: z
    .number()
    .int()
    .min(0)
    .max(1_440)
    .describe('How long reviewers have to stop an approval before the rule makes it'),
};

export const sourceRuleInput = z.strictObject({
  ...sourceRuleFields,
  hashtags: sourceRuleFields.hashtags.optional(),
  delayMinutes: sourceRuleFields.delayMinutes.optional(),
  stopWindowMinutes: sourceRuleFields.stopWindowMinutes.optional(),
});

export const sourceRulePatch = z.strictObject({
  hashtags: sourceRuleFields.hashtags.optional(),
  channelIds: sourceRuleFields.channelIds.optional(),
  mode: sourceRuleFields.mode.optional(),
  delayMinutes: sourceRuleFields.delayMinutes.optional(),
  stopWindowMinutes: sourceRuleFields.stopWindowMinutes.optional(),
  paused: z
    .boolean()
    .optional()
    .describe('Pause (true) or resume (false) the rule; alone, it leaves the author the rule approves as'),
});

export const sourceRuleView = z.object({
  id: z.uuid(),
  sourceId: z.uuid(),
  createdBy: z.uuid().describe('The reviewer the rule approves as (its last editor)'),
  authorName: z.string(),
  hashtags: z.array(z.string()),
  channelIds: z.array(z.uuid()),
  mode: z.enum(DELIVERY_MODES),
  delayMinutes: z.number().int().nullable(),
  stopWindowMinutes: z.number().int(),
  paused: z.boolean().describe('A paused rule takes no new items; its pending approvals are not made'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
