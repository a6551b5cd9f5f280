import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blackouts, deliveries, deliveryEvents, posts } from '../../src/db/schema';
import { settleEndedBlackouts } from '../../src/services/blackouts';
import { advanceDelivery } from '../../src/services/publishing';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, TEST_PASSWORD, type TestOrg, type TestUser, type UnitKey } from '../helpers/org';
import { createPostVia, insertChannel } from '../helpers/posts';
import { signIn } from '../helpers/session';

/**
 * Fair share of a channel's slots through the API and the engine: "next free slot" deliveries are
 * provisional and planned again at each slotted approval, the office with the fewest of the
 * channel's slots going first; a cancellation frees a slot for them; a blackout's slots are
 * neither offered nor given.
 */
describe.each(testDrivers())('fair share of slots on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  // Monday 4 March 2030, 07:00 in Jakarta: the first slot is 09:00 (02:00 UTC).
  const start = new Date('2030-03-04T00:00:00.000Z');
  let now = start;
  let humas: TestUser;

  const api = (user: TestUser, method: 'GET' | 'POST', url: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: user.headers, payload });
  const approveToNextSlot = async (office: UnitKey, channelId: string, body: string) => {
    const post = await createPostVia(t.app, org.user(office, 'contributor'), { body });
    const approved = await api(humas, 'POST', `/posts/${post.id}/approve`, {
      version: post.version,
      targets: [{ channelId, mode: 'copy', at: 'next-slot' }],
    });
    expect(approved.statusCode, approved.body).toBe(200);
    return post.id;
  };
  const deliveryOf = async (postId: string) =>
    (await t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, postId)))[0]!;

  beforeAll(async () => {
    t = await createTestApp(driver, { now: () => now });
    org = await seedTestOrg(t.ctx);
    humas = org.user('national', 'reviewer');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('publishes both quieter offices before the flooding office’s third post, and shows the shares', async () => {
    const channel = await insertChannel(t.ctx, org.units.national, 'sandbox', {
      name: '@ditjen_fair',
      slots: ['0 9,12,15,18 * * *'],
    });
    const flood: string[] = [];
    for (let i = 1; i <= 10; i++)
      flood.push(await approveToNextSlot('officeA1', channel, `Kabar A1 nomor ${i}`));
    const a2 = await approveToNextSlot('officeA2', channel, 'Kabar dari A2');
    const b1 = await approveToNextSlot('officeB1', channel, 'Kabar dari B1');

    // Every slot change went through the delivery machine: the moved deliveries have `replan` events.
    const replans = await t.ctx.db
      .select({ id: deliveryEvents.deliveryId })
      .from(deliveryEvents)
      .where(eq(deliveryEvents.reason, 'fair share: moved to 2030-03-04T11:00:00.000Z'));
    expect(replans.length).toBeGreaterThan(0);
    const slots = await t.ctx.db
      .select({ dueAt: deliveries.dueAt })
      .from(deliveries)
      .where(eq(deliveries.channelId, channel));
    expect(new Set(slots.map((s) => s.dueAt.toISOString())).size).toBe(12);

    // Run the engine through the days: each delivery is published when its slot comes.
    const published: string[] = [];
    const all = [...flood, a2, b1];
    for (let round = 0; round < 40 && published.length < all.length; round++) {
      const pending = await t.ctx.db
        .select({ id: deliveries.id, postId: deliveries.postId, dueAt: deliveries.dueAt })
        .from(deliveries)
        .where(and(eq(deliveries.channelId, channel), eq(deliveries.status, 'scheduled')))
        .orderBy(asc(deliveries.dueAt));
      const next = pending[0];
      if (!next) break;
      now = next.dueAt;
      expect(await advanceDelivery(t.ctx, next.id)).toEqual({ next: 'done', outcome: 'published' });
      published.push(next.postId);
    }
    expect(published).toHaveLength(12);
    const thirdFlood = published.indexOf(flood[2]!);
    expect(published.indexOf(a2)).toBeLessThan(thirdFlood);
    expect(published.indexOf(b1)).toBeLessThan(thirdFlood);
    expect(published.slice(0, 3)).toEqual([flood[0], a2, b1]);

    const shares = await api(humas, 'GET', `/channels/${channel}/shares`);
    expect(shares.statusCode, shares.body).toBe(200);
    expect(shares.json()).toMatchObject({ windowDays: 7 });
    const byOffice = Object.fromEntries(
      (shares.json().shares as { unit: { name: string }; used: number; booked: number }[]).map((s) => [
        s.unit.name,
        [s.used, s.booked],
      ]),
    );
    expect(byOffice).toEqual({
      [org.units.officeA1.name]: [10, 0],
      [org.units.officeA2.name]: [1, 0],
      [org.units.officeB1.name]: [1, 0],
    });

    // The channel page and the calendar show the same shares.
    const admin = await signIn(t.app, org.user('national', 'admin').email, TEST_PASSWORD);
    for (const url of [`/admin/channels/${channel}`, `/calendar?channel=${channel}`]) {
      const page = await t.app.inject({ url, headers: admin.cookie });
      expect(page.statusCode, url).toBe(200);
      const used = (unitId: string) =>
        page.body.match(new RegExp(`data-share="${unitId}"><td>[^<]*</td><td data-used[^>]*>(\\d+)<`))?.[1];
      expect([org.units.officeA1.id, org.units.officeA2.id, org.units.officeB1.id].map(used), url).toEqual([
        '10',
        '1',
        '1',
      ]);
    }
  });

  it('moves provisional deliveries into a cancelled slot, and never a fixed one', async () => {
    now = new Date('2030-03-11T00:00:00.000Z');
    const channel = await insertChannel(t.ctx, org.units.national, 'sandbox', {
      name: '@ditjen_freed',
      slots: ['0 9,15 * * *'],
    });
    const first = await approveToNextSlot('officeA1', channel, 'Pertama');
    const second = await approveToNextSlot('officeA2', channel, 'Kedua');
    const fixedPost = await createPostVia(t.app, org.user('officeB1', 'contributor'), { body: 'Jam tetap' });
    const fixedAt = '2030-03-11T05:00:00.000Z';
    expect(
      (
        await api(humas, 'POST', `/posts/${fixedPost.id}/approve`, {
          version: fixedPost.version,
          targets: [{ channelId: channel, mode: 'copy', at: fixedAt }],
        })
      ).statusCode,
    ).toBe(200);
    expect((await deliveryOf(second)).dueAt.toISOString()).toBe('2030-03-11T08:00:00.000Z');
    const cancelled = await api(humas, 'POST', `/deliveries/${(await deliveryOf(first)).id}/cancel`);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect((await deliveryOf(second)).dueAt.toISOString()).toBe('2030-03-11T02:00:00.000Z');
    expect((await deliveryOf(fixedPost.id)).dueAt.toISOString()).toBe(fixedAt);
  });

  it('moves provisional deliveries into a slot a retraction cancelled', async () => {
    now = new Date('2030-04-01T00:00:00.000Z');
    const channel = await insertChannel(t.ctx, org.units.national, 'sandbox', {
      name: '@ditjen_retracted',
      slots: ['0 9,15 * * *'],
    });
    const first = await approveToNextSlot('officeA1', channel, 'Akan ditarik');
    const second = await approveToNextSlot('officeA2', channel, 'Menunggu slot');
    expect((await deliveryOf(first)).dueAt.toISOString()).toBe('2030-04-01T02:00:00.000Z');
    expect((await deliveryOf(second)).dueAt.toISOString()).toBe('2030-04-01T08:00:00.000Z');
    const [post] = await t.ctx.db.select().from(posts).where(eq(posts.id, first));
    const retracted = await api(humas, 'POST', `/posts/${first}/retract`, {
      version: post!.version,
      reason: 'Jadwal keliru',
    });
    expect(retracted.statusCode, retracted.body).toBe(200);
    expect((await deliveryOf(first)).status).toBe('cancelled');
    expect((await deliveryOf(second)).dueAt.toISOString()).toBe('2030-04-01T02:00:00.000Z');
    const [moved] = await t.ctx.db
      .select({ reason: deliveryEvents.reason })
      .from(deliveryEvents)
      .where(eq(deliveryEvents.deliveryId, (await deliveryOf(second)).id))
      .orderBy(desc(deliveryEvents.id))
      .limit(1);
    expect(moved?.reason).toBe('fair share: moved to 2030-04-01T02:00:00.000Z');
  });

  it('neither offers nor gives a slot inside a blackout, and plans into it once the blackout ends', async () => {
    now = new Date('2030-03-18T00:00:00.000Z');
    const channel = await insertChannel(t.ctx, org.units.national, 'sandbox', {
      name: '@ditjen_quiet',
      slots: ['0 9,15 * * *'],
    });
    const [blackout] = await t.ctx.db
      .insert(blackouts)
      .values({
        unitId: org.units.national.id,
        startsAt: new Date('2030-03-18T00:00:00.000Z'),
        endsAt: new Date('2030-03-19T00:00:00.000Z'),
        reason: 'Masa tenang',
        channelIds: [channel],
        onEnd: 'reschedule',
        createdBy: humas.id,
      })
      .returning({ id: blackouts.id });
    const free = await api(humas, 'GET', `/channels/${channel}/free-slots?to=2030-03-20T00:00:00.000Z`);
    expect(free.json().slots).toEqual(['2030-03-19T02:00:00.000Z', '2030-03-19T08:00:00.000Z']);
    const post = await approveToNextSlot('officeA1', channel, 'Setelah masa tenang');
    expect((await deliveryOf(post)).dueAt.toISOString()).toBe('2030-03-19T02:00:00.000Z');

    // Ended early: the slots of the 18th are free again and the provisional delivery moves into them.
    now = new Date('2030-03-18T04:00:00.000Z');
    await t.ctx.db.update(blackouts).set({ endsAt: now }).where(eq(blackouts.id, blackout!.id));
    await settleEndedBlackouts(t.ctx);
    expect((await deliveryOf(post)).dueAt.toISOString()).toBe('2030-03-18T08:00:00.000Z');
    const moved = await t.ctx.db
      .select({ toStatus: deliveryEvents.toStatus })
      .from(deliveryEvents)
      .innerJoin(deliveries, eq(deliveries.id, deliveryEvents.deliveryId))
      .where(inArray(deliveries.postId, [post]));
    expect(moved.map((e) => e.toStatus)).toEqual(['scheduled', 'scheduled']);
    expect((await t.ctx.db.select().from(posts).where(eq(posts.id, post)))[0]!.status).toBe('approved');
  });
});
