import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries, users } from '../../src/db/schema';
import { en } from '../../src/web/i18n/en';
import { id as msg } from '../../src/web/i18n/id';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { createPostVia, insertChannel } from '../helpers/posts';
import { signIn, submitForm, type TestSession } from '../helpers/session';

/**
 * The review page of an approved post: the reviewer sees its deliveries, adds channels of their own
 * unit through the page's form (refused with the platform's objection when the text is too long),
 * and cancels a scheduled delivery. A reviewer of another region finds nothing there.
 */

describe.each(testDrivers())('adding channels to an approved post on the review page on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let reviewer: TestSession;
  let otherRegion: TestSession;
  let postId = '';
  let telegramId = '';
  let xId = '';

  const page = (session: TestSession, url = `/review/${postId}`) =>
    t.app.inject({ url, headers: session.cookie });

  const form = (session: TestSession, url: string, fields: Record<string, string>, csrf?: string) =>
    submitForm(t.app, session, url, fields, csrf);

  const postVersion = async () => {
    const response = await t.app.inject({
      url: `/api/v1/posts/${postId}`,
      headers: org.user('regionA', 'reviewer').headers,
    });
    return String((response.json() as { version: number }).version);
  };

  const deliveryOn = async (channelId: string) =>
    (
      await t.ctx.db
        .select()
        .from(deliveries)
        .where(and(eq(deliveries.postId, postId), eq(deliveries.channelId, channelId)))
    )[0];

  /** The markup of one channel's card, from its start to its text field. */
  const cardOf = (html: string, channelId: string) => {
    const from = html.slice(html.indexOf(`data-channel="${channelId}"`));
    return from.slice(0, from.indexOf('</textarea>'));
  };

  beforeAll(async () => {
    t = await createTestApp(driver);
    org = await seedTestOrg(t.ctx);
    telegramId = await insertChannel(t.ctx, org.units.regionA, 'telegram', { name: 'Telegram Kanwil A' });
    xId = await insertChannel(t.ctx, org.units.regionA, 'x', { name: 'X Kanwil A', slots: ['0 9 * * *'] });
    await insertChannel(t.ctx, org.units.regionB, 'telegram', { name: 'Telegram Kanwil B' });
    postId = (
      await createPostVia(t.app, org.user('officeA1', 'contributor'), {
        body: 'Layanan paspor hari Sabtu dibuka pukul 08.00 WIB.',
      })
    ).id;
    reviewer = await signIn(t.app, org.user('regionA', 'reviewer').email, TEST_PASSWORD);
    otherRegion = await signIn(t.app, org.user('regionB', 'reviewer').email, TEST_PASSWORD);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('asks for the comment of a change request and the reason of a rejection, changing nothing without them', async () => {
    for (const [action, field, control] of [
      ['request-changes', 'comment', 'changes-comment'],
      ['reject', 'reason', 'reject-reason'],
    ] as const) {
      const refused = await form(reviewer, `/review/${postId}/${action}`, {
        version: await postVersion(),
        [field]: '  ',
      });
      expect(refused.statusCode, action).toBe(400);
      expect(refused.body).toContain(msg.fieldProblems.required);
      expect(refused.body).toContain(`id="${control}-error"`);
    }
    const post = await t.app.inject({
      url: `/api/v1/posts/${postId}`,
      headers: org.user('regionA', 'reviewer').headers,
    });
    expect(post.json()).toMatchObject({ status: 'submitted' });
  });

  it('approves the post to one channel, then offers the others in the add form', async () => {
    const approved = await form(reviewer, `/review/${postId}/approve`, {
      version: await postVersion(),
      [`on_${telegramId}`]: '1',
      [`mode_${telegramId}`]: 'copy',
      [`at_${telegramId}`]: 'now',
    });
    expect(approved.statusCode).toBe(303);
    expect(approved.headers.location).toBe('/inbox?ok=approved');

    const shown = await page(reviewer);
    expect(shown.statusCode).toBe(200);
    expect(shown.body).toContain(msg.review.addTargets);
    expect(shown.body).toContain(`action="/review/${postId}/targets"`);
    expect(shown.body).toContain(`data-channel="${xId}"`);
    // The channel it already has a delivery on is listed as a delivery, not offered again.
    expect(shown.body).not.toContain(`data-channel="${telegramId}"`);
    const telegram = await deliveryOn(telegramId);
    expect(shown.body).toContain(
      `data-delivery="${telegram!.id}" data-platform="telegram" data-status="scheduled"`,
    );
    expect(shown.body).toContain(`<time datetime="${telegram!.dueAt.toISOString()}">`);
    expect(shown.body).toContain(`action="/review/${postId}/targets/${telegramId}/cancel"`);
    expect(shown.body).toContain(`data-confirm="${msg.deliveries.cancelConfirm}"`);
    // Another region's channel is not the reviewer's to publish to.
    expect(shown.body).not.toContain('Telegram Kanwil B');
    // The approve, request-changes and reject forms belong to submitted posts only.
    expect(shown.body).not.toContain(`action="/review/${postId}/approve"`);
  });

  it('refuses a text over the platform limit with the objection next to the channel', async () => {
    const long = 'Antrean paspor '.repeat(20);
    const refused = await form(reviewer, `/review/${postId}/targets`, {
      version: await postVersion(),
      [`on_${xId}`]: '1',
      [`mode_${xId}`]: 'copy',
      [`at_${xId}`]: 'slot',
      [`text_${xId}`]: long,
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.body).toContain(msg.problems.invalid_targets);
    const card = cardOf(refused.body, xId);
    expect(card).toContain(msg.issues.text_too_long);
    expect(card).toContain(long.trim());
    expect(card).toMatch(new RegExp(`name="on_${xId}" value="1" checked`));
    expect(await deliveryOn(xId)).toBeUndefined();

    const noTime = await form(reviewer, `/review/${postId}/targets`, {
      version: await postVersion(),
      [`on_${xId}`]: '1',
      [`at_${xId}`]: 'time',
      [`time_${xId}`]: '',
    });
    expect(noTime.statusCode).toBe(400);
    expect(noTime.body).toContain(msg.problems.validation_failed);
    expect(noTime.body).toContain(`<span class="field-error">${msg.fieldProblems.invalid_date}</span>`);
    expect(await deliveryOn(xId)).toBeUndefined();
  });

  it("refuses a form without the session's CSRF token", async () => {
    const forged = await form(
      reviewer,
      `/review/${postId}/targets`,
      { version: await postVersion(), [`on_${xId}`]: '1', [`at_${xId}`]: 'slot' },
      'not-the-token',
    );
    expect(forged.statusCode).toBe(403);
    expect(await deliveryOn(xId)).toBeUndefined();
  });

  it('adds the second channel at its next free slot', async () => {
    const added = await form(reviewer, `/review/${postId}/targets`, {
      version: await postVersion(),
      [`on_${xId}`]: '1',
      [`mode_${xId}`]: 'copy',
      [`at_${xId}`]: 'slot',
      [`text_${xId}`]: '',
    });
    expect(added.statusCode).toBe(303);
    expect(added.headers.location).toBe(`/review/${postId}?ok=targetsAdded`);

    const delivery = await deliveryOn(xId);
    expect(delivery).toMatchObject({ status: 'scheduled', mode: 'copy', slotted: 1, textOverride: null });
    // 09:00 in Jakarta.
    expect([delivery!.dueAt.getUTCHours(), delivery!.dueAt.getUTCMinutes()]).toEqual([2, 0]);
    expect(delivery!.dueAt.getTime()).toBeGreaterThan(Date.now());

    const shown = await page(reviewer, `/review/${postId}?ok=targetsAdded`);
    expect(shown.body).toContain(msg.notices.targetsAdded);
    expect(shown.body).toContain(msg.review.noMoreTargets);
    expect(shown.body).toContain(`action="/review/${postId}/targets/${xId}/cancel"`);
  });

  it('shows a stale form refused in the reviewer’s language', async () => {
    const reviewerId = org.user('regionA', 'reviewer').id;
    await t.ctx.db.update(users).set({ locale: 'en' }).where(eq(users.id, reviewerId));
    try {
      const stale = await form(reviewer, `/review/${postId}/targets`, {
        version: '1',
        [`on_${xId}`]: '1',
        [`at_${xId}`]: 'now',
      });
      expect(stale.statusCode).toBe(409);
      expect(stale.body).toContain('<html lang="en">');
      expect(stale.body).toContain(en.problems.stale_version);
    } finally {
      await t.ctx.db.update(users).set({ locale: 'id' }).where(eq(users.id, reviewerId));
    }
  });

  it('cancels a scheduled delivery', async () => {
    const before = await deliveryOn(xId);
    const cancelled = await form(reviewer, `/review/${postId}/targets/${xId}/cancel`, {
      version: String(before!.version),
    });
    expect(cancelled.statusCode).toBe(303);
    expect(cancelled.headers.location).toBe(`/review/${postId}?ok=cancelled`);
    expect((await deliveryOn(xId))!.status).toBe('cancelled');
    expect((await deliveryOn(telegramId))!.status).toBe('scheduled');

    const shown = await page(reviewer, `/review/${postId}?ok=cancelled`);
    expect(shown.body).toContain(msg.notices.cancelled);
    expect(shown.body).toMatch(/data-platform="x" data-status="cancelled"/);
    expect(shown.body).not.toContain(`action="/review/${postId}/targets/${xId}/cancel"`);

    // Cancelled already: the page says why it cannot be done again.
    const again = await form(reviewer, `/review/${postId}/targets/${xId}/cancel`, {
      version: String(before!.version + 1),
    });
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain('class="alert alert-error"');
  });

  it('is not there for a reviewer of another region', async () => {
    expect((await page(otherRegion)).statusCode).toBe(404);
    const version = await postVersion();
    const added = await form(otherRegion, `/review/${postId}/targets`, {
      version,
      [`on_${xId}`]: '1',
      [`at_${xId}`]: 'now',
    });
    expect(added.statusCode).toBe(404);
    const cancelled = await form(otherRegion, `/review/${postId}/targets/${telegramId}/cancel`, {
      version: String((await deliveryOn(telegramId))!.version),
    });
    expect(cancelled.statusCode).toBe(404);
    expect((await deliveryOn(telegramId))!.status).toBe('scheduled');
    expect(await postVersion()).toBe(version);
  });
});
