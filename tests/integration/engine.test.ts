import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channels, deliveries, deliveryAttempts, deliveryEvents, postEvents } from '../../src/db/schema';
import { sweep } from '../../src/services/maintenance';
import { advanceDelivery } from '../../src/services/publishing';
import { createTestContext, type TestContext } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { insertDeliveries, setChannelCredentials } from '../helpers/engine';
import { createLedgerAdapter, type LedgerServer, startLedgerServer } from '../helpers/ledger-platform';
import { seedTestOrg, type TestOrg } from '../helpers/org';
import { insertChannel } from '../helpers/posts';

/**
 * The engine's use case, step by step (no BullMQ): claim, publish, record; classified failures;
 * reconciliation before any retry; quotas and platform rate limits.
 */
describe.each(testDrivers())('publishing engine on %s', (driver) => {
  let t: TestContext;
  let org: TestOrg;
  let dedupe: LedgerServer;
  let plain: LedgerServer;
  const channel: Record<string, string> = {};

  beforeAll(async () => {
    dedupe = await startLedgerServer({ dedupe: true });
    plain = await startLedgerServer({ dedupe: false });
    const adapters = [
      // Posing as Bluesky: a deterministic record key makes a repeat a no-op.
      createLedgerAdapter({ platform: 'bluesky', baseUrl: dedupe.fake.url, reconcile: 'idempotent' }),
      // Posing as X: reconciliation reads recent posts; quota 100 per 15 minutes.
      createLedgerAdapter({ platform: 'x', baseUrl: plain.fake.url, reconcile: 'search' }),
      // Posing as Telegram: no way to check; quota 20 per minute per chat.
      createLedgerAdapter({ platform: 'telegram', baseUrl: plain.fake.url, reconcile: 'none' }),
    ];
    t = await createTestContext(driver, {
      adapters: () => adapters,
      env: {
        GAUNG_RETRY_BASE_MS: '1000',
        GAUNG_RETRY_MAX_MS: '8000',
        GAUNG_RECONCILE_DELAY_MS: '0',
        GAUNG_MAX_ATTEMPTS: '3',
        GAUNG_LEASE_SECONDS: '30',
      },
    });
    org = await seedTestOrg(t.ctx);
    for (const platform of ['bluesky', 'x', 'telegram'] as const) {
      channel[platform] = await insertChannel(t.ctx, org.units.national, platform);
      await setChannelCredentials(t.ctx.db, t.ctx.keys, channel[platform]!, { token: 'ledger-token' });
    }
  });

  afterAll(async () => {
    await t?.close();
    await dedupe?.fake.stop();
    await plain?.fake.stop();
  });

  const author = () => org.user('officeA1', 'contributor');
  const make = async (platform: string, dueAt = new Date(Date.now() - 1_000), count = 1) =>
    insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: author().id,
      targets: Array.from({ length: count }, () => ({ channelId: channel[platform]!, dueAt })),
    });
  const row = async (id: string) =>
    (await t.ctx.db.select().from(deliveries).where(eq(deliveries.id, id)))[0]!;
  const attempts = (id: string) =>
    t.ctx.db
      .select()
      .from(deliveryAttempts)
      .where(eq(deliveryAttempts.deliveryId, id))
      .orderBy(asc(deliveryAttempts.number));
  const posted = (server: LedgerServer, id: string) => server.posts.filter((post) => post.ref === id).length;

  it('publishes a due delivery once and records the attempt, the audit trail and the post timeline', async () => {
    const [id] = await make('bluesky');
    const step = await advanceDelivery(t.ctx, id!);
    expect(step).toEqual({ next: 'done', outcome: 'published' });
    const delivery = await row(id!);
    expect(delivery.status).toBe('published');
    expect(delivery.attempts).toBe(1);
    expect(delivery.remoteUrl).toContain(`/channels/${channel.bluesky}/posts/`);
    expect(delivery.publishedAt).not.toBeNull();
    expect(delivery.leaseUntil).toBeNull();
    const [attempt] = await attempts(id!);
    expect(attempt).toMatchObject({ number: 1, outcome: 'published' });
    expect(attempt!.endedAt).not.toBeNull();
    const events = await t.ctx.db
      .select({ from: deliveryEvents.fromStatus, to: deliveryEvents.toStatus })
      .from(deliveryEvents)
      .where(eq(deliveryEvents.deliveryId, id!))
      .orderBy(asc(deliveryEvents.id));
    expect(events).toEqual([
      { from: 'scheduled', to: 'publishing' },
      { from: 'publishing', to: 'published' },
    ]);
    const timeline = await t.ctx.db.select().from(postEvents).where(eq(postEvents.postId, delivery.postId));
    expect(timeline.some((event) => event.kind === 'delivery' && event.data.outcome === 'published')).toBe(
      true,
    );
    // A second job for the same delivery finds nothing to do.
    expect(await advanceDelivery(t.ctx, id!)).toEqual({ next: 'done', outcome: 'published' });
    expect(posted(dedupe, id!)).toBe(1);
  });

  it('leaves a delivery that is not due yet alone and says when to come back', async () => {
    const dueAt = new Date(Date.now() + 60_000);
    const [id] = await make('bluesky', dueAt);
    const step = await advanceDelivery(t.ctx, id!);
    expect(step).toMatchObject({ next: 'wait', attempts: 0 });
    expect(step.next === 'wait' && step.until.getTime()).toBe(dueAt.getTime());
    expect((await row(id!)).status).toBe('scheduled');
    expect(await attempts(id!)).toHaveLength(0);
  });

  it('retries a transient failure with backoff and gives up after the last attempt', async () => {
    const [id] = await make('bluesky');
    plain.fake.clearFaults();
    dedupe.fake.inject({ kind: 'respond', status: 503, body: { error: 'unavailable' } }, { times: 3 });
    const before = Date.now();
    const first = await advanceDelivery(t.ctx, id!);
    expect(first).toMatchObject({ next: 'wait', attempts: 1 });
    let delivery = await row(id!);
    expect(delivery.status).toBe('scheduled');
    expect(delivery.attempts).toBe(1);
    // Equal jitter around the 1 s base: between 0.5 s and 1 s from now.
    expect(delivery.dueAt.getTime()).toBeGreaterThanOrEqual(before + 500 - 50);
    expect(delivery.dueAt.getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
    expect(delivery.lastError).toContain('503');
    for (let round = 0; round < 2; round++) {
      await t.ctx.db
        .update(deliveries)
        .set({ dueAt: new Date(Date.now() - 1) })
        .where(eq(deliveries.id, id!));
      await advanceDelivery(t.ctx, id!);
    }
    delivery = await row(id!);
    expect(delivery.status).toBe('failed');
    expect(delivery.attempts).toBe(3);
    expect(delivery.lastError).toMatch(/^Gave up after 3 attempts: .*503/);
    expect((await attempts(id!)).map((a) => a.outcome)).toEqual(['retry', 'retry', 'retry']);
    expect(posted(dedupe, id!)).toBe(0);
  });

  it('fails at once, with the platform’s message, when the platform refuses the post', async () => {
    const [id] = await make('bluesky');
    dedupe.fake.inject({ kind: 'respond', status: 400, body: { error: 'text too long for this account' } });
    expect(await advanceDelivery(t.ctx, id!)).toEqual({ next: 'done', outcome: 'failed' });
    const delivery = await row(id!);
    expect(delivery.status).toBe('failed');
    expect(delivery.attempts).toBe(1);
    expect(delivery.lastError).toContain('text too long for this account');
    const [attempt] = await attempts(id!);
    expect(attempt).toMatchObject({ outcome: 'invalid', httpStatus: 400 });
  });

  it('reconciles an attempt whose answer was lost: the post is found and recorded, never sent twice', async () => {
    for (const platform of ['bluesky', 'x'] as const) {
      const server = platform === 'bluesky' ? dedupe : plain;
      const [id] = await make(platform);
      server.fake.inject({ kind: 'drop-after' });
      // The attempt counts; the check with the platform is the next job's work.
      expect(await advanceDelivery(t.ctx, id!)).toMatchObject({
        next: 'wait',
        attempts: 1,
        reason: 'reconcile',
      });
      expect(await row(id!)).toMatchObject({ status: 'unknown', attempts: 1 });
      const step = await advanceDelivery(t.ctx, id!);
      expect(step).toEqual({ next: 'done', outcome: 'published (found by reconciliation)' });
      const delivery = await row(id!);
      expect(delivery.status).toBe('published');
      expect(delivery.remoteUrl).toBe(
        `${server.fake.url}/channels/${channel[platform]}/posts/${server.posts.find((p) => p.ref === id)!.id}`,
      );
      expect((await attempts(id!)).map((a) => a.outcome)).toEqual(['unknown', 'reconciled_found']);
      expect(posted(server, id!)).toBe(1);
    }
  });

  it('retries after reconciliation shows the post was not stored', async () => {
    const [id] = await make('x');
    plain.fake.inject({ kind: 'drop-before' });
    expect(await advanceDelivery(t.ctx, id!)).toMatchObject({ next: 'wait', reason: 'reconcile' });
    const step = await advanceDelivery(t.ctx, id!);
    expect(step).toMatchObject({ next: 'wait', attempts: 1, reason: 'retry after reconciliation' });
    expect((await row(id!)).status).toBe('scheduled');
    expect(posted(plain, id!)).toBe(0);
    await t.ctx.db
      .update(deliveries)
      .set({ dueAt: new Date(Date.now() - 1) })
      .where(eq(deliveries.id, id!));
    expect(await advanceDelivery(t.ctx, id!)).toEqual({ next: 'done', outcome: 'published' });
    expect((await attempts(id!)).map((a) => a.outcome)).toEqual([
      'unknown',
      'reconciled_missing',
      'published',
    ]);
    expect(posted(plain, id!)).toBe(1);
  });

  it('hands an unsure attempt to a person where the platform cannot tell, with a clear message', async () => {
    const [id] = await make('telegram');
    plain.fake.inject({ kind: 'drop-after' });
    expect(await advanceDelivery(t.ctx, id!)).toMatchObject({ next: 'wait', reason: 'reconcile' });
    expect(await advanceDelivery(t.ctx, id!)).toEqual({ next: 'done', outcome: 'needs attention' });
    const delivery = await row(id!);
    expect(delivery.status).toBe('needs_attention');
    expect(delivery.lastError).toMatch(
      /^Telegram cannot tell whether the message was sent; check the channel and confirm or retry/,
    );
    expect(posted(plain, id!)).toBe(1);
    // Nothing retries it on its own.
    expect(await advanceDelivery(t.ctx, id!)).toEqual({ next: 'done', outcome: 'needs_attention' });
    expect(posted(plain, id!)).toBe(1);
  });

  it('reconciles a claim whose worker died: the sweep expires the lease, the next job checks first', async () => {
    const [id] = await make('x');
    // A worker claimed it, sent the post, and died before recording anything.
    await t.ctx.db
      .update(deliveries)
      .set({ status: 'publishing', leaseUntil: new Date(Date.now() - 1_000) })
      .where(eq(deliveries.id, id!));
    await t.ctx.db.insert(deliveryAttempts).values({ deliveryId: id!, number: 1, worker: 'dead' });
    plain.posts.push({ id: 'sent-before-crash', channel: channel.x!, ref: id!, text: 'x', at: Date.now() });
    const swept = await sweep(t.ctx);
    expect(swept.leasesExpired).toBeGreaterThanOrEqual(1);
    const unknown = await row(id!);
    expect(unknown).toMatchObject({ status: 'unknown', attempts: 1, lastErrorCode: 'lease_expired' });
    expect(await advanceDelivery(t.ctx, id!)).toEqual({
      next: 'done',
      outcome: 'published (found by reconciliation)',
    });
    expect((await row(id!)).remoteUrl).toContain('sent-before-crash');
    expect(posted(plain, id!)).toBe(1);
  });

  it('waits for a platform rate limit until its reset without spending an attempt, for the whole channel', async () => {
    const reset = Math.ceil(Date.now() / 1000) + 90;
    const [first, second] = await make('x', new Date(Date.now() - 1_000), 2);
    plain.fake.inject({
      kind: 'respond',
      status: 429,
      headers: { 'x-rate-limit-reset': String(reset), 'x-rate-limit-remaining': '0' },
      body: { title: 'Too Many Requests' },
    });
    const requests = plain.fake.received.length;
    const step = await advanceDelivery(t.ctx, first!);
    expect(step).toMatchObject({ next: 'wait', attempts: 0, reason: 'rate limited' });
    const waiting = await row(first!);
    expect(waiting).toMatchObject({ status: 'scheduled', attempts: 0, lastErrorCode: 'rate_limited' });
    expect(waiting.dueAt.getTime()).toBe(reset * 1000);
    // The other delivery of the channel waits for the same reset without calling the platform.
    const other = await advanceDelivery(t.ctx, second!);
    expect(other).toMatchObject({ next: 'wait', attempts: 0 });
    expect(other.next === 'wait' && other.until.getTime()).toBeGreaterThanOrEqual(reset * 1000);
    expect(plain.fake.received.length).toBe(requests + 1);
    expect((await row(second!)).dueAt.getTime()).toBeGreaterThanOrEqual(reset * 1000);
  });

  it('keeps within a channel quota before calling the platform and spreads the rest over later windows', async () => {
    const telegram = await insertChannel(t.ctx, org.units.national, 'telegram', { name: 'second chat' });
    await setChannelCredentials(t.ctx.db, t.ctx.keys, telegram, { token: 'ledger-token' });
    const ids = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: author().id,
      targets: Array.from({ length: 23 }, () => ({
        channelId: telegram,
        dueAt: new Date(Date.now() - 1_000),
      })),
    });
    const started = Date.now();
    const steps = [];
    for (const id of ids) steps.push(await advanceDelivery(t.ctx, id));
    const published = steps.filter((step) => step.next === 'done' && step.outcome === 'published');
    const waiting = steps.filter((step) => step.next === 'wait');
    // Telegram: 20 messages a minute per chat.
    expect(published).toHaveLength(20);
    expect(waiting).toHaveLength(3);
    for (const step of waiting) {
      expect(step.next === 'wait' && step.until.getTime()).toBeGreaterThanOrEqual(started + 60_000 - 1_000);
      expect(step.next === 'wait' && step.attempts).toBe(0);
    }
    // Each waiting delivery booked its own moment: asking again before it changes nothing.
    const again = await advanceDelivery(t.ctx, ids[22]!);
    expect(again.next === 'wait' && again.until.getTime()).toBe(
      waiting[2]!.next === 'wait' && waiting[2]!.until.getTime(),
    );
  });

  it('pauses the channel when the platform refuses the credentials; the delivery waits without spending an attempt', async () => {
    const bluesky = await insertChannel(t.ctx, org.units.national, 'bluesky', { name: 'expired' });
    await setChannelCredentials(t.ctx.db, t.ctx.keys, bluesky, { token: 'revoked' });
    const [id] = await insertDeliveries(t.ctx.db, {
      unitId: org.units.officeA1.id,
      authorId: author().id,
      targets: [{ channelId: bluesky, dueAt: new Date(Date.now() - 1_000) }],
    });
    expect(await advanceDelivery(t.ctx, id!)).toEqual({
      next: 'done',
      outcome: 'channel needs reauthorisation',
    });
    expect(await row(id!)).toMatchObject({ status: 'scheduled', attempts: 0, lastErrorCode: 'auth' });
    const [paused] = await t.ctx.db.select().from(channels).where(eq(channels.id, bluesky));
    expect(paused!.status).toBe('needs_reauth');
    expect(await advanceDelivery(t.ctx, id!)).toEqual({ next: 'done', outcome: 'channel not active' });
    // Reconnected: it goes out.
    await setChannelCredentials(t.ctx.db, t.ctx.keys, bluesky, { token: 'ledger-token' });
    await t.ctx.db.update(channels).set({ status: 'active' }).where(eq(channels.id, bluesky));
    expect(await advanceDelivery(t.ctx, id!)).toEqual({ next: 'done', outcome: 'published' });
  });
});
