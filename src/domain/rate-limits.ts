import { PLATFORM_LIMITS } from '../../config/platform-limits';
import type { Platform } from './vocabulary';

/**
 * Which publish quotas apply to a channel, and how long to wait when a platform answers "too
 * many". The counting itself is atomic in Redis (src/infra/rate-limiter.ts): at most `max`
 * posts in any window of `windowMs`, per account or per Gaung's app on the platform.
 */

export interface RateWindow {
  /** Names the counter: one per channel for `channel` quotas, one per platform for `app` quotas. */
  id: string;
  scope: 'channel' | 'app';
  max: number;
  windowMs: number;
}

/** Where a platform's "stop until" answer applies: this channel, or every channel of the platform. */
export const blockId = (platform: Platform, scope: 'channel' | 'app', channelId: string) =>
  scope === 'app' ? `${platform}:app` : `${platform}:channel:${channelId}`;

export function rateWindows(platform: Platform, channelId: string): RateWindow[] {
  return PLATFORM_LIMITS[platform].rateLimits.map((limit) => ({
    id: `${blockId(platform, limit.scope, channelId)}:${limit.max}/${limit.windowSeconds}s`,
    scope: limit.scope,
    max: limit.max,
    windowMs: limit.windowSeconds * 1000,
  }));
}

/** The two blocks a publish to this channel must respect. */
export const blockIds = (platform: Platform, channelId: string) => [
  blockId(platform, 'channel', channelId),
  blockId(platform, 'app', channelId),
];

const MIN_WAIT_MS = 1_000;
/** Longer than any documented platform quota window (Instagram and Threads: 24 h). */
const MAX_WAIT_MS = 48 * 60 * 60 * 1000;

/**
 * When to try again after a platform's rate limit: its reset time, but at least a second from now
 * (a reset in the past or "now" would spin) and at most two days (a garbled header must not park a
 * delivery for a year).
 */
export function waitUntilAfterRateLimit(until: Date, now: Date): Date {
  const ms = Math.min(Math.max(until.getTime(), now.getTime() + MIN_WAIT_MS), now.getTime() + MAX_WAIT_MS);
  return new Date(ms);
}

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds % 86_400 === 0) return seconds === 86_400 ? '24 hours' : `${seconds / 86_400} days`;
  if (seconds % 3_600 === 0) return seconds === 3_600 ? 'hour' : `${seconds / 3_600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? 'minute' : `${seconds / 60} minutes`;
  return seconds === 1 ? 'second' : `${seconds} seconds`;
}

/** "X allows 100 posts per 15 minutes per account", for the attempt history. */
export function describeRateWindow(platform: Platform, window: RateWindow): string {
  const who = window.scope === 'app' ? 'for all of Gaung’s accounts' : 'per account';
  return `${PLATFORM_LIMITS[platform].label} allows ${window.max} posts per ${duration(window.windowMs)} ${who}`;
}
