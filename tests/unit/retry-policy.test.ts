import { describe, expect, it } from 'vitest';
import { mayRetry, retryDelayBounds, retryDelayMs } from '../../src/domain/retry-policy';

const policy = { baseMs: 30_000, maxMs: 3_600_000 };

describe('retry backoff', () => {
  it('doubles with each attempt, between half and all of base·2^(n−1)', () => {
    expect(retryDelayBounds(1, policy)).toEqual({ minMs: 15_000, maxMs: 30_000 });
    expect(retryDelayBounds(2, policy)).toEqual({ minMs: 30_000, maxMs: 60_000 });
    expect(retryDelayBounds(5, policy)).toEqual({ minMs: 240_000, maxMs: 480_000 });
  });

  it('never waits longer than the cap, however many attempts', () => {
    expect(retryDelayBounds(8, policy)).toEqual({ minMs: 1_800_000, maxMs: 3_600_000 });
    expect(retryDelayBounds(10_000, policy)).toEqual({ minMs: 1_800_000, maxMs: 3_600_000 });
  });

  it('stays inside the bounds at both ends of the jitter', () => {
    for (const attempts of [1, 2, 3, 7, 12]) {
      const { minMs, maxMs } = retryDelayBounds(attempts, policy);
      expect(retryDelayMs(attempts, policy, () => 0)).toBe(minMs);
      expect(retryDelayMs(attempts, policy, () => 0.999_999)).toBeLessThanOrEqual(maxMs);
      expect(retryDelayMs(attempts, policy, () => 0.999_999)).toBeGreaterThan(maxMs - 10);
    }
  });

  it('spreads deliveries that failed together', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const delays = new Set(Array.from({ length: 100 }, () => retryDelayMs(3, policy, random)));
    expect(delays.size).toBeGreaterThan(90);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(60_000);
      expect(delay).toBeLessThanOrEqual(120_000);
    }
  });

  it('treats the first attempt of a fresh delivery like the first retry', () => {
    expect(retryDelayBounds(0, policy)).toEqual(retryDelayBounds(1, policy));
  });

  it('allows attempts up to the budget and not beyond', () => {
    expect(mayRetry(7, 8)).toBe(true);
    expect(mayRetry(8, 8)).toBe(false);
  });
});
