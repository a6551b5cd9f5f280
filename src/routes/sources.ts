import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SOURCE_KINDS } from '../domain/vocabulary';
import { authorize, requireActor } from '../http/auth';
import { ROUTE_LIMITS } from '../http/rate-limit';
import {
  createSource,
  deleteSource,
  listSources,
  loadSource,
  pollSourceSoon,
  sourceView as toSourceView,
  updateSource,
} from '../services/sources';
import { loadUnit } from '../services/units';

const sourceView = z.object({
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

const tags = z.array(z.string().trim().min(1).max(100)).max(30);
/** Reader settings: `include` (`reply`, `repost`, `story`) takes items a source skips by default. */
const settings = z
  .record(z.string().max(100), z.unknown())
  .refine((value) => JSON.stringify(value).length <= 4_000, 'too large')
  .refine(
    (value) =>
      value.include === undefined ||
      (Array.isArray(value.include) &&
        value.include.every((kind) => kind === 'reply' || kind === 'repost' || kind === 'story')),
    'include lists reply, repost or story',
  );
const idParams = z.strictObject({ id: z.uuid() });

/** The offices' own accounts that Gaung reads, bringing their new items in as posts (ingest). */
export const sourceRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/sources',
    {
      schema: {
        tags: ['sources'],
        querystring: z.strictObject({ unitId: z.uuid().optional() }),
        response: { 200: z.object({ sources: z.array(sourceView) }) },
      },
    },
    async (request) => ({ sources: await listSources(ctx, requireActor(request), request.query) }),
  );

  app.post(
    '/sources',
    {
      config: { rateLimit: ROUTE_LIMITS.sourceAdd },
      schema: {
        tags: ['sources'],
        summary: "Reads an office's own account: its new items become the unit's posts",
        description:
          'The source is read once before it is added; an address that is not a source answers 422 `source_unreadable`.',
        body: z.strictObject({
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
          settings: settings.optional(),
          credentials: z
            .record(z.string(), z.unknown())
            .optional()
            .describe("The account's tokens, kept encrypted; never returned"),
          channelId: z.uuid().optional().describe('Read with this channel of the same unit and platform'),
          autoSubmit: z.boolean().optional(),
          tags: tags.optional(),
          since: z.iso
            .datetime({ offset: true })
            .optional()
            .describe('Bring in items published from this time on (default: the last day)'),
        }),
        response: { 201: sourceView },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const { since, unitId, ...input } = request.body;
      if (unitId && unitId !== actor.unitId) {
        const unit = await loadUnit(ctx, unitId);
        authorize(actor, 'source.manage', { type: 'source', unitPath: unit.path }, 'Unit');
      }
      authorize(actor, 'source.manage', { type: 'source', unitPath: actor.unitPath }, 'Unit');
      const view = await createSource(
        ctx,
        { actor, ip: request.ip },
        { ...input, since: since ? new Date(since) : undefined },
      );
      return reply.code(201).send(view);
    },
  );

  app.get(
    '/sources/:id',
    { schema: { tags: ['sources'], params: idParams, response: { 200: sourceView } } },
    async (request) => {
      const actor = requireActor(request);
      const { source, unitPath } = await loadSource(ctx.db, request.params.id);
      authorize(actor, 'source.read', { type: 'source', unitPath }, 'Source');
      return toSourceView(source);
    },
  );

  app.patch(
    '/sources/:id',
    {
      schema: {
        tags: ['sources'],
        params: idParams,
        body: z.strictObject({
          autoSubmit: z.boolean().optional(),
          tags: tags.optional(),
          paused: z.boolean().optional(),
          settings: settings.optional(),
          credentials: z
            .record(z.string(), z.unknown())
            .optional()
            .describe('New credentials (a reconnection after `needs_reauth`)'),
        }),
        response: { 200: sourceView },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const { source, unitPath } = await loadSource(ctx.db, request.params.id);
      // Pausing or resuming alone is also for the admins above the office; any other change is the office's.
      const onlyPause = Object.keys(request.body).every((key) => key === 'paused');
      authorize(
        actor,
        onlyPause ? 'source.control' : 'source.manage',
        { type: 'source', unitPath },
        'Source',
      );
      return updateSource(ctx, { actor, ip: request.ip }, source, request.body);
    },
  );

  app.post(
    '/sources/:id/poll',
    {
      schema: {
        tags: ['sources'],
        summary: 'Reads the source now instead of at its next poll',
        params: idParams,
        response: { 202: sourceView },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const { source, unitPath } = await loadSource(ctx.db, request.params.id);
      authorize(actor, 'source.manage', { type: 'source', unitPath }, 'Source');
      return reply.code(202).send(await pollSourceSoon(ctx, source));
    },
  );

  app.delete(
    '/sources/:id',
    {
      schema: {
        tags: ['sources'],
        summary: 'Stops reading the source; the posts it brought in stay',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const { source, unitPath } = await loadSource(ctx.db, request.params.id);
      authorize(actor, 'source.control', { type: 'source', unitPath }, 'Source');
      await deleteSource(ctx, { actor, ip: request.ip }, source);
      return reply.code(204).send(null);
    },
  );
};
