import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireActor } from '../../http/auth';
import { timeZone, unitName, unitSlug } from '../../schemas/org';
import { createUnit, type UnitRow, unitTree, updateUnit } from '../../services/units';
import { Csrf, Field, ZoneSelect } from '../components';
import { useEnv } from '../env';
import { blank, parseForm, type WebOptions } from '../kit';
import { AdminNav, Layout } from '../layout';
import { noticeOf } from '../page';
import { zoneLabel } from '../time';
import { type FormProblem, formChange, idParams, okQuery, type PageExtra } from './form';

/** The unit tree: every unit the admin sees, the ones they may change, and a form for a new one. */

const depthOf = (unit: UnitRow) => unit.path.split('/').filter(Boolean).length - 1;

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

const unitForm = z.strictObject({
  _csrf: z.string().max(200),
  parentId: z.uuid().optional(),
  kind: z.enum(['regional', 'office']).optional(),
  name: z.string().max(500),
  slug: z.string().max(200),
  timeZone: z.string().max(64),
});

export const unitPages: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  const showUnits = async (request: FastifyRequest, reply: FastifyReply, extra: PageExtra = {}) => {
    const tree = await unitTree(ctx, requireActor(request));
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <UnitsPage {...tree} notice={extra.notice} problem={extra.problem} />,
      extra.status ?? 200,
    );
  };

  app.get('/admin/units', { schema: { hide: true, querystring: okQuery } }, async (request, reply) => {
    const env = await kit.env(request, reply);
    return showUnits(request, reply, { notice: noticeOf(env.t, request.query.ok) });
  });

  const unitChange = formChange(kit, '/admin/units', showUnits);

  app.post('/admin/units', { schema: { hide: true, body: unitForm } }, async (request, reply) => {
    const { _csrf, ...values } = request.body;
    return unitChange(request, reply, 'new', values as Record<string, string>, async (actor) => {
      const input = parseForm(
        z.object({
          parentId: z.uuid(),
          kind: z.enum(['regional', 'office']),
          name: unitName,
          slug: unitSlug,
          timeZone: timeZone.optional(),
        }),
        { ...values, timeZone: blank(values.timeZone) },
      );
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
        const patch = parseForm(z.object({ name: unitName, slug: unitSlug, timeZone }), values);
        await updateUnit(ctx, actor, id, patch, request.ip);
      });
    },
  );
};
