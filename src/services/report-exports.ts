import { PLATFORMS, REACH_WINDOWS } from '../domain/vocabulary';
import { RequestThread } from '../infra/threads';
import type { GroupReport, Report } from './reports';

/**
 * A report as a table (one row per group, then the total) for CSV and XLSX: the same columns in
 * both. A figure a platform does not give is an empty cell, and its platforms are named beside it.
 */

type Cell = string | number | null;

const PLATFORM_COLUMNS = PLATFORMS.filter((platform) => platform !== 'sandbox');

export function reportTable(report: Report): { header: string[]; rows: Cell[][] } {
  const header = [
    'group_key',
    'group',
    'kind',
    'posts_submitted',
    'posts_approved',
    'posts_rejected',
    'posts_changes_requested',
    'first_decision_median_minutes',
    'first_decision_p90_minutes',
    'deliveries_published',
    'deliveries_failed',
    ...PLATFORM_COLUMNS.map((platform) => `published_${platform}`),
    ...REACH_WINDOWS.flatMap((window) => [`impressions_${window}`, `engagements_${window}`]),
    'likes_latest',
    'reposts_latest',
    'replies_latest',
    'quotes_latest',
    'clicks_latest',
    'impressions_not_available_from',
    'engagements_not_available_from',
    'share_of_national_output',
    'share_of_national_reach',
  ];
  const row = (group: GroupReport): Cell[] => [
    group.key,
    group.name,
    group.kind,
    group.posts?.submitted ?? null,
    group.posts?.approved ?? null,
    group.posts?.rejected ?? null,
    group.posts?.changesRequested ?? null,
    round(group.firstDecisionMinutes?.median ?? null),
    round(group.firstDecisionMinutes?.p90 ?? null),
    group.deliveries.published,
    group.deliveries.failed,
    ...PLATFORM_COLUMNS.map((platform) => group.publishedByPlatform[platform] ?? 0),
    ...REACH_WINDOWS.flatMap((window) => [group.reach[window].impressions, group.reach[window].engagements]),
    group.reach.latest.likes,
    group.reach.latest.reposts,
    group.reach.latest.replies,
    group.reach.latest.quotes,
    group.reach.latest.clicks,
    (group.notAvailableFrom.impressions ?? []).join(' '),
    (group.notAvailableFrom.engagements ?? []).join(' '),
    round(group.share.output, 4),
    round(group.share.reach, 4),
  ];
  return { header, rows: [...report.groups.map(row), row(report.totals)] };
}

function round(value: number | null, digits = 1): number | null {
  if (value === null) return null;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** A CSV cell: quoted when needed, and never read as a formula by a spreadsheet program. */
function csvCell(value: Cell): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function reportCsv(report: Report): string {
  const { header, rows } = reportTable(report);
  const lines = [header, ...rows].map((line) => line.map(csvCell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** The thread that writes workbooks, ended after a minute without one. */
const workbookThread = new RequestThread<{ report: Report; periodLabel: string }, ArrayBuffer>(
  'services/report-xlsx-worker',
  { name: 'the workbook writer', timeoutMs: 60_000, idleMs: 60_000 },
);

/**
 * The report as an Excel workbook (`reportWorkbook`), written in a thread of its own: loading exceljs
 * the first time holds up its thread for 0.2 to 0.5 s and writing a large workbook longer, which the
 * API's own thread would otherwise spend not answering anyone.
 */
export async function reportXlsx(report: Report, periodLabel: string): Promise<Buffer> {
  return Buffer.from(
    await workbookThread.request({ report, periodLabel }, 'the workbook took too long to write'),
  );
}
