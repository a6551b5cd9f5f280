import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries, deliveryEvents, notifications, users } from '../../src/db/schema';
import { publishJobId } from '../../src/queues/producers';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { createTestUser, seedTestOrg, type TestOrg, type TestUser } from '../helpers/org';
import { createPostVia, insertChannel } from '../helpers/posts';

interface Delivery {
  id: string;
  channelId: string;
  mode: string;
  status: string;
  dueAt: string;
  slotted: boolean;
  renderedText: string;
}

describe.each(testDrivers())('review and approval on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  // Monday 4 March 2030, 07:30 in Jakarta.
  const clock = new Date('2030-03-04T00:30:00.000Z');
  const channel: Record<
    'mastodon' | 'x' | 'bluesky' | 'instagram' | 'threads' | 'regionA' | 'regionB',
    string
  > = {
    mastodon: '',
    x: '',
    bluesky: '',
    instagram: '',
    threads: '',
    regionA: '',
    regionB: '',
  };
  let humas: TestUser;
  let humas2: TestUser;
  let author: TestUser;
  const sourceUrl = 'https://x.com/imigrasi_a1/status/1234567890';

  const post = (path: string, user: TestUser, payload?: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: `/api/v1/posts${path}`, headers: user.headers, payload });
  const get = (path: string, user: TestUser) =>
    t.app.inject({ url: `/api/v1/posts${path}`, headers: user.headers });

  beforeAll(async () => {
    t = await createTestApp(driver, { now: () => clock });
    org = await seedTestOrg(t.ctx);
    const national = org.units.national;
    channel.mastodon = await insertChannel(t.ctx, national, 'mastodon', { settings: { maxCharacters: 500 } });
    channel.x = await insertChannel(t.ctx, national, 'x', { creditTemplate: '{text}' });
    channel.bluesky = await insertChannel(t.ctx, national, 'bluesky', { slots: ['0 9,15 * * *'] });
    channel.instagram = await insertChannel(t.ctx, national, 'instagram');
    channel.threads = await insertChannel(t.ctx, national, 'threads');
    channel.regionA = await insertChannel(t.ctx, org.units.regionA, 'telegram');
    channel.regionB = await insertChannel(t.ctx, org.units.regionB, 'telegram');
    humas = org.user('national', 'reviewer');
    humas2 = await createTestUser(t.ctx, { unit: national, role: 'reviewer', name: 'Humas Dua' });
    author = org.user('officeA1', 'contributor');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('runs the whole flow: draft, submit, changes requested, resubmit, approval to three channels', async () => {
    const draft = await createPostVia(
      t.app,
      author,
      {
        body: 'Kantor Imigrasi A1 membuka layanan paspor di Mal Pelayanan Publik setiap Sabtu 🛂',
        tags: ['Imigrasi'],
        sourceUrl,
      },
      { submit: false },
    );
    const submitted = await post(`/${draft.id}/submit`, author, { version: draft.version });
    expect(submitted.json()).toMatchObject({ status: 'submitted', version: 2 });

    const noComment = await post(`/${draft.id}/request-changes`, humas, { version: 2 });
    expect(noComment.statusCode).toBe(400);
    expect(noComment.json().errors).toEqual([expect.objectContaining({ field: 'comment' })]);
    const blankComment = await post(`/${draft.id}/request-changes`, humas, { version: 2, comment: '   ' });
    expect(blankComment.statusCode).toBe(400);

    const sentBack = await post(`/${draft.id}/request-changes`, humas, {
      version: 2,
      comment: 'Tambahkan jam layanan.',
    });
    expect(sentBack.statusCode).toBe(200);
    expect(sentBack.json()).toMatchObject({ status: 'changes_requested', version: 3 });

    const edited = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/posts/${draft.id}`,
      headers: author.headers,
      payload: {
        version: 3,
        body: 'Kantor Imigrasi A1 membuka layanan paspor di Mal Pelayanan Publik setiap Sabtu pukul 08.00–12.00 WIB 🛂',
      },
    });
    expect(edited.json()).toMatchObject({ status: 'changes_requested', version: 4 });
    const resubmitted = await post(`/${draft.id}/submit`, author, { version: 4 });
    expect(resubmitted.json()).toMatchObject({ status: 'submitted', version: 5 });

    // Another post already holds Bluesky's 09:00 slot, so this one gets 15:00 (08:00 UTC).
    const earlier = await createPostVia(t.app, org.user('officeA2', 'contributor'), {
      body: 'Sosialisasi keimigrasian',
    });
    const earlierApproved = await post(`/${earlier.id}/approve`, humas, {
      version: earlier.version,
      targets: [{ channelId: channel.bluesky, mode: 'copy', at: 'next-slot' }],
    });
    expect(earlierApproved.statusCode).toBe(200);
    expect(earlierApproved.json().deliveries[0]).toMatchObject({
      dueAt: '2030-03-04T02:00:00.000Z',
      slotted: true,
    });

    const approved = await post(`/${draft.id}/approve`, humas, {
      version: 5,
      comment: 'Terima kasih, kami terbitkan.',
      targets: [
        { channelId: channel.mastodon, mode: 'copy', at: 'now' },
        {
          channelId: channel.x,
          mode: 'quote',
          at: '2030-03-04T05:00:00+00:00',
          text: 'Layanan paspor hari Sabtu di MPP 🛂',
        },
        { channelId: channel.bluesky, mode: 'copy', at: 'next-slot' },
      ],
    });
    expect(approved.statusCode).toBe(200);
    const body = approved.json();
    expect(body).toMatchObject({ status: 'approved', version: 6, decidedAt: clock.toISOString() });
    const byChannel = new Map((body.deliveries as Delivery[]).map((d) => [d.channelId, d]));
    expect(byChannel.size).toBe(3);
    expect(byChannel.get(channel.mastodon)).toMatchObject({
      mode: 'copy',
      status: 'scheduled',
      dueAt: clock.toISOString(),
      slotted: false,
    });
    expect(byChannel.get(channel.mastodon)!.renderedText).toBe(
      `Kantor Imigrasi A1 membuka layanan paspor di Mal Pelayanan Publik setiap Sabtu pukul 08.00–12.00 WIB 🛂\n\n📍 Kantor A1 ${sourceUrl}`,
    );
    expect(byChannel.get(channel.x)).toMatchObject({
      mode: 'quote',
      dueAt: '2030-03-04T05:00:00.000Z',
      renderedText: 'Layanan paspor hari Sabtu di MPP 🛂',
    });
    expect(byChannel.get(channel.bluesky)).toMatchObject({
      dueAt: '2030-03-04T08:00:00.000Z',
      slotted: true,
    });

    // Only the delivery due now is in Redis; the others wait in Postgres for the sweeper.
    const mastodonJob = await t.ctx.queues.publish.getJob(
      publishJobId(byChannel.get(channel.mastodon)!.id, 0),
    );
    expect(mastodonJob?.data).toMatchObject({ deliveryId: byChannel.get(channel.mastodon)!.id });
    expect(await t.ctx.queues.publish.getJob(publishJobId(byChannel.get(channel.x)!.id, 0))).toBeUndefined();
    expect(
      await t.ctx.queues.publish.getJob(publishJobId(byChannel.get(channel.bluesky)!.id, 0)),
    ).toBeUndefined();

    const audit = await t.ctx.db
      .select()
      .from(deliveryEvents)
      .where(
        inArray(
          deliveryEvents.deliveryId,
          [...byChannel.values()].map((d) => d.id),
        ),
      );
    expect(audit.map((e) => [e.fromStatus, e.toStatus, e.actorId])).toEqual(
      Array(3).fill([null, 'scheduled', humas.id]),
    );

    const events = (await get(`/${draft.id}/events`, author)).json().events as {
      kind: string;
      toStatus: string | null;
      body: string | null;
      data: Record<string, unknown>;
    }[];
    expect(events.map((e) => (e.kind === 'transition' ? `${e.kind}:${e.toStatus}` : e.kind))).toEqual([
      'edit',
      'transition:submitted',
      'transition:changes_requested',
      'edit',
      'transition:submitted',
      'transition:approved',
      'delivery',
      'delivery',
      'delivery',
    ]);
    expect(events[2]!.body).toBe('Tambahkan jam layanan.');
    expect(events[5]!.body).toBe('Terima kasih, kami terbitkan.');

    const office = await t.ctx.db
      .select({ id: users.id })
      .from(users)
      .where(eq(users.unitId, org.units.officeA1.id));
    // The office hears of the decisions (the reviewers above hear of the submissions).
    const rows = (
      await t.ctx.db.select().from(notifications).where(eq(notifications.postId, draft.id))
    ).filter((r) => !r.kind.startsWith('review.'));
    expect(rows).toHaveLength(office.length * 2);
    expect(new Set(rows.map((r) => r.userId))).toEqual(new Set(office.map((u) => u.id)));
    expect(rows.map((r) => r.kind).sort()).toEqual(
      [
        ...Array(office.length).fill('post.approved'),
        ...Array(office.length).fill('post.changes_requested'),
      ].sort(),
    );

    const inbox = await t.app.inject({ url: '/api/v1/notifications', headers: author.headers });
    expect(inbox.json().unread).toBeGreaterThanOrEqual(2);
  });

  it('refuses a stale version, the wrong role and reviewers of other units', async () => {
    const submitted = await createPostVia(t.app, author, { body: 'Penerbitan izin tinggal tepat waktu' });
    const targets = [{ channelId: channel.mastodon, mode: 'copy', at: 'now' }];

    const stale = await post(`/${submitted.id}/approve`, humas, { version: submitted.version - 1, targets });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ code: 'stale_version', currentVersion: submitted.version });

    const contributor = await post(`/${submitted.id}/approve`, org.user('national', 'contributor'), {
      version: submitted.version,
      targets,
    });
    // A contributor above the office does not even see the post; the office's own contributor may not decide.
    expect(contributor.statusCode).toBe(404);
    const ownOffice = await post(`/${submitted.id}/reject`, author, {
      version: submitted.version,
      reason: 'Sendiri',
    });
    expect(ownOffice.statusCode).toBe(403);
    const otherRegion = await post(`/${submitted.id}/reject`, org.user('regionB', 'reviewer'), {
      version: submitted.version,
      reason: 'Bukan wilayah saya',
    });
    expect(otherRegion.statusCode).toBe(404);
    const noReason = await post(`/${submitted.id}/reject`, humas, { version: submitted.version });
    expect(noReason.statusCode).toBe(400);

    const rejected = await post(`/${submitted.id}/reject`, humas, {
      version: submitted.version,
      reason: 'Sudah pernah terbit',
    });
    expect(rejected.json()).toMatchObject({ status: 'rejected', version: submitted.version + 1 });
    const afterReject = await post(`/${submitted.id}/approve`, humas, {
      version: submitted.version + 1,
      targets,
    });
    expect(afterReject.statusCode).toBe(409);
    expect(afterReject.json()).toMatchObject({ code: 'invalid_transition', postStatus: 'rejected' });
    const none = await t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, submitted.id));
    expect(none).toEqual([]);
  });

  it('refuses targets that would fail on the platform, with the issues per channel, and writes nothing', async () => {
    // 281 weighted characters on X: one over the limit.
    const body = `${'Layanan keimigrasian '.repeat(13)}${'a'.repeat(8)}`;
    expect(body).toHaveLength(281);
    const submitted = await createPostVia(t.app, author, { body });
    const response = await post(`/${submitted.id}/approve`, humas, {
      version: submitted.version,
      targets: [
        { channelId: channel.x, mode: 'copy', at: 'now' },
        { channelId: channel.instagram, mode: 'copy', at: 'now' },
        { channelId: channel.mastodon, mode: 'copy', at: 'now' },
        { channelId: channel.threads, mode: 'copy', at: '2030-03-03T00:00:00Z' },
      ],
    });
    expect(response.statusCode).toBe(422);
    const problem = response.json();
    expect(problem.code).toBe('invalid_targets');
    const issues = new Map(
      (problem.targets as { channelId: string; issues: { code: string; severity: string }[] }[]).map(
        (target) => [
          target.channelId,
          target.issues.filter((issue) => issue.severity === 'error').map((issue) => issue.code),
        ],
      ),
    );
    expect(issues.get(channel.x)).toEqual(['text_too_long']);
    expect(issues.get(channel.instagram)).toContain('media_required');
    expect(issues.get(channel.mastodon)).toEqual([]);
    expect(issues.get(channel.threads)).toEqual(['at_in_past']);

    const stored = (await get(`/${submitted.id}`, humas)).json();
    expect(stored).toMatchObject({ status: 'submitted', version: submitted.version, deliveries: [] });
  });

  it('refuses channels the reviewer may not target, naming none it may not see', async () => {
    const submitted = await createPostVia(t.app, author, { body: 'Pengawasan orang asing' });
    const regional = org.user('regionA', 'reviewer');
    const response = await post(`/${submitted.id}/approve`, regional, {
      version: submitted.version,
      targets: [
        { channelId: channel.regionA, mode: 'copy', at: 'now' },
        { channelId: channel.mastodon, mode: 'copy', at: 'now' },
        { channelId: channel.regionB, mode: 'copy', at: 'now' },
        { channelId: '00000000-0000-4000-8000-000000000000', mode: 'copy', at: 'now' },
      ],
    });
    expect(response.statusCode).toBe(422);
    const targets = response.json().targets as {
      channelId: string;
      channelName: string | null;
      issues: { code: string }[];
    }[];
    expect(targets.map((target) => [target.channelId, target.issues.map((i) => i.code)])).toEqual([
      [channel.regionA, []],
      [channel.mastodon, ['channel_not_targetable']],
      [channel.regionB, ['channel_not_found']],
      ['00000000-0000-4000-8000-000000000000', ['channel_not_found']],
    ]);
    expect(targets[2]!.channelName).toBeNull();

    const own = await post(`/${submitted.id}/approve`, regional, {
      version: submitted.version,
      targets: [{ channelId: channel.regionA, mode: 'copy', at: 'now' }],
    });
    expect(own.statusCode).toBe(200);
    expect(own.json().deliveries).toHaveLength(1);
  });

  it('lets exactly one of two reviewers approving at once win, with one set of deliveries', async () => {
    for (let round = 0; round < 3; round++) {
      const submitted = await createPostVia(t.app, author, { body: `Dua peninjau sekaligus ${round}` });
      const [first, second] = await Promise.all([
        post(`/${submitted.id}/approve`, humas, {
          version: submitted.version,
          targets: [
            { channelId: channel.mastodon, mode: 'copy', at: 'now' },
            { channelId: channel.bluesky, mode: 'copy', at: 'next-slot' },
          ],
        }),
        post(`/${submitted.id}/approve`, humas2, {
          version: submitted.version,
          targets: [
            { channelId: channel.mastodon, mode: 'copy', at: '2030-03-05T00:00:00Z' },
            { channelId: channel.threads, mode: 'copy', at: 'now' },
            { channelId: channel.bluesky, mode: 'copy', at: 'next-slot' },
          ],
        }),
      ]);
      expect([first.statusCode, second.statusCode].sort()).toEqual([200, 409]);
      const winner = first.statusCode === 200 ? first : second;
      const loser = first.statusCode === 200 ? second : first;
      expect(loser.json().code).toMatch(/^(stale_version|invalid_transition)$/);
      const stored = await t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, submitted.id));
      expect(stored.map((d) => d.channelId).sort()).toEqual(
        (winner.json().deliveries as Delivery[]).map((d) => d.channelId).sort(),
      );
      const approvals = (await get(`/${submitted.id}/events`, humas))
        .json()
        .events.filter((e: { toStatus: string | null }) => e.toStatus === 'approved');
      expect(approvals).toHaveLength(1);
    }
    // Concurrent next-slot approvals never share a Bluesky slot.
    const slots = await t.ctx.db
      .select({ dueAt: deliveries.dueAt })
      .from(deliveries)
      .where(and(eq(deliveries.channelId, channel.bluesky), eq(deliveries.slotted, 1)));
    expect(new Set(slots.map((s) => s.dueAt.toISOString())).size).toBe(slots.length);
  });

  it('previews each channel: rendered text, count and issues, and whether the actor may target it', async () => {
    const draft = await createPostVia(
      t.app,
      author,
      {
        body: 'Pelayanan paspor simpatik 🇮🇩',
        variants: { mastodon: 'Paspor simpatik untuk warga, setiap Sabtu.' },
        sourceUrl,
      },
      { submit: false },
    );
    const preview = await post(`/${draft.id}/preview`, author, {
      channelIds: [channel.mastodon, channel.instagram],
    });
    expect(preview.statusCode).toBe(200);
    const [mastodon, instagram] = preview.json().channels;
    expect(mastodon).toMatchObject({
      channelId: channel.mastodon,
      platform: 'mastodon',
      targetable: false,
      text: `Paspor simpatik untuk warga, setiap Sabtu.\n\n📍 Kantor A1 ${sourceUrl}`,
      count: { limit: 500 },
      issues: [],
    });
    expect(mastodon.count.used).toBeGreaterThan(40);
    expect(instagram.issues.map((i: { code: string }) => i.code)).toContain('media_required');

    const byReviewer = await post(`/${draft.id}/preview`, org.user('officeA1', 'reviewer'), {
      channelIds: [channel.x],
    });
    expect(byReviewer.json().channels[0].targetable).toBe(false);
    const hiddenChannel = await post(`/${draft.id}/preview`, author, { channelIds: [channel.regionB] });
    expect(hiddenChannel.statusCode).toBe(404);
    const hiddenDraft = await post(`/${draft.id}/preview`, humas, { channelIds: [channel.mastodon] });
    expect(hiddenDraft.statusCode).toBe(404);
  });

  it('adds targets after approval and cancels deliveries that have not been published', async () => {
    const submitted = await createPostVia(t.app, author, { body: 'Penambahan saluran setelah disetujui' });
    const approved = (
      await post(`/${submitted.id}/approve`, humas, {
        version: submitted.version,
        targets: [{ channelId: channel.mastodon, mode: 'copy', at: '2030-03-06T01:00:00Z' }],
      })
    ).json();
    const duplicate = await post(`/${submitted.id}/targets`, humas, {
      version: approved.version,
      targets: [{ channelId: channel.mastodon, mode: 'copy', at: 'now' }],
    });
    expect(duplicate.statusCode).toBe(422);
    expect(duplicate.json().targets[0].issues.map((i: { code: string }) => i.code)).toContain(
      'delivery_exists',
    );

    const added = await post(`/${submitted.id}/targets`, humas, {
      version: approved.version,
      targets: [
        { channelId: channel.threads, mode: 'copy', at: '2030-03-06T02:00:00Z' },
        { channelId: channel.x, mode: 'copy', at: new Date(clock.getTime() + 60_000).toISOString() },
      ],
    });
    expect(added.statusCode).toBe(200);
    expect(added.json()).toMatchObject({ status: 'approved', version: approved.version + 1 });
    expect(added.json().deliveries).toHaveLength(3);
    const staleAdd = await post(`/${submitted.id}/targets`, humas, {
      version: approved.version,
      targets: [{ channelId: channel.bluesky, mode: 'copy', at: 'now' }],
    });
    expect(staleAdd.statusCode).toBe(409);

    const byContributor = await post(`/${submitted.id}/targets/${channel.threads}/cancel`, author);
    expect(byContributor.statusCode).toBe(403);
    const cancelled = await post(`/${submitted.id}/targets/${channel.threads}/cancel`, humas, {
      version: 1,
    });
    expect(cancelled.statusCode).toBe(200);
    const threads = (cancelled.json().deliveries as Delivery[]).find((d) => d.channelId === channel.threads)!;
    expect(threads.status).toBe('cancelled');
    const again = await post(`/${submitted.id}/targets/${channel.threads}/cancel`, humas);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('invalid_transition');

    // A delivery due within the horizon waits in Redis; cancelling takes its job out again.
    const x = (added.json().deliveries as Delivery[]).find((d) => d.channelId === channel.x)!;
    expect(await t.ctx.queues.publish.getJob(publishJobId(x.id, 0))).toBeDefined();
    expect((await post(`/${submitted.id}/targets/${channel.x}/cancel`, humas)).statusCode).toBe(200);
    expect(await t.ctx.queues.publish.getJob(publishJobId(x.id, 0))).toBeUndefined();

    const mastodon = (cancelled.json().deliveries as Delivery[]).find(
      (d) => d.channelId === channel.mastodon,
    )!;
    await t.ctx.db
      .update(deliveries)
      .set({ status: 'published', publishedAt: clock, remoteUrl: 'https://mastodon.example/@humas/1' })
      .where(eq(deliveries.id, mastodon.id));
    const published = await post(`/${submitted.id}/targets/${channel.mastodon}/cancel`, humas);
    expect(published.statusCode).toBe(409);
    expect(published.json().code).toBe('invalid_transition');

    const trail = await t.ctx.db
      .select()
      .from(deliveryEvents)
      .where(eq(deliveryEvents.deliveryId, threads.id));
    expect(trail.map((e) => [e.fromStatus, e.toStatus, e.reason])).toEqual([
      [null, 'scheduled', 'approved'],
      ['scheduled', 'cancelled', 'cancelled by a person'],
    ]);
  });
});
