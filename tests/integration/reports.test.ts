import { eq } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { units } from '../../src/db/schema';
import type { GroupReport, Report } from '../../src/services/reports';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, type TestOrg, type TestUser } from '../helpers/org';
import { insertChannel, insertMedia } from '../helpers/posts';
import { insertReportedPost } from '../helpers/reports';

/** Reports: the figures per office, region and platform, the same on the page, in CSV and in XLSX. */

// Monday 3 March to Sunday 16 March 2031 in WIB.
const FROM = '2031-03-02T17:00:00.000Z';
const TO = '2031-03-16T17:00:00.000Z';
const at = (iso: string) => new Date(iso);

describe.each(testDrivers())('reports on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let a1Post: string;

  beforeAll(async () => {
    t = await createTestApp(driver, { now: () => new Date('2031-03-20T00:00:00Z') });
    org = await seedTestOrg(t.ctx);
    const natX = await insertChannel(t.ctx, org.units.national, 'x', { name: 'X Nasional' });
    const natTg = await insertChannel(t.ctx, org.units.national, 'telegram', { name: 'Telegram Nasional' });
    const regMa = await insertChannel(t.ctx, org.units.regionA, 'mastodon', { name: 'Mastodon Wilayah A' });
    const a1 = org.user('officeA1', 'contributor');
    const a2 = org.user('officeA2', 'contributor');
    const b1 = org.user('officeB1', 'contributor');
    const p1 = await insertReportedPost(t.ctx, {
      unit: org.units.officeA1,
      author: a1,
      submittedAt: at('2031-03-03T02:00:00Z'),
      decision: { after: 30, to: 'approved' },
      deliveries: [
        {
          channelId: natX,
          publishedAt: at('2031-03-03T05:00:00Z'),
          snapshots: {
            '1h': { impressions: 100, likes: 5 },
            '24h': { impressions: 1000, likes: 40, reposts: 10 },
          },
        },
        { channelId: natTg, publishedAt: at('2031-03-03T05:00:00Z') },
      ],
    });
    a1Post = p1.postId;
    await insertReportedPost(t.ctx, {
      unit: org.units.officeA1,
      author: a1,
      submittedAt: at('2031-03-10T02:00:00Z'),
      decision: { after: 90, to: 'approved' },
      mediaId: await insertMedia(t.ctx, org.units.officeA1),
      deliveries: [
        {
          channelId: natX,
          publishedAt: at('2031-03-10T06:00:00Z'),
          snapshots: { '1h': { impressions: 50, likes: 2 } },
        },
      ],
    });
    await insertReportedPost(t.ctx, {
      unit: org.units.officeA1,
      author: a1,
      submittedAt: at('2031-03-10T01:00:00Z'),
      decision: { after: 10, to: 'rejected' },
    });
    await insertReportedPost(t.ctx, {
      unit: org.units.officeA2,
      author: a2,
      submittedAt: at('2031-03-04T03:00:00Z'),
      decision: { after: 60, to: 'approved' },
      deliveries: [
        {
          channelId: natX,
          publishedAt: at('2031-03-04T04:00:00Z'),
          snapshots: { '1h': { impressions: 300, likes: 20 } },
        },
        { channelId: regMa, publishedAt: at('2031-03-04T04:00:00Z'), snapshots: { '1h': { likes: 3 } } },
      ],
    });
    await insertReportedPost(t.ctx, {
      unit: org.units.officeB1,
      author: b1,
      submittedAt: at('2031-03-05T03:00:00Z'),
      decision: { after: 20, to: 'approved' },
      deliveries: [
        {
          channelId: natX,
          publishedAt: at('2031-03-05T04:00:00Z'),
          snapshots: { '1h': { impressions: 500 } },
        },
      ],
    });
    // A unit whose name a spreadsheet would run as a formula.
    await t.ctx.db
      .update(units)
      .set({ name: '=HYPERLINK("http://evil.example")' })
      .where(eq(units.id, org.units.officeA2.id));
  });
  afterAll(async () => {
    await t.close();
  });

  const report = async (user: TestUser, query: string): Promise<Report> => {
    const response = await t.app.inject({
      method: 'GET',
      url: `/api/v1/reports/units?from=${FROM}&to=${TO}&${query}`,
      headers: user.headers,
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as Report;
  };
  const groupOf = (r: Report, key: string) => r.groups.find((g) => g.key === key)!;

  it('counts posts, decision times, deliveries, reach per window and the share of the national accounts per office', async () => {
    const r = await report(org.user('national', 'reviewer'), 'group=office');
    const a1 = groupOf(r, org.units.officeA1.id);
    expect(a1.posts).toEqual({ submitted: 3, approved: 2, rejected: 1, changesRequested: 0 });
    // Decisions after 10, 30 and 90 minutes.
    expect(a1.firstDecisionMinutes!.median).toBeCloseTo(30);
    expect(a1.firstDecisionMinutes!.p90).toBeCloseTo(78);
    expect(a1.deliveries).toEqual({ published: 3, failed: 0 });
    expect(a1.publishedByPlatform).toEqual({ x: 2, telegram: 1 });
    expect(a1.reach['1h'].impressions).toBe(150);
    expect(a1.reach['24h'].impressions).toBe(1000);
    expect(a1.reach['7d'].impressions).toBeNull();
    expect(a1.reach.latest.impressions).toBe(1050);
    expect(a1.reach.latest.engagements).toBe(52);
    // Telegram gives no figures: named, not counted as zero.
    expect(a1.notAvailableFrom.impressions).toEqual(['telegram']);
    expect(a1.share.output).toBeCloseTo(3 / 5);
    expect(a1.share.reach).toBeCloseTo(1050 / 1850);
    expect(a1.weekly).toEqual([
      { published: 2, impressions: 1000, engagements: 50 },
      { published: 1, impressions: 50, engagements: 2 },
    ]);
    expect(r.weeks).toEqual(['2031-03-02T17:00:00Z', '2031-03-09T17:00:00Z']);
    const a2 = groupOf(r, org.units.officeA2.id);
    // Mastodon measured the post but gives no impressions.
    expect(a2.notAvailableFrom.impressions).toEqual(['mastodon']);
    expect(a2.reach.latest.engagements).toBe(23);
    // An office that sent nothing is listed with zeros for what it did and nulls for what was not measured.
    const b2 = groupOf(r, org.units.officeB2.id);
    expect(b2.posts).toEqual({ submitted: 0, approved: 0, rejected: 0, changesRequested: 0 });
    expect(b2.reach.latest.impressions).toBeNull();
    expect(r.totals.deliveries.published).toBe(6);
    expect(r.totals.posts!.submitted).toBe(5);
    expect(r.totals.share.output).toBeCloseTo(1);
    expect(r.topPosts[0]!.postId).toBe(a1Post);
    expect(r.topPosts.find((p) => p.thumbnailMediaId)).toBeDefined();
    expect(r.organisation).toBe(org.units.national.name);
  });

  it('rolls offices up into regions and splits by platform, and filters by platform', async () => {
    const reviewer = org.user('national', 'reviewer');
    const byRegion = await report(reviewer, 'group=region');
    expect(groupOf(byRegion, org.units.regionA.id).deliveries.published).toBe(5);
    expect(groupOf(byRegion, org.units.regionA.id).reach.latest.impressions).toBe(1350);
    expect(groupOf(byRegion, org.units.regionB.id).reach.latest.impressions).toBe(500);
    expect(groupOf(byRegion, org.units.regionA.id).posts!.submitted).toBe(4);

    const byPlatform = await report(reviewer, 'group=platform');
    expect(groupOf(byPlatform, 'x').reach.latest.impressions).toBe(1850);
    expect(groupOf(byPlatform, 'telegram').reach.latest.impressions).toBeNull();
    expect(groupOf(byPlatform, 'telegram').notAvailableFrom.impressions).toEqual(['telegram']);
    expect(groupOf(byPlatform, 'x').posts).toBeNull();

    const telegramOnly = await report(reviewer, 'group=office&platform=telegram');
    const a1 = groupOf(telegramOnly, org.units.officeA1.id);
    expect(a1.deliveries.published).toBe(1);
    expect(a1.reach.latest.impressions).toBeNull();
    expect(a1.posts!.submitted).toBe(3);
  });

  it('shows contributors their own unit only, reviewers their subtree', async () => {
    const own = await report(org.user('officeA1', 'contributor'), 'group=office');
    expect(own.groups.map((g) => g.key)).toEqual([org.units.officeA1.id]);
    const regionContributor = await report(org.user('regionA', 'contributor'), 'group=office');
    expect(regionContributor.groups.map((g) => g.key)).toEqual([org.units.regionA.id]);
    expect(regionContributor.totals.deliveries.published).toBe(0);
    const region = await report(org.user('regionA', 'reviewer'), 'group=office');
    expect(region.groups.map((g) => g.key).sort()).toEqual(
      [org.units.regionA.id, org.units.officeA1.id, org.units.officeA2.id].sort(),
    );
  });

  it('refuses a period that ends before it starts, with the field', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: `/api/v1/reports/units?from=${TO}&to=${FROM}`,
      headers: org.user('national', 'reviewer').headers,
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ code: 'validation_failed', errors: [{ field: 'to' }] });
  });

  it('exports the same figures as CSV and XLSX, with formulas kept as text', async () => {
    const reviewer = org.user('national', 'reviewer');
    const r = await report(reviewer, 'group=office');
    const csv = await t.app.inject({
      method: 'GET',
      url: `/api/v1/reports/units?from=${FROM}&to=${TO}&format=csv`,
      headers: reviewer.headers,
    });
    const lines = csv.body.trim().split('\r\n');
    const header = lines[0]!.split(',');
    const a1Line = lines.find((line) => line.startsWith(org.units.officeA1.id))!.split(',');
    expect(Number(a1Line[header.indexOf('impressions_latest')])).toBe(1050);
    expect(a1Line[header.indexOf('impressions_not_available_from')]).toBe('telegram');
    expect(csv.body).toContain(`"'=HYPERLINK(""http://evil.example"")"`);

    const xlsx = await t.app.inject({
      method: 'GET',
      url: `/api/v1/reports/units?from=${FROM}&to=${TO}&format=xlsx`,
      headers: reviewer.headers,
    });
    expect(xlsx.statusCode).toBe(200);
    expect(xlsx.headers['content-type']).toContain('spreadsheetml');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const sheet = workbook.getWorksheet('Report')!;
    expect(sheet.getCell('A1').value).toBe(org.units.national.name);
    const headerRow = sheet.getRow(4).values as unknown[];
    const column = headerRow.indexOf('impressions_latest');
    let a1Value: unknown;
    let formulaLike: ExcelJS.Cell | undefined;
    sheet.eachRow((row) => {
      if (row.getCell(1).value === org.units.officeA1.id) a1Value = row.getCell(column).value;
      if (row.getCell(1).value === org.units.officeA2.id) formulaLike = row.getCell(2);
    });
    expect(a1Value).toBe(groupOf(r, org.units.officeA1.id).reach.latest.impressions);
    expect(formulaLike!.type).toBe(ExcelJS.ValueType.String);
    expect(formulaLike!.value).toBe('=HYPERLINK("http://evil.example")');
  });

  it('renders the page with the API’s numbers, charts as SVG with tables, and “not available from” for missing figures', async () => {
    const reviewer = org.user('national', 'reviewer');
    const r = await report(reviewer, 'group=office');
    const page = await t.app.inject({
      method: 'GET',
      url: '/reports?period=custom&from=2031-03-03&to=2031-03-16&group=office',
      headers: reviewer.headers,
    });
    expect(page.statusCode, page.body).toBe(200);
    const html = page.body;
    // Each row names its group once; its cells name their field and carry the raw value.
    const cells = [...html.matchAll(/<tr[^>]* data-key="([^"]+)">(.*?)<\/tr>/g)].flatMap(([, key, row]) =>
      [...row!.matchAll(/data-field="([^"]+)" data-value="([^"]+)"/g)].map(
        ([all, field, value]) => [all, key, field, value] as const,
      ),
    );
    expect(cells.length).toBeGreaterThan(20);
    const all = new Map<string, GroupReport>([
      ...r.groups.map((g) => [g.key, g] as const),
      [r.totals.key, r.totals],
    ]);
    const apiValue = (group: GroupReport, field: string): number | null => {
      const [metric, window] = field.split('_') as [string, string | undefined];
      if (window) return group.reach[window as 'latest'][metric as 'impressions'];
      if (field === 'published' || field === 'failed') return group.deliveries[field];
      return group.posts![field as 'submitted'];
    };
    for (const [, key, field, value] of cells) {
      const group = all.get(key!);
      expect(group, key).toBeDefined();
      expect(Number(value), `${key} ${field}`).toBe(apiValue(group!, field!));
    }
    expect(html).toContain('tanpa Telegram');
    expect(html).toContain('<svg');
    expect(html).toContain('class="chart-table"');
    expect(html).toContain(`/api/v1/media/`);
    expect(html).toContain(`href="/posts/${a1Post}"`);
    expect(html).toContain('format=xlsx');

    const byPlatform = await t.app.inject({
      method: 'GET',
      url: '/reports?period=custom&from=2031-03-03&to=2031-03-16&group=platform',
      headers: reviewer.headers,
    });
    expect(byPlatform.body).toContain('tidak tersedia dari Telegram');

    const bad = await t.app.inject({
      method: 'GET',
      url: '/reports?period=custom&from=2031-03-16&to=2031-03-03',
      headers: reviewer.headers,
    });
    expect(bad.statusCode).toBe(400);
  });
});
