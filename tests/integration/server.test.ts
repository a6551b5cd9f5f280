import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { PROCESS_CEILING_MS, startGaung } from '../helpers/process';

const redisUrl = () => {
  const options = inject('redisOptions');
  return options.path ? undefined : `redis://${options.host}:${options.port}`;
};

/**
 * What `npm start` runs is a bundle of Gaung and most of its packages (config/build.mjs), while the
 * other tests run the sources: a signed-in admin's pages, the queue dashboard, the API description
 * and an XLSX export go through the packages the bundle holds and those it loads on first use.
 */
async function servesFromTheBundle(address: string, email: string, password: string) {
  const cookies = new Map<string, string>();
  const keep = (response: Response) => {
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const at = pair!.indexOf('=');
      cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    return response;
  };
  const get = async (url: string) =>
    keep(
      await fetch(`${address}${url}`, {
        headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
        redirect: 'manual',
      }),
    );
  const form = await (await get('/login')).text();
  const token = /name="_login" value="([^"]+)"/.exec(form)?.[1];
  expect(token).toBeDefined();
  const signIn = keep(
    await fetch(`${address}/login`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
      },
      body: new URLSearchParams({ email, password, _login: token!, next: '/' }).toString(),
      redirect: 'manual',
    }),
  );
  expect(signIn.status).toBe(303);
  for (const page of ['/inbox', '/reports', '/sources', '/admin/users', '/calendar', '/admin/queues']) {
    const response = await get(page);
    expect(response.status, page).toBe(200);
    expect(response.headers.get('content-type'), page).toContain('text/html');
  }
  const docs = await get('/docs/json');
  expect(docs.status).toBe(200);
  expect((await docs.json()).paths).toHaveProperty(['/api/v1/reviews']);
  const reports = await (await get('/reports')).text();
  const xlsx = /href="(\/api\/v1\/reports\/units\?[^"]*format=xlsx[^"]*)"/.exec(reports)?.[1];
  expect(xlsx).toBeDefined();
  const workbook = await get(xlsx!.replaceAll('&amp;', '&'));
  expect(workbook.status).toBe(200);
  // An XLSX file is a zip archive.
  expect(
    Buffer.from(await workbook.arrayBuffer())
      .subarray(0, 2)
      .toString(),
  ).toBe('PK');
}

// Each test starts Gaung at most twice; the ceiling is for a loaded machine, not a budget.
describe('the Gaung process', { timeout: 2 * PROCESS_CEILING_MS }, () => {
  it('starts on the embedded database with no DATABASE_URL, is ready, and shuts down cleanly', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gaung-server-'));
    const gaung = startGaung({
      PORT: '0',
      GAUNG_DATA_DIR: dataDir,
      REDIS_URL: redisUrl(),
      GAUNG_REDIS_PREFIX: `gaung-server-${process.pid}`,
      GAUNG_BOOTSTRAP_ADMIN_EMAIL: 'admin@gaung.test',
      GAUNG_BOOTSTRAP_ADMIN_PASSWORD: 'sangat-rahasia-123',
    });
    const address = await gaung.listening();
    const ready = await fetch(`${address}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { database: 'ok', redis: 'ok' } });
    expect(existsSync(path.join(dataDir, 'pglite'))).toBe(true);
    expect(gaung.output()).toContain('created the national unit and its first admin');
    await servesFromTheBundle(address, 'admin@gaung.test', 'sangat-rahasia-123');

    gaung.child.kill('SIGTERM');
    const exit = await gaung.exited();
    expect(exit.code).toBe(0);
    expect(gaung.output()).toContain('"msg":"stopped"');
    expect(existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false);

    // A second start on the same data changes nothing and finds its data again.
    const again = startGaung({
      PORT: '0',
      GAUNG_DATA_DIR: dataDir,
      REDIS_URL: redisUrl(),
      GAUNG_BOOTSTRAP_ADMIN_EMAIL: 'admin@gaung.test',
      GAUNG_BOOTSTRAP_ADMIN_PASSWORD: 'sangat-rahasia-123',
    });
    await again.listening();
    expect(again.output()).not.toContain('created the national unit');
    again.child.kill('SIGINT');
    expect((await again.exited()).code).toBe(0);
  });

  it('runs workers alone with their own health and metrics, and no API', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gaung-worker-'));
    const worker = startGaung(
      {
        PORT: '0',
        GAUNG_DATA_DIR: dataDir,
        REDIS_URL: redisUrl(),
        GAUNG_REDIS_PREFIX: `gaung-worker-${process.pid}`,
        GAUNG_METRICS_TOKEN: 'prometheus-scrape-token-0123456789',
      },
      ['--role=worker'],
    );
    const address = await worker.listening();
    expect((await fetch(`${address}/readyz`)).status).toBe(200);
    expect((await fetch(`${address}/metrics`)).status).toBe(401);
    const metrics = await (
      await fetch(`${address}/metrics`, {
        headers: { authorization: 'Bearer prometheus-scrape-token-0123456789' },
      })
    ).text();
    expect(metrics).toContain('gaung_queue_jobs');
    expect((await fetch(`${address}/api/v1/me`)).status).toBe(404);
    expect((await fetch(`${address}/`)).status).toBe(404);
    expect(worker.output()).toContain('workers started');
    worker.child.kill('SIGTERM');
    expect((await worker.exited()).code).toBe(0);
  });

  it('refuses a malformed DATABASE_URL with one clear line and writes nothing', async () => {
    const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'gaung-bad-')), 'data');
    const gaung = startGaung({ DATABASE_URL: 'nonsense', GAUNG_DATA_DIR: dataDir });
    const exit = await gaung.exited();
    expect(exit.code).toBe(1);
    const lines = gaung.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^gaung: invalid configuration: DATABASE_URL: must be a postgres/);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('refuses an unreachable Redis with one clear line', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gaung-noredis-'));
    const gaung = startGaung({
      REDIS_URL: 'redis://127.0.0.1:1',
      GAUNG_DATA_DIR: dataDir,
      GAUNG_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    const exit = await gaung.exited();
    expect(exit.code).toBe(1);
    expect(gaung.output().trim()).toMatch(/^gaung: cannot start: cannot reach Redis at REDIS_URL: .+$/);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('refuses an unreachable PostgreSQL with one clear line', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gaung-nopg-'));
    const gaung = startGaung({
      DATABASE_URL: 'postgres://gaung:secret-pw@127.0.0.1:1/gaung',
      REDIS_URL: redisUrl(),
      GAUNG_DATA_DIR: dataDir,
      GAUNG_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    const exit = await gaung.exited();
    expect(exit.code).toBe(1);
    const output = gaung.output().trim();
    expect(output).toMatch(
      /^gaung: cannot start: cannot connect to PostgreSQL at postgres:\/\/gaung:\*\*\*@127\.0\.0\.1:1\/gaung/,
    );
    expect(output).not.toContain('secret-pw');
  });
});
