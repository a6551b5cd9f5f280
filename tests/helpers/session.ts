import type { App } from '../../src/app';
import { SESSION_COOKIE } from '../../src/http/auth';

export interface TestSession {
  /** The raw cookie secret. */
  secret: string;
  csrfToken: string;
  /** `{ cookie }` for reads. */
  cookie: { cookie: string };
  /** `{ cookie, x-csrf-token }` for writes. */
  headers: { cookie: string; 'x-csrf-token': string };
}

/** Signs in through the API, as a browser would. Throws unless the sign-in succeeds. */
export async function signIn(app: App, email: string, password: string): Promise<TestSession> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password },
  });
  if (response.statusCode !== 200) throw new Error(`sign-in failed: ${response.statusCode} ${response.body}`);
  const cookie = response.cookies.find((c) => c.name === SESSION_COOKIE);
  if (!cookie) throw new Error('sign-in set no session cookie');
  const csrfToken = (response.json() as { csrfToken: string }).csrfToken;
  const header = `${SESSION_COOKIE}=${cookie.value}`;
  return {
    secret: cookie.value,
    csrfToken,
    cookie: { cookie: header },
    headers: { cookie: header, 'x-csrf-token': csrfToken },
  };
}

/** Submits a page form as a browser would: urlencoded, with the session's cookie and its CSRF token (or `csrf`). */
export function submitForm(
  app: App,
  session: TestSession,
  url: string,
  fields: Record<string, string>,
  csrf = session.csrfToken,
) {
  return app.inject({
    method: 'POST',
    url,
    headers: { cookie: session.cookie.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
  });
}
