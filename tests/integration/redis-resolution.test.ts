import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisUnavailableError, resolveRedis } from '../../src/queues/redis';

const NOWHERE = 'redis://127.0.0.1:1';

describe('finding Redis', () => {
  const originalPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = originalPath;
  });

  it('starts redis-server from PATH on a unix socket when none answers, and stops it', async (context) => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gaung-redis-'));
    const target = await resolveRedis({ dataDir }, NOWHERE).catch((error: Error) => error);
    if (target instanceof RedisUnavailableError && /no Redis found/.test(target.message)) context.skip();
    if (target instanceof Error) throw target;
    expect(target.description).toContain('started by Gaung');
    expect(target.options.path).toBe(path.join(dataDir, 'redis', 'redis.sock'));
    const client = new Redis(target.options);
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
    await target.stop();
    const after = new Redis({
      ...target.options,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    after.on('error', () => {});
    await expect(after.connect()).rejects.toThrow();
  });

  it('says how to get Redis when there is none', async () => {
    process.env.PATH = '/nonexistent';
    await expect(resolveRedis({ dataDir: os.tmpdir() }, NOWHERE)).rejects.toThrow(
      /no Redis found\. Gaung needs Redis: set REDIS_URL, .*docker compose up -d redis.*apt-get install redis-server/,
    );
  });

  it('uses REDIS_URL when set, and says so when it does not answer', async () => {
    await expect(resolveRedis({ REDIS_URL: NOWHERE, dataDir: os.tmpdir() })).rejects.toThrow(
      /cannot reach Redis at REDIS_URL/,
    );
  });
});
