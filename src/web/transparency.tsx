import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFoundAt } from '../domain/errors';
import { LOCALES, type Platform } from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import {
  type TransparencyMonth,
  transparencyMonths,
  transparencySettings,
  transparencySwitches,
  updateTransparencySettings,
} from '../services/transparency';
import { Csrf, PlatformName } from './components';
import { useEnv } from './env';
import type { WebOptions } from './kit';
import { AdminNav, Layout } from './layout';
import { noticeOf } from './page';

/**
 * The public transparency page (`/transparency`, shown once a national admin turns it on): per office
 * and month, what went out and where. The organisation's internal figures appear only when turned on
 * too. The switches: `/admin/transparency`, for national admins.
 */

const MONTHS = 12;

function TransparencyPage(props: { months: TransparencyMonth[]; internal: boolean }) {
  const { t } = useEnv();
  const platforms = [
    ...new Set(props.months.flatMap((row) => Object.keys(row.byPlatform) as Platform[])),
  ].sort();
  return (
    <Layout title={t.transparency.title}>
      <p class="lead">{t.transparency.intro}</p>
      {props.months.length === 0 ? <p class="empty">{t.press.empty}</p> : null}
      <table class="figures">
        <caption>{t.transparency.caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t.transparency.month}</th>
            <th scope="col">{t.transparency.office}</th>
            <th scope="col">{t.transparency.published}</th>
            {platforms.map((platform) => (
              <th scope="col">
                <PlatformName platform={platform} />
              </th>
            ))}
            {props.internal ? (
              <>
                <th scope="col">{t.transparency.submitted}</th>
                <th scope="col">{t.transparency.rejected}</th>
                <th scope="col">{t.transparency.medianDecision}</th>
              </>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {props.months.map((row) => (
            <tr>
              <td>{row.month}</td>
              <th scope="row">{row.unitName}</th>
              <td>{row.published}</td>
              {platforms.map((platform) => (
                <td>{row.byPlatform[platform] ?? 0}</td>
              ))}
              {props.internal && row.internal ? (
                <>
                  <td>{row.internal.submitted}</td>
                  <td>{row.internal.rejected}</td>
                  <td>
                    {row.internal.medianDecisionMinutes === null
                      ? '—'
                      : t.transparency.minutes(Math.round(row.internal.medianDecisionMinutes))}
                  </td>
                </>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}

function SettingsPage(props: { page: boolean; internal: boolean; notice: string | null }) {
  const { t } = useEnv();
  return (
    <Layout title={t.transparency.settingsTitle} notice={props.notice} subnav={<AdminNav />}>
      <form method="post" action="/admin/transparency" class="card">
        <Csrf />
        <p>
          <label>
            <input type="checkbox" name="page" value="on" checked={props.page} /> {t.transparency.pageSetting}
          </label>
        </p>
        <p>
          <label>
            <input type="checkbox" name="internal" value="on" checked={props.internal} />{' '}
            {t.transparency.internalSetting}
          </label>
        </p>
        <p class="hint">
          <a href="/transparency">/transparency</a>
        </p>
        <button type="submit">{t.common.save}</button>
      </form>
    </Layout>
  );
}

export const transparencyRoutes: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  app.get(
    '/transparency',
    { schema: { hide: true, querystring: z.strictObject({ lang: z.enum(LOCALES).optional() }) } },
    async (request, reply) => {
      const settings = await transparencySettings(ctx);
      if (!settings.page) throw notFoundAt('Page', 'path');
      const since = new Date(ctx.now().getTime() - MONTHS * 31 * 86_400_000);
      const months = await transparencyMonths(ctx, {
        since,
        timeZone: settings.timeZone,
        internal: settings.internal,
      });
      const env = await kit.env(request, reply);
      return kit.page(request, reply, env, <TransparencyPage months={months} internal={settings.internal} />);
    },
  );

  app.get(
    '/admin/transparency',
    { schema: { hide: true, querystring: z.strictObject({ ok: z.string().max(40).optional() }) } },
    async (request, reply) => {
      const settings = await transparencySwitches(ctx, requireActor(request));
      const env = await kit.env(request, reply);
      return kit.page(
        request,
        reply,
        env,
        <SettingsPage
          page={settings.page}
          internal={settings.internal}
          notice={noticeOf(env.t, request.query.ok)}
        />,
      );
    },
  );

  app.post(
    '/admin/transparency',
    {
      schema: {
        hide: true,
        body: z.strictObject({
          _csrf: z.string().max(200),
          page: z.literal('on').optional(),
          internal: z.literal('on').optional(),
        }),
      },
    },
    async (request, reply) => {
      await updateTransparencySettings(
        ctx,
        requireActor(request),
        { page: request.body.page === 'on', internal: request.body.internal === 'on' },
        request.ip,
      );
      return reply.redirect('/admin/transparency?ok=saved', 303);
    },
  );
};
