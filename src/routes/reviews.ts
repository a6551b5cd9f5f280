import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireActor } from '../http/auth';
import { ROUTE_LIMITS } from '../http/rate-limit';
import { idParams } from '../schemas/common';
import { postView } from '../schemas/posts';
import {
  addTargetsBody,
  approveBody,
  bulkReviewBody,
  bulkReviewResults,
  cancelTargetBody,
  levelDecisionBody,
  previewBody,
  previewView,
  rejectBody,
  requestChangesBody,
  reviewInboxPage,
  reviewInboxQuery,
  targetParams,
} from '../schemas/reviews';
import { decideInBulk } from '../services/bulk-reviews';
import { addTargets, approvePost } from '../services/reviews/approval';
import { cancelTarget } from '../services/reviews/cancel-target';
import { forwardPost, passPost, rejectPost, requestChanges } from '../services/reviews/decisions';
import { reviewInbox } from '../services/reviews/inbox';
import { previewPost } from '../services/reviews/targets';

/** Review: the inbox, preview, decisions, and the deliveries approval creates. */
export const reviewRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/reviews',
    {
      schema: {
        tags: ['reviews'],
        querystring: reviewInboxQuery,
        response: {
          200: reviewInboxPage,
        },
      },
    },
    async (request) => {
      return reviewInbox(ctx, requireActor(request), request.query);
    },
  );

  app.post(
    '/posts/:id/preview',
    {
      config: { rateLimit: ROUTE_LIMITS.preview },
      schema: {
        tags: ['reviews'],
        params: idParams,
        body: previewBody,
        response: { 200: previewView },
      },
    },
    async (request) => {
      const { channelIds, mode } = request.body;
      return { channels: await previewPost(ctx, requireActor(request), request.params.id, channelIds, mode) };
    },
  );

  app.post(
    '/posts/:id/request-changes',
    {
      schema: {
        tags: ['reviews'],
        params: idParams,
        body: requestChangesBody,
        response: { 200: postView },
      },
    },
    async (request) => {
      const { version, comment } = request.body;
      return requestChanges(ctx, requireActor(request), request.params.id, version, comment);
    },
  );

  app.post(
    '/posts/:id/reject',
    {
      schema: {
        tags: ['reviews'],
        params: idParams,
        body: rejectBody,
        response: { 200: postView },
      },
    },
    async (request) => {
      const { version, reason } = request.body;
      return rejectPost(ctx, requireActor(request), request.params.id, version, reason);
    },
  );

  for (const [step, run, description] of [
    ['pass', passPost, 'Not for this level: the level decides not to publish it on its own channels'],
    ['forward', forwardPost, 'Sends the post on to the level directly above, with a note'],
  ] as const)
    app.post(
      `/posts/:id/${step}`,
      {
        schema: {
          tags: ['reviews'],
          description,
          params: idParams,
          body: levelDecisionBody,
          response: { 200: postView },
        },
      },
      async (request) => {
        const { version, note } = request.body;
        return run(ctx, requireActor(request), request.params.id, version, note ?? null);
      },
    );

  app.post(
    '/posts/:id/approve',
    {
      schema: {
        tags: ['reviews'],
        params: idParams,
        body: approveBody,
        response: { 200: postView },
      },
    },
    async (request) => {
      return approvePost(ctx, requireActor(request), request.params.id, request.body);
    },
  );

  app.post(
    '/reviews/bulk',
    {
      schema: {
        tags: ['reviews'],
        description:
          'Decides several posts together: approve them to the same channels (each at its own fair next slot when "next-slot"), pass, or forward. Each post gets its own permission and version check, transaction and timeline event; 200 when every post was decided, 207 with the refusals otherwise.',
        body: bulkReviewBody,
        response: {
          '2xx': bulkReviewResults,
        },
      },
    },
    async (request, reply) => {
      const results = await decideInBulk(ctx, requireActor(request), request.body);
      return reply.code(results.every((r) => r.status === 200) ? 200 : 207).send({ results });
    },
  );

  app.post(
    '/posts/:id/targets',
    {
      schema: {
        tags: ['reviews'],
        params: idParams,
        body: addTargetsBody,
        response: { 200: postView },
      },
    },
    async (request) => {
      return addTargets(ctx, requireActor(request), request.params.id, request.body);
    },
  );

  app.post(
    '/posts/:id/targets/:channelId/cancel',
    {
      schema: {
        tags: ['reviews'],
        description: 'Cancels the delivery of this post on this channel, if it has not been published',
        params: targetParams,
        body: cancelTargetBody,
        response: { 200: postView },
      },
    },
    async (request) => {
      const { id, channelId } = request.params;
      return cancelTarget(ctx, requireActor(request), id, channelId, request.body?.version);
    },
  );
};
