import type { ComponentChildren } from 'preact';
import type { FieldError } from '../../domain/errors';
import { decide } from '../../domain/permissions';
import { transitionPost } from '../../domain/post-machine';
import type { PostStatus } from '../../domain/vocabulary';
import { COMMENT_MAX, WITHDRAW_REASON_MAX } from '../../schemas/posts';
import type { PostEventView, PostView } from '../../services/posts';
import {
  ActionButton,
  Csrf,
  DeliveryStatusBadge,
  ExternalLink,
  Field,
  PlatformName,
  PostStatusBadge,
  Time,
} from '../components';
import { useEnv } from '../env';
import { Layout } from '../layout';
import { DeliveryFigures, type DeliveryFiguresData } from '../reports/delivery-figures';
import { RetractAction } from '../retraction';

/** One post: its content, actions, deliveries with their figures, and timeline with comments. */

const editable = (status: PostStatus) => transitionPost(status, 'edit').ok;

function Timeline(props: { events: PostEventView[] }) {
  const { t } = useEnv();
  return (
    <ol class="timeline">
      {props.events.map((event) => {
        const who = event.actor?.name ?? t.timeline.system;
        const data = event.data;
        const channel = typeof data.channelName === 'string' ? data.channelName : '';
        let line: string;
        if (event.kind === 'comment') line = t.timeline.comment(who);
        else if (event.kind === 'edit')
          line = data.created
            ? t.timeline.created(who)
            : data.mediaId
              ? t.timeline.altTextEdited(who)
              : t.timeline.edited(who);
        else if (event.kind === 'transition') {
          const level = (data.level as { name?: string } | undefined)?.name;
          const status = event.toStatus ? t.postStatus[event.toStatus] : '';
          if (level && data.event === 'pass') line = t.timeline.passed(who, level);
          else if (level && data.event === 'forward')
            line = t.timeline.forwarded(who, level, (data.to as { name?: string } | undefined)?.name ?? '');
          else line = level ? t.timeline.decidedAt(who, level, status) : t.timeline.transition(who, status);
        } else if (data.change === 'scheduled') line = t.timeline.scheduled(channel);
        else if (data.outcome === 'published') line = t.timeline.published(channel);
        else if (data.outcome === 'failed') line = t.timeline.failed(channel);
        else line = t.timeline.attention(channel);
        return (
          <li class={`event event-${event.kind}`}>
            <div class="meta">
              <Time at={event.createdAt} /> · {line}
            </div>
            {event.body ? <p class="comment">{event.body}</p> : null}
            {typeof data.url === 'string' ? (
              <p>
                <ExternalLink href={data.url} />
              </p>
            ) : null}
            {typeof data.dueAt === 'string' ? (
              <p class="muted">
                <Time at={data.dueAt} />
              </p>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

export function PostBody(props: { post: PostView }) {
  const { t } = useEnv();
  const { post } = props;
  return (
    <div class="post-body">
      <p class="text">{post.body}</p>
      {post.media.length > 0 ? (
        <ul class="thumbs">
          {post.media.map((m) => (
            <li>
              <img
                src={`/api/v1/media/${m.id}/thumbnail`}
                alt={m.altText}
                width={120}
                height={120}
                loading="lazy"
              />
              <small>{m.altText ? m.altText : t.post.noAlt}</small>
            </li>
          ))}
        </ul>
      ) : null}
      <dl class="facts">
        {post.sourceUrl ? (
          <>
            <dt>{t.editor.sourceUrl}</dt>
            <dd>
              <ExternalLink href={post.sourceUrl} />
            </dd>
          </>
        ) : null}
        {post.link ? (
          <>
            <dt>{t.editor.link}</dt>
            <dd>
              <ExternalLink href={post.link} />
            </dd>
          </>
        ) : null}
        {post.tags.length > 0 ? (
          <>
            <dt>{t.editor.tags}</dt>
            <dd>{post.tags.map((tag) => `#${tag}`).join(' ')}</dd>
          </>
        ) : null}
        {post.preferredFrom || post.preferredTo ? (
          <>
            <dt>{t.editor.window}</dt>
            <dd>
              <Time at={post.preferredFrom} /> – <Time at={post.preferredTo} />
            </dd>
          </>
        ) : null}
        <dt>{t.post.from}</dt>
        <dd>
          {post.unit.name} · {post.author.name}
        </dd>
        <dt>{t.post.submitted}</dt>
        <dd>
          <Time at={post.submittedAt} />
        </dd>
      </dl>
    </div>
  );
}

/** One delivery of a post: status, platform, channel, its time, the link once out, the last error; `children` add actions. */
export function DeliveryItem(props: {
  delivery: PostView['deliveries'][number];
  children?: ComponentChildren;
}) {
  const { t } = useEnv();
  const d = props.delivery;
  return (
    <li class="item" data-delivery={d.id} data-platform={d.platform} data-status={d.status}>
      <div class="item-head">
        <DeliveryStatusBadge status={d.status} /> <PlatformName platform={d.platform} />{' '}
        <strong>{d.channelName}</strong>
      </div>
      <div class="meta">
        {d.status === 'published' ? <Time at={d.publishedAt} /> : <Time at={d.dueAt} />}
        {d.remoteUrl ? (
          <>
            {' · '}
            <ExternalLink href={d.remoteUrl}>{t.post.viewOnPlatform}</ExternalLink>
          </>
        ) : null}
      </div>
      {d.lastError && d.status !== 'published' ? <p class="error-text">{d.lastError}</p> : null}
      {props.children}
    </li>
  );
}

export function PostDeliveries(props: { post: PostView; figures?: Map<string, DeliveryFiguresData> }) {
  const { t } = useEnv();
  if (props.post.deliveries.length === 0) return null;
  return (
    <section aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">{t.post.deliveries}</h2>
      <ul class="list">
        {props.post.deliveries.map((d) => {
          const figures = props.figures?.get(d.id);
          return (
            <DeliveryItem delivery={d}>
              {figures ? <DeliveryFigures figures={figures} back={`/posts/${props.post.id}`} /> : null}
            </DeliveryItem>
          );
        })}
      </ul>
    </section>
  );
}

export function PostPage(props: {
  post: PostView;
  /** The post's unit, which the action buttons' permission checks are decided on. */
  unitPath: string;
  events: PostEventView[];
  notice?: string | null;
  error?: string | null;
  commentError?: FieldError[];
  figures: Map<string, DeliveryFiguresData>;
}) {
  const { t, actor } = useEnv();
  const { post } = props;
  const resource = {
    type: 'post' as const,
    unitPath: props.unitPath,
    authorId: post.author.id,
    status: post.status,
    submitted: post.submittedAt !== null,
  };
  const may = (action: 'post.update' | 'post.submit' | 'post.withdraw' | 'post.review' | 'post.comment') =>
    actor !== null && decide(actor, action, resource) === 'allow';
  return (
    <Layout title={t.post.title} notice={props.notice} error={props.error}>
      <p>
        <PostStatusBadge status={post.status} />
      </p>
      <PostBody post={post} />
      <div class="actions">
        {may('post.update') && editable(post.status) ? (
          <a class="button" href={`/posts/${post.id}/edit`}>
            {t.post.edit}
          </a>
        ) : null}
        {may('post.submit') && transitionPost(post.status, 'submit').ok ? (
          <ActionButton
            action={`/posts/${post.id}/submit`}
            label={t.post.submit}
            kind="primary"
            hidden={{ version: post.version }}
          />
        ) : null}
        {may('post.review') && (post.status === 'submitted' || post.status === 'approved') ? (
          <a class="button primary" href={`/review/${post.id}`}>
            {t.post.review}
          </a>
        ) : null}
        <RetractAction post={post} unitPath={props.unitPath} />
      </div>
      {may('post.withdraw') && transitionPost(post.status, 'withdraw').ok ? (
        <details class="card">
          <summary>{t.post.withdraw}</summary>
          <form method="post" action={`/posts/${post.id}/withdraw`}>
            <Csrf />
            <input type="hidden" name="version" value={String(post.version)} />
            <Field id="reason" label={t.post.withdrawReason}>
              <input id="reason" name="reason" maxLength={WITHDRAW_REASON_MAX} />
            </Field>
            <button type="submit" class="button danger">
              {t.post.withdraw}
            </button>
          </form>
        </details>
      ) : null}
      <PostDeliveries post={post} figures={props.figures} />
      <section aria-labelledby="timeline-title">
        <h2 id="timeline-title">{t.post.timeline}</h2>
        <Timeline events={props.events} />
        {may('post.comment') ? (
          <form method="post" action={`/posts/${post.id}/comments`} class="card">
            <Csrf />
            <Field id="comment" label={t.post.addComment} errors={props.commentError} field="body">
              <textarea id="comment" name="body" rows={3} maxLength={COMMENT_MAX} required />
            </Field>
            <button type="submit" class="button">
              {t.post.sendComment}
            </button>
          </form>
        ) : null}
      </section>
    </Layout>
  );
}
