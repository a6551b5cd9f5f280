import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TIKTOK_PRIVACY_LEVELS } from '../domain/tiktok';
import {
  DELIVERY_MODES,
  LEVEL_ARRIVALS,
  LEVEL_DECISIONS,
  PLATFORMS,
  POST_STATUSES,
} from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { ROUTE_LIMITS } from '../http/rate-limit';
import { BULK_ACTIONS, decideInBulk, MAX_BULK_POSTS } from '../services/bulk-reviews';
import { addTargets, approvePost } from '../services/reviews/approval';
import { cancelTarget } from '../services/reviews/cancel-target';
import { forwardPost, passPost, rejectPost, requestChanges } from '../services/reviews/decisions';
import { reviewInbox } from '../services/reviews/inbox';
import { previewPost } from '../services/reviews/targets';
import { idParams, postView, versionField } from './posts';

const issue = z.object({
  code: z.string(),
  message: z.string(),
  severity: z.enum(['error', 'warning']),
  field: z.string().optional(),
  mediaId: z.uuid().optional(),
});

const targetReport = z.object({
  channelId: z.uuid(),
  channelName: z.string().nullable(),
  platform: z.enum(PLATFORMS).nullable(),
  mode: z.enum(DELIVERY_MODES),
  targetable: z.boolean(),
  text: z.string(),
  count: z.object({ used: z.number(), limit: z.number(), unit: z.string() }).nullable(),
  issues: z.array(issue),
});

const targets = z
  .array(
    z.strictObject({
      channelId: z.uuid(),
      mode: z.enum(DELIVERY_MODES).default('copy'),
      at: z
        .union([z.literal('now'), z.literal('next-slot'), z.iso.datetime({ offset: true })])
        .describe('"now", "next-slot" (the channel\'s next free posting slot) or an ISO time'),
      text: z.string().max(65_536).nullable().optional().describe("Replaces the post's text on this channel"),
      tiktok: z
        .strictObject({
          privacyLevel: z.enum(TIKTOK_PRIVACY_LEVELS).optional(),
          allowComment: z.boolean().optional(),
          allowDuet: z.boolean().optional(),
          allowStitch: z.boolean().optional(),
        })
        .optional()
        .describe(
          'TikTok channels: who may see the post (one of the levels the creator allows) and whether comments, duets and stitches are allowed',
        ),
    }),
  )
  .min(1)
  .max(50)
  .refine((list) => new Set(list.map((t) => t.channelId)).size === list.length, 'each channel once');

const comment = z.string().trim().min(1).max(5_000);

const unitRef = z.object({ id: z.uuid(), name: z.string() });

const inboxItem = z.object({
  id: z.uuid(),
  unit: unitRef,
  author: unitRef,
  status: z.enum(POST_STATUSES),
  version: z.number().int(),
  body: z.string(),
  tags: z.array(z.string()),
  sourceUrl: z.string().nullable(),
  sourcePlatform: z.enum(PLATFORMS).nullable().describe('Where the original was posted'),
  thumbnailMediaId: z.uuid().nullable().describe('The first photo or video; GET /media/:id/thumbnail'),
  arrival: z
    .enum(LEVEL_ARRIVALS)
    .describe('How the post reached this level: "forwarded" from the level below'),
  submittedAt: z.string(),
  arrivedAt: z.string().describe('When it reached this level; the waiting time counts from here'),
  ageSeconds: z.number().int(),
  overdue: z.boolean(),
  decisions: z
    .array(
      z.object({
        unit: unitRef,
        decision: z.enum(LEVEL_DECISIONS).nullable(),
        channels: z.array(z.string()),
        note: z.string().nullable(),
        forwarded: z.boolean(),
        forwardNote: z.string().nullable(),
      }),
    )
    .describe('What the levels have done with the post so far'),
});

const levelNote = z.string().trim().min(1).max(5_000).optional();

/** Review: the inbox, preview, decisions, and the deliveries approval creates. */
export const reviewRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;

  app.get(
    '/reviews',
    {
      schema: {
        tags: ['reviews'],
        querystring: z.strictObject({
          unit: z.uuid().optional().describe('Only posts of this unit and its subtree'),
          forwarded: z
            .enum(['true', 'false'])
            .optional()
            .transform((v) => v === 'true')
            .describe('Only posts the level below forwarded'),
          q: z.string().trim().min(1).max(200).optional().describe('Words of the body'),
          platform: z.enum(PLATFORMS).optional().describe('Only posts whose original is on this platform'),
          cursor: z.string().max(200).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
        response: {
          200: z.object({
            items: z.array(inboxItem),
            units: z.array(
              z.object({
                unit: unitRef,
                count: z.number().int(),
                oldestArrivedAt: z.string(),
                oldestAgeSeconds: z.number().int(),
              }),
            ),
            total: z.number().int(),
            nextCursor: z.string().nullable(),
          }),
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
        body: z.strictObject({
          channelIds: z.array(z.uuid()).min(1).max(50),
          mode: z.enum(DELIVERY_MODES).default('copy'),
        }),
        response: { 200: z.object({ channels: z.array(targetReport) }) },
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
        body: z.strictObject({ version: versionField, comment }),
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
        body: z.strictObject({ version: versionField, reason: comment }),
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
          body: z.strictObject({ version: versionField, note: levelNote }),
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
        body: z.strictObject({ version: versionField, targets, comment: comment.optional() }),
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
        body: z
          .strictObject({
            action: z.enum(BULK_ACTIONS),
            posts: z
              .array(z.strictObject({ id: z.uuid(), version: versionField }))
              .min(1)
              .max(MAX_BULK_POSTS)
              .refine((list) => new Set(list.map((p) => p.id)).size === list.length, 'each post once'),
            targets: targets.optional().describe('For "approve": the channels every post goes to'),
            note: levelNote.describe("The approval's comment, or the pass / forward note"),
          })
          .refine((body) => body.action !== 'approve' || body.targets !== undefined, {
            message: 'approve needs targets',
            path: ['targets'],
          }),
        response: {
          '2xx': z.object({
            results: z.array(
              z.object({
                id: z.uuid(),
                status: z.number().int().describe('What the single decision would have answered'),
                postStatus: z.enum(POST_STATUSES).optional(),
                version: z.number().int().optional(),
                code: z.string().optional(),
                detail: z.string().optional(),
              }),
            ),
          }),
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
        body: z.strictObject({ version: versionField, targets }),
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
        params: z.strictObject({ id: z.uuid(), channelId: z.uuid() }),
        body: z
          .strictObject({ version: versionField.optional().describe("The delivery's version") })
          .nullish(),
        response: { 200: postView },
      },
    },
    async (request) => {
      const { id, channelId } = request.params;
      return cancelTarget(ctx, requireActor(request), id, channelId, request.body?.version);
    },
  );
};
