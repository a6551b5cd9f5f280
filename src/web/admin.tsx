import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type FieldError, notFoundAt } from '../domain/errors';
import { type Actor, authorize, decide } from '../domain/permissions';
import { LOCALES, ROLES, type Role } from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { email, newPassword, personName, unitName, unitSlug } from '../schemas/org';
import { type AuditView, listAudit } from '../services/audit';
import { createToken, listTokens, loadToken, revokeToken, type TokenRow } from '../services/tokens';
import {
  createUnit,
  findUnit,
  listVisibleUnits,
  loadUnit,
  type UnitRow,
  updateUnit,
} from '../services/units';
import { createUser, listUsers, loadUser, resetPassword, type UserRow, updateUser } from '../services/users';
import { ActionButton, Csrf, Field, Pager, Time, ZoneSelect } from './components';
import { useEnv } from './env';
import type { Messages } from './i18n/index';
import { blank, parseForm, type WebOptions } from './kit';
import { AdminNav, Layout } from './layout';
import { fieldErrorsOf, isUserError, noticeOf, problemText } from './page';
import { addDays, parseDayKey, startOfDay, zoneLabel } from './time';

/** Admin pages: the unit tree, people, API tokens and the audit trail. */

interface FormProblem {
  error?: string | null;
  errors?: FieldError[];
  /** Which form the problem belongs to: "new" or the id of the edited row. */
  form?: string;
  values?: Record<string, string>;
}

/** A form the rules refused, shown again with its values and reasons. */
interface FailedForm {
  problem: FormProblem;
  status: number;
}

const depthOf = (unit: UnitRow) => unit.path.split('/').filter(Boolean).length - 1;

// ---------------------------------------------------------------------------------------------
// Units

function UnitsPage(props: {
  units: UnitRow[];
  manages: Set<string>;
  parents: UnitRow[];
  notice?: string | null;
  problem?: FormProblem;
}) {
  const { t } = useEnv();
  const problem = props.problem ?? {};
  const errorsFor = (form: string) => (problem.form === form ? problem.errors : undefined);
  const values = problem.form === 'new' ? (problem.values ?? {}) : {};
  return (
    <Layout title={t.units.title} notice={props.notice} error={problem.error} subnav={<AdminNav />}>
      <ul class="tree">
        {props.units.map((unit) => (
          <li class={`depth-${Math.min(depthOf(unit), 3)}`} data-unit={unit.id}>
            <strong>{unit.name}</strong>{' '}
            <span class="muted">
              {t.unitKind[unit.kind]} · {unit.slug} · {zoneLabel(unit.timeZone)}
            </span>
            {props.manages.has(unit.id) ? (
              <details open={problem.form === unit.id}>
                <summary>{t.common.edit}</summary>
                <form method="post" action={`/admin/units/${unit.id}`}>
                  <Csrf />
                  <Field id={`name-${unit.id}`} label={t.units.name} field="name" errors={errorsFor(unit.id)}>
                    <input id={`name-${unit.id}`} name="name" value={unit.name} required maxLength={120} />
                  </Field>
                  <Field id={`slug-${unit.id}`} label={t.units.slug} field="slug" errors={errorsFor(unit.id)}>
                    <input id={`slug-${unit.id}`} name="slug" value={unit.slug} required maxLength={60} />
                  </Field>
                  <Field
                    id={`zone-${unit.id}`}
                    label={t.units.timeZone}
                    field="timeZone"
                    errors={errorsFor(unit.id)}
                  >
                    <ZoneSelect id={`zone-${unit.id}`} name="timeZone" value={unit.timeZone} />
                  </Field>
                  <button type="submit" class="button">
                    {t.common.save}
                  </button>
                </form>
              </details>
            ) : null}
          </li>
        ))}
      </ul>
      {props.parents.length > 0 ? (
        <form method="post" action="/admin/units" class="card">
          <Csrf />
          <h2>{t.units.create}</h2>
          <Field id="parentId" label={t.units.parent} errors={errorsFor('new')}>
            <select id="parentId" name="parentId">
              {props.parents.map((u) => (
                <option value={u.id} selected={u.id === values.parentId}>
                  {u.name}
                </option>
              ))}
            </select>
          </Field>
          <Field id="kind" label={t.units.kind} errors={errorsFor('new')}>
            <select id="kind" name="kind">
              <option value="office" selected={values.kind !== 'regional'}>
                {t.unitKind.office}
              </option>
              <option value="regional" selected={values.kind === 'regional'}>
                {t.unitKind.regional}
              </option>
            </select>
          </Field>
          <Field id="name" label={t.units.name} errors={errorsFor('new')}>
            <input id="name" name="name" required maxLength={120} value={values.name ?? ''} />
          </Field>
          <Field id="slug" label={t.units.slug} hint={t.units.slugHint} errors={errorsFor('new')}>
            <input id="slug" name="slug" required maxLength={60} value={values.slug ?? ''} />
          </Field>
          <Field id="timeZone" label={t.units.timeZone} errors={errorsFor('new')}>
            <ZoneSelect id="timeZone" value={values.timeZone} emptyLabel={t.units.parentZone} />
          </Field>
          <button type="submit" class="button primary">
            {t.units.createButton}
          </button>
        </form>
      ) : null}
    </Layout>
  );
}

// ---------------------------------------------------------------------------------------------
// Users

function UsersPage(props: {
  users: UserRow[];
  units: UnitRow[];
  /** Units where the actor may put people, with the roles they may give. */
  placeable: UnitRow[];
  roles: Role[];
  q?: string;
  nextCursor: string | null;
  notice?: string | null;
  problem?: FormProblem;
}) {
  const { t, actor } = useEnv();
  const problem = props.problem ?? {};
  const errorsFor = (form: string) => (problem.form === form ? problem.errors : undefined);
  const values = problem.form === 'new' ? (problem.values ?? {}) : {};
  const unitName = new Map(props.units.map((u) => [u.id, u.name]));
  const unitPath = new Map(props.units.map((u) => [u.id, u.path]));
  // Admins of one unit never reset each other's password; the form shows only where it would work.
  const mayReset = (user: UserRow) =>
    actor !== null &&
    decide(actor, 'user.credentials', {
      type: 'user',
      userId: user.id,
      unitPath: unitPath.get(user.unitId) ?? '',
      role: user.role,
    }) === 'allow';
  return (
    <Layout title={t.users.title} notice={props.notice} error={problem.error} subnav={<AdminNav />}>
      <form method="get" action="/admin/users" class="filters">
        <div class="field">
          <label for="q">{t.users.search}</label>
          <input id="q" name="q" type="search" value={props.q ?? ''} />
        </div>
        <button type="submit" class="button">
          {t.common.filter}
        </button>
      </form>
      <ul class="list">
        {props.users.map((user) => (
          <li class="item" data-user={user.id}>
            <div class="item-head">
              <strong>{user.name}</strong> <span class="muted">{user.email}</span>
              {user.disabledAt ? <span class="badge disabled">{t.users.disabled}</span> : null}
            </div>
            <div class="meta">
              {t.role[user.role]} · {unitName.get(user.unitId) ?? ''} · {t.account.languages[user.locale]}
            </div>
            {user.id !== actor?.userId ? (
              <details open={problem.form === user.id || problem.form === `password-${user.id}`}>
                <summary>{t.common.edit}</summary>
                <form method="post" action={`/admin/users/${user.id}`}>
                  <Csrf />
                  <Field id={`name-${user.id}`} label={t.users.name} field="name" errors={errorsFor(user.id)}>
                    <input id={`name-${user.id}`} name="name" value={user.name} required maxLength={120} />
                  </Field>
                  <Field id={`role-${user.id}`} label={t.users.role} field="role" errors={errorsFor(user.id)}>
                    <select id={`role-${user.id}`} name="role">
                      {props.roles.map((role) => (
                        <option value={role} selected={role === user.role}>
                          {t.role[role]}
                        </option>
                      ))}
                    </select>
                  </Field>
                  <Field
                    id={`unit-${user.id}`}
                    label={t.users.unit}
                    field="unitId"
                    errors={errorsFor(user.id)}
                  >
                    <select id={`unit-${user.id}`} name="unitId">
                      {props.placeable.map((u) => (
                        <option value={u.id} selected={u.id === user.unitId}>
                          {u.name}
                        </option>
                      ))}
                    </select>
                  </Field>
                  <Field
                    id={`locale-${user.id}`}
                    label={t.account.language}
                    field="locale"
                    errors={errorsFor(user.id)}
                  >
                    <select id={`locale-${user.id}`} name="locale">
                      {LOCALES.map((code) => (
                        <option value={code} selected={code === user.locale}>
                          {t.account.languages[code]}
                        </option>
                      ))}
                    </select>
                  </Field>
                  <label class="check">
                    <input type="checkbox" name="disabled" value="1" checked={user.disabledAt !== null} />{' '}
                    {t.users.disable}
                  </label>
                  <button type="submit" class="button">
                    {t.common.save}
                  </button>
                </form>
                {mayReset(user) ? (
                  <form method="post" action={`/admin/users/${user.id}/password`}>
                    <Csrf />
                    <Field
                      id={`password-${user.id}`}
                      label={t.account.resetPassword}
                      hint={t.account.resetHint}
                      field="password"
                      errors={errorsFor(`password-${user.id}`)}
                    >
                      <input
                        id={`password-${user.id}`}
                        name="password"
                        type="password"
                        autoComplete="new-password"
                        minLength={12}
                        required
                      />
                    </Field>
                    <button type="submit" class="button">
                      {t.account.resetPassword}
                    </button>
                  </form>
                ) : null}
              </details>
            ) : null}
          </li>
        ))}
      </ul>
      <Pager base="/admin/users" query={{ q: props.q }} nextCursor={props.nextCursor} />
      {props.placeable.length > 0 ? (
        <form method="post" action="/admin/users" class="card">
          <Csrf />
          <h2>{t.users.create}</h2>
          <Field id="email" label={t.users.email} errors={errorsFor('new')}>
            <input
              id="email"
              name="email"
              type="email"
              required
              value={values.email ?? ''}
              autoComplete="off"
            />
          </Field>
          <Field id="name" label={t.users.name} errors={errorsFor('new')}>
            <input id="name" name="name" required maxLength={120} value={values.name ?? ''} />
          </Field>
          <Field id="role" label={t.users.role} errors={errorsFor('new')}>
            <select id="role" name="role">
              {props.roles.map((role) => (
                <option value={role} selected={role === (values.role ?? 'contributor')}>
                  {t.role[role]}
                </option>
              ))}
            </select>
          </Field>
          <Field id="unitId" label={t.users.unit} errors={errorsFor('new')}>
            <select id="unitId" name="unitId">
              {props.placeable.map((u) => (
                <option value={u.id} selected={u.id === values.unitId}>
                  {u.name}
                </option>
              ))}
            </select>
          </Field>
          <Field id="locale" label={t.account.language} errors={errorsFor('new')}>
            <select id="locale" name="locale">
              {LOCALES.map((code) => (
                <option value={code} selected={code === (values.locale ?? 'id')}>
                  {t.account.languages[code]}
                </option>
              ))}
            </select>
          </Field>
          <Field
            id="password"
            label={t.users.password}
            hint={t.account.passwordHint}
            errors={errorsFor('new')}
          >
            <input
              id="password"
              name="password"
              type="password"
              required
              minLength={12}
              autoComplete="new-password"
            />
          </Field>
          <button type="submit" class="button primary">
            {t.users.createButton}
          </button>
        </form>
      ) : null}
    </Layout>
  );
}

// ---------------------------------------------------------------------------------------------
// Tokens

function TokensPage(props: {
  tokens: TokenRow[];
  secret?: string | null;
  notice?: string | null;
  problem?: FormProblem;
}) {
  const { t } = useEnv();
  const problem = props.problem ?? {};
  return (
    <Layout title={t.tokens.title} notice={props.notice} error={problem.error} subnav={<AdminNav />}>
      {props.secret ? (
        <section class="card secret" aria-labelledby="secret-title">
          <h2 id="secret-title">{t.tokens.secretTitle}</h2>
          <p>{t.tokens.secretOnce}</p>
          <label for="secret" class="sr-only">
            {t.tokens.secretTitle}
          </label>
          <input id="secret" class="secret-value" readOnly value={props.secret} data-select-on-focus />
        </section>
      ) : null}
      {props.tokens.length === 0 ? <p class="empty">{t.tokens.empty}</p> : null}
      <ul class="list">
        {props.tokens.map((token) => (
          <li class="item" data-token={token.id}>
            <div class="item-head">
              <strong>{token.name}</strong> <code>{token.prefix}…</code>
              {token.revokedAt ? <span class="badge disabled">{t.tokens.revoked}</span> : null}
            </div>
            <div class="meta">
              {t.tokens.created} <Time at={token.createdAt} /> · {t.tokens.lastUsed}{' '}
              <Time at={token.lastUsedAt} fallback={t.tokens.never} /> · {t.tokens.expires}{' '}
              <Time at={token.expiresAt} fallback={t.tokens.never} />
            </div>
            {token.revokedAt ? null : (
              <ActionButton
                action={`/admin/tokens/${token.id}/revoke`}
                label={t.tokens.revoke}
                kind="danger"
                confirm={t.tokens.revokeConfirm}
              />
            )}
          </li>
        ))}
      </ul>
      <form method="post" action="/admin/tokens" class="card">
        <Csrf />
        <h2>{t.tokens.create}</h2>
        <Field id="name" label={t.tokens.name} errors={problem.errors}>
          <input id="name" name="name" required maxLength={100} />
        </Field>
        <Field id="expiresAt" label={t.tokens.expiresAt} hint={t.tokens.expiresHint} errors={problem.errors}>
          <input id="expiresAt" name="expiresAt" type="date" />
        </Field>
        <Field
          id="currentPassword"
          label={t.account.currentPassword}
          hint={t.tokens.passwordHint}
          errors={problem.errors}
        >
          <input
            id="currentPassword"
            name="currentPassword"
            type="password"
            autoComplete="current-password"
            required
          />
        </Field>
        <button type="submit" class="button primary">
          {t.tokens.createButton}
        </button>
      </form>
    </Layout>
  );
}

// ---------------------------------------------------------------------------------------------
// Audit

function AuditPage(props: { events: AuditView[]; action?: string; nextCursor: string | null }) {
  const { t } = useEnv();
  return (
    <Layout title={t.audit.title} subnav={<AdminNav />} wide>
      <form method="get" action="/admin/audit" class="filters">
        <div class="field">
          <label for="action">{t.audit.action}</label>
          <input id="action" name="action" value={props.action ?? ''} placeholder="auth.login_failed" />
        </div>
        <button type="submit" class="button">
          {t.common.filter}
        </button>
      </form>
      {props.events.length === 0 ? <p class="empty">{t.audit.empty}</p> : null}
      <div class="table-wrap">
        <table class="audit">
          <thead>
            <tr>
              <th scope="col">{t.audit.at}</th>
              <th scope="col">{t.audit.action}</th>
              <th scope="col">{t.audit.actor}</th>
              <th scope="col">{t.audit.unit}</th>
              <th scope="col">{t.audit.details}</th>
            </tr>
          </thead>
          <tbody>
            {props.events.map((event) => (
              <tr>
                <td>
                  <Time at={event.at} />
                </td>
                <td>{t.audit.actions[event.action as keyof Messages['audit']['actions']] ?? event.action}</td>
                <td>{event.actor?.name ?? '—'}</td>
                <td>{event.unit?.name ?? '—'}</td>
                <td>
                  <code class="details">{JSON.stringify(event.details).slice(0, 400)}</code>
                  {event.ip ? <span class="muted"> · {event.ip}</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager base="/admin/audit" query={{ action: props.action }} nextCursor={props.nextCursor} />
    </Layout>
  );
}

// ---------------------------------------------------------------------------------------------
// Routes

const idParams = z.strictObject({ id: z.uuid() });
const okQuery = z.strictObject({ ok: z.string().max(40).optional() });
const RANKED: Role[] = [...ROLES];

export const adminRoutes: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  // Units -------------------------------------------------------------------------------------

  const showUnits = async (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: { notice?: string | null; problem?: FormProblem; status?: number } = {},
  ) => {
    const actor = requireActor(request);
    authorize(actor, 'unit.read', { type: 'unit', unitPath: actor.unitPath }, 'Unit');
    const units = await listVisibleUnits(ctx, actor);
    const manages = new Set(
      units
        .filter((u) => decide(actor, 'unit.update', { type: 'unit', unitPath: u.path }) === 'allow')
        .map((u) => u.id),
    );
    const parents = units.filter(
      (u) =>
        u.kind !== 'office' && decide(actor, 'unit.create', { type: 'unit', unitPath: u.path }) === 'allow',
    );
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <UnitsPage
        units={units}
        manages={manages}
        parents={parents}
        notice={extra.notice}
        problem={extra.problem}
      />,
      extra.status ?? 200,
    );
  };

  app.get('/admin/units', { schema: { hide: true, querystring: okQuery } }, async (request, reply) => {
    const env = await kit.env(request, reply);
    return showUnits(request, reply, { notice: noticeOf(env.t, request.query.ok) });
  });

  const unitForm = z.strictObject({
    _csrf: z.string().max(200),
    parentId: z.uuid().optional(),
    kind: z.enum(['regional', 'office']).optional(),
    name: z.string().max(500),
    slug: z.string().max(200),
    timeZone: z.string().max(64),
  });
  const slugSchema = unitSlug;

  /**
   * An admin form: done → `done` with a notice; refused by the rules → `show` again with the form
   * open, its values and the reasons.
   */
  const formChange =
    (
      done: string,
      show: (request: FastifyRequest, reply: FastifyReply, failed: FailedForm) => Promise<unknown>,
    ) =>
    async (
      request: FastifyRequest,
      reply: FastifyReply,
      form: string,
      values: Record<string, string>,
      work: (actor: Actor) => Promise<unknown>,
    ) => {
      const actor = requireActor(request);
      try {
        await work(actor);
        return reply.redirect(`${done}?ok=saved`, 303);
      } catch (error) {
        if (!isUserError(error) || (error.status === 404 && !error.errors)) throw error;
        const env = await kit.env(request, reply);
        return show(request, reply, {
          problem: { form, error: problemText(env.t, error), errors: fieldErrorsOf(env.t, error), values },
          status: error.status,
        });
      }
    };
  const unitChange = formChange('/admin/units', showUnits);

  app.post('/admin/units', { schema: { hide: true, body: unitForm } }, async (request, reply) => {
    const { _csrf, ...values } = request.body;
    return unitChange(request, reply, 'new', values as Record<string, string>, async (actor) => {
      const input = parseForm(
        z.object({
          parentId: z.uuid(),
          kind: z.enum(['regional', 'office']),
          name: unitName,
          slug: slugSchema,
          timeZone: z.string().optional(),
        }),
        { ...values, timeZone: blank(values.timeZone) },
      );
      const parent = await findUnit(ctx.db, input.parentId);
      if (!parent) throw notFoundAt('Unit', 'parentId');
      authorize(actor, 'unit.create', { type: 'unit', unitPath: parent.path }, 'Unit', 'parentId');
      await createUnit(ctx, actor, input, request.ip);
    });
  });

  app.post(
    '/admin/units/:id',
    { schema: { hide: true, params: idParams, body: unitForm } },
    async (request, reply) => {
      const { _csrf, ...values } = request.body;
      const id = request.params.id;
      return unitChange(request, reply, id, values as Record<string, string>, async (actor) => {
        const unit = await loadUnit(ctx, id);
        authorize(actor, 'unit.update', { type: 'unit', unitPath: unit.path }, 'Unit');
        const patch = parseForm(z.object({ name: unitName, slug: slugSchema, timeZone: z.string() }), values);
        await updateUnit(ctx, actor, unit.id, patch, request.ip);
      });
    },
  );

  // Users -------------------------------------------------------------------------------------

  const showUsers = async (
    request: FastifyRequest,
    reply: FastifyReply,
    query: { q?: string; cursor?: string },
    extra: { notice?: string | null; problem?: FormProblem; status?: number } = {},
  ) => {
    const actor = requireActor(request);
    authorize(actor, 'user.list', { type: 'unit', unitPath: actor.unitPath }, 'Unit');
    const q = blank(query.q);
    const [page, units] = await Promise.all([
      listUsers(ctx, actor.unitPath, { q, cursor: query.cursor, limit: 100 }),
      listVisibleUnits(ctx, actor),
    ]);
    const placeable = units.filter(
      (u) =>
        decide(actor, 'user.create', { type: 'user', unitPath: u.path, role: 'contributor' }) === 'allow',
    );
    const roles = RANKED.filter(
      (role) => decide(actor, 'user.create', { type: 'user', unitPath: actor.unitPath, role }) === 'allow',
    );
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <UsersPage
        users={page.users}
        units={units}
        placeable={placeable}
        roles={roles}
        q={q}
        nextCursor={page.nextCursor}
        notice={extra.notice}
        problem={extra.problem}
      />,
      extra.status ?? 200,
    );
  };

  app.get(
    '/admin/users',
    {
      schema: {
        hide: true,
        querystring: z.strictObject({
          q: z.string().max(100).optional(),
          cursor: z.string().max(254).optional(),
          ok: z.string().max(40).optional(),
        }),
      },
    },
    async (request, reply) => {
      const env = await kit.env(request, reply);
      return showUsers(request, reply, request.query, { notice: noticeOf(env.t, request.query.ok) });
    },
  );

  const userChange = formChange('/admin/users', (request, reply, failed) =>
    showUsers(request, reply, {}, failed),
  );

  app.post(
    '/admin/users',
    {
      schema: {
        hide: true,
        body: z.strictObject({
          _csrf: z.string().max(200),
          email: z.string().max(300),
          name: z.string().max(500),
          role: z.enum(ROLES),
          unitId: z.uuid(),
          locale: z.enum(LOCALES),
          password: z.string().max(300),
        }),
      },
    },
    async (request, reply) => {
      const { _csrf, password: _, ...values } = request.body;
      return userChange(request, reply, 'new', values, async (actor) => {
        const input = parseForm(
          z.object({
            email,
            name: personName,
            role: z.enum(ROLES),
            unitId: z.uuid(),
            locale: z.enum(LOCALES),
            password: newPassword,
          }),
          request.body,
        );
        const unit = await findUnit(ctx.db, input.unitId);
        if (!unit) throw notFoundAt('Unit', 'unitId');
        authorize(
          actor,
          'user.create',
          { type: 'user', unitPath: unit.path, role: input.role },
          'Unit',
          'unitId',
        );
        await createUser(ctx, actor, input, request.ip);
      });
    },
  );

  app.post(
    '/admin/users/:id',
    {
      schema: {
        hide: true,
        params: idParams,
        body: z.strictObject({
          _csrf: z.string().max(200),
          name: z.string().max(500),
          role: z.enum(ROLES),
          unitId: z.uuid(),
          locale: z.enum(LOCALES),
          disabled: z.literal('1').optional(),
        }),
      },
    },
    async (request, reply) => {
      const { _csrf, disabled, ...values } = request.body;
      const id = request.params.id;
      return userChange(request, reply, id, values, async (actor) => {
        const user = await loadUser(ctx, id);
        const current = { type: 'user', userId: user.id, unitPath: user.unitPath, role: user.role } as const;
        authorize(actor, 'user.update', current, 'User');
        const unit = await findUnit(ctx.db, values.unitId);
        if (!unit) throw notFoundAt('Unit', 'unitId');
        authorize(
          actor,
          'user.create',
          { ...current, unitPath: unit.path, role: values.role },
          'Unit',
          'unitId',
        );
        const { name } = parseForm(z.object({ name: personName }), values);
        await updateUser(
          ctx,
          actor,
          user.id,
          { name, role: values.role, unitId: unit.id, locale: values.locale, disabled: disabled === '1' },
          request.ip,
        );
      });
    },
  );

  app.post(
    '/admin/users/:id/password',
    {
      schema: {
        hide: true,
        params: idParams,
        body: z.strictObject({ _csrf: z.string().max(200), password: z.string().max(300) }),
      },
    },
    async (request, reply) => {
      const id = request.params.id;
      return userChange(request, reply, `password-${id}`, {}, async (actor) => {
        const user = await loadUser(ctx, id);
        const current = { type: 'user', userId: user.id, unitPath: user.unitPath, role: user.role } as const;
        authorize(actor, 'user.credentials', current, 'User');
        const { password } = parseForm(z.object({ password: newPassword }), request.body);
        await resetPassword(ctx, actor, user.id, password, request.ip);
      });
    },
  );

  // Tokens ------------------------------------------------------------------------------------

  const showTokens = async (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: { secret?: string; notice?: string | null; problem?: FormProblem; status?: number } = {},
  ) => {
    const actor = requireActor(request);
    authorize(actor, 'token.manage', { type: 'token', ownerId: actor.userId }, 'Token');
    const tokens = await listTokens(ctx, actor);
    const env = await kit.env(request, reply);
    return kit.page(request, reply, env, <TokensPage tokens={tokens} {...extra} />, extra.status ?? 200);
  };

  app.get('/admin/tokens', { schema: { hide: true, querystring: okQuery } }, async (request, reply) => {
    const env = await kit.env(request, reply);
    return showTokens(request, reply, { notice: noticeOf(env.t, request.query.ok) });
  });

  app.post(
    '/admin/tokens',
    {
      schema: {
        hide: true,
        body: z.strictObject({
          _csrf: z.string().max(200),
          name: z.string().max(300),
          expiresAt: z.string().max(10).optional(),
          currentPassword: z.string().max(300),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      authorize(actor, 'token.manage', { type: 'token', ownerId: actor.userId }, 'Token');
      const env = await kit.env(request, reply);
      try {
        const { name, currentPassword } = parseForm(
          z.object({ name: z.string().trim().min(1).max(100), currentPassword: z.string().min(1) }),
          request.body,
        );
        const day = blank(request.body.expiresAt);
        // A date without a time: the token works through that whole day in the viewer's zone.
        const parsedDay = day ? parseDayKey(day) : null;
        const expiresAt = parsedDay
          ? new Date(startOfDay(addDays(parsedDay, 1), env.zone).getTime() - 1000)
          : undefined;
        if (day && !parsedDay)
          return showTokens(request, reply, {
            problem: { errors: [{ field: 'expiresAt', message: env.t.fieldProblems.invalid_date }] },
            status: 400,
          });
        const created = await createToken(ctx, actor, { name, expiresAt, currentPassword }, request.ip);
        // The secret is shown in this answer only; it is not kept anywhere it could be shown again.
        return showTokens(request, reply, {
          secret: created.secret,
          notice: env.t.notices.tokenCreated,
          status: 201,
        });
      } catch (error) {
        if (!isUserError(error)) throw error;
        return showTokens(request, reply, {
          problem: { error: problemText(env.t, error), errors: fieldErrorsOf(env.t, error) },
          status: error.status,
        });
      }
    },
  );

  app.post(
    '/admin/tokens/:id/revoke',
    { schema: { hide: true, params: idParams, body: z.strictObject({ _csrf: z.string().max(200) }) } },
    async (request, reply) => {
      const actor = requireActor(request);
      const token = await loadToken(ctx, request.params.id);
      authorize(actor, 'token.manage', { type: 'token', ownerId: token.userId }, 'Token');
      await revokeToken(ctx, actor, token.id, request.ip);
      return reply.redirect('/admin/tokens?ok=revoked', 303);
    },
  );

  // Audit -------------------------------------------------------------------------------------

  app.get(
    '/admin/audit',
    {
      schema: {
        hide: true,
        querystring: z.strictObject({
          action: z
            .union([
              z
                .string()
                .max(64)
                .regex(/^[a-z_]+(\.[a-z_]+)*$/),
              z.literal(''),
            ])
            .optional(),
          cursor: z
            .string()
            .regex(/^\d{1,18}$/)
            .optional(),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const scope = await loadUnit(ctx, actor.unitId);
      authorize(actor, 'audit.read', { type: 'audit', unitPath: scope.path }, 'Unit');
      const action = request.query.action || undefined;
      const page = await listAudit(ctx, scope, { action, cursor: request.query.cursor, limit: 50 });
      const env = await kit.env(request, reply);
      return kit.page(
        request,
        reply,
        env,
        <AuditPage events={page.events} action={action} nextCursor={page.nextCursor} />,
      );
    },
  );
};
