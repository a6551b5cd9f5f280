import { PLATFORMS } from '../domain/vocabulary';
import { type GroupReport, REACH_WINDOWS, type Report } from './reports';

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

/**
 * The same table as an Excel workbook: a title with the organisation and the period, the table,
 * then the week-by-week trend and the top posts on sheets of their own. Text stays text: exceljs
 * writes a string starting with `=` as a string cell, never as a formula.
 */
export async function reportXlsx(report: Report, periodLabel: string): Promise<Buffer> {
  // Loaded for an export only: exceljs is large, and an idle process does not need it.
  const { default: ExcelJS } = await import('exceljs');
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Gaung';
  workbook.created = new Date(report.to);
  const sheet = workbook.addWorksheet('Report');
  sheet.addRow([report.organisation]).font = { bold: true, size: 14 };
  sheet.addRow([`${report.scope.name} · ${periodLabel}`]);
  sheet.addRow([]);
  const { header, rows } = reportTable(report);
  sheet.addRow(header).font = { bold: true };
  for (const row of rows) sheet.addRow(row);
  sheet.views = [{ state: 'frozen', ySplit: 4, xSplit: 2 }];
  sheet.getColumn(2).width = 32;

  const weeks = workbook.addWorksheet('Weeks');
  weeks.addRow(['group_key', 'group', ...report.weeks.map((week) => week.slice(0, 10))]).font = {
    bold: true,
  };
  for (const group of [...report.groups, report.totals]) {
    weeks.addRow([group.key, group.name, ...group.weekly.map((week) => week.published)]);
    weeks.addRow([group.key, `${group.name} (impressions)`, ...group.weekly.map((week) => week.impressions)]);
    weeks.addRow([group.key, `${group.name} (engagements)`, ...group.weekly.map((week) => week.engagements)]);
  }

  const top = workbook.addWorksheet('Top posts');
  top.addRow(['post_id', 'unit', 'published_at', 'platforms', 'impressions', 'engagements', 'text']).font = {
    bold: true,
  };
  for (const post of report.topPosts)
    top.addRow([
      post.postId,
      post.unit.name,
      post.publishedAt,
      post.platforms.join(' '),
      post.reach.impressions,
      post.reach.engagements,
      post.text,
    ]);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
