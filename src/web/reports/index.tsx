import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { invalid } from '../../domain/errors';
import { atLeast } from '../../domain/permissions';
import {
  PLATFORMS,
  type Platform,
  REACH_WINDOWS,
  REPORT_GROUPS,
  type ReportGroup,
} from '../../domain/vocabulary';
import { requireActor } from '../../http/auth';
import { listChannels } from '../../services/channels';
import { refreshDeliveryMetrics } from '../../services/delivery-metrics';
import { type Figures, type GroupReport, type Report, unitReport } from '../../services/reports';
import { listVisibleUnits } from '../../services/units';
import { ChannelFilter, Excerpt, PlatformName, Time } from '../components';
import { useEnv } from '../env';
import type { Messages } from '../i18n/index';
import { localPath, type WebOptions } from '../kit';
import { Layout } from '../layout';
import {
  addDays,
  addMonths,
  dayKeyOf,
  formatDate,
  monthStart,
  parseDayKey,
  startOfDay,
  weekStart,
  zoneLabel,
} from '../time';
import { BarChart, LineChart } from './charts';

/**
 * `/reports`: the report of a unit over a period in the viewer's time zone, as tables, SVG charts and
 * top posts, with the same figures as `GET /api/v1/reports/units` (which also gives the CSV and XLSX
 * downloads linked here). Prints as an A4 report with the organisation's name and the period.
 */

export const PERIODS = ['this-week', 'last-week', 'this-month', 'last-3-months', 'custom'] as const;
export type Period = (typeof PERIODS)[number];

/** The instants [from, to) a period covers in a zone; a custom range's days are both included. */
export function periodRange(
  period: Period,
  now: Date,
  zone: string,
  custom: { from?: string; to?: string },
): { from: Date; to: Date } {
  const today = dayKeyOf(now, zone);
  const days = (first: string, afterLast: string) => ({
    from: startOfDay(first, zone),
    to: startOfDay(afterLast, zone),
  });
  switch (period) {
    case 'this-week':
      return days(weekStart(today), addDays(weekStart(today), 7));
    case 'last-week':
      return days(addDays(weekStart(today), -7), weekStart(today));
    case 'this-month':
      return days(monthStart(today), addMonths(today, 1));
    case 'last-3-months':
      return days(addMonths(today, -2), addMonths(today, 1));
    case 'custom': {
      const from = parseDayKey(custom.from);
      const to = parseDayKey(custom.to);
      const errors = [
        ...(from ? [] : [{ field: 'from', message: 'must be a date (YYYY-MM-DD)', code: 'invalid_date' }]),
        ...(to ? [] : [{ field: 'to', message: 'must be a date (YYYY-MM-DD)', code: 'invalid_date' }]),
      ];
      if (errors.length) throw invalid(errors);
      if (to! < from!)
        throw invalid([{ field: 'to', message: 'must not be before from', code: 'empty_range' }]);
      return days(from!, addDays(to!, 1));
    }
  }
}

const reportQuery = z.strictObject({
  period: z.enum(PERIODS).default('this-month'),
  from: z.string().max(10).optional(),
  to: z.string().max(10).optional(),
  group: z.enum(REPORT_GROUPS).default('office'),
  unit: z.union([z.uuid(), z.literal('')]).optional(),
  platform: z.union([z.enum(PLATFORMS), z.literal('')]).optional(),
  channel: z.union([z.uuid(), z.literal('')]).optional(),
});

/** One pair of formatters per locale: building one costs more than formatting every cell of a page. */
const formats = new Map<string, { number: (n: number) => string; percent: (n: number) => string }>();

function useFormat() {
  const { locale } = useEnv();
  let format = formats.get(locale);
  if (!format) {
    const numbers = new Intl.NumberFormat(locale === 'id' ? 'id-ID' : 'en-GB');
    const percent = new Intl.NumberFormat(locale === 'id' ? 'id-ID' : 'en-GB', {
      style: 'percent',
      maximumFractionDigits: 1,
    });
    format = { number: (n: number) => numbers.format(n), percent: (n: number) => percent.format(n) };
    formats.set(locale, format);
  }
  return format;
}

const platformList = (t: Messages, platforms: Platform[]) => platforms.map((p) => t.platform[p]).join(', ');

/** A figure, or what stands in for it: "not available from Telegram" where a platform does not give it. */
function FigureCell(props: { group: GroupReport; value: number | null; field: keyof Figures; name: string }) {
  const { t } = useEnv();
  const format = useFormat();
  const missing = props.group.notAvailableFrom[props.field] ?? [];
  if (props.value === null)
    return (
      <td class="na" data-field={props.name}>
        {missing.length ? t.reports.notAvailable(platformList(t, missing)) : t.reports.none}
      </td>
    );
  return (
    <td data-field={props.name} data-value={props.value}>
      {format.number(props.value)}
      {missing.length ? <small class="na">{` (${t.reports.partly(platformList(t, missing))})`}</small> : null}
    </td>
  );
}

function CountCell(props: { value: number | null | undefined; name: string }) {
  const { t } = useEnv();
  const format = useFormat();
  return props.value === null || props.value === undefined ? (
    <td>{t.reports.none}</td>
  ) : (
    <td data-field={props.name} data-value={props.value}>
      {format.number(props.value)}
    </td>
  );
}

/** A group's name: platforms in the viewer's language, units and channels by their own names. */
const groupLabel = (t: Messages, by: ReportGroup, group: GroupReport) =>
  by === 'platform' ? (t.platform[group.key as Platform] ?? group.key) : group.name;

function GroupRow(props: { group: GroupReport; by: ReportGroup; byUnit: boolean; total?: boolean }) {
  const { t } = useEnv();
  const format = useFormat();
  const { group } = props;
  const name = props.total ? t.reports.total : groupLabel(t, props.by, group);
  return (
    <tr class={props.total ? 'total' : undefined} data-key={group.key}>
      <th scope="row">{name}</th>
      {props.byUnit ? (
        <>
          <CountCell value={group.posts?.submitted} name="submitted" />
          <CountCell value={group.posts?.approved} name="approved" />
          <CountCell value={group.posts?.rejected} name="rejected" />
          <CountCell value={group.posts?.changesRequested} name="changesRequested" />
          <td data-field="decisionMedian">
            {group.firstDecisionMinutes?.median == null
              ? t.reports.none
              : t.reports.minutes(group.firstDecisionMinutes.median)}
          </td>
          <td>
            {group.firstDecisionMinutes?.p90 == null
              ? t.reports.none
              : t.reports.minutes(group.firstDecisionMinutes.p90)}
          </td>
        </>
      ) : null}
      <CountCell value={group.deliveries.published} name="published" />
      <CountCell value={group.deliveries.failed} name="failed" />
      {REACH_WINDOWS.map((window) => (
        <FigureCell
          group={group}
          value={group.reach[window].impressions}
          field="impressions"
          name={`impressions_${window}`}
        />
      ))}
      {REACH_WINDOWS.map((window) => (
        <FigureCell
          group={group}
          value={group.reach[window].engagements}
          field="engagements"
          name={`engagements_${window}`}
        />
      ))}
      <td>{group.share.output === null ? t.reports.none : format.percent(group.share.output)}</td>
      <td>{group.share.reach === null ? t.reports.none : format.percent(group.share.reach)}</td>
    </tr>
  );
}

function FiguresTable(props: { report: Report }) {
  const { t } = useEnv();
  const { report } = props;
  const byUnit = report.totals.posts !== null;
  return (
    <div class="table-wrap">
      <table class="report" id="report-table">
        <thead>
          <tr>
            <th scope="col" rowSpan={2}>
              {t.reports.groups[report.group]}
            </th>
            {byUnit ? (
              <>
                <th scope="colgroup" colSpan={4}>
                  {t.reports.posts}
                </th>
                <th scope="colgroup" colSpan={2}>
                  {t.reports.decision}
                </th>
              </>
            ) : null}
            <th scope="colgroup" colSpan={2}>
              {t.reports.published}
            </th>
            <th scope="colgroup" colSpan={REACH_WINDOWS.length}>
              {t.reports.reach}
            </th>
            <th scope="colgroup" colSpan={REACH_WINDOWS.length}>
              {t.reports.engagements}
            </th>
            <th scope="colgroup" colSpan={2}>
              {t.reports.share}
            </th>
          </tr>
          <tr>
            {byUnit ? (
              <>
                <th scope="col">{t.reports.submitted}</th>
                <th scope="col">{t.reports.approved}</th>
                <th scope="col">{t.reports.rejected}</th>
                <th scope="col">{t.reports.changesRequested}</th>
                <th scope="col">{t.reports.median}</th>
                <th scope="col">{t.reports.p90}</th>
              </>
            ) : null}
            <th scope="col">{t.reports.published}</th>
            <th scope="col">{t.reports.failed}</th>
            {[0, 1].flatMap(() =>
              REACH_WINDOWS.map((window) => <th scope="col">{t.reports.windows[window]}</th>),
            )}
            <th scope="col">{t.reports.shareOutput}</th>
            <th scope="col">{t.reports.shareReach}</th>
          </tr>
        </thead>
        <tbody>
          {report.groups.map((group) => (
            <GroupRow group={group} by={report.group} byUnit={byUnit} />
          ))}
        </tbody>
        <tfoot>
          <GroupRow group={report.totals} by={report.group} byUnit={byUnit} total />
        </tfoot>
      </table>
    </div>
  );
}

function Charts(props: { report: Report }) {
  const { t, locale, zone } = useEnv();
  const { report } = props;
  const weekLabel = (week: string) => formatDate(new Date(week), locale, zone).replace(/^\S+,?\s/, '');
  const points = (pick: (week: GroupReport['weekly'][number]) => number | null) =>
    report.weeks.map((week, i) => ({ label: weekLabel(week), value: pick(report.totals.weekly[i]!) }));
  const byReach = report.groups.some((group) => group.reach.latest.impressions !== null);
  const ranking = [...report.groups]
    .map((group) => ({
      label: groupLabel(t, report.group, group),
      value: byReach ? group.reach.latest.impressions : group.deliveries.published,
    }))
    .filter((bar) => (bar.value ?? 0) > 0)
    .sort((a, b) => (b.value ?? 0) - (a.value ?? 0))
    .slice(0, 15);
  const mix = Object.entries(report.totals.publishedByPlatform)
    .map(([platform, value]) => ({ label: t.platform[platform as Platform], value }))
    .sort((a, b) => b.value - a.value);
  const rankingWhat = byReach ? t.reports.reach : t.reports.published;
  return (
    <section class="charts" aria-labelledby="charts-title">
      <h2 id="charts-title">{t.reports.trendTitle}</h2>
      <div class="chart-grid">
        {(
          [
            ['chart-reach', t.reports.reachChart, t.reports.reach, (w) => w.impressions],
            ['chart-engagements', t.reports.engagementChart, t.reports.engagements, (w) => w.engagements],
            ['chart-published', t.reports.publishedChart, t.reports.published, (w) => w.published],
          ] as const satisfies ReadonlyArray<
            readonly [string, string, string, (week: GroupReport['weekly'][number]) => number | null]
          >
        ).map(([id, title, unit, pick]) => (
          <LineChart id={id} title={title} points={points(pick)} locale={locale} unit={unit} />
        ))}
        {ranking.length ? (
          <BarChart
            id="chart-ranking"
            title={t.reports.rankingChart(rankingWhat)}
            bars={ranking}
            locale={locale}
            unit={rankingWhat}
          />
        ) : null}
        {mix.length ? (
          <BarChart
            id="chart-mix"
            title={t.reports.mixChart}
            bars={mix}
            locale={locale}
            unit={t.reports.published}
          />
        ) : null}
      </div>
    </section>
  );
}

function TopPosts(props: { report: Report }) {
  const { t } = useEnv();
  const format = useFormat();
  return (
    <section aria-labelledby="top-title" class="top-posts">
      <h2 id="top-title">{t.reports.topPosts}</h2>
      {props.report.topPosts.length === 0 ? <p class="empty">{t.reports.noTopPosts}</p> : null}
      <ol class="list">
        {props.report.topPosts.map((post) => (
          <li class="item top-post" data-post={post.postId}>
            {post.thumbnailMediaId ? (
              <img
                src={`/api/v1/media/${post.thumbnailMediaId}/thumbnail`}
                alt=""
                width={72}
                height={72}
                loading="lazy"
              />
            ) : null}
            <div>
              <div class="meta">
                <strong>{post.unit.name}</strong> · <Time at={post.publishedAt} /> ·{' '}
                {post.platforms.map((platform) => (
                  <>
                    <PlatformName platform={platform} />{' '}
                  </>
                ))}
              </div>
              <a href={`/posts/${post.postId}`}>
                <Excerpt text={post.text} max={160} />
              </a>
              <div class="figures">
                {t.reports.reach}:{' '}
                {post.reach.impressions === null ? t.reports.none : format.number(post.reach.impressions)} ·{' '}
                {t.reports.engagements}:{' '}
                {post.reach.engagements === null ? t.reports.none : format.number(post.reach.engagements)}
              </div>
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}

interface PageProps {
  report: Report;
  period: Period;
  custom: { from: string; to: string };
  unitId: string;
  units: { id: string; name: string }[];
  channels: { id: string; name: string }[];
  platform?: string;
  channel?: string;
  exportQuery: string;
}

function ReportsPage(props: PageProps) {
  const { t, locale, zone } = useEnv();
  const { report } = props;
  const lastDay = new Date(new Date(report.to).getTime() - 1);
  const periodLabel = t.reports.periodLabel(
    formatDate(new Date(report.from), locale, zone),
    formatDate(lastDay, locale, zone),
    zoneLabel(zone),
  );
  return (
    <Layout title={t.reports.title} wide>
      <header class="print-head">
        <strong>{report.organisation}</strong>
        <span>
          {report.scope.name} · {periodLabel}
        </span>
      </header>
      <p class="lead no-print">{t.reports.intro}</p>
      {report.demo ? <p class="alert demo">{t.reports.demo}</p> : null}
      <form method="get" action="/reports" class="filters no-print">
        <div class="field">
          <label for="period">{t.reports.period}</label>
          <select id="period" name="period">
            {PERIODS.map((period) => (
              <option value={period} selected={period === props.period}>
                {t.reports.periods[period]}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="from">{t.reports.from}</label>
          <input id="from" name="from" type="date" value={props.custom.from} />
        </div>
        <div class="field">
          <label for="to">{t.reports.to}</label>
          <input id="to" name="to" type="date" value={props.custom.to} />
        </div>
        <div class="field">
          <label for="group">{t.reports.group}</label>
          <select id="group" name="group">
            {REPORT_GROUPS.map((group) => (
              <option value={group} selected={group === report.group}>
                {t.reports.groups[group]}
              </option>
            ))}
          </select>
        </div>
        {props.units.length > 1 ? (
          <div class="field">
            <label for="unit">{t.reports.unit}</label>
            <select id="unit" name="unit">
              {props.units.map((unit) => (
                <option value={unit.id} selected={unit.id === props.unitId}>
                  {unit.name}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <div class="field">
          <label for="platform">{t.reports.platform}</label>
          <select id="platform" name="platform">
            <option value="">{t.common.all}</option>
            {PLATFORMS.map((platform) => (
              <option value={platform} selected={platform === props.platform}>
                {t.platform[platform]}
              </option>
            ))}
          </select>
        </div>
        <ChannelFilter channels={props.channels} selected={props.channel} />
        <button type="submit" class="button">
          {t.reports.show}
        </button>
      </form>
      <p class="actions no-print">
        <a class="button plain" href={`/api/v1/reports/units?${props.exportQuery}&format=csv`} download>
          {t.reports.exportCsv}
        </a>{' '}
        <a class="button plain" href={`/api/v1/reports/units?${props.exportQuery}&format=xlsx`} download>
          {t.reports.exportXlsx}
        </a>{' '}
        <button type="button" class="button plain" data-print hidden>
          {t.reports.print}
        </button>
      </p>
      <p class="period" id="report-period">
        {periodLabel}
      </p>
      {report.filters.platforms.length || report.filters.channelIds.length ? (
        <p class="hint">{t.reports.filterNote}</p>
      ) : null}
      <h2>{t.reports.summary}</h2>
      <FiguresTable report={report} />
      <Charts report={report} />
      <TopPosts report={report} />
    </Layout>
  );
}

export const reportPages: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  // "Refresh now" on the post page; a refusal (429 from the per-platform budget) is the error page's.
  app.post(
    '/deliveries/:id/metrics/refresh',
    {
      schema: {
        hide: true,
        params: z.strictObject({ id: z.uuid() }),
        body: z.strictObject({ _csrf: z.string().max(200), back: z.string().max(500).optional() }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      await refreshDeliveryMetrics(ctx, actor, request.params.id);
      const back = localPath(request.body.back, '/posts', ctx.config.publicUrl);
      return reply.redirect(`${back}${back.includes('?') ? '&' : '?'}ok=metricsRefreshed`, 303);
    },
  );

  app.get('/reports', { schema: { hide: true, querystring: reportQuery } }, async (request, reply) => {
    const actor = requireActor(request);
    const { query } = request;
    const { from, to } = periodRange(query.period, ctx.now(), actor.timeZone, query);
    const group: ReportGroup = query.group;
    const platform = query.platform || undefined;
    const channel = query.channel || undefined;
    const subtree = atLeast(actor, 'reviewer');
    const [report, units, channels, env] = await Promise.all([
      unitReport(ctx, actor, {
        unitId: query.unit || undefined,
        unitField: 'unit',
        from,
        to,
        group,
        platforms: platform ? [platform] : undefined,
        channelIds: channel ? [channel] : undefined,
      }),
      subtree ? listVisibleUnits(ctx, actor) : Promise.resolve([]),
      listChannels(ctx, actor, {}),
      kit.env(request, reply),
    ]);
    const exportQuery = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), group });
    if (query.unit) exportQuery.set('unit', query.unit);
    if (platform) exportQuery.set('platform', platform);
    if (channel) exportQuery.set('channel', channel);
    return kit.page(
      request,
      reply,
      env,
      <ReportsPage
        report={report}
        period={query.period}
        custom={{
          from: dayKeyOf(from, actor.timeZone),
          to: dayKeyOf(new Date(to.getTime() - 1), actor.timeZone),
        }}
        unitId={query.unit || actor.unitId}
        units={units
          .filter((u) => u.path.startsWith(actor.unitPath))
          .map((u) => ({ id: u.id, name: u.name }))}
        channels={channels.map((c) => ({ id: c.id, name: c.name }))}
        platform={platform}
        channel={channel}
        exportQuery={exportQuery.toString()}
      />,
    );
  });
};
