import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, units } from '../../src/db/schema';
import { id as msg } from '../../src/web/i18n/id';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { createPostVia } from '../helpers/posts';
import { signIn, submitForm } from '../helpers/session';

/**
 * The review_national_direct setting screen: national admins only; off, a new submission waits in
 * the regional inbox but not the national one until forwarded; the change is audited.
 */
describe.each(testDrivers())('the review flow setting on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await createTestApp(driver);
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t?.close();
  });

  const inboxIds = async (key: 'national' | 'regionA') =>
    (
      (await t.app.inject({ url: '/api/v1/reviews', headers: org.user(key, 'reviewer').headers })).json() as {
        items: { id: string }[];
      }
    ).items.map((i) => i.id);

  it('lets a national admin stop direct national review, and nobody else', async () => {
    for (const [unit, role] of [
      ['regionA', 'admin'],
      ['national', 'reviewer'],
      ['officeA1', 'admin'],
    ] as const) {
      const session = await signIn(t.app, org.user(unit, role).email, TEST_PASSWORD);
      expect((await t.app.inject({ url: '/admin/review', headers: session.cookie })).statusCode).toBe(403);
      expect((await submitForm(t.app, session, '/admin/review', {})).statusCode).toBe(403);
    }
    const [before] = await t.ctx.db.select().from(units).where(eq(units.id, org.units.national.id));
    expect(before!.reviewNationalDirect).toBe(true);

    const admin = await signIn(t.app, org.user('national', 'admin').email, TEST_PASSWORD);
    const page = await t.app.inject({ url: '/admin/review', headers: admin.cookie });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(msg.reviewSettings.direct);
    expect(page.body).toMatch(/name="direct" value="1" checked/);
    const forged = await submitForm(t.app, admin, '/admin/review', {}, 'forged');
    expect(forged.statusCode).toBe(403);
    const saved = await submitForm(t.app, admin, '/admin/review', {});
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe('/admin/review?ok=saved');
    const [after] = await t.ctx.db.select().from(units).where(eq(units.id, org.units.national.id));
    expect(after!.reviewNationalDirect).toBe(false);
    const audited = await t.ctx.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.targetId, org.units.national.id));
    expect(audited.map((a) => a.details)).toContainEqual({
      changes: { reviewNationalDirect: { from: true, to: false } },
    });

    const post = await createPostVia(t.app, org.user('officeA1', 'contributor'), {
      body: 'Hanya untuk wilayah',
    });
    expect(await inboxIds('regionA')).toContain(post.id);
    expect(await inboxIds('national')).not.toContain(post.id);

    expect((await submitForm(t.app, admin, '/admin/review', { direct: '1' })).statusCode).toBe(303);
    const again = await createPostVia(t.app, org.user('officeA1', 'contributor'), { body: 'Untuk semua' });
    expect(await inboxIds('national')).toContain(again.id);
  });
});
