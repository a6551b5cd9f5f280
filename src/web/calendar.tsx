import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { JSX } from 'preact';
import { z } from 'zod';
import type { DeliveryEvent } from '../domain/delivery-machine';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { blackoutsOver, type ChannelBlackout } from '../services/blackouts';
import type { ChannelView } from '../services/channels';
import {
  channelFreeSlots,
  type DeliverySummary,
  listDeliveries,
  rescheduleDelivery,
} from '../services/deliveries';
import { channelShares, type SlotShare } from '../services/slot-planning';
import { ChannelFilter, Csrf, DeliveryStatusBadge, Excerpt, PlatformName } from './components';
import { deliveryActions, deliveryContext } from './deliveries';
import { useEnv } from './env';
import { blank, type WebOptions } from './kit';
import { Layout } from './layout';
import { isFormError, noticeOf, problemText } from './page';
import { SlotShares } from './slot-shares';
import {
  addDays,
  addMonths,
  type DayKey,
  dayKeyOf,
  formatClock,
  formatDayHead,
  formatMonth,
  formatTime,
  fromLocalInput,
  monthStart,
  parseDayKey,
  startOfDay,
  toLocalInput,
  weekStart,
  zoneLabel,
} from './time';

/** Deliveries per channel over a week or a month, with the free posting slots between them. */

type View = 'week' | 'month';

interface CalendarData {
  view: View;
  day: DayKey;
  days: DayKey[];
  channels: ChannelView[];
  channel?: string;
  status?: DeliveryStatus;
  deliveries: DeliverySummary[];
  actions: Map<string, DeliveryEvent[]>;
  /** Free slots per channel id. */
  free: Map<string, Date[]>;
  /** Each office's share of the chosen channel's slots. */
  shares: { windowDays: number; list: SlotShare[] } | null;
  /** Blackouts over the shown channels in the period: their days are shaded. */
  blackouts: ChannelBlackout[];
  back: string;
}

/** The blackouts over a day of the calendar, on one channel or (no channel) on any shown one. */
function dayBlackouts(data: CalendarData, day: DayKey, channel: ChannelView | null, zone: string) {
  const start = startOfDay(day, zone).getTime();
  const end = startOfDay(addDays(day, 1), zone).getTime();
  const reasons = data.blackouts
    .filter(
      (b) =>
        (!channel || b.channelId === channel.id) &&
        b.startsAt.getTime() < end &&
        (b.endsAt === null || b.endsAt.getTime() > start),
    )
    .map((b) => b.reason);
  return [...new Set(reasons)];
}

function BlackoutNote(props: { reasons: string[] }) {
  const { t } = useEnv();
  if (props.reasons.length === 0) return null;
  return <p class="blackout-note">{t.calendar.blackout(props.reasons.join('; '))}</p>;
}

function Entry(props: { d: DeliverySummary; actions: DeliveryEvent[]; free: Date[]; back: string }) {
  const { t, locale, zone } = useEnv();
  const { d } = props;
  const at = new Date(d.publishedAt ?? d.dueAt);
  return (
    <li class={`entry status-${d.status}`} data-delivery={d.id} data-platform={d.channel.platform}>
      <span class="clock">{formatClock(at, locale, zone)}</span> <DeliveryStatusBadge status={d.status} />{' '}
      <a href={`/posts/${d.postId}`}>
        <Excerpt text={d.excerpt} max={60} />
      </a>
      {props.actions.includes('reschedule') ? (
        <details class="move">
          <summary>{t.calendar.move}</summary>
          <form method="post" action={`/calendar/move/${d.id}`}>
            <Csrf />
            <input type="hidden" name="version" value={String(d.version)} />
            <input type="hidden" name="back" value={props.back} />
            {props.free.length > 0 ? (
              <div class="field">
                <label for={`slot-${d.id}`}>{t.calendar.toFreeSlot}</label>
                <select id={`slot-${d.id}`} name="slot">
                  <option value="">—</option>
                  {props.free.slice(0, 30).map((slot) => (
                    <option
                      value={slot.toISOString()}
                    >{`${formatDayHead(slot, locale, zone)} ${formatTime(slot, locale, zone)}`}</option>
                  ))}
                </select>
              </div>
            ) : null}
            <div class="field">
              <label for={`at-${d.id}`}>{`${t.calendar.toTime} (${zoneLabel(zone)})`}</label>
              <input
                id={`at-${d.id}`}
                name="at"
                type="datetime-local"
                value={toLocalInput(new Date(d.dueAt), zone)}
              />
            </div>
            <button type="submit" class="button">
              {t.calendar.moveButton}
            </button>
          </form>
        </details>
      ) : null}
    </li>
  );
}

function FreeSlot(props: { at: Date }) {
  const { t, locale, zone } = useEnv();
  return (
    <li class="entry free" data-free-slot={props.at.toISOString()}>
      <span class="clock">{formatClock(props.at, locale, zone)}</span> {t.calendar.free}
    </li>
  );
}

function Cell(props: { data: CalendarData; day: DayKey; channel: ChannelView | null }) {
  const { zone } = useEnv();
  const { data, day, channel } = props;
  const inDay = (at: Date) => dayKeyOf(at, zone) === day;
  const deliveries = data.deliveries.filter(
    (d) => (!channel || d.channel.id === channel.id) && inDay(new Date(d.publishedAt ?? d.dueAt)),
  );
  const free = channel ? (data.free.get(channel.id) ?? []).filter(inDay) : [];
  const items: { at: number; node: JSX.Element }[] = [
    ...deliveries.map((d) => ({
      at: new Date(d.publishedAt ?? d.dueAt).getTime(),
      node: (
        <Entry
          d={d}
          actions={data.actions.get(d.id) ?? []}
          free={data.free.get(d.channel.id) ?? []}
          back={data.back}
        />
      ),
    })),
    ...free.map((slot) => ({ at: slot.getTime(), node: <FreeSlot at={slot} /> })),
  ].sort((a, b) => a.at - b.at);
  if (items.length === 0) return null;
  return <ul class="entries">{items.map((item) => item.node)}</ul>;
}

function CalendarPage(props: { data: CalendarData; notice?: string | null; error?: string | null }) {
  const { t, locale, zone, now } = useEnv();
  const { data } = props;
  const link = (changes: Record<string, string | undefined>) => {
    const params = new URLSearchParams();
    const merged = {
      view: data.view,
      date: data.day,
      channel: data.channel,
      status: data.status,
      ...changes,
    };
    for (const [key, value] of Object.entries(merged)) if (value) params.set(key, value);
    return `/calendar?${params.toString()}`;
  };
  const step = (direction: number) =>
    data.view === 'week' ? addDays(data.day, 7 * direction) : addMonths(data.day, direction);
  const first = startOfDay(data.days[0]!, zone);
  const shownChannels = data.channel ? data.channels.filter((c) => c.id === data.channel) : data.channels;
  const title =
    data.view === 'week'
      ? t.calendar.weekOf(formatDayHead(first, locale, zone), formatMonth(first, locale, zone))
      : formatMonth(startOfDay(monthStart(data.day), zone), locale, zone);
  return (
    <Layout title={t.calendar.title} notice={props.notice} error={props.error} wide>
      <form method="get" action="/calendar" class="filters">
        <input type="hidden" name="date" value={data.day} />
        <div class="field">
          <label for="view">{t.calendar.view}</label>
          <select id="view" name="view">
            <option value="week" selected={data.view === 'week'}>
              {t.calendar.week}
            </option>
            <option value="month" selected={data.view === 'month'}>
              {t.calendar.month}
            </option>
          </select>
        </div>
        <ChannelFilter channels={data.channels} selected={data.channel} />
        <div class="field">
          <label for="status">{t.deliveries.status}</label>
          <select id="status" name="status">
            <option value="">{t.common.all}</option>
            {DELIVERY_STATUSES.map((s) => (
              <option value={s} selected={s === data.status}>
                {t.deliveryStatus[s]}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="button">
          {t.common.filter}
        </button>
      </form>
      {data.shares ? <SlotShares shares={data.shares.list} windowDays={data.shares.windowDays} /> : null}
      <nav class="cal-nav" aria-label={t.calendar.navigation}>
        <a href={link({ date: step(-1) })} rel="prev">
          {t.calendar.previous}
        </a>
        <h2>
          {title} <span class="zone">{zoneLabel(zone)}</span>
        </h2>
        <a href={link({ date: dayKeyOf(now, zone) })}>{t.calendar.today}</a>
        <a href={link({ date: step(1) })} rel="next">
          {t.calendar.next}
        </a>
      </nav>
      {data.view === 'week' ? (
        <table class="cal-week">
          <thead>
            <tr>
              <th scope="col">{t.deliveries.channel}</th>
              {data.days.map((day) => (
                <th scope="col">{formatDayHead(startOfDay(day, zone), locale, zone)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shownChannels.map((channel) => (
              <tr data-channel={channel.id} data-platform={channel.platform}>
                <th scope="row">
                  <PlatformName platform={channel.platform} /> {channel.name}
                </th>
                {data.days.map((day) => {
                  const reasons = dayBlackouts(data, day, channel, zone);
                  return (
                    <td
                      data-day={formatDayHead(startOfDay(day, zone), locale, zone)}
                      class={reasons.length > 0 ? 'blackout' : undefined}
                    >
                      <BlackoutNote reasons={reasons} />
                      <Cell data={data} day={day} channel={channel} />
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <ol class="cal-month">
          {data.days.map((day) => {
            const shown = data.channel ? (shownChannels[0] ?? null) : null;
            const reasons = dayBlackouts(data, day, shown, zone);
            return (
              <li
                class={`cal-day${day.slice(0, 7) === data.day.slice(0, 7) ? '' : ' outside'}${reasons.length > 0 ? ' blackout' : ''}`}
              >
                <div class="cal-date">{formatDayHead(startOfDay(day, zone), locale, zone)}</div>
                <BlackoutNote reasons={reasons} />
                <Cell data={data} day={day} channel={shown} />
              </li>
            );
          })}
        </ol>
      )}
      {shownChannels.length === 0 ? <p class="empty">{t.calendar.noChannels}</p> : null}
    </Layout>
  );
}

const calendarQuery = z.strictObject({
  view: z.enum(['week', 'month']).optional(),
  date: z.string().max(10).optional(),
  channel: z.union([z.uuid(), z.literal('')]).optional(),
  status: z.union([z.enum(DELIVERY_STATUSES), z.literal('')]).optional(),
  ok: z.string().max(40).optional(),
});

/** The most deliveries one calendar page shows (a busy month across every channel). */
const MAX_PAGES = 10;

export const calendarRoutes: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  app.get('/calendar', { schema: { hide: true, querystring: calendarQuery } }, async (request, reply) => {
    const actor = requireActor(request);
    const env = await kit.env(request, reply);
    const { zone } = env;
    const view: View = request.query.view ?? 'week';
    const day = parseDayKey(request.query.date) ?? dayKeyOf(ctx.now(), zone);
    const channel = request.query.channel || undefined;
    const status = request.query.status || undefined;
    let days: DayKey[];
    if (view === 'week') {
      const start = weekStart(day);
      days = Array.from({ length: 7 }, (_, i) => addDays(start, i));
    } else {
      const start = weekStart(monthStart(day));
      const end = addMonths(day, 1);
      days = [];
      for (let d = start; d < end || days.length % 7 !== 0; d = addDays(d, 1)) days.push(d);
    }
    const from = startOfDay(days[0]!, zone);
    const to = startOfDay(addDays(days.at(-1)!, 1), zone);
    const scope = await deliveryContext(ctx, actor);
    const deliveries: DeliverySummary[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const result = await listDeliveries(ctx, actor, {
        from: from.toISOString(),
        to: to.toISOString(),
        channelId: channel,
        status: status ? [status] : undefined,
        sort: 'due',
        cursor,
        limit: 200,
      });
      deliveries.push(...result.items);
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
    }
    const now = ctx.now();
    const freeFrom = new Date(Math.max(from.getTime(), now.getTime()));
    // Free slots per channel row in the week view; in the month view only for the one chosen channel.
    const slotChannels =
      view === 'week'
        ? scope.channelList.filter((c) => !channel || c.id === channel)
        : scope.channelList.filter((c) => c.id === channel);
    const free = new Map(
      await Promise.all(
        slotChannels.map(
          async (c) => [c.id, freeFrom < to ? await channelFreeSlots(ctx, c, freeFrom, to) : []] as const,
        ),
      ),
    );
    const params = new URLSearchParams({ view, date: day });
    if (channel) params.set('channel', channel);
    if (status) params.set('status', status);
    const data: CalendarData = {
      view,
      day,
      days,
      channels: scope.channelList,
      channel,
      status,
      deliveries,
      actions: new Map(deliveries.map((d) => [d.id, deliveryActions(actor, scope.paths, scope.channels, d)])),
      free,
      // Only for a channel of the viewer's calendar.
      shares:
        channel && scope.channelList.some((c) => c.id === channel)
          ? {
              windowDays: ctx.config.GAUNG_FAIR_SHARE_DAYS,
              list: await channelShares(ctx.db, channel, now, ctx.config.GAUNG_FAIR_SHARE_DAYS),
            }
          : null,
      blackouts: await blackoutsOver(
        ctx,
        scope.channelList.map((c) => c.id),
        from,
        to,
      ),
      back: `/calendar?${params.toString()}`,
    };
    return kit.page(
      request,
      reply,
      env,
      <CalendarPage data={data} notice={noticeOf(env.t, request.query.ok)} />,
    );
  });

  app.post(
    '/calendar/move/:id',
    {
      schema: {
        hide: true,
        params: z.strictObject({ id: z.uuid() }),
        body: z.strictObject({
          _csrf: z.string().max(200),
          version: z.coerce.number().int().min(1),
          back: z.string().max(2000).optional(),
          slot: z.string().max(40).optional(),
          at: z.string().max(40).optional(),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const env = await kit.env(request, reply);
      const back = request.body.back?.startsWith('/calendar') ? request.body.back : '/calendar';
      const slot = blank(request.body.slot);
      const dueAt =
        slot && !Number.isNaN(Date.parse(slot))
          ? new Date(slot)
          : fromLocalInput(request.body.at ?? '', env.zone);
      const fail = (message: string, status: number) =>
        kit.page(
          request,
          reply,
          env,
          <Layout title={env.t.calendar.title} error={message}>
            <p>
              <a href={back}>{env.t.calendar.back}</a>
            </p>
          </Layout>,
          status,
        );
      if (!dueAt) return fail(env.t.fieldProblems.invalid_date, 400);
      try {
        await rescheduleDelivery(ctx, actor, request.params.id, dueAt, request.body.version);
      } catch (error) {
        if (!isFormError(error)) throw error;
        return fail(problemText(env.t, error), error.status);
      }
      const [base, query] = back.split('?');
      const params = new URLSearchParams(query);
      params.set('ok', 'moved');
      return reply.redirect(`${base}?${params.toString()}`, 303);
    },
  );
};
