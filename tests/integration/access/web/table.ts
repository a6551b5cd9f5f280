import type { InjectOptions } from 'fastify';
import {
  type AccessTable,
  type AnyAccessTable,
  accessTable,
  type ByUnit,
  type Expected,
  everyone,
  type MatrixActor,
  type SpecialKey,
  statuses,
} from '../table';

/**
 * The web access matrix: every page, form and dashboard route, called by the same callers as the
 * API matrix, signed in with a session cookie instead of a token. `anonymous` has no cookie,
 * `revoked` the cookie of a session that signed out, `disabled` the session of a disabled national
 * admin; all three are sent to the sign-in page (303) wherever a person is needed.
 *
 * Forms carry the caller's CSRF token (anonymous callers a made-up one, so the form itself is
 * valid and the refusal is about the person).
 */

export interface WebRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  url: string;
  /** A page form, sent urlencoded with `_csrf` added unless `csrf` is false. */
  form?: Record<string, string | string[]>;
  /** A JSON body (the preview endpoint, the queue dashboard), sent with the x-csrf-token header. */
  json?: object;
  /** Forms that carry no CSRF token (signing in, signing out). */
  csrf?: false;
}

export type WebTable = AnyAccessTable<WebRequest>;

export const webTable = <F>(table: AccessTable<F, WebRequest>): WebTable => accessTable(table);

export const page = (url: string): WebRequest => ({ method: 'GET', url });

export const form = (url: string, fields: Record<string, string | string[]> = {}): WebRequest => ({
  method: 'POST',
  url,
  form: fields,
});

export const json = (method: WebRequest['method'], url: string, body: object = {}): WebRequest => ({
  method,
  url,
  json: body,
});

/** The injected request for one caller: the cookie, and the CSRF token (`csrf`, or the caller's own). */
export function webInject(
  request: WebRequest,
  actor: MatrixActor & { csrfToken: string | null },
  csrf: string | null = actor.csrfToken ?? 'anonymous',
): InjectOptions {
  const headers: Record<string, string> = { ...actor.headers };
  if (request.json !== undefined) {
    if (csrf !== null) headers['x-csrf-token'] = csrf;
    return {
      method: request.method,
      url: request.url,
      headers,
      payload: request.json as Record<string, unknown>,
    };
  }
  if (request.form === undefined) return { method: request.method, url: request.url, headers };
  const fields = new URLSearchParams();
  // No token: the field is sent empty, as a form whose token was stripped, so the body is still valid.
  if (request.csrf !== false) fields.append('_csrf', csrf ?? '');
  for (const [name, value] of Object.entries(request.form))
    for (const one of Array.isArray(value) ? value : [value]) fields.append(name, one);
  headers['content-type'] = 'application/x-www-form-urlencoded';
  return { method: request.method, url: request.url, headers, payload: fields.toString() };
}

/** Callers without a live session are sent to sign in. */
const toSignIn: Record<SpecialKey, number> = { anonymous: 303, revoked: 303, disabled: 303 };

/** One line per unit ([contributor, reviewer, admin]); callers without a session are sent to sign in. */
export const signedIn = (byUnit: ByUnit): Expected => statuses(byUnit, toSignIn);

/** The same status for all 21 people; callers without a session are sent to sign in. */
export const anyone = (status: number): Expected => everyone(status, toSignIn);

/** A public route: the same for everyone, signed in or not. */
export const open = (status: number): Expected =>
  everyone(status, { anonymous: status, revoked: status, disabled: status });

/** Admins of the root unit only (the queue dashboard, the organisation's settings). */
export const nationalAdmin = (ok: number, others = 403): Expected =>
  signedIn({
    national: [others, others, ok],
    regionA: [others, others, others],
    regionB: [others, others, others],
    officeA1: [others, others, others],
    officeA2: [others, others, others],
    officeB1: [others, others, others],
    officeB2: [others, others, others],
  });
