import { z } from 'zod';
import type { FieldError } from '../../domain/errors';
import { BULK_ACTIONS, type BulkAction, MAX_BULK_POSTS } from '../../domain/vocabulary';
import type { BulkInput } from '../../services/bulk-reviews';
import type { BulkChannel } from '../../services/reviews/screen';
import { Excerpt, Field, PlatformName } from '../components';
import { useEnv } from '../env';
import type { Messages } from '../i18n/index';
import { blank, many, one } from '../kit';

/** Bulk actions of the inbox: several selected posts approved, passed or forwarded together. */

/** What a bulk decision did: how many posts were decided, and why the others were not. */
export interface BulkOutcome {
  done: number;
  refused: { id: string; excerpt: string; detail: string }[];
}

/** Decide several selected posts at once: works as a plain form, without JavaScript. */
export function BulkPanel(props: { channels: BulkChannel[] }) {
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

export function BulkSummary(props: { outcome: BulkOutcome }) {
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

/** The inbox's bulk form as a bulk decision, or what to fix in it (nothing is decided then). */
export function readBulkForm(
  form: Record<string, string | string[] | undefined>,
  t: Messages,
): { input: BulkInput } | { errors: FieldError[] } {
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
  if (errors.length > 0 || !action) return { errors };
  const at = one(form.at) === 'now' ? 'now' : 'next-slot';
  return {
    input: {
      action,
      posts: [...new Map(posts.map((p) => [p.id, p])).values()],
      targets:
        action === 'approve' ? channels.map((channelId) => ({ channelId, mode: 'copy', at })) : undefined,
      note: blank(one(form.note)) ?? null,
    },
  };
}
