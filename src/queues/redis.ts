import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

/**
 * Finds Redis as DESIGN principle 5 says: REDIS_URL, or a Sentinel-managed primary
 * (REDIS_SENTINELS), or a Cluster (REDIS_CLUSTER_NODES); else 127.0.0.1:6379 if it answers; else a
 * `redis-server` from PATH started as a child on a unix socket under the data directory; else a
 * clear error saying how to get one.
 */

/** One server (possibly found through Sentinels), or a Cluster: BullMQ and Gaung take either. */
export type RedisConnection = Redis | Cluster;

export class RedisUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

export interface RedisTarget {
  /** Base options for new connections (host/port or socket path, or Sentinels; TLS, password); per node in a Cluster. */
  options: RedisOptions;
  /** Set for a Cluster: the nodes to start from. */
  cluster?: { host: string; port: number }[];
  /** Where it came from, for the start-up log line. */
  description: string;
  /** Stops a Redis started by Gaung; a no-op otherwise. */
  stop(): Promise<void>;
}

const LOCAL_DEFAULT = 'redis://127.0.0.1:6379';

async function answers(
  options: RedisOptions,
  timeoutMs = 1_500,
  cluster?: RedisTarget['cluster'],
): Promise<Error | null> {
  const probeOptions: RedisOptions = {
    ...options,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  };
  const probe = cluster
    ? new Cluster(cluster, {
        redisOptions: probeOptions,
        lazyConnect: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: () => null,
      })
    : new Redis(probeOptions);
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return null;
  } catch (error) {
    return error as Error;
  } finally {
    probe.disconnect();
  }
}

export function optionsFromUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
  };
}

function findOnPath(binary: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, binary);
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

async function startChildRedis(binary: string, dataDir: string): Promise<RedisTarget> {
  const dir = path.join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const socket = path.join(dir, 'redis.sock');
  rmSync(socket, { force: true });
  const child: ChildProcess = spawn(
    binary,
    [
      '--port',
      '0',
      '--unixsocket',
      socket,
      '--unixsocketperm',
      '700',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const stderr: Buffer[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  const stopOnExit = () => child.kill('SIGTERM');
  process.once('exit', stopOnExit);
  const options: RedisOptions = { path: socket };
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (existsSync(socket) && (await answers(options, 500)) === null) {
      return {
        options,
        description: `redis-server started by Gaung on ${socket}`,
        async stop() {
          process.removeListener('exit', stopOnExit);
          if (child.exitCode !== null) return;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          await exited;
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  process.removeListener('exit', stopOnExit);
  throw new RedisUnavailableError(
    `redis-server from ${binary} did not start: ${Buffer.concat(stderr).toString().trim() || 'no output'}`,
  );
}

const HOW_TO_GET_REDIS =
  'Gaung needs Redis: set REDIS_URL, run one on 127.0.0.1:6379 (docker compose up -d redis), or install redis-server (apt-get install redis-server) so Gaung can start it';

export interface RedisSettings {
  REDIS_URL?: string;
  REDIS_SENTINELS?: { host: string; port: number }[];
  REDIS_SENTINEL_NAME?: string;
  REDIS_SENTINEL_PASSWORD?: string;
  REDIS_CLUSTER_NODES?: { host: string; port: number }[];
  REDIS_USERNAME?: string;
  REDIS_PASSWORD?: string;
  REDIS_TLS?: boolean;
  dataDir: string;
}

const list = (nodes: { host: string; port: number }[]) => nodes.map((n) => `${n.host}:${n.port}`).join(', ');

/**
 * After a failover the old primary answers writes with READONLY until the client follows the
 * Sentinels to the new one: reconnect (and resend) rather than fail the command.
 */
const reconnectOnReadonly = (error: Error) => (error.message.startsWith('READONLY') ? 2 : false);

export function sentinelOptions(config: RedisSettings): RedisOptions {
  return {
    sentinels: config.REDIS_SENTINELS,
    name: config.REDIS_SENTINEL_NAME ?? 'mymaster',
    sentinelPassword: config.REDIS_SENTINEL_PASSWORD,
    username: config.REDIS_USERNAME,
    password: config.REDIS_PASSWORD,
    tls: config.REDIS_TLS ? {} : undefined,
    enableTLSForSentinelMode: config.REDIS_TLS ?? false,
    sentinelTLS: config.REDIS_TLS ? {} : undefined,
    // Learn of a failover from the Sentinels at once instead of waiting for the old primary to refuse.
    failoverDetector: true,
    reconnectOnError: reconnectOnReadonly,
  };
}

export async function resolveRedis(
  config: RedisSettings,
  /** Where an unconfigured Redis is looked for first (tests point it elsewhere). */
  localUrl = LOCAL_DEFAULT,
): Promise<RedisTarget> {
  if (config.REDIS_SENTINELS) {
    const options = sentinelOptions(config);
    const failure = await answers(options, 5_000);
    if (failure)
      throw new RedisUnavailableError(
        `cannot reach the Redis primary "${options.name}" through REDIS_SENTINELS: ${failure.message}`,
      );
    const description = `Redis primary "${options.name}" through Sentinels ${list(config.REDIS_SENTINELS)}`;
    return { options, description, stop: async () => {} };
  }
  if (config.REDIS_CLUSTER_NODES) {
    const cluster = config.REDIS_CLUSTER_NODES;
    const options: RedisOptions = {
      username: config.REDIS_USERNAME,
      password: config.REDIS_PASSWORD,
      tls: config.REDIS_TLS ? {} : undefined,
    };
    const failure = await answers(options, 5_000, cluster);
    if (failure)
      throw new RedisUnavailableError(
        `cannot reach the Redis Cluster at REDIS_CLUSTER_NODES: ${failure.message}`,
      );
    return { options, cluster, description: `Redis Cluster at ${list(cluster)}`, stop: async () => {} };
  }
  if (config.REDIS_URL) {
    const options = optionsFromUrl(config.REDIS_URL);
    const failure = await answers(options, 5_000);
    if (failure) throw new RedisUnavailableError(`cannot reach Redis at REDIS_URL: ${failure.message}`);
    return { options, description: `Redis at ${options.host}:${options.port}`, stop: async () => {} };
  }
  const local = optionsFromUrl(localUrl);
  if ((await answers(local)) === null) {
    return { options: local, description: `Redis at ${local.host}:${local.port}`, stop: async () => {} };
  }
  const binary = findOnPath('redis-server');
  if (binary) return startChildRedis(binary, config.dataDir);
  throw new RedisUnavailableError(`no Redis found. ${HOW_TO_GET_REDIS}`);
}

function connect(
  target: RedisTarget,
  options: Pick<RedisOptions, 'enableOfflineQueue' | 'maxRetriesPerRequest'>,
): RedisConnection {
  const connection = target.cluster
    ? new Cluster(target.cluster, {
        redisOptions: { ...target.options, maxRetriesPerRequest: options.maxRetriesPerRequest },
        enableOfflineQueue: options.enableOfflineQueue,
      } satisfies ClusterOptions)
    : new Redis({ ...target.options, ...options });
  connection.on('error', () => {});
  return connection;
}

/** Producers (API, schedulers) fail fast when Redis is away rather than queueing commands in memory. */
export function producerConnection(target: RedisTarget): RedisConnection {
  return connect(target, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
}

/** Workers block on Redis and must never give up a command (BullMQ requires maxRetriesPerRequest: null). */
export function workerConnection(target: RedisTarget): RedisConnection {
  return connect(target, { maxRetriesPerRequest: null });
}
