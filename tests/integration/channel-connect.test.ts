import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channels } from '../../src/db/schema';
import { createGraphFake, type GraphFake } from '../fakes/meta/facebook-instagram';
import { createFakeX, type FakeX } from '../fakes/x';
import { createTestApp, type TestApp } from '../helpers/context';
import { seedTestOrg, type TestOrg } from '../helpers/org';

const CLIENT_ID = 'gaung-test-client';

// Connect flows talk to the platforms only; one database driver is enough here.
describe('connecting accounts', () => {
  let t: TestApp;
  let org: TestOrg;
  let x: FakeX;
  let graph: GraphFake;

  beforeAll(async () => {
    x = createFakeX();
    graph = createGraphFake();
    await Promise.all([x.start(), graph.start()]);
    x.registerClient(CLIENT_ID);
    t = await createTestApp('pglite', {
      env: {
        GAUNG_X_API_URL: x.url,
        GAUNG_X_UPLOAD_URL: x.url,
        GAUNG_X_CLIENT_ID: CLIENT_ID,
        GAUNG_GRAPH_API_URL: graph.url,
        GAUNG_META_APP_ID: graph.app.appId,
        GAUNG_META_APP_SECRET: graph.app.appSecret,
      },
    });
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t.close();
    await Promise.all([x.stop(), graph.stop()]);
  });

  const admin = () => org.user('national', 'admin');
  const create = async (platform: string, name: string, extra: object = {}) => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/channels',
      headers: admin().headers,
      payload: { unitId: org.units.national.id, platform, name, ...extra },
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json();
  };

  /** What the browser does: X's consent screen, then the redirect back to Gaung. */
  async function consentAtX(authorizeUrl: string, userId: string) {
    const url = new URL(authorizeUrl);
    // twitter-api-v2 writes the method in lower case, as X's own examples do.
    expect(url.searchParams.get('code_challenge_method')).toMatch(/^s256$/i);
    expect(url.searchParams.get('scope')!.split(' ')).toContain('offline.access');
    const code = x.authorize({
      clientId: url.searchParams.get('client_id')!,
      userId,
      redirectUri: url.searchParams.get('redirect_uri')!,
      codeChallenge: url.searchParams.get('code_challenge')!,
      scope: url.searchParams.get('scope')!,
    });
    return { code, state: url.searchParams.get('state')! };
  }

  it('connects an X account with OAuth 2.0 and PKCE, storing refreshable tokens', async () => {
    const account = x.addUser({ username: 'humas_nasional' });
    const channel = await create('x', 'X Humas');
    expect(channel).toMatchObject({ status: 'needs_reauth', connected: false });

    const start = await t.app.inject({
      url: `/api/v1/channels/${channel.id}/connect/x`,
      headers: admin().headers,
    });
    expect(start.statusCode).toBe(200);
    const { code, state } = await consentAtX(start.json().authorizeUrl, account.id);
    expect(new URL(start.json().authorizeUrl).searchParams.get('redirect_uri')).toBe(
      `${t.config.publicUrl}/api/v1/oauth/x/callback`,
    );

    const callback = await t.app.inject({
      url: `/api/v1/oauth/x/callback?code=${code}&state=${state}`,
      headers: admin().headers,
    });
    expect(callback.statusCode).toBe(302);
    expect(callback.headers.location).toBe(`/admin/channels/${channel.id}?connected=1`);

    const [row] = await t.ctx.db.select().from(channels).where(eq(channels.id, channel.id));
    expect(row).toMatchObject({ status: 'active', handle: 'humas_nasional' });
    expect(row!.settings).toMatchObject({ userId: account.id, username: 'humas_nasional' });
    const credentials = t.ctx.keys.decrypt<{ refreshToken: string }>(row!.credentials!, channel.id);
    expect(credentials.refreshToken).toBeTruthy();
    expect(row!.credentialsExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 60 * 60_000);

    // The state is single-use.
    const replay = await t.app.inject({
      url: `/api/v1/oauth/x/callback?code=${code}&state=${state}`,
      headers: admin().headers,
    });
    expect(replay.statusCode).toBe(400);
    expect(replay.json().errors[0].field).toBe('state');
  });

  it('refuses a callback that comes back to another user, and a denied consent changes nothing', async () => {
    const account = x.addUser({ username: 'humas_dua' });
    const channel = await create('x', 'X Dua');
    const start = await t.app.inject({
      url: `/api/v1/channels/${channel.id}/connect/x`,
      headers: admin().headers,
    });
    const { code, state } = await consentAtX(start.json().authorizeUrl, account.id);
    const stranger = await t.app.inject({
      url: `/api/v1/oauth/x/callback?code=${code}&state=${state}`,
      headers: org.user('national', 'reviewer').headers,
    });
    expect(stranger.statusCode).toBe(400);

    const denied = await t.app.inject({
      url: '/api/v1/oauth/x/callback?error=access_denied&state=whatever',
      headers: admin().headers,
    });
    expect(denied.statusCode).toBe(302);
    expect(denied.headers.location).toBe('/admin/channels?connect=denied');
    const [row] = await t.ctx.db.select().from(channels).where(eq(channels.id, channel.id));
    expect(row).toMatchObject({ status: 'needs_reauth', credentials: null });
  });

  it('redirects a browser straight to X', async () => {
    const channel = await create('x', 'X Tiga');
    const start = await t.app.inject({
      url: `/api/v1/channels/${channel.id}/connect/x`,
      headers: { ...admin().headers, accept: 'text/html' },
    });
    expect(start.statusCode).toBe(302);
    expect(start.headers.location).toMatch(
      new RegExp(`^${x.url}/i/oauth2/authorize\\?|^https://x\\.com/i/oauth2/authorize\\?`),
    );
  });

  it('connects a Facebook Page and the Instagram account linked to it through a Meta user token', async () => {
    const page = graph.createPage('Humas Nasional');
    const { igUserId } = graph.linkInstagram(page.pageId, 'humas.nasional');
    graph.createPage('Halaman Lain');
    const facebook = await create('facebook', 'Facebook Humas');
    const instagram = await create('instagram', 'Instagram Humas');

    const user = graph.createUser('Petugas Humas', [page.pageId]);
    const connected = await t.app.inject({
      method: 'POST',
      url: `/api/v1/channels/${facebook.id}/connect/meta`,
      headers: admin().headers,
      payload: { userAccessToken: user.shortLivedToken },
    });
    expect(connected.statusCode, connected.body).toBe(200);
    expect(connected.json()).toMatchObject({ status: 'active', settings: { pageId: page.pageId } });
    expect(connected.body).not.toContain(page.pageToken);

    const ig = await t.app.inject({
      method: 'POST',
      url: `/api/v1/channels/${instagram.id}/connect/meta`,
      headers: admin().headers,
      payload: { userAccessToken: user.shortLivedToken },
    });
    expect(ig.statusCode, ig.body).toBe(200);
    expect(ig.json()).toMatchObject({ status: 'active', settings: { igUserId } });
  });

  it('asks which Page when the Meta account manages several, and says why a token is refused', async () => {
    const a = graph.createPage('Kanwil A');
    const b = graph.createPage('Kanwil B');
    const facebook = await create('facebook', 'Facebook Pilih');
    const user = graph.createUser('Admin Dua Halaman', [a.pageId, b.pageId]);
    const ambiguous = await t.app.inject({
      method: 'POST',
      url: `/api/v1/channels/${facebook.id}/connect/meta`,
      headers: admin().headers,
      payload: { userAccessToken: user.shortLivedToken },
    });
    expect(ambiguous.statusCode).toBe(422);
    expect(ambiguous.json().code).toBe('choose_page');
    expect(
      ambiguous
        .json()
        .pages.map((p: { pageId: string }) => p.pageId)
        .sort(),
    ).toEqual([a.pageId, b.pageId].sort());
    expect(ambiguous.body).not.toContain(a.pageToken);

    const chosen = await t.app.inject({
      method: 'POST',
      url: `/api/v1/channels/${facebook.id}/connect/meta`,
      headers: admin().headers,
      payload: { userAccessToken: user.shortLivedToken, pageId: b.pageId },
    });
    expect(chosen.json()).toMatchObject({ status: 'active', settings: { pageId: b.pageId } });

    const refused = await t.app.inject({
      method: 'POST',
      url: `/api/v1/channels/${facebook.id}/connect/meta`,
      headers: admin().headers,
      payload: { userAccessToken: 'EAAB-not-a-real-token' },
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().code).toBe('connect_failed');
    const [row] = await t.ctx.db.select().from(channels).where(eq(channels.id, facebook.id));
    expect(row!.settings).toEqual({ pageId: b.pageId });
  });
});
