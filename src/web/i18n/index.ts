import type { Locale } from '../../domain/vocabulary';
import { en } from './en';
import { id, type Messages } from './id';

export type { Messages };

/** One dictionary per language; `en` is typed by `id`, so a missing or extra key does not compile. */
export const dictionaries: Record<Locale, Messages> = { id, en };

export const messagesFor = (locale: Locale): Messages => dictionaries[locale];
