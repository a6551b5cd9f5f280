import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifyOutbox, units } from '../../src/db/schema';
import { sweep } from '../../src/services/maintenance';
import { deliverOutboxEntry } from '../../src/services/notifications';
import { createFakeServer, type FakeServer } from '../fakes/harness';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, type TestOrg } from '../helpers/org';
import { createPostVia } from '../helpers/posts';

describe.each(testDrivers())('the notify outbox on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let receiver: FakeServer;
  let clock = Date.now();

  beforeAll(async () => {
    receiver = createFakeServer();
    receiver.app.post('/hook', async (_request, reply) => reply.code(204).send());
    await receiver.start();
    t = await createTestApp(driver, { now: () => new Date(clock) });
    org = await seedTestOrg(t.ctx);
    await t.ctx.db
      .update(units)
      .set({ notifyWebhookUrl: `${receiver.url}/hook` })
      .where(eq(units.id, org.units.officeA1.id));
  });
  afterAll(async () => {
    await t.close();
    await receiver.stop();
  });

  it('sends a decision whose job Redis lost, once', async () => {
    const post = await createPostVia(t.app, org.user('officeA1', 'contributor'), { body: 'Kabar kantor' });
    const rejected = await t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/reject`,
      headers: org.user('national', 'reviewer').headers,
      payload: { version: post.version, reason: 'Bukan untuk akun nasional' },
    });
    expect(rejected.statusCode).toBe(200);
    const [entry] = await t.ctx.db.select().from(notifyOutbox).where(eq(notifyOutbox.via, 'webhook'));
    expect(entry).toMatchObject({ sentAt: null, failedAt: null, attempts: 0 });
    expect(await t.ctx.queues.notify.getJob(`notify-${entry!.id}`)).toBeDefined();

    // Redis is flushed before any worker took the job.
    await t.ctx.queues.notify.obliterate({ force: true });
    expect(await t.ctx.queues.notify.getJob(`notify-${entry!.id}`)).toBeUndefined();

    // A sweep soon after leaves it alone (its job may still be on its way); a later one queues it again.
    expect((await sweep(t.ctx)).notifications).toBe(0);
    clock += 2 * 60_000;
    expect((await sweep(t.ctx)).notifications).toBe(1);
    expect(await t.ctx.queues.notify.getJob(`notify-${entry!.id}`)).toBeDefined();

    expect(await deliverOutboxEntry(t.ctx, entry!.id, false)).toEqual({ sent: true });
    // A second job for the same row (the sweep raced the first) sends nothing.
    expect(await deliverOutboxEntry(t.ctx, entry!.id, false)).toEqual({ sent: false });
    expect(receiver.received.filter((r) => r.url === '/hook')).toHaveLength(1);
    const [sent] = await t.ctx.db.select().from(notifyOutbox).where(eq(notifyOutbox.id, entry!.id));
    expect(sent!.sentAt).not.toBeNull();
    clock += 2 * 60_000;
    expect((await sweep(t.ctx)).notifications).toBe(0);
  });

  it('gives a row up after its last retry, and the sweep leaves it', async () => {
    receiver.inject(
      { kind: 'respond', status: 503 },
      { times: 1, match: (request) => request.url === '/hook' },
    );
    const post = await createPostVia(t.app, org.user('officeA1', 'contributor'), { body: 'Kabar kedua' });
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/request-changes`,
      headers: org.user('national', 'reviewer').headers,
      payload: { version: post.version, comment: 'Tambahkan foto' },
    });
    const pending = await t.ctx.db.select().from(notifyOutbox);
    const entry = pending.find((row) => row.sentAt === null)!;
    await expect(deliverOutboxEntry(t.ctx, entry.id, true)).rejects.toThrow();
    const [given] = await t.ctx.db.select().from(notifyOutbox).where(eq(notifyOutbox.id, entry.id));
    expect(given!.failedAt).not.toBeNull();
    expect(given!.lastError).toMatch(/503/);
    clock += 2 * 60_000;
    expect((await sweep(t.ctx)).notifications).toBe(0);
  });
});
