import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { type TestContext, testRedisTarget } from './context';
import type { LedgerAdapterOptions } from './ledger-platform';
import { REPO_ROOT } from './process';

/**
 * Engine worker processes (tests/helpers/engine-worker.ts) for the crash tests: each runs against the
 * test context's database and Redis, says its name when ready, and may be SIGKILLed at any time.
 */

/** A worker's environment: the test context's database, Redis and keys, with the given settings. */
export function engineWorkerEnv(
  t: TestContext,
  settings: Record<string, string>,
  ledgers: LedgerAdapterOptions[] = [],
): Record<string, string> {
  return {
    ...settings,
    NODE_ENV: 'test',
    DATABASE_URL: t.database.url!,
    GAUNG_REDIS_PREFIX: t.config.GAUNG_REDIS_PREFIX,
    GAUNG_SECRET_KEY: t.config.GAUNG_SECRET_KEY!,
    GAUNG_DATA_DIR: t.config.GAUNG_DATA_DIR,
    GAUNG_PUBLIC_URL: t.config.publicUrl,
    GAUNG_ALLOW_PRIVATE_URLS: '1',
    GAUNG_TEST_REDIS: JSON.stringify(testRedisTarget().options),
    GAUNG_TEST_LEDGERS: JSON.stringify(ledgers),
  };
}

export interface WorkerPool {
  /** Starts a worker; resolves once it said its name, rejects if it exits first. */
  spawn(env: Record<string, string>): Promise<ChildProcess>;
  /** The workers running now. */
  running(): ChildProcess[];
  /** The name a worker gave when it was ready (its name on the claims it makes). */
  nameOf(child: ChildProcess): string | undefined;
  /** What the workers wrote to stderr (their warnings and errors), in order. */
  log(): string;
  /** SIGKILLs every worker still running and waits for them to exit. */
  killAll(): Promise<void>;
}

export function workerPool(): WorkerPool {
  const children = new Set<ChildProcess>();
  const names = new Map<ChildProcess, string>();
  const output: string[] = [];
  return {
    spawn(env) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.join('tests', 'helpers', 'engine-worker.ts')],
        { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      children.add(child);
      child.once('exit', () => children.delete(child));
      child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      return new Promise((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => {
          const ready = /engine worker ready as (\S+)/.exec(chunk.toString());
          if (!ready) return;
          names.set(child, ready[1]!);
          resolve(child);
        });
        child.once('exit', (code) =>
          reject(new Error(`worker exited (${code}) before it was ready: ${output.join('')}`)),
        );
      });
    },
    running: () => [...children],
    nameOf: (child) => names.get(child),
    log: () => output.join(''),
    killAll: () =>
      Promise.all(
        [...children].map(
          (child) =>
            new Promise<void>((resolve) => {
              child.once('exit', () => resolve());
              child.kill('SIGKILL');
            }),
        ),
      ).then(() => {}),
  };
}
