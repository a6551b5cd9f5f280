import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CORRECTION_KINDS,
  DELIVERY_MODES,
  DELIVERY_STATUSES,
  PLATFORMS,
  POST_EVENT_KINDS,
  POST_STATUSES,
  SOURCE_KINDS,
} from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { mediaFactsView } from '../schemas/media';
import {
  CORRECTION_MAX,
  commentBody,
  isoTime,
  postContent,
  retractionReason,
  withdrawReason,
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

const unitRef = z.object({ id: z.uuid(), name: z.string() });

export const deliveryView = z.object({
  id: z.uuid(),
  channelId: z.uuid(),
  channelName: z.string(),
  platform: z.enum(PLATFORMS),
  mode: z.enum(DELIVERY_MODES),
  status: z.enum(DELIVERY_STATUSES),
  dueAt: z.string(),
  slotted: z.boolean(),
  renderedText: z.string(),
  attempts: z.number().int(),
  remoteUrl: z.string().nullable(),
  publishedAt: z.string().nullable(),
  lastError: z.string().nullable(),
  version: z.number().int(),
});

export const postView = z.object({
  id: z.uuid(),
  unit: unitRef,
  author: unitRef,
  status: z.enum(POST_STATUSES),
  version: z.number().int(),
  body: z.string(),
  variants: z.partialRecord(z.enum(PLATFORMS), z.string()),
  media: z.array(
    z.object({
      id: z.uuid(),
      position: z.number().int(),
      altText: z.string(),
      ...mediaFactsView,
    }),
  ),
  link: z.string().nullable(),
  sourceUrl: z.string().nullable(),
  origin: z
    .object({
      platform: z.enum(SOURCE_KINDS),
      nativeId: z.string(),
      url: z.string().nullable(),
      authorHandle: z.string().nullable(),
      publishedAt: z.string(),
      ref: z.record(z.string(), z.string()).optional(),
    })
    .nullable()
    .describe("The original on the office's account, when a source brought the post in"),
  tags: z.array(z.string()),
  preferredFrom: z.string().nullable(),
  preferredTo: z.string().nullable(),
  submittedAt: z.string().nullable(),
  decidedAt: z.string().nullable(),
  retractionReason: z.string().nullable(),
  retractedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  deliveries: z.array(deliveryView),
});

const postSummary = z.object({
  id: z.uuid(),
  unit: unitRef,
  author: unitRef,
  status: z.enum(POST_STATUSES),
  version: z.number().int(),
  body: z.string(),
  tags: z.array(z.string()),
  sourceUrl: z.string().nullable(),
  submittedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const postEventView = z.object({
  id: z.number().int(),
  kind: z.enum(POST_EVENT_KINDS),
  actor: unitRef.nullable(),
  fromStatus: z.enum(POST_STATUSES).nullable(),
  toStatus: z.enum(POST_STATUSES).nullable(),
  body: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});

export const idParams = z.strictObject({ id: z.uuid() });

/** The version the client saw; a stale one gets 409 with the current version. */
export const versionField = z.number().int().min(1);

const statusList = z
  .string()
  .transform((value) => value.split(',').map((s) => s.trim()))
  .pipe(z.array(z.enum(POST_STATUSES)).min(1))
  .describe('One status or several, comma-separated');

/** Posts of an office: drafts, submissions and their timeline. */
export const postRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.post(
    '/posts',
    {
      schema: {
        tags: ['posts'],
        body: z.strictObject({
          body: postContent.body.default(''),
          variants: postContent.variants.optional(),
          media: postContent.media.optional(),
          link: postContent.link.optional(),
          sourceUrl: postContent.sourceUrl.optional(),
          tags: postContent.tags.optional(),
          preferredFrom: postContent.preferredFrom.optional(),
          preferredTo: postContent.preferredTo.optional(),
        }),
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
        querystring: z.strictObject({
          status: statusList.optional(),
          unit: z.uuid().optional().describe('A unit and its subtree'),
          author: z.uuid().optional(),
          q: z.string().trim().min(1).max(200).optional().describe('Words of the body'),
          from: isoTime.optional().describe('Created at or after'),
          to: isoTime.optional().describe('Created before'),
          cursor: z.string().max(200).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
        response: { 200: z.object({ items: z.array(postSummary), nextCursor: z.string().nullable() }) },
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
        body: z.strictObject({
          version: versionField,
          body: postContent.body.optional(),
          variants: postContent.variants.optional(),
          media: postContent.media.optional(),
          link: postContent.link.optional(),
          sourceUrl: postContent.sourceUrl.optional(),
          tags: postContent.tags.optional(),
          preferredFrom: postContent.preferredFrom.optional(),
          preferredTo: postContent.preferredTo.optional(),
        }),
        response: { 200: postView },
      },
    },
    async (request) => {
      return updatePost(ctx, requireActor(request), request.params.id, request.body);
    },
  );

  const optionalVersion = z.strictObject({ version: versionField.optional() });

  app.post(
    '/posts/:id/submit',
    {
      schema: {
        tags: ['posts'],
        params: idParams,
        body: optionalVersion.nullish(),
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
        body: z
          .strictObject({
            version: versionField.optional(),
            reason: withdrawReason.optional(),
          })
          .nullish(),
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
        body: z.strictObject({
          version: versionField,
          reason: retractionReason,
          correction: z
            .strictObject({
              text: z.string().trim().min(1).max(CORRECTION_MAX),
              as: z.enum(CORRECTION_KINDS),
            })
            .optional(),
        }),
        response: {
          200: z.object({
            post: postView,
            deliveries: z.array(
              z.object({
                deliveryId: z.uuid(),
                channelId: z.uuid(),
                channelName: z.string(),
                platform: z.enum(PLATFORMS),
                status: z.enum(DELIVERY_STATUSES),
                plan: z.enum(['retract', 'cancel', 'after_publish', 'nothing']),
                byHand: z.boolean(),
              }),
            ),
            correctionPostId: z.uuid().nullable(),
          }),
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
        response: { 200: z.object({ events: z.array(postEventView) }) },
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
        response: { 200: z.object({ comments: z.array(postEventView) }) },
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
        body: z.strictObject({ body: commentBody }),
        response: { 201: postEventView },
      },
    },
    async (request, reply) => {
      const comment = await addComment(ctx, requireActor(request), request.params.id, request.body.body);
      return reply.code(201).send(comment);
    },
  );
};
