import { createHmac } from 'node:crypto';
import { Worker } from 'bullmq';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries, notifications, notifyOutbox, units, users } from '../../src/db/schema';
import { enqueueNotify } from '../../src/queues/producers';
import { workerConnection } from '../../src/queues/redis';
import { transitionDeliveryRow } from '../../src/services/delivery-transitions';
import {
  publishOutcomeCtes,
  WEBHOOK_SIGNATURE_HEADER,
  webhookSecret,
} from '../../src/services/notifications';
import { processNotify } from '../../workers/notify';
import { createFakeServer, type FakeServer } from '../fakes/harness';
import { mailText, type SmtpSink, startSmtpSink } from '../fakes/smtp';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, type TestOrg } from '../helpers/org';
import { createPostVia, insertChannel } from '../helpers/posts';

/** Polls until `check` holds; the worker and the receivers run on their own schedule. */
async function eventually<T>(
  read: () => T | Promise<T>,
  check: (value: T) => boolean,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface WebhookBody {
  id: string;
  type: string;
  unit: { id: string; name: string };
  post: { id: string; status: string; url: string };
  comment: string | null;
  delivery?: { outcome: string; url: string | null; channelName: string };
}

describe.each(testDrivers())('notifications on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let smtp: SmtpSink;
  let receiver: FakeServer;
  let worker: Worker;
  let channelId: string;

  /** Webhook calls that reached the handler (not those a fault answered). */
  const hooks = () =>
    receiver.received
      .filter((r) => r.url === '/hook')
      .map((r) => ({
        raw: r.body as string,
        signature: String(r.headers[WEBHOOK_SIGNATURE_HEADER.toLowerCase()]),
      }));

  beforeAll(async () => {
    smtp = await startSmtpSink();
    receiver = createFakeServer();
    // Keep the body exactly as sent: the signature covers its bytes.
    receiver.app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
      done(null, body),
    );
    receiver.app.post('/hook', async (_request, reply) => reply.code(204).send());
    await receiver.start();
    t = await createTestApp(driver, {
      env: { SMTP_URL: smtp.url, GAUNG_MAIL_FROM: 'Gaung <gaung@imigrasi.test>' },
    });
    org = await seedTestOrg(t.ctx);
    await t.ctx.db
      .update(units)
      .set({ notifyWebhookUrl: `${receiver.url}/hook` })
      .where(eq(units.id, org.units.officeA1.id));
    await t.ctx.db
      .update(users)
      .set({ locale: 'en' })
      .where(eq(users.id, org.user('officeA1', 'admin').id));
    channelId = await insertChannel(t.ctx, org.units.national, 'mastodon');
    worker = new Worker('notify', (job) => processNotify(t.ctx, job), {
      connection: workerConnection(t.ctx.redisTarget),
      prefix: t.ctx.redisPrefix,
    });
  });
  afterAll(async () => {
    await worker?.close();
    await t?.close();
    await receiver?.stop();
    await smtp?.stop();
  });

  it('tells the office of a decision in the app, by signed webhook and by e-mail in each user’s language', async () => {
    const author = org.user('officeA1', 'contributor');
    const post = await createPostVia(t.app, author, { body: 'Pembukaan layanan paspor elektronik' });
    const rejected = await t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/reject`,
      headers: org.user('national', 'reviewer').headers,
      payload: { version: post.version, reason: 'Informasi belum resmi' },
    });
    expect(rejected.statusCode).toBe(200);

    const office = await t.ctx.db.select().from(users).where(eq(users.unitId, org.units.officeA1.id));
    // The office hears of the decision (the reviewers above heard of the submission).
    const rows = (
      await t.ctx.db.select().from(notifications).where(eq(notifications.postId, post.id))
    ).filter((r) => !r.kind.startsWith('review.'));
    expect(rows.map((r) => r.userId).sort()).toEqual(office.map((u) => u.id).sort());
    expect(new Set(rows.map((r) => r.kind))).toEqual(new Set(['post.rejected']));

    const [hook] = await eventually(hooks, (list) => list.length >= 1);
    const body = JSON.parse(hook!.raw) as WebhookBody;
    expect(body).toMatchObject({
      type: 'post.rejected',
      unit: { id: org.units.officeA1.id, name: 'Kantor A1' },
      post: { id: post.id, status: 'rejected' },
      comment: 'Informasi belum resmi',
    });
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(hook!.signature);
    expect(match).not.toBeNull();
    const shown = await t.app.inject({
      url: `/api/v1/notifications/webhook?unit=${org.units.officeA1.id}`,
      headers: org.user('officeA1', 'admin').headers,
    });
    expect(shown.json()).toMatchObject({ url: `${receiver.url}/hook`, signatureHeader: 'X-Gaung-Signature' });
    const secret = shown.json().secret as string;
    expect(secret).toBe(webhookSecret(t.ctx, org.units.officeA1.id));
    const notAdmin = await t.app.inject({
      url: `/api/v1/notifications/webhook?unit=${org.units.officeA1.id}`,
      headers: author.headers,
    });
    expect(notAdmin.statusCode).toBe(403);
    const expected = createHmac('sha256', secret).update(`${match![1]}.${hook!.raw}`).digest('hex');
    expect(match![2]).toBe(expected);
    const tampered = createHmac('sha256', secret)
      .update(`${match![1]}.${hook!.raw.replace('rejected', 'approved')}`)
      .digest('hex');
    expect(match![2]).not.toBe(tampered);
    expect(webhookSecret(t.ctx, org.units.officeA2.id)).not.toBe(secret);

    const mails = await eventually(
      () => smtp.messages.filter((m) => mailText(m).includes('Informasi belum resmi')),
      (list) => list.length >= office.length,
    );
    expect(mails.flatMap((m) => m.to).sort()).toEqual(office.map((u) => u.email).sort());
    const english = mails.find((m) => m.to.includes(org.user('officeA1', 'admin').email))!;
    expect(english.headers.subject).toBe('[Gaung] Your post was rejected');
    const indonesian = mails.find((m) => m.to.includes(author.email))!;
    expect(indonesian.headers.subject).toBe('[Gaung] Kiriman Anda ditolak');
    expect(indonesian.headers.from).toContain('gaung@imigrasi.test');
    expect(mailText(indonesian)).toContain('Catatan: Informasi belum resmi');
    expect(mailText(indonesian)).toContain(`/posts/${post.id}`);
  });

  it('retries a webhook and an e-mail that failed for a moment', async () => {
    const before = hooks().length;
    const mailsBefore = smtp.messages.length;
    receiver.inject(
      { kind: 'respond', status: 503 },
      { times: 1, match: (request) => request.url === '/hook' },
    );
    smtp.failNext(1);
    const post = await createPostVia(t.app, org.user('officeA1', 'contributor'), { body: 'Percobaan ulang' });
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/request-changes`,
      headers: org.user('national', 'reviewer').headers,
      payload: { version: post.version, comment: 'Coba lagi' },
    });
    const calls = await eventually(
      () =>
        hooks()
          .slice(before)
          .filter((h) => JSON.parse(h.raw).post.id === post.id),
      (list) => list.length >= 2,
    );
    expect(calls.map((c) => JSON.parse(c.raw).type)).toEqual([
      'post.changes_requested',
      'post.changes_requested',
    ]);
    const office = await t.ctx.db.select().from(users).where(eq(users.unitId, org.units.officeA1.id));
    const mails = await eventually(
      () => smtp.messages.slice(mailsBefore).filter((m) => mailText(m).includes('Coba lagi')),
      (list) => list.length >= office.length,
    );
    expect(mails.flatMap((m) => m.to).sort()).toEqual(office.map((u) => u.email).sort());
  });

  it('gives up at once on a receiver that refuses for good', async () => {
    receiver.inject(
      { kind: 'respond', status: 410 },
      { times: 1, match: (request) => request.url === '/hook' },
    );
    const post = await createPostVia(t.app, org.user('officeA1', 'contributor'), {
      body: 'Penerima menolak',
    });
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/reject`,
      headers: org.user('national', 'reviewer').headers,
      payload: { version: post.version, reason: 'Tidak relevan' },
    });
    const [event] = await t.ctx.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.postId, post.id), eq(notifications.kind, 'post.rejected')))
      .limit(1);
    const [outbox] = await t.ctx.db
      .select()
      .from(notifyOutbox)
      .where(eq(notifyOutbox.postEventId, (event!.data as { postEventId: number }).postEventId));
    const jobId = `notify-${outbox!.id}`;
    const job = await eventually(
      () => t.ctx.queues.notify.getJob(jobId),
      (found) => found?.finishedOn !== undefined,
    );
    expect(await job!.getState()).toBe('failed');
    expect(job!.attemptsMade).toBe(1);
    const [given] = await t.ctx.db.select().from(notifyOutbox).where(eq(notifyOutbox.id, outbox!.id));
    expect(given).toMatchObject({ sentAt: null, attempts: 1 });
    expect(given!.failedAt).not.toBeNull();
  });

  it('reports publish outcomes for the engine: timeline, in-app and webhook', async () => {
    const author = org.user('officeA1', 'contributor');
    const post = await createPostVia(t.app, author, { body: 'Terbit di Mastodon' });
    const approved = await t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/approve`,
      headers: org.user('national', 'reviewer').headers,
      payload: { version: post.version, targets: [{ channelId, mode: 'copy', at: 'now' }] },
    });
    const deliveryId = approved.json().deliveries[0].id as string;
    // What the engine does once the platform accepted the post: record and announce in one statement.
    const [claimed] = await t.ctx.db
      .update(deliveries)
      .set({ status: 'publishing', leaseUntil: new Date(Date.now() + 60_000) })
      .where(eq(deliveries.id, deliveryId))
      .returning();
    const now = t.ctx.now();
    const recorded = await transitionDeliveryRow(t.ctx.db, {
      deliveryId,
      from: 'publishing',
      event: 'published',
      version: claimed!.version,
      now,
      reason: 'published',
      remote: { remoteId: '42', remoteUrl: 'https://mastodon.example/@humas/42' },
      announce: publishOutcomeCtes(t.ctx, 'published', now),
    });
    expect(recorded!.status).toBe('published');
    // An e-mail to each of the office's three users, and the unit's webhook.
    expect(recorded!.outbox).toHaveLength(4);
    await enqueueNotify(t.ctx, recorded!.outbox);

    const hook = await eventually(
      () => hooks().find((h) => JSON.parse(h.raw).type === 'delivery.published'),
      (found) => found !== undefined,
    );
    expect(JSON.parse(hook!.raw)).toMatchObject({
      post: { id: post.id, status: 'approved' },
      delivery: {
        outcome: 'published',
        url: 'https://mastodon.example/@humas/42',
        channelName: 'mastodon Nasional',
      },
    });
    const timeline = (
      await t.app.inject({ url: `/api/v1/posts/${post.id}/events`, headers: author.headers })
    ).json().events;
    expect(timeline.at(-1)).toMatchObject({
      kind: 'delivery',
      actor: null,
      data: { outcome: 'published', deliveryId },
    });
    const mine = (await t.app.inject({ url: '/api/v1/notifications', headers: author.headers })).json();
    expect(mine.items[0]).toMatchObject({ kind: 'delivery.published', postId: post.id, deliveryId });
    const mails = await eventually(
      () => smtp.messages.filter((m) => m.to.includes(author.email) && m.headers.subject?.includes('terbit')),
      (list) => list.length >= 1,
    );
    expect(mails[0]!.headers.subject).toBe('[Gaung] Kiriman Anda sudah terbit di mastodon Nasional');
    expect(mailText(mails[0]!)).toContain('https://mastodon.example/@humas/42');
  });

  it('keeps in-app notifications personal, with an unread count and marking as read', async () => {
    const author = org.user('officeA1', 'contributor');
    const list = async () =>
      (await t.app.inject({ url: '/api/v1/notifications', headers: author.headers })).json();
    const start = await list();
    expect(start.unread).toBeGreaterThanOrEqual(3);
    expect(start.unread).toBe(start.items.filter((n: { readAt: string | null }) => n.readAt === null).length);

    const first = start.items[0].id as string;
    const stranger = await t.app.inject({
      method: 'POST',
      url: `/api/v1/notifications/${first}/read`,
      headers: org.user('officeA1', 'reviewer').headers,
    });
    expect(stranger.statusCode).toBe(404);
    const read = await t.app.inject({
      method: 'POST',
      url: `/api/v1/notifications/${first}/read`,
      headers: author.headers,
    });
    expect(read.json()).toEqual({ changed: 1 });
    expect((await list()).unread).toBe(start.unread - 1);
    const unreadOnly = await t.app.inject({ url: '/api/v1/notifications?unread=1', headers: author.headers });
    expect(unreadOnly.json().items.map((n: { id: string }) => n.id)).not.toContain(first);

    const all = await t.app.inject({
      method: 'POST',
      url: '/api/v1/notifications/read-all',
      headers: author.headers,
    });
    expect(all.json()).toEqual({ changed: start.unread - 1 });
    expect((await list()).unread).toBe(0);
    const colleague = await t.app.inject({
      url: '/api/v1/notifications',
      headers: org.user('officeA1', 'reviewer').headers,
    });
    expect(colleague.json().unread).toBeGreaterThan(0);
  });
});
