import { type AppContext, redisKey } from '../context';
import {
  blockId,
  blockIds,
  deleteWindows,
  type QuotaOverrides,
  type RateWindow,
  rateWindows,
} from '../domain/rate-limits';
import type { Platform } from '../domain/vocabulary';
import type { RedisConnection } from '../queues/redis';

/**
 * Publish quotas, counted atomically in Redis before a platform is called. Each quota window is a
 * sorted set of publish times (a sliding log): at most `max` entries in any `window`. A delivery that
 * finds its channel's quota used up *books* the first time it may go, so a hundred waiting
 * deliveries are spread over the following windows instead of all waking at the same reset. App-wide
 * windows hold no bookings (one busy channel must not hold up the others); they are checked when a
 * delivery goes. A platform's own "too many" answer blocks the channel (or the whole app) until its
 * reset.
 *
 * Times come from the caller (the context's clock), so tests can drive it with a fixed clock.
 * Under Redis Cluster, give GAUNG_REDIS_PREFIX a hash tag ({gaung}) so one script's keys share a slot.
 */

const RESERVE = `
local now = tonumber(ARGV[1])
local member = ARGV[2]
local nc = tonumber(ARGV[3])
local na = tonumber(ARGV[4])
local n = nc + na
local granted = member .. '@' .. now
-- Each window: max, length, and (for a quota day) when it resets; 0 for a sliding window.
local function limit(i) return tonumber(ARGV[2 + 3 * i]), tonumber(ARGV[3 + 3 * i]), tonumber(ARGV[4 + 3 * i]) end
local function freeAt(i, edge)
  local _, window, reset = limit(i)
  if reset > 0 then return reset end
  return tonumber(edge[2]) + window
end
local at = now
for j = n + 1, #KEYS do
  local blocked = tonumber(redis.call('GET', KEYS[j]) or '0')
  if blocked > at then at = blocked end
end
for i = 1, n do
  local _, window = limit(i)
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
end
-- The first moment the app-wide windows (which hold no bookings) have room.
local appFree, appCause = now, 0
for i = nc + 1, n do
  local max = limit(i)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= max then
    local edge = redis.call('ZRANGE', KEYS[i], count - max, count - max, 'WITHSCORES')
    local free = freeAt(i, edge)
    if free > appFree then appFree = free; appCause = i end
  end
end
local function grant(score)
  for i = 1, nc do
    local _, window = limit(i)
    redis.call('ZREM', KEYS[i], member)
    redis.call('ZADD', KEYS[i], score, granted)
    redis.call('PEXPIRE', KEYS[i], math.max(score + window - now, 1))
  end
  for i = nc + 1, n do
    local _, window = limit(i)
    redis.call('ZADD', KEYS[i], now, granted)
    redis.call('PEXPIRE', KEYS[i], window)
  end
  return {1, now, 0}
end
if nc > 0 then
  local booked = redis.call('ZSCORE', KEYS[1], member)
  if booked then
    booked = tonumber(booked)
    if booked >= at then
      if booked > now then return {0, booked, 0} end
      if appFree > now then return {0, appFree, appCause} end
      return grant(booked)
    end
    for i = 1, nc do redis.call('ZREM', KEYS[i], member) end
  end
end
-- Per-channel windows: book the first moment each allows one more (bookings queue up in order).
local channelAt, cause = at, 0
for i = 1, nc do
  local max = limit(i)
  local last = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
  if last[2] and tonumber(last[2]) > channelAt then channelAt = tonumber(last[2]); cause = i end
  local count = redis.call('ZCARD', KEYS[i])
  if count >= max then
    local edge = redis.call('ZRANGE', KEYS[i], count - max, count - max, 'WITHSCORES')
    local free = freeAt(i, edge)
    if free > channelAt then channelAt = free; cause = i end
  end
end
if channelAt > now then
  for i = 1, nc do
    local _, window = limit(i)
    redis.call('ZADD', KEYS[i], channelAt, member)
    redis.call('PEXPIRE', KEYS[i], channelAt + window - now)
  end
  return {0, channelAt, cause}
end
if appFree > now then return {0, appFree, appCause} end
return grant(now)
`;

const BLOCK = `
local till = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if till > current and till > now then
  redis.call('SET', KEYS[1], till, 'PX', till - now)
  return 1
end
return 0
`;

const CALL_SLOT = `
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= max then
  local edge = redis.call('ZRANGE', KEYS[1], count - max, count - max, 'WITHSCORES')
  return math.max(tonumber(edge[2]) + window - now, 1)
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0
`;

interface RateCommands {
  gaungRateReserve(...args: (string | number)[]): Promise<[number, number, number]>;
  gaungRateBlock(key: string, till: number, now: number): Promise<number>;
  gaungCallSlot(key: string, now: number, max: number, windowMs: number, member: string): Promise<number>;
}

const defined = new WeakSet<RedisConnection>();

function commands(redis: RedisConnection): RateCommands {
  if (!defined.has(redis)) {
    redis.defineCommand('gaungRateReserve', { lua: RESERVE });
    redis.defineCommand('gaungRateBlock', { numberOfKeys: 1, lua: BLOCK });
    redis.defineCommand('gaungCallSlot', { numberOfKeys: 1, lua: CALL_SLOT });
    defined.add(redis);
  }
  return redis as unknown as RateCommands;
}

export type Reservation =
  /** Go now; `token` gives the slot back if the delivery turns out not to be publishable. */
  | { granted: true; token: string }
  /** Booked for `at`; ask again then with the same member. `window` is the quota that decided, if any. */
  | { granted: false; at: Date; window: RateWindow | null };

const windowKey = (ctx: Pick<AppContext, 'redisPrefix'>, window: RateWindow) =>
  redisKey(ctx, 'rate', window.id);
const blockKey = (ctx: Pick<AppContext, 'redisPrefix'>, id: string) => redisKey(ctx, 'rate-block', id);

/**
 * Takes a slot in every quota of the channel's platform, or books the first moment all of them allow
 * one. `member` names this attempt (delivery id and attempt count): asking again with the same
 * member claims the booking instead of queueing anew.
 */
export async function reservePublishSlot(
  ctx: Pick<AppContext, 'redis' | 'redisPrefix' | 'now'>,
  target: { platform: Platform; channelId: string },
  member: string,
  overrides: QuotaOverrides = {},
): Promise<Reservation> {
  const all = rateWindows(target.platform, target.channelId, ctx.now(), overrides);
  // Channel windows first: the script books in those and only checks the app-wide ones.
  const windows = [...all.filter((w) => w.scope === 'channel'), ...all.filter((w) => w.scope === 'app')];
  const channelCount = windows.filter((w) => w.scope === 'channel').length;
  const keys = [
    ...windows.map((window) => windowKey(ctx, window)),
    ...blockIds(target.platform, target.channelId).map((id) => blockKey(ctx, id)),
  ];
  const now = ctx.now().getTime();
  const [granted, at, cause] = await commands(ctx.redis).gaungRateReserve(
    keys.length,
    ...keys,
    now,
    member,
    channelCount,
    windows.length - channelCount,
    ...windows.flatMap((window) => [window.max, window.windowMs, window.resetAt?.getTime() ?? 0]),
  );
  if (granted === 1) return { granted: true, token: `${member}@${at}` };
  return { granted: false, at: new Date(Number(at)), window: cause > 0 ? windows[cause - 1]! : null };
}

/**
 * Takes a slot in the channel's delete quotas (Threads: 100 a day per account), or books the first
 * moment they allow one, as publish slots are booked. Granted at once where the platform has none.
 */
export async function reserveDeleteSlot(
  ctx: Pick<AppContext, 'redis' | 'redisPrefix' | 'now'>,
  target: { platform: Platform; channelId: string },
  member: string,
): Promise<Reservation> {
  const windows = deleteWindows(target.platform, target.channelId, ctx.now());
  if (windows.length === 0) return { granted: true, token: member };
  const now = ctx.now().getTime();
  const [granted, at, cause] = await commands(ctx.redis).gaungRateReserve(
    windows.length,
    ...windows.map((window) => windowKey(ctx, window)),
    now,
    member,
    windows.length,
    0,
    ...windows.flatMap((window) => [window.max, window.windowMs, window.resetAt?.getTime() ?? 0]),
  );
  if (granted === 1) return { granted: true, token: `${member}@${at}` };
  return { granted: false, at: new Date(Number(at)), window: cause > 0 ? windows[cause - 1]! : null };
}

/** Gives a granted slot back (the claim that followed it did not happen). */
export async function releasePublishSlot(
  ctx: Pick<AppContext, 'redis' | 'redisPrefix' | 'now'>,
  target: { platform: Platform; channelId: string },
  token: string,
  overrides: QuotaOverrides = {},
): Promise<void> {
  const windows = rateWindows(target.platform, target.channelId, ctx.now(), overrides);
  if (windows.length === 0) return;
  const pipeline = ctx.redis.pipeline();
  for (const window of windows) pipeline.zrem(windowKey(ctx, window), token);
  await pipeline.exec();
}

/** Stops publishing to the channel (or, for `app`, to the whole platform) until `until`. */
export async function blockPublishing(
  ctx: Pick<AppContext, 'redis' | 'redisPrefix' | 'now'>,
  target: { platform: Platform; channelId: string; scope: 'channel' | 'app' },
  until: Date,
): Promise<void> {
  await commands(ctx.redis).gaungRateBlock(
    blockKey(ctx, blockId(target.platform, target.scope, target.channelId)),
    until.getTime(),
    ctx.now().getTime(),
  );
}

/**
 * The app-wide quota days of a platform that are used up now (YouTube's uploads, say), for the
 * approve screen; empty when every quota has room.
 */
export async function exhaustedQuotas(
  ctx: Pick<AppContext, 'redis' | 'redisPrefix' | 'now'>,
  target: { platform: Platform; channelId: string },
  overrides: QuotaOverrides = {},
): Promise<RateWindow[]> {
  const now = ctx.now().getTime();
  const days = rateWindows(target.platform, target.channelId, ctx.now(), overrides).filter(
    (window) => window.resetAt && window.scope === 'app',
  );
  const exhausted: RateWindow[] = [];
  for (const window of days)
    if ((await ctx.redis.zcount(windowKey(ctx, window), now - window.windowMs, '+inf')) >= window.max)
      exhausted.push(window);
  return exhausted;
}

/**
 * Waits until a call fits in a per-token budget the platform documents for one endpoint (TikTok's
 * 30 status fetches a minute), counting in Redis across every worker. Resolves once the call is booked.
 */
export async function takeCallSlot(
  ctx: Pick<AppContext, 'redis' | 'redisPrefix' | 'now'>,
  budget: { id: string; max: number; windowMs: number },
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  const key = redisKey(ctx, 'call-rate', budget.id);
  for (;;) {
    const now = ctx.now().getTime();
    const waitMs = await commands(ctx.redis).gaungCallSlot(
      key,
      now,
      budget.max,
      budget.windowMs,
      crypto.randomUUID(),
    );
    if (waitMs <= 0) return;
    await sleep(waitMs);
  }
}

/**
 * A plain fixed-window counter: at most `max` calls per `windowMs` under `id`. Answers how long to
 * wait when the window is used up. For calls that are not posts (on-demand metrics reads).
 */
export async function takeFixedWindow(
  ctx: Pick<AppContext, 'redis' | 'redisPrefix'>,
  id: string,
  max: number,
  windowMs: number,
): Promise<{ ok: true } | { ok: false; retryAfterMs: number }> {
  const key = redisKey(ctx, 'window', id);
  const results = await ctx.redis.multi().set(key, '0', 'PX', windowMs, 'NX').incr(key).pttl(key).exec();
  const count = Number(results?.[1]?.[1] ?? 0);
  const ttl = Number(results?.[2]?.[1] ?? windowMs);
  return count <= max ? { ok: true } : { ok: false, retryAfterMs: Math.max(ttl, 1) };
}

/** Until when a platform's own "too many" answer blocks calls to this channel (or the app), if it does. */
export async function blockedUntil(
  ctx: Pick<AppContext, 'redis' | 'redisPrefix' | 'now'>,
  target: { platform: Platform; channelId: string },
): Promise<Date | null> {
  const values = await ctx.redis.mget(
    ...blockIds(target.platform, target.channelId).map((id) => blockKey(ctx, id)),
  );
  const until = Math.max(0, ...values.map((value) => Number(value ?? 0)));
  return until > ctx.now().getTime() ? new Date(until) : null;
}
