import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { allowedDeliveryEvents } from '../domain/delivery-machine';
import { AppError, type FieldError } from '../domain/errors';
import { type Actor, contains, decide } from '../domain/permissions';
import type { ValidationIssue } from '../domain/rendering';
import { type LevelState, levelAbove } from '../domain/review-levels';
import {
  offeredPrivacyLevels,
  TIKTOK_PRIVACY_LEVELS,
  type TiktokPrivacyLevel,
  tiktokFacts,
} from '../domain/tiktok';
import { DELIVERY_MODES, type DeliveryMode, PLATFORMS, type Platform } from '../domain/vocabulary';
import { authorize, requireActor } from '../http/auth';
import { blackoutsOver, type ChannelBlackout } from '../services/blackouts';
import { BULK_ACTIONS, type BulkAction, decideInBulk, MAX_BULK_POSTS } from '../services/bulk-reviews';
import { listChannels } from '../services/channels';
import { cancelDelivery, channelFreeSlots, deliveryFacts, deliveryResource } from '../services/deliveries';
import {
  listPostEvents,
  loadPostView,
  type PostFacts,
  type PostView,
  postFacts,
  postResource,
} from '../services/posts';
import { type LevelUnit, levelState, loadLevelUnit } from '../services/review-levels';
import { addTargets, approvePost, deliveryIdFor, type TargetInput } from '../services/reviews/approval';
import { forwardPost, passPost, rejectPost, requestChanges } from '../services/reviews/decisions';
import { type Inbox, type LevelDecisionView, levelDecisions, reviewInbox } from '../services/reviews/inbox';
import {
  loadTargetChannels,
  previewTargets,
  type TargetChannel,
  type TargetReport,
} from '../services/reviews/targets';
import { listVisibleUnits, loadUnit, type UnitRow } from '../services/units';
import {
  ActionButton,
  Csrf,
  Excerpt,
  Field,
  FieldErrors,
  handleOf,
  IssueList,
  PlatformName,
  PostStatusBadge,
  Time,
} from './components';
import { useEnv } from './env';
import type { Messages } from './i18n/index';
import { blank, many, one, patternForm, type WebOptions } from './kit';
import { Layout } from './layout';
import { fieldErrorsOf, isUserError, noticeOf, problemText } from './page';
import { DeliveryItem, PostBody, PostDeliveries } from './posts';
import { RetractAction } from './retraction';
import { formatDateTime, formatTime, fromLocalInput, zoneLabel } from './time';

/** Humas: the inbox of submitted posts and the review page with the three decisions. */

function Age(props: { seconds: number }) {
  const { t } = useEnv();
  return <span class="age">{t.inbox.age(props.seconds)}</span>;
}

function Shortcuts(props: { keys: [string, string][] }) {
  const { t } = useEnv();
  return (
    <details class="shortcuts">
      <summary>{t.shortcuts.title}</summary>
      <dl>
        {props.keys.map(([key, label]) => (
          <>
            <dt>
              <kbd>{key}</kbd>
            </dt>
            <dd>{label}</dd>
          </>
        ))}
      </dl>
    </details>
  );
}

/** What the levels did so far: "Kanwil Kalbar: approved for @kanwilkalbar, forwarded: 'bagus'". */
function LevelDecisions(props: { decisions: LevelDecisionView[] }) {
  const { t } = useEnv();
  if (props.decisions.length === 0) return null;
  return (
    <ul class="level-decisions" data-decisions>
      {props.decisions.map((d) => {
        const parts: string[] = [];
        if (d.decision === 'approved') parts.push(t.inbox.approvedFor(d.channels.join(', ')));
        if (d.decision === 'passed') parts.push(t.inbox.passed);
        if (d.forwarded)
          parts.push(d.forwardNote ? t.inbox.forwardedNote(d.forwardNote) : t.inbox.forwardedPlain);
        return (
          <li data-level={d.unit.id}>
            <strong>{d.unit.name}</strong>: {parts.join(', ')}
          </li>
        );
      })}
    </ul>
  );
}

/** A channel the reviewer may approve posts to from the inbox, all at once. */
interface BulkChannel {
  id: string;
  name: string;
  platform: Platform;
}

/** What a bulk decision did: how many posts were decided, and why the others were not. */
interface BulkOutcome {
  done: number;
  refused: { id: string; excerpt: string; detail: string }[];
}

/** Decide several selected posts at once: works as a plain form, without JavaScript. */
function BulkPanel(props: { channels: BulkChannel[] }) {
  const { t } = useEnv();
  return (
    <fieldset class="card bulk" data-bulk>
      <legend>{t.inbox.bulkTitle}</legend>
      <p class="muted">{t.inbox.bulkHint}</p>
      <div class="field" role="radiogroup" aria-label={t.inbox.bulkAction}>
        {BULK_ACTIONS.map((action, index) => (
          <label class="check">
            <input type="radio" name="action" value={action} checked={index === 0} />{' '}
            {t.inbox.bulkActions[action]}
          </label>
        ))}
      </div>
      {props.channels.length > 0 ? (
        <fieldset class="field">
          <legend>{t.inbox.bulkChannels}</legend>
          {props.channels.map((channel) => (
            <label class="check">
              <input type="checkbox" name="channel" value={channel.id} /> {channel.name} (
              <PlatformName platform={channel.platform} />)
            </label>
          ))}
          <label class="check">
            <input type="radio" name="at" value="slot" checked /> {t.inbox.bulkAtSlot}
          </label>
          <label class="check">
            <input type="radio" name="at" value="now" /> {t.review.now}
          </label>
        </fieldset>
      ) : null}
      <Field id="bulk-note" label={t.inbox.bulkNote}>
        <textarea id="bulk-note" name="note" rows={2} maxLength={5000} />
      </Field>
      <button type="submit" class="button primary">
        {t.inbox.bulkButton}
      </button>
    </fieldset>
  );
}

function BulkSummary(props: { outcome: BulkOutcome }) {
  const { t } = useEnv();
  const { outcome } = props;
  return (
    <section class={outcome.refused.length > 0 ? 'alert alert-error' : 'alert alert-ok'} data-bulk-outcome>
      <p>{t.inbox.bulkDone(outcome.done)}</p>
      {outcome.refused.length > 0 ? (
        <>
          <p>{t.inbox.bulkRefused(outcome.refused.length)}</p>
          <ul>
            {outcome.refused.map((r) => (
              <li data-refused={r.id}>
                <a href={`/review/${r.id}`}>
                  <Excerpt text={r.excerpt} max={80} />
                </a>
                : {r.detail}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

function InboxPage(props: {
  inbox: Inbox;
  units: UnitRow[];
  unit?: string;
  platform?: Platform;
  q?: string;
  forwarded: boolean;
  notice?: string | null;
  error?: string | null;
  bulkChannels: BulkChannel[];
  bulk?: BulkOutcome;
}) {
  const { t } = useEnv();
  const { inbox } = props;
  const items = inbox.items;
  const query = new URLSearchParams();
  if (props.unit) query.set('unit', props.unit);
  if (props.platform) query.set('platform', props.platform);
  if (props.q) query.set('q', props.q);
  if (props.forwarded) query.set('forwarded', '1');
  return (
    <Layout title={t.inbox.title} notice={props.notice} error={props.error}>
      <p class="lead" data-total={inbox.total}>
        {t.inbox.waiting(inbox.total)}
      </p>
      <form method="get" action="/inbox" class="filters">
        <div class="field">
          <label for="unit">{t.inbox.unit}</label>
          <select id="unit" name="unit">
            <option value="">{t.common.all}</option>
            {props.units.map((u) => (
              <option value={u.id} selected={u.id === props.unit}>
                {u.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="platform">{t.inbox.platform}</label>
          <select id="platform" name="platform" aria-describedby="platform-hint">
            <option value="">{t.common.all}</option>
            {PLATFORMS.map((p) => (
              <option value={p} selected={p === props.platform}>
                {t.platform[p]}
              </option>
            ))}
          </select>
          <small class="hint" id="platform-hint">
            {t.inbox.platformHint}
          </small>
        </div>
        <div class="field">
          <label for="q">{t.posts.search}</label>
          <input id="q" name="q" type="search" value={props.q ?? ''} />
        </div>
        <label class="check">
          <input type="checkbox" name="forwarded" value="1" checked={props.forwarded} />{' '}
          {t.inbox.onlyForwarded}
        </label>
        <button type="submit" class="button">
          {t.common.filter}
        </button>
      </form>
      {inbox.units.length > 0 ? (
        <details class="counts">
          <summary>{t.inbox.perUnit}</summary>
          <table>
            <thead>
              <tr>
                <th scope="col">{t.inbox.unit}</th>
                <th scope="col">{t.inbox.count}</th>
                <th scope="col">{t.inbox.oldest}</th>
              </tr>
            </thead>
            <tbody>
              {inbox.units.map((row) => (
                <tr>
                  <td>
                    <a href={`/inbox?unit=${row.unit.id}`}>{row.unit.name}</a>
                  </td>
                  <td>{row.count}</td>
                  <td>
                    <Age seconds={row.oldestAgeSeconds} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ) : null}
      {props.bulk ? <BulkSummary outcome={props.bulk} /> : null}
      {items.length === 0 ? <p class="empty">{t.inbox.empty}</p> : null}
      <form method="post" action="/inbox/bulk" id="bulk-form">
        <Csrf />
        <ol class="list inbox" data-inbox>
          {items.map((item) => (
            <li class="item" data-post={item.id}>
              <input
                type="checkbox"
                name="post"
                value={`${item.id}:${item.version}`}
                aria-label={t.inbox.select(item.unit.name)}
                data-select
              />
              {item.thumbnailMediaId ? (
                <img
                  class="thumb"
                  src={`/api/v1/media/${item.thumbnailMediaId}/thumbnail`}
                  alt=""
                  width={64}
                  height={64}
                  loading="lazy"
                />
              ) : null}
              <a href={`/review/${item.id}`} class="item-title" data-item>
                <Excerpt text={item.body || t.posts.untitled} max={200} />
              </a>
              <div class="meta">
                {item.arrival === 'forwarded' ? (
                  <>
                    <span class="badge" data-forwarded>
                      {t.inbox.forwarded}
                    </span>{' '}
                  </>
                ) : null}
                {item.overdue ? (
                  <>
                    <span class="badge badge-overdue" data-overdue title={t.inbox.overdueHint}>
                      {t.inbox.overdue}
                    </span>{' '}
                  </>
                ) : null}
                {item.unit.name} · {item.author.name} · <Time at={item.submittedAt} /> ·{' '}
                <Age seconds={item.ageSeconds} />
                {item.sourcePlatform ? (
                  <>
                    {' · '}
                    <PlatformName platform={item.sourcePlatform} />
                  </>
                ) : null}
              </div>
              <LevelDecisions decisions={item.decisions} />
            </li>
          ))}
        </ol>
        {items.length > 0 ? <BulkPanel channels={props.bulkChannels} /> : null}
      </form>
      {inbox.nextCursor ? (
        <nav class="pager" aria-label={t.common.pages}>
          <a
            href={`/inbox?${query.toString()}${query.size ? '&' : ''}cursor=${encodeURIComponent(inbox.nextCursor)}`}
            rel="next"
          >
            {t.common.nextPage}
          </a>
        </nav>
      ) : null}
      <Shortcuts
        keys={[
          ['j', t.shortcuts.next],
          ['k', t.shortcuts.previous],
          ['Enter', t.shortcuts.open],
        ]}
      />
    </Layout>
  );
}

// ---------------------------------------------------------------------------------------------
// Review

type DecisionForm = Record<string, string | string[]>;

interface TargetView {
  target: TargetChannel;
  report: TargetReport;
  nextSlot: Date | null;
  /** Blackouts over the channel from now on: a time chosen inside one does not publish until it ends. */
  blackouts: ChannelBlackout[];
}

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
          <select id={`mode_${id}`} name={`mode_${id}`}>
            {DELIVERY_MODES.map((mode) => (
              <option value={mode} selected={(value('mode') ?? 'copy') === mode}>
                {t.deliveryMode[mode]}
              </option>
            ))}
          </select>
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
  channel: TargetView['target']['channel'];
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
function TargetList(props: {
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
function PostTargets(props: {
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

/** The reviewer's level on this post: what it did so far, and the level a forward would reach. */
interface LevelContext {
  unit: LevelUnit;
  state: LevelState | null;
  above: LevelUnit | null;
}

function LevelStepForm(props: { post: PostView; step: 'pass' | 'forward'; above: LevelUnit | null }) {
  const { t } = useEnv();
  const { post, step } = props;
  return (
    <form method="post" action={`/review/${post.id}/${step}`} class="card" id={step}>
      <Csrf />
      <input type="hidden" name="version" value={String(post.version)} />
      <h3>{step === 'pass' ? t.review.pass : t.review.forward(props.above?.name ?? '')}</h3>
      <Field id={`${step}-note`} label={step === 'pass' ? t.review.passNote : t.review.forwardNote}>
        <textarea id={`${step}-note`} name="note" rows={2} maxLength={5000} />
      </Field>
      <button type="submit" class="button">
        {step === 'pass' ? t.review.passButton : t.review.forwardButton}
      </button>
    </form>
  );
}

/** Request changes or reject: post-wide, with the required text the office reads. */
function SendBackForm(props: { post: PostView; step: 'request-changes' | 'reject'; errors?: FieldError[] }) {
  const { t } = useEnv();
  const changes = props.step === 'request-changes';
  const field = changes ? 'comment' : 'reason';
  const id = changes ? 'changes-comment' : 'reject-reason';
  return (
    <form method="post" action={`/review/${props.post.id}/${props.step}`} class="card" id={props.step}>
      <Csrf />
      <input type="hidden" name="version" value={String(props.post.version)} />
      <h3>{changes ? t.review.requestChanges : t.review.reject}</h3>
      <Field
        id={id}
        label={changes ? t.review.changesComment : t.review.rejectReason}
        field={field}
        errors={props.errors}
      >
        <textarea
          id={id}
          name={field}
          rows={3}
          maxLength={5000}
          required
          data-shortcut={changes ? 'c' : 'r'}
        />
      </Field>
      <button type="submit" class={changes ? 'button' : 'button danger'}>
        {changes ? t.review.requestChangesButton : t.review.rejectButton} <kbd>{changes ? 'c' : 'r'}</kbd>
      </button>
    </form>
  );
}

function ReviewPage(props: {
  level: LevelContext;
  /** The post's unit, which the retract button's permission check is decided on. */
  unitPath: string;
  decisions: LevelDecisionView[];
  post: PostView;
  events: Awaited<ReturnType<typeof listPostEvents>>;
  targets: TargetView[];
  /** Deliveries of an approved post the reviewer may cancel. */
  cancellable: ReadonlySet<string>;
  form: DecisionForm;
  targetIssues: Map<string, ValidationIssue[]>;
  neighbours: { previous: string | null; next: string | null };
  errors?: FieldError[];
  error?: string | null;
  notice?: string | null;
}) {
  const { t } = useEnv();
  const { post, level } = props;
  const comments = props.events.filter((e) => e.body);
  const open = post.status === 'submitted' || post.status === 'approved';
  const decision = level.state?.decision ?? null;
  const forward =
    open && level.above && !level.state?.forwardedAt ? (
      <LevelStepForm post={post} step="forward" above={level.above} />
    ) : null;
  // Request changes and reject send the post back: only while no level has fanned it out.
  const postWide = post.status === 'submitted' && post.deliveries.length === 0;
  return (
    <Layout title={t.review.title} error={props.error} notice={props.notice} wide>
      <nav class="neighbours" aria-label={t.review.neighbours}>
        <a href="/inbox">{t.review.backToInbox}</a>
        {props.neighbours.previous ? (
          <a href={`/review/${props.neighbours.previous}`} data-shortcut="k" rel="prev">
            {t.shortcuts.previous}
          </a>
        ) : null}
        {props.neighbours.next ? (
          <a href={`/review/${props.neighbours.next}`} data-shortcut="j" rel="next">
            {t.shortcuts.next}
          </a>
        ) : null}
      </nav>
      <div class="review">
        <section class="review-post" aria-labelledby="post-title">
          <h2 id="post-title">
            {t.review.submission} <PostStatusBadge status={post.status} />
          </h2>
          <PostBody post={post} />
          <div class="actions">
            <RetractAction post={post} unitPath={props.unitPath} />
          </div>
          {comments.length > 0 ? (
            <>
              <h3>{t.review.thread}</h3>
              <ul class="thread">
                {comments.map((c) => (
                  <li>
                    <div class="meta">
                      {c.kind === 'edit' && c.data.mediaId
                        ? t.timeline.altTextEdited(c.actor?.name ?? t.timeline.system)
                        : (c.actor?.name ?? t.timeline.system)}{' '}
                      · <Time at={c.createdAt} />
                    </div>
                    <p class="comment">{c.body}</p>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {props.decisions.length > 0 ? (
            <>
              <h3>{t.review.levels}</h3>
              <LevelDecisions decisions={props.decisions} />
            </>
          ) : null}
          {decision === 'approved' ? null : <PostDeliveries post={post} />}
        </section>
        {open && decision === null ? (
          <section class="review-decide" aria-labelledby="decide-title">
            <h2 id="decide-title">{t.review.levelTitle(level.unit.name)}</h2>
            <form method="post" action={`/review/${post.id}/approve`} class="card" id="approve">
              <Csrf />
              <input type="hidden" name="version" value={String(post.version)} />
              <h3>{t.review.approve}</h3>
              {props.targets.length === 0 ? <p class="muted">{t.review.noTargets}</p> : null}
              <TargetList
                targets={props.targets}
                form={props.form}
                targetIssues={props.targetIssues}
                errors={props.errors}
                post={post}
              />
              <Field id="approve-comment" label={t.review.approveComment}>
                <textarea id="approve-comment" name="comment" rows={2} maxLength={5000}>
                  {one(props.form.comment) ?? ''}
                </textarea>
              </Field>
              <button type="submit" class="button primary" data-shortcut="a">
                {t.review.approveButton} <kbd>a</kbd>
              </button>
            </form>
            <LevelStepForm post={post} step="pass" above={null} />
            {forward}
            {postWide ? (
              <>
                <SendBackForm post={post} step="request-changes" errors={props.errors} />
                <SendBackForm post={post} step="reject" errors={props.errors} />
              </>
            ) : null}
            <Shortcuts
              keys={[
                ['a', t.shortcuts.approve],
                ['c', t.shortcuts.requestChanges],
                ['r', t.shortcuts.reject],
                ['j', t.shortcuts.next],
                ['k', t.shortcuts.previous],
              ]}
            />
          </section>
        ) : decision === 'approved' ? (
          <div>
            <p class="muted">{t.review.levelApproved}</p>
            <PostTargets
              post={post}
              targets={props.targets}
              cancellable={props.cancellable}
              form={props.form}
              targetIssues={props.targetIssues}
              errors={props.errors}
            />
            {forward ?? (level.state?.forwardedAt ? <p class="muted">{t.review.levelForwarded}</p> : null)}
          </div>
        ) : decision === 'passed' ? (
          <div>
            <p class="muted">{t.review.levelPassed}</p>
            {forward}
          </div>
        ) : (
          <p class="muted">{t.review.decided}</p>
        )}
      </div>
    </Layout>
  );
}

/** How far ahead the approve screen names the blackouts over a channel. */
const BLACKOUT_NOTICE_DAYS = 60;

const DECISION_FIELDS =
  /^(_csrf|version|comment|reason|note|(on|mode|at|time|text|tiktokPrivacy|tiktokComment|tiktokDuet|tiktokStitch)_[0-9a-f-]{36})$/;
const decisionForm = patternForm(DECISION_FIELDS);
const idParams = z.strictObject({ id: z.uuid() });

/** Where a done action goes: a page with its `?ok=` notice. */
const okAt = (path: string, notice: keyof Messages['notices']) => `${path}?ok=${notice}`;

/** The targets of the approve or add-channels form; a missing or unreadable time refuses it (400). */
function readTargets(form: DecisionForm, zone: string, t: Messages): TargetInput[] {
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
function targetIssuesOf(error: AppError): Map<string, ValidationIssue[]> {
  const reports = (error.extra?.targets ?? []) as { channelId: string; issues: ValidationIssue[] }[];
  return new Map(reports.map((r) => [r.channelId, r.issues]));
}

export const reviewPages: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  /** The channels the reviewer may publish to, each with its rendering of this post and its next free slot. */
  const targetViews = async (actor: Actor, facts: PostFacts): Promise<TargetView[]> => {
    const visible = await listChannels(ctx, actor, {});
    const found = await loadTargetChannels(
      ctx.db,
      visible.map((c) => c.id),
    );
    const targets = [...found.values()]
      .filter(
        (entry) => decide(actor, 'channel.target', { type: 'channel', unitPath: entry.unitPath }) === 'allow',
      )
      .sort(
        (a, b) =>
          a.channel.platform.localeCompare(b.channel.platform) ||
          a.channel.name.localeCompare(b.channel.name),
      );
    const reports = await previewTargets(ctx, facts, targets, 'copy');
    const now = ctx.now();
    const week = new Date(now.getTime() + 14 * 86_400_000);
    const blackouts = await blackoutsOver(
      ctx,
      targets.map((target) => target.channel.id),
      now,
      new Date(now.getTime() + BLACKOUT_NOTICE_DAYS * 86_400_000),
    );
    return Promise.all(
      targets.map(async (target, index) => ({
        target,
        report: reports[index]!,
        nextSlot: (await channelFreeSlots(ctx, target.channel, now, week))[0] ?? null,
        blackouts: blackouts.filter((blackout) => blackout.channelId === target.channel.id),
      })),
    );
  };

  /** The deliveries of the post the reviewer may cancel: those of channels they control, if not out yet. */
  const cancellableDeliveries = async (actor: Actor, facts: PostFacts, post: PostView) => {
    const channels = await loadTargetChannels(
      ctx.db,
      post.deliveries.map((d) => d.channelId),
    );
    return new Set(
      post.deliveries
        .filter((d) => {
          const channel = channels.get(d.channelId);
          return (
            channel !== undefined &&
            allowedDeliveryEvents(d.status).includes('cancel') &&
            decide(
              actor,
              'delivery.manage',
              deliveryResource({ channelUnitPath: channel.unitPath, postUnitPath: facts.unitPath }),
            ) === 'allow'
          );
        })
        .map((d) => d.id),
    );
  };

  const showReview = async (
    request: FastifyRequest,
    reply: FastifyReply,
    postId: string,
    extra: {
      form?: DecisionForm;
      errors?: FieldError[];
      error?: string | null;
      targetIssues?: Map<string, ValidationIssue[]>;
      status?: number;
      notice?: string | null;
    } = {},
  ) => {
    const actor = requireActor(request);
    const facts = await postFacts(ctx.db, postId);
    authorize(actor, 'post.review', postResource(facts), 'Post');
    const above = levelAbove(actor.unitPath);
    const [post, events, targets, inbox, unit, state, aboveUnit, decisions] = await Promise.all([
      loadPostView(ctx.db, facts.id),
      listPostEvents(ctx.db, facts.id),
      targetViews(actor, facts),
      reviewInbox(ctx, { levelId: actor.unitId, limit: 200 }),
      loadLevelUnit(ctx.db, actor.unitId),
      levelState(ctx.db, facts.id, actor.unitId),
      above ? loadLevelUnit(ctx.db, above) : null,
      levelDecisions(ctx.db, [facts.id]),
    ]);
    // Channels the post already has a delivery on cannot be added again.
    const taken = new Set(post.deliveries.map((d) => d.channelId));
    const cancellable = await cancellableDeliveries(actor, facts, post);
    const index = inbox.items.findIndex((item) => item.id === facts.id);
    const neighbours =
      index >= 0
        ? { previous: inbox.items[index - 1]?.id ?? null, next: inbox.items[index + 1]?.id ?? null }
        : { previous: null, next: inbox.items[0]?.id ?? null };
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <ReviewPage
        level={{ unit, state, above: aboveUnit }}
        unitPath={facts.unitPath}
        decisions={(decisions.get(facts.id) ?? []).filter((d) => d.unit.id !== actor.unitId)}
        post={post}
        events={events}
        targets={targets.filter((view) => !taken.has(view.target.channel.id))}
        cancellable={cancellable}
        form={extra.form ?? {}}
        targetIssues={extra.targetIssues ?? new Map()}
        neighbours={neighbours}
        errors={extra.errors}
        error={extra.error}
        notice={extra.notice}
      />,
      extra.status ?? 200,
    );
  };

  const inboxQuery = z.strictObject({
    unit: z.union([z.uuid(), z.literal('')]).optional(),
    platform: z.union([z.enum(PLATFORMS), z.literal('')]).optional(),
    q: z.string().trim().max(200).optional(),
    forwarded: z.literal('1').optional(),
    cursor: z.string().max(200).optional(),
    ok: z.string().max(40).optional(),
  });

  /** The channels a reviewer may approve to from the inbox: their own level's that they may target. */
  const bulkChannels = async (actor: Actor): Promise<BulkChannel[]> => {
    const visible = await listChannels(ctx, actor, {});
    const found = await loadTargetChannels(
      ctx.db,
      visible.map((c) => c.id),
    );
    return [...found.values()]
      .filter(
        (entry) =>
          entry.channel.unitId === actor.unitId &&
          decide(actor, 'channel.target', { type: 'channel', unitPath: entry.unitPath }) === 'allow',
      )
      .map((entry) => ({ id: entry.channel.id, name: entry.channel.name, platform: entry.channel.platform }))
      .sort((a, b) => a.platform.localeCompare(b.platform) || a.name.localeCompare(b.name));
  };

  const showInbox = async (
    request: FastifyRequest,
    reply: FastifyReply,
    query: z.infer<typeof inboxQuery>,
    bulk?: BulkOutcome,
    refusal?: { error: string; status: number },
  ) => {
    const actor = requireActor(request);
    const unit = query.unit || undefined;
    const forwarded = query.forwarded === '1';
    const scopePath = unit ? (await loadUnit(ctx, unit)).path : actor.unitPath;
    authorize(
      actor,
      'post.review',
      { type: 'post', unitPath: scopePath, authorId: actor.userId, status: 'submitted', submitted: true },
      'Unit',
    );
    const q = blank(query.q);
    const platform = query.platform || undefined;
    const [inbox, units, channels] = await Promise.all([
      reviewInbox(ctx, {
        levelId: actor.unitId,
        scopePath: unit ? scopePath : undefined,
        q,
        platform,
        forwarded,
        cursor: query.cursor,
        limit: 50,
      }),
      listVisibleUnits(ctx, actor),
      bulkChannels(actor),
    ]);
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <InboxPage
        inbox={inbox}
        units={units.filter((u) => contains(actor.unitPath, u.path))}
        unit={unit}
        platform={platform}
        q={q}
        forwarded={forwarded}
        notice={noticeOf(env.t, query.ok)}
        bulkChannels={channels}
        bulk={bulk}
        error={refusal?.error}
      />,
      refusal?.status ?? 200,
    );
  };

  app.get('/inbox', { schema: { hide: true, querystring: inboxQuery } }, async (request, reply) =>
    showInbox(request, reply, request.query),
  );

  /** Several selected posts decided together; each is decided on its own (see `decideInBulk`). */
  app.post(
    '/inbox/bulk',
    { schema: { hide: true, body: patternForm(/^(_csrf|action|post|channel|at|note)$/) } },
    async (request, reply) => {
      const actor = requireActor(request);
      const form = request.body;
      const { t } = await kit.env(request, reply);
      const action = one(form.action) as BulkAction | undefined;
      const errors: FieldError[] = [];
      if (!action || !BULK_ACTIONS.includes(action))
        errors.push({ field: 'action', message: t.fieldProblems.invalid_format, code: 'invalid' });
      const posts = many(form.post).map((value) => {
        const [id, version] = value.split(':');
        return { id: id ?? '', version: Number(version) };
      });
      if (posts.length === 0 || posts.length > MAX_BULK_POSTS)
        errors.push({ field: 'post', message: t.inbox.bulkSelect, code: 'no_posts' });
      else if (posts.some((p) => !z.uuid().safeParse(p.id).success || !Number.isInteger(p.version)))
        errors.push({ field: 'post', message: t.fieldProblems.invalid_format, code: 'invalid' });
      const channels = [...new Set(many(form.channel))];
      if (channels.some((id) => !z.uuid().safeParse(id).success))
        errors.push({ field: 'channel', message: t.fieldProblems.invalid_format, code: 'invalid' });
      else if (action === 'approve' && channels.length === 0)
        errors.push({ field: 'channel', message: t.fieldProblems.no_targets, code: 'no_targets' });
      // Refused as a whole: the inbox again, saying what to fix (nothing was decided).
      if (errors.length > 0 || !action)
        return showInbox(request, reply, {}, undefined, {
          error: [t.problems.validation_failed, ...errors.map((e) => e.message)].join(' '),
          status: 400,
        });
      const at = one(form.at) === 'now' ? 'now' : 'next-slot';
      const results = await decideInBulk(ctx, actor, {
        action,
        posts: [...new Map(posts.map((p) => [p.id, p])).values()],
        targets:
          action === 'approve' ? channels.map((channelId) => ({ channelId, mode: 'copy', at })) : undefined,
        note: blank(one(form.note)) ?? null,
      });
      const refused = results.filter((r) => r.status !== 200);
      // Only posts the reviewer may see are shown with their text.
      const readable = refused.filter((r) => r.status !== 403 && r.status !== 404);
      const excerpts = new Map(
        readable.length === 0
          ? []
          : (await Promise.all(readable.map((r) => loadPostView(ctx.db, r.id).catch(() => null)))).flatMap(
              (view) => (view ? [[view.id, view.body] as const] : []),
            ),
      );
      return showInbox(
        request,
        reply,
        {},
        {
          done: results.length - refused.length,
          refused: refused.map((r) => ({
            id: r.id,
            excerpt: excerpts.get(r.id) ?? r.id,
            detail: r.detail ?? r.code ?? String(r.status),
          })),
        },
      );
    },
  );

  app.get(
    '/review/:id',
    {
      schema: {
        hide: true,
        params: idParams,
        querystring: z.strictObject({ ok: z.string().max(40).optional() }),
      },
    },
    async (request, reply) => {
      const env = await kit.env(request, reply);
      return showReview(request, reply, request.params.id, { notice: noticeOf(env.t, request.query.ok) });
    },
  );

  /** An action of the review page, already authorised: done → `done`; refused → the page again as it was. */
  const respond = async (
    request: FastifyRequest,
    reply: FastifyReply,
    postId: string,
    form: DecisionForm,
    done: string,
    work: () => Promise<unknown>,
  ) => {
    try {
      await work();
      return reply.redirect(done, 303);
    } catch (error) {
      if (!isUserError(error) || error.status === 404) throw error;
      const env = await kit.env(request, reply);
      return showReview(request, reply, postId, {
        form,
        errors: fieldErrorsOf(env.t, error),
        error: problemText(env.t, error),
        targetIssues: error.code === 'invalid_targets' ? targetIssuesOf(error) : undefined,
        status: error.status,
      });
    }
  };

  /** A reviewer's step on the post (a decision, or more channels), authorised as the API does. */
  const decide_ = async (
    request: FastifyRequest,
    reply: FastifyReply,
    postId: string,
    form: DecisionForm,
    done: string,
    work: (actor: Actor, facts: PostFacts) => Promise<unknown>,
  ) => {
    const actor = requireActor(request);
    const facts = await postFacts(ctx.db, postId);
    authorize(actor, 'post.review', postResource(facts), 'Post');
    return respond(request, reply, facts.id, form, done, () => work(actor, facts));
  };

  const versionOf = (form: DecisionForm) => Number(one(form.version));

  app.post(
    '/review/:id/approve',
    { schema: { hide: true, params: idParams, body: decisionForm } },
    async (request, reply) => {
      const form = request.body;
      return decide_(
        request,
        reply,
        request.params.id,
        form,
        okAt('/inbox', 'approved'),
        async (actor, facts) => {
          const env = await kit.env(request, reply);
          await approvePost(ctx, actor, facts, {
            version: versionOf(form),
            targets: readTargets(form, env.zone, env.t),
            comment: blank(one(form.comment)),
          });
        },
      );
    },
  );

  app.post(
    '/review/:id/targets',
    { schema: { hide: true, params: idParams, body: decisionForm } },
    async (request, reply) => {
      const form = request.body;
      const { id } = request.params;
      return decide_(
        request,
        reply,
        id,
        form,
        okAt(`/review/${id}`, 'targetsAdded'),
        async (actor, facts) => {
          const env = await kit.env(request, reply);
          await addTargets(ctx, actor, facts, {
            version: versionOf(form),
            targets: readTargets(form, env.zone, env.t),
          });
        },
      );
    },
  );

  app.post(
    '/review/:id/targets/:channelId/cancel',
    {
      schema: {
        hide: true,
        params: z.strictObject({ id: z.uuid(), channelId: z.uuid() }),
        body: z.strictObject({ _csrf: z.string().max(200), version: z.coerce.number().int().min(1) }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const facts = await postFacts(ctx.db, request.params.id);
      authorize(actor, 'post.read', postResource(facts), 'Post');
      const delivery = await deliveryFacts(
        ctx.db,
        await deliveryIdFor(ctx.db, facts.id, request.params.channelId),
      );
      authorize(actor, 'delivery.manage', deliveryResource(delivery), 'Delivery');
      return respond(request, reply, facts.id, {}, okAt(`/review/${facts.id}`, 'cancelled'), () =>
        cancelDelivery(ctx, actor, delivery, request.body.version),
      );
    },
  );

  /** The text of a required field of a decision form, or a 400 naming the field. */
  const requiredText = async (
    request: FastifyRequest,
    reply: FastifyReply,
    form: Record<string, string | string[] | undefined>,
    field: 'comment' | 'reason',
  ): Promise<string> => {
    const text = blank(one(form[field]));
    if (text) return text;
    const { t } = await kit.env(request, reply);
    throw new AppError('validation_failed', 400, t.problems.validation_failed, {
      errors: [{ field, message: t.fieldProblems.required, code: 'required' }],
    });
  };

  for (const [step, run, notice] of [
    ['pass', passPost, 'passed'],
    ['forward', forwardPost, 'forwarded'],
  ] as const)
    app.post(
      `/review/:id/${step}`,
      { schema: { hide: true, params: idParams, body: decisionForm } },
      async (request, reply) => {
        const form = request.body;
        return decide_(request, reply, request.params.id, form, okAt('/inbox', notice), (actor, facts) =>
          run(ctx, actor, facts, versionOf(form), blank(one(form.note)) ?? null),
        );
      },
    );

  app.post(
    '/review/:id/request-changes',
    { schema: { hide: true, params: idParams, body: decisionForm } },
    async (request, reply) => {
      const form = request.body;
      return decide_(
        request,
        reply,
        request.params.id,
        form,
        okAt('/inbox', 'changesRequested'),
        async (actor, facts) => {
          const comment = await requiredText(request, reply, form, 'comment');
          await requestChanges(ctx, actor, facts, versionOf(form), comment);
        },
      );
    },
  );

  app.post(
    '/review/:id/reject',
    { schema: { hide: true, params: idParams, body: decisionForm } },
    async (request, reply) => {
      const form = request.body;
      return decide_(
        request,
        reply,
        request.params.id,
        form,
        okAt('/inbox', 'rejected'),
        async (actor, facts) => {
          const reason = await requiredText(request, reply, form, 'reason');
          await rejectPost(ctx, actor, facts, versionOf(form), reason);
        },
      );
    },
  );
};
