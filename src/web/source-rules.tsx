import { z } from 'zod';
import type { FieldError } from '../domain/errors';
import { DELIVERY_MODES, type DeliveryMode, type Platform } from '../domain/vocabulary';
import { sourceRuleFields } from '../schemas/source-rules';
import type { SourceRuleInput, SourceRuleView } from '../services/source-rules';
import { ActionButton, Csrf, Field, FieldErrors } from './components';
import { useEnv } from './env';
import { blank, many, parseForm } from './kit';

/**
 * A source's auto-approval rules on the sources page: each rule with its anchor (`#rule-<id>`, where
 * the inbox's rule lane links), and, for the reviewers who may set them, the forms to add, edit,
 * pause and remove rules, offering the channels the reviewer may target.
 */

/** A rule form as typed: the values are shown again with the problems when it is refused. */
export interface RuleFormValues {
  hashtags?: string;
  channelIds?: string[];
  mode?: DeliveryMode;
  delayMinutes?: string;
  stopWindowMinutes?: string;
}

/** The form that was refused: a rule's own (its id) or a source's new-rule form (`new-<source id>`). */
export interface RuleFormState {
  key: string;
  values: RuleFormValues;
  errors: FieldError[];
}

export interface RuleChannel {
  id: string;
  name: string;
  platform: Platform;
}

export const ruleFormBody = z.strictObject({
  _csrf: z.string().max(200),
  hashtags: z.string().max(3000).optional(),
  channelIds: z.union([z.string().max(100), z.array(z.string().max(100)).max(50)]).optional(),
  mode: z.string().max(20),
  delayMinutes: z.string().max(20).optional(),
  stopWindowMinutes: z.string().max(20).optional(),
});

/** Minutes as typed: blank is "not given", anything else must be a whole number (zod names the field). */
const minutes = (value: string | undefined) => {
  const given = blank(value);
  return given === undefined ? null : /^\d+$/.test(given) ? Number(given) : given;
};

const ruleForm = z.strictObject(sourceRuleFields);

/** The form as the rule input the API takes, with the API's own limits; field errors name the form's fields. */
export function ruleInputOf(body: z.infer<typeof ruleFormBody>): SourceRuleInput {
  const stop = minutes(body.stopWindowMinutes);
  return parseForm(ruleForm, {
    hashtags: (body.hashtags ?? '').split(/[,\s]+/).filter(Boolean),
    channelIds: many(body.channelIds),
    mode: body.mode,
    delayMinutes: minutes(body.delayMinutes),
    stopWindowMinutes: stop ?? DEFAULT_FORM_STOP_WINDOW,
  });
}

/** The stop window a new rule's form offers, as the API's default. */
const DEFAULT_FORM_STOP_WINDOW = 30;

/** The typed values of a refused form, to show it again. */
export const ruleFormValues = (body: z.infer<typeof ruleFormBody>): RuleFormValues => ({
  hashtags: body.hashtags,
  channelIds: many(body.channelIds),
  mode: (DELIVERY_MODES as readonly string[]).includes(body.mode) ? (body.mode as DeliveryMode) : undefined,
  delayMinutes: body.delayMinutes,
  stopWindowMinutes: body.stopWindowMinutes,
});

const valuesOf = (rule: SourceRuleView): RuleFormValues => ({
  hashtags: rule.hashtags.map((tag) => `#${tag}`).join(' '),
  channelIds: rule.channelIds,
  mode: rule.mode,
  delayMinutes: rule.delayMinutes === null ? '' : String(rule.delayMinutes),
  stopWindowMinutes: String(rule.stopWindowMinutes),
});

function RuleForm(props: {
  action: string;
  formKey: string;
  values: RuleFormValues;
  errors?: FieldError[];
  channels: RuleChannel[];
  /** Channels the rule has now that the viewer may not target: named, and dropped when saved. */
  others: { id: string; name: string }[];
  submit: string;
  note?: string;
}) {
  const { t } = useEnv();
  const r = t.sources.rules;
  const id = (field: string) => `rule-${props.formKey}-${field}`;
  const chosen = new Set(props.values.channelIds ?? []);
  return (
    <form method="post" action={props.action} class="rule-form" data-rule-form={props.formKey}>
      <Csrf />
      <fieldset class="field">
        <legend>{r.channels}</legend>
        {props.channels.map((channel) => (
          <label class="check">
            <input type="checkbox" name="channelIds" value={channel.id} checked={chosen.has(channel.id)} />{' '}
            {channel.name} ({t.platform[channel.platform]})
          </label>
        ))}
        {props.others.map((channel) => (
          <span class="hint">{r.otherChannel(channel.name)}</span>
        ))}
        <FieldErrors errors={props.errors} field="channelIds" id={`${id('channelIds')}-error`} />
      </fieldset>
      <Field id={id('mode')} field="mode" label={r.mode} errors={props.errors}>
        <select id={id('mode')} name="mode">
          {DELIVERY_MODES.map((mode) => (
            <option value={mode} selected={(props.values.mode ?? 'copy') === mode}>
              {t.deliveryMode[mode]}
            </option>
          ))}
        </select>
      </Field>
      <Field
        id={id('hashtags')}
        field="hashtags"
        label={r.hashtags}
        hint={r.hashtagsHint}
        errors={props.errors}
      >
        <input id={id('hashtags')} name="hashtags" maxLength={3000} value={props.values.hashtags ?? ''} />
      </Field>
      <Field
        id={id('delayMinutes')}
        field="delayMinutes"
        label={r.delayMinutes}
        hint={r.delayHint}
        errors={props.errors}
      >
        <input
          id={id('delayMinutes')}
          name="delayMinutes"
          type="number"
          min={0}
          max={10_080}
          value={props.values.delayMinutes ?? ''}
        />
      </Field>
      <Field
        id={id('stopWindowMinutes')}
        field="stopWindowMinutes"
        label={r.stopWindowMinutes}
        errors={props.errors}
      >
        <input
          id={id('stopWindowMinutes')}
          name="stopWindowMinutes"
          type="number"
          min={0}
          max={1_440}
          required
          value={props.values.stopWindowMinutes ?? String(DEFAULT_FORM_STOP_WINDOW)}
        />
      </Field>
      {props.note ? <p class="hint">{props.note}</p> : null}
      <button type="submit" class="button primary">
        {props.submit}
      </button>
    </form>
  );
}

/** One rule as the page lists it: what it takes, where it approves to, how, and who it approves as. */
function RuleEntry(props: {
  sourceId: string;
  rule: SourceRuleView;
  channelNames: Map<string, string>;
  /** The viewer may add, edit, pause and remove the source's rules. */
  manages: boolean;
  channels: RuleChannel[];
  form?: RuleFormState;
}) {
  const { t } = useEnv();
  const r = t.sources.rules;
  const { rule } = props;
  const base = `/sources/${props.sourceId}/rules/${rule.id}`;
  const targetable = new Set(props.channels.map((channel) => channel.id));
  return (
    <li id={`rule-${rule.id}`} class="rule" data-rule={rule.id}>
      <div class="item-head">
        <strong>
          {rule.hashtags.length > 0
            ? r.withHashtags(rule.hashtags.map((tag) => `#${tag}`).join(' '))
            : r.everyItem}
        </strong>
        {rule.paused ? <span class="badge disabled">{r.paused}</span> : null}
      </div>
      <div class="meta">
        → {rule.channelIds.map((id) => props.channelNames.get(id) ?? id).join(', ')} ·{' '}
        {t.deliveryMode[rule.mode]} · {rule.delayMinutes === null ? r.nextSlot : r.delay(rule.delayMinutes)} ·{' '}
        {r.window(rule.stopWindowMinutes)} · {r.by(rule.authorName)}
      </div>
      {props.manages ? (
        <>
          <div class="actions">
            <ActionButton
              action={`${base}/pause`}
              label={rule.paused ? r.resume : r.pause}
              hidden={{ paused: rule.paused ? 'false' : 'true' }}
            />
            <ActionButton
              action={`${base}/delete`}
              label={r.delete}
              kind="danger"
              confirm={r.deleteConfirm}
            />
          </div>
          <details open={props.form !== undefined}>
            <summary>{r.edit}</summary>
            <RuleForm
              action={base}
              formKey={rule.id}
              values={props.form?.values ?? valuesOf(rule)}
              errors={props.form?.errors}
              channels={props.channels}
              others={rule.channelIds
                .filter((id) => !targetable.has(id))
                .map((id) => ({ id, name: props.channelNames.get(id) ?? id }))}
              submit={r.save}
              note={r.authorNote}
            />
          </details>
        </>
      ) : null}
    </li>
  );
}

/** The rules section of one source. */
export function SourceRules(props: {
  sourceId: string;
  rules: SourceRuleView[];
  channelNames: Map<string, string>;
  manages: boolean;
  channels: RuleChannel[];
  form?: RuleFormState;
}) {
  const { t } = useEnv();
  const r = t.sources.rules;
  if (props.rules.length === 0 && !props.manages) return null;
  const newKey = `new-${props.sourceId}`;
  return (
    <section class="rules" aria-label={r.title}>
      <h3>{r.title}</h3>
      {props.rules.length === 0 ? <p class="empty">{r.none}</p> : null}
      <ul class="list">
        {props.rules.map((rule) => (
          <RuleEntry
            sourceId={props.sourceId}
            rule={rule}
            channelNames={props.channelNames}
            manages={props.manages}
            channels={props.channels}
            form={props.form?.key === rule.id ? props.form : undefined}
          />
        ))}
      </ul>
      {props.manages ? (
        <details open={props.form?.key === newKey}>
          <summary>{r.add}</summary>
          <p class="hint">{r.hint}</p>
          {props.channels.length === 0 ? (
            <p class="notice">{r.noChannels}</p>
          ) : (
            <RuleForm
              action={`/sources/${props.sourceId}/rules`}
              formKey={newKey}
              values={props.form?.key === newKey ? props.form.values : {}}
              errors={props.form?.key === newKey ? props.form.errors : undefined}
              channels={props.channels}
              others={[]}
              submit={r.create}
            />
          )}
        </details>
      ) : null}
    </section>
  );
}
