import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { resolveRedis } from '../../src/queues/redis';

/**
 * Finds the services the integration tests use. PostgreSQL is used where it answers
 * (TEST_DATABASE_URL, default the local server); in CI (CI=true) it is required. Redis is found or
 * started as Gaung itself does.
 */

export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string | null;
    redisOptions: { host?: string; port?: number; path?: string; password?: string };
  }
}

export default async function setup(project: TestProject) {
  const url = process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
  let postgresUrl: string | null = url;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    if (process.env.CI === 'true' || process.env.CI === '1')
      throw new Error(`CI requires PostgreSQL at ${url}: ${(error as Error).message}`);
    console.warn(`PostgreSQL not reachable at ${url}; database tests run on PGlite only`);
    postgresUrl = null;
  } finally {
    await client.end().catch(() => {});
  }
  const redis = await resolveRedis({ REDIS_URL: process.env.TEST_REDIS_URL, dataDir: 'data/test' });
  const { host, port, path, password } = redis.options;
  project.provide('postgresUrl', postgresUrl);
  project.provide('redisOptions', { host, port, path, password });
  return async () => {
    await redis.stop();
  };
}
