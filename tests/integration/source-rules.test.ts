import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditEvents,
  channels,
  deliveries,
  postEvents,
  posts,
  ruleApprovals,
  sources,
  users,
} from '../../src/db/schema';
import { claimDelivery } from '../../src/services/publishing';
import { applyDueRuleApprovals, pendingRuleApprovals } from '../../src/services/source-rules';
import { pollSource } from '../../src/services/sources';
import { createFakeMastodon, type FakeMastodon } from '../fakes/mastodon';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { insertChannel } from '../helpers/posts';
import { signIn, submitForm } from '../helpers/session';

const MINUTE = 60_000;

/**
 * Auto-approval rules (trusted offices): a national reviewer's rule on an office's Mastodon source
 * approves the items it takes to the reviewer's channel once the stop window has passed, audited as
 * the rule's; a reviewer can stop it within the window; the author's rights are checked again when
 * the rule approves; bad input names its field.
 */
describe.each(testDrivers())('auto-approval rules of a source on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let mastodon: FakeMastodon;
  let offset = 0;
  let nationalChannel: string;
  let regionBChannel: string;

  beforeAll(async () => {
    mastodon = createFakeMastodon();
    await mastodon.start();
    t = await createTestApp(driver, { now: () => new Date(Date.now() + offset) });
    org = await seedTestOrg(t.ctx);
    nationalChannel = await insertChannel(t.ctx, org.units.national, 'sandbox', {
      name: 'Humas Nasional',
      slots: ['0 9 * * *'],
    });
    regionBChannel = await insertChannel(t.ctx, org.units.regionB, 'sandbox', { name: 'Wilayah B' });
  });
  afterAll(async () => {
    await t?.close();
    await mastodon?.stop();
  });

  const office = () => org.user('officeA1', 'contributor');
  const national = () => org.user('national', 'reviewer');

  async function mastodonSource() {
    const username = `kanim_${randomUUID().slice(0, 6)}`;
    const account = mastodon.addAccount({ username });
    const id = randomUUID();
    await t.ctx.db.insert(sources).values({
      id,
      unitId: office().unitId,
      createdBy: office().id,
      kind: 'mastodon',
      url: `${mastodon.url}/@${username}`,
      handle: username,
      accountId: account.id,
      since: new Date(Date.now() - 3_600_000),
      nextPollAt: new Date(),
    });
    return { id, account: account.id };
  }

  async function poll(sourceId: string) {
    await t.ctx.db
      .update(sources)
      .set({ nextPollAt: new Date(Date.now() + offset - 1_000) })
      .where(eq(sources.id, sourceId));
    return pollSource(t.ctx, sourceId);
  }

  const addRule = (sourceId: string, payload: Record<string, unknown>, who = national()) =>
    t.app.inject({ method: 'POST', url: `/api/v1/sources/${sourceId}/rules`, headers: who.headers, payload });

  const postOf = async (sourceId: string, key: string) => {
    const [row] = await t.ctx.db
      .select()
      .from(posts)
      .where(and(eq(posts.sourceId, sourceId), eq(posts.sourceItemKey, key)));
    return row!;
  };

  it('approves what it takes once the stop window has passed, as its author, audited as the rule', async () => {
    offset = 0;
    const source = await mastodonSource();
    const created = await addRule(source.id, {
      hashtags: ['#Paspor'],
      channelIds: [nationalChannel],
      mode: 'copy',
      delayMinutes: 60,
      stopWindowMinutes: 30,
    });
    expect(created.statusCode, created.body).toBe(201);
    const rule = created.json();
    expect(rule).toMatchObject({ hashtags: ['paspor'], mode: 'copy', createdBy: national().id });
    const listed = await t.app.inject({
      url: `/api/v1/sources/${source.id}/rules`,
      headers: office().headers,
    });
    expect(listed.json().rules.map((r: { id: string }) => r.id)).toEqual([rule.id]);

    const taken = mastodon.addStatus(source.account, 'Layanan #paspor hari Sabtu');
    const left = mastodon.addStatus(source.account, 'Kegiatan olahraga');
    const arrivedAt = Date.now();
    expect(await poll(source.id)).toMatchObject({ outcome: 'polled', imported: 2 });
    // The rule takes the item to review at once; the other stays a draft for the office.
    expect((await postOf(source.id, taken.id)).status).toBe('submitted');
    expect((await postOf(source.id, left.id)).status).toBe('draft');

    const lane = await pendingRuleApprovals(t.ctx, {
      userId: national().id,
      role: 'reviewer',
      unitId: org.units.national.id,
      unitPath: org.units.national.path,
    });
    const entry = lane.find((e) => e.ruleId === rule.id)!;
    expect(entry).toMatchObject({ channelNames: ['Humas Nasional'], mode: 'copy' });
    expect(entry.decideAt.getTime() - arrivedAt).toBeGreaterThan(29 * MINUTE);
    expect(entry.publishAt!.getTime() - arrivedAt).toBeGreaterThan(59 * MINUTE);
    expect(
      await pendingRuleApprovals(t.ctx, {
        userId: org.user('regionB', 'reviewer').id,
        role: 'reviewer',
        unitId: org.units.regionB.id,
        unitPath: org.units.regionB.path,
      }),
    ).toEqual([]);

    // Inside the window nothing is approved.
    await applyDueRuleApprovals(t.ctx);
    expect((await postOf(source.id, taken.id)).status).toBe('submitted');

    offset = 31 * MINUTE;
    expect(await applyDueRuleApprovals(t.ctx)).toBeGreaterThanOrEqual(1);
    const approved = await postOf(source.id, taken.id);
    expect(approved).toMatchObject({ status: 'approved', decidedBy: national().id });
    const [delivery] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, approved.id));
    expect(delivery).toMatchObject({ channelId: nationalChannel, mode: 'copy', status: 'scheduled' });
    expect(Math.abs(delivery!.dueAt.getTime() - (arrivedAt + 60 * MINUTE))).toBeLessThan(MINUTE);
    const timeline = await t.ctx.db
      .select()
      .from(postEvents)
      .where(eq(postEvents.postId, approved.id))
      .orderBy(asc(postEvents.id));
    const approval = timeline.find((e) => e.toStatus === 'approved')!;
    expect(approval.body).toBe(`Approved by rule ${rule.id} (by ${rule.authorName})`);
    const audit = await t.ctx.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.targetId, approved.id), eq(auditEvents.action, 'post.approved_by_rule')));
    expect(audit[0]!.details).toMatchObject({ ruleId: rule.id, author: rule.authorName });
    const [record] = await t.ctx.db.select().from(ruleApprovals).where(eq(ruleApprovals.postId, approved.id));
    expect(record).toMatchObject({ outcome: 'approved' });
    offset = 0;
  });

  it("approves without a delay into the channel's next free slot, and a channel to reconnect holds the delivery", async () => {
    offset = 0;
    const source = await mastodonSource();
    const reconnect = await insertChannel(t.ctx, org.units.national, 'sandbox', {
      name: 'Humas Nasional (sambung ulang)',
      slots: ['0 9 * * *'],
    });
    const rule = await addRule(source.id, {
      channelIds: [nationalChannel, reconnect],
      mode: 'copy',
      stopWindowMinutes: 0,
    });
    expect(rule.statusCode, rule.body).toBe(201);
    await t.ctx.db.update(channels).set({ status: 'needs_reauth' }).where(eq(channels.id, reconnect));
    const status = mastodon.addStatus(source.account, 'Terbit di slot berikutnya');
    const arrivedAt = Date.now();
    await poll(source.id);
    await applyDueRuleApprovals(t.ctx);
    const post = await postOf(source.id, status.id);
    expect(post.status).toBe('approved');
    const made = await t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, post.id));
    expect(made.map((d) => d.status)).toEqual(['scheduled', 'scheduled']);
    for (const delivery of made) {
      // 09:00 in Jakarta (UTC+7), the first such slot after the item arrived.
      expect([delivery.dueAt.getUTCHours(), delivery.dueAt.getUTCMinutes()]).toEqual([2, 0]);
      expect(delivery.dueAt.getTime()).toBeGreaterThan(arrivedAt);
      expect(delivery.dueAt.getTime() - arrivedAt).toBeLessThanOrEqual(24 * 60 * MINUTE);
    }
    // When its slot comes, the channel that must be reconnected holds its delivery as any other.
    const held = made.find((d) => d.channelId === reconnect)!;
    offset = held.dueAt.getTime() - Date.now() + MINUTE;
    try {
      expect(await claimDelivery(t.ctx, held.id, { name: 'test-worker' })).toBeNull();
      const other = made.find((d) => d.channelId === nationalChannel)!;
      if (other.dueAt.getTime() <= held.dueAt.getTime())
        expect(await claimDelivery(t.ctx, other.id, { name: 'test-worker' })).not.toBeNull();
    } finally {
      offset = 0;
    }
  });

  it('a reviewer stops an approval in its window: the post waits in the inbox for a person', async () => {
    offset = 0;
    const source = await mastodonSource();
    const rule = (await addRule(source.id, { channelIds: [nationalChannel], mode: 'copy' })).json();
    expect(rule.stopWindowMinutes).toBe(30);
    const status = mastodon.addStatus(source.account, 'Pelayanan keliling');
    await poll(source.id);
    const post = await postOf(source.id, status.id);
    const stop = (who = org.user('regionA', 'reviewer')) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/sources/${source.id}/rules/${rule.id}/stop`,
        headers: who.headers,
        payload: { postId: post.id },
      });
    expect((await stop(office())).statusCode).toBe(403);
    expect((await stop()).statusCode).toBe(204);
    const again = await stop();
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('rule_approval_settled');
    offset = 31 * MINUTE;
    await applyDueRuleApprovals(t.ctx);
    expect((await postOf(source.id, status.id)).status).toBe('submitted');
    expect(await t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, post.id))).toEqual([]);
    offset = 0;
  });

  it('a post a rule holds waits only in the rule lane: not in the inbox list nor its counts, until stopped', async () => {
    offset = 0;
    const source = await mastodonSource();
    const rule = (await addRule(source.id, { channelIds: [nationalChannel], mode: 'copy' })).json();
    const word = `lane${randomUUID().slice(0, 8)}`;
    const status = mastodon.addStatus(source.account, `Pelayanan ${word}`);
    await poll(source.id);
    const post = await postOf(source.id, status.id);
    expect(post.status).toBe('submitted');

    const inbox = async (query = '') => {
      const response = await t.app.inject({ url: `/api/v1/reviews${query}`, headers: national().headers });
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json() as {
        items: { id: string }[];
        units: { unit: { id: string }; count: number }[];
        total: number;
      };
      const office = body.units.find((u) => u.unit.id === org.units.officeA1.id)?.count ?? 0;
      return { ids: body.items.map((item) => item.id), office, total: body.total };
    };
    const lane = async () =>
      (
        await pendingRuleApprovals(t.ctx, {
          userId: national().id,
          role: 'reviewer',
          unitId: org.units.national.id,
          unitPath: org.units.national.path,
        })
      ).map((entry) => entry.postId);

    // Held: in the lane only; the counts (from the tallies, and counted with words) leave it out.
    const held = await inbox();
    expect(held.ids).not.toContain(post.id);
    expect(await lane()).toContain(post.id);
    expect((await inbox(`?q=${word}`)).total).toBe(0);

    // Pausing the rule lets go of it: the post waits for a person, and the lane no longer lists it.
    const pause = (paused: boolean) =>
      t.app.inject({
        method: 'PATCH',
        url: `/api/v1/sources/${source.id}/rules/${rule.id}`,
        headers: national().headers,
        payload: { paused },
      });
    expect((await pause(true)).json()).toMatchObject({ paused: true, createdBy: national().id });
    const released = await inbox();
    expect(released.ids).toContain(post.id);
    expect(released.office).toBe(held.office + 1);
    expect(released.total).toBe(held.total + 1);
    expect(await lane()).not.toContain(post.id);
    expect(await inbox(`?q=${word}`)).toMatchObject({ ids: [post.id], total: 1, office: 1 });
    // A paused rule takes no new items.
    const later = mastodon.addStatus(source.account, 'Tidak diambil aturan yang dijeda');
    await poll(source.id);
    expect((await postOf(source.id, later.id)).status).toBe('draft');

    // Resumed, it holds the post again; stopped, the post is back in the inbox for good.
    await pause(false);
    expect(await inbox()).toMatchObject({ office: held.office, total: held.total });
    expect(await lane()).toContain(post.id);
    const stopped = await t.app.inject({
      method: 'POST',
      url: `/api/v1/sources/${source.id}/rules/${rule.id}/stop`,
      headers: national().headers,
      payload: { postId: post.id },
    });
    expect(stopped.statusCode).toBe(204);
    expect(await inbox()).toMatchObject({ office: held.office + 1, total: held.total + 1 });
    expect((await inbox()).ids).toContain(post.id);
    expect(await lane()).not.toContain(post.id);
  });

  it('a paused rule makes none of its pending approvals: the post waits for a person', async () => {
    offset = 0;
    const source = await mastodonSource();
    const rule = (
      await addRule(source.id, { channelIds: [nationalChannel], mode: 'copy', stopWindowMinutes: 5 })
    ).json();
    const status = mastodon.addStatus(source.account, 'Menunggu aturan yang dijeda');
    await poll(source.id);
    await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/sources/${source.id}/rules/${rule.id}`,
      headers: national().headers,
      payload: { paused: true },
    });
    offset = 6 * MINUTE;
    await applyDueRuleApprovals(t.ctx);
    offset = 0;
    const post = await postOf(source.id, status.id);
    expect(post.status).toBe('submitted');
    const [record] = await t.ctx.db.select().from(ruleApprovals).where(eq(ruleApprovals.postId, post.id));
    expect(record!.outcome).toBe('not approved: the rule is paused');
    expect(await t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, post.id))).toEqual([]);
  });

  it('the inbox shows what rules will approve in a lane of its own, with its time, stop and edit', async () => {
    offset = 0;
    const source = await mastodonSource();
    const rule = (
      await addRule(source.id, { channelIds: [nationalChannel], mode: 'copy', delayMinutes: 120 })
    ).json();
    const status = mastodon.addStatus(source.account, 'Pengumuman jam layanan');
    await poll(source.id);
    const post = await postOf(source.id, status.id);
    const session = await signIn(t.app, national().email, TEST_PASSWORD);
    const page = await t.app.inject({ url: '/inbox', headers: session.cookie });
    expect(page.statusCode).toBe(200);
    const lane = page.body.slice(page.body.indexOf('data-lane="automatic"'));
    expect(lane).toContain(`data-post="${post.id}"`);
    expect(lane).toMatch(/(Will publish automatically at|Akan terbit otomatis pukul) \d{2}[:.]\d{2}/);
    expect(lane).toContain(`/inbox/rules/${source.id}/${rule.id}/stop`);
    expect(lane).toContain(`#rule-${rule.id}`);
    const stopped = await submitForm(t.app, session, `/inbox/rules/${source.id}/${rule.id}/stop`, {
      post: post.id,
    });
    expect(stopped.statusCode).toBe(303);
    const after = await t.app.inject({ url: '/inbox', headers: session.cookie });
    expect(after.body).not.toContain(`data-rule="${rule.id}"`);
  });

  it("checks the author's rights again when it approves", async () => {
    offset = 0;
    const source = await mastodonSource();
    const author = org.user('regionA', 'reviewer');
    const regionChannel = await insertChannel(t.ctx, org.units.regionA, 'sandbox', {
      name: 'Wilayah A',
      slots: ['0 9 * * *'],
    });
    const rule = (
      await addRule(source.id, { channelIds: [regionChannel], mode: 'copy', stopWindowMinutes: 0 }, author)
    ).json();
    const status = mastodon.addStatus(source.account, 'Sosialisasi');
    await poll(source.id);
    await t.ctx.db.update(users).set({ role: 'contributor' }).where(eq(users.id, author.id));
    try {
      await applyDueRuleApprovals(t.ctx);
    } finally {
      await t.ctx.db.update(users).set({ role: 'reviewer' }).where(eq(users.id, author.id));
    }
    const post = await postOf(source.id, status.id);
    expect(post.status).toBe('submitted');
    const [record] = await t.ctx.db.select().from(ruleApprovals).where(eq(ruleApprovals.postId, post.id));
    expect(record!.outcome).toMatch(/^not approved: /);
    expect(record!.ruleId).toBe(rule.id);
  });

  it('refuses bad rules with the field and code of each problem', async () => {
    const source = await mastodonSource();
    const foreign = await addRule(source.id, { channelIds: [nationalChannel, regionBChannel], mode: 'copy' });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(foreign.json().errors).toEqual([
      expect.objectContaining({ field: 'channelIds.1', code: 'channel_not_targetable' }),
    ]);
    const regionA = org.user('regionA', 'reviewer');
    const notOwn = await addRule(source.id, { channelIds: [nationalChannel], mode: 'copy' }, regionA);
    expect(notOwn.json().errors).toEqual([
      expect.objectContaining({ field: 'channelIds.0', code: 'channel_not_targetable' }),
    ]);
    const unknown = await addRule(source.id, { channelIds: [randomUUID()], mode: 'copy' });
    expect(unknown.json().errors).toEqual([
      expect.objectContaining({ field: 'channelIds.0', code: 'channel_not_found' }),
    ]);
    const repost = await addRule(source.id, { channelIds: [nationalChannel], mode: 'repost' });
    expect(repost.statusCode).toBe(400);
    expect(repost.json().errors).toEqual([
      expect.objectContaining({ field: 'channelIds.0', code: 'mode_unavailable' }),
    ]);
    for (const [payload, field] of [
      [{ channelIds: [nationalChannel], mode: 'copy', stopWindowMinutes: 5_000 }, 'stopWindowMinutes'],
      [{ channelIds: [], mode: 'copy' }, 'channelIds'],
      [{ channelIds: [nationalChannel], mode: 'shout' }, 'mode'],
      [{ channelIds: [nationalChannel], mode: 'copy', hashtags: ['two words'] }, 'hashtags.0'],
    ] as const) {
      const response = await addRule(source.id, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(response.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    // Without a delay a rule publishes in the channel's next free slot: a channel without slots needs a delay.
    const slotless = await insertChannel(t.ctx, org.units.national, 'sandbox', { name: 'Tanpa slot' });
    const noSlots = await addRule(source.id, { channelIds: [nationalChannel, slotless], mode: 'copy' });
    expect(noSlots.statusCode).toBe(400);
    expect(noSlots.json().errors).toEqual([
      expect.objectContaining({ field: 'channelIds.1', code: 'no_slots' }),
    ]);
    const delayed = await addRule(source.id, { channelIds: [slotless], mode: 'copy', delayMinutes: 30 });
    expect(delayed.statusCode, delayed.body).toBe(201);
    const undelayed = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/sources/${source.id}/rules/${delayed.json().id}`,
      headers: national().headers,
      payload: { delayMinutes: null },
    });
    expect(undelayed.statusCode).toBe(400);
    expect(undelayed.json().errors[0]).toMatchObject({ field: 'channelIds.0', code: 'no_slots' });
    const missing = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/sources/${source.id}/rules/${randomUUID()}`,
      headers: national().headers,
      payload: { delayMinutes: 5 },
    });
    expect(missing.statusCode).toBe(404);
  });
});
