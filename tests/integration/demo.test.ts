import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channels, deliveries } from '../../src/db/schema';
import { seedDemo } from '../../src/services/demo';
import { advanceDelivery } from '../../src/services/publishing';
import { createTestApp, type TestApp } from '../helpers/context';
import { signIn } from '../helpers/session';

describe('the demo organisation (GAUNG_DEMO=1)', () => {
  let t: TestApp;
  let people: Awaited<ReturnType<typeof seedDemo>>;

  beforeAll(async () => {
    t = await createTestApp('pglite', { env: { GAUNG_DEMO: '1' } });
    people = await seedDemo(t.ctx);
  });
  afterAll(async () => {
    await t.close();
  });

  it('is seeded once, with one sign-in per role', async () => {
    expect(people!.map((p) => p.role).sort()).toEqual(['admin', 'contributor', 'contributor', 'reviewer']);
    expect(await seedDemo(t.ctx)).toBeNull();
  });

  it('takes a post from an office through review to the sandbox timeline', async () => {
    const office = people!.find((p) => p.email.startsWith('surabaya'))!;
    const humas = people!.find((p) => p.role === 'reviewer')!;
    const officeSession = await signIn(t.app, office.email, office.password);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/posts',
      headers: officeSession.headers,
      payload: {
        body: 'Pelayanan paspor simpatik di Surabaya hari ini.',
        sourceUrl: 'https://x.com/kanim_sby/status/1',
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const post = created.json();
    const submitted = await t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/submit`,
      headers: officeSession.headers,
      payload: { version: post.version },
    });
    expect(submitted.statusCode).toBe(200);

    const humasSession = await signIn(t.app, humas.email, humas.password);
    const [sandbox] = await t.ctx.db.select().from(channels).where(eq(channels.platform, 'sandbox'));
    const approved = await t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${post.id}/approve`,
      headers: humasSession.headers,
      payload: {
        version: submitted.json().version,
        targets: [{ channelId: sandbox!.id, mode: 'copy', at: 'now' }],
      },
    });
    expect(approved.statusCode, approved.body).toBe(200);
    const [delivery] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.postId, post.id));
    expect(await advanceDelivery(t.ctx, delivery!.id)).toEqual({ next: 'done', outcome: 'published' });

    const [published] = await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, delivery!.id));
    expect(published!.status).toBe('published');
    expect(published!.remoteUrl).toMatch(new RegExp(`/sandbox/${sandbox!.id}#`));
    const timeline = await t.app.inject({ url: `/sandbox/${sandbox!.id}`, headers: humasSession.cookie });
    expect(timeline.statusCode).toBe(200);
    expect(timeline.body).toContain('Pelayanan paspor simpatik di Surabaya hari ini.');
    expect(timeline.body).toContain('Kantor Surabaya');
  });
});
