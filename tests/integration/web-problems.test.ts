import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/context';
import { seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { signIn, type TestSession } from '../helpers/session';

/**
 * The web app's JSON endpoints answer problems exactly as the API does: one mapping from errors to
 * answers, so a too-large body is 413 `body_too_large`, a wrong content type 415, and a validation
 * failure names each field.
 */

describe('problems from the web app’s JSON endpoints', () => {
  let t: TestApp;
  let org: TestOrg;
  let session: TestSession;

  beforeAll(async () => {
    t = await createTestApp('pglite');
    org = await seedTestOrg(t.ctx);
    session = await signIn(t.app, org.user('officeA1', 'contributor').email, TEST_PASSWORD);
  });
  afterAll(() => t?.close());

  const preview = (payload: string, contentType = 'application/json') =>
    t.app.inject({
      method: 'POST',
      url: '/ui/preview',
      headers: { ...session.headers, 'content-type': contentType },
      payload,
    });

  it('answers an oversized body with 413 body_too_large', async () => {
    const response = await preview(JSON.stringify({ body: 'x'.repeat(2 * 1024 * 1024) }));
    expect(response.statusCode).toBe(413);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status: 413, code: 'body_too_large' });
  });

  it('answers a content type it does not take with 415 unsupported_media_type', async () => {
    const response = await preview('<post/>', 'application/xml');
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ status: 415, code: 'unsupported_media_type' });
  });

  it('names every field of a failed validation, as the API does', async () => {
    const response = await preview(JSON.stringify({ body: 'x', colour: 'red', media: ['not-a-uuid'] }));
    expect(response.statusCode).toBe(400);
    const problem = response.json() as { code: string; errors: { field: string; code?: string }[] };
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors.map((error) => error.field)).toEqual(expect.arrayContaining(['colour']));
    expect(problem.errors.find((error) => error.field === 'colour')?.code).toBe('unknown_field');
  });

  it('answers malformed JSON with 400 malformed_json', async () => {
    const response = await preview('{"body": ');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'malformed_json' });
  });
});
