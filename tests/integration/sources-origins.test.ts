import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditEvents,
  deliveries,
  deliveryEvents,
  notifications,
  postEvents,
  postLevels,
  posts,
  sources,
} from '../../src/db/schema';
import type { SourceKind } from '../../src/domain/vocabulary';
import { advanceDelivery } from '../../src/services/publishing';
import { pollSource } from '../../src/services/sources';
import { createFakeBluesky, type FakeBluesky } from '../fakes/bluesky';
import { createFeedSite, type FeedSite } from '../fakes/feed-site';
import { createFakeMastodon, type FakeMastodon } from '../fakes/mastodon';
import { createGraphFake, type GraphFake } from '../fakes/meta/facebook-instagram';
import { createThreadsFake, type ThreadsFake } from '../fakes/meta/threads';
import { testImage } from '../fakes/platform-context';
import { createFakePlc, type FakePlc } from '../fakes/plc';
import { createFakeX, type FakeX } from '../fakes/x';
import { createFakeYoutube, type FakeYoutube } from '../fakes/youtube';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, type TestOrg } from '../helpers/org';
import { insertChannel } from '../helpers/posts';

const X_CLIENT = 'gaung-origin-client';
const YOUTUBE_KEY = 'AIzaSy-gaung-origin-key';

/** One platform that can tell whether an original still exists: an office account on its fake. */
interface Harness {
  kind: SourceKind;
  /** A new office account: the source row's address, settings and credentials. */
  account(): {
    url: string;
    handle: string;
    settings: Record<string, unknown>;
    credentials: Record<string, unknown> | null;
    owner: string;
  };
  /** The office posts on its account; returns the platform's id of the post. */
  post(owner: string, text: string): string;
  /** The office deletes it. */
  remove(nativeId: string): void;
}

/**
 * Originals deleted at their source, on each platform that can tell (X, Mastodon, Instagram,
 * Facebook, Threads, Bluesky, YouTube with the operator's Data API key; the fakes answer as the platforms do: X a
 * 200 with a resource-not-found error, Mastodon and Threads 404, Graph error code 100 subcode 33, the
 * PDS RecordNotFound, videos.list without the video): a post still in review is withdrawn
 * with a note to the office when its source is read; an approved one's scheduled deliveries go to
 * `needs_attention` just before publishing, and nothing is published.
 */
describe.each(testDrivers())('originals deleted at their source on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let x: FakeX;
  let mastodon: FakeMastodon;
  let graph: GraphFake;
  let threads: ThreadsFake;
  let pds: FakeBluesky;
  let plc: FakePlc;
  let youtube: FakeYoutube;
  let still: Buffer;
  let channelId: string;
  let counter = 0;

  beforeAll(async () => {
    x = createFakeX();
    x.registerClient(X_CLIENT);
    mastodon = createFakeMastodon();
    graph = createGraphFake();
    threads = createThreadsFake();
    pds = createFakeBluesky();
    plc = createFakePlc();
    youtube = createFakeYoutube();
    youtube.registerApiKey(YOUTUBE_KEY);
    still = await testImage({ hue: 40, format: 'jpeg' });
    await Promise.all([
      x.start(),
      mastodon.start(),
      graph.start(),
      threads.start(),
      pds.start(),
      plc.start(),
      youtube.start(),
    ]);
    t = await createTestApp(driver, {
      env: {
        GAUNG_X_API_URL: x.url,
        GAUNG_X_UPLOAD_URL: x.url,
        GAUNG_X_CLIENT_ID: X_CLIENT,
        GAUNG_GRAPH_API_URL: graph.url,
        GAUNG_THREADS_API_URL: threads.url,
        GAUNG_PLC_DIRECTORY_URL: plc.url,
        GAUNG_YOUTUBE_API_URL: youtube.url,
        GAUNG_YOUTUBE_FEEDS_URL: youtube.url,
        GAUNG_YOUTUBE_API_KEY: YOUTUBE_KEY,
      },
    });
    org = await seedTestOrg(t.ctx);
    channelId = await insertChannel(t.ctx, org.units.national, 'sandbox', { name: 'Nasional' });
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([
      x?.stop(),
      mastodon?.stop(),
      graph?.stop(),
      threads?.stop(),
      pds?.stop(),
      plc?.stop(),
      youtube?.stop(),
    ]);
  });

  const harnesses: Harness[] = [
    {
      kind: 'x',
      account() {
        const user = x.addUser({ username: `kanim_${randomUUID().slice(0, 6)}` });
        const tokens = x.issueTokens(user.id, { clientId: X_CLIENT });
        return {
          url: `https://x.com/${user.username}`,
          handle: user.username,
          settings: { userId: user.id, username: user.username },
          credentials: {
            accessToken: tokens.accessToken,
            refreshToken: tokens.refreshToken,
            expiresAt: tokens.expiresAt.toISOString(),
          },
          owner: user.id,
        };
      },
      post: (owner, text) => x.addPost(owner, text).id,
      remove: (id) => x.deletePost(id),
    },
    {
      kind: 'mastodon',
      account() {
        const username = `kanim_${++counter}`;
        const account = mastodon.addAccount({ username });
        return {
          url: `${mastodon.url}/@${username}`,
          handle: username,
          settings: {},
          credentials: null,
          owner: account.id,
        };
      },
      post: (owner, text) => mastodon.addStatus(owner, text).id,
      remove: (id) => mastodon.removeStatus(id),
    },
    {
      kind: 'instagram',
      account() {
        const page = graph.createPage(`Kanim ${++counter}`);
        const username = `kanim_ig_${counter}`;
        const { igUserId } = graph.linkInstagram(page.pageId, username);
        return {
          url: `https://www.instagram.com/${username}/`,
          handle: username,
          settings: { igUserId },
          credentials: { accessToken: page.pageToken },
          owner: igUserId,
        };
      },
      post: (owner, text) => graph.postIgMedia(owner, { caption: text, media: [] }).id,
      remove: (id) => graph.deleteObject(id),
    },
    {
      kind: 'facebook',
      account() {
        const { pageId, pageToken } = graph.createPage(`Kantor Imigrasi ${++counter}`);
        return {
          url: `https://www.facebook.com/${pageId}`,
          handle: pageId,
          settings: { pageId },
          credentials: { pageAccessToken: pageToken },
          owner: pageId,
        };
      },
      post: (owner, text) => graph.postOnPage(owner, { message: text }).id,
      remove: (id) => graph.deleteObject(id),
    },
    {
      kind: 'threads',
      account() {
        const username = `kanim_th_${++counter}`;
        const { userId, token } = threads.createUser(username);
        return {
          url: `https://www.threads.net/@${username}`,
          handle: username,
          settings: { userId },
          credentials: { accessToken: token },
          owner: userId,
        };
      },
      post: (owner, text) => threads.postThread(owner, { text }).id,
      remove: (id) => threads.deleteThread(id),
    },
    {
      kind: 'bluesky',
      account() {
        const handle = `kanim-${++counter}.bsky.test`;
        const account = pds.addAccount({ handle, appPassword: 'tidak-dipakai' });
        plc.register(account.did, { handle, pds: pds.url });
        return {
          url: `https://bsky.app/profile/${handle}`,
          handle,
          settings: { did: account.did },
          credentials: null,
          owner: account.did,
        };
      },
      post: (owner, text) => pds.addPost(owner, text).uri,
      remove: (uri) => pds.deleteRecord(uri),
    },
    {
      kind: 'youtube',
      account() {
        const channel = youtube.addChannel({ title: `Kanim ${++counter}` });
        return {
          url: `https://www.youtube.com/channel/${channel.id}`,
          handle: channel.id,
          settings: { channelId: channel.id },
          credentials: null,
          owner: channel.id,
        };
      },
      post: (owner, text) =>
        youtube.uploadOnYoutube(owner, {
          title: text,
          description: '',
          durationSeconds: 60,
          still,
          publishedAt: new Date(Date.now() - 60_000),
        }).id,
      remove: (id) => youtube.deleteVideo(id),
    },
  ];

  const office = () => org.user('officeA1', 'contributor');
  const reviewer = () => org.user('national', 'reviewer');

  async function addSource(harness: Harness) {
    const account = harness.account();
    const id = randomUUID();
    const now = new Date();
    await t.ctx.db.insert(sources).values({
      id,
      unitId: office().unitId,
      createdBy: office().id,
      kind: harness.kind,
      url: account.url,
      handle: account.handle,
      accountId: harness.kind === 'mastodon' ? account.owner : null,
      settings: account.settings,
      credentials: account.credentials ? t.ctx.keys.encrypt(account.credentials, id) : null,
      autoSubmit: true,
      since: new Date(now.getTime() - 3_600_000),
      nextPollAt: now,
    });
    return { id, owner: account.owner };
  }

  async function poll(sourceId: string) {
    await t.ctx.db
      .update(sources)
      .set({ nextPollAt: new Date(Date.now() - 1_000) })
      .where(eq(sources.id, sourceId));
    return pollSource(t.ctx, sourceId);
  }

  const postOf = async (sourceId: string, nativeId: string) => {
    const [row] = await t.ctx.db
      .select()
      .from(posts)
      .where(and(eq(posts.sourceId, sourceId), eq(posts.sourceItemKey, nativeId)));
    return row!;
  };

  it.each(harnesses.map((h) => [h.kind, h] as const))(
    '%s: deleted before approval → withdrawn from the inbox with a note; after approval → held, never published',
    async (_kind, harness) => {
      const source = await addSource(harness);
      const early = harness.post(source.owner, `Akan dihapus sebelum disetujui ${randomUUID()}`);
      const late = harness.post(source.owner, `Akan dihapus setelah disetujui ${randomUUID()}`);
      const kept = harness.post(source.owner, `Tetap ada ${randomUUID()}`);
      expect(await poll(source.id)).toMatchObject({ outcome: 'polled', imported: 3 });
      const approved = await postOf(source.id, late);
      expect(approved.status).toBe('submitted');
      const approval = await t.app.inject({
        method: 'POST',
        url: `/api/v1/posts/${approved.id}/approve`,
        headers: reviewer().headers,
        payload: { version: approved.version, targets: [{ channelId, mode: 'copy', at: 'now' }] },
      });
      expect(approval.statusCode, approval.body).toBe(200);
      const [delivery] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, approved.id));
      expect(delivery!.status).toBe('scheduled');

      // Deleted before approval: the next read finds it gone.
      harness.remove(early);
      expect(await poll(source.id)).toMatchObject({ outcome: 'polled' });
      const withdrawn = await postOf(source.id, early);
      expect(withdrawn.status).toBe('withdrawn');
      expect(withdrawn.originDeletedAt).not.toBeNull();
      const open = await t.ctx.db.select().from(postLevels).where(eq(postLevels.postId, withdrawn.id));
      expect(open.every((level) => level.closedAt !== null)).toBe(true);
      const timeline = await t.ctx.db
        .select()
        .from(postEvents)
        .where(eq(postEvents.postId, withdrawn.id))
        .orderBy(asc(postEvents.id));
      expect(timeline.at(-1)).toMatchObject({
        kind: 'transition',
        fromStatus: 'submitted',
        toStatus: 'withdrawn',
        actorId: null,
      });
      expect(timeline.at(-1)!.body).toMatch(/was deleted/);
      const told = await t.ctx.db
        .select()
        .from(notifications)
        .where(and(eq(notifications.postId, withdrawn.id), eq(notifications.kind, 'post.origin_deleted')));
      expect(told.map((n) => n.userId)).toContain(office().id);
      const audit = await t.ctx.db
        .select()
        .from(auditEvents)
        .where(and(eq(auditEvents.targetId, withdrawn.id), eq(auditEvents.action, 'post.origin_deleted')));
      expect(audit).toHaveLength(1);
      expect((await postOf(source.id, kept)).status).toBe('submitted');
      expect((await postOf(source.id, late)).originDeletedAt).toBeNull();

      // Deleted after approval, before publication: checked again just before publishing.
      harness.remove(late);
      const step = await advanceDelivery(t.ctx, delivery!.id);
      expect(step).toEqual({ next: 'done', outcome: 'the original was deleted' });
      const [held] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, delivery!.id));
      expect(held).toMatchObject({
        status: 'needs_attention',
        lastErrorCode: 'origin_deleted',
        remoteId: null,
      });
      expect(held!.lastError).toMatch(/was deleted/);
      const events = await t.ctx.db
        .select()
        .from(deliveryEvents)
        .where(eq(deliveryEvents.deliveryId, delivery!.id));
      expect(events.map((e) => e.toStatus)).toEqual(['scheduled', 'needs_attention']);
      expect((await postOf(source.id, late)).originDeletedAt).not.toBeNull();
      // A second look changes nothing and tells nobody twice.
      expect(await advanceDelivery(t.ctx, delivery!.id)).toEqual({
        next: 'done',
        outcome: 'needs_attention',
      });
      const notices = await t.ctx.db
        .select()
        .from(notifications)
        .where(and(eq(notifications.postId, approved.id), eq(notifications.userId, office().id)));
      expect(notices.filter((n) => n.kind === 'post.origin_deleted')).toHaveLength(1);
    },
  );

  it('an original that still exists is published as usual after the check', async () => {
    const harness = harnesses[1]!;
    const source = await addSource(harness);
    const nativeId = harness.post(source.owner, `Tetap ada ${randomUUID()}`);
    await poll(source.id);
    const post = await postOf(source.id, nativeId);
    const approval = await t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/approve`,
      headers: reviewer().headers,
      payload: { version: post.version, targets: [{ channelId, mode: 'copy', at: 'now' }] },
    });
    expect(approval.statusCode, approval.body).toBe(200);
    const [delivery] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, post.id));
    expect(await advanceDelivery(t.ctx, delivery!.id)).toEqual({ next: 'done', outcome: 'published' });
    expect((await postOf(source.id, nativeId)).originCheckedAt).not.toBeNull();
  });

  it('a post starts checked by the read that made it; a listed original is marked again only when its mark is an hour old', async () => {
    const harness = harnesses[1]!;
    const source = await addSource(harness);
    const nativeId = harness.post(source.owner, `Baru ${randomUUID()}`);
    const before = Date.now();
    await poll(source.id);
    const made = await postOf(source.id, nativeId);
    expect(made.originCheckedAt!.getTime()).toBeGreaterThanOrEqual(before);
    expect(made.originCheckedAt!.getTime()).toBeLessThanOrEqual(Date.now());

    // Listed again at once: the mark stays as it was (no rewrite of the post).
    await poll(source.id);
    expect((await postOf(source.id, nativeId)).originCheckedAt).toEqual(made.originCheckedAt);

    // Listed with a mark over an hour old: marked again.
    const old = new Date(Date.now() - 61 * 60_000);
    await t.ctx.db.update(posts).set({ originCheckedAt: old }).where(eq(posts.id, made.id));
    await poll(source.id);
    expect((await postOf(source.id, nativeId)).originCheckedAt!.getTime()).toBeGreaterThan(old.getTime());
  });
});

describe.each(testDrivers())('originals a platform cannot tell about on %s', (driver) => {
  let t: TestApp;
  let site: FeedSite;

  beforeAll(async () => {
    site = createFeedSite();
    await site.start();
    t = await createTestApp(driver, { env: { GAUNG_ALLOW_PRIVATE_URLS: '1' } });
  });
  afterAll(async () => {
    await t?.close();
    await site?.stop();
  });

  it('a post read from a web feed starts unchecked: its original is unknowable, not seen to exist', async () => {
    const org = await seedTestOrg(t.ctx);
    const office = org.user('officeA1', 'contributor');
    const id = randomUUID();
    const feed = site.feed(`/origins-${id}.xml`, { format: 'rss', title: 'Kanim' });
    feed.add({ title: `Berita ${id}`, published: new Date(Date.now() - 60_000) });
    await t.ctx.db.insert(sources).values({
      id,
      unitId: office.unitId,
      createdBy: office.id,
      kind: 'rss',
      url: feed.url,
      since: new Date(Date.now() - 3_600_000),
      nextPollAt: new Date(Date.now() - 1_000),
    });
    expect(await pollSource(t.ctx, id)).toMatchObject({ outcome: 'polled', imported: 1 });
    const [row] = await t.ctx.db.select().from(posts).where(eq(posts.sourceId, id));
    expect(row!.origin).not.toBeNull();
    expect(row!.originCheckedAt).toBeNull();
  });
});
