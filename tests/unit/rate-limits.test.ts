import { describe, expect, it } from 'vitest';
import {
  blockId,
  blockIds,
  describeRateWindow,
  rateWindows,
  waitUntilAfterRateLimit,
} from '../../src/domain/rate-limits';

const now = new Date('2031-03-01T08:00:00Z');

describe('publish quotas', () => {
  it('counts X per account and per app, from the platform limits table', () => {
    expect(rateWindows('x', 'chan-1', now)).toEqual([
      { id: 'x:channel:chan-1:100/900s', scope: 'channel', max: 100, windowMs: 900_000 },
      { id: 'x:app:10000/86400s', scope: 'app', max: 10_000, windowMs: 86_400_000 },
    ]);
  });

  it('gives every channel its own counter and every platform one app counter', () => {
    const [a] = rateWindows('telegram', 'chat-a', now);
    const [b, appB] = rateWindows('telegram', 'chat-b', now);
    expect(a!.id).not.toBe(b!.id);
    expect(appB!.id).toBe(rateWindows('telegram', 'chat-a', now)[1]!.id);
    expect(a).toMatchObject({ max: 20, windowMs: 60_000 });
    expect(appB).toMatchObject({ scope: 'app', max: 30, windowMs: 1_000 });
  });

  it('has no counters where the platform documents no fixed quota', () => {
    expect(rateWindows('facebook', 'page', now)).toEqual([]);
    expect(rateWindows('webhook', 'hook', now)).toEqual([]);
  });

  it('blocks a channel, or the whole platform for an app-wide limit', () => {
    expect(blockId('x', 'channel', 'c1')).toBe('x:channel:c1');
    expect(blockId('x', 'app', 'c1')).toBe('x:app');
    expect(blockIds('instagram', 'c2')).toEqual(['instagram:channel:c2', 'instagram:app']);
  });

  it('describes the quota that made a delivery wait', () => {
    const [perAccount, perApp] = rateWindows('x', 'c', now);
    expect(describeRateWindow('x', perAccount!)).toBe('X allows 100 posts per 15 minutes per account');
    expect(describeRateWindow('x', perApp!)).toBe(
      'X allows 10000 posts per 24 hours for all of Gaung’s accounts',
    );
    expect(describeRateWindow('telegram', rateWindows('telegram', 'c', now)[0]!)).toBe(
      'Telegram allows 20 posts per minute per account',
    );
  });
});

describe('waiting for a platform rate limit', () => {
  it('waits until the announced reset', () => {
    const reset = new Date(now.getTime() + 15 * 60_000);
    expect(waitUntilAfterRateLimit(reset, now)).toEqual(reset);
  });

  it('waits at least a second when the reset is now or already past', () => {
    expect(waitUntilAfterRateLimit(new Date(now.getTime() - 60_000), now)).toEqual(
      new Date(now.getTime() + 1_000),
    );
    expect(waitUntilAfterRateLimit(now, now)).toEqual(new Date(now.getTime() + 1_000));
  });

  it('waits through a 24 h quota but never longer than two days', () => {
    const day = new Date(now.getTime() + 24 * 3_600_000);
    expect(waitUntilAfterRateLimit(day, now)).toEqual(day);
    expect(waitUntilAfterRateLimit(new Date('2099-01-01T00:00:00Z'), now)).toEqual(
      new Date(now.getTime() + 48 * 3_600_000),
    );
  });
});
