/**
 * When a delivery is tried again after a transient failure. Exponential backoff with "equal
 * jitter": the n-th retry waits between half and all of base·2^(n−1), capped, so retries of
 * deliveries that failed together spread out instead of hitting the platform at the same instant.
 */

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** The range the delay after `attempts` counted attempts falls in. */
export function retryDelayBounds(attempts: number, policy: BackoffPolicy): { minMs: number; maxMs: number } {
  const exponent = Math.min(Math.max(0, attempts - 1), 50);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return { minMs: ceiling / 2, maxMs: ceiling };
}

/** The delay before the next attempt, after `attempts` counted attempts; `random` returns [0, 1). */
export function retryDelayMs(
  attempts: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const { minMs, maxMs } = retryDelayBounds(attempts, policy);
  return Math.round(minMs + random() * (maxMs - minMs));
}

/** Whether a delivery that has used `attempts` of `maxAttempts` may be tried once more. */
export const mayRetry = (attempts: number, maxAttempts: number) => attempts < maxAttempts;
