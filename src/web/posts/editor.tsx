import { z } from 'zod';
import type { AppContext } from '../../context';
import type { FieldError } from '../../domain/errors';
import type { Actor } from '../../domain/permissions';
import { postContent } from '../../schemas/posts';
import type { ChannelPreview } from '../../services/draft-preview';
import { unitMediaThumbnails } from '../../services/media';
import type { PostContent, PostView } from '../../services/posts';
import { Csrf, Field, FieldErrors, IssueList, PlatformName } from '../components';
import { useEnv } from '../env';
import type { Messages } from '../i18n/index';
import { blank, many, one, patternForm } from '../kit';
import { Layout } from '../layout';
import { fromLocalInput, toLocalInput, zoneLabel } from '../time';

/** The post editor: content, media with alt text, and live per-channel counters. */

interface EditorMedium {
  id: string;
  altText: string;
  thumbnailUrl: string | null;
  kind: 'image' | 'video';
}

export interface EditorValues {
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

export function EditorPage(props: {
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
export const editorForm = patternForm(EDITOR_FIELDS);
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
export function readEditor(
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
export async function editorMedia(
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

export function valuesOfPost(post: PostView, zone: string): EditorValues {
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
