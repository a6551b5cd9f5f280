import type { LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROUTE_LIMITS } from '../../src/http/rate-limit';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, TEST_PASSWORD, type TestOrg, type TestUser } from '../helpers/org';
import { insertChannel } from '../helpers/posts';
import { signIn } from '../helpers/session';

/**
 * Costly routes answer 429 problem+json with Retry-After once a caller has used up the route's
 * limit; bodies that fail validation count too, other callers keep theirs, and the counters live in
 * Redis under Gaung's key prefix.
 */
describe.each(testDrivers())('per-route rate limits on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await createTestApp(driver);
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t.close();
  });

  /** Uses up a caller's limit with `count` requests, then returns the next answer. */
  async function exhaust(
    count: number,
    send: () => Promise<LightMyRequestResponse>,
  ): Promise<LightMyRequestResponse> {
    for (let i = 0; i < count; i += 1) {
      const response = await send();
      expect(response.statusCode, `request ${i + 1} of ${count}`).not.toBe(429);
    }
    return send();
  }

  function expectLimited(response: LightMyRequestResponse) {
    expect(response.statusCode).toBe(429);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  }

  const api = (user: TestUser, url: string, payload?: object) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1${url}`,
      headers: user.headers,
      ...(payload ? { payload } : {}),
    });

  it('limits adding a source per person, counting refused bodies too', async () => {
    const user = org.user('officeA1', 'contributor');
    const limited = await exhaust(ROUTE_LIMITS.sourceAdd.max, () => api(user, '/sources', { kind: 'rss' }));
    expectLimited(limited);
    expectLimited(await api(user, '/sources', { kind: 'rss', url: 'https://kanim.example/feed/' }));
    // Someone else of the same office still has their own allowance.
    const other = await api(org.user('officeA1', 'reviewer'), '/sources', { kind: 'rss' });
    expect(other.statusCode).toBe(400);
  });

  it('limits previews in the API and on the editor page', async () => {
    const reviewer = org.user('national', 'reviewer');
    const url = `/posts/${crypto.randomUUID()}/preview`;
    expectLimited(await exhaust(ROUTE_LIMITS.preview.max, () => api(reviewer, url, { mode: 'nonsense' })));

    const writer = org.user('officeA2', 'contributor');
    const session = await signIn(t.app, writer.email, TEST_PASSWORD);
    const preview = () =>
      t.app.inject({
        method: 'POST',
        url: '/ui/preview',
        headers: session.headers,
        payload: { body: 'Pratinjau' },
      });
    expect((await preview()).statusCode).toBe(200);
    expectLimited(await exhaust(ROUTE_LIMITS.preview.max - 1, preview));
  });

  it('limits verifying a channel, and keeps its counters under Gaung’s Redis prefix', async () => {
    const channelId = await insertChannel(t.ctx, org.units.regionB, 'sandbox', { name: 'Kanwil B' });
    const admin = org.user('regionB', 'admin');
    const verify = () => api(admin, `/channels/${channelId}/verify`);
    expect((await verify()).statusCode).toBe(200);
    expectLimited(await exhaust(ROUTE_LIMITS.channelVerify.max - 1, verify));

    const redis = new Redis(inject('redisOptions'));
    try {
      const keys = await redis.keys('*rate-limit*');
      const ours = keys.filter((key) => key.includes(admin.id));
      expect(ours.length).toBe(1);
      expect(ours[0]!.startsWith(`${t.config.GAUNG_REDIS_PREFIX}:rate-limit:`)).toBe(true);
    } finally {
      redis.disconnect();
    }
  });
});
