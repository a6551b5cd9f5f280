import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import { render } from 'preact-render-to-string';
import type { AppContext } from '../context';
import { AppError, type FieldError } from '../domain/errors';
import { LOCALES, type Locale } from '../domain/vocabulary';
import { csrfTokenFor } from '../http/auth';
import { activeBlackoutsOver } from '../services/blackouts';
import { notificationsOf } from '../services/notifications';
import { Env, type PageEnv } from './env';
import { type Messages, messagesFor } from './i18n/index';

/** Rendering a page: who is looking, in which language and zone, and the HTML answer itself. */

const LANG_COOKIE = 'gaung_lang';
const DEFAULT_ZONE = 'Asia/Jakarta';

export interface Assets {
  css: string;
  js: string;
}

const isLocale = (value: unknown): value is Locale => LOCALES.includes(value as Locale);

/**
 * The page environment of a request. Signed-in people read in their own locale and unit zone;
 * visitors in Indonesian unless they chose English (`?lang=en`, remembered in a cookie).
 */
export async function pageEnv(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  assets: Assets,
): Promise<PageEnv> {
  const actor = request.actor;
  let locale: Locale = 'id';
  if (actor) locale = actor.locale;
  else {
    const asked = (request.query as { lang?: unknown } | undefined)?.lang;
    if (isLocale(asked)) {
      locale = asked;
      reply.setCookie(LANG_COOKIE, asked, {
        path: '/',
        sameSite: 'lax',
        httpOnly: true,
        maxAge: 365 * 86_400,
      });
    } else if (isLocale(request.cookies[LANG_COOKIE])) locale = request.cookies[LANG_COOKIE] as Locale;
  }
  const [unread, blackouts] = actor
    ? await Promise.all([
        notificationsOf(ctx, actor, { unreadOnly: true, limit: 1 }).then((notices) => notices.unread),
        activeBlackoutsOver(ctx, actor).then((active) =>
          active.map(({ reason, endsAt }) => ({ reason, endsAt })),
        ),
      ])
    : [0, []];
  return {
    t: messagesFor(locale),
    locale,
    zone: actor?.timeZone ?? DEFAULT_ZONE,
    actor,
    csrf: actor?.sessionId ? csrfTokenFor(ctx, actor.sessionId) : null,
    path: request.url.split('?')[0] ?? '/',
    unread,
    blackouts,
    now: ctx.now(),
    assets,
  };
}

/** Sends a rendered page; compressed when the browser accepts it (phones on slow links). */
export function sendHtml(request: FastifyRequest, reply: FastifyReply, html: string, status = 200) {
  reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'private, no-store')
    .header('vary', 'accept-encoding, cookie');
  const accepts = String(request.headers['accept-encoding'] ?? '');
  if (html.length > 1024 && /\bgzip\b/.test(accepts)) {
    reply.header('content-encoding', 'gzip');
    return reply.send(gzipSync(html));
  }
  return reply.send(html);
}

export function renderPage(env: PageEnv, node: VNode): string {
  return `<!doctype html>${render(<Env.Provider value={env}>{node}</Env.Provider>)}`;
}

/** A problem an action ran into, in the viewer's language where Gaung knows the code. */
export function problemText(t: Messages, error: AppError): string {
  const known = t.problems[error.code as keyof Messages['problems']];
  return known ?? error.message;
}

/** Field errors of a refused form, with known codes translated. */
export function fieldErrorsOf(t: Messages, error: AppError): FieldError[] {
  return (error.errors ?? []).map((e) => ({
    ...e,
    message: (e.code && t.fieldProblems[e.code as keyof Messages['fieldProblems']]) || e.message,
  }));
}

/** Errors an action may answer and the page shows next to the form; anything else is the error page's. */
export const isUserError = (error: unknown): error is AppError =>
  error instanceof AppError && error.status < 500 && error.status !== 401;

/** A form shows a user error beside itself, except a refusal of the actor (403, or 404 for what they may not see): that is the error page. */
export const isFormError = (error: unknown): error is AppError =>
  isUserError(error) && error.status !== 403 && !(error.status === 404 && !error.errors);

/** `?ok=` codes after a redirect: the page shows the matching notice. */
export function noticeOf(t: Messages, ok: string | undefined): string | null {
  if (!ok) return null;
  return t.notices[ok as keyof Messages['notices']] ?? null;
}
