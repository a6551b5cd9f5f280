import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireActor, sayWhenToRetry } from '../../http/auth';
import { createToken, listTokens, revokeToken, type TokenRow } from '../../services/tokens';
import { ActionButton, Csrf, Field, PasswordField, Time } from '../components';
import { useEnv } from '../env';
import { blank, parseForm, type WebOptions } from '../kit';
import { AdminNav, Layout } from '../layout';
import { fieldErrorsOf, isUserError, noticeOf, problemText } from '../page';
import { addDays, parseDayKey, startOfDay } from '../time';
import { type FormProblem, idParams, okQuery, type PageExtra } from './form';

/** The signed-in person's own API tokens: listed, made (the secret shown once) and revoked. */

function TokensPage(props: {
  tokens: TokenRow[];
  secret?: string | null;
  notice?: string | null;
  problem?: FormProblem;
}) {
  const { t } = useEnv();
  const problem = props.problem ?? {};
  return (
    <Layout title={t.tokens.title} notice={props.notice} error={problem.error} subnav={<AdminNav />}>
      {props.secret ? (
        <section class="card secret" aria-labelledby="secret-title">
          <h2 id="secret-title">{t.tokens.secretTitle}</h2>
          <p>{t.tokens.secretOnce}</p>
          <label for="secret" class="sr-only">
            {t.tokens.secretTitle}
          </label>
          <input id="secret" class="secret-value" readOnly value={props.secret} data-select-on-focus />
        </section>
      ) : null}
      {props.tokens.length === 0 ? <p class="empty">{t.tokens.empty}</p> : null}
      <ul class="list">
        {props.tokens.map((token) => (
          <li class="item" data-token={token.id}>
            <div class="item-head">
              <strong>{token.name}</strong> <code>{token.prefix}…</code>
              {token.revokedAt ? <span class="badge disabled">{t.tokens.revoked}</span> : null}
            </div>
            <div class="meta">
              {t.tokens.created} <Time at={token.createdAt} /> · {t.tokens.lastUsed}{' '}
              <Time at={token.lastUsedAt} fallback={t.tokens.never} /> · {t.tokens.expires}{' '}
              <Time at={token.expiresAt} fallback={t.tokens.never} />
            </div>
            {token.revokedAt ? null : (
              <ActionButton
                action={`/admin/tokens/${token.id}/revoke`}
                label={t.tokens.revoke}
                kind="danger"
                confirm={t.tokens.revokeConfirm}
              />
            )}
          </li>
        ))}
      </ul>
      <form method="post" action="/admin/tokens" class="card">
        <Csrf />
        <h2>{t.tokens.create}</h2>
        <Field id="name" label={t.tokens.name} errors={problem.errors}>
          <input id="name" name="name" required maxLength={100} />
        </Field>
        <Field id="expiresAt" label={t.tokens.expiresAt} hint={t.tokens.expiresHint} errors={problem.errors}>
          <input id="expiresAt" name="expiresAt" type="date" />
        </Field>
        <PasswordField
          id="currentPassword"
          label={t.account.currentPassword}
          hint={t.tokens.passwordHint}
          errors={problem.errors}
          kind="current"
        />
        <button type="submit" class="button primary">
          {t.tokens.createButton}
        </button>
      </form>
    </Layout>
  );
}

export const tokenPages: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  const showTokens = async (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: PageExtra & { secret?: string } = {},
  ) => {
    const tokens = await listTokens(ctx, requireActor(request));
    const env = await kit.env(request, reply);
    return kit.page(request, reply, env, <TokensPage tokens={tokens} {...extra} />, extra.status ?? 200);
  };

  app.get('/admin/tokens', { schema: { hide: true, querystring: okQuery } }, async (request, reply) => {
    const env = await kit.env(request, reply);
    return showTokens(request, reply, { notice: noticeOf(env.t, request.query.ok) });
  });

  app.post(
    '/admin/tokens',
    {
      schema: {
        hide: true,
        body: z.strictObject({
          _csrf: z.string().max(200),
          name: z.string().max(300),
          expiresAt: z.string().max(10).optional(),
          currentPassword: z.string().max(300),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const env = await kit.env(request, reply);
      try {
        const { name, currentPassword } = parseForm(
          z.object({ name: z.string().trim().min(1).max(100), currentPassword: z.string().min(1) }),
          request.body,
        );
        const day = blank(request.body.expiresAt);
        // A date without a time: the token works through that whole day in the viewer's zone.
        const parsedDay = day ? parseDayKey(day) : null;
        const expiresAt = parsedDay
          ? new Date(startOfDay(addDays(parsedDay, 1), env.zone).getTime() - 1000)
          : undefined;
        if (day && !parsedDay)
          return showTokens(request, reply, {
            problem: { errors: [{ field: 'expiresAt', message: env.t.fieldProblems.invalid_date }] },
            status: 400,
          });
        const created = await createToken(ctx, actor, { name, expiresAt, currentPassword }, request.ip);
        // The secret is shown in this answer only; it is not kept anywhere it could be shown again.
        return showTokens(request, reply, {
          secret: created.secret,
          notice: env.t.notices.tokenCreated,
          status: 201,
        });
      } catch (error) {
        sayWhenToRetry(reply, error);
        if (!isUserError(error)) throw error;
        return showTokens(request, reply, {
          problem: { error: problemText(env.t, error), errors: fieldErrorsOf(env.t, error) },
          status: error.status,
        });
      }
    },
  );

  app.post(
    '/admin/tokens/:id/revoke',
    { schema: { hide: true, params: idParams, body: z.strictObject({ _csrf: z.string().max(200) }) } },
    async (request, reply) => {
      await revokeToken(ctx, requireActor(request), request.params.id, request.ip);
      return reply.redirect('/admin/tokens?ok=revoked', 303);
    },
  );
};
