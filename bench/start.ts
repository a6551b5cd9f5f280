/**
 * How fast and how light Gaung starts: `npm start` (the one command people run) on the embedded
 * defaults, on a data directory that already exists, timed from the command to the first 200 from
 * /readyz, then the all-in-one process's RSS after it has idled (API, workers and schedulers
 * running, PGlite, the local Redis). Baseline in the same run: a bare Fastify app with
 * @fastify/multipart started with `node`, timed to its first answer and measured the same way.
 * Median of three starts each. Writes its section of docs/benchmarks.md.
 *
 *   npm run bench:start       (BENCH_START_RUNS, BENCH_START_IDLE_MS to change the runs and the idle wait)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { median, root, writeSection } from './measure';

const RUNS = Number(process.env.BENCH_START_RUNS ?? 3);
const IDLE_MS = Number(process.env.BENCH_START_IDLE_MS ?? 15_000);
const READY_TARGET_MS = 2_000;
const RSS_TARGET = 250 * 1024 * 1024;
const MB = 1024 * 1024;
/** USER_HZ: /proc counts CPU time in 1/100 s on Linux. */
const CLOCK_TICKS = 100;

const BASELINE = `
import Fastify from 'fastify';
import multipart from '@fastify/multipart';
const app = Fastify({ logger: false });
await app.register(multipart);
app.get('/readyz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Every process under `pid` (npm runs `sh -c node …`; the server is a grandchild). */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}

/** User + system CPU of `pid` and of its children it has waited for (npm's prestart), in ms. */
function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime, stime, cutime, cstime: fields 14-17 of stat(5), counted after the command name.
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    return (ticks * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${output().slice(-2000)}`);
    const ok = await fetch(url)
      .then((response) => response.status === 200)
      .catch(() => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${url} did not answer 200 within 600 s:\n${output().slice(-2000)}`);
}

interface Measured {
  readyMs: number;
  /** CPU time (user + system) the command and everything it started had used when ready. */
  cpuMs: number;
  rss: number;
}

/** Starts `command`, times it to /readyz, idles, reads the RSS of the process whose command matches `server`. */
async function measure(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  server: RegExp,
): Promise<Measured> {
  const port = await freePort();
  let output = '';
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: root,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  });
  try {
    await waitReady(`http://127.0.0.1:${port}/readyz`, child, () => output);
    const readyMs = performance.now() - started;
    const cpuMs = [child.pid as number, ...descendants(child.pid as number)].reduce(
      (sum, pid) => sum + cpuMsOf(pid),
      0,
    );
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const pid = [child.pid as number, ...descendants(child.pid as number)].find((p) =>
      server.test(commandOf(p)),
    );
    if (!pid) throw new Error(`no process matching ${server} under ${command}`);
    return { readyMs, cpuMs, rss: rssOf(pid) };
  } finally {
    for (const pid of [...descendants(child.pid as number)].reverse()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {}
    }
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
  }
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gaung-bench-start-'));
  const baselineFile = path.join(root, 'bench', `.start-baseline-${randomBytes(4).toString('hex')}.mjs`);
  writeFileSync(baselineFile, BASELINE);
  const load = os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ');
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('GAUNG_') && key !== 'DATABASE_URL'),
    ),
    GAUNG_DATA_DIR: dataDir,
    GAUNG_REDIS_PREFIX: `gaung-bench-start-${randomBytes(4).toString('hex')}`,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'development',
  };
  // The server itself, not the `sh -c` npm runs it through.
  const gaung = /^\S*node .*config\/start\.mjs/;
  try {
    // The first start creates and migrates the data directory (and builds dist/ when it is stale).
    const first = await measure('npm', ['start'], env, gaung);
    console.log(`first start (new data directory): ready in ${first.readyMs.toFixed(0)} ms`);
    const runs: Measured[] = [];
    const baselines: Measured[] = [];
    for (let i = 0; i < RUNS; i++) {
      runs.push(await measure('npm', ['start'], env, gaung));
      baselines.push(await measure(process.execPath, [baselineFile], env, /^\S*node .*start-baseline/));
      console.log(
        `run ${i + 1}: Gaung ready ${runs[i]!.readyMs.toFixed(0)} ms (CPU ${runs[i]!.cpuMs.toFixed(0)} ms), RSS ${(runs[i]!.rss / MB).toFixed(0)} MB; baseline ready ${baselines[i]!.readyMs.toFixed(0)} ms (CPU ${baselines[i]!.cpuMs.toFixed(0)} ms), RSS ${(baselines[i]!.rss / MB).toFixed(0)} MB`,
      );
    }
    const ready = median(runs.map((r) => r.readyMs));
    const rss = median(runs.map((r) => r.rss));
    const cpu = median(runs.map((r) => r.cpuMs));
    const baseReady = median(baselines.map((r) => r.readyMs));
    const baseCpu = median(baselines.map((r) => r.cpuMs));
    const baseRss = median(baselines.map((r) => r.rss));
    const verdict = (ok: boolean) => (ok ? 'meets' : '**misses**');
    const loadAtEnd = os
      .loadavg()
      .map((n) => n.toFixed(2))
      .join(' / ');
    const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, Node ${process.version}. Load average at the start: ${load}; at the end: ${loadAtEnd} (the machine is shared).`;
    const section = `## Start: time to ready and idle memory

Command: \`npm run bench:start\` (bench/start.ts). Machine: ${machine}

\`npm start\` on the embedded defaults (PGlite in a data directory that already exists, the local Redis),
timed from the command to the first 200 from \`/readyz\`, with the CPU time (user + system) that
the command and every process it started (npm and Gaung, which checks that dist/ is up to date first) had used by then; the CPU
time moves far less than the wall-clock time when other work shares the cores. Then the all-in-one process's RSS after
${IDLE_MS / 1000} s idle (API, workers and schedulers running). Baseline in the same run: a bare Fastify
app with @fastify/multipart started with \`node\`, timed to its first 200 and measured the same way.
Median of ${RUNS} starts each; the first start on the new directory (migrations, and the build of
dist/ when it is stale) took ${(first.readyMs / 1000).toFixed(2)} s and is not in the median.

| | time to ready | CPU time to ready | idle RSS |
| --- | ---: | ---: | ---: |
| Gaung, \`npm start\` | ${(ready / 1000).toFixed(2)} s | ${(cpu / 1000).toFixed(2)} s | ${(rss / MB).toFixed(0)} MB |
| baseline, bare Fastify + multipart | ${(baseReady / 1000).toFixed(2)} s | ${(baseCpu / 1000).toFixed(2)} s | ${(baseRss / MB).toFixed(0)} MB |
| target | ≤ 2 s (${verdict(ready <= READY_TARGET_MS)}) | | ≤ 250 MB (${verdict(rss <= RSS_TARGET)}) |

Each run (time / CPU / RSS): ${runs.map((r) => `${(r.readyMs / 1000).toFixed(2)} s / ${(r.cpuMs / 1000).toFixed(2)} s / ${(r.rss / MB).toFixed(0)} MB`).join('; ')}.
`;
    writeSection('start', section);
    console.log(section);
  } finally {
    await rm(baselineFile, { force: true });
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
