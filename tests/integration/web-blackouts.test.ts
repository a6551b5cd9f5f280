import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blackouts, deliveries } from '../../src/db/schema';
import { advanceDelivery } from '../../src/services/publishing';
import { id as msg } from '../../src/web/i18n/id';
import { toLocalInput } from '../../src/web/time';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { insertDeliveries, setChannelCredentials } from '../helpers/engine';
import { createLedgerAdapter, type LedgerServer, startLedgerServer } from '../helpers/ledger-platform';
import { seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { createPostVia, insertChannel } from '../helpers/posts';
import { signIn, submitForm, type TestSession } from '../helpers/session';

/**
 * Blackouts in the web app: who reaches the admin page and its forms (admins; the emergency stop
 * national admins only); a blackout saved from the form puts a banner on every page of the people
 * it covers and no one else's, shades the calendar and is named on the approve screen; the
 * emergency stop holds a due delivery at once and is lifted from the same page; a form without a
 * reason is refused and stores nothing.
 */

const ZONE = 'Asia/Jakarta';

describe.each(testDrivers())('blackouts in the web app on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let ledger: LedgerServer;
  let regionChannel = '';
  const sessions = new Map<string, TestSession>();

  beforeAll(async () => {
    ledger = await startLedgerServer({ dedupe: true });
    const adapters = [
      createLedgerAdapter({ platform: 'bluesky', baseUrl: ledger.fake.url, reconcile: 'idempotent' }),
    ];
    t = await createTestApp(driver, { adapters: () => adapters });
    org = await seedTestOrg(t.ctx);
    regionChannel = await insertChannel(t.ctx, org.units.regionA, 'bluesky', { name: 'Bluesky Kanwil A' });
    await setChannelCredentials(t.ctx.db, t.ctx.keys, regionChannel, { token: 'ledger-token' });
  });
  afterAll(async () => {
    await t?.close();
    await ledger?.fake.stop();
  });

  const session = async (unit: Parameters<TestOrg['user']>[0], role: Parameters<TestOrg['user']>[1]) => {
    const key = `${unit}.${role}`;
    if (!sessions.has(key)) sessions.set(key, await signIn(t.app, org.user(unit, role).email, TEST_PASSWORD));
    return sessions.get(key)!;
  };
  const page = async (who: TestSession, url: string) => {
    const response = await t.app.inject({ method: 'GET', url, headers: who.cookie });
    return { status: response.statusCode, html: response.body };
  };
  const banner = (reason: string) => msg.layout.blackoutBanner(reason, null).split('.')[0]!;

  it('lets admins in, and offers the emergency stop to national admins only', async () => {
    for (const [unit, role, status] of [
      ['officeA1', 'contributor', 403],
      ['regionA', 'reviewer', 403],
      ['national', 'reviewer', 403],
      ['regionA', 'admin', 200],
      ['national', 'admin', 200],
    ] as const)
      expect((await page(await session(unit, role), '/admin/blackouts')).status, `${unit} ${role}`).toBe(
        status,
      );
    expect((await page(await session('national', 'admin'), '/admin/blackouts')).html).toContain(
      msg.blackouts.emergencyButton,
    );
    expect((await page(await session('regionA', 'admin'), '/admin/blackouts')).html).not.toContain(
      msg.blackouts.emergencyButton,
    );
    const regional = await submitForm(t.app, await session('regionA', 'admin'), '/admin/blackouts/stop', {
      reason: 'Bukan wewenang kanwil',
    });
    expect(regional.statusCode).toBe(403);
    const anonymous = await t.app.inject({ method: 'GET', url: '/admin/blackouts' });
    expect([302, 303, 401]).toContain(anonymous.statusCode);
    expect(await t.ctx.db.select().from(blackouts)).toHaveLength(0);
  });

  it('refuses a blackout without a reason, or over a unit outside the admin’s subtree, and stores nothing', async () => {
    const admin = await session('regionA', 'admin');
    const noReason = await submitForm(t.app, admin, '/admin/blackouts', {
      unitId: org.units.regionA.id,
      startsAt: toLocalInput(new Date(), ZONE),
      reason: '  ',
      onEnd: 'hold',
    });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.body).toContain('aria-invalid');
    const elsewhere = await submitForm(t.app, admin, '/admin/blackouts', {
      unitId: org.units.regionB.id,
      startsAt: toLocalInput(new Date(), ZONE),
      reason: 'Masa tenang',
      onEnd: 'hold',
    });
    expect(elsewhere.statusCode).toBe(404);
    expect(await t.ctx.db.select().from(blackouts)).toHaveLength(0);
  });

  it('puts a banner on the pages of the people it covers, shades the calendar and warns on the approve screen', async () => {
    const reason = 'Masa tenang pilkada <Kalbar>';
    const start = new Date(Date.now() - 60_000);
    const end = new Date(Date.now() + 3 * 86_400_000);
    const saved = await submitForm(t.app, await session('regionA', 'admin'), '/admin/blackouts', {
      unitId: org.units.regionA.id,
      startsAt: toLocalInput(start, ZONE),
      endsAt: toLocalInput(end, ZONE),
      reason,
      onEnd: 'reschedule',
    });
    expect(saved.statusCode, saved.body).toBe(303);
    expect(saved.headers.location).toBe('/admin/blackouts?ok=blackoutCreated');

    const covered = await page(await session('officeA1', 'contributor'), '/posts');
    // Escaped: preact writes < as &lt; in text.
    expect(covered.html).toContain(banner('Masa tenang pilkada &lt;Kalbar>'));
    expect(covered.html).not.toContain('<Kalbar>');
    const elsewhere = await page(await session('officeB1', 'contributor'), '/posts');
    expect(elsewhere.html).not.toContain('Masa tenang pilkada');

    const calendar = await page(await session('regionA', 'reviewer'), '/calendar?view=week');
    expect(calendar.html).toMatch(/<td[^>]*class="blackout"/);
    expect(calendar.html).toContain(msg.calendar.blackout('Masa tenang pilkada &lt;Kalbar>'));

    const post = await createPostVia(t.app, org.user('officeA1', 'contributor'), {
      body: 'Layanan paspor simpatik di kantor imigrasi.',
    });
    const review = await page(await session('regionA', 'reviewer'), `/review/${post.id}`);
    expect(review.status).toBe(200);
    expect(review.html).toMatch(
      /Masa henti (&quot;|")Masa tenang pilkada &lt;Kalbar>(&quot;|") berlaku di kanal ini/,
    );

    const [row] = await t.ctx.db.select().from(blackouts);
    const ended = await submitForm(
      t.app,
      await session('regionA', 'admin'),
      `/admin/blackouts/${row!.id}/end`,
      {},
    );
    expect(ended.statusCode).toBe(303);
    expect((await page(await session('officeA1', 'contributor'), '/posts')).html).not.toContain(
      'Masa tenang pilkada',
    );
  });

  it('stops all publishing with one button: a due delivery is held at once, and the stop is lifted from the same page', async () => {
    const [due] = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: org.user('officeA1', 'contributor').id,
      targets: [{ channelId: regionChannel, dueAt: new Date(Date.now() - 1_000) }],
    });
    const admin = await session('national', 'admin');
    const stopped = await submitForm(t.app, admin, '/admin/blackouts/stop', {
      reason: 'Insiden keamanan akun',
    });
    expect(stopped.statusCode, stopped.body).toBe(303);
    expect(stopped.headers.location).toBe('/admin/blackouts?ok=publishingStopped');

    const posted = ledger.posts.length;
    await advanceDelivery(t.ctx, due!);
    const [held] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, due!));
    expect(held!.status).toBe('scheduled');
    expect(ledger.posts.length).toBe(posted);

    for (const [unit, role] of [
      ['officeB2', 'contributor'],
      ['regionA', 'reviewer'],
    ] as const)
      expect((await page(await session(unit, role), '/notifications')).html).toContain(
        banner('Insiden keamanan akun'),
      );
    const adminPage = await page(admin, '/admin/blackouts');
    expect(adminPage.html).toContain(msg.blackouts.emergencyActive);
    expect(adminPage.html).not.toContain('action="/admin/blackouts/stop"');

    const [stop] = await t.ctx.db
      .select()
      .from(blackouts)
      .where(eq(blackouts.reason, 'Insiden keamanan akun'));
    expect(stop).toMatchObject({ endsAt: null, channelIds: null, unitId: org.units.national.id });
    const lifted = await submitForm(t.app, admin, `/admin/blackouts/${stop!.id}/end`, {});
    expect(lifted.statusCode).toBe(303);
    const after = await page(admin, '/admin/blackouts?ok=blackoutEnded');
    expect(after.html).toContain('action="/admin/blackouts/stop"');
    expect(after.html).not.toContain(banner('Insiden keamanan akun'));
  });
});
