import { z } from 'zod';
import { PLATFORMS, REPORT_GROUPS } from '../domain/vocabulary';
import { isoTime } from './posts';

/** Views and inputs of reports. */

export const count = z.number().int();
export const figure = z.number().nullable().describe('null: no platform of the group gives this figure');
export const figures = z.object({
  impressions: figure,
  likes: figure,
  reposts: figure,
  replies: figure,
  quotes: figure,
  clicks: figure,
  engagements: figure,
});
export const groupView = z.object({
  key: z.string(),
  name: z.string(),
  kind: z.string(),
  posts: z
    .object({ submitted: count, approved: count, rejected: count, changesRequested: count })
    .nullable()
    .describe('null when grouping by channel or platform'),
  firstDecisionMinutes: z.object({ median: z.number().nullable(), p90: z.number().nullable() }).nullable(),
  deliveries: z.object({ published: count, failed: count }),
  publishedByPlatform: z.partialRecord(z.enum(PLATFORMS), count),
  reach: z.object({ '1h': figures, '24h': figures, '7d': figures, latest: figures }),
  share: z.object({ output: z.number().nullable(), reach: z.number().nullable() }),
  weekly: z.array(
    z.object({ published: count, impressions: z.number().nullable(), engagements: z.number().nullable() }),
  ),
  notAvailableFrom: z.partialRecord(
    z.enum(['impressions', 'likes', 'reposts', 'replies', 'quotes', 'clicks', 'engagements']),
    z.array(z.enum(PLATFORMS)),
  ),
});
export const commaList = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .max(2000)
    .transform((value) => value.split(',').map((s) => s.trim()))
    .pipe(z.array(item).min(1).max(50));

/** A unit's report. */
export const reportView = z.object({
  from: z.string(),
  to: z.string(),
  timeZone: z.string(),
  group: z.enum(REPORT_GROUPS),
  organisation: z.string(),
  scope: z.object({ id: z.string(), name: z.string() }),
  filters: z.object({ platforms: z.array(z.enum(PLATFORMS)), channelIds: z.array(z.string()) }),
  weeks: z.array(z.string()),
  totals: groupView,
  groups: z.array(groupView),
  topPosts: z.array(
    z.object({
      postId: z.string(),
      unit: z.object({ id: z.string(), name: z.string() }),
      text: z.string(),
      thumbnailMediaId: z.string().nullable(),
      publishedAt: z.string(),
      platforms: z.array(z.enum(PLATFORMS)),
      reach: figures,
    }),
  ),
  demo: z.boolean(),
});

/** The report API's query: a period, a scope, a grouping and filters. */
export const reportQuery = z.strictObject({
  from: isoTime.optional().describe('Default: 30 days before `to`'),
  to: isoTime.optional().describe('Default: now'),
  unit: z.uuid().optional().describe("A unit of the caller's subtree (default: the caller's unit)"),
  group: z.enum(REPORT_GROUPS).default('office'),
  platform: commaList(z.enum(PLATFORMS)).optional().describe('Only these platforms, comma-separated'),
  channel: commaList(z.uuid()).optional().describe('Only these channels, comma-separated'),
  format: z.enum(['json', 'csv', 'xlsx']).optional(),
});
