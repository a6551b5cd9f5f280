import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries, posts } from '../../src/db/schema';
import type { PlatformAdapter } from '../../src/platforms/types';
import { advanceDelivery } from '../../src/services/publishing';
import { advanceRetraction } from '../../src/services/retraction';
import { id as msg } from '../../src/web/i18n/id';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { setChannelCredentials } from '../helpers/engine';
import { createLedgerAdapter, type LedgerServer, startLedgerServer } from '../helpers/ledger-platform';
import { seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { createPostVia, insertChannel } from '../helpers/posts';
import { signIn, submitForm, type TestSession } from '../helpers/session';

/**
 * Retracting from the web app: the confirmation lists every channel and what will happen on it and
 * refuses a retraction without a reason; the retraction then runs through the engine, the progress
 * page shows each channel, a person confirms the channel that cannot delete through its API, and
 * the press room and its feeds show the post as retracted with its reason instead of dropping it.
 */

const BY_HAND = 'Hapus sendiri di aplikasi, lalu konfirmasi';

describe.each(testDrivers())('retracting a post from the web app on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let ledger: LedgerServer;
  let reviewer: TestSession;
  let contributor: TestSession;
  let bluesky = '';
  let mastodon = '';
  let postId = '';

  beforeAll(async () => {
    ledger = await startLedgerServer({ dedupe: true });
    // A platform without a delete in its API: a person removes the post, as on Instagram.
    const byHand: PlatformAdapter = {
      ...createLedgerAdapter({ platform: 'mastodon', baseUrl: ledger.fake.url, reconcile: 'idempotent' }),
      async retract() {
        return { outcome: 'needs_person', message: BY_HAND };
      },
    };
    byHand.capabilities.retract = 'person';
    const adapters = [
      createLedgerAdapter({ platform: 'bluesky', baseUrl: ledger.fake.url, reconcile: 'idempotent' }),
      byHand,
    ];
    t = await createTestApp(driver, { adapters: () => adapters });
    org = await seedTestOrg(t.ctx);
    bluesky = await insertChannel(t.ctx, org.units.national, 'bluesky', { name: 'Bluesky Nasional' });
    mastodon = await insertChannel(t.ctx, org.units.national, 'mastodon', { name: 'Mastodon Nasional' });
    for (const channel of [bluesky, mastodon])
      await setChannelCredentials(t.ctx.db, t.ctx.keys, channel, { token: 'ledger-token' });
    const post = await createPostVia(t.app, org.user('officeA1', 'contributor'), {
      body: 'Layanan paspor hari Minggu dibuka pukul 08.00 WIB.',
    });
    postId = post.id;
    const approved = await t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${postId}/approve`,
      headers: org.user('national', 'reviewer').headers,
      payload: {
        version: post.version,
        targets: [
          { channelId: bluesky, mode: 'copy', at: 'now' },
          { channelId: mastodon, mode: 'copy', at: 'now' },
        ],
      },
    });
    expect(approved.statusCode, approved.body).toBe(200);
    for (const row of await t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, postId)))
      expect((await advanceDelivery(t.ctx, row.id)).next).toBe('done');
    reviewer = await signIn(t.app, org.user('national', 'reviewer').email, TEST_PASSWORD);
    contributor = await signIn(t.app, org.user('officeA1', 'contributor').email, TEST_PASSWORD);
  });

  afterAll(async () => {
    await t?.close();
    await ledger?.fake.stop();
  });

  const page = (session: TestSession, url: string) => t.app.inject({ url, headers: session.cookie });
  const version = async () =>
    String((await t.ctx.db.select().from(posts).where(eq(posts.id, postId)))[0]!.version);
  const deliveryOn = async (channelId: string) =>
    (await t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, postId))).find(
      (row) => row.channelId === channelId,
    )!;

  it('offers the retraction on the post and review pages to a reviewer, not to the office', async () => {
    const link = `href="/posts/${postId}/retract"`;
    expect((await page(reviewer, `/posts/${postId}`)).body).toContain(link);
    expect((await page(reviewer, `/review/${postId}`)).body).toContain(link);
    expect((await page(contributor, `/posts/${postId}`)).body).not.toContain(link);
    expect((await page(contributor, `/posts/${postId}/retract`)).statusCode).toBe(403);
  });

  it('lists every channel with what will happen there, and refuses a retraction without a reason', async () => {
    const confirm = await page(reviewer, `/posts/${postId}/retract`);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain('Bluesky Nasional');
    expect(confirm.body).toContain(msg.retraction.plan.retract);
    expect(confirm.body).toContain('Mastodon Nasional');
    expect(confirm.body).toContain(msg.retraction.plan.byHand);
    const refused = await submitForm(t.app, reviewer, `/posts/${postId}/retract`, {
      version: await version(),
      reason: '   ',
      correction: '',
      correction_as: 'new',
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain('id="reason-error"');
    expect((await deliveryOn(bluesky)).status).toBe('published');
    const forged = await submitForm(
      t.app,
      reviewer,
      `/posts/${postId}/retract`,
      { version: await version(), reason: 'Jadwal keliru' },
      'not-the-token',
    );
    expect(forged.statusCode).toBe(403);
    expect((await deliveryOn(bluesky)).status).toBe('published');
  });

  it('retracts through the engine, shows the progress, and takes a person’s word for the by-hand channel', async () => {
    const sent = await submitForm(t.app, reviewer, `/posts/${postId}/retract`, {
      version: await version(),
      reason: 'Jadwal layanan keliru',
      correction: '',
      correction_as: 'reply',
    });
    expect(sent.statusCode, sent.body).toBe(303);
    expect(sent.headers.location).toBe(`/posts/${postId}/retraction?ok=retracting`);
    const during = await page(reviewer, `/posts/${postId}/retraction`);
    expect(during.body).toContain('http-equiv="refresh"');
    expect(during.body).toContain('Jadwal layanan keliru');

    const ledgerPost = await deliveryOn(bluesky);
    expect(await advanceRetraction(t.ctx, ledgerPost.id)).toEqual({ next: 'done', outcome: 'retracted' });
    expect(ledger.deleted.filter((post) => post.ref === ledgerPost.id)).toHaveLength(1);
    const handed = await deliveryOn(mastodon);
    expect(await advanceRetraction(t.ctx, handed.id)).toEqual({ next: 'done', outcome: 'needs a person' });

    const waiting = await page(reviewer, `/posts/${postId}/retraction`);
    expect(waiting.body).toContain(BY_HAND);
    expect(waiting.body).toContain(`action="/deliveries/${handed.id}/confirm-retracted"`);
    expect(waiting.body).not.toContain('http-equiv="refresh"');
    // The office sees the progress but may not confirm for a channel it does not control.
    const office = await page(contributor, `/posts/${postId}/retraction`);
    expect(office.statusCode).toBe(200);
    expect(office.body).not.toContain('confirm-retracted');

    const row = await deliveryOn(mastodon);
    const confirmed = await submitForm(t.app, reviewer, `/deliveries/${handed.id}/confirm-retracted`, {
      version: String(row.version),
      back: `/posts/${postId}/retraction`,
    });
    expect(confirmed.statusCode, confirmed.body).toBe(303);
    expect(confirmed.headers.location).toBe(`/posts/${postId}/retraction?ok=retractionConfirmed`);
    expect((await deliveryOn(mastodon)).status).toBe('retracted');
    expect((await t.ctx.db.select().from(posts).where(eq(posts.id, postId)))[0]!.status).toBe('retracted');
    const done = await page(reviewer, `/posts/${postId}/retraction`);
    expect(done.body).toContain(msg.retraction.finished);
    // Retracted: nothing more to retract.
    expect((await page(reviewer, `/posts/${postId}`)).body).not.toContain(`href="/posts/${postId}/retract"`);
  });

  it('shows the post in the press room and its feeds as retracted with its reason, without its text or links', async () => {
    const press = await t.app.inject({ url: '/press' });
    const item = press.body.slice(press.body.indexOf(`id="post-${postId}"`));
    expect(item).toContain(msg.press.retractedBecause('Jadwal layanan keliru'));
    expect(item.slice(0, item.indexOf('</li>'))).not.toContain('Layanan paspor hari Minggu');
    expect(item.slice(0, item.indexOf('</li>'))).not.toContain(ledger.fake.url);
    const json = (await t.app.inject({ url: '/press/feed.json' })).json() as {
      items: { id: string; title: string; content_text: string; external_url?: string }[];
    };
    const entry = json.items.find((candidate) => candidate.id === `gaung:post:${postId}`)!;
    expect(entry.content_text).toBe(msg.press.retractedBecause('Jadwal layanan keliru'));
    expect(entry.external_url).toBeUndefined();
    const rss = (await t.app.inject({ url: '/press/feed.xml' })).body;
    expect(rss).toContain(`<title>${msg.press.retractedBecause('Jadwal layanan keliru')}</title>`);
    expect(rss).not.toContain('Layanan paspor hari Minggu');
  });
});
