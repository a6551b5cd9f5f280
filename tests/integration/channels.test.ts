import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditEvents, channels, deliveries, notifications, posts } from '../../src/db/schema';
import { KeyRing } from '../../src/infra/crypto';
import { createSandboxAdapter } from '../../src/platforms/sandbox';
import type { PlatformAdapter } from '../../src/platforms/types';
import { PlatformError } from '../../src/platforms/types';
import { markNeedsReauth, platformContextFor } from '../../src/services/channels';
import { createSandboxTimeline } from '../../src/services/sandbox-timeline';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, type TestOrg } from '../helpers/org';

const GOOD_TOKEN = `good-${randomBytes(8).toString('hex')}`;

/** A platform stand-in that accepts one token: enough to drive the channel life cycle. */
const fakeMastodon: PlatformAdapter = {
  platform: 'mastodon',
  capabilities: {
    text: true,
    images: false,
    video: false,
    repost: false,
    quote: false,
    metrics: false,
    reconcile: 'none',
    mediaByUrl: false,
    retract: 'api',
    replies: false,
  },
  credentialsSchema: z.strictObject({ accessToken: z.string().min(8) }),
  settingsSchema: z.strictObject({ instanceUrl: z.url() }),
  async verifyCredentials(ctx) {
    if (ctx.credentials.accessToken !== GOOD_TOKEN)
      throw new PlatformError({ kind: 'auth', message: 'The access token is invalid', httpStatus: 401 });
    return { remoteId: '42', handle: '@humas@mastodon.test' };
  },
  async publish() {
    throw new PlatformError({ kind: 'invalid', message: 'not used here' });
  },
  async retract() {
    throw new PlatformError({ kind: 'invalid', message: 'not used here' });
  },
  async findPublished() {
    return 'cannot_tell';
  },
  classifyError: (error) =>
    error instanceof PlatformError ? error.classification : { kind: 'retry', message: String(error) },
};

describe.each(testDrivers())('channels on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  const api = (
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    who: { headers: object },
    payload?: object,
  ) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: who.headers as Record<string, string>, payload });

  beforeAll(async () => {
    t = await createTestApp(driver, {
      adapters: ({ db, publicUrl }) => [
        fakeMastodon,
        createSandboxAdapter(createSandboxTimeline(db), publicUrl),
      ],
    });
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t.close();
  });

  const mastodonChannel = (credentials: object, extra: object = {}) => ({
    unitId: org.units.national.id,
    platform: 'mastodon',
    name: 'Mastodon Humas',
    settings: { instanceUrl: 'https://mastodon.test' },
    credentials,
    slots: ['0 9 * * *', '30 15 * * 1-5'],
    ...extra,
  });

  it('connects a channel, verifies it, stores the credentials encrypted and never returns them', async () => {
    const admin = org.user('national', 'admin');
    const response = await api('POST', '/channels', admin, mastodonChannel({ accessToken: GOOD_TOKEN }));
    expect(response.statusCode).toBe(201);
    const channel = response.json();
    expect(channel).toMatchObject({
      platform: 'mastodon',
      status: 'active',
      handle: '@humas@mastodon.test',
      connected: true,
      timeZone: 'Asia/Jakarta',
      slots: ['0 9 * * *', '30 15 * * 1-5'],
    });
    expect(response.body).not.toContain(GOOD_TOKEN);
    expect(channel.credentials).toBeUndefined();

    const [row] = await t.ctx.db.select().from(channels).where(eq(channels.id, channel.id));
    expect(row!.credentials).not.toContain(GOOD_TOKEN);
    expect(t.ctx.keys.decrypt(row!.credentials!, channel.id)).toEqual({ accessToken: GOOD_TOKEN });
    // Bound to this channel: the ciphertext does not open as another channel's.
    expect(() => t.ctx.keys.decrypt(row!.credentials!, crypto.randomUUID())).toThrow();

    const listed = await api('GET', '/channels', org.user('officeA1', 'contributor'));
    expect(listed.statusCode).toBe(200);
    expect(listed.body).not.toContain(GOOD_TOKEN);
    expect(listed.json().channels.map((c: { id: string }) => c.id)).toContain(channel.id);
    expect(t.logs.text).not.toContain(GOOD_TOKEN);
  });

  it('marks a channel whose credentials are refused as needing re-authorisation and tells its owners', async () => {
    const admin = org.user('national', 'admin');
    const response = await api(
      'POST',
      '/channels',
      admin,
      mastodonChannel({ accessToken: 'wrong-token-123' }),
    );
    expect(response.statusCode).toBe(201);
    const channel = response.json();
    expect(channel.status).toBe('needs_reauth');
    expect(channel.statusReason).toBe('The access token is invalid');
    const told = await t.ctx.db
      .select()
      .from(notifications)
      .where(eq(notifications.kind, 'channel.needs_reauth'));
    const recipients = told.filter((n) => n.data.channelId === channel.id).map((n) => n.userId);
    expect(recipients.sort()).toEqual(
      [org.user('national', 'reviewer').id, org.user('national', 'admin').id].sort(),
    );

    const fixed = await api('PATCH', `/channels/${channel.id}`, admin, {
      credentials: { accessToken: GOOD_TOKEN },
    });
    expect(fixed.statusCode).toBe(200);
    expect(fixed.json()).toMatchObject({ status: 'active', statusReason: null });
  });

  it('refuses bad settings, slots, time zones and credit lines with field errors and stores nothing', async () => {
    const admin = org.user('national', 'admin');
    const before = await t.ctx.db.select().from(channels);
    const cases: Array<[object, string]> = [
      [
        mastodonChannel({ accessToken: GOOD_TOKEN }, { settings: { instanceUrl: 'not a url' } }),
        'settings.instanceUrl',
      ],
      [mastodonChannel({ accessToken: 'short' }), 'credentials.accessToken'],
      [
        mastodonChannel({ accessToken: GOOD_TOKEN }, { slots: ['0 9 * * *', 'every day at nine'] }),
        'slots.1',
      ],
      [mastodonChannel({ accessToken: GOOD_TOKEN }, { timeZone: 'Asia/Atlantis' }), 'timeZone'],
      [mastodonChannel({ accessToken: GOOD_TOKEN }, { creditTemplate: '📍 {unit}' }), 'creditTemplate'],
      [mastodonChannel({ accessToken: GOOD_TOKEN }, { creditTemplate: '{text} {office}' }), 'creditTemplate'],
      [mastodonChannel({ accessToken: GOOD_TOKEN }, { platform: 'myspace' }), 'platform'],
      [mastodonChannel({ accessToken: GOOD_TOKEN }, { password: 'x' }), 'password'],
    ];
    for (const [payload, field] of cases) {
      const response = await api('POST', '/channels', admin, payload);
      expect(response.statusCode, field).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json().errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(response.body).not.toContain('short');
    }
    expect(await t.ctx.db.select().from(channels)).toHaveLength(before.length);
  });

  it('lets only administrators of the owning subtree manage a channel', async () => {
    const created = await api('POST', '/channels', org.user('regionB', 'admin'), {
      unitId: org.units.regionB.id,
      platform: 'sandbox',
      name: 'Sandbox Kanwil B',
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().id;
    expect(created.json().status).toBe('active');
    expect(created.json().timeZone).toBe('Asia/Makassar');

    expect((await api('GET', `/channels/${id}`, org.user('regionA', 'admin'))).statusCode).toBe(404);
    expect(
      (await api('PATCH', `/channels/${id}`, org.user('regionA', 'admin'), { name: 'x' })).statusCode,
    ).toBe(404);
    expect(
      (await api('PATCH', `/channels/${id}`, org.user('officeB1', 'admin'), { name: 'x' })).statusCode,
    ).toBe(403);
    expect(
      (await api('PATCH', `/channels/${id}`, org.user('regionB', 'reviewer'), { name: 'x' })).statusCode,
    ).toBe(403);
    expect(
      (await api('PATCH', `/channels/${id}`, org.user('national', 'admin'), { name: 'Sandbox B' }))
        .statusCode,
    ).toBe(200);
    expect(
      (
        await api('POST', '/channels', org.user('officeA1', 'admin'), {
          unitId: org.units.national.id,
          platform: 'sandbox',
          name: 'Not mine',
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await api('POST', '/channels', org.user('officeA1', 'admin'), {
          unitId: org.units.officeB1.id,
          platform: 'sandbox',
          name: 'Not mine',
        })
      ).statusCode,
    ).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/channels' })).statusCode).toBe(401);
  });

  it('replaces posting slots and pauses a channel', async () => {
    const admin = org.user('national', 'admin');
    const id = (
      await api('POST', '/channels', admin, {
        unitId: org.units.national.id,
        platform: 'sandbox',
        name: 'Slots',
      })
    ).json().id;
    const slots = await api('PUT', `/channels/${id}/slots`, admin, { slots: ['0 8 * * *', '0 20 * * *'] });
    expect(slots.statusCode).toBe(200);
    expect(slots.json().slots).toEqual(['0 8 * * *', '0 20 * * *']);
    expect((await api('PUT', `/channels/${id}/slots`, admin, { slots: ['61 8 * * *'] })).statusCode).toBe(
      400,
    );
    expect((await api('GET', `/channels/${id}`, admin)).json().slots).toEqual(['0 8 * * *', '0 20 * * *']);

    expect((await api('PATCH', `/channels/${id}`, admin, { paused: true })).json().status).toBe('paused');
    // A check of a paused channel's credentials leaves it paused: only a person resumes it.
    const verified = await api('POST', `/channels/${id}/verify`, admin);
    expect(verified.statusCode).toBe(200);
    expect((await api('GET', `/channels/${id}`, admin)).json().status).toBe('paused');
    const resumed = await api('PATCH', `/channels/${id}`, admin, { paused: false });
    expect(resumed.json().status).toBe('active');
  });

  it('records every status change of a channel in the audit, a refusal while publishing too', async () => {
    const admin = org.user('national', 'admin');
    const id = (
      await api('POST', '/channels', admin, {
        unitId: org.units.national.id,
        platform: 'sandbox',
        name: 'Audited',
      })
    ).json().id;
    expect((await api('GET', `/channels/${id}`, admin)).json().status).toBe('active');
    await markNeedsReauth(t.ctx, id, 'The token was revoked');
    const [row] = await t.ctx.db.select().from(channels).where(eq(channels.id, id));
    expect(row).toMatchObject({ status: 'needs_reauth', statusReason: 'The token was revoked' });
    const events = await t.ctx.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.targetId, id), eq(auditEvents.action, 'channel.needs_reauth')));
    expect(events).toHaveLength(1);
    expect(events[0]!.details).toMatchObject({ from: 'active', status: 'needs_reauth' });
    // Told once: a second refusal of the same channel changes nothing and records nothing.
    await markNeedsReauth(t.ctx, id, 'The token was revoked');
    const again = await t.ctx.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.targetId, id), eq(auditEvents.action, 'channel.needs_reauth')));
    expect(again).toHaveLength(1);
  });

  it('archives a removed channel and cancels what it had scheduled', async () => {
    const admin = org.user('national', 'admin');
    const id = (
      await api('POST', '/channels', admin, {
        unitId: org.units.national.id,
        platform: 'sandbox',
        name: 'Going away',
      })
    ).json().id;
    const author = org.user('officeA1', 'contributor');
    const [post] = await t.ctx.db
      .insert(posts)
      .values({ unitId: org.units.officeA1.id, authorId: author.id, status: 'approved', body: 'Halo' })
      .returning();
    const [delivery] = await t.ctx.db
      .insert(deliveries)
      .values({
        postId: post!.id,
        channelId: id,
        mode: 'copy',
        dueAt: new Date(Date.now() + 3_600_000),
        renderedText: 'Halo',
      })
      .returning();
    expect((await api('DELETE', `/channels/${id}`, admin)).statusCode).toBe(204);
    expect((await api('GET', `/channels/${id}`, admin)).statusCode).toBe(404);
    const [after] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, delivery!.id));
    expect(after!.status).toBe('cancelled');
  });

  it('re-encrypts credentials under a new key after rotation, and stores a rotated token exactly once', async () => {
    const admin = org.user('national', 'admin');
    const id = (await api('POST', '/channels', admin, mastodonChannel({ accessToken: GOOD_TOKEN }))).json()
      .id;
    const oldKeys = t.ctx.keys;
    const [before] = await t.ctx.db.select().from(channels).where(eq(channels.id, id));
    try {
      const newKey = randomBytes(32).toString('base64');
      t.ctx.keys = new KeyRing(newKey, [t.config.GAUNG_SECRET_KEY!]);
      const platform = await platformContextFor(t.ctx, before!);
      expect(platform.credentials).toEqual({ accessToken: GOOD_TOKEN });
      const [after] = await t.ctx.db.select().from(channels).where(eq(channels.id, id));
      expect(after!.credentials!.split('.')[1]).toBe(t.ctx.keys.currentKeyId);
      expect(after!.credentials!.split('.')[1]).not.toBe(before!.credentials!.split('.')[1]);
      expect(new KeyRing(newKey).decrypt(after!.credentials!, id)).toEqual({ accessToken: GOOD_TOKEN });

      // Two workers refresh at once from the same stored version: one write wins, the other is told.
      const [a, b] = await Promise.all([
        platformContextFor(t.ctx, after!),
        platformContextFor(t.ctx, after!),
      ]);
      const saved = await Promise.all([
        a.saveCredentials({ accessToken: `${GOOD_TOKEN}-a` }, null),
        b.saveCredentials({ accessToken: `${GOOD_TOKEN}-b` }, null),
      ]);
      expect(saved.filter(Boolean)).toHaveLength(1);
      const winner = saved[0] ? 'a' : 'b';
      expect(await b.reloadCredentials()).toEqual({ accessToken: `${GOOD_TOKEN}-${winner}` });
    } finally {
      t.ctx.keys = oldKeys;
    }
  });
});
