import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { FEED_KINDS } from '../domain/vocabulary';
import { authorize, requireActor } from '../http/auth';
import { ROUTE_LIMITS } from '../http/rate-limit';
import {
  createFeed,
  deleteFeed,
  listFeeds,
  loadFeed,
  pollFeedSoon,
  feedView as toFeedView,
  updateFeed,
} from '../services/feeds';

const feedView = z.object({
  id: z.uuid(),
  unitId: z.uuid(),
  kind: z.enum(FEED_KINDS),
  url: z.string(),
  title: z.string().nullable(),
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
const idParams = z.strictObject({ id: z.uuid() });

/** The offices' own accounts that Gaung reads, bringing their new items in as posts (ingest). */
export const feedRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/feeds',
    {
      schema: {
        tags: ['feeds'],
        querystring: z.strictObject({ unitId: z.uuid().optional() }),
        response: { 200: z.object({ feeds: z.array(feedView) }) },
      },
    },
    async (request) => ({ feeds: await listFeeds(ctx, requireActor(request), request.query) }),
  );

  app.post(
    '/feeds',
    {
      config: { rateLimit: ROUTE_LIMITS.sourceAdd },
      schema: {
        tags: ['feeds'],
        summary: "Reads an office's own account: its new items become the unit's posts",
        description:
          'The feed is read once before it is added; an address that is not a feed answers 422 `feed_unreadable`.',
        body: z.strictObject({
          kind: z.enum(FEED_KINDS).describe('`rss` for RSS or Atom; `mastodon` for a profile address'),
          url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048),
          autoSubmit: z.boolean().optional(),
          tags: tags.optional(),
          since: z.iso
            .datetime({ offset: true })
            .optional()
            .describe('Bring in items published from this time on (default: the last day)'),
        }),
        response: { 201: feedView },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      authorize(actor, 'feed.manage', { type: 'feed', unitPath: actor.unitPath }, 'Unit');
      const { since, ...input } = request.body;
      const view = await createFeed(
        ctx,
        { actor, ip: request.ip },
        { ...input, since: since ? new Date(since) : undefined },
      );
      return reply.code(201).send(view);
    },
  );

  app.get(
    '/feeds/:id',
    { schema: { tags: ['feeds'], params: idParams, response: { 200: feedView } } },
    async (request) => {
      const actor = requireActor(request);
      const { feed, unitPath } = await loadFeed(ctx.db, request.params.id);
      authorize(actor, 'feed.read', { type: 'feed', unitPath }, 'Feed');
      return toFeedView(feed);
    },
  );

  app.patch(
    '/feeds/:id',
    {
      schema: {
        tags: ['feeds'],
        params: idParams,
        body: z.strictObject({
          autoSubmit: z.boolean().optional(),
          tags: tags.optional(),
          paused: z.boolean().optional(),
        }),
        response: { 200: feedView },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const { feed, unitPath } = await loadFeed(ctx.db, request.params.id);
      authorize(actor, 'feed.manage', { type: 'feed', unitPath }, 'Feed');
      return updateFeed(ctx, { actor, ip: request.ip }, feed, request.body);
    },
  );

  app.post(
    '/feeds/:id/poll',
    {
      schema: {
        tags: ['feeds'],
        summary: 'Reads the feed now instead of at its next poll',
        params: idParams,
        response: { 202: feedView },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const { feed, unitPath } = await loadFeed(ctx.db, request.params.id);
      authorize(actor, 'feed.manage', { type: 'feed', unitPath }, 'Feed');
      return reply.code(202).send(await pollFeedSoon(ctx, feed));
    },
  );

  app.delete(
    '/feeds/:id',
    {
      schema: {
        tags: ['feeds'],
        summary: 'Stops reading the feed; the posts it brought in stay',
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const { feed, unitPath } = await loadFeed(ctx.db, request.params.id);
      authorize(actor, 'feed.manage', { type: 'feed', unitPath }, 'Feed');
      await deleteFeed(ctx, { actor, ip: request.ip }, feed);
      return reply.code(204).send(null);
    },
  );
};
