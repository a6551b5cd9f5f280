import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../domain/errors';
import { CHANNEL_STATUSES, PLATFORMS } from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { ROUTE_LIMITS } from '../http/rate-limit';
import {
  archiveChannel,
  connectMeta,
  createChannel,
  finishOAuthConnect,
  getChannel,
  listChannels,
  OAUTH_PROVIDERS,
  recheckChannel,
  setChannelSlots,
  startOAuthConnect,
  takeOAuthState,
  updateChannel,
} from '../services/channels';
import { finishSourceConnect } from '../services/sources';

const secretBag = z.record(z.string().max(100), z.unknown());

const channelView = z.object({
  id: z.uuid(),
  unitId: z.uuid(),
  platform: z.enum(PLATFORMS),
  name: z.string(),
  handle: z.string().nullable(),
  status: z.enum(CHANNEL_STATUSES),
  statusReason: z.string().nullable(),
  settings: z.record(z.string(), z.unknown()),
  timeZone: z.string(),
  dailyCap: z.number().int().nullable(),
  minSpacingMinutes: z.number().int(),
  creditTemplate: z.string(),
  slots: z.array(z.string()),
  connected: z.boolean().describe('Credentials are stored (they are never returned)'),
  credentialsExpiresAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const common = {
  name: z.string().trim().min(1).max(120),
  settings: secretBag.optional(),
  credentials: secretBag.optional().describe('Platform secrets; stored encrypted, never returned'),
  timeZone: z.string().max(64).optional(),
  dailyCap: z.number().int().min(1).max(1000).nullable().optional(),
  minSpacingMinutes: z.number().int().min(0).max(1440).optional(),
  creditTemplate: z.string().max(1000).optional(),
  slots: z.array(z.string().max(120)).max(100).optional(),
};

const idParams = z.strictObject({ id: z.uuid() });

/** The national (and regional) accounts Gaung publishes to. */
export const channelRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/channels',
    {
      schema: {
        tags: ['channels'],
        querystring: z.strictObject({
          unitId: z.uuid().optional(),
          platform: z.enum(PLATFORMS).optional(),
          status: z.enum(CHANNEL_STATUSES).optional(),
        }),
        response: { 200: z.object({ channels: z.array(channelView) }) },
      },
    },
    async (request) => ({ channels: await listChannels(ctx, requireActor(request), request.query) }),
  );

  app.post(
    '/channels',
    {
      schema: {
        tags: ['channels'],
        body: z.strictObject({ unitId: z.uuid(), platform: z.enum(PLATFORMS), ...common }),
        response: { 201: channelView },
      },
    },
    async (request, reply) => {
      const view = await createChannel(ctx, { actor: requireActor(request), ip: request.ip }, request.body);
      return reply.code(201).send(view);
    },
  );

  app.get(
    '/channels/:id',
    { schema: { tags: ['channels'], params: idParams, response: { 200: channelView } } },
    async (request) => {
      return getChannel(ctx, requireActor(request), request.params.id);
    },
  );

  app.patch(
    '/channels/:id',
    {
      schema: {
        tags: ['channels'],
        params: idParams,
        body: z.strictObject({
          ...common,
          name: common.name.optional(),
          paused: z.boolean().optional().describe('true pauses publishing; false re-verifies and resumes'),
        }),
        response: { 200: channelView },
      },
    },
    async (request) => {
      const who = { actor: requireActor(request), ip: request.ip };
      return updateChannel(ctx, who, request.params.id, request.body);
    },
  );

  app.delete(
    '/channels/:id',
    { schema: { tags: ['channels'], params: idParams, response: { 204: z.null() } } },
    async (request, reply) => {
      await archiveChannel(ctx, { actor: requireActor(request), ip: request.ip }, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/channels/:id/slots',
    {
      schema: {
        tags: ['channels'],
        params: idParams,
        body: z.strictObject({ slots: z.array(z.string().max(120)).max(100) }),
        response: { 200: channelView },
      },
    },
    async (request) => {
      return setChannelSlots(ctx, requireActor(request), request.params.id, request.body.slots);
    },
  );

  app.post(
    '/channels/:id/verify',
    {
      config: { rateLimit: ROUTE_LIMITS.channelVerify },
      schema: {
        tags: ['channels'],
        params: idParams,
        response: {
          200: z.object({
            channel: channelView,
            ok: z.boolean(),
            account: z
              .object({ remoteId: z.string(), handle: z.string(), name: z.string().optional() })
              .nullable(),
            problem: z.string().nullable(),
          }),
        },
      },
    },
    async (request) => {
      const who = { actor: requireActor(request), ip: request.ip };
      const result = await recheckChannel(ctx, who, request.params.id);
      return {
        channel: result.channel,
        ok: result.account !== null,
        account: result.account,
        problem: result.problem,
      };
    },
  );

  app.get(
    '/channels/:id/connect/:provider',
    {
      schema: {
        tags: ['channels'],
        description:
          "Starts connecting an X or YouTube account: redirects a browser to the platform's consent page, or answers the URL.",
        params: z.strictObject({ id: z.uuid(), provider: z.enum(OAUTH_PROVIDERS) }),
        response: { 200: z.object({ authorizeUrl: z.string() }) },
      },
    },
    async (request, reply) => {
      const authorizeUrl = await startOAuthConnect(
        ctx,
        { actor: requireActor(request), ip: request.ip },
        request.params.id,
        request.params.provider,
      );
      if (request.headers.accept?.includes('text/html')) return reply.redirect(authorizeUrl, 302);
      return { authorizeUrl };
    },
  );

  app.get(
    '/oauth/:provider/callback',
    {
      schema: {
        tags: ['channels'],
        description:
          "The platform's redirect back after consent; ends on the channel's page in the web app, or on the sources page for a new source.",
        params: z.strictObject({ provider: z.enum(OAUTH_PROVIDERS) }),
        querystring: z.object({
          code: z.string().max(2000).optional(),
          state: z.string().max(200),
          error: z.string().max(200).optional(),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const who = { actor, ip: request.ip };
      const { provider } = request.params;
      if (request.query.error || !request.query.code) {
        // A refusal ends where the flow began; one whose state is unknown, on the channels page.
        const saved = await takeOAuthState(ctx, who, provider, request.query.state).catch(
          (error: unknown) => {
            if (error instanceof AppError) return null;
            throw error;
          },
        );
        return reply.redirect(
          saved && 'source' in saved.target ? '/sources?connect=denied' : '/admin/channels?connect=denied',
          302,
        );
      }
      const { target, codeVerifier } = await takeOAuthState(ctx, who, provider, request.query.state);
      if ('source' in target) {
        await finishSourceConnect(ctx, who, provider, target.source, {
          code: request.query.code,
          codeVerifier,
        });
        return reply.redirect('/sources?ok=sourceCreated', 302);
      }
      const view = await finishOAuthConnect(ctx, who, provider, target, {
        code: request.query.code,
        codeVerifier,
      });
      return reply.redirect(
        `/admin/channels/${view.id}?connected=${view.status === 'active' ? '1' : '0'}`,
        302,
      );
    },
  );

  app.post(
    '/channels/:id/connect/meta',
    {
      schema: {
        tags: ['channels'],
        description:
          "Connects a Facebook Page, or its linked Instagram account, with a user token from Meta's login dialog.",
        params: idParams,
        body: z.strictObject({
          userAccessToken: z.string().min(10).max(1000),
          pageId: z
            .string()
            .regex(/^\d{1,30}$/)
            .optional(),
        }),
        response: { 200: channelView },
      },
    },
    async (request) => {
      const who = { actor: requireActor(request), ip: request.ip };
      return connectMeta(ctx, who, request.params.id, request.body);
    },
  );
};
