import { desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channels, deliveries, metricsSnapshots, posts, units } from '../../src/db/schema';
import { POST_STATUSES } from '../../src/domain/vocabulary';
import { seedDemo } from '../../src/services/demo';
import { advanceDelivery } from '../../src/services/publishing';
import { messagesFor } from '../../src/web/i18n/index';
import { createTestApp, type TestApp } from '../helpers/context';
import { signIn } from '../helpers/session';

describe('the demo organisation (GAUNG_DEMO=1)', () => {
  let t: TestApp;
  let people: Awaited<ReturnType<typeof seedDemo>>;

  beforeAll(async () => {
    t = await createTestApp('pglite', { env: { GAUNG_DEMO: '1' } });
    people = await seedDemo(t.ctx);
  });
  afterAll(async () => {
    await t.close();
  });

  it('is seeded once, with one sign-in per role', async () => {
    expect(people!.map((p) => p.role).sort()).toEqual([
      'admin',
      'contributor',
      'contributor',
      'contributor',
      'reviewer',
    ]);
    expect(await seedDemo(t.ctx)).toBeNull();
  });

  it('takes a post from an office through review to the sandbox timeline', async () => {
    const office = people!.find((p) => p.email.startsWith('surabaya'))!;
    const humas = people!.find((p) => p.role === 'reviewer')!;
    const officeSession = await signIn(t.app, office.email, office.password);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/posts',
      headers: officeSession.headers,
      payload: {
        body: 'Pelayanan paspor simpatik di Surabaya hari ini.',
        sourceUrl: 'https://x.com/kanim_sby/status/1',
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const post = created.json();
    const submitted = await t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/submit`,
      headers: officeSession.headers,
      payload: { version: post.version },
    });
    expect(submitted.statusCode).toBe(200);

    const humasSession = await signIn(t.app, humas.email, humas.password);
    const [sandbox] = await t.ctx.db.select().from(channels).where(eq(channels.platform, 'sandbox'));
    const approved = await t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/approve`,
      headers: humasSession.headers,
      payload: {
        version: submitted.json().version,
        targets: [{ channelId: sandbox!.id, mode: 'copy', at: 'now' }],
      },
    });
    expect(approved.statusCode, approved.body).toBe(200);
    const [delivery] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, post.id));
    expect(await advanceDelivery(t.ctx, delivery!.id)).toEqual({ next: 'done', outcome: 'published' });

    const [published] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, delivery!.id));
    expect(published!.status).toBe('published');
    expect(published!.remoteUrl).toMatch(new RegExp(`/sandbox/${sandbox!.id}#`));
    const timeline = await t.app.inject({ url: `/sandbox/${sandbox!.id}`, headers: humasSession.cookie });
    expect(timeline.statusCode).toBe(200);
    expect(timeline.body).toContain('Pelayanan paspor simpatik di Surabaya hari ini.');
    expect(timeline.body).toContain('Kantor Surabaya');
  });

  describe('a few weeks of history', () => {
    const msg = messagesFor('id');

    it('has posts of several offices in every state, published on the sandbox channels, with demo snapshots', async () => {
      const rows = await t.ctx.db
        .select({ status: posts.status, unit: units.name })
        .from(posts)
        .innerJoin(units, eq(units.id, posts.unitId));
      const offices = new Set(rows.map((row) => row.unit));
      expect(offices).toEqual(new Set(['Kantor Surabaya', 'Kantor Malang', 'Kantor Makassar']));
      for (const office of offices) {
        const statuses = new Set(rows.filter((row) => row.unit === office).map((row) => row.status));
        for (const status of POST_STATUSES) expect(statuses, `${office} ${status}`).toContain(status);
      }
      const published = await t.ctx.db
        .select({ status: deliveries.status, platform: channels.platform, at: deliveries.publishedAt })
        .from(deliveries)
        .innerJoin(channels, eq(channels.id, deliveries.channelId))
        .where(eq(deliveries.status, 'published'));
      expect(published.length).toBeGreaterThan(20);
      expect(new Set(published.map((row) => row.platform))).toEqual(new Set(['sandbox']));
      // Spread over weeks, all in the past.
      const times = published.map((row) => row.at!.getTime()).sort();
      expect(times.at(-1)! - times[0]!).toBeGreaterThan(14 * 86_400_000);
      expect(times.at(-1)!).toBeLessThan(Date.now());
      const snapshots = await t.ctx.db.select({ raw: metricsSnapshots.raw }).from(metricsSnapshots);
      expect(snapshots.length).toBeGreaterThan(published.length);
      expect(snapshots.every((row) => row.raw.demo === true)).toBe(true);
    });

    it('fills the reports page, marked as demo data, and the reports API', async () => {
      const humas = people!.find((p) => p.role === 'reviewer')!;
      const session = await signIn(t.app, humas.email, humas.password);
      const page = await t.app.inject({ url: '/reports?period=last-3-months', headers: session.cookie });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(msg.reports.demo);
      expect(page.body).toContain('Kantor Malang');
      const to = new Date();
      const from = new Date(to.getTime() - 40 * 86_400_000);
      const api = await t.app.inject({
        url: `/api/v1/reports/units?from=${from.toISOString()}&to=${to.toISOString()}&group=office`,
        headers: session.cookie,
      });
      expect(api.statusCode, api.body).toBe(200);
      const report = api.json();
      expect(report.demo).toBe(true);
      expect(report.totals.deliveries.published).toBeGreaterThan(20);
      expect(report.totals.reach.latest.impressions).toBeGreaterThan(0);
    });

    it('fills the calendar and the press room, which says its figures are demo data', async () => {
      const humas = people!.find((p) => p.role === 'reviewer')!;
      const session = await signIn(t.app, humas.email, humas.password);
      const [latest] = await t.ctx.db
        .select({ postId: deliveries.postId, at: deliveries.publishedAt })
        .from(deliveries)
        .where(eq(deliveries.status, 'published'))
        .orderBy(desc(deliveries.publishedAt))
        .limit(1);
      const day = new Date(latest!.at!.getTime() + 7 * 3_600_000).toISOString().slice(0, 10);
      const calendar = await t.app.inject({
        url: `/calendar?view=week&date=${day}`,
        headers: session.cookie,
      });
      expect(calendar.statusCode).toBe(200);
      expect(calendar.body).toContain(latest!.postId);
      const press = await t.app.inject({ url: '/press' });
      expect(press.statusCode).toBe(200);
      expect(press.body).toContain(msg.press.demo);
      expect([...press.body.matchAll(/id="post-/g)].length).toBeGreaterThan(10);
      expect(press.body).toContain(msg.press.retracted);
      const office = await t.app.inject({ url: '/press/kantor-malang' });
      expect(office.body).toContain('Kantor Malang');
      expect(office.body).not.toContain('Kantor Makassar</strong>');
    });
  });
});
