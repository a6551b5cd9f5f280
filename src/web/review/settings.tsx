import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireActor } from '../../http/auth';
import { reviewNationalDirect, setReviewNationalDirect } from '../../services/units';
import { Csrf } from '../components';
import { useEnv } from '../env';
import type { WebOptions } from '../kit';
import { AdminNav, Layout } from '../layout';
import { noticeOf } from '../page';

/**
 * How posts reach the national inbox, for national admins: directly at submission (the default)
 * as well as when a level below forwards them, or only when forwarded.
 */

function ReviewSettingsPage(props: { direct: boolean; notice?: string | null }) {
  const { t } = useEnv();
  return (
    <Layout title={t.reviewSettings.title} notice={props.notice}>
      <AdminNav />
      <form method="post" action="/admin/review" class="card" data-review-settings>
        <Csrf />
        <p>{t.reviewSettings.hint}</p>
        <label class="check">
          <input type="checkbox" name="direct" value="1" checked={props.direct} /> {t.reviewSettings.direct}
        </label>
        <p class="muted">{t.reviewSettings.applies}</p>
        <button type="submit" class="button primary">
          {t.common.save}
        </button>
      </form>
    </Layout>
  );
}

export const reviewSettingsPages: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  app.get(
    '/admin/review',
    { schema: { hide: true, querystring: z.strictObject({ ok: z.string().max(40).optional() }) } },
    async (request, reply) => {
      const direct = await reviewNationalDirect(ctx, requireActor(request));
      const env = await kit.env(request, reply);
      return kit.page(
        request,
        reply,
        env,
        <ReviewSettingsPage direct={direct} notice={noticeOf(env.t, request.query.ok)} />,
      );
    },
  );

  app.post(
    '/admin/review',
    {
      schema: {
        hide: true,
        body: z.strictObject({ _csrf: z.string().max(200), direct: z.literal('1').optional() }),
      },
    },
    async (request, reply) => {
      await setReviewNationalDirect(ctx, requireActor(request), request.body.direct === '1', request.ip);
      return reply.redirect('/admin/review?ok=saved', 303);
    },
  );
};
