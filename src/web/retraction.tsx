import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FieldError } from '../domain/errors';
import { decide } from '../domain/permissions';
import { transitionPost } from '../domain/post-machine';
import { CORRECTION_KINDS, type CorrectionKind, type DeliveryStatus } from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { CORRECTION_MAX, RETRACTION_REASON_MAX, retractionReason } from '../schemas/posts';
import type { PostView } from '../services/posts';
import {
  type RetractionScope,
  requestRetraction,
  retractionPreview,
  retractionProgress,
} from '../services/retraction';
import {
  ActionButton,
  Csrf,
  DeliveryStatusBadge,
  Excerpt,
  ExternalLink,
  Field,
  PlatformName,
  PostStatusBadge,
} from './components';
import { useEnv } from './env';
import { blank, parseForm, type WebOptions } from './kit';
import { Layout } from './layout';
import { fieldErrorsOf, isUserError, noticeOf, problemText } from './page';

/**
 * Retracting a published post from the web: a confirmation that lists every channel and what will
 * happen on it (reason required, an optional correction), then a progress page per channel that
 * refreshes itself while deletes run and lets a person confirm what they removed by hand.
 */

const idParams = z.strictObject({ id: z.uuid() });

/** Statuses in which a delivery still has something a retraction would do. */
const RETRACTABLE: readonly DeliveryStatus[] = [
  'published',
  'scheduled',
  'failed',
  'publishing',
  'unknown',
  'needs_attention',
];

/** Statuses a retraction is still working through (the progress page keeps refreshing). */
const UNDER_WAY: readonly DeliveryStatus[] = ['retracting', 'publishing', 'unknown'];

/** The post's "Retract everywhere" button, or the link to the retraction under way. */
export function RetractAction(props: { post: PostView; unitPath: string }) {
  const { t, actor } = useEnv();
  const { post } = props;
  if (!actor) return null;
  const allowed =
    decide(actor, 'post.retract', {
      type: 'post',
      unitPath: props.unitPath,
      authorId: post.author.id,
      status: post.status,
      submitted: post.submittedAt !== null,
    }) === 'allow';
  const started = post.retractionReason !== null;
  const open =
    transitionPost(post.status, 'retract').ok && post.deliveries.some((d) => RETRACTABLE.includes(d.status));
  return (
    <>
      {allowed && open ? (
        <a class="button danger" href={`/posts/${post.id}/retract`}>
          {t.retraction.action}
        </a>
      ) : null}
      {started ? <a href={`/posts/${post.id}/retraction`}>{t.retraction.seeProgress}</a> : null}
    </>
  );
}

function planText(t: ReturnType<typeof useEnv>['t'], entry: RetractionScope): string {
  if (entry.plan === 'retract' && entry.byHand) return t.retraction.plan.byHand;
  return t.retraction.plan[entry.plan];
}

/** Which post this is about: its status, office and the start of its text. */
function PostSummary(props: { post: PostView }) {
  const { post } = props;
  return (
    <>
      <p>
        <PostStatusBadge status={post.status} /> <a href={`/posts/${post.id}`}>{post.unit.name}</a>
      </p>
      <blockquote class="card">
        <Excerpt text={post.body} max={400} />
      </blockquote>
    </>
  );
}

interface RetractForm {
  reason?: string;
  correction?: string;
  as?: CorrectionKind;
}

function RetractPage(props: {
  post: PostView;
  scope: RetractionScope[];
  form: RetractForm;
  errors?: FieldError[];
  error?: string | null;
}) {
  const { t } = useEnv();
  const { post, scope } = props;
  const as = props.form.as ?? 'reply';
  return (
    <Layout title={t.retraction.title} error={props.error}>
      <PostSummary post={post} />
      {scope.length === 0 ? (
        <p class="empty">{t.retraction.nothingInScope}</p>
      ) : (
        <>
          <p>{t.retraction.intro}</p>
          <section aria-labelledby="scope-title">
            <h2 id="scope-title">{t.retraction.channels}</h2>
            <ul class="list">
              {scope.map((entry) => (
                <li class="item" data-delivery={entry.deliveryId} data-plan={entry.plan}>
                  <div class="item-head">
                    <DeliveryStatusBadge status={entry.status} /> <PlatformName platform={entry.platform} />{' '}
                    <strong>{entry.channelName}</strong>
                  </div>
                  <p>{planText(t, entry)}</p>
                </li>
              ))}
            </ul>
          </section>
          <form method="post" action={`/posts/${post.id}/retract`} class="card" id="retract">
            <Csrf />
            <input type="hidden" name="version" value={String(post.version)} />
            <Field
              id="reason"
              label={t.retraction.reason}
              hint={t.retraction.reasonHint}
              errors={props.errors}
            >
              <textarea id="reason" name="reason" rows={2} maxLength={RETRACTION_REASON_MAX} required>
                {props.form.reason ?? ''}
              </textarea>
            </Field>
            <Field
              id="correction"
              label={t.retraction.correction}
              hint={t.retraction.correctionHint}
              errors={props.errors}
            >
              <textarea id="correction" name="correction" rows={4} maxLength={CORRECTION_MAX}>
                {props.form.correction ?? ''}
              </textarea>
            </Field>
            <fieldset>
              <legend>{t.retraction.correctionAs}</legend>
              {CORRECTION_KINDS.map((kind) => (
                <label class="choice">
                  <input type="radio" name="correction_as" value={kind} checked={as === kind} />{' '}
                  {kind === 'reply' ? t.retraction.asReply : t.retraction.asNew}
                </label>
              ))}
            </fieldset>
            <button type="submit" class="button danger">
              {t.retraction.confirm}
            </button>
          </form>
        </>
      )}
    </Layout>
  );
}

function ProgressPage(props: {
  post: PostView;
  manageable: ReadonlySet<string>;
  correctionId: string | null;
  notice?: string | null;
}) {
  const { t } = useEnv();
  const { post } = props;
  const back = `/posts/${post.id}/retraction`;
  const underWay = post.status !== 'retracted' && post.deliveries.some((d) => UNDER_WAY.includes(d.status));
  return (
    <Layout
      title={t.retraction.progressTitle}
      notice={props.notice}
      refreshSeconds={underWay ? 5 : undefined}
    >
      <PostSummary post={post} />
      {post.retractionReason ? (
        <p>
          <strong>{t.retraction.reasonGiven}:</strong> {post.retractionReason}
        </p>
      ) : null}
      <p class="muted">{post.status === 'retracted' ? t.retraction.finished : t.retraction.live}</p>
      {props.correctionId ? (
        <p>
          <a href={`/posts/${props.correctionId}`}>{t.retraction.correctionPost}</a>
        </p>
      ) : null}
      <ul class="list">
        {post.deliveries.map((d) => {
          const manageable = props.manageable.has(d.id);
          const byHand = d.status === 'retraction_needs_attention';
          return (
            <li class="item" data-delivery={d.id} data-platform={d.platform} data-status={d.status}>
              <div class="item-head">
                <DeliveryStatusBadge status={d.status} /> <PlatformName platform={d.platform} />{' '}
                <strong>{d.channelName}</strong>
              </div>
              {byHand ? (
                <>
                  <p class="error-text">{d.lastError ?? t.retraction.byHandSteps}</p>
                  {d.remoteUrl ? (
                    <p>
                      <ExternalLink href={d.remoteUrl}>{t.post.viewOnPlatform}</ExternalLink>
                    </p>
                  ) : null}
                </>
              ) : null}
              {byHand && manageable ? (
                <div class="actions">
                  <ActionButton
                    action={`/deliveries/${d.id}/confirm-retracted`}
                    label={t.retraction.confirmRemoved}
                    kind="primary"
                    hidden={{ version: d.version, back }}
                    confirm={t.retraction.confirmRemovedAsk}
                  />
                  <ActionButton
                    action={`/deliveries/${d.id}/retry`}
                    label={t.retraction.retry}
                    hidden={{ version: d.version, back }}
                  />
                </div>
              ) : null}
            </li>
          );
        })}
      </ul>
    </Layout>
  );
}

const retractForm = z.strictObject({
  _csrf: z.string().max(200),
  version: z.coerce.number().int().min(1),
  reason: z.string().max(RETRACTION_REASON_MAX),
  correction: z.string().max(CORRECTION_MAX).optional(),
  correction_as: z.enum(CORRECTION_KINDS).optional(),
});

export const retractionPages: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  const showConfirm = async (
    request: FastifyRequest,
    reply: FastifyReply,
    postId: string,
    form: RetractForm,
    extra: { error?: string | null; errors?: FieldError[]; status?: number } = {},
  ) => {
    const { post, scope } = await retractionPreview(ctx, requireActor(request), postId);
    if (!transitionPost(post.status, 'retract').ok)
      return reply.redirect(`/posts/${post.id}/retraction`, 303);
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <RetractPage post={post} scope={scope} form={form} error={extra.error} errors={extra.errors} />,
      extra.status ?? 200,
    );
  };

  app.get(
    '/posts/:id/retract',
    { schema: { hide: true, params: idParams, querystring: z.strictObject({}) } },
    (request, reply) => showConfirm(request, reply, request.params.id, {}),
  );

  app.post(
    '/posts/:id/retract',
    { schema: { hide: true, params: idParams, body: retractForm } },
    async (request, reply) => {
      const actor = requireActor(request);
      const postId = request.params.id;
      const body = request.body;
      const form: RetractForm = { reason: body.reason, correction: body.correction, as: body.correction_as };
      try {
        const { reason } = parseForm(z.object({ reason: retractionReason }), { reason: body.reason });
        const text = blank(body.correction);
        await requestRetraction(
          ctx,
          actor,
          postId,
          {
            version: body.version,
            reason,
            correction: text ? { text, as: body.correction_as ?? 'reply' } : undefined,
          },
          request.ip,
        );
        return reply.redirect(`/posts/${postId}/retraction?ok=retracting`, 303);
      } catch (error) {
        if (!isUserError(error) || error.status === 404) throw error;
        const env = await kit.env(request, reply);
        return showConfirm(request, reply, postId, form, {
          error: problemText(env.t, error),
          errors: fieldErrorsOf(env.t, error),
          status: error.status,
        });
      }
    },
  );

  app.get(
    '/posts/:id/retraction',
    {
      schema: {
        hide: true,
        params: idParams,
        querystring: z.strictObject({ ok: z.string().max(40).optional() }),
      },
    },
    async (request, reply) => {
      const { post, scope, correctionId } = await retractionProgress(
        ctx,
        requireActor(request),
        request.params.id,
      );
      const env = await kit.env(request, reply);
      return kit.page(
        request,
        reply,
        env,
        <ProgressPage
          post={post}
          manageable={new Set(scope.map((entry) => entry.deliveryId))}
          correctionId={correctionId}
          notice={noticeOf(env.t, request.query.ok)}
        />,
      );
    },
  );
};
