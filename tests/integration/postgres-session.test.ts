import { sql } from 'drizzle-orm';
import { describe, expect, inject, it } from 'vitest';
import { openPostgres, queryRows } from '../../src/db/client';

const adminUrl = inject('postgresUrl');

describe.skipIf(!adminUrl)("Gaung's PostgreSQL sessions", () => {
  const setting = async (url: string) => {
    const database = await openPostgres(url, { poolMax: 1 });
    try {
      const [row] = await queryRows<{ workers: string }>(
        database.db,
        sql`select current_setting('max_parallel_workers_per_gather') as workers`,
      );
      return row!.workers;
    } finally {
      await database.close();
    }
  };

  it('plan without parallel workers, unless the URL says otherwise', async () => {
    expect(await setting(adminUrl!)).toBe('0');
    const url = new URL(adminUrl!);
    url.searchParams.set('options', '-c max_parallel_workers_per_gather=2');
    expect(await setting(url.toString())).toBe('2');
  });
});
