import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FieldError } from '../domain/errors';
import { HOLIDAY_KINDS } from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { calendarDate, clockTime, holidayName, reviewWaitMinutes } from '../schemas/working-time';
import {
  addHoliday,
  removeHoliday,
  saveWorkingHours,
  type WorkingTime,
  workingTime,
} from '../services/working-calendar';
import { ActionButton, Csrf, Field } from './components';
import { useEnv } from './env';
import { many, parseForm, type WebOptions } from './kit';
import { AdminNav, Layout } from './layout';
import { fieldErrorsOf, isFormError, noticeOf, problemText } from './page';

/**
 * Working hours and days off: the organisation's holiday list (the national admins keep it) and a
 * unit's working days, hours and waiting limit (its admins, and those above, set them).
 */

interface PageProps extends WorkingTime {
  year: number;
  notice?: string | null;
  error?: string | null;
  errors?: FieldError[];
}

function WorkingTimePage(props: PageProps) {
  const { t } = useEnv();
  const w = t.workingTime;
  return (
    <Layout title={w.title} notice={props.notice} error={props.error}>
      <AdminNav />
      <section class="card">
        <h2>{w.holidays(props.year)}</h2>
        <p class="muted">{w.holidaysIntro}</p>
        <form method="get" action="/admin/working-time" class="row">
          <label for="year">{w.year}</label>
          <input id="year" name="year" type="number" min={2000} max={2100} value={String(props.year)} />
          <input type="hidden" name="unit" value={props.unit.id} />
          <button type="submit" class="button">
            {w.show}
          </button>
        </form>
        {props.holidays.length === 0 ? (
          <p>{w.noHolidays}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">{w.date}</th>
                <th scope="col">{w.name}</th>
                <th scope="col">{w.kind}</th>
                {props.managesHolidays ? <th scope="col" /> : null}
              </tr>
            </thead>
            <tbody>
              {props.holidays.map((day) => (
                <tr>
                  <td>{day.date}</td>
                  <td>{day.name}</td>
                  <td>{w.kinds[day.kind]}</td>
                  {props.managesHolidays ? (
                    <td>
                      <ActionButton
                        action={`/admin/working-time/holidays/${day.id}/delete`}
                        label={w.remove}
                        kind="danger"
                        confirm={w.removeConfirm}
                      />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {props.managesHolidays ? (
          <form method="post" action="/admin/working-time/holidays" class="row">
            <Csrf />
            <Field id="date" label={w.date} errors={props.errors}>
              <input id="date" name="date" type="date" required />
            </Field>
            <Field id="name" label={w.name} errors={props.errors}>
              <input id="name" name="name" maxLength={120} required />
            </Field>
            <Field id="kind" label={w.kind} errors={props.errors}>
              <select id="kind" name="kind">
                {HOLIDAY_KINDS.map((kind) => (
                  <option value={kind}>{w.kinds[kind]}</option>
                ))}
              </select>
            </Field>
            <button type="submit" class="button primary">
              {w.add}
            </button>
          </form>
        ) : null}
      </section>
      <section class="card">
        <h2>{w.hours}</h2>
        <p class="muted">{w.hoursIntro}</p>
        <form method="get" action="/admin/working-time" class="row">
          <label for="unit">{w.unit}</label>
          <select id="unit" name="unit">
            {props.units.map((unit) => (
              <option value={unit.id} selected={unit.id === props.unit.id}>
                {unit.name}
              </option>
            ))}
          </select>
          <input type="hidden" name="year" value={String(props.year)} />
          <button type="submit" class="button">
            {w.show}
          </button>
        </form>
        <p>{w.zone(props.hours.timeZone)}</p>
        <form method="post" action={`/admin/working-time/units/${props.unit.id}`}>
          <Csrf />
          <fieldset disabled={!props.managesUnit}>
            <legend>{w.days}</legend>
            {w.weekdays.map((label, index) => (
              <label class="check">
                <input
                  type="checkbox"
                  name="days"
                  value={String(index + 1)}
                  checked={props.hours.days.includes(index + 1)}
                />{' '}
                {label}
              </label>
            ))}
            <Field id="start" label={w.start} errors={props.errors}>
              <input id="start" name="start" type="time" value={props.hours.start} required />
            </Field>
            <Field id="end" label={w.end} errors={props.errors}>
              <input id="end" name="end" type="time" value={props.hours.end} required />
            </Field>
            <Field id="reviewWaitMinutes" label={w.wait} errors={props.errors}>
              <input
                id="reviewWaitMinutes"
                name="reviewWaitMinutes"
                type="number"
                min={15}
                max={10080}
                value={String(props.hours.reviewWaitMinutes)}
                required
              />
            </Field>
            {props.managesUnit ? (
              <button type="submit" class="button primary">
                {t.common.save}
              </button>
            ) : null}
          </fieldset>
        </form>
      </section>
    </Layout>
  );
}

const pageQuery = z.strictObject({
  ok: z.string().max(40).optional(),
  year: z.coerce.number().int().min(2000).max(2100).optional(),
  unit: z.uuid().optional(),
});

export const workingTimePages: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  const show = async (
    request: FastifyRequest,
    reply: FastifyReply,
    options: {
      year?: number;
      unitId?: string;
      notice?: string | null;
      error?: string | null;
      errors?: FieldError[];
      status?: number;
    },
  ) => {
    const year = options.year ?? ctx.now().getUTCFullYear();
    const data = await workingTime(ctx, requireActor(request), { year, unitId: options.unitId });
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <WorkingTimePage
        year={year}
        {...data}
        notice={options.notice}
        error={options.error}
        errors={options.errors}
      />,
      options.status ?? 200,
    );
  };

  /** Runs a change; a refusal by the rules shows the page again with the reasons (a refusal of the person is the error page's). */
  const change = async (
    request: FastifyRequest,
    reply: FastifyReply,
    done: string,
    unitId: string | undefined,
    work: () => Promise<unknown>,
  ) => {
    try {
      await work();
      return reply.redirect(done, 303);
    } catch (error) {
      if (!isFormError(error)) throw error;
      const env = await kit.env(request, reply);
      return show(request, reply, {
        unitId,
        error: problemText(env.t, error),
        errors: fieldErrorsOf(env.t, error),
        status: error.status,
      });
    }
  };

  app.get(
    '/admin/working-time',
    { schema: { hide: true, querystring: pageQuery } },
    async (request, reply) => {
      const env = await kit.env(request, reply);
      return show(request, reply, {
        year: request.query.year,
        unitId: request.query.unit,
        notice: noticeOf(env.t, request.query.ok),
      });
    },
  );

  app.post(
    '/admin/working-time/holidays',
    {
      schema: {
        hide: true,
        body: z.strictObject({
          _csrf: z.string().max(200),
          date: z.string().max(20),
          name: z.string().max(500),
          kind: z.string().max(40),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const year = Number(request.body.date.slice(0, 4));
      return change(
        request,
        reply,
        `/admin/working-time?ok=saved&year=${year || ''}`,
        undefined,
        async () => {
          const input = parseForm(
            z.object({
              date: calendarDate,
              name: holidayName,
              kind: z.enum(HOLIDAY_KINDS),
            }),
            request.body,
          );
          await addHoliday(ctx, actor, input, request.ip);
        },
      );
    },
  );

  app.post(
    '/admin/working-time/holidays/:id/delete',
    {
      schema: {
        hide: true,
        params: z.strictObject({ id: z.uuid() }),
        body: z.strictObject({ _csrf: z.string().max(200) }),
      },
    },
    async (request, reply) => {
      await removeHoliday(ctx, requireActor(request), request.params.id, request.ip);
      return reply.redirect('/admin/working-time?ok=saved', 303);
    },
  );

  app.post(
    '/admin/working-time/units/:id',
    {
      schema: {
        hide: true,
        params: z.strictObject({ id: z.uuid() }),
        body: z.strictObject({
          _csrf: z.string().max(200),
          days: z.union([z.string().max(2), z.array(z.string().max(2)).max(7)]).optional(),
          start: z.string().max(10),
          end: z.string().max(10),
          reviewWaitMinutes: z.string().max(10),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const unitId = request.params.id;
      return change(request, reply, `/admin/working-time?ok=saved&unit=${unitId}`, unitId, async () => {
        const input = parseForm(
          z.object({
            days: z.array(z.coerce.number().int().min(1).max(7)).min(1).max(7),
            start: clockTime,
            end: clockTime,
            reviewWaitMinutes: z.coerce.number().pipe(reviewWaitMinutes),
          }),
          { ...request.body, days: many(request.body.days) },
        );
        await saveWorkingHours(ctx, actor, unitId, input, request.ip);
      });
    },
  );
};
