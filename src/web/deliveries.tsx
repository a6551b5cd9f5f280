import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context';
import { allowedDeliveryEvents, type DeliveryEvent } from '../domain/delivery-machine';
import { type Actor, decide } from '../domain/permissions';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { type ChannelView, listChannels } from '../services/channels';
import {
  cancelDelivery,
  confirmDelivery,
  confirmRetracted,
  type DeliverySummary,
  deliveryResource,
  listDeliveries,
  retryDelivery,
} from '../services/deliveries';
import { listUnits } from '../services/units';
import {
  ActionButton,
  ChannelFilter,
  Csrf,
  DeliveryStatusBadge,
  Excerpt,
  ExternalLink,
  Pager,
  PlatformName,
  Time,
} from './components';
import { useEnv } from './env';
import type { Messages } from './i18n/index';
import { blank, parseForm, type WebOptions } from './kit';
import { Layout } from './layout';
import { isFormError, noticeOf, problemText } from './page';
import { dayKeyOf } from './time';

/** The deliveries people steer: failed and unsure ones first, with retry, cancel and confirm-with-URL. */

/** What a person may do to a delivery now: the state machine's human steps, if they control its channel. */
export function deliveryActions(
  actor: Actor,
  paths: Map<string, string>,
  channels: Map<string, ChannelView>,
  d: DeliverySummary,
): DeliveryEvent[] {
  const channel = channels.get(d.channel.id);
  const channelUnitPath = channel ? paths.get(channel.unitId) : undefined;
  const postUnitPath = paths.get(d.unit.id);
  if (!channelUnitPath || !postUnitPath) return [];
  if (decide(actor, 'delivery.manage', deliveryResource({ channelUnitPath, postUnitPath })) !== 'allow')
    return [];
  return allowedDeliveryEvents(d.status).filter(
    (event) =>
      event === 'retry' ||
      event === 'retry_retraction' ||
      event === 'cancel' ||
      event === 'confirm' ||
      event === 'confirm_retracted' ||
      event === 'reschedule',
  );
}

/** Unit paths by id and channels by id, as the actor sees them: what `deliveryActions` decides on. */
export async function deliveryContext(ctx: AppContext, actor: Actor) {
  const [units, channels] = await Promise.all([listUnits(ctx, actor), listChannels(ctx, actor, {})]);
  return {
    paths: new Map(units.map((u) => [u.id, u.path])),
    channels: new Map(channels.map((c) => [c.id, c])),
    channelList: channels,
  };
}

function DeliveryRow(props: { d: DeliverySummary; actions: DeliveryEvent[]; back: string }) {
  const { t, zone } = useEnv();
  const { d, actions } = props;
  const hidden = { version: d.version, back: props.back };
  return (
    <li
      class={`item delivery-row status-${d.status}`}
      data-delivery={d.id}
      data-platform={d.channel.platform}
      data-status={d.status}
    >
      <div class="item-head">
        <DeliveryStatusBadge status={d.status} /> <PlatformName platform={d.channel.platform} />{' '}
        <strong>{d.channel.name}</strong>
      </div>
      <div class="meta">
        {d.unit.name} · {d.status === 'published' ? <Time at={d.publishedAt} /> : <Time at={d.dueAt} />}
        {d.attempts > 0 ? ` · ${t.deliveries.attempts(d.attempts)}` : ''}
      </div>
      <p>
        <a href={`/posts/${d.postId}`}>
          <Excerpt text={d.excerpt} max={160} />
        </a>
      </p>
      {d.remoteUrl ? (
        <p>
          <ExternalLink href={d.remoteUrl}>{t.deliveries.viewPost}</ExternalLink>
        </p>
      ) : null}
      {d.lastError && d.status !== 'published' ? <p class="error-text">{d.lastError}</p> : null}
      <div class="actions">
        {d.status === 'scheduled' ? (
          <a href={`/calendar?date=${dayKeyOf(new Date(d.dueAt), zone)}&channel=${d.channel.id}`}>
            {t.deliveries.onCalendar}
          </a>
        ) : null}
        {actions.includes('retry') || actions.includes('retry_retraction') ? (
          <ActionButton
            action={`/deliveries/${d.id}/retry`}
            label={t.deliveries.retry}
            kind="primary"
            hidden={hidden}
          />
        ) : null}
        {actions.includes('cancel') ? (
          <ActionButton
            action={`/deliveries/${d.id}/cancel`}
            label={t.deliveries.cancel}
            kind="danger"
            hidden={hidden}
            confirm={t.deliveries.cancelConfirm}
          />
        ) : null}
        {actions.includes('confirm_retracted') ? (
          <ActionButton
            action={`/deliveries/${d.id}/confirm-retracted`}
            label={t.deliveries.confirmRetracted}
            kind="primary"
            hidden={hidden}
            confirm={t.deliveries.confirmRetractedAsk}
          />
        ) : null}
      </div>
      {actions.includes('confirm') ? (
        <details>
          <summary>{t.deliveries.confirm}</summary>
          <form method="post" action={`/deliveries/${d.id}/confirm`} class="row">
            <Csrf />
            <input type="hidden" name="version" value={String(d.version)} />
            <input type="hidden" name="back" value={props.back} />
            <label for={`url-${d.id}`}>{t.deliveries.confirmUrl}</label>
            <input id={`url-${d.id}`} name="url" type="url" required maxLength={2048} />
            <button type="submit" class="button">
              {t.deliveries.confirmButton}
            </button>
          </form>
        </details>
      ) : null}
    </li>
  );
}

function DeliveriesPage(props: {
  items: DeliverySummary[];
  actions: Map<string, DeliveryEvent[]>;
  channels: ChannelView[];
  status?: DeliveryStatus;
  channel?: string;
  nextCursor: string | null;
  back: string;
  notice?: string | null;
  error?: string | null;
}) {
  const { t } = useEnv();
  return (
    <Layout title={t.deliveries.title} notice={props.notice} error={props.error}>
      <form method="get" action="/deliveries" class="filters">
        <div class="field">
          <label for="status">{t.deliveries.status}</label>
          <select id="status" name="status">
            <option value="">{t.common.all}</option>
            {DELIVERY_STATUSES.map((s) => (
              <option value={s} selected={s === props.status}>
                {t.deliveryStatus[s]}
              </option>
            ))}
          </select>
        </div>
        <ChannelFilter channels={props.channels} selected={props.channel} />
        <button type="submit" class="button">
          {t.common.filter}
        </button>
      </form>
      <p class="muted">{t.deliveries.order}</p>
      {props.items.length === 0 ? <p class="empty">{t.deliveries.empty}</p> : null}
      <ul class="list">
        {props.items.map((d) => (
          <DeliveryRow d={d} actions={props.actions.get(d.id) ?? []} back={props.back} />
        ))}
      </ul>
      <Pager
        base="/deliveries"
        query={{ status: props.status, channel: props.channel }}
        nextCursor={props.nextCursor}
      />
    </Layout>
  );
}

const listQuery = z.strictObject({
  status: z.union([z.enum(DELIVERY_STATUSES), z.literal('')]).optional(),
  channel: z.union([z.uuid(), z.literal('')]).optional(),
  cursor: z.string().max(300).optional(),
  ok: z.string().max(40).optional(),
});
type ListQuery = z.infer<typeof listQuery>;

const actionForm = z.strictObject({
  _csrf: z.string().max(200),
  version: z.coerce.number().int().min(1),
  back: z.string().max(2000).optional(),
});

/** After an action: where the form came from (the deliveries list, the calendar or a retraction), never another site. */
const backTo = (back: string | undefined) =>
  back &&
  (back.startsWith('/deliveries') ||
    back.startsWith('/calendar') ||
    /^\/posts\/[0-9a-f-]{36}\/retraction$/.test(back))
    ? back
    : '/deliveries';

const withOk = (path: string, ok: keyof Messages['notices']) => {
  const [base, query] = path.split('?');
  const params = new URLSearchParams(query);
  params.set('ok', ok);
  return `${base}?${params.toString()}`;
};

export const deliveryPages: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  const showList = async (
    request: FastifyRequest,
    reply: FastifyReply,
    query: ListQuery,
    extra: { error?: string | null; status?: number } = {},
  ) => {
    const actor = requireActor(request);
    const status = query.status || undefined;
    const channel = query.channel || undefined;
    const [page, scope] = await Promise.all([
      listDeliveries(ctx, actor, {
        status: status ? [status] : undefined,
        channelId: channel,
        sort: 'attention',
        cursor: query.cursor,
        limit: 50,
      }),
      deliveryContext(ctx, actor),
    ]);
    const actions = new Map(
      page.items.map((d) => [d.id, deliveryActions(actor, scope.paths, scope.channels, d)]),
    );
    const env = await kit.env(request, reply);
    const params = new URLSearchParams();
    if (status) params.set('status', status);
    if (channel) params.set('channel', channel);
    return kit.page(
      request,
      reply,
      env,
      <DeliveriesPage
        items={page.items}
        actions={actions}
        channels={scope.channelList}
        status={status}
        channel={channel}
        nextCursor={page.nextCursor}
        back={`/deliveries${params.size ? `?${params.toString()}` : ''}`}
        notice={noticeOf(env.t, query.ok)}
        error={extra.error}
      />,
      extra.status ?? 200,
    );
  };

  app.get('/deliveries', { schema: { hide: true, querystring: listQuery } }, (request, reply) =>
    showList(request, reply, request.query),
  );

  /** A person's step on one delivery; refused → the list with the reason. */
  const step = async (
    request: FastifyRequest,
    reply: FastifyReply,
    back: string | undefined,
    ok: keyof Messages['notices'],
    work: (actor: Actor) => Promise<unknown>,
  ) => {
    const actor = requireActor(request);
    try {
      await work(actor);
      return reply.redirect(withOk(backTo(back), ok), 303);
    } catch (error) {
      if (!isFormError(error)) throw error;
      const env = await kit.env(request, reply);
      return showList(request, reply, {}, { error: problemText(env.t, error), status: error.status });
    }
  };

  const idParams = z.strictObject({ id: z.uuid() });

  // The steps that take nothing but the delivery's version.
  const versionSteps = [
    ['retry', 'retried', retryDelivery],
    ['cancel', 'cancelled', cancelDelivery],
    ['confirm-retracted', 'retractionConfirmed', confirmRetracted],
  ] as const;
  for (const [action, ok, run] of versionSteps)
    app.post(
      `/deliveries/:id/${action}`,
      { schema: { hide: true, params: idParams, body: actionForm } },
      (request, reply) =>
        step(request, reply, request.body.back, ok, (actor) =>
          run(ctx, actor, request.params.id, request.body.version),
        ),
    );

  app.post(
    '/deliveries/:id/confirm',
    { schema: { hide: true, params: idParams, body: actionForm.extend({ url: z.string().max(2048) }) } },
    (request, reply) =>
      step(request, reply, request.body.back, 'confirmed', async (actor) => {
        const { url } = parseForm(z.object({ url: z.url({ protocol: /^https?$/ }).max(2048) }), {
          url: blank(request.body.url),
        });
        await confirmDelivery(ctx, actor, request.params.id, url, request.body.version);
      }),
  );
};
