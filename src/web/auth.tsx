import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FieldError } from '../domain/errors';
import { EMAIL_TOPICS, type EmailTopic } from '../domain/notices';
import { atLeast } from '../domain/permissions';
import { LOCALES, type Locale } from '../domain/vocabulary';
import { cookieOptions, requireActor, SESSION_COOKIE, sayWhenToRetry } from '../http/auth';
import { randomToken } from '../infra/crypto';
import { newPassword } from '../schemas/org';
import { changePassword, login, logout, SESSION_MAX_MS } from '../services/auth';
import { loadNoticeSettings, type NoticeSettings, saveNoticeSettings } from '../services/notifications';
import { updateUser } from '../services/users';
import { Alert, Csrf, Field, PasswordField } from './components';
import { useEnv } from './env';
import { localPath, parseForm, type WebOptions } from './kit';
import { Layout } from './layout';
import { fieldErrorsOf, isUserError, noticeOf, problemText } from './page';

/**
 * Sign-in, sign-out and the account page. The sign-in form is protected against login CSRF with a
 * double-submit nonce: a cookie only this site can set, repeated in the form.
 */

const LOGIN_NONCE_COOKIE = 'gaung_login';

function LoginPage(props: { nonce: string; next: string; email?: string; error?: string | null }) {
  const { t } = useEnv();
  return (
    <Layout title={t.login.title}>
      <form method="post" action="/login" class="card narrow">
        <input type="hidden" name="_login" value={props.nonce} />
        <input type="hidden" name="next" value={props.next} />
        <Alert message={props.error} />
        <Field id="email" label={t.login.email}>
          <input
            id="email"
            name="email"
            type="email"
            autoComplete="username"
            required
            value={props.email ?? ''}
          />
        </Field>
        <PasswordField id="password" label={t.login.password} kind="current" />
        <button type="submit" class="button primary">
          {t.login.submit}
        </button>
      </form>
    </Layout>
  );
}

/** Topics about an office's own posts, for everyone; those about reviewing, for reviewers and admins. */
const OFFICE_TOPICS: readonly EmailTopic[] = ['decisions', 'deliveries'];

function EmailSettings(props: { settings: NoticeSettings }) {
  const { t, actor } = useEnv();
  const reviews = actor ? atLeast(actor, 'reviewer') : false;
  const topics = EMAIL_TOPICS.filter((topic) => reviews || OFFICE_TOPICS.includes(topic));
  const { settings } = props;
  return (
    <section class="card">
      <h2>{t.account.email}</h2>
      <p class="muted">{t.account.emailIntro}</p>
      <form method="post" action="/account/notifications">
        <Csrf />
        {topics.map((topic) => (
          <label class="check">
            <input
              type="checkbox"
              name="topics"
              value={topic}
              checked={!settings.emailOptOuts.includes(topic)}
            />{' '}
            {t.account.topics[topic]}
          </label>
        ))}
        {reviews ? (
          <>
            <label class="check">
              <input type="checkbox" name="dailyDigest" value="on" checked={settings.dailyDigest} />{' '}
              {t.account.dailyDigest}
            </label>
            <label class="check">
              <input type="checkbox" name="weeklyDigest" value="on" checked={settings.weeklyDigest} />{' '}
              {t.account.weeklyDigest}
            </label>
          </>
        ) : null}
        <button type="submit" class="button">
          {t.common.save}
        </button>
      </form>
    </section>
  );
}

function AccountPage(props: {
  settings: NoticeSettings;
  notice?: string | null;
  error?: string | null;
  errors?: FieldError[];
}) {
  const { t, actor, locale } = useEnv();
  return (
    <Layout title={t.account.title} notice={props.notice} error={props.error}>
      {actor?.passwordMustChange ? <Alert message={t.account.mustChange} /> : null}
      <section class="card">
        <h2>{t.account.language}</h2>
        <form method="post" action="/account/locale" class="row">
          <Csrf />
          <label for="locale">{t.account.language}</label>
          <select id="locale" name="locale">
            {LOCALES.map((code) => (
              <option value={code} selected={code === locale}>
                {t.account.languages[code]}
              </option>
            ))}
          </select>
          <button type="submit" class="button">
            {t.common.save}
          </button>
        </form>
      </section>
      <EmailSettings settings={props.settings} />
      <section class="card">
        <h2>{t.account.password}</h2>
        <form method="post" action="/account/password">
          <Csrf />
          <PasswordField
            id="currentPassword"
            label={t.account.currentPassword}
            errors={props.errors}
            kind="current"
          />
          <PasswordField
            id="newPassword"
            label={t.account.newPassword}
            hint={t.account.passwordHint}
            errors={props.errors}
            kind="new"
          />
          <button type="submit" class="button primary">
            {t.account.changePassword}
          </button>
        </form>
      </section>
      <p>
        <a href="/admin/tokens">{t.account.tokens}</a>
      </p>
      {actor ? <p class="muted">{actor.email}</p> : null}
    </Layout>
  );
}

const sameNonce = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export const authPages: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  const beforePasswordChange = { beforePasswordChange: true };

  /** The sign-in form with a fresh nonce, set as a cookie only this site's pages can send back. */
  const showLogin = async (
    request: FastifyRequest,
    reply: FastifyReply,
    props: { next: string; email?: string; error?: string },
    status = 200,
  ) => {
    const nonce = randomToken('', 16);
    reply.setCookie(LOGIN_NONCE_COOKIE, nonce, {
      ...cookieOptions(request),
      sameSite: 'strict',
      path: '/login',
    });
    const env = await kit.env(request, reply);
    return kit.page(request, reply, env, <LoginPage nonce={nonce} {...props} />, status);
  };

  app.get('/', { config: beforePasswordChange, schema: { hide: true } }, async (request, reply) => {
    const actor = request.actor;
    if (!actor) return reply.redirect('/login', 303);
    return reply.redirect(atLeast(actor, 'reviewer') ? '/inbox' : '/posts', 303);
  });

  const loginQuery = z.strictObject({
    next: z.string().max(2000).optional(),
    lang: z.enum(LOCALES).optional(),
  });

  app.get(
    '/login',
    { config: beforePasswordChange, schema: { hide: true, querystring: loginQuery } },
    async (request, reply) => {
      if (request.actor) return reply.redirect(localPath(request.query.next, '/', ctx.config.publicUrl), 303);
      return showLogin(request, reply, { next: localPath(request.query.next, '/', ctx.config.publicUrl) });
    },
  );

  app.post(
    '/login',
    {
      // The nonce below stands in for the session's CSRF token, which does not exist yet.
      config: { csrf: false, ...beforePasswordChange },
      schema: {
        hide: true,
        body: z.strictObject({
          _login: z.string().max(100),
          next: z.string().max(2000).optional(),
          email: z.string().max(254),
          password: z.string().max(256),
        }),
      },
    },
    async (request, reply) => {
      const { _login, next, email, password } = request.body;
      const expected = request.cookies[LOGIN_NONCE_COOKIE];
      const retry = (error: string, status: number) =>
        showLogin(request, reply, { next: localPath(next, '/', ctx.config.publicUrl), email, error }, status);
      if (!expected || !sameNonce(expected, _login)) {
        const env = await kit.env(request, reply);
        return retry(env.t.login.expired, 403);
      }
      try {
        const signedIn = await login(
          ctx,
          { email, password },
          { ip: request.ip, userAgent: request.headers['user-agent'] ?? null },
        );
        const previous = request.cookies[SESSION_COOKIE];
        if (previous) await logout(ctx, previous, request.ip);
        reply.setCookie(SESSION_COOKIE, signedIn.sessionSecret, {
          ...cookieOptions(request),
          maxAge: SESSION_MAX_MS / 1000,
        });
        reply.clearCookie(LOGIN_NONCE_COOKIE, { path: '/login' });
        const home = signedIn.user.role === 'contributor' ? '/posts' : '/inbox';
        const target = localPath(next, '/', ctx.config.publicUrl);
        return reply.redirect(target === '/' ? home : target, 303);
      } catch (error) {
        sayWhenToRetry(reply, error);
        if (!isUserError(error)) throw error;
        const env = await kit.env(request, reply);
        return retry(problemText(env.t, error), error.status);
      }
    },
  );

  app.post(
    '/logout',
    {
      config: beforePasswordChange,
      schema: { hide: true, body: z.strictObject({ _csrf: z.string().max(200).optional() }).optional() },
    },
    async (request, reply) => {
      const secret = request.cookies[SESSION_COOKIE];
      if (secret) await logout(ctx, secret, request.ip);
      reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
      return reply.redirect('/login', 303);
    },
  );

  app.get(
    '/account',
    {
      config: beforePasswordChange,
      schema: { hide: true, querystring: z.strictObject({ ok: z.string().max(40).optional() }) },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const env = await kit.env(request, reply);
      const settings = await loadNoticeSettings(ctx, actor);
      return kit.page(
        request,
        reply,
        env,
        <AccountPage settings={settings} notice={noticeOf(env.t, request.query.ok)} />,
      );
    },
  );

  const topicField = z.enum(EMAIL_TOPICS);
  app.post(
    '/account/notifications',
    {
      config: beforePasswordChange,
      schema: {
        hide: true,
        body: z.strictObject({
          _csrf: z.string().max(200),
          topics: z.union([topicField, z.array(topicField).max(EMAIL_TOPICS.length)]).optional(),
          dailyDigest: z.literal('on').optional(),
          weeklyDigest: z.literal('on').optional(),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const given = request.body.topics;
      const wanted = new Set<EmailTopic>(given === undefined ? [] : Array.isArray(given) ? given : [given]);
      // A topic not offered on the form (a contributor's reviewing topics) keeps its setting.
      const current = await loadNoticeSettings(ctx, actor);
      const offered = atLeast(actor, 'reviewer') ? EMAIL_TOPICS : OFFICE_TOPICS;
      const optOuts = EMAIL_TOPICS.filter((topic) =>
        offered.includes(topic) ? !wanted.has(topic) : current.emailOptOuts.includes(topic),
      );
      await saveNoticeSettings(ctx, actor, {
        emailOptOuts: optOuts,
        dailyDigest: atLeast(actor, 'reviewer') ? request.body.dailyDigest === 'on' : current.dailyDigest,
        weeklyDigest: atLeast(actor, 'reviewer') ? request.body.weeklyDigest === 'on' : current.weeklyDigest,
      });
      return reply.redirect('/account?ok=saved', 303);
    },
  );

  app.post(
    '/account/locale',
    {
      config: beforePasswordChange,
      schema: { hide: true, body: z.strictObject({ _csrf: z.string().max(200), locale: z.enum(LOCALES) }) },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const locale: Locale = request.body.locale;
      await updateUser(ctx, actor, actor.userId, { locale }, request.ip);
      return reply.redirect('/account?ok=saved', 303);
    },
  );

  app.post(
    '/account/password',
    {
      config: beforePasswordChange,
      schema: {
        hide: true,
        body: z.strictObject({
          _csrf: z.string().max(200),
          currentPassword: z.string().max(256),
          newPassword: z.string().max(256),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      try {
        const input = parseForm(z.object({ currentPassword: z.string().min(1), newPassword }), request.body);
        await changePassword(ctx, actor, input, request.ip);
        return reply.redirect('/account?ok=passwordChanged', 303);
      } catch (error) {
        sayWhenToRetry(reply, error);
        if (!isUserError(error)) throw error;
        const env = await kit.env(request, reply);
        const settings = await loadNoticeSettings(ctx, actor);
        return kit.page(
          request,
          reply,
          env,
          <AccountPage
            settings={settings}
            error={problemText(env.t, error)}
            errors={fieldErrorsOf(env.t, error)}
          />,
          error.status,
        );
      }
    },
  );
};
