import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client';
import { inboxCountsSql, inboxPageSql } from '../../src/services/reviews/inbox';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, type TestOrg, type TestUser, type UnitKey } from '../helpers/org';
import { createPostVia } from '../helpers/posts';

interface InboxItem {
  id: string;
  unit: { id: string; name: string };
  submittedAt: string;
  ageSeconds: number;
}

describe.each(testDrivers())('reviewer inbox on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let clock = new Date('2030-05-01T01:00:00.000Z');
  const submitted: { id: string; unit: UnitKey; at: string }[] = [];

  const inbox = async (user: TestUser, query = '') => {
    const response = await t.app.inject({ url: `/api/v1/reviews${query}`, headers: user.headers });
    return { status: response.statusCode, body: response.json() };
  };

  beforeAll(async () => {
    t = await createTestApp(driver, { now: () => clock });
    org = await seedTestOrg(t.ctx);
    const plan: [UnitKey, string, string?][] = [
      ['officeB1', 'Pemeriksaan dokumen perjalanan di pelabuhan', 'https://www.instagram.com/p/C7xYz12AbCd/'],
      [
        'officeA1',
        'Layanan paspor di Mal Pelayanan Publik',
        'https://x.com/kanim_a1/status/1790000000000000001',
      ],
      ['officeA2', 'Pengawasan orang asing bersama kepolisian'],
      ['officeA1', 'Sosialisasi paspor untuk pelajar', 'https://www.instagram.com/p/C8aBc34DeFg/'],
      ['officeB2', 'Layanan izin tinggal di Jayapura'],
    ];
    for (const [unit, body, sourceUrl] of plan) {
      clock = new Date(clock.getTime() + 60_000);
      const post = await createPostVia(t.app, org.user(unit, 'contributor'), {
        body,
        ...(sourceUrl ? { sourceUrl } : {}),
      });
      submitted.push({ id: post.id, unit, at: clock.toISOString() });
    }
    // Neither a draft nor a decided post is waiting.
    await createPostVia(
      t.app,
      org.user('officeA1', 'contributor'),
      { body: 'Draf paspor' },
      { submit: false },
    );
    const decided = await createPostVia(t.app, org.user('officeA2', 'contributor'), {
      body: 'Paspor ditolak',
    });
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${decided.id}/reject`,
      headers: org.user('national', 'reviewer').headers,
      payload: { version: decided.version, reason: 'Duplikat' },
    });
    clock = new Date(clock.getTime() + 3_600_000);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('shows a national reviewer every submitted post, oldest first, with counts and ages per unit', async () => {
    const { status, body } = await inbox(org.user('national', 'reviewer'));
    expect(status).toBe(200);
    expect(body.items.map((item: InboxItem) => item.id)).toEqual(submitted.map((s) => s.id));
    expect(body.total).toBe(5);
    expect(body.items[0]).toMatchObject({ submittedAt: submitted[0]!.at, ageSeconds: 3_600 + 4 * 60 });
    expect(body.units.map((u: { unit: { name: string }; count: number }) => [u.unit.name, u.count])).toEqual([
      ['Kantor B1', 1],
      ['Kantor A1', 2],
      ['Kantor A2', 1],
      ['Kantor B2', 1],
    ]);
    expect(body.units[1]).toMatchObject({
      oldestArrivedAt: submitted[1]!.at,
      oldestAgeSeconds: 3_600 + 3 * 60,
    });
  });

  it('limits a regional reviewer to the region, and filters by unit and words', async () => {
    const regional = await inbox(org.user('regionA', 'reviewer'));
    expect(regional.body.items.map((item: InboxItem) => item.id)).toEqual(
      submitted.filter((s) => s.unit.startsWith('officeA')).map((s) => s.id),
    );
    expect(regional.body.total).toBe(3);

    const national = org.user('national', 'reviewer');
    const regionB = await inbox(national, `?unit=${org.units.regionB.id}`);
    expect(regionB.body.items.map((item: InboxItem) => item.unit.name)).toEqual(['Kantor B1', 'Kantor B2']);
    const words = await inbox(national, `?q=${encodeURIComponent('paspor')}`);
    expect(words.body.items.map((item: InboxItem) => item.id)).toEqual([submitted[1]!.id, submitted[3]!.id]);
    expect(words.body.total).toBe(2);
    const both = await inbox(org.user('regionA', 'reviewer'), `?unit=${org.units.officeA2.id}&q=orang`);
    expect(both.body.items.map((item: InboxItem) => item.id)).toEqual([submitted[2]!.id]);
  });

  it('filters by the platform of the office’s original post, counts included', async () => {
    const national = org.user('national', 'reviewer');
    const instagram = await inbox(national, '?platform=instagram');
    expect(instagram.body.items.map((item: InboxItem) => item.id)).toEqual([
      submitted[0]!.id,
      submitted[3]!.id,
    ]);
    expect(instagram.body.total).toBe(2);
    expect(instagram.body.units.map((u: { count: number }) => u.count)).toEqual([1, 1]);
    const x = await inbox(org.user('regionA', 'reviewer'), '?platform=x&q=paspor');
    expect(x.body.items.map((item: InboxItem) => item.id)).toEqual([submitted[1]!.id]);
    expect((await inbox(national, '?platform=myspace')).status).toBe(400);
  });

  it('refuses contributors and units outside the reviewer’s subtree', async () => {
    expect((await inbox(org.user('officeA1', 'contributor'))).status).toBe(403);
    expect((await inbox(org.user('regionA', 'reviewer'), `?unit=${org.units.regionB.id}`)).status).toBe(404);
    expect((await inbox(org.user('regionA', 'reviewer'), `?unit=${org.units.national.id}`)).status).toBe(404);
  });

  it('pages with a cursor', async () => {
    const national = org.user('national', 'reviewer');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: InboxItem[]; nextCursor: string | null } } = await inbox(
        national,
        `?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((item) => item.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(submitted.map((s) => s.id));
  });

  it('answers the page and the counts from the partial indexes of the waiting level rows', async () => {
    const scope = { levelId: org.units.national.id, limit: 50 };
    for (const [query, index] of [
      [inboxPageSql(scope), 'post_levels_inbox_idx'],
      [inboxCountsSql(scope), 'post_levels_inbox_origin_idx'],
    ] as const) {
      const plan = await t.ctx.db.transaction(async (tx) => {
        // A test database is tiny, so the planner would rightly scan the table; take that choice away.
        await tx.execute(sql`set local enable_seqscan = off`);
        return queryRows<{ 'QUERY PLAN': string }>(tx, sql`explain ${query}`);
      });
      expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toContain(index);
    }
  });
});
