import { expect } from 'vitest';
import type { TestApp } from './context';
import { makeVideo, uploadMedia } from './media';
import type { TestOrg, TestUser } from './org';
import { createPostVia } from './posts';

/**
 * What the tests of video platforms' channels (TikTok, YouTube) share: JSON API calls, a channel of
 * the national unit connected with tokens given to the API, and a video post of office A1. `t` and
 * `org` are read when a helper runs, so the helpers can be made before `beforeAll` sets them.
 */
export function videoChannelHelpers(t: () => TestApp, org: () => TestOrg) {
  const admin = () => org().user('national', 'admin');
  const api = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, who: TestUser = admin()) =>
    t().app.inject({ method, url: `/api/v1${url}`, headers: who.headers, ...(payload ? { payload } : {}) });

  /** A channel created through the API with the platform's tokens, as the national admin. */
  async function channelWithTokens(
    channel: { platform: 'tiktok' | 'youtube'; name: string; settings: Record<string, unknown> },
    tokens: { accessToken: string; refreshToken: string; expiresAt: Date },
  ) {
    const created = await api('POST', '/channels', {
      unitId: org().units.national.id,
      ...channel,
      credentials: {
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expiresAt: tokens.expiresAt.toISOString(),
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    return created.json() as { id: string; status: string; settings: Record<string, unknown> };
  }

  /** A post of office A1 with an uploaded MP4 video, then the other media given. */
  async function videoPost(
    video: { seconds: number; width?: number; height?: number },
    more: { media?: { id: string }[]; tags?: string[] } = {},
  ) {
    const author = org().user('officeA1', 'contributor');
    const uploaded = await uploadMedia(t().app, author, {
      filename: 'profil.mp4',
      data: await makeVideo({ format: 'mp4', ...video }),
    });
    expect([200, 201], uploaded.body).toContain(uploaded.statusCode);
    return createPostVia(t().app, author, {
      body: `Profil Pos Lintas Batas Entikong ${Math.random().toString(36).slice(2, 8)}\nPelayanan pelintas batas.`,
      media: [{ id: uploaded.json().id as string }, ...(more.media ?? [])],
      ...(more.tags ? { tags: more.tags } : {}),
    });
  }

  return { admin, api, channelWithTokens, videoPost };
}
