import { z } from 'zod';
import { SOURCE_KINDS } from '../domain/vocabulary';
import { postContent } from './posts';

/** Inputs and views of sources. */

export const sourceView = z.object({
  id: z.uuid(),
  unitId: z.uuid(),
  kind: z.enum(SOURCE_KINDS),
  url: z.string(),
  handle: z.string().nullable(),
  title: z.string().nullable(),
  settings: z.record(z.string(), z.unknown()),
  status: z
    .enum(['active', 'needs_reauth'])
    .describe('`needs_reauth`: the platform refused the credentials; give new ones'),
  hasCredentials: z.boolean(),
  channelId: z.uuid().nullable().describe('The channel whose credentials the source reads with'),
  autoSubmit: z.boolean().describe('New items go straight to review instead of waiting as drafts'),
  tags: z.array(z.string()),
  since: z.string().describe('Items published before this are not brought in'),
  paused: z.boolean(),
  nextPollAt: z.string().nullable(),
  lastPolledAt: z.string().nullable(),
  failures: z.number().int().describe('Consecutive failed polls'),
  lastError: z.string().nullable(),
  itemsImported: z.number().int(),
  createdBy: z.uuid(),
  createdAt: z.string(),
});

/** Reader settings: `include` (`reply`, `repost`, `story`) takes items a source skips by default. */
export const sourceSettings = z
  .record(z.string().max(100), z.unknown())
  .refine((value) => JSON.stringify(value).length <= 4_000, 'too large')
  .refine(
    (value) =>
      value.include === undefined ||
      (Array.isArray(value.include) &&
        value.include.every((kind) => kind === 'reply' || kind === 'repost' || kind === 'story')),
    'include lists reply, repost or story',
  );

export const ruleParams = z.strictObject({ id: z.uuid(), ruleId: z.uuid() });

export const sourceListQuery = z.strictObject({ unitId: z.uuid().optional() });

export const sourceList = z.object({ sources: z.array(sourceView) });

export const createSourceBody = z.strictObject({
  unitId: z.uuid().optional().describe("The office whose account it is: the caller's own unit"),
  kind: z
    .enum(SOURCE_KINDS)
    .describe('`rss` for RSS or Atom; `mastodon` for a profile address; a platform for its account'),
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(2048)
    .optional(),
  handle: z
    .string()
    .trim()
    .regex(/^@?[A-Za-z0-9_.-]{1,100}$/, 'must be an account handle')
    .optional()
    .describe('The account on its platform, instead of its profile address'),
  settings: sourceSettings.optional(),
  credentials: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("The account's tokens, kept encrypted; never returned"),
  channelId: z.uuid().optional().describe('Read with this channel of the same unit and platform'),
  autoSubmit: z.boolean().optional(),
  tags: postContent.tags.optional(),
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('Bring in items published from this time on (default: the last day)'),
});

export const updateSourceBody = z.strictObject({
  autoSubmit: z.boolean().optional(),
  tags: postContent.tags.optional(),
  paused: z.boolean().optional(),
  settings: sourceSettings.optional(),
  credentials: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('New credentials (a reconnection after `needs_reauth`)'),
});
