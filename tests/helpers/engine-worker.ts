import { loadConfig } from '../../config/env';
import { assembleContext, closeContext } from '../../src/context';
import { openPostgres } from '../../src/db/client';
import { KeyRing } from '../../src/infra/crypto';
import { createLogger } from '../../src/logger';
import { builtInAdapters } from '../../src/platforms/index';
import type { RedisTarget } from '../../src/queues/redis';
import { WORKER_NAME } from '../../src/services/publishing';
import { createSandboxTimeline } from '../../src/services/sandbox-timeline';
import { startWorkers } from '../../workers/index';
import { createLedgerAdapter, type LedgerAdapterOptions } from './ledger-platform';

/**
 * A worker process for multi-process engine tests: Gaung's workers and schedulers against the test's
 * PostgreSQL database and Redis, publishing through the built-in adapters (their API URLs pointed at
 * the test's fakes by the usual GAUNG_* variables), except for the platforms listed in
 * GAUNG_TEST_LEDGERS (LedgerAdapterOptions[] as JSON), which publish to ledger fakes. GAUNG_TEST_REDIS
 * holds the ioredis options as JSON.
 */

const config = loadConfig(process.env);
const log = createLogger(config.LOG_LEVEL);
const database = await openPostgres(config.DATABASE_URL!, { poolMax: 10 });
const redisTarget: RedisTarget = {
  options: JSON.parse(process.env.GAUNG_TEST_REDIS ?? '{}'),
  description: 'test redis',
  stop: async () => {},
};
const ledgers = JSON.parse(process.env.GAUNG_TEST_LEDGERS ?? '[]') as LedgerAdapterOptions[];
const ctx = await assembleContext({
  config,
  log,
  database,
  redisTarget,
  keys: new KeyRing(config.GAUNG_SECRET_KEY!),
  adapters: [
    ...builtInAdapters(createSandboxTimeline(database.db), config.publicUrl).filter(
      (adapter) => !ledgers.some((ledger) => ledger.platform === adapter.platform),
    ),
    ...ledgers.map((options) => createLedgerAdapter(options)),
  ],
});
const workers = await startWorkers(ctx);
// The name its claims carry, for tests that check what happened to a killed worker's claims.
console.log(`engine worker ready as ${WORKER_NAME}`);

process.once('SIGTERM', async () => {
  await workers.close();
  await closeContext(ctx);
  process.exit(0);
});
