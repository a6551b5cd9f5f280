import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries, deliveryAttempts, metricsSnapshots, postEvents } from '../../src/db/schema';
import type { DeliveryStatus } from '../../src/domain/vocabulary';
import { enqueuePublishJobs, publishJobId } from '../../src/queues/producers';
import type { Report } from '../../src/services/reports';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { insertDeliveries } from '../helpers/engine';
import { createLedgerAdapter, type LedgerServer, startLedgerServer } from '../helpers/ledger-platform';
import { seedTestOrg, type TestOrg } from '../helpers/org';
import { insertChannel } from '../helpers/posts';

/** The operations API: listing, inspecting and steering deliveries; free slots; the unit report; the queue dashboard. */
describe.each(testDrivers())('deliveries API on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let ledger: LedgerServer;
  let national: string;
  let regional: string;
  const made: Record<string, string> = {};

  beforeAll(async () => {
    ledger = await startLedgerServer({ dedupe: true });
    t = await createTestApp(driver, {
      env: { GAUNG_METRICS_TOKEN: 'prometheus-scrape-token-0123456789' },
      adapters: () => [
        createLedgerAdapter({ platform: 'sandbox', baseUrl: ledger.fake.url, reconcile: 'idempotent' }),
      ],
    });
    org = await seedTestOrg(t.ctx);
    national = await insertChannel(t.ctx, org.units.national, 'sandbox', {
      name: 'Nasional',
      slots: ['0 9 * * *', '0 15 * * *'],
      timeZone: 'Asia/Jakarta',
    });
    regional = await insertChannel(t.ctx, org.units.regionA, 'sandbox', { name: 'Kanwil A' });
    const add = async (
      key: string,
      unit: 'officeA1' | 'officeB1',
      channelId: string,
      status: DeliveryStatus,
      dueAt: Date,
    ) => {
      const [id] = await insertDeliveries(t.ctx.db, {
        unitId: org.units[unit].id,
        authorId: org.user(unit, 'contributor').id,
        targets: [{ channelId, dueAt }],
      });
      const published = status === 'published';
      await t.ctx.db
        .update(deliveries)
        .set({
          status,
          publishedAt: published ? dueAt : null,
          remoteUrl: published ? `https://example.test/${key}` : null,
          lastError: status === 'failed' ? 'HTTP 400: too long' : null,
        })
        .where(eq(deliveries.id, id!));
      made[key] = id!;
    };
    const day = (n: number) => new Date(Date.UTC(2031, 0, n, 3, 0));
    await add('a1Scheduled', 'officeA1', national, 'scheduled', day(10));
    await add('a1Failed', 'officeA1', national, 'failed', day(3));
    await add('a1Attention', 'officeA1', national, 'needs_attention', day(4));
    await add('a1Published', 'officeA1', national, 'published', day(2));
    await add('b1Scheduled', 'officeB1', national, 'scheduled', day(11));
    await add('b1Regional', 'officeB1', regional, 'scheduled', day(12));
  });

  afterAll(async () => {
    await t?.close();
    await ledger?.fake.stop();
  });

  const get = (url: string, who: { headers: Record<string, string> }, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url, headers: { ...who.headers, ...headers } });
  const post = (url: string, who: { headers: Record<string, string> }, payload?: object) =>
    t.app.inject({ method: 'POST', url, headers: who.headers, ...(payload ? { payload } : {}) });
  const ids = (response: { json(): unknown }) =>
    (response.json() as { items: { id: string }[] }).items.map((i) => i.id);

  it('lists only what each person may see', async () => {
    const contributorA1 = await get('/api/v1/deliveries?limit=200', org.user('officeA1', 'contributor'));
    expect(contributorA1.statusCode, contributorA1.body).toBe(200);
    expect(new Set(ids(contributorA1))).toEqual(
      new Set([made.a1Scheduled, made.a1Failed, made.a1Attention, made.a1Published]),
    );
    // The regional reviewer controls the regional channel and sees its subtree's posts.
    const reviewerA = await get('/api/v1/deliveries?limit=200', org.user('regionA', 'reviewer'));
    expect(new Set(ids(reviewerA))).toEqual(
      new Set([made.a1Scheduled, made.a1Failed, made.a1Attention, made.a1Published, made.b1Regional]),
    );
    const reviewerNational = await get('/api/v1/deliveries?limit=200', org.user('national', 'reviewer'));
    expect(ids(reviewerNational)).toHaveLength(6);
    const hidden = await get(`/api/v1/deliveries/${made.a1Failed}`, org.user('officeB1', 'contributor'));
    expect(hidden.statusCode).toBe(404);
  });

  it('puts failed and needs_attention first when asked, and pages with a stable cursor', async () => {
    const reviewer = org.user('national', 'reviewer');
    const first = await get('/api/v1/deliveries?sort=attention&limit=2', reviewer);
    const page1 = first.json() as { items: { id: string; status: string }[]; nextCursor: string };
    expect(page1.items.map((i) => i.status).sort()).toEqual(['failed', 'needs_attention']);
    expect(page1.items.map((i) => i.id)).toEqual([made.a1Failed, made.a1Attention]);
    const rest: string[] = [];
    let cursor: string | null = page1.nextCursor;
    while (cursor) {
      const next = await get(`/api/v1/deliveries?sort=attention&limit=2&cursor=${cursor}`, reviewer);
      const page = next.json() as { items: { id: string }[]; nextCursor: string | null };
      rest.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    }
    expect(rest).toEqual([made.a1Published, made.a1Scheduled, made.b1Scheduled, made.b1Regional]);
    const bad = await get('/api/v1/deliveries?cursor=bm9wZQ', reviewer);
    expect(bad.statusCode).toBe(400);
  });

  it('filters by status, channel, originating unit and due time', async () => {
    const reviewer = org.user('national', 'reviewer');
    expect(new Set(ids(await get('/api/v1/deliveries?status=failed,needs_attention', reviewer)))).toEqual(
      new Set([made.a1Failed, made.a1Attention]),
    );
    expect(ids(await get(`/api/v1/deliveries?channel=${regional}`, reviewer))).toEqual([made.b1Regional]);
    expect(new Set(ids(await get(`/api/v1/deliveries?unit=${org.units.regionB.id}`, reviewer)))).toEqual(
      new Set([made.b1Scheduled, made.b1Regional]),
    );
    const window = await get(
      '/api/v1/deliveries?from=2031-01-03T00:00:00Z&to=2031-01-04T00:00:00Z',
      reviewer,
    );
    expect(ids(window)).toEqual([made.a1Failed]);
    const unknownField = await get('/api/v1/deliveries?colour=red', reviewer);
    expect(unknownField.statusCode).toBe(400);
  });

  it('shows one delivery with its attempts, its audit trail and what the caller may do', async () => {
    await t.ctx.db.insert(deliveryAttempts).values({
      deliveryId: made.a1Failed!,
      number: 1,
      outcome: 'invalid',
      httpStatus: 400,
      error: 'HTTP 400: too long',
      endedAt: new Date(),
    });
    const reviewer = await get(`/api/v1/deliveries/${made.a1Failed}`, org.user('national', 'reviewer'));
    expect(reviewer.statusCode).toBe(200);
    const detail = reviewer.json();
    expect(detail.attemptHistory).toEqual([
      expect.objectContaining({ number: 1, outcome: 'invalid', httpStatus: 400 }),
    ]);
    expect(detail.actions.sort()).toEqual(['cancel', 'confirm', 'retry']);
    // The office sees its delivery but cannot steer a national channel.
    const office = await get(`/api/v1/deliveries/${made.a1Failed}`, org.user('officeA1', 'contributor'));
    expect(office.json().actions).toEqual([]);
  });

  it('retries a failed delivery now with a fresh budget; only those who control the channel may', async () => {
    const forbidden = await post(`/api/v1/deliveries/${made.a1Failed}/retry`, org.user('officeA1', 'admin'));
    expect(forbidden.statusCode, forbidden.body).toBe(403);
    const stale = await post(`/api/v1/deliveries/${made.a1Failed}/retry`, org.user('national', 'reviewer'), {
      version: 99,
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().code).toBe('stale_version');
    const response = await post(
      `/api/v1/deliveries/${made.a1Failed}/retry`,
      org.user('national', 'reviewer'),
    );
    expect(response.statusCode).toBe(200);
    const detail = response.json();
    expect(detail).toMatchObject({ status: 'scheduled', attempts: 0, lastError: null });
    expect(Math.abs(Date.parse(detail.dueAt) - Date.now())).toBeLessThan(10_000);
    expect(detail.events[0]).toMatchObject({
      from: 'failed',
      to: 'scheduled',
      actor: { id: org.user('national', 'reviewer').id },
    });
    expect(await t.ctx.queues.publish.getJob(publishJobId(made.a1Failed!, 0))).toBeDefined();
  });

  it('cancels what has not gone out, and explains why a published one cannot be', async () => {
    const reviewer = org.user('national', 'reviewer');
    const cancelled = await post(`/api/v1/deliveries/${made.b1Scheduled}/cancel`, reviewer, {});
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().status).toBe('cancelled');
    const refused = await post(`/api/v1/deliveries/${made.a1Published}/cancel`, reviewer);
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'invalid_transition' });
    expect(refused.json().detail).toContain('already published');
  });

  it('records a delivery a person found on the platform as published, on the post timeline too', async () => {
    const reviewer = org.user('national', 'reviewer');
    const missingUrl = await post(`/api/v1/deliveries/${made.a1Attention}/confirm`, reviewer, {});
    expect(missingUrl.statusCode).toBe(400);
    const response = await post(`/api/v1/deliveries/${made.a1Attention}/confirm`, reviewer, {
      url: 'https://t.me/gaung_test/812',
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'published', remoteUrl: 'https://t.me/gaung_test/812' });
    const [row] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, made.a1Attention!));
    const timeline = await t.ctx.db.select().from(postEvents).where(eq(postEvents.postId, row!.postId));
    expect(timeline.some((event) => event.kind === 'delivery' && event.data.outcome === 'published')).toBe(
      true,
    );
  });

  it('moves a scheduled delivery, and its waiting job with it', async () => {
    const reviewer = org.user('national', 'reviewer');
    const [id] = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: org.user('officeA1', 'contributor').id,
      targets: [{ channelId: national, dueAt: new Date(Date.now() + 60_000) }],
    });
    await enqueuePublishJobs(t.ctx, [{ id: id!, attempts: 0, dueAt: new Date(Date.now() + 60_000) }]);
    const detail = (await get(`/api/v1/deliveries/${id}`, reviewer)).json();
    const later = new Date(Date.now() + 6 * 3_600_000).toISOString();
    const stale = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/deliveries/${id}`,
      headers: reviewer.headers,
      payload: { dueAt: later, version: detail.version + 1 },
    });
    expect(stale.statusCode).toBe(409);
    const moved = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/deliveries/${id}`,
      headers: reviewer.headers,
      payload: { dueAt: later, version: detail.version },
    });
    expect(moved.statusCode).toBe(200);
    expect(Date.parse(moved.json().dueAt)).toBe(Date.parse(later));
    // Six hours out is beyond the horizon: the job leaves Redis; the sweeper brings it back in time.
    expect(await t.ctx.queues.publish.getJob(publishJobId(id!, 0))).toBeUndefined();
    const published = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/deliveries/${made.a1Published}`,
      headers: reviewer.headers,
      payload: { dueAt: later, version: 1 },
    });
    expect(published.statusCode).toBe(409);
  });

  it('lists a channel’s free slots, leaving out the booked ones', async () => {
    const reviewer = org.user('national', 'reviewer');
    // a1Scheduled is due 2031-01-10 03:00 UTC = 10:00 WIB, not a slot; book 09:00 WIB on the 11th.
    await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: org.user('officeA1', 'contributor').id,
      targets: [{ channelId: national, dueAt: new Date('2031-01-11T02:00:00Z') }],
    });
    const response = await get(
      `/api/v1/channels/${national}/free-slots?from=2031-01-11T00:00:00Z&to=2031-01-12T12:00:00Z`,
      reviewer,
    );
    expect(response.statusCode).toBe(200);
    expect(response.json().slots).toEqual([
      '2031-01-11T08:00:00.000Z',
      '2031-01-12T02:00:00.000Z',
      '2031-01-12T08:00:00.000Z',
    ]);
    const tooLong = await get(
      `/api/v1/channels/${national}/free-slots?from=2031-01-01T00:00:00Z&to=2031-06-01T00:00:00Z`,
      reviewer,
    );
    expect(tooLong.statusCode).toBe(400);
  });

  it('reports per originating unit as JSON and CSV, within the reader’s subtree', async () => {
    const from = '2031-01-01T00:00:00Z';
    const to = '2031-02-01T00:00:00Z';
    await t.ctx.db.insert(metricsSnapshots).values([
      {
        deliveryId: made.a1Published!,
        window: '1h',
        impressions: 100,
        likes: 5,
        reposts: 1,
        takenAt: new Date('2031-01-02T04:00:00Z'),
      },
      {
        deliveryId: made.a1Published!,
        window: '24h',
        impressions: 900,
        likes: 40,
        reposts: 7,
        takenAt: new Date('2031-01-03T03:00:00Z'),
      },
    ]);
    const [a1Post] = await t.ctx.db
      .select({ id: deliveries.postId })
      .from(deliveries)
      .where(eq(deliveries.id, made.a1Published!));
    await t.ctx.db.insert(postEvents).values([
      {
        postId: a1Post!.id,
        kind: 'transition',
        fromStatus: 'draft',
        toStatus: 'submitted',
        createdAt: new Date('2031-01-01T05:00:00Z'),
      },
      {
        postId: a1Post!.id,
        kind: 'transition',
        fromStatus: 'submitted',
        toStatus: 'approved',
        createdAt: new Date('2031-01-01T06:00:00Z'),
      },
    ]);
    const reviewer = org.user('regionA', 'reviewer');
    const response = await get(`/api/v1/reports/units?from=${from}&to=${to}`, reviewer);
    expect(response.statusCode).toBe(200);
    const report = response.json() as Report;
    expect(report.groups.map((g) => g.key).sort()).toEqual(
      [org.units.regionA.id, org.units.officeA1.id, org.units.officeA2.id].sort(),
    );
    const a1 = report.groups.find((g) => g.key === org.units.officeA1.id)!;
    expect(a1.posts).toEqual({ submitted: 1, approved: 1, rejected: 0, changesRequested: 0 });
    expect(a1.firstDecisionMinutes).toEqual({ median: 60, p90: 60 });
    expect(a1.publishedByPlatform).toEqual({ sandbox: 1 });
    // The latest snapshot counts, not the sum of all of them; each window has its own.
    expect(a1.reach.latest).toMatchObject({ impressions: 900, likes: 40, reposts: 7, replies: null });
    expect(a1.reach.latest.engagements).toBe(47);
    expect(a1.reach['1h'].impressions).toBe(100);
    expect(a1.reach['7d'].impressions).toBeNull();

    const csv = await get(`/api/v1/reports/units?from=${from}&to=${to}`, reviewer, { accept: 'text/csv' });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toMatch(/^group_key,group,kind,posts_submitted,posts_approved,posts_rejected,/);
    // Three units and the total.
    expect(lines).toHaveLength(5);
    const header = lines[0]!.split(',');
    const a1Line = lines.find((line) => line.startsWith(org.units.officeA1.id))!.split(',');
    expect(a1Line[header.indexOf('impressions_latest')]).toBe('900');
    expect(a1Line[header.indexOf('impressions_7d')]).toBe('');
    expect((await get(`/api/v1/reports/units?format=csv`, reviewer)).headers['content-type']).toContain(
      'text/csv',
    );

    expect((await get('/api/v1/reports/units', org.user('officeA1', 'contributor'))).statusCode).toBe(200);
    expect(
      (await get(`/api/v1/reports/units?unit=${org.units.regionA.id}`, org.user('officeA1', 'contributor')))
        .statusCode,
    ).toBe(403);
    const outside = await get(`/api/v1/reports/units?unit=${org.units.regionB.id}`, reviewer);
    expect(outside.statusCode).toBe(404);
  });

  it('serves the queue dashboard to admins of the root unit only, under its own CSP', async () => {
    const anonymous = await t.app.inject({ method: 'GET', url: '/admin/queues' });
    expect(anonymous.statusCode).toBe(401);
    const anonymousApi = await t.app.inject({ method: 'GET', url: '/admin/queues/api/queues' });
    expect(anonymousApi.statusCode).toBe(401);
    expect((await get('/admin/queues', org.user('regionA', 'admin'))).statusCode).toBe(403);
    expect((await get('/admin/queues', org.user('national', 'reviewer'))).statusCode).toBe(403);
    const page = await get('/admin/queues', org.user('national', 'admin'));
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("script-src 'self'");
    // Every script and stylesheet the page names is served, under the same path.
    const assets = [...page.body.matchAll(/(?:src|href)="(static\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(2);
    for (const asset of assets) {
      const response = await get(`/admin/queues/${asset}`, org.user('national', 'admin'));
      expect(response.statusCode, asset).toBe(200);
    }
    const api = await get('/admin/queues/api/queues', org.user('national', 'admin'));
    expect(api.statusCode).toBe(200);
    expect(
      (api.json() as { queues: { name: string; readOnlyMode: boolean }[] }).queues.map((q) => q.name).sort(),
    ).toEqual(['ingest', 'maintenance', 'metrics', 'notify', 'publish']);
  });

  it('exposes the engine’s figures to Prometheus', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer prometheus-scrape-token-0123456789' },
    });
    expect(response.statusCode).toBe(200);
    for (const name of [
      'gaung_deliveries_due',
      'gaung_deliveries_queued',
      'gaung_deliveries_publishing',
      'gaung_deliveries_needing_attention',
      'gaung_deliveries_published_total',
      'gaung_deliveries_failed_total',
      'gaung_publish_attempts_total',
      'gaung_publish_lateness_seconds',
    ])
      expect(response.body).toContain(name);
  });
});
