import { loadConfigOrExit } from '../config/env';
import type { RunningWorkers } from '../workers/index';
import type { AppContext } from './context';
import { databaseExists, openDatabase } from './db/client';

/**
 * Process entry. `npm start` runs the API, the workers and the schedulers in one process;
 * `--role=api` and `--role=worker` run them apart (against a shared PostgreSQL and Redis).
 *
 * A database that exists already starts opening first, and the rest of Gaung loads while it does:
 * opening PGlite is mostly WebAssembly compiled on other threads, so the two overlap instead of
 * following each other. A new one waits until Redis answers (a start that cannot reach it creates
 * nothing).
 */

type Role = 'all' | 'api' | 'worker';

function roleFromArgs(argv: string[]): Role {
  const flag = argv.find((a) => a.startsWith('--role='));
  const role = flag?.slice('--role='.length) ?? 'all';
  if (role !== 'all' && role !== 'api' && role !== 'worker') {
    console.error(`gaung: --role must be all, api or worker (got "${role}")`);
    process.exit(2);
  }
  return role;
}

async function main() {
  const role = roleFromArgs(process.argv.slice(2));
  const config = loadConfigOrExit();
  const opening = databaseExists(config) ? openDatabase(config) : undefined;
  // Awaited by createContext; this only keeps a failure from counting as unhandled meanwhile.
  opening?.catch(() => {});
  const [{ startWorkers }, { buildApp }, { closeContext, createContext }, { createLogger }, bootstrap, demo] =
    await Promise.all([
      import('../workers/index'),
      import('./app'),
      import('./context'),
      import('./logger'),
      import('./services/bootstrap'),
      import('./services/demo'),
    ]);
  const log = createLogger(config.LOG_LEVEL);

  let ctx: AppContext;
  try {
    ctx = await createContext(config, log, opening);
  } catch (error) {
    console.error(`gaung: cannot start: ${(error as Error).message}`);
    process.exit(1);
  }

  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  let workers: RunningWorkers | undefined;
  let stopping = false;

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const hardStop = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.GAUNG_SHUTDOWN_TIMEOUT_MS + 1_500);
    hardStop.unref();
    try {
      await app?.close();
      if (workers) {
        // Active jobs get a bounded time to finish; an unfinished one is reconciled after its lease.
        await Promise.race([
          workers.close(),
          new Promise((resolve) => setTimeout(resolve, config.GAUNG_SHUTDOWN_TIMEOUT_MS).unref()),
        ]);
      }
      await closeContext(ctx);
      log.info('stopped');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    await bootstrap.bootstrapAdmin(ctx);
    const demoUsers = await demo.seedDemo(ctx);
    if (demoUsers) {
      // Printed once, on the start that created them; they are not stored anywhere in plain text.
      console.log('\nGaung demo organisation created. Sign in with:');
      for (const user of demoUsers)
        console.log(`  ${user.role.padEnd(12)} ${user.email.padEnd(24)} ${user.password}`);
      console.log('');
    }
    if (!(await bootstrap.hasOrganisation(ctx)))
      log.warn(
        'no organisation yet, so nobody can sign in: start once with GAUNG_BOOTSTRAP_ADMIN_EMAIL and GAUNG_BOOTSTRAP_ADMIN_PASSWORD, or with GAUNG_DEMO=1 for a demo',
      );
    // A worker process serves its own /metrics (its publish figures live in its memory) and health.
    app = await buildApp(ctx, { opsOnly: role === 'worker' });
    const address = await app.listen({ host: config.HOST, port: config.PORT });
    log.info({ address, role }, 'Gaung is listening');
    if (role !== 'api') workers = await startWorkers(ctx);
  } catch (error) {
    console.error(`gaung: cannot start: ${(error as Error).message}`);
    await app?.close().catch(() => {});
    await closeContext(ctx).catch(() => {});
    process.exit(1);
  }
}

await main();
