import type { Job } from 'bullmq';
import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchedMails, notifications, notifyOutbox, users } from '../../src/db/schema';
import type { QueuePayloads } from '../../src/queues/index';
import { sweep } from '../../src/services/maintenance';
import { deliverOutboxEntry } from '../../src/services/notifications';
import { sweepReviewerNotices, sweepWaitingAlarms } from '../../src/services/reviewer-notices';
import { processMaintenance } from '../../workers/maintenance';
import { mailParts, type ReceivedMail, type SmtpSink, startSmtpSink } from '../fakes/smtp';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, type TestOrg, type TestUser } from '../helpers/org';
import { createPostVia, insertChannel } from '../helpers/posts';
import { insertReportedPost } from '../helpers/reports';

const PUBLIC_URL = 'https://gaung.imigrasi.test';

describe.each(testDrivers())('reviewers are told, on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let smtp: SmtpSink;
  // Monday 7 December 2026, 13:00 WIB / 14:00 WITA: past the digests' morning window.
  let clock = Date.parse('2026-12-07T06:00:00Z');
  const setClock = (iso: string) => {
    clock = Date.parse(iso);
  };
  const postIds: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };

  const mailsTo = (user: TestUser) => smtp.messages.filter((mail) => mail.to.includes(user.email));
  const part = (mail: ReceivedMail, type: 'text/plain' | 'text/html') =>
    mailParts(mail).find((p) => p.type.startsWith(type))?.body ?? '';
  /** What the notify workers would do: send every outbox row still to send. */
  const deliverPending = async () => {
    const rows = await t.ctx.db
      .select({ id: notifyOutbox.id })
      .from(notifyOutbox)
      .where(and(isNull(notifyOutbox.sentAt), isNull(notifyOutbox.failedAt)));
    for (const row of rows) await deliverOutboxEntry(t.ctx, row.id, false);
  };
  const noticesOf = async (user: TestUser, kind: string, postId?: string) =>
    (await t.ctx.db.select().from(notifications).where(eq(notifications.userId, user.id))).filter(
      (n) => n.kind === kind && (!postId || n.postId === postId),
    );
  const settings = (user: TestUser, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'PUT', url: '/api/v1/notifications/settings', headers: user.headers, payload });

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp(driver, {
      now: () => new Date(clock),
      env: {
        SMTP_URL: smtp.url,
        GAUNG_MAIL_FROM: 'Gaung <gaung@imigrasi.test>',
        GAUNG_PUBLIC_URL: PUBLIC_URL,
      },
    });
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.stop();
  });

  it('tells the level at once in the app and by e-mail at most every 30 minutes, listing what arrived', async () => {
    const regionReviewer = org.user('regionA', 'reviewer');
    const nationalReviewer = org.user('national', 'reviewer');
    const post = await createPostVia(t.app, org.user('officeA1', 'contributor'), {
      body: 'Paspor <b>elektronik</b> & layanan baru',
    });
    postIds.a = post.id;
    // The nearest level above the office and, by the organisation's setting, the national level.
    expect(await noticesOf(regionReviewer, 'review.submitted', post.id)).toHaveLength(1);
    expect(await noticesOf(nationalReviewer, 'review.submitted', post.id)).toHaveLength(1);
    expect(await noticesOf(org.user('regionB', 'reviewer'), 'review.submitted')).toHaveLength(0);
    // A level with reviewers tells its reviewers, not its admins.
    expect(await noticesOf(org.user('regionA', 'admin'), 'review.submitted')).toHaveLength(0);

    const first = await sweepReviewerNotices(t.ctx);
    expect(first.arrivalMails).toBe(2);
    const [batch] = await t.ctx.db
      .select()
      .from(batchedMails)
      .where(and(eq(batchedMails.userId, regionReviewer.id), eq(batchedMails.kind, 'arrivals')));
    const [entry] = await t.ctx.db
      .select()
      .from(notifyOutbox)
      .where(eq(notifyOutbox.batchedMailId, batch!.id));
    expect(await t.ctx.queues.notify.getJob(`notify-${entry!.id}`)).toBeDefined();

    // Redis is flushed before a worker took the job: the engine's sweep queues it again from the outbox.
    await t.ctx.queues.notify.obliterate({ force: true });
    clock += 2 * 60_000;
    expect((await sweep(t.ctx)).notifications).toBe(2);
    expect(await t.ctx.queues.notify.getJob(`notify-${entry!.id}`)).toBeDefined();
    await deliverPending();
    // A second job for the same row (the sweep raced the first) sends nothing.
    expect(await deliverOutboxEntry(t.ctx, entry!.id, false)).toEqual({ sent: false });

    const [mail] = mailsTo(regionReviewer);
    expect(mailsTo(regionReviewer)).toHaveLength(1);
    expect(mail!.headers.subject).toBe('[Gaung] 1 kiriman baru menunggu tinjauan');
    const text = part(mail!, 'text/plain');
    expect(text).toContain('Kantor A1: Paspor <b>elektronik</b> & layanan baru');
    expect(text).toContain(`${PUBLIC_URL}/posts/${post.id}`);
    expect(text).toContain(`${PUBLIC_URL}/inbox`);
    const html = part(mail!, 'text/html');
    expect(html).toContain('Paspor &lt;b&gt;elektronik&lt;/b&gt; &amp; layanan baru');
    expect(html).not.toContain('<b>elektronik');
    expect(html).toContain(`href="${PUBLIC_URL}/posts/${post.id}"`);

    // A second post five minutes later: in the app at once, by e-mail not before 30 minutes have passed.
    clock += 5 * 60_000;
    const second = await createPostVia(t.app, org.user('officeA2', 'contributor'), {
      body: 'Layanan keliling',
    });
    postIds.b = second.id;
    expect(await noticesOf(regionReviewer, 'review.submitted', second.id)).toHaveLength(1);
    expect((await sweepReviewerNotices(t.ctx)).arrivalMails).toBe(0);
    clock = Date.parse('2026-12-07T06:31:00Z');
    // Two workers' sweeps at once make one e-mail per reviewer.
    const racing = await Promise.all([sweepReviewerNotices(t.ctx), sweepReviewerNotices(t.ctx)]);
    expect(racing[0].arrivalMails + racing[1].arrivalMails).toBe(2);
    await deliverPending();
    expect(mailsTo(regionReviewer)).toHaveLength(2);
    const latest = part(mailsTo(regionReviewer)[1]!, 'text/plain');
    expect(latest).toContain('Kantor A2: Layanan keliling');
    expect(latest).not.toContain('Paspor');
  });

  it('tells the level above of a forward with its note, and honours an e-mail opt-out', async () => {
    const nationalReviewer = org.user('national', 'reviewer');
    const regionReviewer = org.user('regionA', 'reviewer');
    const optOut = await settings(nationalReviewer, {
      emailOptOuts: ['arrivals'],
      dailyDigest: false,
      weeklyDigest: true,
    });
    expect(optOut.statusCode).toBe(200);
    expect(optOut.json()).toEqual({ emailOptOuts: ['arrivals'], dailyDigest: false, weeklyDigest: true });
    const bad = await settings(nationalReviewer, {
      emailOptOuts: ['everything'],
      dailyDigest: false,
      weeklyDigest: 1,
    });
    expect(bad.statusCode).toBe(400);

    clock = Date.parse('2026-12-07T06:40:00Z');
    const current = await t.app.inject({
      method: 'GET',
      url: `/api/v1/posts/${postIds.a}`,
      headers: regionReviewer.headers,
    });
    const forwarded = await t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${postIds.a}/forward`,
      headers: regionReviewer.headers,
      payload: { version: current.json().version, note: 'bagus untuk nasional' },
    });
    expect(forwarded.statusCode).toBe(200);
    const [notice] = await noticesOf(nationalReviewer, 'review.forwarded', postIds.a);
    expect(notice!.data).toMatchObject({
      officeName: 'Kantor A1',
      fromLevelName: 'Kanwil A',
      comment: 'bagus untuk nasional',
    });

    clock = Date.parse('2026-12-07T07:15:00Z');
    const before = mailsTo(nationalReviewer).length;
    expect((await sweepReviewerNotices(t.ctx)).arrivalMails).toBe(0);
    await deliverPending();
    expect(mailsTo(nationalReviewer)).toHaveLength(before);
  });

  it('keeps the holiday list and the working hours for admins who may', async () => {
    const added = await t.app.inject({
      method: 'POST',
      url: '/api/v1/holidays',
      headers: org.user('national', 'admin').headers,
      payload: { date: '2026-12-08', name: 'Cuti bersama uji', kind: 'collective_leave' },
    });
    expect(added.statusCode).toBe(201);
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/v1/holidays',
      headers: org.user('national', 'admin').headers,
      payload: { date: '2026-12-08', name: 'Dua kali', kind: 'public_holiday' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'holiday_exists' });
    const badDate = await t.app.inject({
      method: 'POST',
      url: '/api/v1/holidays',
      headers: org.user('national', 'admin').headers,
      payload: { date: '2026-02-30', name: 'Tidak ada', kind: 'public_holiday' },
    });
    expect(badDate.statusCode).toBe(400);
    const listed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/holidays?year=2026',
      headers: org.user('officeB1', 'contributor').headers,
    });
    expect(listed.json().items).toEqual([
      { id: added.json().id, date: '2026-12-08', name: 'Cuti bersama uji', kind: 'collective_leave' },
    ]);

    const hours = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/units/${org.units.regionB.id}/working-hours`,
      headers: org.user('regionB', 'admin').headers,
      payload: { days: [5, 1, 2, 3, 4], start: '08:00', end: '16:00', reviewWaitMinutes: 240 },
    });
    expect(hours.statusCode).toBe(200);
    expect(hours.json()).toEqual({
      days: [1, 2, 3, 4, 5],
      start: '08:00',
      end: '16:00',
      reviewWaitMinutes: 240,
      timeZone: 'Asia/Makassar',
    });
    const backwards = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/units/${org.units.regionB.id}/working-hours`,
      headers: org.user('regionB', 'admin').headers,
      payload: { days: [1], start: '16:00', end: '08:00', reviewWaitMinutes: 240 },
    });
    expect(backwards.statusCode).toBe(422);
    expect(backwards.json()).toMatchObject({ code: 'working_hours_invalid' });
  });

  it('marks a post overdue after the working-time limit and tells reviewers, then admins, once each', async () => {
    const reviewer = org.user('regionB', 'reviewer');
    const admin = org.user('regionB', 'admin');
    // Monday 15:00 WITA: one working hour on Monday, Tuesday is a collective leave day, three hours on Wednesday.
    setClock('2026-12-07T07:00:00Z');
    const post = await createPostVia(t.app, org.user('officeB1', 'contributor'), {
      body: 'Operasi pengawasan orang asing',
    });
    postIds.c = post.id;

    // Without the leave day the limit would have passed on Tuesday at 10:00 WITA.
    setClock('2026-12-08T05:00:00Z');
    await sweepWaitingAlarms(t.ctx);
    expect(await noticesOf(reviewer, 'review.overdue', post.id)).toHaveLength(0);

    setClock('2026-12-09T03:01:00Z');
    await Promise.all([sweepWaitingAlarms(t.ctx), sweepWaitingAlarms(t.ctx)]);
    await sweepWaitingAlarms(t.ctx);
    const told = await noticesOf(reviewer, 'review.overdue', post.id);
    expect(told).toHaveLength(1);
    expect(told[0]!.data).toMatchObject({ officeName: 'Kantor B1', levelName: 'Kanwil B', waitMinutes: 240 });
    expect(await noticesOf(admin, 'review.overdue_admin', post.id)).toHaveLength(0);
    const inbox = await t.app.inject({ method: 'GET', url: '/api/v1/reviews', headers: reviewer.headers });
    const item = inbox.json().items.find((row: { id: string }) => row.id === post.id);
    expect(item).toMatchObject({ overdue: true });

    setClock('2026-12-09T06:59:00Z');
    await sweepWaitingAlarms(t.ctx);
    expect(await noticesOf(admin, 'review.overdue_admin', post.id)).toHaveLength(0);
    // Twice the limit: Wednesday 15:00 WITA.
    setClock('2026-12-09T07:01:00Z');
    await Promise.all([sweepWaitingAlarms(t.ctx), sweepWaitingAlarms(t.ctx)]);
    await sweepWaitingAlarms(t.ctx);
    expect(await noticesOf(admin, 'review.overdue_admin', post.id)).toHaveLength(1);
    expect(await noticesOf(reviewer, 'review.overdue', post.id)).toHaveLength(1);

    await deliverPending();
    const reviewerMails = mailsTo(reviewer).filter((m) => m.headers.subject?.includes('batas waktu'));
    expect(reviewerMails.map((m) => m.headers.subject)).toEqual([
      '[Gaung] Kiriman dari Kantor B1 sudah melewati batas waktu tunggu di Kanwil B',
    ]);
    expect(part(reviewerMails[0]!, 'text/plain')).toContain(`${PUBLIC_URL}/posts/${post.id}`);
    expect(mailsTo(admin).filter((m) => m.headers.subject?.includes('dua kali batas'))).toHaveLength(1);
  });

  it('sends the daily digest to those who asked for it, in their language and morning, once', async () => {
    const reviewer = org.user('regionB', 'reviewer');
    await t.ctx.db.update(users).set({ locale: 'en' }).where(eq(users.id, reviewer.id));
    expect(
      (await settings(reviewer, { emailOptOuts: [], dailyDigest: true, weeklyDigest: true })).statusCode,
    ).toBe(200);
    const channelId = await insertChannel(t.ctx, org.units.regionB, 'mastodon', { name: '@kanwilb' });
    await insertReportedPost(t.ctx, {
      unit: org.units.officeB1,
      author: org.user('officeB1', 'contributor'),
      body: 'Pelayanan paspor hari Sabtu',
      submittedAt: new Date('2026-12-09T01:00:00Z'),
      decision: { after: 30, to: 'approved' },
      deliveries: [
        {
          channelId,
          publishedAt: new Date('2026-12-09T03:00:00Z'),
          snapshots: { '24h': { impressions: 1234, likes: 56 } },
        },
      ],
    });

    // Thursday 06:30 WITA: too early.
    setClock('2026-12-09T22:30:00Z');
    expect((await sweepReviewerNotices(t.ctx)).digests).toBe(0);
    // Thursday 08:30 WITA: two workers at once make one digest.
    setClock('2026-12-10T00:30:00Z');
    const racing = await Promise.all([sweepReviewerNotices(t.ctx), sweepReviewerNotices(t.ctx)]);
    expect(racing[0].digests + racing[1].digests).toBe(1);
    expect((await sweepReviewerNotices(t.ctx)).digests).toBe(0);
    await deliverPending();
    const digests = mailsTo(reviewer).filter((m) => m.headers.subject?.includes('Daily digest'));
    expect(digests).toHaveLength(1);
    expect(digests[0]!.headers.subject).toBe('[Gaung] Daily digest 2026-12-10: 1 post waiting');
    const text = part(digests[0]!, 'text/plain');
    expect(text).toContain('Kantor B1: Operasi pengawasan orang asing');
    expect(text).toContain('past the waiting limit');
    expect(text).toContain("Published yesterday on your unit's channels (1)");
    expect(text).toContain('@kanwilb · Kantor B1: Pelayanan paspor hari Sabtu');
    // Nobody else asked for one.
    expect(smtp.messages.filter((m) => m.headers.subject?.includes('Ringkasan harian'))).toHaveLength(0);
  });

  it('sends the weekly digest on Monday morning to national and regional staff who did not opt out', async () => {
    expect(
      (
        await settings(org.user('regionA', 'reviewer'), {
          emailOptOuts: [],
          dailyDigest: false,
          weeklyDigest: false,
        })
      ).statusCode,
    ).toBe(200);
    // Monday 14 December, 07:30 WIB and 08:30 WITA.
    setClock('2026-12-14T00:30:00Z');
    const racing = await Promise.all([sweepReviewerNotices(t.ctx), sweepReviewerNotices(t.ctx)]);
    // Five weekly digests (national and both regions, reviewers and admins, less one opt-out) and one daily.
    expect(racing[0].digests + racing[1].digests).toBe(6);
    const weekly = await t.ctx.db.select().from(batchedMails).where(eq(batchedMails.kind, 'weekly_digest'));
    expect(weekly.map((row) => row.userId).sort()).toEqual(
      [
        org.user('national', 'reviewer'),
        org.user('national', 'admin'),
        org.user('regionA', 'admin'),
        org.user('regionB', 'reviewer'),
        org.user('regionB', 'admin'),
      ]
        .map((user) => user.id)
        .sort(),
    );
    await deliverPending();

    const [national] = mailsTo(org.user('national', 'admin')).filter((m) =>
      m.headers.subject?.includes('Ringkasan mingguan'),
    );
    expect(national!.headers.subject).toBe('[Gaung] Ringkasan mingguan Nasional: 2026-12-07 – 2026-12-13');
    const text = part(national!, 'text/plain');
    // Four posts were submitted in the subtree that week, one delivery published with 1,234 impressions.
    expect(text).toContain('Kiriman masuk: 4');
    expect(text).toContain('Penerbitan berhasil: 1');
    expect(text).toContain('Jangkauan (tayangan): 1.234');
    expect(text).toContain('Kantor B1: Pelayanan paspor hari Sabtu');
    const silent = text.slice(text.indexOf('Kantor yang tidak mengirim apa pun'));
    expect(silent).toContain('- Kantor B2');
    expect(silent).not.toContain('- Kantor A1');
    expect(silent).not.toContain('- Kantor A2');

    const [region] = mailsTo(org.user('regionA', 'admin')).filter((m) =>
      m.headers.subject?.includes('Ringkasan mingguan'),
    );
    const regionText = part(region!, 'text/plain');
    expect(regionText).toContain('Kiriman masuk: 2');
    expect(regionText).not.toContain('Kantor B2');
    expect(part(region!, 'text/html')).toContain(`href="${PUBLIC_URL}/reports"`);

    // The maintenance worker's scheduled task later that morning finds everything already made.
    clock += 15 * 60_000;
    const job = { data: { task: 'notices' } } as Job<QueuePayloads['maintenance']>;
    expect(await processMaintenance(t.ctx, job)).toEqual({
      arrivalMails: 0,
      alarms: { reviewers: 0, admins: 0 },
      digests: 0,
    });
  });
});
