import { type ComponentChildren, cloneElement, isValidElement } from 'preact';
import type { FieldError } from '../domain/errors';
import type { ValidationIssue } from '../domain/rendering';
import type { DeliveryStatus, Platform, PostStatus } from '../domain/vocabulary';
import { PASSWORD_MIN_LENGTH } from '../schemas/org';
import { useEnv } from './env';
import { formatDateTime, ZONES, zoneLabel } from './time';

/** Building blocks shared by the pages. Everything here renders through Preact, which escapes. */

export function Time(props: { at: string | Date | null | undefined; fallback?: string }) {
  const { locale, zone } = useEnv();
  if (!props.at) return <span>{props.fallback ?? '—'}</span>;
  const at = typeof props.at === 'string' ? new Date(props.at) : props.at;
  return <time dateTime={at.toISOString()}>{formatDateTime(at, locale, zone)}</time>;
}

export function Csrf() {
  const { csrf } = useEnv();
  return csrf ? <input type="hidden" name="_csrf" value={csrf} /> : null;
}

/** Only http(s) addresses become links: a `javascript:` URL from a platform's answer stays text. */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.toString() : null;
  } catch {
    return null;
  }
}

export function ExternalLink(props: { href: string | null | undefined; children?: ComponentChildren }) {
  const href = safeHref(props.href);
  if (!href) return <span>{props.children ?? props.href ?? ''}</span>;
  return (
    <a href={href} rel="noopener noreferrer nofollow" target="_blank">
      {props.children ?? href}
    </a>
  );
}

export function PostStatusBadge(props: { status: PostStatus }) {
  const { t } = useEnv();
  return <span class={`badge post-${props.status}`}>{t.postStatus[props.status]}</span>;
}

export function DeliveryStatusBadge(props: { status: DeliveryStatus }) {
  const { t } = useEnv();
  return <span class={`badge delivery-${props.status}`}>{t.deliveryStatus[props.status]}</span>;
}

export function PlatformName(props: { platform: Platform }) {
  const { t } = useEnv();
  return <span class={`platform platform-${props.platform}`}>{t.platform[props.platform]}</span>;
}

/** A problem of the whole form, announced to screen readers. */
export function Alert(props: { message?: string | null; kind?: 'error' | 'ok' }) {
  if (!props.message) return null;
  return (
    <p class={`alert alert-${props.kind ?? 'error'}`} role={props.kind === 'ok' ? 'status' : 'alert'}>
      {props.message}
    </p>
  );
}

export function FieldErrors(props: { errors?: FieldError[]; field: string; id?: string }) {
  const mine = props.errors?.filter((e) => e.field === props.field || e.field.startsWith(`${props.field}.`));
  if (!mine?.length) return null;
  return (
    <span class="field-error" id={props.id}>
      {mine.map((e) => e.message).join('; ')}
    </span>
  );
}

/** What a platform would object to; in Indonesian the known issues are translated. */
export function IssueList(props: { issues: ValidationIssue[] }) {
  const { t, locale } = useEnv();
  if (props.issues.length === 0) return null;
  return (
    <ul class="issues">
      {props.issues.map((issue) => (
        <li class={`issue issue-${issue.severity}`}>
          <span class="issue-severity">{t.review.severity[issue.severity]}</span>{' '}
          {locale === 'id' ? (t.issues[issue.code as keyof typeof t.issues] ?? issue.message) : issue.message}
        </li>
      ))}
    </ul>
  );
}

/** A labelled field: the label, the control, a hint and its errors, tied together for assistive tech. */
export function Field(props: {
  id: string;
  label: string;
  hint?: string;
  errors?: FieldError[];
  field?: string;
  children: ComponentChildren;
}) {
  const field = props.field ?? props.id;
  const failed = props.errors?.some((e) => e.field === field || e.field.startsWith(`${field}.`)) ?? false;
  const described = [props.hint ? `${props.id}-hint` : null, failed ? `${props.id}-error` : null]
    .filter(Boolean)
    .join(' ');
  // The control learns its hint and error (aria-describedby) and whether it is wrong (aria-invalid).
  const control =
    isValidElement(props.children) && described
      ? cloneElement(props.children, {
          'aria-describedby': described,
          ...(failed ? { 'aria-invalid': 'true' } : {}),
        })
      : props.children;
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {control}
      {props.hint ? (
        <small class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </small>
      ) : null}
      <FieldErrors errors={props.errors} field={field} id={`${props.id}-error`} />
    </div>
  );
}

/**
 * A password in its field: the person's `current` one (sign-in, a check before a change) or a `new`
 * one, which the browser may suggest and which must be long enough.
 */
export function PasswordField(props: {
  id: string;
  name?: string;
  label: string;
  hint?: string;
  errors?: FieldError[];
  field?: string;
  kind: 'current' | 'new';
}) {
  return (
    <Field id={props.id} label={props.label} hint={props.hint} errors={props.errors} field={props.field}>
      <input
        id={props.id}
        name={props.name ?? props.id}
        type="password"
        autoComplete={`${props.kind}-password`}
        minLength={props.kind === 'new' ? PASSWORD_MIN_LENGTH : undefined}
        required
      />
    </Field>
  );
}

/** A one-button form that posts to `action` (retry, cancel, sign out…). */
export function ActionButton(props: {
  action: string;
  label: string;
  kind?: 'primary' | 'danger' | 'plain';
  hidden?: Record<string, string | number>;
  confirm?: string;
}) {
  return (
    <form method="post" action={props.action} class="inline" data-confirm={props.confirm}>
      <Csrf />
      {Object.entries(props.hidden ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={String(value)} />
      ))}
      <button type="submit" class={`button ${props.kind ?? 'plain'}`}>
        {props.label}
      </button>
    </form>
  );
}

/** An account handle as platforms write it: "@name" (some handles already carry the "@"). */
export const handleOf = (handle: string) => (handle.startsWith('@') ? handle : `@${handle}`);

export function Excerpt(props: { text: string; max?: number }) {
  const max = props.max ?? 280;
  const chars = Array.from(props.text);
  return <span class="excerpt">{chars.length > max ? `${chars.slice(0, max).join('')}…` : props.text}</span>;
}

/** Previous / next page links that keep the current filters. */
export function Pager(props: {
  base: string;
  query: Record<string, string | undefined>;
  nextCursor: string | null;
}) {
  const { t } = useEnv();
  if (!props.nextCursor) return null;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(props.query)) if (value) params.set(key, value);
  params.set('cursor', props.nextCursor);
  return (
    <nav class="pager" aria-label={t.common.pages}>
      <a href={`${props.base}?${params.toString()}`} rel="next">
        {t.common.nextPage}
      </a>
    </nav>
  );
}

/** The channel filter of the calendar and the deliveries list. */
export function ChannelFilter(props: { channels: { id: string; name: string }[]; selected?: string }) {
  const { t } = useEnv();
  return (
    <div class="field">
      <label for="channel">{t.deliveries.channel}</label>
      <select id="channel" name="channel">
        <option value="">{t.common.all}</option>
        {props.channels.map((c) => (
          <option value={c.id} selected={c.id === props.selected}>
            {c.name}
          </option>
        ))}
      </select>
    </div>
  );
}

/** A time-zone picker; `emptyLabel` offers "inherit" as an empty choice, and an unlisted current zone stays selectable. */
export function ZoneSelect(props: { id: string; name?: string; value?: string; emptyLabel?: string }) {
  return (
    <select id={props.id} name={props.name ?? props.id}>
      {props.emptyLabel ? <option value="">{props.emptyLabel}</option> : null}
      {ZONES.map((zone) => (
        <option value={zone} selected={zone === props.value}>{`${zone} (${zoneLabel(zone)})`}</option>
      ))}
      {props.value && !ZONES.includes(props.value) ? (
        <option value={props.value} selected>
          {props.value}
        </option>
      ) : null}
    </select>
  );
}
