import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channels, notifications, sources } from '../../src/db/schema';
import { exchangeThreadsCode } from '../../src/platforms/threads';
import { PlatformError } from '../../src/platforms/types';
import { endpointsOf } from '../../src/services/channels';
import { refreshChannelCredentials, sweep } from '../../src/services/maintenance';
import { pollSource } from '../../src/services/sources';
import { createThreadsFake, type ThreadsFake } from '../fakes/meta/threads';
import { createTestApp, type TestApp } from '../helpers/context';
import { seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { signIn, submitForm } from '../helpers/session';

const DAY_MS = 86_400_000;

/**
 * Threads accounts connected through Threads' authorization window (the fake checks the app, the
 * grant types and the codes): a channel through the API, its long-lived token refreshed before it
 * expires and, refused, the channel or source waiting for a person with a notice.
 */
// Connect flows talk to the platform only; one database driver is enough here.
describe('connecting Threads accounts', () => {
  let t: TestApp;
  let org: TestOrg;
  let threads: ThreadsFake;

  beforeAll(async () => {
    threads = createThreadsFake();
    await threads.start();
    t = await createTestApp('pglite', {
      env: {
        GAUNG_THREADS_API_URL: threads.url,
        GAUNG_THREADS_AUTH_URL: threads.authorizeUrl,
        GAUNG_THREADS_APP_ID: threads.app.appId,
        GAUNG_THREADS_APP_SECRET: threads.app.appSecret,
      },
    });
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t?.close();
    await threads?.stop();
  });

  const admin = () => org.user('national', 'admin');
  const office = () => org.user('officeA1', 'contributor');

  /** A Threads channel connected through the authorization window, as a browser does it. */
  async function connectedChannel(username: string) {
    const account = threads.createUser(username);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/channels',
      headers: admin().headers,
      payload: { unitId: org.units.national.id, platform: 'threads', name: `Threads ${username}` },
    });
    expect(created.statusCode, created.body).toBe(201);
    const channel = created.json();
    const start = await t.app.inject({
      url: `/api/v1/channels/${channel.id}/connect/threads`,
      headers: admin().headers,
    });
    expect(start.statusCode, start.body).toBe(200);
    const { code, state } = threads.consent(start.json().authorizeUrl, account.userId);
    const callback = await t.app.inject({
      url: `/api/v1/oauth/threads/callback?code=${code}&state=${state}`,
      headers: admin().headers,
    });
    expect(callback.statusCode, callback.body).toBe(302);
    expect(callback.headers.location).toBe(`/admin/channels/${channel.id}?connected=1`);
    const [row] = await t.ctx.db.select().from(channels).where(eq(channels.id, channel.id));
    return { account, row: row!, code };
  }

  const tokenOf = (row: { id: string; credentials: string | null }) =>
    t.ctx.keys.decrypt<{ accessToken: string; expiresAt: string }>(row.credentials!, row.id).accessToken;

  it('connects a channel: the code exchanged for a long-lived token, kept encrypted with its expiry', async () => {
    const { account, row } = await connectedChannel('humas_threads');
    expect(row).toMatchObject({ status: 'active', handle: '@humas_threads' });
    expect(row.settings).toMatchObject({ userId: account.userId });
    const token = tokenOf(row);
    expect(threads.tokenValid(token)).toBe(true);
    expect(row.credentials).not.toContain(token);
    expect(row.credentialsExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 59 * DAY_MS);

    // The authorization window is Threads' own, without PKCE, asking for what Gaung does.
    const start = await t.app.inject({
      url: `/api/v1/channels/${row.id}/connect/threads`,
      headers: { ...admin().headers, accept: 'text/html' },
    });
    expect(start.statusCode).toBe(302);
    const window = new URL(start.headers.location as string);
    expect(`${window.origin}${window.pathname}`).toBe(threads.authorizeUrl);
    expect(Object.fromEntries(window.searchParams)).toMatchObject({
      client_id: threads.app.appId,
      response_type: 'code',
      redirect_uri: `${t.config.publicUrl}/api/v1/oauth/threads/callback`,
      scope:
        'threads_basic,threads_content_publish,threads_manage_replies,threads_manage_insights,threads_delete',
    });
    expect(window.searchParams.has('code_challenge')).toBe(false);

    // The channel's page connects through Threads, not with a pasted token.
    const session = await signIn(t.app, admin().email, TEST_PASSWORD);
    const page = await t.app.inject({ url: `/admin/channels/${row.id}`, headers: session.cookie });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`href="/api/v1/channels/${row.id}/connect/threads"`);
    expect(page.body).not.toContain('name="accessToken"');
  });

  it('refuses a used code and a wrong app secret in the words of Threads', async () => {
    const { row, code } = await connectedChannel('humas_kode');
    const start = await t.app.inject({
      url: `/api/v1/channels/${row.id}/connect/threads`,
      headers: admin().headers,
    });
    const state = new URL(start.json().authorizeUrl).searchParams.get('state');
    const replay = await t.app.inject({
      url: `/api/v1/oauth/threads/callback?code=${code}&state=${state}`,
      headers: admin().headers,
    });
    expect(replay.statusCode).toBe(422);
    expect(replay.json()).toMatchObject({ code: 'connect_failed' });
    const [still] = await t.ctx.db.select().from(channels).where(eq(channels.id, row.id));
    expect(tokenOf(still!)).toBe(tokenOf(row));

    const account = threads.createUser('humas_rahasia');
    const fresh = threads.consent(start.json().authorizeUrl, account.userId);
    const wrongSecret = await exchangeThreadsCode(
      endpointsOf(t.ctx.config),
      { threads: { appId: threads.app.appId, appSecret: 'bukan-rahasia' } },
      { code: fresh.code, redirectUri: fresh.redirectUri },
    ).catch((error: unknown) => error);
    expect(wrongSecret).toBeInstanceOf(PlatformError);
    expect((wrongSecret as PlatformError).classification.message).toContain('Error validating client secret');
  });

  it('refreshes the long-lived token before it expires, through the sweep that refreshes every channel', async () => {
    const { row } = await connectedChannel('humas_segar');
    const old = tokenOf(row);
    const queued = async () =>
      (await t.ctx.queues.maintenance.getJobs(['waiting'])).filter(
        (job) => job.data.task === 'refresh-credentials' && job.data.channelId === row.id,
      );
    // An expired Threads token cannot be renewed, so it is renewed a week ahead, not minutes.
    await t.ctx.db
      .update(channels)
      .set({ credentialsExpiresAt: new Date(Date.now() + 8 * DAY_MS) })
      .where(eq(channels.id, row.id));
    await sweep(t.ctx);
    expect(await queued()).toHaveLength(0);
    // Threads renews only tokens at least a day old; this one was issued 55 days ago.
    threads.ageToken(old, 55 * 86_400);
    await t.ctx.db
      .update(channels)
      .set({ credentialsExpiresAt: new Date(Date.now() + 5 * DAY_MS) })
      .where(eq(channels.id, row.id));
    expect((await sweep(t.ctx)).refreshing).toBeGreaterThanOrEqual(1);
    expect(await queued()).toHaveLength(1);

    expect(await refreshChannelCredentials(t.ctx, row.id)).toMatch(/^refreshed until/);
    const [refreshed] = await t.ctx.db.select().from(channels).where(eq(channels.id, row.id));
    const token = tokenOf(refreshed!);
    expect(token).not.toBe(old);
    expect(threads.tokenValid(token)).toBe(true);
    expect(threads.tokenValid(old)).toBe(false);
    expect(refreshed!.credentialsExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 59 * DAY_MS);
    expect(refreshed!.status).toBe('active');
  });

  it('refreshes a token given through the API with its expiry, on creation and on a later change', async () => {
    const refreshJobs = async (channelId: string) =>
      (await t.ctx.queues.maintenance.getJobs(['waiting'])).filter(
        (job) => job.data.task === 'refresh-credentials' && job.data.channelId === channelId,
      );
    const account = threads.createUser('humas_tempel');
    const expiresAt = new Date(Date.now() + 5 * DAY_MS).toISOString();
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/channels',
      headers: admin().headers,
      payload: {
        unitId: org.units.national.id,
        platform: 'threads',
        name: 'Threads tempel',
        settings: { userId: account.userId },
        credentials: { accessToken: account.token, expiresAt },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ status: 'active', credentialsExpiresAt: expiresAt });
    await sweep(t.ctx);
    expect(await refreshJobs(created.json().id)).toHaveLength(1);

    const later = new Date(Date.now() + 50 * DAY_MS).toISOString();
    const changed = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/channels/${created.json().id}`,
      headers: admin().headers,
      payload: { credentials: { accessToken: account.token, expiresAt: later } },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json().credentialsExpiresAt).toBe(later);
    // Without an expiry there is nothing to plan a refresh by.
    const unknown = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/channels/${created.json().id}`,
      headers: admin().headers,
      payload: { credentials: { accessToken: account.token } },
    });
    expect(unknown.statusCode, unknown.body).toBe(200);
    expect(unknown.json().credentialsExpiresAt).toBeNull();
  });

  it('sets the channel to needs_reauth with a notice when Threads refuses the refresh', async () => {
    const { row } = await connectedChannel('humas_kedaluwarsa');
    threads.expireToken(tokenOf(row));
    expect(await refreshChannelCredentials(t.ctx, row.id)).toBe(
      'refresh refused: channel needs reauthorisation',
    );
    const [waiting] = await t.ctx.db.select().from(channels).where(eq(channels.id, row.id));
    expect(waiting!.status).toBe('needs_reauth');
    expect(waiting!.statusReason).toMatch(/Session has expired/);
    const notices = await t.ctx.db
      .select()
      .from(notifications)
      .where(eq(notifications.kind, 'channel.needs_reauth'));
    expect(notices.some((n) => (n.data as { channelId?: string }).channelId === row.id)).toBe(true);
  });

  it("refreshes a source's own token before a read, and sets the source to needs_reauth when it is refused", async () => {
    const account = threads.createUser('kanim_singkawang');
    const session = await signIn(t.app, office().email, TEST_PASSWORD);
    const start = await submitForm(t.app, session, '/sources/connect/threads', {});
    expect(start.statusCode).toBe(303);
    const url = start.headers.location as string;
    const { code, state } = threads.consent(url, account.userId);
    const back = await t.app.inject({
      url: `/api/v1/oauth/threads/callback?code=${code}&state=${state}`,
      headers: session.cookie,
    });
    expect(back.statusCode, back.body).toBe(302);
    const [source] = await t.ctx.db
      .select()
      .from(sources)
      .where(and(eq(sources.kind, 'threads'), eq(sources.handle, 'kanim_singkawang')));
    const old = tokenOf(source!);

    threads.ageToken(old, 57 * 86_400);
    threads.postThread(account.userId, { text: 'Layanan paspor Singkawang' });
    await t.ctx.db
      .update(sources)
      .set({
        credentialsExpiresAt: new Date(Date.now() + 3 * DAY_MS),
        nextPollAt: new Date(Date.now() - 1_000),
      })
      .where(eq(sources.id, source!.id));
    expect(await pollSource(t.ctx, source!.id)).toMatchObject({ outcome: 'polled', imported: 1 });
    const [renewed] = await t.ctx.db.select().from(sources).where(eq(sources.id, source!.id));
    expect(tokenOf(renewed!)).not.toBe(old);
    expect(renewed!.credentialsExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 59 * DAY_MS);

    threads.expireToken(tokenOf(renewed!));
    await t.ctx.db
      .update(sources)
      .set({ credentialsExpiresAt: new Date(Date.now() + 60_000), nextPollAt: new Date(Date.now() - 1_000) })
      .where(eq(sources.id, source!.id));
    expect(await pollSource(t.ctx, source!.id)).toMatchObject({ outcome: 'failed' });
    const [waiting] = await t.ctx.db.select().from(sources).where(eq(sources.id, source!.id));
    expect(waiting!.status).toBe('needs_reauth');
    const notices = await t.ctx.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.userId, office().id), eq(notifications.kind, 'source.needs_reauth')));
    expect(notices.some((n) => (n.data as { sourceId?: string }).sourceId === source!.id)).toBe(true);
  });
});
