import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireActor } from '../../http/auth';
import { type AuditView, listAudit } from '../../services/audit';
import { Pager, Time } from '../components';
import { useEnv } from '../env';
import type { Messages } from '../i18n/index';
import type { WebOptions } from '../kit';
import { AdminNav, Layout } from '../layout';

/** The audit trail of the admin's subtree, newest first, filtered by action. */

function AuditPage(props: { events: AuditView[]; action?: string; nextCursor: string | null }) {
  const { t } = useEnv();
  return (
    <Layout title={t.audit.title} subnav={<AdminNav />} wide>
      <form method="get" action="/admin/audit" class="filters">
        <div class="field">
          <label for="action">{t.audit.action}</label>
          <input id="action" name="action" value={props.action ?? ''} placeholder="auth.login_failed" />
        </div>
        <button type="submit" class="button">
          {t.common.filter}
        </button>
      </form>
      {props.events.length === 0 ? <p class="empty">{t.audit.empty}</p> : null}
      <div class="table-wrap">
        <table class="audit">
          <thead>
            <tr>
              <th scope="col">{t.audit.at}</th>
              <th scope="col">{t.audit.action}</th>
              <th scope="col">{t.audit.actor}</th>
              <th scope="col">{t.audit.unit}</th>
              <th scope="col">{t.audit.details}</th>
            </tr>
          </thead>
          <tbody>
            {props.events.map((event) => (
              <tr>
                <td>
                  <Time at={event.at} />
                </td>
                <td>{t.audit.actions[event.action as keyof Messages['audit']['actions']] ?? event.action}</td>
                <td>{event.actor?.name ?? '—'}</td>
                <td>{event.unit?.name ?? '—'}</td>
                <td>
                  <code class="details">{JSON.stringify(event.details).slice(0, 400)}</code>
                  {event.ip ? <span class="muted"> · {event.ip}</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager base="/admin/audit" query={{ action: props.action }} nextCursor={props.nextCursor} />
    </Layout>
  );
}

export const auditPages: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  app.get(
    '/admin/audit',
    {
      schema: {
        hide: true,
        querystring: z.strictObject({
          action: z
            .union([
              z
                .string()
                .max(64)
                .regex(/^[a-z_]+(\.[a-z_]+)*$/),
              z.literal(''),
            ])
            .optional(),
          cursor: z
            .string()
            .regex(/^\d{1,18}$/)
            .optional(),
        }),
      },
    },
    async (request, reply) => {
      const action = request.query.action || undefined;
      const page = await listAudit(ctx, requireActor(request), {
        action,
        cursor: request.query.cursor,
        limit: 50,
      });
      const env = await kit.env(request, reply);
      return kit.page(
        request,
        reply,
        env,
        <AuditPage events={page.events} action={action} nextCursor={page.nextCursor} />,
      );
    },
  );
};
