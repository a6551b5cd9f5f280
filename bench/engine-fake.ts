import { startLedgerServer } from '../tests/helpers/ledger-platform';

/** The engine benchmarks' fake platform, in a process of its own: answers every publish at once. */
const server = await startLedgerServer({ dedupe: false });
console.log(`listening ${server.fake.url}`);
process.once('SIGTERM', async () => {
  await server.fake.stop();
  process.exit(0);
});
