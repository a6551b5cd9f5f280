import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../config/env';
import { loadConfig } from '../../config/env';
import { buildApp } from '../../src/app';
import { auditEvents } from '../../src/db/schema';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';

/**
 * Which address a request comes from, behind proxies: X-Forwarded-For is believed only for as many
 * hops as GAUNG_TRUST_PROXY counts, or only from the proxies it lists. The address is the one the
 * sign-in throttle counts and the audit trail records.
 */
describe.each(testDrivers())('GAUNG_TRUST_PROXY on %s', (driver) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(driver);
  });
  afterAll(async () => {
    await t.close();
  });

  /** The address the audit trail records for a failed sign-in sent with this chain. */
  async function addressSeen(
    setting: string,
    chain: string | undefined,
    remoteAddress = '127.0.0.1',
  ): Promise<string | null> {
    const config: Config = {
      ...t.ctx.config,
      GAUNG_TRUST_PROXY: loadConfig({ GAUNG_TRUST_PROXY: setting }).GAUNG_TRUST_PROXY,
    };
    const app = await buildApp({ ...t.ctx, config });
    try {
      const email = `${crypto.randomUUID()}@gaung.test`;
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress,
        headers: chain ? { 'x-forwarded-for': chain } : {},
        payload: { email, password: 'bukan-siapa-siapa-123' },
      });
      expect(response.statusCode).toBe(401);
      const rows = await t.ctx.db
        .select()
        .from(auditEvents)
        .where(eq(auditEvents.action, 'auth.login_failed'));
      return rows.find((row) => (row.details as { email?: string }).email === email)?.ip ?? null;
    } finally {
      await app.close();
    }
  }

  it('believes no hop when off', async () => {
    expect(await addressSeen('false', '203.0.113.7')).toBe('127.0.0.1');
  });

  it('believes as many hops as it counts, and no more', async () => {
    const chain = '192.0.2.66, 198.51.100.1, 203.0.113.7';
    expect(await addressSeen('1', chain)).toBe('203.0.113.7');
    expect(await addressSeen('2', chain)).toBe('198.51.100.1');
    // A client's forged first entry is never reached while the count is right.
    expect(await addressSeen('1', '6.6.6.6, 203.0.113.7')).toBe('203.0.113.7');
  });

  it('believes the listed proxies only, stopping at the first address that is not one', async () => {
    const proxies = '127.0.0.1, 10.0.0.0/8';
    expect(await addressSeen(proxies, '198.51.100.1, 10.1.2.3')).toBe('198.51.100.1');
    expect(await addressSeen(proxies, '6.6.6.6, 198.51.100.1, 10.1.2.3')).toBe('198.51.100.1');
    expect(await addressSeen(proxies, '198.51.100.1, 203.0.113.7')).toBe('203.0.113.7');
    // Straight from a client that is not a listed proxy: its header says nothing.
    expect(await addressSeen(proxies, '6.6.6.6', '192.0.2.9')).toBe('192.0.2.9');
  });
});
