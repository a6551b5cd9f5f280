import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blackouts, deliveries, notifications, postingSlots, posts, users } from '../../src/db/schema';
import { settleEndedBlackouts } from '../../src/services/blackouts';
import { sweep } from '../../src/services/maintenance';
import { advanceDelivery } from '../../src/services/publishing';
import { advanceRetraction } from '../../src/services/retraction';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { insertDeliveries, setChannelCredentials } from '../helpers/engine';
import { createLedgerAdapter, type LedgerServer, startLedgerServer } from '../helpers/ledger-platform';
import { seedTestOrg, type TestOrg } from '../helpers/org';
import { insertChannel } from '../helpers/posts';

/**
 * Retraction through the API and the engine (claim, delete, record; 404 is done; an unsure delete is
 * sent again), and blackouts: the claim refuses a covered channel, and an ended blackout reschedules
 * what fell due inside into free slots fairly, or holds it for a person.
 */
describe.each(testDrivers())('retraction and blackouts on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let ledger: LedgerServer;
  let channel: string;

  beforeAll(async () => {
    ledger = await startLedgerServer({ dedupe: true });
    const adapters = [
      createLedgerAdapter({ platform: 'bluesky', baseUrl: ledger.fake.url, reconcile: 'idempotent' }),
    ];
    t = await createTestApp(driver, {
      adapters: () => adapters,
      env: { GAUNG_RETRY_BASE_MS: '1000', GAUNG_RETRY_MAX_MS: '2000', GAUNG_RECONCILE_DELAY_MS: '0' },
    });
    org = await seedTestOrg(t.ctx);
    channel = await insertChannel(t.ctx, org.units.national, 'bluesky');
    await setChannelCredentials(t.ctx.db, t.ctx.keys, channel, { token: 'ledger-token' });
  });
  afterAll(async () => {
    await t?.close();
    await ledger?.fake.stop();
  });

  const author = () => org.user('officeA1', 'contributor');
  const published = async (count = 1) => {
    const ids = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: author().id,
      targets: Array.from({ length: count }, () => ({
        channelId: channel,
        dueAt: new Date(Date.now() - 1_000),
      })),
    });
    for (const id of ids) expect((await advanceDelivery(t.ctx, id)).next).toBe('done');
    return ids;
  };
  const postOf = async (deliveryId: string) => {
    const [row] = await t.ctx.db
      .select({ postId: deliveries.postId, version: posts.version, status: posts.status })
      .from(deliveries)
      .innerJoin(posts, eq(posts.id, deliveries.postId))
      .where(eq(deliveries.id, deliveryId));
    return row!;
  };
  const retract = async (deliveryId: string, who = org.user('national', 'reviewer')) => {
    const post = await postOf(deliveryId);
    return t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.postId}/retract`,
      headers: who.headers,
      payload: { version: post.version, reason: 'Jadwal layanan keliru' },
    });
  };
  const status = async (id: string) =>
    (await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, id)))[0]!;

  it('deletes a published post once, records it retracted, and the post becomes retracted with its reason', async () => {
    const [id] = await published();
    const response = await retract(id!);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().deliveries).toMatchObject([{ deliveryId: id, plan: 'retract' }]);
    expect((await status(id!)).status).toBe('retracting');
    expect(await advanceRetraction(t.ctx, id!)).toEqual({ next: 'done', outcome: 'retracted' });
    const row = await status(id!);
    expect(row).toMatchObject({ status: 'retracted', retractionReason: 'Jadwal layanan keliru' });
    expect(row.retractedAt).not.toBeNull();
    expect(ledger.deleted.filter((post) => post.ref === id)).toHaveLength(1);
    const post = await postOf(id!);
    expect(post.status).toBe('retracted');
    const view = await t.app.inject({
      method: 'GET',
      url: `/api/v1/posts/${post.postId}`,
      headers: org.user('national', 'reviewer').headers,
    });
    expect(view.json()).toMatchObject({ status: 'retracted', retractionReason: 'Jadwal layanan keliru' });
    // A publish retry would put the post back: refused.
    const retry = await t.app.inject({
      method: 'POST',
      url: `/api/v1/deliveries/${id}/retry`,
      headers: org.user('national', 'reviewer').headers,
    });
    expect(retry.statusCode).toBe(409);
  });

  it('counts "already gone" as done, and sends an unsure delete again without deleting twice', async () => {
    const [gone, dropped] = await published(2);
    await retract(gone!);
    await retract(dropped!);
    ledger.posts.splice(
      ledger.posts.findIndex((post) => post.ref === gone),
      1,
    );
    expect(await advanceRetraction(t.ctx, gone!)).toEqual({ next: 'done', outcome: 'retracted' });
    ledger.fake.inject({ kind: 'drop-after' }, { match: (r) => r.method === 'DELETE' });
    const unsure = await advanceRetraction(t.ctx, dropped!);
    expect(unsure.next).toBe('wait');
    expect((await status(dropped!)).status).toBe('retracting');
    await t.ctx.db.update(deliveries).set({ dueAt: new Date() }).where(eq(deliveries.id, dropped!));
    expect(await advanceRetraction(t.ctx, dropped!)).toEqual({ next: 'done', outcome: 'retracted' });
    expect(ledger.deleted.filter((post) => post.ref === dropped)).toHaveLength(1);
  });

  it('waits out a 429 without spending an attempt, and hands a 500 that persists to a person', async () => {
    const [id] = await published();
    await retract(id!);
    ledger.fake.inject(
      { kind: 'respond', status: 429, headers: { 'retry-after': '1' }, body: { error: 'slow down' } },
      { match: (r) => r.method === 'DELETE' },
    );
    const limited = await advanceRetraction(t.ctx, id!);
    expect(limited.next).toBe('wait');
    expect((await status(id!)).attempts).toBe(0);
    ledger.fake.inject(
      { kind: 'respond', status: 500, body: 'down' },
      { times: 20, match: (r) => r.method === 'DELETE' },
    );
    for (let round = 0; round < 10 && (await status(id!)).status === 'retracting'; round++) {
      await t.ctx.db.update(deliveries).set({ dueAt: new Date() }).where(eq(deliveries.id, id!));
      await advanceRetraction(t.ctx, id!);
    }
    ledger.fake.clearFaults();
    expect((await status(id!)).status).toBe('retraction_needs_attention');
    const confirm = await t.app.inject({
      method: 'POST',
      url: `/api/v1/deliveries/${id}/confirm-retracted`,
      headers: org.user('national', 'reviewer').headers,
    });
    expect(confirm.statusCode, confirm.body).toBe(200);
    expect(confirm.json().status).toBe('retracted');
    expect((await postOf(id!)).status).toBe('retracted');
  });

  it('cancels scheduled deliveries of a retracted post, and retracts one in flight once it is published', async () => {
    const [later] = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: author().id,
      targets: [{ channelId: channel, dueAt: new Date(Date.now() + 3_600_000) }],
    });
    expect((await retract(later!)).statusCode).toBe(200);
    expect((await status(later!)).status).toBe('cancelled');
    expect((await postOf(later!)).status).toBe('retracted');

    const [inFlight] = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: author().id,
      targets: [{ channelId: channel, dueAt: new Date(Date.now() - 1_000) }],
    });
    await t.ctx.db
      .update(deliveries)
      .set({ status: 'unknown', attempts: 1 })
      .where(eq(deliveries.id, inFlight!));
    expect((await retract(inFlight!)).json().deliveries[0].plan).toBe('after_publish');
    // Reconciliation finds nothing and publishes it; the sweep then retracts it.
    await advanceDelivery(t.ctx, inFlight!);
    for (let round = 0; round < 5 && (await status(inFlight!)).status !== 'published'; round++) {
      await t.ctx.db.update(deliveries).set({ dueAt: new Date() }).where(eq(deliveries.id, inFlight!));
      await advanceDelivery(t.ctx, inFlight!);
    }
    expect((await status(inFlight!)).status).toBe('published');
    await sweep(t.ctx);
    expect((await status(inFlight!)).status).toBe('retracting');
    expect(await advanceRetraction(t.ctx, inFlight!)).toEqual({ next: 'done', outcome: 'retracted' });
    expect((await postOf(inFlight!)).status).toBe('retracted');
  });

  it('refuses a retraction by someone who controls none of the channels', async () => {
    const [id] = await published();
    const response = await retract(id!, org.user('regionA', 'reviewer'));
    expect(response.statusCode).toBe(403);
    expect((await status(id!)).status).toBe('published');
  });

  it('holds the claim of a covered channel from the moment the blackout is saved, jobs already queued too', async () => {
    const [due] = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: author().id,
      targets: [{ channelId: channel, dueAt: new Date(Date.now() - 1_000) }],
    });
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/blackouts',
      headers: org.user('national', 'admin').headers,
      payload: {
        unitId: org.units.national.id,
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: null,
        reason: 'Hari berkabung nasional',
        onEnd: 'hold',
      },
    });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ active: true, emergency: true });
    const before = ledger.posts.length;
    expect(await advanceDelivery(t.ctx, due!)).toEqual({ next: 'done', outcome: 'held by a blackout' });
    expect(ledger.posts.length).toBe(before);
    expect((await status(due!)).status).toBe('scheduled');
    // Retractions are not held.
    const [out] = await t.ctx.db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(eq(deliveries.status, 'published'))
      .limit(1);
    if (out) {
      await retract(out.id);
      expect(await advanceRetraction(t.ctx, out.id)).toEqual({ next: 'done', outcome: 'retracted' });
    }
    // Lifted: what fell due waits for a person.
    const lifted = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/blackouts/${response.json().id}`,
      headers: org.user('national', 'admin').headers,
    });
    expect(lifted.statusCode, lifted.body).toBe(200);
    expect((await status(due!)).status).toBe('needs_attention');
    expect((await status(due!)).lastErrorCode).toBe('blackout_hold');
  });

  it('reschedules what fell due inside into the free slots after the end, taking offices in turn', async () => {
    const slotted = await insertChannel(t.ctx, org.units.national, 'bluesky', { name: 'Slotted' });
    await setChannelCredentials(t.ctx.db, t.ctx.keys, slotted, { token: 'ledger-token' });
    await t.ctx.db.insert(postingSlots).values({ channelId: slotted, cron: '0 * * * *' });
    const start = new Date(Date.now() - 3 * 3_600_000);
    const end = new Date(Date.now() - 60_000);
    const inside = (offset: number) => new Date(start.getTime() + offset * 60_000);
    const a1 = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: author().id,
      targets: [1, 2, 3].map((n) => ({ channelId: slotted, dueAt: inside(n) })),
    });
    const b1 = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeB1.id,
      authorId: org.user('officeB1', 'contributor').id,
      targets: [{ channelId: slotted, dueAt: inside(10) }],
    });
    await t.ctx.db.insert(blackouts).values({
      unitId: org.units.national.id,
      startsAt: start,
      endsAt: end,
      reason: 'Masa tenang',
      channelIds: [slotted],
      onEnd: 'reschedule',
    });
    expect((await advanceDelivery(t.ctx, a1[0]!)).next).toBe('done');
    expect(ledger.posts.some((post) => post.ref === a1[0])).toBe(false);
    await settleEndedBlackouts(t.ctx);
    const rows = await t.ctx.db
      .select({ id: deliveries.id, dueAt: deliveries.dueAt, status: deliveries.status })
      .from(deliveries)
      .where(inArray(deliveries.id, [...a1, ...b1]));
    const at = new Map(rows.map((row) => [row.id, row.dueAt.getTime()]));
    for (const row of rows) {
      expect(row.status).toBe('scheduled');
      expect(row.dueAt.getTime()).toBeGreaterThanOrEqual(end.getTime());
      expect(row.dueAt.getUTCMinutes()).toBe(0);
    }
    expect(new Set(at.values()).size).toBe(4);
    // The office that waited longest goes first, then the other office, before A1's later ones.
    const order = [...at.entries()].sort((x, y) => x[1] - y[1]).map(([id]) => id);
    expect(order.slice(0, 2)).toEqual([a1[0], b1[0]]);
    // Each office is told of its moved deliveries, with the channel and the new time: in the app and the outbox.
    const told = await t.ctx.db
      .select({
        userId: notifications.userId,
        deliveryId: notifications.deliveryId,
        data: notifications.data,
      })
      .from(notifications)
      .where(eq(notifications.kind, 'delivery.rescheduled'));
    const a1People = new Set(
      (
        await t.ctx.db.select({ id: users.id }).from(users).where(eq(users.unitId, org.units.officeA1.id))
      ).map((u) => u.id),
    );
    expect(new Set(told.filter((n) => a1People.has(n.userId)).map((n) => n.deliveryId))).toEqual(new Set(a1));
    expect(told.some((n) => n.deliveryId === b1[0] && a1People.has(n.userId))).toBe(false);
    const b1Notice = told.find((n) => n.deliveryId === b1[0]);
    expect(b1Notice?.data).toMatchObject({
      channelName: 'Slotted',
      dueAt: new Date(at.get(b1[0]!)!).toISOString(),
    });
  });
});
