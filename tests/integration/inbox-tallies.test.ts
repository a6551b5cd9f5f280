import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client';
import { posts } from '../../src/db/schema';
import { inboxCountsSql } from '../../src/services/reviews/inbox';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, type TestOrg, type TestUser, type UnitKey } from '../helpers/org';
import { createPostVia, insertChannel } from '../helpers/posts';

/**
 * The inbox's per-office counts read inbox_tallies, which a trigger on post_levels keeps: after
 * submissions, approvals, passes, forwards, changes requested, withdrawals and deletions they equal
 * the waiting rows counted one by one, for every level, with and without an office scope.
 */
describe.each(testDrivers())('inbox tallies on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let regionalChannel: string;

  const api = (user: TestUser, url: string, payload?: object) =>
    t.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: user.headers, payload });
  const submit = (office: UnitKey, body: string) =>
    createPostVia(t.app, org.user(office, 'contributor'), { body });

  const counts = async (levelId: string, scopePath?: string, countRows = false) =>
    (
      await queryRows<{ unit_id: string; count: number; oldest: Date | string }>(
        t.ctx.db,
        inboxCountsSql({ levelId, scopePath }, { countRows }),
      )
    )
      .map((row) => [row.unit_id, Number(row.count), new Date(row.oldest).toISOString()])
      .sort();

  beforeAll(async () => {
    t = await createTestApp(driver);
    org = await seedTestOrg(t.ctx);
    regionalChannel = await insertChannel(t.ctx, org.units.regionA, 'sandbox', { name: '@kanwil_a_tally' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('match the waiting rows counted one by one after every kind of decision', async () => {
    const regional = org.user('regionA', 'reviewer');
    const national = org.user('national', 'reviewer');
    const made = [];
    for (const office of ['officeA1', 'officeA1', 'officeA2', 'officeB1', 'officeB2', 'officeA1'] as const)
      made.push(await submit(office, `Kabar ${office} ${made.length}`));
    const [approved, passed, forwarded, sentBack, withdrawn, deleted] = made;
    expect(
      (
        await api(regional, `/posts/${approved!.id}/approve`, {
          version: approved!.version,
          targets: [{ channelId: regionalChannel, at: 'now' }],
        })
      ).statusCode,
    ).toBe(200);
    expect((await api(regional, `/posts/${passed!.id}/pass`, { version: passed!.version })).statusCode).toBe(
      200,
    );
    expect(
      (await api(regional, `/posts/${forwarded!.id}/forward`, { version: forwarded!.version, note: 'bagus' }))
        .statusCode,
    ).toBe(200);
    expect(
      (
        await api(national, `/posts/${sentBack!.id}/request-changes`, {
          version: sentBack!.version,
          comment: 'Tambahkan foto',
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await api(org.user('officeB2', 'contributor'), `/posts/${withdrawn!.id}/withdraw`, {
          version: withdrawn!.version,
        })
      ).statusCode,
    ).toBe(200);
    await t.ctx.db.delete(posts).where(eq(posts.id, deleted!.id));

    for (const level of [org.units.national, org.units.regionA, org.units.regionB]) {
      const tallied = await counts(level.id);
      expect(tallied).toEqual(await counts(level.id, undefined, true));
      expect(await counts(level.id, org.units.officeA1.path)).toEqual(
        await counts(level.id, org.units.officeA1.path, true),
      );
    }
    // Not vacuous: the national inbox still holds A1's approved and passed posts and A2's forwarded one.
    const byOffice = new Map((await counts(org.units.national.id)).map((row) => [row[0], row[1]]));
    expect(byOffice.get(org.units.officeA1.id)).toBe(2);
    expect(byOffice.get(org.units.officeA2.id)).toBe(1);
    expect(byOffice.size).toBe(2);
  });
});
