import { AppError, type FieldError } from '../../domain/errors';
import type { ValidationIssue } from '../../domain/rendering';
import {
  offeredPrivacyLevels,
  TIKTOK_PRIVACY_LEVELS,
  type TiktokPrivacyLevel,
  tiktokFacts,
} from '../../domain/tiktok';
import { DELIVERY_MODES, type DeliveryMode } from '../../domain/vocabulary';
import type { ChannelBlackout } from '../../services/blackouts';
import type { PostView } from '../../services/posts';
import type { TargetInput } from '../../services/reviews/approval';
import type { TargetView } from '../../services/reviews/screen';
import type { TargetChannel } from '../../services/reviews/targets';
import { ActionButton, Csrf, FieldErrors, handleOf, IssueList, PlatformName } from '../components';
import { useEnv } from '../env';
import type { Messages } from '../i18n/index';
import { blank, one, patternForm } from '../kit';
import { DeliveryItem } from '../posts';
import { formatDateTime, formatTime, fromLocalInput, zoneLabel } from '../time';

/** The approve screen: each channel the post may go to, as it would publish it, with its mode, time and text. */

/** A submitted approve or add-channels form, as the browser sent it. */
export type DecisionForm = Record<string, string | string[]>;

/** The approve screen's word on a blackout: a time inside it waits for its end. */
function blackoutIssue(
  t: Messages,
  blackout: ChannelBlackout,
  locale: 'id' | 'en',
  zone: string,
): ValidationIssue {
  return {
    code: 'blackout',
    severity: 'warning',
    message: t.review.inBlackout(
      blackout.reason,
      formatDateTime(blackout.startsAt, locale, zone),
      blackout.endsAt ? formatDateTime(blackout.endsAt, locale, zone) : null,
    ),
  };
}

function TargetCard(props: {
  view: TargetView;
  form: DecisionForm;
  issues?: ValidationIssue[];
  errors?: FieldError[];
  post: PostView;
}) {
  const { t, locale, zone } = useEnv();
  const { channel } = props.view.target;
  const { report } = props.view;
  const id = channel.id;
  const value = (name: string) => one(props.form[`${name}_${id}`]);
  const checked = props.form[`on_${id}`] !== undefined;
  const at = value('at') ?? 'now';
  const over = report.count !== null && report.count.used > report.count.limit;
  const platform = channel.platform;
  const { modes } = props.view;
  const chosen = value('mode');
  const chosenMode = chosen && (modes as readonly string[]).includes(chosen) ? chosen : 'copy';
  const { origin } = props.post;
  return (
    <li class="target" data-channel={id} data-platform={platform}>
      <div class="target-head">
        <label class="check">
          <input type="checkbox" name={`on_${id}`} value="1" checked={checked} data-target-toggle />{' '}
          <PlatformName platform={platform} /> <strong>{channel.name}</strong>
          {channel.handle ? <span class="muted"> {handleOf(channel.handle)}</span> : null}
        </label>
        {report.count ? (
          <span class={`counter${over ? ' over' : ''}`}>
            {report.count.used}/{report.count.limit}
          </span>
        ) : null}
      </div>
      <div class="as-published">
        <pre class="rendered">{report.text}</pre>
        {props.post.media.length > 0 ? (
          <ul class="target-media" aria-label={t.review.mediaCount(props.post.media.length)}>
            {props.post.media.map((m) => (
              <li>
                <img
                  src={`/api/v1/media/${m.id}/thumbnail`}
                  alt={m.altText}
                  width={64}
                  height={64}
                  loading="lazy"
                />
              </li>
            ))}
          </ul>
        ) : null}
      </div>
      <IssueList
        issues={[
          ...report.issues,
          ...props.view.blackouts.map((blackout) => blackoutIssue(t, blackout, locale, zone)),
          ...(props.issues ?? []),
        ]}
      />
      <div class="target-options">
        <div class="field">
          <label for={`mode_${id}`}>{t.review.mode}</label>
          <select id={`mode_${id}`} name={`mode_${id}`} data-modes={modes.join(' ')}>
            {modes.map((mode) => (
              <option value={mode} selected={chosenMode === mode}>
                {t.deliveryMode[mode]}
                {mode === 'repost'
                  ? ` · ${t.review.modeNoText}`
                  : report.count
                    ? ` · ${t.review.modeTextUpTo(report.count.limit)}`
                    : ''}
              </option>
            ))}
          </select>
          {origin && modes.length === 1 ? (
            <small class="hint" data-copy-only>
              {t.review.modeCopyOnly(t.sources.kinds[origin.platform])}
            </small>
          ) : null}
        </div>
        <fieldset class="when">
          <legend>{t.review.when}</legend>
          <label class="check">
            <input type="radio" name={`at_${id}`} value="now" checked={at === 'now'} /> {t.review.now}
          </label>
          <label class="check">
            <input
              type="radio"
              name={`at_${id}`}
              value="slot"
              checked={at === 'slot'}
              disabled={!props.view.nextSlot}
            />{' '}
            {t.review.nextSlot}
            {props.view.nextSlot
              ? ` (${formatTime(props.view.nextSlot, locale, zone)})`
              : ` (${t.review.noSlots})`}
          </label>
          <label class="check">
            <input type="radio" name={`at_${id}`} value="time" checked={at === 'time'} />{' '}
            {`${t.review.atTime} (${zoneLabel(zone)})`}
          </label>
          <label for={`time_${id}`} class="sr-only">
            {t.review.atTime}
          </label>
          <input id={`time_${id}`} name={`time_${id}`} type="datetime-local" value={value('time') ?? ''} />
          <FieldErrors errors={props.errors} field={`time_${id}`} />
        </fieldset>
        {platform === 'tiktok' ? (
          <TiktokChoices channel={channel} form={props.form} errors={props.errors} />
        ) : null}
        <details open={Boolean(blank(value('text')))}>
          <summary>{t.review.editText}</summary>
          <div class="field">
            <label for={`text_${id}`}>{t.review.textFor(channel.name)}</label>
            <textarea id={`text_${id}`} name={`text_${id}`} rows={5} maxLength={65536}>
              {value('text') ?? ''}
            </textarea>
            <small class="hint">{t.review.textHint}</small>
          </div>
        </details>
      </div>
    </li>
  );
}

/**
 * TikTok's choices for one post, as its guidelines require: who may see it, with no level preset
 * (only those the creator allows; only SELF_ONLY for an unaudited app), and comments, Duet and
 * Stitch unticked, greyed out where the creator turned them off.
 */
function TiktokChoices(props: {
  channel: TargetChannel['channel'];
  form: DecisionForm;
  errors?: FieldError[];
}) {
  const { t } = useEnv();
  const { channel } = props;
  const id = channel.id;
  const facts = tiktokFacts(channel.settings);
  const offered = offeredPrivacyLevels(facts);
  const chosen =
    one(props.form[`tiktokPrivacy_${id}`]) ?? (facts.unaudited ? 'SELF_ONLY' : facts.privacyLevel);
  const interaction = (name: 'Comment' | 'Duet' | 'Stitch', disabled: boolean | undefined) => (
    <label class="check">
      <input
        type="checkbox"
        name={`tiktok${name}_${id}`}
        value="1"
        checked={!disabled && props.form[`tiktok${name}_${id}`] !== undefined}
        disabled={Boolean(disabled)}
      />{' '}
      {t.review[`tiktokAllow${name}`]}
      {disabled ? <span class="muted"> ({t.review.tiktokCreatorDisabled})</span> : null}
    </label>
  );
  return (
    <fieldset class="tiktok-choices">
      <legend>{t.review.tiktokChoices}</legend>
      {facts.unaudited ? <p class="notice">{t.review.tiktokUnaudited}</p> : null}
      {offered.map((level) => (
        <label class="check">
          <input type="radio" name={`tiktokPrivacy_${id}`} value={level} checked={chosen === level} />{' '}
          {t.review.tiktokPrivacy[level]}
        </label>
      ))}
      <FieldErrors errors={props.errors} field={`tiktokPrivacy_${id}`} />
      {interaction('Comment', facts.commentDisabled)}
      {interaction('Duet', facts.duetDisabled)}
      {interaction('Stitch', facts.stitchDisabled)}
      <small class="hint">{t.review.tiktokConsent}</small>
    </fieldset>
  );
}

/** The channels of the approve and add-channels forms, each with its rendering, issues and options. */
export function TargetList(props: {
  targets: TargetView[];
  form: DecisionForm;
  targetIssues: Map<string, ValidationIssue[]>;
  errors?: FieldError[];
  post: PostView;
}) {
  return (
    <>
      <FieldErrors errors={props.errors} field="targets" />
      <ul class="targets">
        {props.targets.map((view) => (
          <TargetCard
            view={view}
            form={props.form}
            issues={props.targetIssues.get(view.target.channel.id)}
            errors={props.errors}
            post={props.post}
          />
        ))}
      </ul>
    </>
  );
}

/** An approved post: its deliveries (cancellable ones with a button) and the form adding channels. */
export function PostTargets(props: {
  post: PostView;
  targets: TargetView[];
  cancellable: ReadonlySet<string>;
  form: DecisionForm;
  targetIssues: Map<string, ValidationIssue[]>;
  errors?: FieldError[];
}) {
  const { t } = useEnv();
  const { post } = props;
  return (
    <section class="review-decide" aria-labelledby="targets-title">
      <h2 id="targets-title">{t.post.deliveries}</h2>
      <ul class="list">
        {post.deliveries.map((d) => (
          <DeliveryItem delivery={d}>
            {props.cancellable.has(d.id) ? (
              <ActionButton
                action={`/review/${post.id}/targets/${d.channelId}/cancel`}
                label={t.deliveries.cancel}
                kind="danger"
                hidden={{ version: d.version }}
                confirm={t.deliveries.cancelConfirm}
              />
            ) : null}
          </DeliveryItem>
        ))}
      </ul>
      <h3>{t.review.addTargets}</h3>
      {props.targets.length === 0 ? (
        <p class="muted">{t.review.noMoreTargets}</p>
      ) : (
        <form method="post" action={`/review/${post.id}/targets`} class="card" id="add-targets">
          <Csrf />
          <input type="hidden" name="version" value={String(post.version)} />
          <p class="hint">{t.review.addTargetsHint}</p>
          <TargetList
            targets={props.targets}
            form={props.form}
            targetIssues={props.targetIssues}
            errors={props.errors}
            post={post}
          />
          <button type="submit" class="button primary">
            {t.review.addTargetsButton}
          </button>
        </form>
      )}
    </section>
  );
}
const DECISION_FIELDS =
  /^(_csrf|version|comment|reason|note|(on|mode|at|time|text|tiktokPrivacy|tiktokComment|tiktokDuet|tiktokStitch)_[0-9a-f-]{36})$/;
export const decisionForm = patternForm(DECISION_FIELDS);
/** The targets of the approve or add-channels form; a missing or unreadable time refuses it (400). */
export function readTargets(form: DecisionForm, zone: string, t: Messages): TargetInput[] {
  const targets: TargetInput[] = [];
  const errors: FieldError[] = [];
  for (const key of Object.keys(form)) {
    if (!key.startsWith('on_')) continue;
    const id = key.slice(3);
    const mode = one(form[`mode_${id}`]) ?? 'copy';
    const at = one(form[`at_${id}`]) ?? 'now';
    let when: string;
    if (at === 'slot') when = 'next-slot';
    else if (at === 'time') {
      const time = fromLocalInput(one(form[`time_${id}`]) ?? '', zone);
      if (!time) {
        errors.push({ field: `time_${id}`, message: t.fieldProblems.invalid_date, code: 'invalid_date' });
        continue;
      }
      when = time.toISOString();
    } else when = 'now';
    targets.push({
      channelId: id,
      mode: (DELIVERY_MODES as readonly string[]).includes(mode) ? (mode as DeliveryMode) : 'copy',
      at: when,
      text: blank(one(form[`text_${id}`])) ?? null,
      ...tiktokChoiceOf(form, id),
    });
  }
  if (targets.length === 0 && errors.length === 0)
    errors.push({ field: 'targets', message: t.fieldProblems.no_targets, code: 'no_targets' });
  if (errors.length > 0)
    throw new AppError('validation_failed', 400, t.problems.validation_failed, { errors });
  return targets;
}

/** The TikTok choices of one target, when its form has them (TikTok channels only). */
function tiktokChoiceOf(form: DecisionForm, id: string): Pick<TargetInput, 'tiktok'> {
  const privacy = one(form[`tiktokPrivacy_${id}`]);
  const has = (name: string) => form[`tiktok${name}_${id}`] !== undefined;
  if (privacy === undefined && !has('Comment') && !has('Duet') && !has('Stitch')) return {};
  return {
    tiktok: {
      ...((TIKTOK_PRIVACY_LEVELS as readonly string[]).includes(privacy ?? '')
        ? { privacyLevel: privacy as TiktokPrivacyLevel }
        : {}),
      allowComment: has('Comment'),
      allowDuet: has('Duet'),
      allowStitch: has('Stitch'),
    },
  };
}

/** Per-channel issues of a refused approval (`invalid_targets`). */
export function targetIssuesOf(error: AppError): Map<string, ValidationIssue[]> {
  const reports = (error.extra?.targets ?? []) as { channelId: string; issues: ValidationIssue[] }[];
  return new Map(reports.map((r) => [r.channelId, r.issues]));
}
