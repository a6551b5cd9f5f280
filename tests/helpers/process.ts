import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * A ceiling for a child process to start or stop on a loaded machine, not a budget: how fast Gaung
 * starts is measured by `npm run bench:start`.
 */
export const PROCESS_CEILING_MS = 5 * 60_000;

export interface GaungProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the listening address once the API logged it. */
  listening(timeoutMs?: number): Promise<string>;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Builds dist/ when a source is newer, as `npm start` does before it runs the bundle. */
function ensureBundle(): void {
  execFileSync(process.execPath, ['config/build.mjs', '--if-stale'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

/** Runs `dist/server.js` (what `npm start` runs, built first) as a child process with the given environment. */
export function startGaung(env: Record<string, string | undefined>, args: string[] = []): GaungProcess {
  const clean = Object.fromEntries(
    Object.entries({ ...process.env, ...env }).filter(
      ([key, value]) =>
        value !== undefined && !(key.startsWith('GAUNG_') && !(key in env)) && key !== 'DATABASE_URL',
    ),
  ) as Record<string, string>;
  if (env.DATABASE_URL) clean.DATABASE_URL = env.DATABASE_URL;
  ensureBundle();
  // One process, as `npm start` runs it: signals reach Gaung itself, not a wrapper.
  const child = spawn(process.execPath, ['--enable-source-maps', 'dist/server.js', ...args], {
    cwd: REPO_ROOT,
    env: clean,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => output,
    exited: () => exit,
    async listening(timeoutMs = PROCESS_CEILING_MS) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const match = /"address":"(http:\/\/[^"]+)"[^\n]*Gaung is listening/.exec(output);
        if (match) return match[1]!;
        if (child.exitCode !== null) throw new Error(`Gaung exited early:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`Gaung did not start listening in time:\n${output}`);
    },
  };
}
