import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries, posts, users } from '../../src/db/schema';
import type { PostOrigin } from '../../src/platforms/types';
import { en } from '../../src/web/i18n/en';
import { id as msg } from '../../src/web/i18n/id';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { createPostVia, insertChannel, insertMedia } from '../helpers/posts';
import { signIn, submitForm, type TestSession } from '../helpers/session';

/**
 * The review page of a post a source brought in: where the original was published, by whom and
 * when, a link to it, the media brought from it and whether it still exists; a YouTube original is
 * said to become a copy. The approve screen offers each channel only the modes its platform allows
 * for this original (a repost or quote only on the original's own platform), with the text limits,
 * and a repost chosen there is what the delivery does.
 */

const HOUR = 3_600_000;

describe.each(testDrivers())('the origin on the review page on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let reviewer: TestSession;
  let xId = '';
  let telegramId = '';
  let instagramId = '';
  let threadsId = '';

  /** A submitted post of office A1 whose original a source read (the source's read is tested on its own). */
  const postFrom = async (
    origin: PostOrigin,
    state: { checkedAt?: Date; deletedAt?: Date; sourceUrl?: string } = {},
  ) => {
    const photo = await insertMedia(t.ctx, org.units.officeA1);
    const post = await createPostVia(t.app, org.user('officeA1', 'contributor'), {
      body: 'Pelayanan paspor simpatik di Kanim Pontianak.',
      media: [{ id: photo }],
      ...(state.sourceUrl ? { sourceUrl: state.sourceUrl } : {}),
    });
    await t.ctx.db
      .update(posts)
      .set({
        origin,
        originCheckedAt: state.checkedAt ?? null,
        originDeletedAt: state.deletedAt ?? null,
      })
      .where(eq(posts.id, post.id));
    return post;
  };

  const page = async (postId: string) => {
    const response = await t.app.inject({ url: `/review/${postId}`, headers: reviewer.cookie });
    expect(response.statusCode).toBe(200);
    return response.body;
  };

  /** The markup of one channel's card on the approve screen, from its start to its text field. */
  const cardOf = (html: string, channelId: string) => {
    const from = html.slice(html.indexOf(`data-channel="${channelId}"`));
    return from.slice(0, from.indexOf('</textarea>'));
  };
  const modesOf = (card: string) => /data-modes="([^"]*)"/.exec(card)?.[1]?.split(' ');

  /** Approves the post to one channel now in `mode` on the approve screen; the mode its delivery got. */
  const approvedMode = async (post: { id: string; version: number }, channelId: string, mode: string) => {
    const approved = await submitForm(t.app, reviewer, `/review/${post.id}/approve`, {
      version: String(post.version),
      [`on_${channelId}`]: '1',
      [`mode_${channelId}`]: mode,
      [`at_${channelId}`]: 'now',
    });
    expect(approved.statusCode, approved.body.slice(0, 400)).toBe(303);
    const [delivery] = await t.ctx.db
      .select({ mode: deliveries.mode })
      .from(deliveries)
      .where(and(eq(deliveries.postId, post.id), eq(deliveries.channelId, channelId)));
    return delivery?.mode;
  };

  beforeAll(async () => {
    t = await createTestApp(driver);
    org = await seedTestOrg(t.ctx);
    xId = await insertChannel(t.ctx, org.units.regionA, 'x', { name: 'X Kanwil A' });
    telegramId = await insertChannel(t.ctx, org.units.regionA, 'telegram', { name: 'Telegram Kanwil A' });
    instagramId = await insertChannel(t.ctx, org.units.regionA, 'instagram', { name: 'IG Kanwil A' });
    threadsId = await insertChannel(t.ctx, org.units.regionA, 'threads', { name: 'Threads Kanwil A' });
    reviewer = await signIn(t.app, org.user('regionA', 'reviewer').email, TEST_PASSWORD);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('says where an X original was published, links it, and offers repost and quote on X only', async () => {
    const url = 'https://x.com/kanim_pontianak/status/1860000000000000001';
    const post = await postFrom(
      {
        platform: 'x',
        nativeId: '1860000000000000001',
        url,
        authorHandle: '@kanim_pontianak',
        publishedAt: new Date(Date.now() - 2 * HOUR - 10 * 60_000).toISOString(),
      },
      { checkedAt: new Date(Date.now() - 5 * 60_000), sourceUrl: url },
    );
    const html = await page(post.id);
    expect(html).toContain('data-origin="x"');
    expect(html).toContain('data-origin-state="exists"');
    expect(html).toContain(msg.review.originOn('X', '@kanim_pontianak', msg.review.ago(2 * 3600 + 600)));
    expect(html).toContain(`href="${url}"`);
    expect(html).toContain(msg.review.originExists);
    // The media brought from the original, each openable at full size.
    expect(html).toContain(msg.review.originMedia(1));
    expect(html).toContain(`href="/api/v1/media/`);
    expect(html).not.toContain(msg.review.originYoutube);

    const x = cardOf(html, xId);
    expect(modesOf(x)).toEqual(['copy', 'repost', 'quote']);
    expect(x).toContain(msg.review.modeTextUpTo(280));
    expect(x).toContain(msg.review.modeNoText);
    expect(x).not.toContain('data-copy-only');
    for (const other of [telegramId, instagramId]) {
      const card = cardOf(html, other);
      expect(modesOf(card), other).toEqual(['copy']);
      expect(card).toContain(msg.review.modeCopyOnly('X'));
      expect(card).not.toContain('value="repost"');
    }

    // Chosen on the approve screen, a repost is what the delivery on X does.
    expect(await approvedMode(post, xId, 'repost')).toBe('repost');
  });

  it('offers a repost and a quote on Threads of a thread its source read, and names a Facebook Page', async () => {
    const thread = await postFrom({
      platform: 'threads',
      nativeId: '17900000000000042',
      url: 'https://www.threads.net/@kanim_pontianak/post/C0ffee12345',
      authorHandle: '@kanim_pontianak',
      publishedAt: new Date(Date.now() - HOUR).toISOString(),
    });
    const html = await page(thread.id);
    expect(modesOf(cardOf(html, threadsId))).toEqual(['copy', 'repost', 'quote']);
    expect(modesOf(cardOf(html, xId))).toEqual(['copy']);
    expect(await approvedMode(thread, threadsId, 'quote')).toBe('quote');

    // A Facebook Page has a name rather than a handle: the review page names it.
    const post = await postFrom({
      platform: 'facebook',
      nativeId: '104729380001_55',
      url: 'https://www.facebook.com/104729380001/posts/55',
      authorHandle: 'Kantor Imigrasi Pontianak',
      publishedAt: new Date(Date.now() - HOUR).toISOString(),
    });
    expect(await page(post.id)).toContain(
      msg.review.originOn('Facebook', 'Kantor Imigrasi Pontianak', msg.review.ago(3600)),
    );
    // A pasted Threads link alone is not enough to quote: only a copy on Threads.
    const pasted = await createPostVia(t.app, org.user('officeA1', 'contributor'), {
      body: 'Tautan Threads yang ditempel.',
      sourceUrl: 'https://www.threads.net/@kanim_pontianak/post/C0ffee12399',
    });
    expect(modesOf(cardOf(await page(pasted.id), threadsId))).toEqual(['copy']);
  });

  it('says a YouTube video becomes a copy, and offers every channel a copy only', async () => {
    const post = await postFrom({
      platform: 'youtube',
      nativeId: 'dQw4w9WgXcQ',
      url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ',
      authorHandle: '@kanimpontianak',
      publishedAt: new Date(Date.now() - 30 * 60_000).toISOString(),
    });
    const html = await page(post.id);
    expect(html).toContain('data-origin="youtube"');
    expect(html).toContain(msg.review.originYoutube);
    expect(html).toContain('data-origin-state="unchecked"');
    expect(html).toContain(msg.review.originUnchecked);
    for (const channel of [xId, telegramId, instagramId])
      expect(modesOf(cardOf(html, channel)), channel).toEqual(['copy']);
  });

  it('says Telegram cannot tell whether its original exists, and offers a forward on Telegram', async () => {
    const post = await postFrom({
      platform: 'telegram',
      nativeId: '-1001234567890:42',
      url: 'https://t.me/kanim_pontianak/42',
      authorHandle: '@kanim_pontianak',
      publishedAt: new Date(Date.now() - 3 * 86_400_000).toISOString(),
      ref: { chatId: '-1001234567890', messageId: '42' },
    });
    const html = await page(post.id);
    expect(html).toContain('data-origin-state="unknowable"');
    expect(html).toContain(msg.review.originUnknowable('Telegram'));
    // Telegram forwards but has no quote; the other platforms take a copy.
    expect(modesOf(cardOf(html, telegramId))).toEqual(['copy', 'repost']);
    expect(modesOf(cardOf(html, xId))).toEqual(['copy']);
  });

  it('says an original deleted at its source is not republished, in English too', async () => {
    const post = await postFrom(
      {
        platform: 'instagram',
        nativeId: '17900000000000001',
        url: 'https://www.instagram.com/p/C0ffee12345/',
        authorHandle: '@kanim_pontianak',
        publishedAt: new Date(Date.now() - 5 * HOUR).toISOString(),
      },
      { deletedAt: new Date(Date.now() - HOUR) },
    );
    const html = await page(post.id);
    expect(html).toContain('data-origin-state="deleted"');
    expect(html).toContain(msg.review.originDeleted);
    // Instagram has no repost or quote in its API: a copy even on Instagram.
    expect(modesOf(cardOf(html, instagramId))).toEqual(['copy']);

    await t.ctx.db
      .update(users)
      .set({ locale: 'en' })
      .where(eq(users.id, org.user('regionA', 'reviewer').id));
    const english = await page(post.id);
    expect(english).toContain(en.review.originOn('Instagram', '@kanim_pontianak', en.review.ago(5 * 3600)));
    expect(english).toContain(en.review.originDeleted);
    expect(english).toContain(en.review.originLink);
  });

  it('is not shown to a reviewer of another region', async () => {
    const post = await postFrom({
      platform: 'x',
      nativeId: '1860000000000000009',
      url: 'https://x.com/kanim_pontianak/status/1860000000000000009',
      authorHandle: '@kanim_pontianak',
      publishedAt: new Date().toISOString(),
    });
    const other = await signIn(t.app, org.user('regionB', 'reviewer').email, TEST_PASSWORD);
    const response = await t.app.inject({ url: `/review/${post.id}`, headers: other.cookie });
    expect(response.statusCode).toBe(404);
    expect(response.body).not.toContain('kanim_pontianak');
  });
});
