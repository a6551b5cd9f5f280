import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { GroupReport, Report } from '../../src/services/reports';
import { insertChannel } from '../helpers/posts';
import { insertReportedPost } from '../helpers/reports';
import {
  describeInBrowser,
  launchBrowser,
  newContext,
  type RunningGaung,
  screenshot,
  signIn,
  startGaung,
} from './support';

/** The reports page at a phone's and a desk's width: it shows the API's numbers, and prints. */
describeInBrowser('the reports page', () => {
  let gaung: RunningGaung;
  let browser: Browser;

  beforeAll(async () => {
    gaung = await startGaung();
    const { org } = gaung;
    const x = await insertChannel(gaung.t.ctx, org.units.national, 'x', { name: 'X Nasional' });
    const telegram = await insertChannel(gaung.t.ctx, org.units.national, 'telegram', {
      name: 'Telegram Nasional',
    });
    const now = Date.now();
    for (const [i, unit] of (['officeA1', 'officeA2', 'officeB1'] as const).entries())
      for (let n = 0; n < 3; n++)
        await insertReportedPost(gaung.t.ctx, {
          unit: org.units[unit],
          author: org.user(unit, 'contributor'),
          body: `Pelayanan paspor ${unit} minggu ${n + 1}`,
          submittedAt: new Date(now - (n * 7 + 2) * 86_400_000),
          decision: { after: 20 + 30 * n, to: 'approved' },
          deliveries: [
            {
              channelId: x,
              publishedAt: new Date(now - (n * 7 + 1) * 86_400_000),
              snapshots: {
                '1h': { impressions: 100 * (i + 1) + n, likes: 5 + n },
                '24h': { impressions: 1000 * (i + 1) + n * 10, likes: 40 },
              },
            },
            { channelId: telegram, publishedAt: new Date(now - (n * 7 + 1) * 86_400_000) },
          ],
        });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await gaung?.close();
  });

  it('shows the same numbers as the API at phone and desktop widths', async () => {
    const reviewer = gaung.org.user('national', 'reviewer');
    for (const mobile of [true, false]) {
      const context = await newContext(browser, { mobile });
      const page = await context.newPage();
      await signIn(page, gaung.url, reviewer.email);
      await page.goto(`${gaung.url}/reports?period=last-3-months&group=office`);
      const exportHref = await page.locator('a[href*="format=csv"]').getAttribute('href');
      const query = new URL(exportHref!, gaung.url).searchParams;
      query.delete('format');
      const api = (await (
        await fetch(`${gaung.url}/api/v1/reports/units?${query}`, { headers: reviewer.headers })
      ).json()) as Report;
      const groups = new Map<string, GroupReport>([
        ...api.groups.map((g) => [g.key, g] as const),
        ['total', api.totals],
      ]);
      const cells = await page.locator('#report-table td[data-value]').evaluateAll((elements) =>
        elements.map((element) => ({
          key: element.closest('tr')!.getAttribute('data-key')!,
          field: element.getAttribute('data-field')!,
          // What a person reads: the number as shown, thousands separators and all.
          shown: (element.childNodes[0]?.textContent ?? '').replace(/[.,\s]/g, ''),
        })),
      );
      expect(cells.length).toBeGreaterThan(30);
      for (const cell of cells) {
        const group = groups.get(cell.key)!;
        const [metric, window] = cell.field.split('_') as [string, string | undefined];
        const expected = window
          ? group.reach[window as 'latest'][metric as 'impressions']
          : cell.field === 'published' || cell.field === 'failed'
            ? group.deliveries[cell.field]
            : group.posts![cell.field as 'submitted'];
        expect(Number(cell.shown), `${cell.key} ${cell.field}`).toBe(expected);
      }
      await expect(page.locator('figure.chart svg').count()).resolves.toBeGreaterThan(2);
      await expect(page.getByText('tanpa Telegram').first().isVisible()).resolves.toBe(true);
      await screenshot(page, mobile ? 'reports-phone' : 'reports-desktop');
      if (!mobile) {
        await page.emulateMedia({ media: 'print' });
        await expect(page.locator('.print-head').isVisible()).resolves.toBe(true);
        await expect(page.locator('header.top').isVisible()).resolves.toBe(false);
        await screenshot(page, 'reports-print');
      }
      await context.close();
    }
  });
});
