import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type Config, loadConfig } from '../config/env';
import { type AppContext, assembleContext, closeContext } from '../src/context';
import { type Database, openPostgres, queryRows } from '../src/db/client';
import { channels, units, users } from '../src/db/schema';
import type { Platform } from '../src/domain/vocabulary';
import { KeyRing } from '../src/infra/crypto';
import { createLogger } from '../src/logger';
import { type RedisTarget, resolveRedis } from '../src/queues/redis';
import { createLedgerAdapter } from '../tests/helpers/ledger-platform';
import { root } from './measure';

/**
 * What the engine benchmarks share: a fresh PostgreSQL database, Redis under a fresh key prefix, a
 * fake platform in a process of its own, an organisation with channels, and the machine's description.
 */

const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ||
  process.env.TEST_DATABASE_URL ||
  'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  database: Database;
  url: string;
  drop(): Promise<void>;
}

export async function benchDatabase(): Promise<BenchDatabase> {
  const name = `gaung_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const database = await openPostgres(url.toString(), { poolMax: 20 });
  await database.migrate();
  return {
    database,
    url: url.toString(),
    async drop() {
      const cleanup = new pg.Client({ connectionString: ADMIN_URL });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}

/** A fake platform (the engine tests' ledger) in a child process, answering as fast as it can. */
export async function spawnFake(): Promise<{ url: string; stop(): void }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join('bench', 'engine-fake.ts')],
    {
      cwd: root,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /listening (http:\/\/\S+)/.exec(chunk.toString());
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the fake exited (${code})`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

export interface BenchContext {
  ctx: AppContext;
  config: Config;
  redisTarget: RedisTarget;
  close(): Promise<void>;
}

/** A context on the bench database whose `sandbox` and `telegram` channels publish to the fake. */
export async function benchContext(
  bench: BenchDatabase,
  fakeUrl: string,
  env: Record<string, string> = {},
  redisTarget?: RedisTarget,
): Promise<BenchContext> {
  const prefix = `gaung-bench-${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: bench.url,
    GAUNG_REDIS_PREFIX: prefix,
    GAUNG_SECRET_KEY: randomBytes(32).toString('base64'),
    GAUNG_DATA_DIR: path.join(root, 'data', 'bench'),
    ...env,
  });
  const target =
    redisTarget ?? (await resolveRedis({ REDIS_URL: process.env.REDIS_URL, dataDir: config.dataDir }));
  const ctx = await assembleContext({
    config,
    log: createLogger(config.LOG_LEVEL),
    database: bench.database,
    redisTarget: target,
    keys: new KeyRing(config.GAUNG_SECRET_KEY!),
    adapters: (['sandbox', 'telegram'] as const).map((platform) =>
      createLedgerAdapter({ platform, baseUrl: fakeUrl, reconcile: 'idempotent' }),
    ),
  });
  return {
    ctx,
    config,
    redisTarget: target,
    async close() {
      await Promise.all(
        Object.values(ctx.queues).map((queue) => queue.obliterate({ force: true }).catch(() => {})),
      );
      await deletePrefix(target, prefix);
      ctx.redis.disconnect();
      await Promise.all(Object.values(ctx.queues).map((queue) => queue.close()));
      await ctx.storage.close().catch(() => {});
      if (!redisTarget) await target.stop();
    },
  };
}

export { closeContext };

async function deletePrefix(target: RedisTarget, prefix: string): Promise<void> {
  const redis = new Redis(target.options);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

export interface BenchOrg {
  unitId: string;
  authorId: string;
  /** `paused` keeps the engine's sweeper away from it (the baseline's deliveries are not the engine's). */
  channel(platform: Platform, name: string, status?: 'active' | 'paused'): Promise<string>;
}

export async function benchOrg(ctx: AppContext): Promise<BenchOrg> {
  const unitId = crypto.randomUUID();
  await ctx.db.insert(units).values({
    id: unitId,
    kind: 'national',
    name: 'Nasional',
    slug: `nasional-${unitId.slice(0, 6)}`,
    timeZone: 'Asia/Jakarta',
    path: `/${unitId}/`,
  });
  const [author] = await ctx.db
    .insert(users)
    .values({ unitId, email: 'bench@gaung.test', name: 'Bench', role: 'contributor', passwordHash: 'x' })
    .returning({ id: users.id });
  return {
    unitId,
    authorId: author!.id,
    async channel(platform, name, status = 'active') {
      const id = crypto.randomUUID();
      await ctx.db.insert(channels).values({
        id,
        unitId,
        platform,
        name,
        status,
        timeZone: 'Asia/Jakarta',
        credentials: ctx.keys.encrypt({ token: 'ledger-token' }, id),
      });
      return id;
    },
  };
}

export async function publishedCount(ctx: AppContext, channelId: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    ctx.db,
    sql`select count(*)::int as n from deliveries where channel_id = ${channelId}::uuid and status = 'published'`,
  );
  return Number(row?.n ?? 0);
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export async function describeMachine(bench: BenchDatabase, redisTarget: RedisTarget): Promise<string> {
  const [pgVersion] = await queryRows<{ v: string }>(bench.database.db, sql`select version() as v`);
  const redis = new Redis(redisTarget.options);
  const info = await redis.info('server');
  redis.disconnect();
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  const load = os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ');
  return `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, Node ${process.version}, ${pgVersion?.v.split(' on ')[0]}, Redis ${redisVersion}. Load average at the start: ${load} (the machine is shared).`;
}
