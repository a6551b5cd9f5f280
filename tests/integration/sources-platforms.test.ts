import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  auditEvents,
  channels,
  notifications,
  postEvents,
  postMedia,
  posts,
  sources,
} from '../../src/db/schema';
import { SOURCE_KINDS } from '../../src/domain/vocabulary';
import { readableSourceKinds } from '../../src/platforms/index';
import { pollSource } from '../../src/services/sources';
import { testImage } from '../fakes/platform-context';
import { createFakeX, type FakeX } from '../fakes/x';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, type TestOrg } from '../helpers/org';

const CLIENT_ID = 'gaung-source-client';

/**
 * Platform accounts as sources, through the API and the ingest poll: an office's X account (the fake
 * X API, validated against X's OpenAPI document) is read with its own tokens or with a channel's,
 * each post becomes one post of the office with its media and origin, and refused credentials or a
 * spent rate limit are kept on the source.
 */
describe.each(testDrivers())('platform accounts as sources on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let x: FakeX;

  beforeAll(async () => {
    x = createFakeX();
    x.registerClient(CLIENT_ID);
    await x.start();
    t = await createTestApp(driver, {
      env: { GAUNG_X_API_URL: x.url, GAUNG_X_UPLOAD_URL: x.url, GAUNG_X_CLIENT_ID: CLIENT_ID },
    });
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t?.close();
    await x?.stop();
  });
  beforeEach(() => x.server.clearFaults());

  const office = () => org.user('officeA1', 'contributor');

  /** A fresh X account of the office and tokens for it. */
  function account() {
    const user = x.addUser({ username: `kanim_${randomUUID().slice(0, 6)}` });
    const tokens = x.issueTokens(user.id, { clientId: CLIENT_ID });
    return {
      user,
      credentials: {
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expiresAt: tokens.expiresAt.toISOString(),
      },
    };
  }

  const add = (payload: Record<string, unknown>, who = office()) =>
    t.app.inject({ method: 'POST', url: '/api/v1/sources', headers: who.headers, payload });

  async function pollNow(sourceId: string) {
    await t.ctx.db
      .update(sources)
      .set({ nextPollAt: new Date(Date.now() - 1_000) })
      .where(eq(sources.id, sourceId));
    return pollSource(t.ctx, sourceId);
  }

  const postsOf = (sourceId: string) =>
    t.ctx.db.select().from(posts).where(eq(posts.sourceId, sourceId)).orderBy(asc(posts.createdAt));

  it('reads an X account with its own tokens: one post per item with media and origin, never twice', async () => {
    const { user, credentials } = account();
    const created = await add({ unitId: office().unitId, kind: 'x', credentials, tags: ['kanim'] });
    expect(created.statusCode, created.body).toBe(201);
    const source = created.json();
    expect(source).toMatchObject({
      kind: 'x',
      handle: user.username,
      url: `https://x.com/${user.username}`,
      hasCredentials: true,
      status: 'active',
    });
    expect(created.body).not.toContain(credentials.accessToken);
    const [stored] = await t.ctx.db.select().from(sources).where(eq(sources.id, source.id));
    expect(stored!.credentials).not.toContain(credentials.accessToken);

    const image = await testImage({ hue: 30, format: 'jpeg' });
    const first = x.addPost(user.id, 'Layanan paspor Sabtu', undefined, {
      media: [{ type: 'photo', bytes: image, altText: 'Loket paspor' }],
    });
    x.addPost(user.id, 'Balasan', undefined, { replyTo: first.id });
    expect(await pollNow(source.id)).toMatchObject({ outcome: 'polled', imported: 1 });

    const [post] = await postsOf(source.id);
    expect(post).toMatchObject({ status: 'draft', body: 'Layanan paspor Sabtu', tags: ['kanim'] });
    expect(post!.origin).toMatchObject({
      platform: 'x',
      nativeId: first.id,
      authorHandle: `@${user.username}`,
      url: expect.stringContaining(first.id),
    });
    const media = await t.ctx.db.select().from(postMedia).where(eq(postMedia.postId, post!.id));
    expect(media.map((m) => m.altText)).toEqual(['Loket paspor']);

    const view = await t.app.inject({ url: `/api/v1/posts/${post!.id}`, headers: office().headers });
    expect(view.json().origin).toMatchObject({ platform: 'x', nativeId: first.id });

    // The cursor is kept: the next read asks only for newer posts, and nothing comes in twice.
    const [afterFirst] = await t.ctx.db.select().from(sources).where(eq(sources.id, source.id));
    expect(afterFirst!.cursor).toBe(first.id);
    // X's reads are few and paid: the next read waits X's own interval, longer than the others'.
    expect(t.ctx.config.GAUNG_SOURCE_POLL_SECONDS_X).toBeGreaterThan(t.ctx.config.GAUNG_SOURCE_POLL_SECONDS);
    expect(afterFirst!.nextPollAt.getTime() - afterFirst!.lastPolledAt!.getTime()).toBe(
      t.ctx.config.GAUNG_SOURCE_POLL_SECONDS_X * 1000,
    );
    const second = x.addPost(user.id, 'Kegiatan Minggu');
    expect(await pollNow(source.id)).toMatchObject({ outcome: 'polled', imported: 1 });
    const timeline = x.server.received.filter((r) => r.url.startsWith(`/2/users/${user.id}/tweets`));
    expect(new URL(timeline.at(-1)!.url, x.url).searchParams.get('since_id')).toBe(first.id);
    await t.ctx.db.update(sources).set({ cursor: null }).where(eq(sources.id, source.id));
    expect(await pollNow(source.id)).toMatchObject({ outcome: 'polled', imported: 0 });
    expect((await postsOf(source.id)).map((p) => p.sourceItemKey)).toEqual([first.id, second.id]);
  });

  it('reads with a channel of the same unit and platform, connected once for both', async () => {
    const { user, credentials } = account();
    const [channel] = await t.ctx.db
      .insert(channels)
      .values({
        unitId: office().unitId,
        platform: 'x',
        name: `@${user.username}`,
        settings: { userId: user.id, username: user.username },
        credentials: 'pending',
        timeZone: 'Asia/Jakarta',
      })
      .returning();
    await t.ctx.db
      .update(channels)
      .set({ credentials: t.ctx.keys.encrypt(credentials, channel!.id) })
      .where(eq(channels.id, channel!.id));
    const created = await add({ kind: 'x', channelId: channel!.id });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ channelId: channel!.id, hasCredentials: false });
    x.addPost(user.id, 'Dari kanal yang sama');
    expect(await pollNow(created.json().id)).toMatchObject({ outcome: 'polled', imported: 1 });

    // A channel of another unit cannot lend its credentials.
    const other = await add({ kind: 'x', channelId: channel!.id }, org.user('officeA2', 'contributor'));
    expect(other.statusCode).toBe(400);
    expect(other.json().errors[0]).toMatchObject({ field: 'channelId' });
  });

  it('brings a post in whose photo answers 404 with its other photo, naming the missing one, and takes replies only when included', async () => {
    const { user, credentials } = account();
    const source = (
      await add({ kind: 'x', credentials, settings: { userId: user.id, username: user.username } })
    ).json();
    const image = await testImage({ hue: 80, format: 'jpeg' });
    const post = x.addPost(user.id, 'Dua foto, satu hilang', undefined, {
      media: [
        { type: 'photo', bytes: image, altText: 'Ada' },
        { type: 'photo', bytes: null, altText: 'Hilang' },
      ],
    });
    const reply = x.addPost(user.id, 'Lanjutan utas', undefined, { replyTo: post.id });
    expect(await pollNow(source.id)).toMatchObject({ outcome: 'polled', imported: 1 });
    const [taken] = await postsOf(source.id);
    expect(taken!.sourceItemKey).toBe(post.id);
    const media = await t.ctx.db.select().from(postMedia).where(eq(postMedia.postId, taken!.id));
    expect(media.map((m) => m.altText)).toEqual(['Ada']);
    const [event] = await t.ctx.db.select().from(postEvents).where(eq(postEvents.postId, taken!.id));
    expect(event!.data).toMatchObject({
      source: { mediaSkipped: [{ url: expect.any(String), reason: expect.stringContaining('404') }] },
    });

    // The office asks for its replies too (a thread's continuation): the next read brings the reply in.
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/sources/${source.id}`,
      headers: office().headers,
      payload: { settings: { userId: user.id, username: user.username, include: ['reply'] } },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    await t.ctx.db.update(sources).set({ cursor: null }).where(eq(sources.id, source.id));
    expect(await pollNow(source.id)).toMatchObject({ outcome: 'polled', imported: 1 });
    expect((await postsOf(source.id)).map((p) => p.sourceItemKey)).toEqual([post.id, reply.id]);
  });

  it('keeps a spent rate limit on the source and reads again only after X resets it', async () => {
    const { user, credentials } = account();
    const source = (await add({ kind: 'x', credentials })).json();
    x.addPost(user.id, 'Tertahan');
    const resetAt = new Date(Math.ceil((Date.now() + 40 * 60_000) / 1000) * 1000);
    x.server.inject(x.rateLimitFault(resetAt, 900), {
      match: (r) => r.url.startsWith(`/2/users/${user.id}/tweets`),
    });
    expect(await pollNow(source.id)).toMatchObject({ outcome: 'failed', imported: 0 });
    const [row] = await t.ctx.db.select().from(sources).where(eq(sources.id, source.id));
    expect(row!.nextPollAt.getTime()).toBeGreaterThanOrEqual(resetAt.getTime());
    expect(row!.lastError).toBeTruthy();
    expect(await postsOf(source.id)).toHaveLength(0);
  });

  it('sets the source to needs_reauth when X refuses its tokens, tells the office, and reads again once reconnected', async () => {
    const { user, credentials } = account();
    const source = (await add({ kind: 'x', credentials })).json();
    x.addPost(user.id, 'Sesudah disambung lagi');
    x.server.inject(
      {
        kind: 'respond',
        status: 401,
        headers: { 'content-type': 'application/problem+json' },
        body: JSON.stringify({
          title: 'Unauthorized',
          type: 'about:blank',
          status: 401,
          detail: 'Unauthorized',
        }),
      },
      { match: (r) => r.url.startsWith('/2/'), times: 10 },
    );
    expect(await pollNow(source.id)).toMatchObject({ outcome: 'failed' });
    x.server.clearFaults();
    const [row] = await t.ctx.db.select().from(sources).where(eq(sources.id, source.id));
    expect(row!.status).toBe('needs_reauth');
    const notices = await t.ctx.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.userId, office().id), eq(notifications.kind, 'source.needs_reauth')));
    expect(notices.some((n) => (n.data as { sourceId?: string }).sourceId === source.id)).toBe(true);
    const audit = await t.ctx.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.targetId, source.id), eq(auditEvents.action, 'source.needs_reauth')));
    expect(audit).toHaveLength(1);
    // Not read while it waits for a person.
    expect(await pollNow(source.id)).toMatchObject({ outcome: 'not_due' });

    const again = x.issueTokens(user.id, { clientId: CLIENT_ID });
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/sources/${source.id}`,
      headers: office().headers,
      payload: {
        credentials: {
          accessToken: again.accessToken,
          refreshToken: again.refreshToken,
          expiresAt: again.expiresAt.toISOString(),
        },
      },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().status).toBe('active');
    expect(await pollNow(source.id)).toMatchObject({ outcome: 'polled', imported: 1 });
  });

  it('refuses a kind without a reader, and credentials X does not accept, storing nothing', async () => {
    const before = (await t.ctx.db.select({ id: sources.id }).from(sources)).length;
    // A kind no adapter reads yet (the readers come one platform at a time) is refused on its field.
    const readable = readableSourceKinds(t.ctx.platforms);
    const unreadable = SOURCE_KINDS.find((kind) => !readable.includes(kind));
    if (unreadable) {
      const refusedKind = await add({ kind: unreadable, handle: 'kanim_medan' });
      expect(refusedKind.statusCode).toBe(400);
      expect(refusedKind.json().errors[0]).toMatchObject({ field: 'kind', code: 'source_kind_unavailable' });
    }
    const refused = await add({
      kind: 'x',
      credentials: {
        accessToken: 'nope',
        refreshToken: 'nope',
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().errors[0]).toMatchObject({ field: 'credentials' });
    expect(refused.body).not.toContain('nope');
    expect((await t.ctx.db.select({ id: sources.id }).from(sources)).length).toBe(before);
  });
});
