import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireActor } from '../http/auth';
import { ROUTE_LIMITS } from '../http/rate-limit';
import { idParams } from '../schemas/common';
import {
  sourceRuleInput,
  sourceRuleList,
  sourceRulePatch,
  sourceRuleView,
  stopRuleBody,
} from '../schemas/source-rules';
import {
  createSourceBody,
  ruleParams,
  sourceList,
  sourceListQuery,
  sourceView,
  updateSourceBody,
} from '../schemas/sources';
import {
  createRule,
  DEFAULT_STOP_WINDOW_MINUTES,
  deleteRule,
  listRules,
  stopRuleApproval,
  updateRule,
} from '../services/source-rules';
import {
  createSource,
  deleteSource,
  getSource,
  listSources,
  pollSourceSoon,
  updateSource,
} from '../services/sources';

/** The offices' own accounts that Gaung reads, bringing their new items in as posts (ingest). */
export const sourceRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/sources',
    {
      schema: {
        tags: ['sources'],
        querystring: sourceListQuery,
        response: { 200: sourceList },
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
        body: createSourceBody,
        response: { 201: sourceView },
      },
    },
    async (request, reply) => {
      const { since, ...input } = request.body;
      const view = await createSource(
        ctx,
        { actor: requireActor(request), ip: request.ip },
        { ...input, since: since ? new Date(since) : undefined },
      );
      return reply.code(201).send(view);
    },
  );

  app.get(
    '/sources/:id',
    { schema: { tags: ['sources'], params: idParams, response: { 200: sourceView } } },
    async (request) => {
      return getSource(ctx, requireActor(request), request.params.id);
    },
  );

  app.patch(
    '/sources/:id',
    {
      schema: {
        tags: ['sources'],
        params: idParams,
        body: updateSourceBody,
        response: { 200: sourceView },
      },
    },
    async (request) => {
      return updateSource(
        ctx,
        { actor: requireActor(request), ip: request.ip },
        request.params.id,
        request.body,
      );
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
      return reply.code(202).send(await pollSourceSoon(ctx, requireActor(request), request.params.id));
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
      await deleteSource(ctx, { actor: requireActor(request), ip: request.ip }, request.params.id);
      return reply.code(204).send(null);
    },
  );

  // Auto-approval rules (trusted offices)

  app.get(
    '/sources/:id/rules',
    {
      schema: {
        tags: ['sources'],
        summary: "The source's auto-approval rules",
        params: idParams,
        response: { 200: sourceRuleList },
      },
    },
    async (request) => ({ rules: await listRules(ctx, requireActor(request), request.params.id) }),
  );

  app.post(
    '/sources/:id/rules',
    {
      schema: {
        tags: ['sources'],
        summary: 'Approves the items the rule takes to its channels unless a reviewer stops them in time',
        description:
          "Reviewers of the source's office or above; each channel must be one the caller may target (400 `channel_not_targetable` on `channelIds.<i>`).",
        params: idParams,
        body: sourceRuleInput,
        response: { 201: sourceRuleView },
      },
    },
    async (request, reply) => {
      const { stopWindowMinutes, ...input } = request.body;
      const rule = await createRule(
        ctx,
        { actor: requireActor(request), ip: request.ip },
        request.params.id,
        {
          ...input,
          stopWindowMinutes: stopWindowMinutes ?? DEFAULT_STOP_WINDOW_MINUTES,
        },
      );
      return reply.code(201).send(rule);
    },
  );

  app.patch(
    '/sources/:id/rules/:ruleId',
    {
      schema: {
        tags: ['sources'],
        summary: 'Changes a rule; the caller becomes the author it approves as',
        params: ruleParams,
        body: sourceRulePatch,
        response: { 200: sourceRuleView },
      },
    },
    async (request) =>
      updateRule(
        ctx,
        { actor: requireActor(request), ip: request.ip },
        request.params.id,
        request.params.ruleId,
        request.body,
      ),
  );

  app.delete(
    '/sources/:id/rules/:ruleId',
    {
      schema: {
        tags: ['sources'],
        summary: 'Removes a rule; the approvals it has not made yet are not made',
        params: ruleParams,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await deleteRule(
        ctx,
        { actor: requireActor(request), ip: request.ip },
        request.params.id,
        request.params.ruleId,
      );
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/sources/:id/rules/:ruleId/stop',
    {
      schema: {
        tags: ['sources'],
        summary: 'Stops what the rule would approve of a post: it waits in the inbox for a person',
        params: ruleParams,
        body: stopRuleBody,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await stopRuleApproval(
        ctx,
        { actor: requireActor(request), ip: request.ip },
        request.params.id,
        request.params.ruleId,
        request.body.postId,
      );
      return reply.code(204).send(null);
    },
  );
};
