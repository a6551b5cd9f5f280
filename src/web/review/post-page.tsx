import type { FieldError } from '../../domain/errors';
import type { ValidationIssue } from '../../domain/rendering';
import type { PostView } from '../../services/posts';
import type { LevelUnit } from '../../services/review-levels';
import type { OriginView, ReviewScreen } from '../../services/reviews/screen';
import { Csrf, ExternalLink, Field, PostStatusBadge, Time } from '../components';
import { useEnv } from '../env';
import { one } from '../kit';
import { Layout } from '../layout';
import { PostBody, PostDeliveries } from '../posts';
import { RetractAction } from '../retraction';
import { type DecisionForm, PostTargets, TargetList } from './approve';
import { LevelDecisions, Shortcuts } from './parts';

/** The review page of one post: the submission, where it came from, and the level's decisions. */

/**
 * Where a post a source brought in was first published: "originally on Instagram by
 * @kanim_pontianak, 2 h ago", a link to it, the media brought from it, and whether it still exists.
 */
function OriginPanel(props: { origin: OriginView; post: PostView }) {
  const { t, now } = useEnv();
  const { origin, post } = props;
  const platform = t.sources.kinds[origin.platform];
  const seconds = Math.max(0, Math.floor((now.getTime() - Date.parse(origin.publishedAt)) / 1000));
  return (
    <section class="origin card" data-origin={origin.platform} data-origin-state={origin.state}>
      <p>
        {t.review.originOn(platform, origin.authorHandle, t.review.ago(seconds))} (
        <Time at={origin.publishedAt} />)
        {origin.url ? (
          <>
            {' · '}
            <ExternalLink href={origin.url}>{t.review.originLink}</ExternalLink>
          </>
        ) : null}
      </p>
      {post.media.length > 0 ? (
        <p data-origin-media>
          {t.review.originMedia(post.media.length)}:{' '}
          {post.media.map((m, index) => (
            <>
              {index > 0 ? ', ' : ''}
              <a href={`/api/v1/media/${m.id}`}>{`${t.review.originMediaKind[m.kind]} ${index + 1}`}</a>
            </>
          ))}
        </p>
      ) : null}
      <p class={origin.state === 'deleted' ? 'alert alert-error' : 'muted'} data-origin-exists>
        {origin.state === 'deleted' ? (
          <>
            {t.review.originDeleted} (<Time at={origin.deletedAt} />)
          </>
        ) : origin.state === 'exists' ? (
          <>
            {t.review.originExists} (<Time at={origin.checkedAt} />)
          </>
        ) : origin.state === 'unchecked' ? (
          t.review.originUnchecked
        ) : (
          t.review.originUnknowable(platform)
        )}
      </p>
      {origin.platform === 'youtube' ? <p class="notice">{t.review.originYoutube}</p> : null}
    </section>
  );
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

export function ReviewPage(props: {
  screen: ReviewScreen;
  form: DecisionForm;
  targetIssues: Map<string, ValidationIssue[]>;
  errors?: FieldError[];
  error?: string | null;
  notice?: string | null;
}) {
  const { t } = useEnv();
  const { post, level, neighbours } = props.screen;
  const comments = props.screen.events.filter((e) => e.body);
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
        {neighbours.previous ? (
          <a href={`/review/${neighbours.previous}`} data-shortcut="k" rel="prev">
            {t.shortcuts.previous}
          </a>
        ) : null}
        {neighbours.next ? (
          <a href={`/review/${neighbours.next}`} data-shortcut="j" rel="next">
            {t.shortcuts.next}
          </a>
        ) : null}
      </nav>
      <div class="review">
        <section class="review-post" aria-labelledby="post-title">
          <h2 id="post-title">
            {t.review.submission} <PostStatusBadge status={post.status} />
          </h2>
          {props.screen.origin ? <OriginPanel origin={props.screen.origin} post={post} /> : null}
          <PostBody post={post} />
          <div class="actions">
            <RetractAction post={post} unitPath={props.screen.unitPath} />
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
          {props.screen.decisions.length > 0 ? (
            <>
              <h3>{t.review.levels}</h3>
              <LevelDecisions decisions={props.screen.decisions} />
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
              {props.screen.targets.length === 0 ? <p class="muted">{t.review.noTargets}</p> : null}
              <TargetList
                targets={props.screen.targets}
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
              targets={props.screen.targets}
              cancellable={props.screen.cancellable}
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
