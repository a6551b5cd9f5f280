import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries } from '../../src/db/schema';
import { postMediaList } from '../../src/services/posts';
import { advanceDelivery } from '../../src/services/publishing';
import { createWebhookReceiver, type WebhookReceiver } from '../fakes/webhook';
import { createTestApp, type TestApp } from '../helpers/context';
import { insertDeliveries, setChannelCredentials } from '../helpers/engine';
import { seedTestOrg, type TestOrg } from '../helpers/org';
import { createPostVia, insertChannel, insertMedia } from '../helpers/posts';

/**
 * Holes found by reading Gaung as an attacker would, each closed where the mechanism lives; every
 * case here failed before its fix.
 */
describe('security hardening', () => {
  let t: TestApp;
  let org: TestOrg;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = createWebhookReceiver(randomBytes(32).toString('hex'));
    await receiver.start();
    t = await createTestApp('pglite');
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.stop();
  });

  describe('a webhook whose receiver answers without an address', () => {
    const token = `rahasia-${randomBytes(8).toString('hex')}`;
    let channelId: string;

    beforeAll(async () => {
      receiver.receipts = false;
      channelId = await insertChannel(t.ctx, org.units.national, 'webhook', {
        name: 'Intranet humas',
        settings: { url: `${receiver.url}?token=${token}` },
      });
      await setChannelCredentials(t.ctx.db, t.ctx.keys, channelId, { secret: receiver.secret });
      const [deliveryId] = await insertDeliveries(t.ctx.db, {
        unitId: org.units.officeA1.id,
        authorId: org.user('officeA1', 'contributor').id,
        targets: [{ channelId, dueAt: new Date(Date.now() - 1_000) }],
      });
      await advanceDelivery(t.ctx, deliveryId!);
      const [delivery] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, deliveryId!));
      expect(delivery).toMatchObject({ status: 'published', remoteUrl: null });
    });
    afterAll(() => {
      receiver.receipts = true;
    });

    it('stays out of the press room and its feeds', async () => {
      for (const url of ['/press', '/press/feed.xml', '/press/feed.json']) {
        const response = await t.app.inject(url);
        expect(response.statusCode).toBe(200);
        expect(response.body).not.toContain(token);
        expect(response.body).not.toContain('Kabar kantor nomor');
      }
    });

    it('shows its URL only to those who manage the channel', async () => {
      const seen = async (role: 'contributor' | 'reviewer' | 'admin', unit: 'officeA1' | 'national') => {
        const headers = org.user(unit, role).headers;
        const list = await t.app.inject({ url: '/api/v1/channels', headers });
        const one = await t.app.inject({ url: `/api/v1/channels/${channelId}`, headers });
        expect(one.statusCode).toBe(200);
        const listed = (list.json() as { channels: { id: string; settings: object }[] }).channels.find(
          (c) => c.id === channelId,
        );
        return [listed?.settings, (one.json() as { settings: object }).settings];
      };
      expect(await seen('contributor', 'officeA1')).toEqual([{}, {}]);
      expect(await seen('admin', 'officeA1')).toEqual([{}, {}]);
      expect(await seen('reviewer', 'national')).toEqual([{}, {}]);
      const url = `${receiver.url}?token=${token}`;
      expect(await seen('admin', 'national')).toEqual([{ url }, { url }]);
    });
  });

  describe('alt text of a medium on a post in review', () => {
    it('is what was approved that gets published, and a change before approval shows and stales the decision', async () => {
      const office = org.user('officeA1', 'contributor');
      const reviewer = org.user('national', 'reviewer');
      const channelId = await insertChannel(t.ctx, org.units.national, 'sandbox');
      const mediumId = await insertMedia(t.ctx, org.units.officeA1);
      const post = await createPostVia(t.app, office, {
        body: 'Pelayanan paspor',
        media: [{ id: mediumId }],
      });
      const editAlt = (altText: string) =>
        t.app.inject({
          method: 'PATCH',
          url: `/api/v1/media/${mediumId}`,
          headers: office.headers,
          payload: { altText },
        });
      const approve = (version: number) =>
        t.app.inject({
          method: 'POST',
          url: `/api/v1/posts/${post.id}/approve`,
          headers: reviewer.headers,
          payload: {
            version,
            targets: [{ channelId, mode: 'copy', at: new Date(Date.now() + 86_400_000).toISOString() }],
          },
        });

      expect((await editAlt('Antrean loket paspor')).statusCode).toBe(200);
      // The reviewer looked at the post before the change: that decision is stale.
      expect((await approve(post.version)).statusCode).toBe(409);
      const events = await t.app.inject({
        url: `/api/v1/posts/${post.id}/events`,
        headers: reviewer.headers,
      });
      expect(JSON.stringify(events.json())).toContain('Antrean loket paspor');
      const review = await t.app.inject({ url: `/review/${post.id}`, headers: reviewer.headers });
      expect(review.body).toContain('Antrean loket paspor');

      const current = (
        await t.app.inject({ url: `/api/v1/posts/${post.id}`, headers: reviewer.headers })
      ).json() as {
        version: number;
      };
      expect((await approve(current.version)).statusCode).toBe(200);
      expect((await editAlt('Teks lain sesudah persetujuan')).statusCode).toBe(200);
      const [published] = await postMediaList(t.ctx.db, post.id);
      expect(published?.altText).toBe('Antrean loket paspor');
    });
  });

  describe('a draft withdrawn before it was ever submitted', () => {
    it('stays inside its office', async () => {
      const office = org.user('officeA1', 'contributor');
      const draft = await createPostVia(t.app, office, { body: 'Draf yang dibuang' }, { submit: false });
      const withdrawn = await t.app.inject({
        method: 'POST',
        url: `/api/v1/posts/${draft.id}/withdraw`,
        headers: office.headers,
        payload: { version: draft.version },
      });
      expect(withdrawn.json()).toMatchObject({ status: 'withdrawn' });
      for (const reader of [org.user('regionA', 'reviewer'), org.user('national', 'admin')]) {
        const one = await t.app.inject({ url: `/api/v1/posts/${draft.id}`, headers: reader.headers });
        expect(one.statusCode).toBe(404);
        const list = await t.app.inject({ url: '/api/v1/posts?status=withdrawn', headers: reader.headers });
        expect(JSON.stringify(list.json())).not.toContain(draft.id);
      }
      expect(
        (await t.app.inject({ url: `/api/v1/posts/${draft.id}`, headers: office.headers })).statusCode,
      ).toBe(200);
    });
  });

  describe('going back after signing in', () => {
    it.each(['/\t/evil.example/', '/\\evil.example/', '//evil.example/', '/%09/evil.example/'])(
      'never leaves the site for next=%j',
      async (next) => {
        const actor = org.user('officeA1', 'contributor');
        const signedIn = await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email: actor.email, password: 'kata-sandi-uji-12345' },
        });
        const cookie = signedIn.headers['set-cookie'];
        const response = await t.app.inject({
          url: `/login?next=${encodeURIComponent(next)}`,
          headers: { cookie: Array.isArray(cookie) ? cookie.join('; ') : String(cookie) },
        });
        expect(response.statusCode).toBe(303);
        const location = new URL(String(response.headers.location), t.config.publicUrl);
        expect(location.origin).toBe(new URL(t.config.publicUrl).origin);
      },
    );
  });
});
