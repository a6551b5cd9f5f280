import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

/**
 * Real Redis topologies for the redis-topology tests, on free loopback ports in a temporary
 * directory: a primary with a replica watched by three Sentinels, or a three-primary Cluster.
 * Where the binaries are missing the tests skip with one message, except under CI=true.
 */

const run = promisify(execFile);

function onPath(binary: string): boolean {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .some((dir) => dir && existsSync(path.join(dir, binary)));
}

const NEEDED = ['redis-server', 'redis-sentinel', 'redis-cli'];

/** Why the topology tests cannot run here (null: they can). Under CI=true a missing binary is a failure. */
export function topologyUnavailable(): string | null {
  const missing = NEEDED.filter((binary) => !onPath(binary));
  if (missing.length === 0) return null;
  const message = `Redis topology tests skipped: ${missing.join(', ')} not on PATH (Debian: apt-get install redis-server redis-sentinel redis-tools)`;
  if (process.env.CI === 'true') throw new Error(message);
  console.warn(message);
  return message;
}

/** A loopback port nobody listens on; with `bus`, port + 10000 (a Cluster node's bus) is free as well. */
async function freePort(bus = false): Promise<number> {
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server.address() as net.AddressInfo;
        server.close(() => resolve(address.port));
      });
    });
  for (;;) {
    const port = await listen(0);
    if (!bus) return port;
    if (port + 10_000 > 65_535) continue;
    if (
      await listen(port + 10_000).then(
        () => true,
        () => false,
      )
    )
      return port;
  }
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function redisInfo(port: number, section: string): Promise<string> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await redis.info(section);
  } finally {
    redis.disconnect();
  }
}

class Processes {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'gaung-redis-'));
  private readonly children: ChildProcess[] = [];
  private readonly output: string[] = [];

  spawn(binary: string, args: string[]): ChildProcess {
    const child = spawn(binary, args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    this.children.push(child);
    return child;
  }

  async server(port: number, extra: string[] = []): Promise<void> {
    this.spawn('redis-server', [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
      ...extra,
    ]);
    await until(async () => (await redisInfo(port, 'server')).includes('redis_version'), `redis on ${port}`);
  }

  log(): string {
    return this.output.join('').slice(-4_000);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface SentinelSet {
  name: string;
  primaryPort: number;
  replicaPort: number;
  sentinels: { host: string; port: number }[];
  /** The port of the primary the Sentinels name now. */
  currentPrimary(): Promise<number>;
  /** SENTINEL FAILOVER, then waits until the Sentinels name the other server and it has taken the role. */
  failover(): Promise<number>;
  log(): string;
  stop(): Promise<void>;
}

export async function startSentinelSet(name = 'gaung-primary'): Promise<SentinelSet> {
  const processes = new Processes();
  try {
    const primaryPort = await freePort();
    const replicaPort = await freePort();
    await processes.server(primaryPort);
    await processes.server(replicaPort, ['--replicaof', '127.0.0.1', String(primaryPort)]);
    await until(
      async () => (await redisInfo(replicaPort, 'replication')).includes('master_link_status:up'),
      'the replica to sync',
    );
    const sentinels: { host: string; port: number }[] = [];
    for (let n = 0; n < 3; n++) {
      const port = await freePort();
      const file = path.join(processes.dir, `sentinel-${port}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${processes.dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${name} 2000`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      processes.spawn('redis-sentinel', [file]);
      sentinels.push({ host: '127.0.0.1', port });
    }
    const sentinel = (port: number) => {
      const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
      client.on('error', () => {});
      return client;
    };
    const ask = async (port: number, ...args: string[]) => {
      const client = sentinel(port);
      try {
        await client.connect();
        return await client.call('SENTINEL', ...args);
      } finally {
        client.disconnect();
      }
    };
    // Every Sentinel knows the replica and the other two before anything is asked of them.
    for (const { port } of sentinels)
      await until(async () => {
        const replicas = (await ask(port, 'replicas', name)) as unknown[];
        const peers = (await ask(port, 'sentinels', name)) as unknown[];
        return replicas.length === 1 && peers.length === 2;
      }, `sentinel ${port} to know the set`);
    const currentPrimary = async () =>
      Number(((await ask(sentinels[0]!.port, 'get-master-addr-by-name', name)) as string[])[1]);
    return {
      name,
      primaryPort,
      replicaPort,
      sentinels,
      currentPrimary,
      async failover() {
        const before = await currentPrimary();
        const after = before === primaryPort ? replicaPort : primaryPort;
        await ask(sentinels[0]!.port, 'failover', name);
        await until(async () => (await currentPrimary()) === after, 'the Sentinels to name the new primary');
        await until(
          async () => (await redisInfo(after, 'replication')).includes('role:master'),
          'the new primary to take the role',
        );
        return after;
      },
      log: () => processes.log(),
      stop: () => processes.stop(),
    };
  } catch (error) {
    const log = processes.log();
    await processes.stop();
    throw new Error(`${(error as Error).message}\n${log}`);
  }
}

export interface RedisCluster {
  nodes: { host: string; port: number }[];
  /** Every key on every primary. */
  keys(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startRedisCluster(): Promise<RedisCluster> {
  const processes = new Processes();
  try {
    const nodes: { host: string; port: number }[] = [];
    for (let n = 0; n < 3; n++) {
      const port = await freePort(true);
      await processes.server(port, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '5000',
      ]);
      nodes.push({ host: '127.0.0.1', port });
    }
    await run(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-yes'],
      {
        cwd: processes.dir,
      },
    );
    for (const { port } of nodes)
      await until(
        async () =>
          (await redisInfo(port, 'cluster')).includes('cluster_enabled:1') && (await clusterOk(port)),
        `cluster node ${port} to be ok`,
      );
    return {
      nodes,
      async keys() {
        const all: string[] = [];
        for (const { port } of nodes) {
          const redis = new Redis({ host: '127.0.0.1', port });
          all.push(...(await redis.keys('*')));
          redis.disconnect();
        }
        return all;
      },
      stop: () => processes.stop(),
    };
  } catch (error) {
    const log = processes.log();
    await processes.stop();
    throw new Error(`${(error as Error).message}\n${log}`);
  }
}

async function clusterOk(port: number): Promise<boolean> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return String(await redis.call('CLUSTER', 'INFO')).includes('cluster_state:ok');
  } finally {
    redis.disconnect();
  }
}
