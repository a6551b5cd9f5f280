import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { postMedia, posts, sources, telegramSourceBots } from '../../src/db/schema';
import { TELEGRAM_DOWNLOAD_MAX_BYTES } from '../../src/platforms/telegram-source';
import { enqueueDueSources } from '../../src/services/sources';
import { runTelegramBotRound } from '../../src/services/telegram-sources';
import { testImage, testVideo } from '../fakes/platform-context';
import { createTelegramFake, type TelegramFake, telegramTooManyRequests } from '../fakes/telegram';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, type TestOrg } from '../helpers/org';

/**
 * Telegram channels as sources: an office adds Gaung's source bot to its channel as an
 * administrator and names the channel; one round of the bot (getUpdates on the fake Bot API,
 * validated against the Bot API description) brings every channel's new posts to the sources of
 * their chat ids, an album as one post, media through getFile; the offset is kept in Postgres and a
 * round runs once however many workers offer it.
 */
describe.each(testDrivers())('Telegram channels as sources on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let telegram: TelegramFake;
  /** The time the app sees: albums younger than the settle time are left for the next round. */
  let clockOffsetMs = 60_000;

  beforeAll(async () => {
    telegram = createTelegramFake();
    await telegram.start();
    t = await createTestApp(driver, {
      env: {
        GAUNG_TELEGRAM_API_URL: telegram.url,
        GAUNG_TELEGRAM_SOURCE_BOT_TOKEN: telegram.bot.token,
      },
      now: () => new Date(Date.now() + clockOffsetMs),
    });
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t?.close();
    await telegram?.stop();
  });
  beforeEach(async () => {
    telegram.server.clearFaults();
    clockOffsetMs = 60_000;
    await t.ctx.queues.ingest.obliterate({ force: true });
  });

  const office = (name: 'officeA1' | 'officeA2' = 'officeA1') => org.user(name, 'contributor');
  const add = (payload: Record<string, unknown>, who = office()) =>
    t.app.inject({ method: 'POST', url: '/api/v1/sources', headers: who.headers, payload });
  const postsOf = (sourceId: string) =>
    t.ctx.db.select().from(posts).where(eq(posts.sourceId, sourceId)).orderBy(asc(posts.createdAt));
  const storedOffset = async () =>
    (await t.ctx.db.select().from(telegramSourceBots))[0]?.updateOffset ?? null;

  it('adds a channel the bot administers by its handle, and refuses one where the bot is only a member', async () => {
    const chat = telegram.createChat({ title: 'Kanim Medan', username: 'kanim_medan' });
    const created = await add({ kind: 'telegram', handle: '@kanim_medan', autoSubmit: true });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({
      kind: 'telegram',
      handle: 'kanim_medan',
      url: 'https://t.me/kanim_medan',
      title: 'Kanim Medan',
      settings: { chatId: String(chat.id) },
      hasCredentials: false,
    });
    const [row] = await t.ctx.db.select().from(sources).where(eq(sources.id, created.json().id));
    expect(row!.accountId).toBe(String(chat.id));

    telegram.createChat({ title: 'Kanim Binjai', username: 'kanim_binjai', botStatus: 'member' });
    const refused = await add({ kind: 'telegram', handle: 'kanim_binjai' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().errors[0]).toMatchObject({ field: 'handle', code: 'source_unreadable' });
    expect(refused.json().errors[0].message).toMatch(/not an administrator/);
    const unnamed = await add({ kind: 'telegram' });
    expect(unnamed.statusCode).toBe(400);
    expect(unnamed.json().errors[0]).toMatchObject({ field: 'handle', code: 'required' });
    // Telegram sources read with Gaung's bot: they take no credentials of their own.
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/sources/${created.json().id}`,
      headers: office().headers,
      payload: { credentials: { botToken: telegram.bot.token } },
    });
    expect(patched.statusCode).toBe(400);
  });

  it('routes each channel post to its source, an album as one post with its media, skips files over 20 MB, and keeps the offset', async () => {
    await runTelegramBotRound(t.ctx);
    const chat = telegram.createChat({ title: 'Kanim Pontianak', username: 'kanim_pontianak' });
    const stranger = telegram.createChat({ title: 'Kanal lain' });
    const source = (await add({ kind: 'telegram', handle: 'kanim_pontianak', tags: ['kalbar'] })).json();
    // A private channel of another office, named by its chat id.
    const privateChat = telegram.createChat({ title: 'Kanim Sambas' });
    const other = await add(
      { kind: 'telegram', settings: { chatId: String(privateChat.id) } },
      office('officeA2'),
    );
    expect(other.statusCode, other.body).toBe(201);
    expect(other.json().url).toMatch(/^https:\/\/t\.me\/c\//);

    const photos = await Promise.all([40, 200].map((hue) => testImage({ hue, format: 'jpeg' })));
    const album = telegram.postInChannel(chat.id, {
      text: 'Pelayanan paspor Sabtu',
      media: photos.map((bytes) => ({ kind: 'photo' as const, bytes })),
    });
    const video = await testVideo();
    telegram.postInChannel(chat.id, {
      text: 'Video panjang',
      media: [{ kind: 'video', bytes: video, claimedBytes: TELEGRAM_DOWNLOAD_MAX_BYTES + 1 }],
    });
    telegram.postInChannel(stranger.id, { text: 'Bukan sumber siapa pun' });
    const [sambas] = telegram.postInChannel(privateChat.id, { text: 'Kabar Sambas' });

    const round = await runTelegramBotRound(t.ctx);
    expect(round).toMatchObject({ outcome: 'read', unrouted: 1 });
    expect(round.imported).toMatchObject({ [source.id]: 2, [other.json().id]: 1 });

    const [albumPost, bigPost] = await postsOf(source.id);
    expect(albumPost).toMatchObject({
      status: 'draft',
      body: 'Pelayanan paspor Sabtu',
      tags: ['kalbar'],
      sourceUrl: `https://t.me/kanim_pontianak/${album[0]!.messageId}`,
    });
    expect(albumPost!.origin).toMatchObject({
      platform: 'telegram',
      nativeId: String(album[0]!.messageId),
      authorHandle: '@kanim_pontianak',
      ref: { chatId: String(chat.id), messageId: String(album[0]!.messageId) },
    });
    const albumMedia = await t.ctx.db.select().from(postMedia).where(eq(postMedia.postId, albumPost!.id));
    expect(albumMedia).toHaveLength(2);
    expect(bigPost!.body).toBe('Video panjang');
    expect(await t.ctx.db.select().from(postMedia).where(eq(postMedia.postId, bigPost!.id))).toHaveLength(0);
    const [sambasPost] = await postsOf(other.json().id);
    expect(sambasPost!.origin).toMatchObject({ nativeId: String(sambas!.messageId) });

    // The offset is Postgres's: the next round asks from it and brings nothing in twice.
    const offset = await storedOffset();
    expect(offset).toBeGreaterThan(0);
    const again = await runTelegramBotRound(t.ctx);
    expect(again).toMatchObject({ outcome: 'read', unrouted: 0 });
    const asked = telegram.server.received.filter((r) => r.url.endsWith('/getUpdates')).at(-1)!;
    expect((asked.body as { offset: number }).offset).toBe(offset);
    expect(await postsOf(source.id)).toHaveLength(2);
    const [row] = await t.ctx.db.select().from(sources).where(eq(sources.id, source.id));
    expect(row).toMatchObject({ itemsImported: 2, failures: 0, lastError: null });
    expect(row!.lastPolledAt).not.toBeNull();
    // The token never reaches the log (file URLs carry it).
    expect(t.logs.text).not.toContain(telegram.bot.token);
  });

  it('runs one round at a time however many workers offer it, and a paused source brings nothing in', async () => {
    await runTelegramBotRound(t.ctx);
    const chat = telegram.createChat({ title: 'Kanim Bengkayang', username: 'kanim_bengkayang' });
    const source = (await add({ kind: 'telegram', handle: 'kanim_bengkayang' })).json();
    telegram.postInChannel(chat.id, { text: 'Sekali saja' });
    const rounds = await Promise.all([runTelegramBotRound(t.ctx), runTelegramBotRound(t.ctx)]);
    expect(rounds.map((r) => r.outcome).sort()).toEqual(['busy', 'read']);
    expect(await postsOf(source.id)).toHaveLength(1);

    await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/sources/${source.id}`,
      headers: office().headers,
      payload: { paused: true },
    });
    telegram.postInChannel(chat.id, { text: 'Selagi dijeda' });
    expect((await runTelegramBotRound(t.ctx)).unrouted).toBe(1);
    expect(await postsOf(source.id)).toHaveLength(1);
  });

  it('leaves an album that may still be growing for the next round', async () => {
    await runTelegramBotRound(t.ctx);
    const chat = telegram.createChat({ title: 'Kanim Ketapang', username: 'kanim_ketapang' });
    const source = (await add({ kind: 'telegram', handle: 'kanim_ketapang' })).json();
    const photos = await Promise.all([10, 90, 160].map((hue) => testImage({ hue, format: 'jpeg' })));
    clockOffsetMs = 0;
    telegram.postInChannel(chat.id, { media: photos.map((bytes) => ({ kind: 'photo' as const, bytes })) });
    expect((await runTelegramBotRound(t.ctx)).imported[source.id] ?? 0).toBe(0);
    clockOffsetMs = 60_000;
    expect((await runTelegramBotRound(t.ctx)).imported[source.id]).toBe(1);
    const [post] = await postsOf(source.id);
    expect(await t.ctx.db.select().from(postMedia).where(eq(postMedia.postId, post!.id))).toHaveLength(3);
  });

  it('deletes a webhook it finds set, keeping the updates Telegram holds, and reads them on the next round', async () => {
    await runTelegramBotRound(t.ctx);
    const chat = telegram.createChat({ title: 'Kanim Putussibau', username: 'kanim_putussibau' });
    const source = (await add({ kind: 'telegram', handle: 'kanim_putussibau' })).json();
    // Left by an earlier setup of this bot; its address does not answer.
    const set = await fetch(`${telegram.url}/bot${telegram.bot.token}/setWebhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://gaung-lama.example/hooks/telegram/source' }),
    });
    expect(set.status).toBe(200);
    telegram.deliverTo('http://127.0.0.1:9');
    telegram.postInChannel(chat.id, { text: 'Selagi webhook terpasang' });

    expect(await runTelegramBotRound(t.ctx)).toMatchObject({ outcome: 'webhook_deleted' });
    expect(telegram.webhook()).toBeNull();
    const deleted = telegram.server.received.filter((r) => r.url.endsWith('/deleteWebhook')).at(-1)!;
    expect(deleted.body).toEqual({});
    expect(await runTelegramBotRound(t.ctx)).toMatchObject({ outcome: 'read', imported: { [source.id]: 1 } });
    expect(await postsOf(source.id)).toHaveLength(1);
  });

  it('keeps flood control on every Telegram source and reads again only after it', async () => {
    await runTelegramBotRound(t.ctx);
    telegram.createChat({ title: 'Kanim Singkawang', username: 'kanim_singkawang' });
    const source = (await add({ kind: 'telegram', handle: 'kanim_singkawang' })).json();
    telegram.server.inject(telegramTooManyRequests(900), { match: (r) => r.url.endsWith('/getUpdates') });
    const before = Date.now();
    expect(await runTelegramBotRound(t.ctx)).toMatchObject({ outcome: 'failed' });
    const [row] = await t.ctx.db.select().from(sources).where(eq(sources.id, source.id));
    expect(row!.failures).toBe(1);
    expect(row!.lastError).toMatch(/source bot/);
    expect(row!.nextPollAt.getTime()).toBeGreaterThanOrEqual(before + 900_000);
  });

  it('offers one bot round for all due Telegram sources, and "read now" asks for one', async () => {
    telegram.createChat({ title: 'Kanim Sanggau', username: 'kanim_sanggau' });
    const source = (await add({ kind: 'telegram', handle: 'kanim_sanggau' })).json();
    await t.ctx.queues.ingest.obliterate({ force: true });
    await t.ctx.db
      .update(sources)
      .set({ nextPollAt: new Date(Date.now() - 1_000), pausedAt: null, status: 'active' })
      .where(eq(sources.kind, 'telegram'));
    await enqueueDueSources(t.ctx);
    const jobs = await t.ctx.queues.ingest.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs.map((job) => job.name)).toEqual(['telegram-bot']);
    expect(jobs[0]!.data).toEqual({ telegramBotId: String(telegram.bot.id) });

    await t.ctx.queues.ingest.obliterate({ force: true });
    const polled = await t.app.inject({
      method: 'POST',
      url: `/api/v1/sources/${source.id}/poll`,
      headers: office().headers,
    });
    expect(polled.statusCode, polled.body).toBeLessThan(300);
    const after = await t.ctx.queues.ingest.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(after.map((job) => job.name)).toEqual(['telegram-bot']);
    expect(
      await t.ctx.db
        .select()
        .from(sources)
        .where(and(eq(sources.id, source.id), eq(sources.kind, 'telegram'))),
    ).toHaveLength(1);
  });
});
