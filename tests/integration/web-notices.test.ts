import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postLevels } from '../../src/db/schema';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, TEST_PASSWORD, type TestOrg, type TestUser } from '../helpers/org';
import { createPostVia } from '../helpers/posts';
import { signIn, type TestSession } from '../helpers/session';

describe.each(testDrivers())('notice settings and the working calendar in the web app on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;

  /** Posts a form as a browser does, repeated fields (checkboxes) included. */
  const post = (session: TestSession, url: string, fields: [string, string][]) =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { cookie: session.cookie.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams([['_csrf', session.csrfToken], ...fields]).toString(),
    });
  const sessionOf = (user: TestUser) => signIn(t.app, user.email, TEST_PASSWORD);
  const settingsOf = async (user: TestUser) =>
    (
      await t.app.inject({ method: 'GET', url: '/api/v1/notifications/settings', headers: user.headers })
    ).json();

  beforeAll(async () => {
    t = await createTestApp(driver);
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lets each person choose their e-mails in /account', async () => {
    const reviewer = org.user('regionA', 'reviewer');
    const session = await sessionOf(reviewer);
    const page = await t.app.inject({
      method: 'GET',
      url: '/account',
      headers: { cookie: session.cookie.cookie },
    });
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/name="topics" value="arrivals" checked/);
    expect(page.body).toContain('name="dailyDigest"');

    const saved = await post(session, '/account/notifications', [
      ['topics', 'decisions'],
      ['topics', 'overdue'],
      ['dailyDigest', 'on'],
    ]);
    expect(saved.statusCode).toBe(303);
    expect(await settingsOf(reviewer)).toEqual({
      emailOptOuts: ['arrivals', 'deliveries'],
      dailyDigest: true,
      weeklyDigest: false,
    });

    // A contributor is offered the topics about their office's own posts only; the others stay as they were.
    const contributor = org.user('officeA1', 'contributor');
    const own = await sessionOf(contributor);
    const offered = await t.app.inject({
      method: 'GET',
      url: '/account',
      headers: { cookie: own.cookie.cookie },
    });
    expect(offered.body).not.toContain('value="arrivals"');
    expect(offered.body).not.toContain('name="dailyDigest"');
    expect((await post(own, '/account/notifications', [['topics', 'decisions']])).statusCode).toBe(303);
    expect(await settingsOf(contributor)).toEqual({
      emailOptOuts: ['deliveries'],
      dailyDigest: false,
      weeklyDigest: true,
    });
    const bad = await post(own, '/account/notifications', [['topics', 'everything']]);
    expect(bad.statusCode).toBe(400);
    expect(await settingsOf(contributor)).toMatchObject({ emailOptOuts: ['deliveries'] });
  });

  it('keeps the holiday list for the national admins, escaped on the page', async () => {
    const admin = await sessionOf(org.user('national', 'admin'));
    const added = await post(admin, '/admin/working-time/holidays', [
      ['date', '2027-03-10'],
      ['name', 'Nyepi <script>'],
      ['kind', 'public_holiday'],
    ]);
    expect(added.statusCode).toBe(303);
    const page = await t.app.inject({
      method: 'GET',
      url: '/admin/working-time?year=2027',
      headers: { cookie: admin.cookie.cookie },
    });
    expect(page.body).toContain('Nyepi &lt;script>');
    expect(page.body).not.toContain('Nyepi <script>');
    const twice = await post(admin, '/admin/working-time/holidays', [
      ['date', '2027-03-10'],
      ['name', 'Lagi'],
      ['kind', 'public_holiday'],
    ]);
    expect(twice.statusCode).toBe(409);

    const regional = await sessionOf(org.user('regionA', 'admin'));
    const refused = await post(regional, '/admin/working-time/holidays', [
      ['date', '2027-03-11'],
      ['name', 'Bukan wewenang'],
      ['kind', 'public_holiday'],
    ]);
    expect(refused.statusCode).toBe(403);
    const listed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/holidays?year=2027',
      headers: org.user('regionA', 'admin').headers,
    });
    expect(listed.json().items.map((day: { name: string }) => day.name)).toEqual(['Nyepi <script>']);
  });

  it('sets a unit’s working hours for its admins, and refuses a day that ends before it starts', async () => {
    const admin = await sessionOf(org.user('regionA', 'admin'));
    const url = `/admin/working-time/units/${org.units.regionA.id}`;
    const saved = await post(admin, url, [
      ...['1', '2', '3', '4', '5', '6'].map((day): [string, string] => ['days', day]),
      ['start', '07:30'],
      ['end', '16:00'],
      ['reviewWaitMinutes', '180'],
    ]);
    expect(saved.statusCode).toBe(303);
    const hours = await t.app.inject({
      method: 'GET',
      url: `/api/v1/units/${org.units.regionA.id}/working-hours`,
      headers: org.user('regionA', 'reviewer').headers,
    });
    expect(hours.json()).toEqual({
      days: [1, 2, 3, 4, 5, 6],
      start: '07:30',
      end: '16:00',
      reviewWaitMinutes: 180,
      timeZone: 'Asia/Jakarta',
    });
    const backwards = await post(admin, url, [
      ['days', '1'],
      ['start', '16:00'],
      ['end', '08:00'],
      ['reviewWaitMinutes', '180'],
    ]);
    expect(backwards.statusCode).toBe(422);
    const office = await sessionOf(org.user('officeA1', 'admin'));
    expect(
      (
        await post(office, url, [
          ['days', '1'],
          ['start', '08:00'],
          ['end', '16:00'],
          ['reviewWaitMinutes', '60'],
        ])
      ).statusCode,
    ).toBe(403);
  });

  it('marks an overdue post in the inbox', async () => {
    const submitted = await createPostVia(t.app, org.user('officeA1', 'contributor'), {
      body: 'Menunggu lama',
    });
    const reviewer = await sessionOf(org.user('regionA', 'reviewer'));
    const before = await t.app.inject({
      method: 'GET',
      url: '/inbox',
      headers: { cookie: reviewer.cookie.cookie },
    });
    expect(before.body).toContain('Menunggu lama');
    expect(before.body).not.toContain('data-overdue');
    await t.ctx.db
      .update(postLevels)
      .set({ alarmedAt: new Date() })
      .where(eq(postLevels.postId, submitted.id));
    const after = await t.app.inject({
      method: 'GET',
      url: '/inbox',
      headers: { cookie: reviewer.cookie.cookie },
    });
    expect(after.body).toContain('data-overdue');
  });
});
