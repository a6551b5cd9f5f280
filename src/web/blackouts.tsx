import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type FieldError, forbidden, invalid } from '../domain/errors';
import { atLeast, decide } from '../domain/permissions';
import { BLACKOUT_ON_END } from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { type BlackoutView, createBlackout, endBlackout, listBlackouts } from '../services/blackouts';
import { listChannels } from '../services/channels';
import { listVisibleUnits, loadUnit } from '../services/units';
import { ActionButton, Csrf, Field, Time } from './components';
import { useEnv } from './env';
import { blank, many, type WebOptions } from './kit';
import { AdminNav, Layout } from './layout';
import { fieldErrorsOf, isUserError, noticeOf, problemText } from './page';
import { fromLocalInput, toLocalInput } from './time';

/**
 * Blackouts for admins: the ones in force and coming in their subtree, a form for a new one (unit,
 * start, end or none, reason, channels, what happens after), ending one early, and, for national
 * admins, the emergency stop: a national blackout from now with no end, lifted from the same page.
 */

interface Choice {
  id: string;
  name: string;
}

interface FormProblem {
  form: 'new' | 'stop';
  error?: string | null;
  errors?: FieldError[];
  values?: Record<string, string | string[]>;
}

function BlackoutsPage(props: {
  blackouts: BlackoutView[];
  units: Choice[];
  channels: (Choice & { unitName: string })[];
  national: boolean;
  notice?: string | null;
  problem?: FormProblem;
}) {
  const { t, zone, now } = useEnv();
  const tb = t.blackouts;
  const stop = props.blackouts.find((entry) => entry.emergency && entry.active);
  const problem = (form: FormProblem['form']) => (props.problem?.form === form ? props.problem : undefined);
  const values = problem('new')?.values ?? {};
  const value = (name: string) => {
    const entry = values[name];
    return Array.isArray(entry) ? entry[0] : entry;
  };
  const chosen = new Set(many(values.channelIds));
  return (
    <Layout title={tb.title} subnav={<AdminNav />} notice={props.notice}>
      <p>{tb.intro}</p>
      {props.national ? (
        <section class="card emergency" aria-labelledby="emergency-title">
          <h2 id="emergency-title">{tb.emergencyTitle}</h2>
          {stop ? (
            <>
              <p role="status">
                <strong>{tb.emergencyActive}</strong> {stop.reason} (<Time at={stop.startsAt} />)
              </p>
              <ActionButton
                action={`/admin/blackouts/${stop.id}/end`}
                label={tb.lift}
                kind="primary"
                confirm={tb.liftAsk}
              />
            </>
          ) : (
            <form method="post" action="/admin/blackouts/stop" data-confirm={tb.emergencyAsk}>
              <Csrf />
              <p>{tb.emergencyIntro}</p>
              {problem('stop')?.error ? <p class="error-text">{problem('stop')!.error}</p> : null}
              <Field
                id="stop-reason"
                field="reason"
                label={tb.emergencyReason}
                errors={problem('stop')?.errors}
              >
                <input id="stop-reason" name="reason" required maxLength={1000} />
              </Field>
              <button type="submit" class="button danger">
                {tb.emergencyButton}
              </button>
            </form>
          )}
        </section>
      ) : null}

      <h2>{tb.current}</h2>
      {props.blackouts.length === 0 ? (
        <p>{tb.empty}</p>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">{tb.unit}</th>
              <th scope="col">{tb.startsAt}</th>
              <th scope="col">{tb.endsAt}</th>
              <th scope="col">{tb.reason}</th>
              <th scope="col">{tb.channels}</th>
              <th scope="col">{tb.onEnd}</th>
              <th scope="col">
                <span class="sr-only">{tb.end}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.blackouts.map((entry) => (
              <tr class={entry.active ? 'blackout' : undefined}>
                <td>
                  {entry.unit.name}
                  {entry.emergency ? <strong> · {tb.emergency}</strong> : null}
                  <br />
                  <small>{entry.active ? tb.active : tb.upcoming}</small>
                </td>
                <td>
                  <Time at={entry.startsAt} />
                </td>
                <td>{entry.endsAt ? <Time at={entry.endsAt} /> : tb.noEnd}</td>
                <td>{entry.reason}</td>
                <td>
                  {entry.channelIds
                    ? entry.channelIds
                        .map((id) => props.channels.find((channel) => channel.id === id)?.name ?? id)
                        .join(', ')
                    : tb.allChannels}
                </td>
                <td>{entry.onEnd === 'hold' ? tb.onEndHold : tb.onEndReschedule}</td>
                <td>
                  <ActionButton
                    action={`/admin/blackouts/${entry.id}/end`}
                    label={entry.emergency ? tb.lift : tb.end}
                    confirm={entry.emergency ? tb.liftAsk : tb.endAsk}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <section class="card" aria-labelledby="new-blackout">
        <h2 id="new-blackout">{tb.create}</h2>
        <form method="post" action="/admin/blackouts">
          <Csrf />
          {problem('new')?.error ? <p class="error-text">{problem('new')!.error}</p> : null}
          <Field id="blackout-unit" field="unitId" label={tb.unit} errors={problem('new')?.errors}>
            <select id="blackout-unit" name="unitId" required>
              {props.units.map((unit) => (
                <option value={unit.id} selected={value('unitId') === unit.id}>
                  {unit.name}
                </option>
              ))}
            </select>
          </Field>
          <Field id="blackout-start" field="startsAt" label={tb.startsAt} errors={problem('new')?.errors}>
            <input
              id="blackout-start"
              name="startsAt"
              type="datetime-local"
              required
              value={value('startsAt') ?? toLocalInput(now, zone)}
            />
          </Field>
          <Field
            id="blackout-end"
            field="endsAt"
            label={tb.endsAt}
            hint={tb.endsAtHint}
            errors={problem('new')?.errors}
          >
            <input id="blackout-end" name="endsAt" type="datetime-local" value={value('endsAt') ?? ''} />
          </Field>
          <Field id="blackout-reason" field="reason" label={tb.reason} errors={problem('new')?.errors}>
            <input
              id="blackout-reason"
              name="reason"
              required
              maxLength={1000}
              value={value('reason') ?? ''}
            />
          </Field>
          <Field
            id="blackout-channels"
            field="channelIds"
            label={tb.channels}
            hint={tb.channelsHint}
            errors={problem('new')?.errors}
          >
            <select
              id="blackout-channels"
              name="channelIds"
              multiple
              size={Math.min(8, props.channels.length + 1)}
            >
              {props.channels.map((channel) => (
                <option value={channel.id} selected={chosen.has(channel.id)}>
                  {`${channel.name} (${channel.unitName})`}
                </option>
              ))}
            </select>
          </Field>
          <fieldset>
            <legend>{tb.onEnd}</legend>
            <label>
              <input type="radio" name="onEnd" value="reschedule" checked={value('onEnd') !== 'hold'} />{' '}
              {tb.onEndReschedule}
            </label>
            <label>
              <input type="radio" name="onEnd" value="hold" checked={value('onEnd') === 'hold'} />{' '}
              {tb.onEndHold}
            </label>
          </fieldset>
          <button type="submit" class="button primary">
            {tb.createButton}
          </button>
        </form>
      </section>
    </Layout>
  );
}

const stringOrList = z.union([z.string().max(40), z.array(z.string().max(40)).max(500)]);

export const blackoutPages: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const ctx = kit.ctx;

  /** Admins only: the page lists the subtree's blackouts and offers the forms. */
  const requireAdmin = (request: FastifyRequest) => {
    const actor = requireActor(request);
    if (!atLeast(actor, 'admin')) throw forbidden('Only administrators manage blackouts');
    return actor;
  };

  const show = async (
    request: FastifyRequest,
    reply: FastifyReply,
    extra: { notice?: string | null; problem?: FormProblem; status?: number } = {},
  ) => {
    const actor = requireAdmin(request);
    const [blackouts, units, channels] = await Promise.all([
      listBlackouts(ctx, actor),
      listVisibleUnits(ctx, actor),
      listChannels(ctx, actor, {}),
    ]);
    const own = units.filter(
      (unit) => decide(actor, 'blackout.manage', { type: 'blackout', unitPath: unit.path }) === 'allow',
    );
    const ownIds = new Set(own.map((unit) => unit.id));
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <BlackoutsPage
        blackouts={blackouts}
        units={own.map((unit) => ({ id: unit.id, name: unit.name }))}
        channels={channels
          .filter((channel) => ownIds.has(channel.unitId))
          .map((channel) => ({
            id: channel.id,
            name: channel.name,
            unitName: own.find((unit) => unit.id === channel.unitId)?.name ?? '',
          }))}
        national={actor.unitPath.split('/').filter(Boolean).length === 1}
        {...extra}
      />,
      extra.status ?? 200,
    );
  };

  /** Runs a form's change; a refusal shows the page again with the reasons next to the fields. */
  const change = async (
    request: FastifyRequest,
    reply: FastifyReply,
    form: FormProblem['form'],
    values: FormProblem['values'],
    run: () => Promise<string>,
  ) => {
    try {
      return reply.redirect(`/admin/blackouts?ok=${await run()}`, 303);
    } catch (error) {
      if (!isUserError(error)) throw error;
      const env = await kit.env(request, reply);
      return show(request, reply, {
        problem: { form, values, error: problemText(env.t, error), errors: fieldErrorsOf(env.t, error) },
        status: error.status,
      });
    }
  };

  app.get(
    '/admin/blackouts',
    { schema: { hide: true, querystring: z.strictObject({ ok: z.string().max(40).optional() }) } },
    async (request, reply) => {
      const env = await kit.env(request, reply);
      return show(request, reply, { notice: noticeOf(env.t, request.query.ok) });
    },
  );

  app.post(
    '/admin/blackouts',
    {
      schema: {
        hide: true,
        body: z.strictObject({
          _csrf: z.string().max(200),
          unitId: z.string().max(40),
          startsAt: z.string().max(40),
          endsAt: z.string().max(40).optional(),
          reason: z.string().max(2000),
          channelIds: stringOrList.optional(),
          onEnd: z.string().max(20).optional(),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireAdmin(request);
      const { _csrf, ...values } = request.body;
      return change(request, reply, 'new', values, async () => {
        const zone = actor.timeZone;
        const startsAt = fromLocalInput(values.startsAt, zone);
        const endsText = blank(values.endsAt);
        const endsAt = endsText ? fromLocalInput(endsText, zone) : null;
        const errors: FieldError[] = [];
        if (!startsAt)
          errors.push({ field: 'startsAt', message: 'is not a date and time', code: 'invalid_date' });
        if (endsText && !endsAt)
          errors.push({ field: 'endsAt', message: 'is not a date and time', code: 'invalid_date' });
        if (!z.uuid().safeParse(values.unitId).success)
          errors.push({ field: 'unitId', message: 'is not a unit', code: 'invalid' });
        if (!values.reason.trim() || values.reason.trim().length > 1000)
          errors.push({
            field: 'reason',
            message: 'is required (at most 1000 characters)',
            code: 'required',
          });
        const channelIds = many(values.channelIds);
        channelIds.forEach((id, index) => {
          if (!z.uuid().safeParse(id).success)
            errors.push({ field: `channelIds.${index}`, message: 'is not a channel', code: 'invalid' });
        });
        const onEnd = values.onEnd ?? 'reschedule';
        if (!(BLACKOUT_ON_END as readonly string[]).includes(onEnd))
          errors.push({ field: 'onEnd', message: 'is not a choice', code: 'invalid' });
        if (errors.length > 0 || !startsAt) throw invalid(errors);
        await createBlackout(
          ctx,
          actor,
          {
            unitId: values.unitId,
            startsAt: startsAt.toISOString(),
            endsAt: endsAt?.toISOString() ?? null,
            reason: values.reason,
            channelIds,
            onEnd: onEnd as (typeof BLACKOUT_ON_END)[number],
          },
          request.ip,
        );
        return 'blackoutCreated';
      });
    },
  );

  /** The emergency stop: national admins only; a blackout of the whole tree from now, with no end. */
  app.post(
    '/admin/blackouts/stop',
    {
      schema: {
        hide: true,
        body: z.strictObject({ _csrf: z.string().max(200), reason: z.string().max(2000) }),
      },
    },
    async (request, reply) => {
      const actor = requireAdmin(request);
      const root = await loadUnit(ctx, actor.unitId);
      if (root.parentId !== null) throw forbidden('Only national administrators may stop all publishing');
      return change(request, reply, 'stop', { reason: request.body.reason }, async () => {
        const reason = request.body.reason.trim();
        if (!reason || reason.length > 1000)
          throw invalid([
            { field: 'reason', message: 'is required (at most 1000 characters)', code: 'required' },
          ]);
        await createBlackout(
          ctx,
          actor,
          { unitId: root.id, startsAt: ctx.now().toISOString(), endsAt: null, reason, onEnd: 'hold' },
          request.ip,
        );
        return 'publishingStopped';
      });
    },
  );

  app.post(
    '/admin/blackouts/:id/end',
    {
      schema: {
        hide: true,
        params: z.strictObject({ id: z.uuid() }),
        body: z.strictObject({ _csrf: z.string().max(200) }),
      },
    },
    async (request, reply) => {
      const actor = requireAdmin(request);
      await endBlackout(ctx, actor, request.params.id, request.ip);
      return reply.redirect('/admin/blackouts?ok=blackoutEnded', 303);
    },
  );
};
