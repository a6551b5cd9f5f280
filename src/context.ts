import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/env';
import { type Database, openDatabase } from './db/client';
import { withUpkeep } from './db/upkeep';
import { KeyRing } from './infra/crypto';
import { type BlobStorage, createStorage } from './infra/storage';
import { createMetrics, type Metrics } from './metrics';
import { onInternalAddressRefused } from './platforms/http';
import { builtInAdapters, createPlatformRegistry, type PlatformRegistry } from './platforms/index';
import type { PlatformAdapter } from './platforms/types';
import { closeQueues, createQueues, type Queues } from './queues/index';
import { producerConnection, type RedisConnection, type RedisTarget, resolveRedis } from './queues/redis';
import { createSandboxTimeline } from './services/sandbox-timeline';

/**
 * Everything a request handler or a job processor needs, built once per process (and once per
 * test file). Services receive it as their first argument.
 */
export interface AppContext {
  config: Config;
  database: Database;
  db: Database['db'];
  redisTarget: RedisTarget;
  /** Producer connection (fails fast while Redis is away). */
  redis: RedisConnection;
  /** Prefix of every Redis key Gaung writes, BullMQ's included. */
  redisPrefix: string;
  queues: Queues;
  keys: KeyRing;
  /** Media bytes: local disk under the data directory, or S3-compatible object storage. */
  storage: BlobStorage;
  log: Logger;
  metrics: Metrics;
  platforms: PlatformRegistry;
  /** The time, injectable so tests can run with a fixed clock. */
  now(): Date;
}

/** A Redis key of Gaung's own (not BullMQ's), under the configured prefix. */
export const redisKey = (ctx: Pick<AppContext, 'redisPrefix'>, ...parts: string[]) =>
  [ctx.redisPrefix, ...parts].join(':');

/**
 * GAUNG_SECRET_KEY, or on an embedded set-up without one, a key generated on first start and kept
 * in the data directory (so credentials stay readable across restarts).
 */
export function resolveKeyRing(config: Config, log: Logger): KeyRing {
  const previous = config.GAUNG_SECRET_KEY_PREVIOUS?.split(',') ?? [];
  if (config.GAUNG_SECRET_KEY) return new KeyRing(config.GAUNG_SECRET_KEY, previous);
  if (config.NODE_ENV === 'production')
    throw new Error('GAUNG_SECRET_KEY: required in production (openssl rand -base64 32)');
  const file = path.join(config.dataDir, 'secret-key');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
    log.warn({ file }, 'GAUNG_SECRET_KEY is not set: generated one in the data directory');
  }
  chmodSync(file, 0o600);
  return new KeyRing(readFileSync(file, 'utf8').trim(), previous);
}

export interface ContextParts {
  config: Config;
  log: Logger;
  database: Database;
  redisTarget: RedisTarget;
  keys: KeyRing;
  now?: () => Date;
  /** Replaces the built-in adapters (tests plug in adapters of their own). */
  adapters?: PlatformAdapter[];
}

async function ready(redis: RedisConnection): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Redis did not become ready within 5 s')), 5_000);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Assembles a context from already-opened parts (tests open their own database and Redis). */
export async function assembleContext(parts: ContextParts): Promise<AppContext> {
  const redis = producerConnection(parts.redisTarget);
  redis.on('error', (error) => parts.log.warn({ err: error }, 'redis connection error'));
  onInternalAddressRefused((detail) => parts.log.warn(detail, 'refused a connection to an internal address'));
  // enableOfflineQueue is off: nothing may be sent before the first connection is up.
  await ready(redis);
  return {
    config: parts.config,
    database: parts.database,
    db: parts.database.db,
    redisTarget: parts.redisTarget,
    redis,
    redisPrefix: parts.config.GAUNG_REDIS_PREFIX,
    queues: createQueues(redis, parts.config.GAUNG_REDIS_PREFIX),
    keys: parts.keys,
    storage: await createStorage(parts.config),
    log: parts.log,
    metrics: createMetrics(),
    platforms: createPlatformRegistry(
      parts.adapters ?? builtInAdapters(createSandboxTimeline(parts.database.db), parts.config.publicUrl),
    ),
    now: parts.now ?? (() => new Date()),
  };
}

/**
 * Opens Redis and the database (migrating it) as configured. On failure nothing stays open. Redis
 * comes first, so that a start which cannot reach it creates no database; `opening` is a database
 * the process entry began to open before it loaded the rest of Gaung (one that exists already), and
 * is waited for alongside.
 */
export async function createContext(
  config: Config,
  log: Logger,
  opening?: Promise<Database>,
): Promise<AppContext> {
  const keys = resolveKeyRing(config, log);
  const [redis, opened] = await Promise.allSettled([resolveRedis(config), opening]);
  if (redis.status === 'rejected') {
    if (opened.status === 'fulfilled') await opened.value?.close().catch(() => {});
    throw redis.reason;
  }
  const redisTarget = redis.value;
  let database: Database | undefined;
  try {
    if (opened.status === 'rejected') throw opened.reason;
    database = opened.value ?? (await openDatabase(config));
    // Most starts find every migration applied: two small queries instead of reading them all.
    if (!(await database.migrationsApplied())) await database.migrate();
    // PostgreSQL's autovacuum does this on a server.
    if (database.driver === 'pglite') database = withUpkeep(database, log);
    const ctx = await assembleContext({ config, log, database, redisTarget, keys });
    log.info({ database: database.driver, redis: redisTarget.description }, 'context ready');
    return ctx;
  } catch (error) {
    await database?.close().catch(() => {});
    await redisTarget.stop();
    throw error;
  }
}

export async function closeContext(ctx: AppContext): Promise<void> {
  await closeQueues(ctx.queues).catch(() => {});
  ctx.redis.disconnect();
  await ctx.storage.close().catch(() => {});
  await ctx.database.close().catch(() => {});
  await ctx.redisTarget.stop();
}
