import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries, postEvents, postLevels } from '../../src/db/schema';
import { id as msg } from '../../src/web/i18n/id';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, TEST_PASSWORD, type TestOrg, type TestUser, type UnitKey } from '../helpers/org';
import { createPostVia, insertChannel } from '../helpers/posts';
import { signIn } from '../helpers/session';

/**
 * Bulk decisions: several posts decided together through the API and the inbox form, each with its
 * own version check, slot and timeline event; a refusal of one leaves the others decided.
 */
describe.each(testDrivers())('bulk decisions on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  const clock = new Date('2030-03-04T00:00:00.000Z');
  let slotted: string;
  let humas: TestUser;

  const bulk = (user: TestUser, payload: object) =>
    t.app.inject({ method: 'POST', url: '/api/v1/reviews/bulk', headers: user.headers, payload });
  const submit = (office: UnitKey, body: string) =>
    createPostVia(t.app, org.user(office, 'contributor'), { body });

  beforeAll(async () => {
    t = await createTestApp(driver, { now: () => clock });
    org = await seedTestOrg(t.ctx);
    humas = org.user('national', 'reviewer');
    slotted = await insertChannel(t.ctx, org.units.national, 'sandbox', {
      name: '@ditjen_bulk',
      slots: ['0 9,15 * * *'],
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('approves several posts to the same channel, each at its own fair slot; a stale version is refused alone', async () => {
    const a1 = await submit('officeA1', 'Kabar pertama A1');
    const a1b = await submit('officeA1', 'Kabar kedua A1');
    const b1 = await submit('officeB1', 'Kabar B1');
    const stale = await submit('officeA2', 'Kabar A2');
    const response = await bulk(humas, {
      action: 'approve',
      posts: [
        { id: a1.id, version: a1.version },
        { id: a1b.id, version: a1b.version },
        { id: stale.id, version: stale.version - 1 },
        { id: b1.id, version: b1.version },
      ],
      targets: [{ channelId: slotted, at: 'next-slot' }],
      note: 'Disetujui bersama',
    });
    expect(response.statusCode, response.body).toBe(207);
    const results = response.json().results as {
      id: string;
      status: number;
      code?: string;
      postStatus?: string;
    }[];
    expect(results.map((r) => [r.id, r.status])).toEqual([
      [a1.id, 200],
      [a1b.id, 200],
      [stale.id, 409],
      [b1.id, 200],
    ]);
    expect(results[2]).toMatchObject({ code: 'stale_version' });
    expect(results[0]).toMatchObject({ postStatus: 'approved' });

    const rows = await t.ctx.db
      .select()
      .from(deliveries)
      .where(inArray(deliveries.postId, [a1.id, a1b.id, b1.id, stale.id]));
    const at = new Map(rows.map((d) => [d.postId, d.dueAt.toISOString()]));
    expect(at.has(stale.id)).toBe(false);
    // Fair share: office B1 gets the second slot, ahead of A1's second post.
    expect([at.get(a1.id), at.get(b1.id), at.get(a1b.id)]).toEqual([
      '2030-03-04T02:00:00.000Z',
      '2030-03-04T08:00:00.000Z',
      '2030-03-05T02:00:00.000Z',
    ]);
    // One approval event per post, with its level and the note.
    const approvals = await t.ctx.db
      .select()
      .from(postEvents)
      .where(inArray(postEvents.postId, [a1.id, a1b.id, b1.id, stale.id]));
    const approvedEvents = approvals.filter((e) => e.toStatus === 'approved');
    expect(approvedEvents.map((e) => e.postId).sort()).toEqual([a1.id, a1b.id, b1.id].sort());
    expect(approvedEvents.every((e) => e.body === 'Disetujui bersama')).toBe(true);
  });

  it('passes and forwards in bulk at the reviewer’s own level only; posts they may not see are refused', async () => {
    const first = await submit('officeA1', 'Diteruskan 1');
    const second = await submit('officeA2', 'Diteruskan 2');
    const elsewhere = await submit('officeB1', 'Wilayah lain');
    const regional = org.user('regionA', 'reviewer');
    const forwarded = await bulk(regional, {
      action: 'forward',
      posts: [first, second, elsewhere].map((p) => ({ id: p.id, version: p.version })),
      note: 'bagus untuk nasional',
    });
    expect(forwarded.statusCode).toBe(207);
    expect(forwarded.json().results.map((r: { status: number }) => r.status)).toEqual([200, 200, 404]);
    const levels = await t.ctx.db
      .select()
      .from(postLevels)
      .where(inArray(postLevels.postId, [first.id, second.id]));
    const regionRows = levels.filter((l) => l.unitId === org.units.regionA.id);
    expect(regionRows.map((l) => l.forwardNote)).toEqual(['bagus untuk nasional', 'bagus untuk nasional']);

    const passed = await bulk(humas, {
      action: 'pass',
      posts: [
        { id: first.id, version: forwarded.json().results[0].version },
        { id: second.id, version: forwarded.json().results[1].version },
      ],
    });
    expect(passed.statusCode, passed.body).toBe(200);
    const national = (
      await t.ctx.db.select().from(postLevels).where(eq(postLevels.unitId, org.units.national.id))
    ).filter((l) => l.postId === first.id || l.postId === second.id);
    expect(national.map((l) => l.decision)).toEqual(['passed', 'passed']);
  });

  it('refuses bad input with the field and stores nothing; contributors may not call it', async () => {
    const post = await submit('officeA1', 'Tanpa kanal');
    const noTargets = await bulk(humas, {
      action: 'approve',
      posts: [{ id: post.id, version: post.version }],
    });
    expect(noTargets.statusCode).toBe(400);
    expect(noTargets.json().errors).toEqual([expect.objectContaining({ field: 'targets' })]);
    const twice = await bulk(humas, {
      action: 'pass',
      posts: [
        { id: post.id, version: post.version },
        { id: post.id, version: post.version },
      ],
    });
    expect(twice.statusCode).toBe(400);
    expect(twice.json().errors).toEqual([expect.objectContaining({ field: 'posts' })]);
    const contributor = await bulk(org.user('national', 'contributor'), {
      action: 'pass',
      posts: [{ id: post.id, version: post.version }],
    });
    expect(contributor.statusCode).toBe(403);
    const levels = await t.ctx.db.select().from(postLevels).where(eq(postLevels.postId, post.id));
    expect(levels.every((l) => l.decision === null)).toBe(true);
  });

  it('decides the posts selected in the inbox form, without JavaScript', async () => {
    const session = await signIn(t.app, humas.email, TEST_PASSWORD);
    const one = await submit('officeA2', 'Dipilih di kotak masuk 1');
    const two = await submit('officeB2', 'Dipilih di kotak masuk 2');
    const inbox = await t.app.inject({ url: '/inbox', headers: session.cookie });
    expect(inbox.statusCode).toBe(200);
    expect(inbox.body).toContain('action="/inbox/bulk"');
    expect(inbox.body).toContain(`value="${one.id}:${one.version}"`);
    expect(inbox.body).toContain(`name="channel" value="${slotted}"`);

    const send = (pairs: [string, string][], csrf = session.csrfToken) =>
      t.app.inject({
        method: 'POST',
        url: '/inbox/bulk',
        headers: { cookie: session.cookie.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams([['_csrf', csrf], ...pairs]).toString(),
      });
    const nothing = await send([['action', 'approve']]);
    expect(nothing.statusCode).toBe(400);
    expect(nothing.body).toContain(msg.inbox.bulkSelect);
    const forged = await send(
      [
        ['action', 'pass'],
        ['post', `${one.id}:${one.version}`],
      ],
      'forged',
    );
    expect(forged.statusCode).toBe(403);

    const decided = await send([
      ['action', 'approve'],
      ['post', `${one.id}:${one.version}`],
      ['post', `${two.id}:${two.version + 5}`],
      ['channel', slotted],
      ['at', 'slot'],
    ]);
    expect(decided.statusCode).toBe(200);
    expect(decided.body).toContain(msg.inbox.bulkDone(1));
    expect(decided.body).toContain(msg.inbox.bulkRefused(1));
    expect(decided.body).toContain(`data-refused="${two.id}"`);
    const rows = await t.ctx.db
      .select()
      .from(deliveries)
      .where(inArray(deliveries.postId, [one.id, two.id]));
    expect(rows.map((d) => [d.postId, d.slotted])).toEqual([[one.id, 1]]);
  });
});
