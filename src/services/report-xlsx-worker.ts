import { answerRequests } from '../infra/threads';
import { reportTable } from './report-exports';
import type { Report } from './reports';

/**
 * The same table as an Excel workbook: a title with the organisation and the period, the table,
 * then the week-by-week trend and the top posts on sheets of their own. Text stays text: exceljs
 * writes a string starting with `=` as a string cell, never as a formula.
 */
async function reportWorkbook(report: Report, periodLabel: string): Promise<ArrayBuffer> {
  // Loaded by the thread's first workbook: exceljs is large (and outside the bundle).
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
  // Node's Buffer (exceljs types it as its own); copied into an ArrayBuffer of its own, which the answer
  // moves to the caller instead of copying again.
  const written = (await workbook.xlsx.writeBuffer()) as unknown as Uint8Array;
  return Uint8Array.from(written).buffer;
}

/** The thread that writes report workbooks (src/services/report-exports.ts sends them here). */
answerRequests((request: { report: Report; periodLabel: string }) =>
  reportWorkbook(request.report, request.periodLabel),
);
