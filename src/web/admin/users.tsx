import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { decide } from '../../domain/permissions';
import { LOCALES, ROLES, type Role } from '../../domain/vocabulary';
import { requireActor } from '../../http/auth';
import { email, newPassword, personName } from '../../schemas/org';
import type { UnitRow } from '../../services/units';
import { createUser, resetPassword, type UserRow, updateUser, userDirectory } from '../../services/users';
import { Csrf, Field, Pager, PasswordField } from '../components';
import { useEnv } from '../env';
import { blank, parseForm, type WebOptions } from '../kit';
import { AdminNav, Layout } from '../layout';
import { noticeOf } from '../page';
import { type FormProblem, formChange, idParams, type PageExtra } from './form';

/** People: the users of the admin's subtree, a form to change each, to set a temporary password, and to add one. */

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
                    <PasswordField
                      id={`password-${user.id}`}
                      name="password"
                      label={t.account.resetPassword}
                      hint={t.account.resetHint}
                      field="password"
                      errors={errorsFor(`password-${user.id}`)}
                      kind="new"
                    />
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
          <PasswordField
            id="password"
            label={t.users.password}
            hint={t.account.passwordHint}
            errors={errorsFor('new')}
            kind="new"
          />
          <button type="submit" class="button primary">
            {t.users.createButton}
          </button>
        </form>
      ) : null}
    </Layout>
  );
}

export const userPages: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  const showUsers = async (
    request: FastifyRequest,
    reply: FastifyReply,
    query: { q?: string; cursor?: string },
    extra: PageExtra = {},
  ) => {
    const q = blank(query.q);
    const directory = await userDirectory(ctx, requireActor(request), {
      q,
      cursor: query.cursor,
      limit: 100,
    });
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <UsersPage
        users={directory.page.users}
        units={directory.units}
        placeable={directory.placeable}
        roles={directory.roles}
        q={q}
        nextCursor={directory.page.nextCursor}
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

  const userChange = formChange(kit, '/admin/users', (request, reply, failed) =>
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
        const { name } = parseForm(z.object({ name: personName }), values);
        await updateUser(
          ctx,
          actor,
          id,
          {
            name,
            role: values.role,
            unitId: values.unitId,
            locale: values.locale,
            disabled: disabled === '1',
          },
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
        const { password } = parseForm(z.object({ password: newPassword }), request.body);
        await resetPassword(ctx, actor, id, password, request.ip);
      });
    },
  );
};
