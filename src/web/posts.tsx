import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ComponentChildren } from 'preact';
import { z } from 'zod';
import type { AppContext } from '../context';
import type { FieldError } from '../domain/errors';
import { type Actor, decide } from '../domain/permissions';
import { transitionPost } from '../domain/post-machine';
import { POST_STATUSES, type PostStatus } from '../domain/vocabulary';
import { requireActor } from '../http/auth';
import { ROUTE_LIMITS } from '../http/rate-limit';
import { COMMENT_MAX, commentBody, postContent, WITHDRAW_REASON_MAX } from '../schemas/posts';
import { type DeliverySummary, listDeliveries } from '../services/deliveries';
import { snapshotsOf } from '../services/delivery-metrics';
import { type ChannelPreview, previewDraft } from '../services/draft-preview';
import { unitMediaThumbnails, uploadMedia } from '../services/media';
import { listNotifications, markRead, type NotificationView } from '../services/notifications';
import {
  addComment,
  createPost,
  listPostEvents,
  listPosts,
  type PostContent,
  type PostEventView,
  type PostSummary,
  type PostView,
  readPost,
  submitPost,
  updatePost,
  withdrawPost,
} from '../services/posts';
import {
  ActionButton,
  Csrf,
  DeliveryStatusBadge,
  Excerpt,
  ExternalLink,
  Field,
  FieldErrors,
  IssueList,
  Pager,
  PlatformName,
  PostStatusBadge,
  Time,
} from './components';
import { type PageEnv, useEnv } from './env';
import { readFieldsBeforeFile, readFormWithUpload, registerFormUploads } from './form-upload';
import type { Messages } from './i18n/index';
import { blank, many, one, parseForm, patternForm, type WebOptions } from './kit';
import { Layout } from './layout';
import { fieldErrorsOf, isUserError, noticeOf, problemText } from './page';
import { DeliveryFigures, type DeliveryFiguresData } from './reports/delivery-figures';
import { RetractAction } from './retraction';
import { fromLocalInput, toLocalInput, zoneLabel } from './time';

/** The office's side: its posts, the editor with live per-channel counters, a post's page, notifications. */

const idParams = z.strictObject({ id: z.uuid() });
const okQuery = z.strictObject({ ok: z.string().max(40).optional() });

// ---------------------------------------------------------------------------------------------
// The list

function PostsPage(props: {
  items: PostSummary[];
  links: Map<string, DeliverySummary[]>;
  status?: PostStatus;
  q?: string;
  nextCursor: string | null;
  notice?: string | null;
}) {
  const { t } = useEnv();
  return (
    <Layout title={t.posts.title} notice={props.notice}>
      <p>
        <a class="button primary" href="/posts/new">
          {t.nav.newPost}
        </a>
      </p>
      <form method="get" action="/posts" class="filters">
        <div class="field">
          <label for="status">{t.posts.status}</label>
          <select id="status" name="status">
            <option value="">{t.common.all}</option>
            {POST_STATUSES.map((s) => (
              <option value={s} selected={s === props.status}>
                {t.postStatus[s]}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="q">{t.posts.search}</label>
          <input id="q" name="q" type="search" value={props.q ?? ''} />
        </div>
        <button type="submit" class="button">
          {t.common.filter}
        </button>
      </form>
      {props.items.length === 0 ? <p class="empty">{t.posts.empty}</p> : null}
      <ul class="list">
        {props.items.map((post) => (
          <li class="item">
            <div class="item-head">
              <PostStatusBadge status={post.status} />
              <a href={`/posts/${post.id}`} class="item-title">
                <Excerpt text={post.body || t.posts.untitled} max={140} />
              </a>
            </div>
            <div class="meta">
              {post.unit.name} · {post.author.name} · <Time at={post.submittedAt ?? post.createdAt} />
            </div>
            <PublishedLinks deliveries={props.links.get(post.id) ?? []} />
          </li>
        ))}
      </ul>
      <Pager base="/posts" query={{ status: props.status, q: props.q }} nextCursor={props.nextCursor} />
    </Layout>
  );
}

function PublishedLinks(props: {
  deliveries: { channel: { name: string }; remoteUrl: string | null; status: string }[];
}) {
  const { t } = useEnv();
  const published = props.deliveries.filter((d) => d.status === 'published' && d.remoteUrl);
  if (published.length === 0) return null;
  return (
    <p class="links">
      {t.posts.publishedOn}{' '}
      {published.map((d, index) => (
        <span>
          {index > 0 ? ', ' : ''}
          <ExternalLink href={d.remoteUrl}>{d.channel.name}</ExternalLink>
        </span>
      ))}
    </p>
  );
}

// ---------------------------------------------------------------------------------------------
// The editor

interface EditorMedium {
  id: string;
  altText: string;
  thumbnailUrl: string | null;
  kind: 'image' | 'video';
}

interface EditorValues {
  body: string;
  link: string;
  sourceUrl: string;
  tags: string;
  preferredFrom: string;
  preferredTo: string;
  media: EditorMedium[];
}

function ChannelPreviews(props: { previews: ChannelPreview[] }) {
  const { t } = useEnv();
  if (props.previews.length === 0) return <p class="muted">{t.editor.noChannels}</p>;
  return (
    <ul class="previews" id="previews" aria-live="polite">
      {props.previews.map((p) => (
        <li class="preview" data-channel={p.channelId} data-platform={p.platform}>
          <div class="preview-head">
            <PlatformName platform={p.platform} /> <span class="preview-name">{p.channelName}</span>
            <span class={`counter${p.over ? ' over' : ''}`} data-counter>
              <span data-used>{p.count.used}</span>/<span data-limit>{p.count.limit}</span>
            </span>
          </div>
          <details>
            <summary>{t.editor.showPreview}</summary>
            <pre class="rendered" data-text>
              {p.text}
            </pre>
          </details>
          <div data-issues>
            <IssueList issues={p.issues} />
          </div>
        </li>
      ))}
    </ul>
  );
}

function MediaItem(props: { medium: EditorMedium }) {
  const { t } = useEnv();
  const m = props.medium;
  const altId = `alt_${m.id}`;
  return (
    <li class="medium" data-medium={m.id}>
      <input type="hidden" name="media" value={m.id} />
      {m.thumbnailUrl ? (
        <img src={m.thumbnailUrl} alt="" width={96} height={96} loading="lazy" />
      ) : (
        <span class="thumb">{t.editor.video}</span>
      )}
      <div class="field">
        <label for={altId}>{t.editor.altText}</label>
        <input id={altId} name={altId} value={m.altText} maxLength={1500} />
      </div>
      <label class="check">
        <input type="checkbox" name="drop" value={m.id} /> {t.editor.removeMedium}
      </label>
    </li>
  );
}

function EditorPage(props: {
  post: PostView | null;
  values: EditorValues;
  previews: ChannelPreview[];
  errors?: FieldError[];
  error?: string | null;
}) {
  const { t, zone } = useEnv();
  const { post, values, errors } = props;
  const action = post ? `/posts/${post.id}` : '/posts';
  return (
    <Layout title={post ? t.editor.editTitle : t.editor.newTitle} error={props.error}>
      <form method="post" action={action} enctype="multipart/form-data" class="editor" data-editor>
        <Csrf />
        {post ? <input type="hidden" name="version" value={String(post.version)} /> : null}
        {/* Enter in a field submits the form's first button: let that be Save, not the attach button below. */}
        <button type="submit" name="intent" value="save" class="sr-only" tabIndex={-1} aria-hidden="true">
          {t.editor.save}
        </button>
        <Field id="body" label={t.editor.body} errors={errors} hint={t.editor.bodyHint}>
          <textarea id="body" name="body" rows={8} maxLength={65536}>
            {values.body}
          </textarea>
        </Field>
        <section aria-labelledby="counters-title" class="counters">
          <h2 id="counters-title">{t.editor.perChannel}</h2>
          <ChannelPreviews previews={props.previews} />
        </section>
        <section aria-labelledby="media-title" class="media-section">
          <h2 id="media-title">{t.editor.media}</h2>
          <ul class="media-list" id="media-list">
            {values.media.map((m) => (
              <MediaItem medium={m} />
            ))}
          </ul>
          <FieldErrors errors={errors} field="media" />
          <Field id="upload" label={t.editor.upload} hint={t.editor.uploadHint} errors={errors} field="file">
            <input id="upload" name="file" type="file" accept="image/*,video/*" data-upload />
          </Field>
          {/* Without JavaScript the chosen file goes with the form; this saves it and comes back here for its alt text. */}
          <p>
            <button type="submit" name="intent" value="attach" class="button" data-attach>
              {t.editor.attach}
            </button>
          </p>
          <template id="medium-template" data-failed={t.editor.uploadFailed}>
            <li class="medium">
              <input type="hidden" name="media" />
              <img alt="" width={96} height={96} hidden />
              <progress max={100} value={0} />
              <span class="upload-status" role="status" />
              <label class="field alt">
                {t.editor.altText}
                <input maxLength={1500} />
              </label>
              <button type="button" class="button plain" data-remove>
                {t.editor.removeMedium}
              </button>
            </li>
          </template>
        </section>
        <Field id="sourceUrl" label={t.editor.sourceUrl} hint={t.editor.sourceUrlHint} errors={errors}>
          <input
            id="sourceUrl"
            name="sourceUrl"
            type="url"
            inputMode="url"
            value={values.sourceUrl}
            maxLength={2048}
          />
        </Field>
        <Field id="link" label={t.editor.link} errors={errors}>
          <input id="link" name="link" type="url" inputMode="url" value={values.link} maxLength={2048} />
        </Field>
        <Field id="tags" label={t.editor.tags} hint={t.editor.tagsHint} errors={errors}>
          <input id="tags" name="tags" value={values.tags} maxLength={3000} />
        </Field>
        <fieldset class="window">
          <legend>{`${t.editor.window} (${zoneLabel(zone)})`}</legend>
          <Field id="preferredFrom" label={t.editor.from} errors={errors}>
            <input
              id="preferredFrom"
              name="preferredFrom"
              type="datetime-local"
              value={values.preferredFrom}
            />
          </Field>
          <Field id="preferredTo" label={t.editor.to} errors={errors}>
            <input id="preferredTo" name="preferredTo" type="datetime-local" value={values.preferredTo} />
          </Field>
        </fieldset>
        <div class="actions">
          <button type="submit" name="intent" value="save" class="button">
            {t.editor.save}
          </button>
          {post?.status !== 'submitted' ? (
            <button type="submit" name="intent" value="submit" class="button primary">
              {t.editor.saveAndSubmit}
            </button>
          ) : null}
        </div>
      </form>
    </Layout>
  );
}

const EDITOR_FIELDS =
  /^(_csrf|version|intent|body|link|sourceUrl|tags|preferredFrom|preferredTo|media|drop|alt_[0-9a-f-]{36})$/;
const editorForm = patternForm(EDITOR_FIELDS);
type EditorForm = z.infer<typeof editorForm>;

const contentSchema = z.object({
  body: postContent.body,
  link: postContent.link,
  sourceUrl: postContent.sourceUrl,
  tags: postContent.tags,
  preferredFrom: postContent.preferredFrom,
  preferredTo: postContent.preferredTo,
  media: postContent.media,
});

/** The editor's fields as typed (for showing the form again) and as a post's content (for saving). */
function readEditor(
  form: EditorForm,
  zone: string,
  t: Messages,
): {
  values: Omit<EditorValues, 'media'> & { media: { id: string; altText: string }[] };
  content: PostContent;
  errors: FieldError[];
} {
  const dropped = new Set(many(form.drop));
  const mediaIds = [...new Set(many(form.media))].filter((id) => !dropped.has(id));
  const values = {
    body: one(form.body) ?? '',
    link: one(form.link) ?? '',
    sourceUrl: one(form.sourceUrl) ?? '',
    tags: one(form.tags) ?? '',
    preferredFrom: one(form.preferredFrom) ?? '',
    preferredTo: one(form.preferredTo) ?? '',
    media: mediaIds.map((id) => ({ id, altText: one(form[`alt_${id}`]) ?? '' })),
  };
  const errors: FieldError[] = [];
  const when = (field: 'preferredFrom' | 'preferredTo') => {
    const raw = blank(values[field]);
    if (!raw) return null;
    const at = fromLocalInput(raw, zone);
    if (!at) errors.push({ field, message: t.fieldProblems.invalid_date, code: 'invalid_date' });
    return at?.toISOString() ?? null;
  };
  const draft = {
    body: values.body.replace(/\r\n?/g, '\n'),
    link: blank(values.link) ?? null,
    sourceUrl: blank(values.sourceUrl) ?? null,
    tags: values.tags
      .split(/[,\s]+/)
      .map((tag) => tag.trim())
      .filter(Boolean),
    preferredFrom: when('preferredFrom'),
    preferredTo: when('preferredTo'),
    media: values.media.map((m) => ({ id: m.id, altText: m.altText.trim() === '' ? null : m.altText })),
  };
  const parsed = contentSchema.safeParse(draft);
  if (!parsed.success)
    for (const issue of parsed.error.issues)
      errors.push({ field: issue.path.map(String).join('.'), message: issue.message, code: issue.code });
  return { values, content: parsed.success ? parsed.data : draft, errors };
}

/** Thumbnails of media of the actor's unit, for showing the editor again. */
async function editorMedia(
  ctx: AppContext,
  actor: Actor,
  list: { id: string; altText: string }[],
): Promise<EditorMedium[]> {
  const thumbnails = await unitMediaThumbnails(
    ctx,
    actor,
    list.map((m) => m.id),
  );
  return list.flatMap((m) => {
    const found = thumbnails.get(m.id);
    return found ? [{ id: m.id, altText: m.altText, ...found }] : [];
  });
}

function valuesOfPost(post: PostView, zone: string): EditorValues {
  return {
    body: post.body,
    link: post.link ?? '',
    sourceUrl: post.sourceUrl ?? '',
    tags: post.tags.join(', '),
    preferredFrom: post.preferredFrom ? toLocalInput(new Date(post.preferredFrom), zone) : '',
    preferredTo: post.preferredTo ? toLocalInput(new Date(post.preferredTo), zone) : '',
    media: post.media.map((m) => ({
      id: m.id,
      altText: m.altText,
      kind: m.kind,
      thumbnailUrl: `/api/v1/media/${m.id}/thumbnail`,
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// One post

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

function PostPage(props: {
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

// ---------------------------------------------------------------------------------------------
// Notifications

function NotificationLine(props: { item: NotificationView }) {
  const { t } = useEnv();
  const { item } = props;
  const data = item.data;
  // What the line names: the channel of a publish outcome, the office of a post waiting for review.
  const channel =
    typeof data.channelName === 'string'
      ? data.channelName
      : typeof data.officeName === 'string'
        ? data.officeName
        : '';
  const kind = item.kind as keyof Messages['notifications']['kinds'];
  const describe = t.notifications.kinds[kind];
  return (
    <li class={`item${item.readAt ? '' : ' unread'}`}>
      <div class="item-head">
        {item.postId ? (
          <a href={`/posts/${item.postId}`}>{describe ? describe(channel) : item.kind}</a>
        ) : describe ? (
          describe(channel)
        ) : (
          item.kind
        )}
      </div>
      <div class="meta">
        <Time at={item.createdAt} />
      </div>
      {typeof data.comment === 'string' ? <p class="comment">{data.comment}</p> : null}
      {typeof data.error === 'string' ? <p class="error-text">{data.error}</p> : null}
      {typeof data.url === 'string' ? (
        <p>
          <ExternalLink href={data.url} />
        </p>
      ) : null}
    </li>
  );
}

function NotificationsPage(props: { items: NotificationView[]; unread: number; notice?: string | null }) {
  const { t } = useEnv();
  return (
    <Layout title={t.notifications.title} notice={props.notice}>
      {props.unread > 0 ? (
        <ActionButton action="/notifications/read" label={t.notifications.markAllRead} />
      ) : null}
      {props.items.length === 0 ? <p class="empty">{t.notifications.empty}</p> : null}
      <ul class="list">
        {props.items.map((item) => (
          <NotificationLine item={item} />
        ))}
      </ul>
    </Layout>
  );
}

// ---------------------------------------------------------------------------------------------
// Routes

export const officeRoutes: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;
  await registerFormUploads(app, ctx);

  const showEditor = async (
    request: FastifyRequest,
    reply: FastifyReply,
    env: PageEnv,
    actor: Actor,
    post: PostView | null,
    values: EditorValues,
    problem?: { errors: FieldError[]; error: string | null; status: number },
  ) => {
    const previews = await previewDraft(ctx, actor, {
      body: values.body,
      sourceUrl: blank(values.sourceUrl) ?? null,
      link: blank(values.link) ?? null,
      tags: values.tags.split(/[,\s]+/).filter(Boolean),
      mediaIds: values.media.map((m) => m.id),
    });
    return kit.page(
      request,
      reply,
      env,
      <EditorPage
        post={post}
        values={values}
        previews={previews}
        errors={problem?.errors}
        error={problem?.error}
      />,
      problem?.status ?? 200,
    );
  };

  app.get(
    '/posts',
    {
      schema: {
        hide: true,
        querystring: z.strictObject({
          status: z.union([z.enum(POST_STATUSES), z.literal('')]).optional(),
          q: z.string().trim().max(200).optional(),
          cursor: z.string().max(200).optional(),
          ok: z.string().max(40).optional(),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const status = request.query.status || undefined;
      const q = blank(request.query.q);
      const page = await listPosts(ctx, actor, {
        status: status ? [status] : undefined,
        unitId: actor.unitId,
        q,
        cursor: request.query.cursor,
        limit: 30,
      });
      const approved = page.items.filter((post) => post.status === 'approved');
      const links = new Map(
        await Promise.all(
          approved.map(async (post) => {
            const deliveries = await listDeliveries(ctx, actor, { postId: post.id, sort: 'due', limit: 20 });
            return [post.id, deliveries.items] as const;
          }),
        ),
      );
      const env = await kit.env(request, reply);
      return kit.page(
        request,
        reply,
        env,
        <PostsPage
          items={page.items}
          links={links}
          status={status}
          q={q}
          nextCursor={page.nextCursor}
          notice={noticeOf(env.t, request.query.ok)}
        />,
      );
    },
  );

  app.get(
    '/posts/new',
    { schema: { hide: true, querystring: z.strictObject({}) } },
    async (request, reply) => {
      const actor = requireActor(request);
      const env = await kit.env(request, reply);
      const empty: EditorValues = {
        body: '',
        link: '',
        sourceUrl: '',
        tags: '',
        preferredFrom: '',
        preferredTo: '',
        media: [],
      };
      return showEditor(request, reply, env, actor, null, empty);
    },
  );

  /**
   * Saves the editor's content (a new draft or an edit) with the file sent along, if any; then
   * submits, or comes back to the editor after attaching, when asked to.
   */
  const saveEditor = async (request: FastifyRequest, reply: FastifyReply, postId: string | null) => {
    const actor = requireActor(request);
    const env = await kit.env(request, reply);
    // An edit is refused before the file is read; a new draft is always the actor's own unit's.
    let current = postId ? (await readPost(ctx, actor, postId, 'post.update')).post : null;
    const { form, staged, refusal } = await readFormWithUpload(ctx, request, editorForm);
    // The file is kept even when other fields need fixing, so it need not be chosen again.
    const attached = staged ? (await uploadMedia(ctx, actor, staged, '')).media.id : null;
    const { values, content, errors } = readEditor(
      attached ? { ...form, media: [...many(form.media), attached] } : form,
      env.zone,
      env.t,
    );
    const again = async (problem: { errors: FieldError[]; error: string | null; status: number }) =>
      showEditor(
        request,
        reply,
        env,
        actor,
        current,
        { ...values, media: await editorMedia(ctx, actor, values.media) },
        problem,
      );
    if (refusal) errors.push(...fieldErrorsOf(env.t, refusal));
    if (errors.length > 0)
      return again({ errors, error: env.t.problems.validation_failed, status: refusal?.status ?? 400 });
    try {
      let saved: PostView;
      if (postId) {
        const version = Number(one(form.version));
        saved = await updatePost(ctx, actor, postId, { ...content, version });
      } else saved = await createPost(ctx, actor, content);
      if (one(form.intent) === 'submit') {
        await submitPost(ctx, actor, saved.id, saved.version);
        return reply.redirect(`/posts/${saved.id}?ok=submitted`, 303);
      }
      if (one(form.intent) === 'attach') return reply.redirect(`/posts/${saved.id}/edit#media-title`, 303);
      return reply.redirect(`/posts/${saved.id}?ok=saved`, 303);
    } catch (error) {
      if (!isUserError(error)) throw error;
      if (postId && error.code === 'stale_version')
        current = (await readPost(ctx, actor, postId, 'post.update')).post;
      return again({
        errors: fieldErrorsOf(env.t, error),
        error: problemText(env.t, error),
        status: error.status,
      });
    }
  };

  // The editor is multipart (it carries a file); its fields before the file are checked as a body.
  app.post(
    '/posts',
    { preValidation: readFieldsBeforeFile, schema: { hide: true, body: editorForm } },
    (request, reply) => saveEditor(request, reply, null),
  );

  app.post(
    '/posts/:id',
    { preValidation: readFieldsBeforeFile, schema: { hide: true, params: idParams, body: editorForm } },
    (request, reply) => saveEditor(request, reply, request.params.id),
  );

  app.get(
    '/posts/:id/edit',
    { schema: { hide: true, params: idParams, querystring: z.strictObject({}) } },
    async (request, reply) => {
      const actor = requireActor(request);
      const { post } = await readPost(ctx, actor, request.params.id, 'post.update');
      const env = await kit.env(request, reply);
      return showEditor(request, reply, env, actor, post, valuesOfPost(post, env.zone));
    },
  );

  const showPost = async (
    request: FastifyRequest,
    reply: FastifyReply,
    postId: string,
    extra: {
      notice?: string | null;
      error?: string | null;
      commentError?: FieldError[];
      status?: number;
    } = {},
  ) => {
    const { facts, post } = await readPost(ctx, requireActor(request), postId);
    const events = await listPostEvents(ctx.db, facts.id);
    const published = post.deliveries.filter((d) => d.status === 'published');
    const snapshots = await snapshotsOf(
      ctx,
      published.map((d) => d.id),
    );
    const figures = new Map(
      published.map((d) => [
        d.id,
        {
          deliveryId: d.id,
          platform: d.platform,
          measurable: Boolean(ctx.platforms.get(d.platform)?.fetchMetrics) || snapshots.has(d.id),
          snapshots: snapshots.get(d.id) ?? [],
        },
      ]),
    );
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <PostPage post={post} unitPath={facts.unitPath} events={events} figures={figures} {...extra} />,
      extra.status ?? 200,
    );
  };

  app.get(
    '/posts/:id',
    { schema: { hide: true, params: idParams, querystring: okQuery } },
    async (request, reply) => {
      const env = await kit.env(request, reply);
      return showPost(request, reply, request.params.id, { notice: noticeOf(env.t, request.query.ok) });
    },
  );

  /** A state change from a one-button form: done → back to the post with a notice; refused → the post with the reason. */
  const postAction = async (
    request: FastifyRequest,
    reply: FastifyReply,
    postId: string,
    notice: keyof Messages['notices'],
    work: () => Promise<unknown>,
  ) => {
    try {
      await work();
      return reply.redirect(`/posts/${postId}?ok=${notice}`, 303);
    } catch (error) {
      // What the actor may not see or do is an error page, not a refusal on the post.
      if (!isUserError(error) || error.status === 404 || error.code === 'forbidden') throw error;
      const env = await kit.env(request, reply);
      return showPost(request, reply, postId, {
        error: problemText(env.t, error),
        commentError: fieldErrorsOf(env.t, error),
        status: error.status,
      });
    }
  };

  const versionForm = z.strictObject({ _csrf: z.string().max(200), version: z.coerce.number().int().min(1) });

  app.post(
    '/posts/:id/submit',
    { schema: { hide: true, params: idParams, body: versionForm } },
    async (request, reply) => {
      const actor = requireActor(request);
      const postId = request.params.id;
      return postAction(request, reply, postId, 'submitted', () =>
        submitPost(ctx, actor, postId, request.body.version),
      );
    },
  );

  app.post(
    '/posts/:id/withdraw',
    {
      schema: {
        hide: true,
        params: idParams,
        body: versionForm.extend({ reason: z.string().max(WITHDRAW_REASON_MAX).optional() }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const postId = request.params.id;
      return postAction(request, reply, postId, 'withdrawn', () =>
        withdrawPost(ctx, actor, postId, request.body.version, blank(request.body.reason)),
      );
    },
  );

  app.post(
    '/posts/:id/comments',
    {
      schema: {
        hide: true,
        params: idParams,
        // Bounds the request only: a comment over the limit is refused on the post page by `commentBody`.
        body: z.strictObject({ _csrf: z.string().max(200), body: z.string().max(2 * COMMENT_MAX) }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const postId = request.params.id;
      return postAction(request, reply, postId, 'commented', async () => {
        const { body } = parseForm(z.object({ body: commentBody }), request.body);
        await addComment(ctx, actor, postId, body);
      });
    },
  );

  app.post(
    '/ui/preview',
    {
      config: { rateLimit: ROUTE_LIMITS.preview },
      schema: {
        hide: true,
        body: z.strictObject({
          body: z.string().max(65_536),
          sourceUrl: z.string().max(2048).optional(),
          link: z.string().max(2048).optional(),
          tags: z.string().max(3000).optional(),
          media: z.array(z.uuid()).max(20).optional(),
        }),
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const env = await kit.env(request, reply);
      const input = request.body;
      const previews = await previewDraft(ctx, actor, {
        body: input.body,
        sourceUrl: blank(input.sourceUrl) ?? null,
        link: blank(input.link) ?? null,
        tags: (input.tags ?? '').split(/[,\s]+/).filter(Boolean),
        mediaIds: input.media ?? [],
      });
      return {
        channels: previews.map((p) => ({
          channelId: p.channelId,
          used: p.count.used,
          limit: p.count.limit,
          over: p.over,
          text: p.text,
          issues: p.issues.map((issue) => ({
            severity: issue.severity,
            label: env.t.review.severity[issue.severity],
            message:
              env.locale === 'id'
                ? (env.t.issues[issue.code as keyof Messages['issues']] ?? issue.message)
                : issue.message,
          })),
        })),
      };
    },
  );

  app.get('/notifications', { schema: { hide: true, querystring: okQuery } }, async (request, reply) => {
    const list = await listNotifications(ctx, requireActor(request), { unreadOnly: false, limit: 100 });
    const env = await kit.env(request, reply);
    return kit.page(
      request,
      reply,
      env,
      <NotificationsPage
        items={list.items}
        unread={list.unread}
        notice={noticeOf(env.t, request.query.ok)}
      />,
    );
  });

  app.post(
    '/notifications/read',
    { schema: { hide: true, body: z.strictObject({ _csrf: z.string().max(200) }) } },
    async (request, reply) => {
      await markRead(ctx, requireActor(request));
      return reply.redirect('/notifications?ok=read', 303);
    },
  );
};
