import { z } from 'zod';
import { PLATFORMS } from '../domain/vocabulary';

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
