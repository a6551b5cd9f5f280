import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/context';
import { blockPublishing, releasePublishSlot, reservePublishSlot } from '../../src/infra/rate-limiter';
import { deleteKeys, testRedisTarget } from '../helpers/context';

/**
 * The quota counters are Lua scripts in real Redis; the clock is the caller's, fixed here so every
 * decision can be checked to the millisecond.
 */
describe('publish quotas in Redis', () => {
  const prefix = `gaung-test-${randomUUID().slice(0, 8)}`;
  let redis: Redis;
  let clock = Date.parse('2031-03-01T08:00:00Z');
  let ctx: Pick<AppContext, 'redis' | 'redisPrefix' | 'now'>;
  const t0 = clock;

  beforeAll(() => {
    redis = new Redis(testRedisTarget().options);
    ctx = { redis, redisPrefix: prefix, now: () => new Date(clock) };
  });

  afterAll(async () => {
    redis.disconnect();
    await deleteKeys(prefix);
  });

  const telegram = (channelId: string) => ({ platform: 'telegram' as const, channelId });

  it('grants up to the per-channel quota, then books the first moment the window allows', async () => {
    clock = t0;
    for (let i = 0; i < 20; i++)
      expect(await reservePublishSlot(ctx, telegram('chat-1'), `d${i}#0`)).toMatchObject({ granted: true });
    const late = await reservePublishSlot(ctx, telegram('chat-1'), 'd20#0');
    expect(late).toMatchObject({ granted: false, at: new Date(t0 + 60_000) });
    expect(late.granted === false && late.window).toMatchObject({ scope: 'channel', max: 20 });
    // Another chat of the same bot is not held up by this one.
    expect(await reservePublishSlot(ctx, telegram('chat-2'), 'other#0')).toMatchObject({ granted: true });
  });

  it('keeps a booking: asking early changes nothing, asking at the time claims it', async () => {
    clock = t0 + 30_000;
    expect(await reservePublishSlot(ctx, telegram('chat-1'), 'd20#0')).toMatchObject({
      granted: false,
      at: new Date(t0 + 60_000),
    });
    clock = t0 + 60_000;
    expect(await reservePublishSlot(ctx, telegram('chat-1'), 'd20#0')).toMatchObject({ granted: true });
    // Claimed once: the same member asking again is a new request.
    clock = t0 + 60_001;
    expect(await reservePublishSlot(ctx, telegram('chat-1'), 'd20#0')).toMatchObject({ granted: true });
  });

  it('never lets more than the quota through in any window', async () => {
    clock = t0;
    const granted: number[] = [];
    for (let step = 0; step < 240; step++) {
      clock = t0 + step * 1_000;
      const answer = await reservePublishSlot(ctx, telegram('chat-3'), `burst${step}#0`);
      if (answer.granted) granted.push(clock);
      else expect(answer.at.getTime()).toBeGreaterThan(clock);
    }
    for (const start of granted)
      expect(granted.filter((at) => at >= start && at < start + 60_000).length).toBeLessThanOrEqual(20);
  });

  it('holds every channel of the platform to the app-wide quota', async () => {
    clock = t0 + 500_000;
    for (let i = 0; i < 30; i++)
      expect(await reservePublishSlot(ctx, telegram(`app-${i}`), `app${i}#0`)).toMatchObject({
        granted: true,
      });
    const over = await reservePublishSlot(ctx, telegram('app-30'), 'app30#0');
    expect(over).toMatchObject({ granted: false, at: new Date(clock + 1_000) });
    expect(over.granted === false && over.window).toMatchObject({ scope: 'app', max: 30 });
  });

  it('gives a slot back when the claim after it did not happen', async () => {
    clock = t0 + 900_000;
    const tokens = [];
    for (let i = 0; i < 20; i++) {
      const answer = await reservePublishSlot(ctx, telegram('chat-4'), `r${i}#0`);
      if (answer.granted) tokens.push(answer.token);
    }
    expect(tokens).toHaveLength(20);
    await releasePublishSlot(ctx, telegram('chat-4'), tokens[0]!);
    expect((await reservePublishSlot(ctx, telegram('chat-4'), 'r20#0')).granted).toBe(true);
    expect((await reservePublishSlot(ctx, telegram('chat-4'), 'r21#0')).granted).toBe(false);
  });

  it('stops a channel, or a whole platform, until a platform’s reset', async () => {
    clock = t0 + 2_000_000;
    const x = (channelId: string) => ({ platform: 'x' as const, channelId });
    await blockPublishing(ctx, { ...x('acct-1'), scope: 'channel' }, new Date(clock + 90_000));
    expect(await reservePublishSlot(ctx, x('acct-1'), 'b1#0')).toMatchObject({
      granted: false,
      at: new Date(clock + 90_000),
    });
    expect((await reservePublishSlot(ctx, x('acct-2'), 'b2#0')).granted).toBe(true);
    // A booking made before a block moves behind it.
    const facebook = (channelId: string) => ({ platform: 'facebook' as const, channelId });
    await blockPublishing(ctx, { ...facebook('page-1'), scope: 'app' }, new Date(clock + 5_000));
    expect(await reservePublishSlot(ctx, facebook('page-2'), 'f1#0')).toMatchObject({
      granted: false,
      at: new Date(clock + 5_000),
    });
    // A shorter block never shortens a longer one.
    await blockPublishing(ctx, { ...x('acct-1'), scope: 'channel' }, new Date(clock + 10_000));
    expect(await reservePublishSlot(ctx, x('acct-1'), 'b3#0')).toMatchObject({
      at: new Date(clock + 90_000),
    });
    clock += 90_000;
    expect((await reservePublishSlot(ctx, x('acct-1'), 'b1#0')).granted).toBe(true);
  });

  it('lets its keys expire once nothing in them matters', async () => {
    const keys = await redis.keys(`${prefix}:rate:telegram:channel:chat-1:*`);
    expect(keys).toHaveLength(1);
    const ttl = await redis.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });
});
