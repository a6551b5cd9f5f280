import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagesFor } from '../../src/web/i18n/index';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, TEST_PASSWORD, type TestOrg, type UnitKey } from '../helpers/org';
import { insertChannel } from '../helpers/posts';
import { insertReportedPost } from '../helpers/reports';
import { signIn, submitForm } from '../helpers/session';

/** The public transparency page: off until a national admin turns it on; internal figures only when turned on too. */

const msg = messagesFor('id');

describe.each(testDrivers())('the transparency page on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await createTestApp(driver, { now: () => new Date('2031-04-20T00:00:00Z') });
    org = await seedTestOrg(t.ctx);
    const natX = await insertChannel(t.ctx, org.units.national, 'x', { name: 'X Nasional' });
    const natTg = await insertChannel(t.ctx, org.units.national, 'telegram', { name: 'Telegram Nasional' });
    const sandbox = await insertChannel(t.ctx, org.units.national, 'sandbox', { name: 'Sandbox' });
    const a1 = org.user('officeA1', 'contributor');
    for (const [day, channels] of [
      ['2031-03-03', [natX, natTg]],
      ['2031-03-10', [natX]],
      ['2031-04-02', [natTg, sandbox]],
    ] as const)
      await insertReportedPost(t.ctx, {
        unit: org.units.officeA1,
        author: a1,
        submittedAt: new Date(`${day}T01:00:00Z`),
        decision: { after: 60, to: 'approved' },
        deliveries: channels.map((channelId) => ({ channelId, publishedAt: new Date(`${day}T05:00:00Z`) })),
      });
    await insertReportedPost(t.ctx, {
      unit: org.units.officeB1,
      author: org.user('officeB1', 'contributor'),
      submittedAt: new Date('2031-03-12T01:00:00Z'),
      decision: { after: 120, to: 'rejected' },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  const session = (unit: UnitKey, role: 'contributor' | 'reviewer' | 'admin') =>
    signIn(t.app, org.user(unit, role).email, TEST_PASSWORD);

  it('is off by default', async () => {
    expect((await t.app.inject({ url: '/transparency' })).statusCode).toBe(404);
  });

  it('lets only national admins see and change the switches', async () => {
    const anonymous = await t.app.inject({ url: '/admin/transparency' });
    expect(anonymous.statusCode).toBe(303);
    expect(anonymous.headers.location).toMatch(/^\/login/);
    for (const [unit, role] of [
      ['national', 'reviewer'],
      ['national', 'contributor'],
      ['regionA', 'admin'],
      ['officeA1', 'admin'],
    ] as const) {
      const who = await session(unit, role);
      const page = await t.app.inject({ url: '/admin/transparency', headers: who.cookie });
      expect(page.statusCode, `${unit} ${role}`).toBe(403);
      const post = await submitForm(t.app, who, '/admin/transparency', { page: 'on', internal: 'on' });
      expect(post.statusCode, `${unit} ${role}`).toBe(403);
    }
    const admin = await session('national', 'admin');
    expect(
      (await submitForm(t.app, admin, '/admin/transparency', { page: 'on' }, 'wrong-token')).statusCode,
    ).toBe(403);
    expect((await t.app.inject({ url: '/transparency' })).statusCode).toBe(404);
    const page = await t.app.inject({ url: '/admin/transparency', headers: admin.cookie });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(msg.transparency.pageSetting);
  });

  it('shows per office and month what went out and where, without internal figures', async () => {
    const admin = await session('national', 'admin');
    const saved = await submitForm(t.app, admin, '/admin/transparency', { page: 'on' });
    expect(saved.statusCode).toBe(303);
    const page = await t.app.inject({ url: '/transparency' });
    expect(page.statusCode).toBe(200);
    const rows = [
      ...page.body.matchAll(
        /<tr><td>(\d{4}-\d{2})<\/td><th scope="row">([^<]+)<\/th>((?:<td>[^<]*<\/td>)*)<\/tr>/g,
      ),
    ].map((m) => [m[1], m[2], [...m[3]!.matchAll(/<td>([^<]*)<\/td>/g)].map((c) => c[1])]);
    // Columns: published, then Telegram and X (alphabetical by platform id); the sandbox never counts.
    expect(rows).toEqual([
      ['2031-04', 'Kantor A1', ['1', '1', '0']],
      ['2031-03', 'Kantor A1', ['2', '1', '2']],
    ]);
    expect(page.body).not.toContain(msg.transparency.medianDecision);
    expect(page.body).not.toContain('Kantor B1');
  });

  it('adds the internal figures once the organisation turns them on, and records who did', async () => {
    const admin = await session('national', 'admin');
    await submitForm(t.app, admin, '/admin/transparency', { page: 'on', internal: 'on' });
    const page = await t.app.inject({ url: '/transparency' });
    expect(page.body).toContain(msg.transparency.medianDecision);
    expect(page.body).toContain('Kantor B1');
    expect(page.body).toContain(msg.transparency.minutes(60));
    const audit = await t.app.inject({
      url: '/api/v1/audit?action=organisation.transparency_updated',
      headers: org.user('national', 'admin').headers,
    });
    expect(audit.body).toContain('transparency_updated');
    await submitForm(t.app, admin, '/admin/transparency', {});
    expect((await t.app.inject({ url: '/transparency' })).statusCode).toBe(404);
  });
});
