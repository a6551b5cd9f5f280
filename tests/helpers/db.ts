import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { type Database, type Driver, openPglite, openPostgres } from '../../src/db/client';

/** The drivers database tests run on: PGlite always, PostgreSQL wherever one answers. */
export function testDrivers(): Driver[] {
  return inject('postgresUrl') ? ['pglite', 'postgres'] : ['pglite'];
}

export interface TestDatabase extends Database {
  /** For PostgreSQL, the URL of the fresh database (child processes connect to it). */
  url: string | null;
}

/**
 * A fresh, migrated database: in-memory PGlite, or a new PostgreSQL database dropped on close.
 * `migrate: false` leaves it empty (the upgrade test applies an earlier release's migrations).
 */
export async function createTestDatabase(
  driver: Driver,
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const migrate = options.migrate ?? true;
  if (driver === 'pglite') {
    const database = await openPglite();
    if (migrate) await database.migrate();
    return { ...database, url: null };
  }
  const adminUrl = inject('postgresUrl');
  if (!adminUrl) throw new Error('PostgreSQL is not available for this run');
  const name = `gaung_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openPostgres(url.toString(), { poolMax: 10 });
  if (migrate) await database.migrate();
  return {
    ...database,
    url: url.toString(),
    async close() {
      await database.close();
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}
