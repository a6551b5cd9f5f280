import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, type FieldError, invalid } from '../../domain/errors';
import type { ValidationIssue } from '../../domain/rendering';
import { PLATFORMS } from '../../domain/vocabulary';
import { requireActor } from '../../http/auth';
import { decideInBulk } from '../../services/bulk-reviews';
import { loadPostView } from '../../services/posts';
import { addTargets, approvePost } from '../../services/reviews/approval';
import { cancelTarget } from '../../services/reviews/cancel-target';
import { forwardPost, passPost, rejectPost, requestChanges } from '../../services/reviews/decisions';
import { inboxUnits, reviewInbox } from '../../services/reviews/inbox';
import { bulkChannels, reviewScreen } from '../../services/reviews/screen';
import { pendingRuleApprovals, stopRuleApproval } from '../../services/source-rules';
import type { Messages } from '../i18n/index';
import { blank, one, patternForm, type WebOptions } from '../kit';
import { fieldErrorsOf, isUserError, noticeOf, problemText } from '../page';
import { type DecisionForm, decisionForm, readTargets, targetIssuesOf } from './approve';
import { type BulkOutcome, readBulkForm } from './bulk';
import { InboxPage } from './inbox';
import { ReviewPage } from './post-page';

/** Humas's pages: the inbox, bulk decisions, and the review page with its decisions. Thin: the use cases authorise. */

const idParams = z.strictObject({ id: z.uuid() });

/** Where a done action goes: a page with its `?ok=` notice. */
const okAt = (path: string, notice: keyof Messages['notices']) => `${path}?ok=${notice}`;

export const reviewPages: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  const showReview = async (
    request: FastifyRequest,
    reply: FastifyReply,
    postId: string,
    extra: {
      form?: DecisionForm;
      errors?: FieldError[];
      error?: string | null;
      targetIssues?: Map<string, ValidationIssue[]>;
      status?: number;
      notice?: string | null;
    } = {},
  ) => {
    const screen = await reviewScreen(ctx, requireActor(request), postId);
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <ReviewPage
        screen={screen}
        form={extra.form ?? {}}
        targetIssues={extra.targetIssues ?? new Map()}
        errors={extra.errors}
        error={extra.error}
        notice={extra.notice}
      />,
      extra.status ?? 200,
    );
  };

  const inboxQuery = z.strictObject({
    unit: z.union([z.uuid(), z.literal('')]).optional(),
    platform: z.union([z.enum(PLATFORMS), z.literal('')]).optional(),
    q: z.string().trim().max(200).optional(),
    forwarded: z.literal('1').optional(),
    cursor: z.string().max(200).optional(),
    ok: z.string().max(40).optional(),
  });

  const showInbox = async (
    request: FastifyRequest,
    reply: FastifyReply,
    query: z.infer<typeof inboxQuery>,
    bulk?: BulkOutcome,
    refusal?: { error: string; status: number },
  ) => {
    const actor = requireActor(request);
    const unit = query.unit || undefined;
    const forwarded = query.forwarded === '1';
    const q = blank(query.q);
    const platform = query.platform || undefined;
    // The inbox authorises the scope: nothing else is read for whom it refuses.
    const inbox = await reviewInbox(ctx, actor, {
      unit,
      q,
      platform,
      forwarded,
      cursor: query.cursor,
      limit: 50,
    });
    const [units, channels, automatic] = await Promise.all([
      inboxUnits(ctx, actor),
      bulkChannels(ctx, actor),
      pendingRuleApprovals(ctx, actor),
    ]);
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <InboxPage
        inbox={inbox}
        units={units}
        unit={unit}
        platform={platform}
        q={q}
        forwarded={forwarded}
        notice={noticeOf(env.t, query.ok)}
        bulkChannels={channels}
        bulk={bulk}
        automatic={automatic}
        error={refusal?.error}
      />,
      refusal?.status ?? 200,
    );
  };

  app.get('/inbox', { schema: { hide: true, querystring: inboxQuery } }, async (request, reply) =>
    showInbox(request, reply, request.query),
  );

  /** A reviewer stops what a rule would approve; the post stays in the inbox for a person. */
  app.post(
    '/inbox/rules/:sourceId/:ruleId/stop',
    {
      schema: {
        hide: true,
        params: z.strictObject({ sourceId: z.uuid(), ruleId: z.uuid() }),
        body: patternForm(/^(_csrf|post)$/),
      },
    },
    async (request, reply) => {
      const postId = one(request.body.post) ?? '';
      if (!z.uuid().safeParse(postId).success)
        throw invalid([{ field: 'post', message: 'must be a post id', code: 'invalid' }]);
      await stopRuleApproval(
        ctx,
        { actor: requireActor(request), ip: request.ip },
        request.params.sourceId,
        request.params.ruleId,
        postId,
      );
      return reply.redirect(okAt('/inbox', 'ruleStopped'), 303);
    },
  );

  /** Several selected posts decided together; each is decided on its own (see `decideInBulk`). */
  app.post(
    '/inbox/bulk',
    { schema: { hide: true, body: patternForm(/^(_csrf|action|post|channel|at|note)$/) } },
    async (request, reply) => {
      const actor = requireActor(request);
      const form = request.body;
      const { t } = await kit.env(request, reply);
      const read = readBulkForm(form, t);
      // Refused as a whole: the inbox again, saying what to fix (nothing was decided).
      if ('errors' in read)
        return showInbox(request, reply, {}, undefined, {
          error: [t.problems.validation_failed, ...read.errors.map((e) => e.message)].join(' '),
          status: 400,
        });
      const results = await decideInBulk(ctx, actor, read.input);
      const refused = results.filter((r) => r.status !== 200);
      // Only posts the reviewer may see are shown with their text.
      const readable = refused.filter((r) => r.status !== 403 && r.status !== 404);
      const excerpts = new Map(
        readable.length === 0
          ? []
          : (await Promise.all(readable.map((r) => loadPostView(ctx.db, r.id).catch(() => null)))).flatMap(
              (view) => (view ? [[view.id, view.body] as const] : []),
            ),
      );
      return showInbox(
        request,
        reply,
        {},
        {
          done: results.length - refused.length,
          refused: refused.map((r) => ({
            id: r.id,
            excerpt: excerpts.get(r.id) ?? r.id,
            detail: r.detail ?? r.code ?? String(r.status),
          })),
        },
      );
    },
  );

  app.get(
    '/review/:id',
    {
      schema: {
        hide: true,
        params: idParams,
        querystring: z.strictObject({ ok: z.string().max(40).optional() }),
      },
    },
    async (request, reply) => {
      const env = await kit.env(request, reply);
      return showReview(request, reply, request.params.id, { notice: noticeOf(env.t, request.query.ok) });
    },
  );

  /** An action of the review page: done → `done`; refused → the page again as it was, saying why. */
  const respond = async (
    request: FastifyRequest,
    reply: FastifyReply,
    postId: string,
    form: DecisionForm,
    done: string,
    work: () => Promise<unknown>,
  ) => {
    try {
      await work();
      return reply.redirect(done, 303);
    } catch (error) {
      if (!isUserError(error) || error.status === 404) throw error;
      const env = await kit.env(request, reply);
      return showReview(request, reply, postId, {
        form,
        errors: fieldErrorsOf(env.t, error),
        error: problemText(env.t, error),
        targetIssues: error.code === 'invalid_targets' ? targetIssuesOf(error) : undefined,
        status: error.status,
      });
    }
  };

  const versionOf = (form: DecisionForm) => Number(one(form.version));

  app.post(
    '/review/:id/approve',
    { schema: { hide: true, params: idParams, body: decisionForm } },
    async (request, reply) => {
      const form = request.body;
      const { id } = request.params;
      return respond(request, reply, id, form, okAt('/inbox', 'approved'), async () => {
        const env = await kit.env(request, reply);
        await approvePost(ctx, requireActor(request), id, {
          version: versionOf(form),
          targets: readTargets(form, env.zone, env.t),
          comment: blank(one(form.comment)),
        });
      });
    },
  );

  app.post(
    '/review/:id/targets',
    { schema: { hide: true, params: idParams, body: decisionForm } },
    async (request, reply) => {
      const form = request.body;
      const { id } = request.params;
      return respond(request, reply, id, form, okAt(`/review/${id}`, 'targetsAdded'), async () => {
        const env = await kit.env(request, reply);
        await addTargets(ctx, requireActor(request), id, {
          version: versionOf(form),
          targets: readTargets(form, env.zone, env.t),
        });
      });
    },
  );

  app.post(
    '/review/:id/targets/:channelId/cancel',
    {
      schema: {
        hide: true,
        params: z.strictObject({ id: z.uuid(), channelId: z.uuid() }),
        body: z.strictObject({ _csrf: z.string().max(200), version: z.coerce.number().int().min(1) }),
      },
    },
    async (request, reply) => {
      const { id, channelId } = request.params;
      return respond(request, reply, id, {}, okAt(`/review/${id}`, 'cancelled'), () =>
        cancelTarget(ctx, requireActor(request), id, channelId, request.body.version),
      );
    },
  );

  /** The text of a required field of a decision form, or a 400 naming the field. */
  const requiredText = async (
    request: FastifyRequest,
    reply: FastifyReply,
    form: Record<string, string | string[] | undefined>,
    field: 'comment' | 'reason',
  ): Promise<string> => {
    const text = blank(one(form[field]));
    if (text) return text;
    const { t } = await kit.env(request, reply);
    throw new AppError('validation_failed', 400, t.problems.validation_failed, {
      errors: [{ field, message: t.fieldProblems.required, code: 'required' }],
    });
  };

  for (const [step, run, notice] of [
    ['pass', passPost, 'passed'],
    ['forward', forwardPost, 'forwarded'],
  ] as const)
    app.post(
      `/review/:id/${step}`,
      { schema: { hide: true, params: idParams, body: decisionForm } },
      async (request, reply) => {
        const form = request.body;
        const { id } = request.params;
        return respond(request, reply, id, form, okAt('/inbox', notice), () =>
          run(ctx, requireActor(request), id, versionOf(form), blank(one(form.note)) ?? null),
        );
      },
    );

  app.post(
    '/review/:id/request-changes',
    { schema: { hide: true, params: idParams, body: decisionForm } },
    async (request, reply) => {
      const form = request.body;
      const { id } = request.params;
      return respond(request, reply, id, form, okAt('/inbox', 'changesRequested'), async () => {
        const comment = await requiredText(request, reply, form, 'comment');
        await requestChanges(ctx, requireActor(request), id, versionOf(form), comment);
      });
    },
  );

  app.post(
    '/review/:id/reject',
    { schema: { hide: true, params: idParams, body: decisionForm } },
    async (request, reply) => {
      const form = request.body;
      const { id } = request.params;
      return respond(request, reply, id, form, okAt('/inbox', 'rejected'), async () => {
        const reason = await requiredText(request, reply, form, 'reason');
        await rejectPost(ctx, requireActor(request), id, versionOf(form), reason);
      });
    },
  );
};
