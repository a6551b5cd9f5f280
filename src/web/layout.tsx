import type { ComponentChildren } from 'preact';
import { atLeast } from '../domain/permissions';
import { Alert, Csrf } from './components';
import { useEnv } from './env';
import { formatDateTime, zoneLabel } from './time';

/** Shown on every page while a blackout covers the viewer's unit: nothing is published. */
function BlackoutBanner() {
  const { t, blackouts, locale, zone, actor } = useEnv();
  if (blackouts.length === 0) return null;
  return (
    <div class="banner blackout" role="status">
      {blackouts.map((blackout) => (
        <p>
          {t.layout.blackoutBanner(
            blackout.reason,
            blackout.endsAt ? formatDateTime(new Date(blackout.endsAt), locale, zone) : null,
          )}
        </p>
      ))}
      {actor && atLeast(actor, 'admin') ? <a href="/admin/blackouts">{t.layout.blackoutLink}</a> : null}
    </div>
  );
}

interface NavItem {
  href: string;
  label: string;
  badge?: number;
}

function navItems(): NavItem[] {
  const { t, actor, unread } = useEnv();
  if (!actor) return [{ href: '/press', label: t.nav.press }];
  const items: NavItem[] = [];
  if (atLeast(actor, 'reviewer')) items.push({ href: '/inbox', label: t.nav.inbox });
  items.push(
    { href: '/posts', label: t.nav.posts },
    { href: '/posts/new', label: t.nav.newPost },
    { href: '/sources', label: t.nav.sources },
  );
  if (atLeast(actor, 'reviewer'))
    items.push(
      { href: '/calendar', label: t.nav.calendar },
      { href: '/deliveries', label: t.nav.deliveries },
    );
  items.push({ href: '/reports', label: t.nav.reports });
  items.push({ href: '/notifications', label: t.nav.notifications, badge: unread });
  if (atLeast(actor, 'admin')) items.push({ href: '/admin/channels', label: t.nav.admin });
  return items;
}

const isCurrent = (path: string, href: string) =>
  path === href ||
  (href !== '/posts' && href !== '/' && path.startsWith(`${href}/`)) ||
  (href === '/admin/channels' && path.startsWith('/admin'));

/** The page frame: skip link, navigation, the signed-in person and their unit's time zone, the footer. */
export function Layout(props: {
  title: string;
  children: ComponentChildren;
  /** A message after a successful action (from `?ok=`). */
  notice?: string | null;
  error?: string | null;
  /** Secondary navigation (admin sections). */
  subnav?: ComponentChildren;
  wide?: boolean;
  /** Reload the page every so many seconds (a progress page while work runs). */
  refreshSeconds?: number;
}) {
  const env = useEnv();
  const { t, actor, locale, zone, assets, csrf, path } = env;
  return (
    <html lang={locale}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Gaung`}</title>
        <link rel="stylesheet" href={assets.css} />
        {/* No icon file: browsers would otherwise ask for /favicon.ico on every page. */}
        <link rel="icon" href="data:," />
        {props.refreshSeconds ? <meta http-equiv="refresh" content={String(props.refreshSeconds)} /> : null}
        {csrf ? <meta name="csrf-token" content={csrf} /> : null}
        <script src={assets.js} defer />
      </head>
      <body>
        <a class="skip" href="#main">
          {t.layout.skip}
        </a>
        <header class="top">
          <a class="brand" href={actor ? '/' : '/press'}>
            Gaung
          </a>
          <nav aria-label={t.layout.mainNav}>
            <ul class="nav">
              {navItems().map((item) => (
                <li>
                  <a href={item.href} aria-current={isCurrent(path, item.href) ? 'page' : undefined}>
                    {item.label}
                    {item.badge ? (
                      <>
                        <span class="count" aria-hidden="true">
                          {item.badge}
                        </span>
                        <span class="sr-only">{` (${t.layout.unread(item.badge)})`}</span>
                      </>
                    ) : null}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          {actor ? (
            <div class="who">
              <a href="/account">{actor.name}</a>
              <span class="zone" title={zone}>
                {zoneLabel(zone)}
              </span>
              <form method="post" action="/logout" class="inline">
                <Csrf />
                <button type="submit" class="button plain">
                  {t.layout.signOut}
                </button>
              </form>
            </div>
          ) : (
            <div class="who">
              <a href="/login">{t.layout.signIn}</a>
            </div>
          )}
        </header>
        <BlackoutBanner />
        {props.subnav}
        <main id="main" tabIndex={-1} class={props.wide ? 'wide' : undefined}>
          <h1>{props.title}</h1>
          <Alert message={props.notice} kind="ok" />
          <Alert message={props.error} />
          {props.children}
        </main>
        <footer class="foot">
          <a href="/press">{t.nav.press}</a>
          {actor ? null : (
            <span>
              {' · '}
              <a href={`?lang=${locale === 'id' ? 'en' : 'id'}`} hrefLang={locale === 'id' ? 'en' : 'id'}>
                {t.layout.otherLanguage}
              </a>
            </span>
          )}
        </footer>
      </body>
    </html>
  );
}

export function AdminNav() {
  const { t, path, actor } = useEnv();
  const national = actor?.unitPath.split('/').filter(Boolean).length === 1;
  const items = [
    ['/admin/channels', t.admin.nav.channels],
    ['/admin/units', t.admin.nav.units],
    ['/admin/review', t.reviewSettings.title],
    ['/admin/users', t.admin.nav.users],
    ['/admin/tokens', t.admin.nav.tokens],
    ['/admin/audit', t.admin.nav.audit],
    ['/admin/blackouts', t.admin.nav.blackouts],
    ...(national ? ([['/admin/transparency', t.admin.nav.transparency]] as const) : []),
    ['/admin/working-time', t.admin.nav.workingTime],
  ] as const;
  return (
    <nav class="subnav" aria-label={t.admin.nav.label}>
      <ul>
        {items.map(([href, label]) => (
          <li>
            <a href={href} aria-current={path === href || path.startsWith(`${href}/`) ? 'page' : undefined}>
              {label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
