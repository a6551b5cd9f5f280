import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, migrationsFolder, queryRows } from '../../src/db/client';
import { KeyRing } from '../../src/infra/crypto';
import { PASSWORD, seedV010Organisation, type V010Organisation } from '../fixtures/v0.1.0/organisation';
import { createTestApp, type TestApp } from '../helpers/context';
import { createTestDatabase, testDrivers } from '../helpers/db';

/**
 * A database made by Gaung v0.1.0 upgrades with its data: it is built from the v0.1.0 migrations
 * only (the journal entries listed in tests/fixtures/v0.1.0/migrations.json, so no git tag is
 * needed), filled with an organisation written as v0.1.0 stored it, then every later migration
 * runs. Every row must still hold its v0.1.0 values and read back through the API.
 */

interface Journal {
  entries: { idx: number; tag: string; when: number }[];
}
const release = JSON.parse(
  readFileSync(path.join(import.meta.dirname, '../fixtures/v0.1.0/migrations.json'), 'utf8'),
) as {
  migrations: { tag: string; sha256: string }[];
};
const journal = JSON.parse(
  readFileSync(path.join(migrationsFolder, 'meta/_journal.json'), 'utf8'),
) as Journal & Record<string, unknown>;

/** A migrations folder holding v0.1.0's migrations and nothing later. */
function releaseFolder(): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'gaung-v010-migrations-'));
  mkdirSync(path.join(folder, 'meta'));
  const entries = journal.entries.slice(0, release.migrations.length);
  expect(entries.map((entry) => entry.tag)).toEqual(release.migrations.map((m) => m.tag));
  for (const migration of release.migrations) {
    const file = path.join(migrationsFolder, `${migration.tag}.sql`);
    expect(
      createHash('sha256').update(readFileSync(file)).digest('hex'),
      `${migration.tag}.sql was edited`,
    ).toBe(migration.sha256);
    copyFileSync(file, path.join(folder, `${migration.tag}.sql`));
  }
  writeFileSync(path.join(folder, 'meta/_journal.json'), JSON.stringify({ ...journal, entries }));
  return folder;
}

type Snapshot = Map<string, { columns: string[]; rows: string[] }>;

/** Tables and columns a later migration renamed in place (`table` or `table.column` → new name). */
const RENAMED: Record<string, string> = {
  feeds: 'sources',
  'posts.feed_id': 'source_id',
  'posts.feed_item_key': 'source_item_key',
};

/**
 * Every row of every table, as JSON of the given columns (all, by default), sorted. Given the
 * v0.1.0 columns, a renamed table or column is read under its new name and reported under the old.
 */
async function snapshot(db: Db, columnsOf?: Snapshot): Promise<Snapshot> {
  const tables = await queryRows<{ table_name: string; columns: string[] }>(
    db,
    sql`select table_name, array_agg(column_name::text order by column_name) as columns
        from information_schema.columns where table_schema = 'public' group by table_name`,
  );
  const result: Snapshot = new Map();
  const oldName = new Map(
    Object.entries(RENAMED).flatMap(([from, to]) => (from.includes('.') ? [] : [[to, from]])),
  );
  for (const { table_name: current, columns: all } of tables) {
    const table = columnsOf ? (oldName.get(current) ?? current) : current;
    const columns = columnsOf?.get(table)?.columns ?? all;
    if (columnsOf && !columnsOf.has(table)) continue;
    const rows = await queryRows<{ row: string }>(
      db,
      sql`select json_build_object(${sql.join(
        columns.map(
          (column) =>
            sql`${column}::text, ${sql.identifier(columnsOf ? (RENAMED[`${table}.${column}`] ?? column) : column)}`,
        ),
        sql`, `,
      )})::text as row from ${sql.identifier(current)}`,
    );
    result.set(table, { columns, rows: rows.map((r) => r.row).sort() });
  }
  return result;
}

describe.each(testDrivers())('upgrading a v0.1.0 database on %s', (driver) => {
  const secret = randomBytes(32).toString('base64');
  let folder: string;
  let t: TestApp;
  let org: V010Organisation;
  let before: Snapshot;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const get = async (url: string, token: string) => {
    const response = await t.app.inject({ url, headers: bearer(token) });
    expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
    return response.json();
  };

  beforeAll(async () => {
    folder = releaseFolder();
    const database = await createTestDatabase(driver, { migrate: false });
    await database.migrate(folder);
    org = await seedV010Organisation(database.db, new KeyRing(secret));
    before = await snapshot(database.db);
    await database.migrate();
    t = await createTestApp(driver, { database, env: { GAUNG_SECRET_KEY: secret } });
  });

  afterAll(async () => {
    await t?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('starts from the v0.1.0 schema and applies every later migration', async () => {
    const [applied] = await queryRows<{ n: number }>(
      t.ctx.db,
      sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
    );
    expect(Number(applied?.n)).toBe(journal.entries.length);
    expect(await t.database.migrationsApplied()).toBe(true);
    expect(before.get('users')?.rows).toHaveLength(6);
  });

  it('keeps every row of every v0.1.0 table with its v0.1.0 values', async () => {
    const after = await snapshot(t.ctx.db, before);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    expect(before.has('feeds') && !before.has('sources'), 'the v0.1.0 schema reads feeds').toBe(true);
    for (const [table, { rows }] of before) {
      expect(rows.length, `${table} was filled`).toBeGreaterThan(0);
      expect(after.get(table)?.rows, table).toEqual(rows);
    }
  });

  it('signs in with the v0.1.0 passwords and tokens; the disabled account stays out', async () => {
    for (const [key, user] of Object.entries(org.users)) {
      const me = await t.app.inject({ url: '/api/v1/me', headers: bearer(user.token) });
      if (key === 'disabled') expect(me.statusCode).toBe(401);
      else expect(me.json().user ?? me.json(), key).toMatchObject({ email: user.email, role: user.role });
    }
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: org.users.humas.email, password: PASSWORD },
    });
    expect(login.statusCode, login.body).toBe(200);
  });

  it('decrypts every channel credential and lists the organisation', async () => {
    const rows = await queryRows<{ id: string; credentials: string }>(
      t.ctx.db,
      sql`select id::text, credentials from channels`,
    );
    expect(rows).toHaveLength(org.credentials.size);
    for (const row of rows)
      expect(t.ctx.keys.decrypt(row.credentials, row.id)).toEqual(org.credentials.get(row.id));

    const admin = org.users.admin.token;
    const units = JSON.stringify(await get('/api/v1/units', admin));
    for (const id of Object.values(org.units)) expect(units).toContain(id);
    const users = JSON.stringify(await get('/api/v1/users', admin));
    for (const user of Object.values(org.users)) expect(users).toContain(user.id);
    const channels = (await get('/api/v1/channels', admin)).channels as { id: string; status: string }[];
    for (const [key, id] of Object.entries(org.channels))
      if (key !== 'archived') expect(channels.map((c) => c.id)).toContain(id);
    expect(channels.find((c) => c.id === org.channels.mastodon)?.status).toBe('needs_reauth');
  });

  it('reads every post, delivery, medium, source, metric and notification through the API', async () => {
    const humas = org.users.humas.token;
    // Drafts are their author's alone: each office reads the posts it wrote.
    const read = new Set<string>();
    for (const office of [org.users.pontianak, org.users.jayapura]) {
      const listed = (await get('/api/v1/posts?limit=200', office.token)).items as { id: string }[];
      for (const [key, id] of Object.entries(org.posts)) {
        if (!listed.some((p) => p.id === id)) continue;
        const post = await get(`/api/v1/posts/${id}`, office.token);
        expect(post.status).toBe(key === 'fromFeed' ? 'approved' : key);
        expect(post.body).toContain(`Layanan paspor ${key}`);
        expect((await get(`/api/v1/posts/${id}/events`, office.token)).events.length).toBeGreaterThan(0);
        read.add(id);
      }
    }
    expect([...read].sort()).toEqual(Object.values(org.posts).sort());
    const inbox = JSON.stringify(await get('/api/v1/reviews', humas));
    expect(inbox).toContain(org.posts.submitted);

    const deliveries = (await get('/api/v1/deliveries?limit=200', humas)).items as {
      id: string;
      status: string;
    }[];
    for (const [id, status] of org.deliveries) {
      expect(deliveries.find((d) => d.id === id)?.status, id).toBe(status);
      expect((await get(`/api/v1/deliveries/${id}`, humas)).status).toBe(status);
    }

    const { totals } = await get('/api/v1/reports/units', humas);
    // Two published deliveries (X and Mastodon), each with its 1 h, 24 h and 7 d snapshots.
    expect(totals.deliveries.published).toBe(2);
    expect(totals.reach['1h'].impressions).toBe(2 * 1_200);
    expect(totals.reach.latest.impressions).toBe(2 * 15_230);
    // The review steps of the v0.1.0 timelines: six posts submitted, four of them decided.
    expect(totals.posts).toEqual({ submitted: 6, approved: 2, rejected: 1, changesRequested: 1 });

    const office = org.users.pontianak.token;
    const image = await get(`/api/v1/media/${org.media.image}`, office);
    expect(image).toMatchObject({
      kind: 'image',
      altText: 'Antrean loket paspor pada hari Sabtu',
      width: 1600,
    });
    const video = await get(`/api/v1/media/${org.media.video}`, org.users.jayapura.token);
    expect(video).toMatchObject({ kind: 'video', durationMs: 42_000 });
    const sources = (await get('/api/v1/sources', office)).sources as { id: string }[];
    expect(sources.map((f) => f.id).sort()).toEqual(Object.values(org.feeds).sort());
    expect(JSON.stringify(await get('/api/v1/notifications', office))).toContain(org.posts.approved);
    expect(JSON.stringify(await get('/api/v1/audit', org.users.admin.token))).toContain(org.channels.x);
  });
});
