import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FieldError } from '../../domain/errors';
import type { Actor } from '../../domain/permissions';
import { POST_STATUSES } from '../../domain/vocabulary';
import { requireActor } from '../../http/auth';
import { ROUTE_LIMITS } from '../../http/rate-limit';
import { COMMENT_MAX, commentBody, WITHDRAW_REASON_MAX } from '../../schemas/posts';
import { listDeliveries } from '../../services/deliveries';
import { snapshotsOf } from '../../services/delivery-metrics';
import { previewDraft } from '../../services/draft-preview';
import { uploadMedia } from '../../services/media';
import { markNotificationsRead, notificationsOf } from '../../services/notifications';
import {
  addComment,
  createPost,
  listPostEvents,
  listPosts,
  type PostView,
  readPost,
  submitPost,
  updatePost,
  withdrawPost,
} from '../../services/posts';
import type { PageEnv } from '../env';
import { readFieldsBeforeFile, readFormWithUpload, registerFormUploads } from '../form-upload';
import type { Messages } from '../i18n/index';
import { blank, many, one, parseForm, type WebOptions } from '../kit';
import { fieldErrorsOf, isUserError, noticeOf, problemText } from '../page';
import { EditorPage, type EditorValues, editorForm, editorMedia, readEditor, valuesOfPost } from './editor';
import { PostsPage } from './list';
import { NotificationsPage } from './notifications';
import { PostPage } from './post-page';

const idParams = z.strictObject({ id: z.uuid() });
const okQuery = z.strictObject({ ok: z.string().max(40).optional() });

export const officeRoutes: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;
  await registerFormUploads(app, ctx);

  const showEditor = async (
    request: FastifyRequest,
    reply: FastifyReply,
    env: PageEnv,
    actor: Actor,
    post: PostView | null,
    values: EditorValues,
    problem?: { errors: FieldError[]; error: string | null; status: number },
  ) => {
    const previews = await previewDraft(ctx, actor, {
      body: values.body,
      sourceUrl: blank(values.sourceUrl) ?? null,
      link: blank(values.link) ?? null,
      tags: values.tags.split(/[,\s]+/).filter(Boolean),
      mediaIds: values.media.map((m) => m.id),
    });
    return kit.page(
      request,
      reply,
      env,
      <EditorPage
        post={post}
        values={values}
        previews={previews}
        errors={problem?.errors}
        error={problem?.error}
      />,
      problem?.status ?? 200,
    );
  };

  app.get(
    '/posts',
    {
      schema: {
        hide: true,
        querystring: z.strictObject({
          status: z.union([z.enum(POST_STATUSES), z.literal('')]).optional(),
          q: z.string().trim().max(200).optional(),
          cursor: z.string().max(200).optional(),
          ok: z.string().max(40).optional(),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const status = request.query.status || undefined;
      const q = blank(request.query.q);
      const page = await listPosts(ctx, actor, {
        status: status ? [status] : undefined,
        unitId: actor.unitId,
        q,
        cursor: request.query.cursor,
        limit: 30,
      });
      const approved = page.items.filter((post) => post.status === 'approved');
      const links = new Map(
        await Promise.all(
          approved.map(async (post) => {
            const deliveries = await listDeliveries(ctx, actor, { postId: post.id, sort: 'due', limit: 20 });
            return [post.id, deliveries.items] as const;
          }),
        ),
      );
      const env = await kit.env(request, reply);
      return kit.page(
        request,
        reply,
        env,
        <PostsPage
          items={page.items}
          links={links}
          status={status}
          q={q}
          nextCursor={page.nextCursor}
          notice={noticeOf(env.t, request.query.ok)}
        />,
      );
    },
  );

  app.get(
    '/posts/new',
    { schema: { hide: true, querystring: z.strictObject({}) } },
    async (request, reply) => {
      const actor = requireActor(request);
      const env = await kit.env(request, reply);
      const empty: EditorValues = {
        body: '',
        link: '',
        sourceUrl: '',
        tags: '',
        preferredFrom: '',
        preferredTo: '',
        media: [],
      };
      return showEditor(request, reply, env, actor, null, empty);
    },
  );

  /**
   * Saves the editor's content (a new draft or an edit) with the file sent along, if any; then
   * submits, or comes back to the editor after attaching, when asked to.
   */
  const saveEditor = async (request: FastifyRequest, reply: FastifyReply, postId: string | null) => {
    const actor = requireActor(request);
    const env = await kit.env(request, reply);
    // An edit is refused before the file is read; a new draft is always the actor's own unit's.
    let current = postId ? (await readPost(ctx, actor, postId, 'post.update')).post : null;
    const { form, staged, refusal } = await readFormWithUpload(ctx, request, editorForm);
    // The file is kept even when other fields need fixing, so it need not be chosen again.
    const attached = staged ? (await uploadMedia(ctx, actor, staged, '')).media.id : null;
    const { values, content, errors } = readEditor(
      attached ? { ...form, media: [...many(form.media), attached] } : form,
      env.zone,
      env.t,
    );
    const again = async (problem: { errors: FieldError[]; error: string | null; status: number }) =>
      showEditor(
        request,
        reply,
        env,
        actor,
        current,
        { ...values, media: await editorMedia(ctx, actor, values.media) },
        problem,
      );
    if (refusal) errors.push(...fieldErrorsOf(env.t, refusal));
    if (errors.length > 0)
      return again({ errors, error: env.t.problems.validation_failed, status: refusal?.status ?? 400 });
    try {
      let saved: PostView;
      if (postId) {
        const version = Number(one(form.version));
        saved = await updatePost(ctx, actor, postId, { ...content, version });
      } else saved = await createPost(ctx, actor, content);
      if (one(form.intent) === 'submit') {
        await submitPost(ctx, actor, saved.id, saved.version);
        return reply.redirect(`/posts/${saved.id}?ok=submitted`, 303);
      }
      if (one(form.intent) === 'attach') return reply.redirect(`/posts/${saved.id}/edit#media-title`, 303);
      return reply.redirect(`/posts/${saved.id}?ok=saved`, 303);
    } catch (error) {
      if (!isUserError(error)) throw error;
      if (postId && error.code === 'stale_version')
        current = (await readPost(ctx, actor, postId, 'post.update')).post;
      return again({
        errors: fieldErrorsOf(env.t, error),
        error: problemText(env.t, error),
        status: error.status,
      });
    }
  };

  // The editor is multipart (it carries a file); its fields before the file are checked as a body.
  app.post(
    '/posts',
    { preValidation: readFieldsBeforeFile, schema: { hide: true, body: editorForm } },
    (request, reply) => saveEditor(request, reply, null),
  );

  app.post(
    '/posts/:id',
    { preValidation: readFieldsBeforeFile, schema: { hide: true, params: idParams, body: editorForm } },
    (request, reply) => saveEditor(request, reply, request.params.id),
  );

  app.get(
    '/posts/:id/edit',
    { schema: { hide: true, params: idParams, querystring: z.strictObject({}) } },
    async (request, reply) => {
      const actor = requireActor(request);
      const { post } = await readPost(ctx, actor, request.params.id, 'post.update');
      const env = await kit.env(request, reply);
      return showEditor(request, reply, env, actor, post, valuesOfPost(post, env.zone));
    },
  );

  const showPost = async (
    request: FastifyRequest,
    reply: FastifyReply,
    postId: string,
    extra: {
      notice?: string | null;
      error?: string | null;
      commentError?: FieldError[];
      status?: number;
    } = {},
  ) => {
    const { facts, post } = await readPost(ctx, requireActor(request), postId);
    const events = await listPostEvents(ctx.db, facts.id);
    const published = post.deliveries.filter((d) => d.status === 'published');
    const snapshots = await snapshotsOf(
      ctx,
      published.map((d) => d.id),
    );
    const figures = new Map(
      published.map((d) => [
        d.id,
        {
          deliveryId: d.id,
          platform: d.platform,
          measurable: Boolean(ctx.platforms.get(d.platform)?.fetchMetrics) || snapshots.has(d.id),
          snapshots: snapshots.get(d.id) ?? [],
        },
      ]),
    );
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <PostPage post={post} unitPath={facts.unitPath} events={events} figures={figures} {...extra} />,
      extra.status ?? 200,
    );
  };

  app.get(
    '/posts/:id',
    { schema: { hide: true, params: idParams, querystring: okQuery } },
    async (request, reply) => {
      const env = await kit.env(request, reply);
      return showPost(request, reply, request.params.id, { notice: noticeOf(env.t, request.query.ok) });
    },
  );

  /** A state change from a one-button form: done → back to the post with a notice; refused → the post with the reason. */
  const postAction = async (
    request: FastifyRequest,
    reply: FastifyReply,
    postId: string,
    notice: keyof Messages['notices'],
    work: () => Promise<unknown>,
  ) => {
    try {
      await work();
      return reply.redirect(`/posts/${postId}?ok=${notice}`, 303);
    } catch (error) {
      // What the actor may not see or do is an error page, not a refusal on the post.
      if (!isUserError(error) || error.status === 404 || error.code === 'forbidden') throw error;
      const env = await kit.env(request, reply);
      return showPost(request, reply, postId, {
        error: problemText(env.t, error),
        commentError: fieldErrorsOf(env.t, error),
        status: error.status,
      });
    }
  };

  const versionForm = z.strictObject({ _csrf: z.string().max(200), version: z.coerce.number().int().min(1) });

  app.post(
    '/posts/:id/submit',
    { schema: { hide: true, params: idParams, body: versionForm } },
    async (request, reply) => {
      const actor = requireActor(request);
      const postId = request.params.id;
      return postAction(request, reply, postId, 'submitted', () =>
        submitPost(ctx, actor, postId, request.body.version),
      );
    },
  );

  app.post(
    '/posts/:id/withdraw',
    {
      schema: {
        hide: true,
        params: idParams,
        body: versionForm.extend({ reason: z.string().max(WITHDRAW_REASON_MAX).optional() }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const postId = request.params.id;
      return postAction(request, reply, postId, 'withdrawn', () =>
        withdrawPost(ctx, actor, postId, request.body.version, blank(request.body.reason)),
      );
    },
  );

  app.post(
    '/posts/:id/comments',
    {
      schema: {
        hide: true,
        params: idParams,
        // Bounds the request only: a comment over the limit is refused on the post page by `commentBody`.
        body: z.strictObject({ _csrf: z.string().max(200), body: z.string().max(2 * COMMENT_MAX) }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const postId = request.params.id;
      return postAction(request, reply, postId, 'commented', async () => {
        const { body } = parseForm(z.object({ body: commentBody }), request.body);
        await addComment(ctx, actor, postId, body);
      });
    },
  );

  app.post(
    '/ui/preview',
    {
      config: { rateLimit: ROUTE_LIMITS.preview },
      schema: {
        hide: true,
        body: z.strictObject({
          body: z.string().max(65_536),
          sourceUrl: z.string().max(2048).optional(),
          link: z.string().max(2048).optional(),
          tags: z.string().max(3000).optional(),
          media: z.array(z.uuid()).max(20).optional(),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const env = await kit.env(request, reply);
      const input = request.body;
      const previews = await previewDraft(ctx, actor, {
        body: input.body,
        sourceUrl: blank(input.sourceUrl) ?? null,
        link: blank(input.link) ?? null,
        tags: (input.tags ?? '').split(/[,\s]+/).filter(Boolean),
        mediaIds: input.media ?? [],
      });
      return {
        channels: previews.map((p) => ({
          channelId: p.channelId,
          used: p.count.used,
          limit: p.count.limit,
          over: p.over,
          text: p.text,
          issues: p.issues.map((issue) => ({
            severity: issue.severity,
            label: env.t.review.severity[issue.severity],
            message:
              env.locale === 'id'
                ? (env.t.issues[issue.code as keyof Messages['issues']] ?? issue.message)
                : issue.message,
          })),
        })),
      };
    },
  );

  app.get('/notifications', { schema: { hide: true, querystring: okQuery } }, async (request, reply) => {
    const actor = requireActor(request);
    const list = await notificationsOf(ctx, actor, { unreadOnly: false, limit: 100 });
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <NotificationsPage
        items={list.items}
        unread={list.unread}
        notice={noticeOf(env.t, request.query.ok)}
      />,
    );
  });

  app.post(
    '/notifications/read',
    { schema: { hide: true, body: z.strictObject({ _csrf: z.string().max(200) }) } },
    async (request, reply) => {
      const actor = requireActor(request);
      await markNotificationsRead(ctx, actor);
      return reply.redirect('/notifications?ok=read', 303);
    },
  );
};
