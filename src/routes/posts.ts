import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireActor } from '../http/auth';
import { idParams } from '../schemas/common';
import {
  commentCreateBody,
  createPostBody,
  postCommentsView,
  postEventsView,
  postEventView,
  postListQuery,
  postPage,
  postView,
  retractBody,
  retractionView,
  submitBody,
  updatePostBody,
  withdrawBody,
} from '../schemas/posts';
import {
  addComment,
  createPost,
  listPosts,
  readPost,
  readPostEvents,
  submitPost,
  updatePost,
  withdrawPost,
} from '../services/posts';
import { requestRetraction } from '../services/retraction';

/** Posts of an office: drafts, submissions and their timeline. */
export const postRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.post(
    '/posts',
    {
      schema: {
        tags: ['posts'],
        body: createPostBody,
        response: { 201: postView },
      },
    },
    async (request, reply) => {
      return reply.code(201).send(await createPost(ctx, requireActor(request), request.body));
    },
  );

  app.get(
    '/posts',
    {
      schema: {
        tags: ['posts'],
        querystring: postListQuery,
        response: { 200: postPage },
      },
    },
    async (request) => {
      const { unit, author, ...filters } = request.query;
      return listPosts(ctx, requireActor(request), { ...filters, unitId: unit, authorId: author });
    },
  );

  app.get(
    '/posts/:id',
    { schema: { tags: ['posts'], params: idParams, response: { 200: postView } } },
    async (request) => {
      return (await readPost(ctx, requireActor(request), request.params.id)).post;
    },
  );

  app.patch(
    '/posts/:id',
    {
      schema: {
        tags: ['posts'],
        params: idParams,
        body: updatePostBody,
        response: { 200: postView },
      },
    },
    async (request) => {
      return updatePost(ctx, requireActor(request), request.params.id, request.body);
    },
  );

  app.post(
    '/posts/:id/submit',
    {
      schema: {
        tags: ['posts'],
        params: idParams,
        body: submitBody,
        response: { 200: postView },
      },
    },
    async (request) => {
      return submitPost(ctx, requireActor(request), request.params.id, request.body?.version);
    },
  );

  app.post(
    '/posts/:id/withdraw',
    {
      schema: {
        tags: ['posts'],
        params: idParams,
        body: withdrawBody,
        response: { 200: postView },
      },
    },
    async (request) => {
      const { params, body } = request;
      return withdrawPost(ctx, requireActor(request), params.id, body?.version, body?.reason);
    },
  );

  app.post(
    '/posts/:id/retract',
    {
      schema: {
        tags: ['posts'],
        description:
          'Withdraws a published post from the platforms of the channels the caller controls: published deliveries are deleted (or handed to a person where the platform cannot delete), scheduled ones cancelled, those in flight retracted once they resolve. An optional correction is published to the same channels.',
        params: idParams,
        body: retractBody,
        response: {
          200: retractionView,
        },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const { post, scope, correctionPostId } = await requestRetraction(
        ctx,
        actor,
        request.params.id,
        request.body,
        request.ip,
      );
      return { post, deliveries: scope, correctionPostId };
    },
  );

  app.get(
    '/posts/:id/events',
    {
      schema: {
        tags: ['posts'],
        params: idParams,
        response: { 200: postEventsView },
      },
    },
    async (request) => {
      return { events: await readPostEvents(ctx, requireActor(request), request.params.id) };
    },
  );

  app.get(
    '/posts/:id/comments',
    {
      schema: {
        tags: ['posts'],
        params: idParams,
        response: { 200: postCommentsView },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      return { comments: await readPostEvents(ctx, actor, request.params.id, 'comments') };
    },
  );

  app.post(
    '/posts/:id/comments',
    {
      schema: {
        tags: ['posts'],
        params: idParams,
        body: commentCreateBody,
        response: { 201: postEventView },
      },
    },
    async (request, reply) => {
      const comment = await addComment(ctx, requireActor(request), request.params.id, request.body.body);
      return reply.code(201).send(comment);
    },
  );
};
