import { loadConfig } from '../../config/env';
import { openDatabase } from './client';

// `npm run db:migrate`: apply the committed migrations to the configured database and exit.
try {
  const database = await openDatabase(loadConfig());
  await database.migrate();
  await database.close();
  console.log(`migrations applied (${database.driver})`);
} catch (error) {
  console.error(`gaung: ${(error as Error).message}`);
  process.exit(1);
}
