import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { type Config, loadConfig } from '../../config/env';
import { type App, buildApp } from '../../src/app';
import { type AppContext, assembleContext } from '../../src/context';
import type { Driver } from '../../src/db/client';
import { KeyRing } from '../../src/infra/crypto';
import { createLogger } from '../../src/logger';
import type { PlatformAdapter } from '../../src/platforms/types';
import type { RedisTarget } from '../../src/queues/redis';
import { createTestDatabase, type TestDatabase } from './db';

export function testRedisTarget(): RedisTarget {
  const options = inject('redisOptions');
  return { options: { ...options }, description: 'test redis', stop: async () => {} };
}

/** Captures every log line, so tests can assert what is (and is not) logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void) {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean));
    callback();
  }
  get text() {
    return this.lines.join('\n');
  }
}

export interface TestContext {
  ctx: AppContext;
  database: TestDatabase;
  logs: LogCapture;
  config: Config;
  close(): Promise<void>;
}

export interface TestContextOptions {
  env?: Record<string, string>;
  now?: () => Date;
  /** Adapters to publish with instead of the built-in ones (e.g. pointed at fakes). */
  adapters?: (parts: { db: AppContext['db']; publicUrl: string }) => PlatformAdapter[];
  /** A Redis of the test's own (e.g. a private redis-server it may flush); default the shared test Redis. */
  redis?: RedisTarget;
  /** A database the test prepared itself (closed with the context); default a fresh, migrated one. */
  database?: TestDatabase;
}

/**
 * A full AppContext on a fresh database of the given driver and a fresh Redis key prefix. Close it
 * in afterAll: the database is dropped and the prefix's keys deleted.
 */
export async function createTestContext(
  driver: Driver,
  options: TestContextOptions = {},
): Promise<TestContext> {
  const prefix = `gaung-test-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    GAUNG_DATA_DIR: `data/test/${prefix}`,
    GAUNG_REDIS_PREFIX: prefix,
    GAUNG_SECRET_KEY: randomBytes(32).toString('base64'),
    GAUNG_PUBLIC_URL: 'http://127.0.0.1:3000',
    // The fake platforms and receivers listen on loopback.
    GAUNG_ALLOW_PRIVATE_URLS: '1',
    ...options.env,
  });
  const logs = new LogCapture();
  const log = createLogger(config.LOG_LEVEL, logs);
  const database = options.database ?? (await createTestDatabase(driver));
  const ctx = await assembleContext({
    config,
    log,
    database,
    redisTarget: options.redis ?? testRedisTarget(),
    keys: new KeyRing(config.GAUNG_SECRET_KEY!),
    now: options.now,
    adapters: options.adapters?.({ db: database.db, publicUrl: config.publicUrl }),
  });
  return {
    ctx,
    database,
    logs,
    config,
    async close() {
      await Promise.all(Object.values(ctx.queues).map((queue) => queue.close()));
      if (!options.redis) await deleteKeys(prefix);
      ctx.redis.disconnect();
      await database.close();
    },
  };
}

/** Deletes every Redis key under a prefix. */
export async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(inject('redisOptions'));
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

export interface TestApp extends TestContext {
  app: App;
}

/** A built Fastify app on a fresh test context; use `app.inject`. */
export async function createTestApp(driver: Driver, options: TestContextOptions = {}): Promise<TestApp> {
  const testContext = await createTestContext(driver, options);
  const app = await buildApp(testContext.ctx);
  await app.ready();
  return {
    ...testContext,
    app,
    async close() {
      await app.close();
      await testContext.close();
    },
  };
}
