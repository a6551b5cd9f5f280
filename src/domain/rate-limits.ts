import { CronExpressionParser } from 'cron-parser';
import { PLATFORM_LIMITS, type RateLimit } from '../../config/platform-limits';
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
  /** A quota day's end (the window is then fixed, not sliding): nothing frees up before it. */
  resetAt?: Date;
  /** The quota's name where a platform has several (YouTube: `uploads`, `units`). */
  quota?: string;
}

/** The operator's figures for quotas the platform lets a project change (YouTube's daily quotas). */
export type QuotaOverrides = Partial<Record<Platform, { max?: Record<string, number>; timeZone?: string }>>;

/** A quota day lasts at most 25 hours (the day the clocks go back). */
const QUOTA_DAY_MS = 25 * 60 * 60 * 1000;

/** The next midnight in `timeZone` after `now`. */
export function nextMidnight(timeZone: string, now: Date): Date {
  return CronExpressionParser.parse('0 0 * * *', { tz: timeZone, currentDate: now }).next().toDate();
}

/** The calendar date in `timeZone`, naming one quota day's counter. */
const dayIn = (timeZone: string, at: Date) =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    at,
  );

function window(
  platform: Platform,
  channelId: string,
  limit: RateLimit,
  now: Date,
  overrides: QuotaOverrides,
): RateWindow {
  const own = overrides[platform];
  const max = (limit.quota && own?.max?.[limit.quota]) || limit.max;
  const base = `${blockId(platform, limit.scope, channelId)}:${limit.quota ? `${limit.quota}:` : ''}`;
  if (!limit.calendarDay)
    return {
      id: `${base}${max}/${limit.windowSeconds}s`,
      scope: limit.scope,
      max,
      windowMs: limit.windowSeconds * 1000,
      ...(limit.quota ? { quota: limit.quota } : {}),
    };
  const zone = own?.timeZone ?? limit.calendarDay.timeZone;
  return {
    id: `${base}${max}/day:${dayIn(zone, now)}@${zone}`,
    scope: limit.scope,
    max,
    windowMs: QUOTA_DAY_MS,
    resetAt: nextMidnight(zone, now),
    ...(limit.quota ? { quota: limit.quota } : {}),
  };
}

/** Where a platform's "stop until" answer applies: this channel, or every channel of the platform. */
export const blockId = (platform: Platform, scope: 'channel' | 'app', channelId: string) =>
  scope === 'app' ? `${platform}:app` : `${platform}:channel:${channelId}`;

export function rateWindows(
  platform: Platform,
  channelId: string,
  now: Date,
  overrides: QuotaOverrides = {},
): RateWindow[] {
  return PLATFORM_LIMITS[platform].rateLimits.map((limit) =>
    window(platform, channelId, limit, now, overrides),
  );
}

/**
 * The delete quotas of a channel's platform (Threads: 100 a day per account), counted apart from its
 * publish quotas: their counters are named `…:delete:…`.
 */
export function deleteWindows(platform: Platform, channelId: string, now: Date): RateWindow[] {
  return (PLATFORM_LIMITS[platform].deleteRateLimits ?? []).map((limit) => {
    const publish = window(platform, channelId, limit, now, {});
    return { ...publish, id: publish.id.replace(/:(?=[^:]*$)/, ':delete:') };
  });
}

/** "Threads allows 100 deletes per 24 hours per account", for the attempt history. */
export function describeDeleteWindow(platform: Platform, window: RateWindow): string {
  return `${PLATFORM_LIMITS[platform].label} allows ${window.max} deletes per ${duration(window.windowMs)} per account`;
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
  const label = PLATFORM_LIMITS[platform].label;
  if (window.resetAt)
    return `${label}'s daily ${window.quota ?? 'publish'} quota ${who} is used up until ${window.resetAt.toISOString()}`;
  return `${label} allows ${window.max} posts per ${duration(window.windowMs)} ${who}`;
}
