import type { AppContext } from '../context';
import { redisKey } from '../context';

/**
 * Which worker processes are alive, so that the claims of a dead one are reconciled within seconds
 * rather than after its whole lease. Each worker keeps a key in Redis with a short TTL, refreshed by
 * a heartbeat; a claim names its holder. Another worker may end a claim early only when the
 * holder's key is gone although Redis has kept its keys for longer than a TTL (an `epoch` key,
 * without a TTL, tells a flush or an empty replica from a holder that stopped beating). A holder
 * whose heartbeat has not succeeded for FENCE_MS aborts its platform calls, before anyone may take
 * it for dead; what it may have sent is then reconciled like any unsure attempt.
 */

export const HEARTBEAT_MS = 1_000;
/** A key outlives a few missed beats, so a slow Redis answer does not look like a death. */
export const LIVENESS_TTL_MS = 3_000;
/** Shorter than the TTL and the epoch grace: a live holder stops first, then others may take over. */
export const FENCE_MS = 2_000;
/** After Redis lost its keys, missing ones say nothing until every live worker has beaten again. */
export const EPOCH_GRACE_MS = LIVENESS_TTL_MS;

const livenessKey = (ctx: Pick<AppContext, 'redisPrefix'>, worker: string) => redisKey(ctx, 'worker', worker);
const epochKey = (ctx: Pick<AppContext, 'redisPrefix'>) => redisKey(ctx, 'workers-epoch');

/**
 * KEYS[1] the epoch, KEYS[2..] the holders' keys; ARGV[1] the grace. Returns the positions (1-based)
 * of holders that are gone. One script, so a flush cannot fall between reading the epoch and the keys.
 */
const GONE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  redis.call('SET', KEYS[1], now)
  return {}
end
if now - tonumber(epoch) < tonumber(ARGV[1]) then return {} end
local gone = {}
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then gone[#gone + 1] = i - 1 end
end
return gone`;

type LivenessCommands = {
  gaungWorkersGone(keys: number, ...args: (string | number)[]): Promise<number[]>;
};

const defined = new WeakSet<object>();

function commands(redis: AppContext['redis']): LivenessCommands {
  if (!defined.has(redis)) {
    redis.defineCommand('gaungWorkersGone', { lua: GONE });
    defined.add(redis);
  }
  return redis as unknown as LivenessCommands;
}

/** Those of the holders whose liveness key is gone while Redis kept its keys: their claims are dead. */
export async function goneWorkers(ctx: AppContext, holders: readonly string[]): Promise<string[]> {
  if (holders.length === 0) return [];
  const keys = [epochKey(ctx), ...holders.map((holder) => livenessKey(ctx, holder))];
  const gone = await commands(ctx.redis).gaungWorkersGone(keys.length, ...keys, EPOCH_GRACE_MS);
  return gone.map((position) => holders[position - 1]!);
}

export interface WorkerLiveness {
  readonly name: string;
  /** True while the heartbeat succeeds: only then may a claim name this worker as its holder. */
  healthy(): boolean;
  /** Calls `lost` (once) when the heartbeat stops succeeding, at once if it already has; returns the unsubscribe. */
  onLost(lost: () => void): () => void;
  stop(): Promise<void>;
}

/** Starts the heartbeat of this worker process; resolves after the first beat reached Redis. */
export async function startLiveness(ctx: AppContext, name: string): Promise<WorkerLiveness> {
  const key = livenessKey(ctx, name);
  const listeners = new Set<() => void>();
  let lastBeatSentAt = 0;
  let beating = false;
  let stopped = false;

  const healthy = () => !stopped && Date.now() - lastBeatSentAt < FENCE_MS;
  const beat = async () => {
    if (beating) return;
    beating = true;
    const sentAt = Date.now();
    try {
      await ctx.redis.set(key, String(sentAt), 'PX', LIVENESS_TTL_MS);
      lastBeatSentAt = sentAt;
    } catch (error) {
      ctx.log.warn({ err: error }, 'worker heartbeat failed');
    } finally {
      beating = false;
    }
  };
  const fence = () => {
    if (healthy() || listeners.size === 0) return;
    ctx.log.warn({ worker: name }, 'the worker heartbeat has not reached Redis; abandoning platform calls');
    for (const lost of [...listeners]) lost();
    listeners.clear();
  };

  await beat();
  if (!healthy()) throw new Error('the worker heartbeat could not reach Redis');
  const beats = setInterval(() => void beat(), HEARTBEAT_MS);
  const fences = setInterval(fence, HEARTBEAT_MS / 4);
  beats.unref();
  fences.unref();

  return {
    name,
    healthy,
    onLost(lost) {
      if (!healthy()) {
        lost();
        return () => {};
      }
      listeners.add(lost);
      return () => listeners.delete(lost);
    },
    async stop() {
      stopped = true;
      clearInterval(beats);
      clearInterval(fences);
      // Calls still running are abandoned before the key goes, so nobody takes over while they run.
      for (const lost of [...listeners]) lost();
      listeners.clear();
      await ctx.redis.del(key).catch(() => {});
    },
  };
}
