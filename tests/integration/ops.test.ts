import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';

const METRICS_TOKEN = 'prometheus-scrape-token-0123456789';

describe.each(testDrivers())('operations endpoints on %s', (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(driver, { env: { GAUNG_METRICS_TOKEN: METRICS_TOKEN } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers /healthz and /readyz when the database and Redis are up', async () => {
    expect((await t.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok', checks: { database: 'ok', redis: 'ok' } });
  });

  it('serves Prometheus figures with HTTP and queue counts', async () => {
    await t.app.inject('/healthz');
    const metrics = await t.app.inject({
      url: '/metrics',
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toMatch(
      /gaung_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/,
    );
    expect(metrics.body).toContain('gaung_queue_jobs{queue="publish",state="waiting"} 0');
  });

  it('serves /metrics to its bearer token only', async () => {
    for (const authorization of [
      undefined,
      'Bearer salah-token-0123456789',
      METRICS_TOKEN,
      `Basic ${METRICS_TOKEN}`,
    ]) {
      const response = await t.app.inject({
        url: '/metrics',
        headers: authorization ? { authorization } : {},
      });
      expect(response.statusCode, String(authorization)).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.body).not.toContain('gaung_');
    }
  });

  it('answers /metrics 404 while no metrics token is set', async () => {
    const open = await createTestApp(driver);
    try {
      for (const headers of [{}, { authorization: `Bearer ${METRICS_TOKEN}` }]) {
        const response = await open.app.inject({ url: '/metrics', headers });
        expect(response.statusCode).toBe(404);
        expect(response.body).not.toContain('gaung_');
      }
    } finally {
      await open.close();
    }
  });

  it('says only not_ready for a dependency that is down, keeping why for the log', async () => {
    const broken = await createTestApp(driver);
    try {
      broken.ctx.redis.disconnect();
      const ready = await broken.app.inject('/readyz');
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({
        code: 'not_ready',
        checks: { database: 'ok', redis: 'not_ready' },
      });
      expect(ready.body).not.toMatch(/closed|ECONN|error/i);
      expect(broken.logs.text).toContain('readiness check failed');
      expect(broken.logs.text).toMatch(/"check":"redis".*readiness check failed|enableOfflineQueue/);
    } finally {
      await broken.close();
    }
  });

  it('answers unknown routes with problem+json', async () => {
    const response = await t.app.inject('/api/v1/nothing-here');
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('serves the OpenAPI document', async () => {
    const response = await t.app.inject('/docs/json');
    expect(response.statusCode).toBe(200);
    expect(response.json().openapi).toMatch(/^3\./);
  });

  it('sets security headers', async () => {
    const response = await t.app.inject('/healthz');
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });
});
