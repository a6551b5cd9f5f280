import type { InjectOptions } from 'fastify';
import type { App } from '../../../src/app';
import type { AppContext } from '../../../src/context';
import type { Role } from '../../../src/domain/vocabulary';
import { type TestOrg, type TestUser, UNIT_KEYS, type UnitKey } from '../../helpers/org';

/**
 * The access matrix: every route of /api/v1, called by every kind of caller, with the exact status
 * expected for each. A table per resource (this folder); tables/index.ts lists them.
 *
 * Callers: the 21 users of seedTestOrg (7 units × 3 roles), so every target has callers from the
 * same unit, a sibling office, the parent, the national unit, a child unit (when the target is a
 * region) and the other region; plus `anonymous` (no credentials), `revoked` (a national admin's
 * revoked token) and `disabled` (a disabled national admin with a valid token).
 */

export const ROLE_ORDER = ['contributor', 'reviewer', 'admin'] as const satisfies readonly Role[];

export type UserKey = `${UnitKey}.${Role}`;
export type SpecialKey = 'anonymous' | 'revoked' | 'disabled';
export type ActorKey = UserKey | SpecialKey;

export const ACTOR_KEYS: ActorKey[] = [
  ...UNIT_KEYS.flatMap((unit) => ROLE_ORDER.map((role) => `${unit}.${role}` as const)),
  'anonymous',
  'revoked',
  'disabled',
];

/** Platform APIs point at a closed local port: connect flows fail there instead of reaching out. */
const CLOSED = 'http://127.0.0.1:9';

/** The environment of the app both matrices call. */
export const MATRIX_APP_ENV = {
  GAUNG_X_CLIENT_ID: 'matrix-x-client',
  GAUNG_X_CLIENT_SECRET: 'matrix-x-secret',
  GAUNG_X_API_URL: CLOSED,
  GAUNG_X_UPLOAD_URL: CLOSED,
  GAUNG_GRAPH_API_URL: CLOSED,
  GAUNG_THREADS_API_URL: CLOSED,
  GAUNG_TELEGRAM_API_URL: CLOSED,
  GAUNG_META_APP_ID: 'matrix-meta-app',
  GAUNG_META_APP_SECRET: 'matrix-meta-secret',
};

export interface MatrixActor {
  key: ActorKey;
  /** The person behind the credentials; null for `anonymous`. */
  user: TestUser | null;
  headers: Record<string, string>;
}

export interface MatrixEnv {
  app: App;
  ctx: AppContext;
  org: TestOrg;
}

export type Expected = Record<ActorKey, number>;

/** One line per unit: statuses for [contributor, reviewer, admin]; the three special callers default to 401. */
/** Statuses by unit, for its contributor, reviewer and admin. */
export type ByUnit = Record<UnitKey, readonly [number, number, number]>;

export function statuses(byUnit: ByUnit, special: Partial<Record<SpecialKey, number>> = {}): Expected {
  const expected = { anonymous: 401, revoked: 401, disabled: 401, ...special } as Expected;
  for (const unit of UNIT_KEYS)
    ROLE_ORDER.forEach((role, i) => {
      expected[`${unit}.${role}`] = byUnit[unit][i]!;
    });
  return expected;
}

/** The same status for all 21 users. */
export const everyone = (status: number, special: Partial<Record<SpecialKey, number>> = {}) =>
  statuses(
    Object.fromEntries(UNIT_KEYS.map((unit) => [unit, [status, status, status]])) as Record<
      UnitKey,
      [number, number, number]
    >,
    special,
  );

/** A row's request: an API call (`InjectOptions`), or a page request or form (`WebRequest`, see web/table.ts). */
export interface AccessRow<F, R = InjectOptions> {
  /** `METHOD /path/:param`, exactly as registered. */
  route: string;
  /** Tells rows of one route apart (another target, another body). */
  case?: string;
  /** The request for one caller; the caller's credentials are added to it. Build fresh targets here when the call changes them. */
  request(actor: MatrixActor, fixtures: F, env: MatrixEnv): R | Promise<R>;
  expect: Expected;
}

export interface AccessTable<F, R = InjectOptions> {
  name: string;
  /** Builds what the rows act on (posts, channels…), once per database. */
  setup?(env: MatrixEnv): Promise<F>;
  rows: AccessRow<F, R>[];
}

/** A table with its fixture type hidden, so tables of different resources sit in one list. */
export interface AnyAccessTable<R = InjectOptions> {
  name: string;
  setup(env: MatrixEnv): Promise<unknown>;
  rows: Array<Omit<AccessRow<unknown, R>, 'request'> & { request: AccessRow<unknown, R>['request'] }>;
}

export function accessTable<F, R = InjectOptions>(table: AccessTable<F, R>): AnyAccessTable<R> {
  return {
    name: table.name,
    setup: async (env) => (table.setup ? table.setup(env) : undefined),
    rows: table.rows.map((row) => ({
      ...row,
      request: (actor, fixtures, env) => row.request(actor, fixtures as F, env),
    })),
  };
}

/** `{ method, url, payload }` shorthand. */
export const call = (method: InjectOptions['method'], url: string, payload?: object): InjectOptions => ({
  method,
  url,
  ...(payload ? { payload: payload as Record<string, unknown> } : {}),
});

/**
 * The routes of an app whose path passes `keep`, as `METHOD /path`, read from Fastify's route tree
 * (HEAD, which Fastify adds to every GET, left out).
 */
function registeredRoutes(app: App, keep: (path: string) => boolean): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    const path = `${stack[depth - 1] ?? ''}${match[2]}`;
    stack[depth] = path;
    for (const method of match[3]?.split(', ') ?? [])
      if (method !== 'HEAD' && keep(path)) routes.push(`${method} ${path}`);
  }
  return [...new Set(routes)].sort();
}

export const registeredApiRoutes = (app: App) => registeredRoutes(app, (path) => path.startsWith('/api/v1/'));

/** Every page, form and dashboard route: everything outside the API, the docs and the operations endpoints. */
export const registeredWebRoutes = (app: App) =>
  registeredRoutes(app, (path) => !/^\/(api\/v1|docs)(\/|\*|$)|^\/(healthz|readyz|metrics)$/.test(path));

/** Whether a request is an instance of a route (`PATCH /api/v1/units/:id`, `GET /admin/queues*`). */
export function requestMatches(route: string, request: Pick<InjectOptions, 'method' | 'url'>): boolean {
  const [method, pattern] = route.split(' ') as [string, string];
  const path = new RegExp(`^${pattern.replace(/:[A-Za-z]+/g, '[^/]+').replace(/\*$/, '.*')}$`);
  const url = typeof request.url === 'string' ? request.url : '';
  return (request.method ?? 'GET').toUpperCase() === method && path.test(url.split('?')[0]!);
}
