import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Locale } from '../domain/vocabulary';
import type { SignedInActor } from '../services/auth';
import type { Messages } from './i18n/index';

/** What every component of a page may read: the viewer, their language, time zone and the CSRF token. */
export interface PageEnv {
  t: Messages;
  locale: Locale;
  /** The viewer's unit time zone (Asia/Jakarta for signed-out visitors). */
  zone: string;
  actor: SignedInActor | null;
  /** The session's CSRF token, for forms (`_csrf`) and the JSON API (x-csrf-token). */
  csrf: string | null;
  /** The request path, to mark the current place in the navigation. */
  path: string;
  unread: number;
  /** The blackouts covering the viewer's unit now (the banner on every page). */
  blackouts: { reason: string; endsAt: string | null }[];
  now: Date;
  assets: { css: string; js: string };
}

export const Env = createContext<PageEnv | null>(null);

export function useEnv(): PageEnv {
  const env = useContext(Env);
  if (!env) throw new Error('a page component rendered outside <Env.Provider>');
  return env;
}
