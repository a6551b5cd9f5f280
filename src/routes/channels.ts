import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../domain/errors';
import { requireActor } from '../http/auth';
import { ROUTE_LIMITS } from '../http/rate-limit';
import {
  authorizeView,
  channelList,
  channelListQuery,
  channelView,
  connectMetaBody,
  connectParams,
  createChannelBody,
  oauthCallbackParams,
  oauthCallbackQuery,
  slotsBody,
  updateChannelBody,
  verifyView,
} from '../schemas/channels';
import { idParams } from '../schemas/common';
import {
  archiveChannel,
  connectMeta,
  createChannel,
  finishOAuthConnect,
  getChannel,
  listChannels,
  recheckChannel,
  setChannelSlots,
  startOAuthConnect,
  takeOAuthState,
  updateChannel,
} from '../services/channels';
import { finishSourceConnect } from '../services/sources';

/** The national (and regional) accounts Gaung publishes to. */
export const channelRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/channels',
    {
      schema: {
        tags: ['channels'],
        querystring: channelListQuery,
        response: { 200: channelList },
      },
    },
    async (request) => ({ channels: await listChannels(ctx, requireActor(request), request.query) }),
  );

  app.post(
    '/channels',
    {
      schema: {
        tags: ['channels'],
        body: createChannelBody,
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
        body: updateChannelBody,
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
        body: slotsBody,
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
          200: verifyView,
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
          "Starts connecting an X, YouTube, TikTok or Threads account: redirects a browser to the platform's consent page, or answers the URL.",
        params: connectParams,
        response: { 200: authorizeView },
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
        params: oauthCallbackParams,
        querystring: oauthCallbackQuery,
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
        body: connectMetaBody,
        response: { 200: channelView },
      },
    },
    async (request) => {
      const who = { actor: requireActor(request), ip: request.ip };
      return connectMeta(ctx, who, request.params.id, request.body);
    },
  );
};
