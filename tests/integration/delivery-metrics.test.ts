import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFRESHES_PER_MINUTE } from '../../src/services/delivery-metrics';
import { createTestApp, type TestApp } from '../helpers/context';
import { createLedgerAdapter, type LedgerServer, startLedgerServer } from '../helpers/ledger-platform';
import { seedTestOrg, type TestOrg } from '../helpers/org';
import { insertChannel } from '../helpers/posts';
import { insertReportedPost } from '../helpers/reports';

/** Per-post figures: every snapshot of each delivery on the post page, and "refresh now". */
describe('delivery metrics', () => {
  let t: TestApp;
  let org: TestOrg;
  let ledger: LedgerServer;
  let measured: string;
  let unmeasured: string;
  let postId: string;

  beforeAll(async () => {
    ledger = await startLedgerServer({ dedupe: true });
    t = await createTestApp('pglite', {
      adapters: () => [
        createLedgerAdapter({
          platform: 'x',
          baseUrl: ledger.fake.url,
          reconcile: 'idempotent',
          metrics: {
            impressions: 4321,
            likes: 99,
            reposts: 12,
            replies: 3,
            quotes: 1,
            clicks: null,
            raw: {},
          },
        }),
        createLedgerAdapter({ platform: 'telegram', baseUrl: ledger.fake.url, reconcile: 'none' }),
      ],
    });
    org = await seedTestOrg(t.ctx);
    const x = await insertChannel(t.ctx, org.units.national, 'x', { name: 'X Nasional' });
    const telegram = await insertChannel(t.ctx, org.units.national, 'telegram', {
      name: 'Telegram Nasional',
    });
    const made = await insertReportedPost(t.ctx, {
      unit: org.units.officeA1,
      author: org.user('officeA1', 'contributor'),
      submittedAt: new Date(Date.now() - 3 * 86_400_000),
      decision: { after: 15, to: 'approved' },
      deliveries: [
        {
          channelId: x,
          publishedAt: new Date(Date.now() - 2 * 86_400_000),
          snapshots: { '1h': { impressions: 200, likes: 10 }, '24h': { impressions: 1500, likes: 60 } },
        },
        { channelId: telegram, publishedAt: new Date(Date.now() - 2 * 86_400_000) },
      ],
    });
    postId = made.postId;
    [measured, unmeasured] = made.deliveryIds as [string, string];
  });
  afterAll(async () => {
    await t.close();
    await ledger.fake.stop();
  });

  const refresh = (id: string, user = org.user('national', 'reviewer')) =>
    t.app.inject({ method: 'POST', url: `/api/v1/deliveries/${id}/metrics/refresh`, headers: user.headers });

  it('reads the figures now and keeps them beside the scheduled snapshots', async () => {
    const response = await refresh(measured);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json() as { snapshots: { window: string; impressions: number | null }[] };
    expect(body.snapshots.map((s) => [s.window, s.impressions])).toEqual([
      ['1h', 200],
      ['24h', 1500],
      ['now', 4321],
    ]);
    // A second refresh replaces the on-demand reading rather than adding one.
    const again = (await refresh(measured)).json() as { snapshots: unknown[] };
    expect(again.snapshots).toHaveLength(3);
  });

  it('says a platform without figures has none, and hides deliveries the caller cannot see', async () => {
    const telegram = await refresh(unmeasured);
    expect(telegram.statusCode).toBe(422);
    expect(telegram.json()).toMatchObject({ code: 'metrics_unavailable', platform: 'telegram' });
    expect((await refresh(measured, org.user('officeB1', 'reviewer'))).statusCode).toBe(404);
  });

  it('shows every snapshot on the post page with a chart and a refresh button', async () => {
    const page = await t.app.inject({
      method: 'GET',
      url: `/posts/${postId}`,
      headers: org.user('officeA1', 'contributor').headers,
    });
    expect(page.statusCode, page.body).toBe(200);
    expect(page.body).toContain('class="delivery-figures"');
    expect(page.body).toMatch(/1\.500|1,500/);
    expect(page.body).toContain(`/deliveries/${measured}/metrics/refresh`);
    expect(page.body).toContain('<svg');
    expect(page.body).toContain('tidak tersedia dari Telegram');
  });

  it('limits on-demand reads per platform, answering 429 with Retry-After', async () => {
    let last = await refresh(measured);
    for (let i = 0; i < REFRESHES_PER_MINUTE && last.statusCode === 200; i++) last = await refresh(measured);
    expect(last.statusCode).toBe(429);
    expect(last.json()).toMatchObject({ code: 'rate_limited' });
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
  });
});
