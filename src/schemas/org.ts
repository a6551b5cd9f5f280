import { z } from 'zod';
import { isTimeZone, isUsableSlug, NAME_PATTERN, SLUG_PATTERN } from '../domain/org';

/** Inputs of units and people, shared by the API and the web app. */

export const unitName = z
  .string()
  .trim()
  .min(1)
  .max(120)
  .regex(NAME_PATTERN, "letters, digits, spaces and . , ' ( ) & / - only");

/** A unit's slug: its address in the press room (`/press/<slug>`), unique, never one of the press room's own paths. */
export const unitSlug = z
  .string()
  .min(2)
  .max(60)
  .regex(SLUG_PATTERN, 'lower-case letters and digits in words joined by "-"')
  .refine(isUsableSlug, 'is reserved by the press room');

/** A unit's time zone: an IANA name. */
export const timeZone = z
  .string()
  .max(64)
  .refine(isTimeZone, 'must be an IANA time zone such as Asia/Jakarta, Asia/Makassar or Asia/Jayapura');

export const personName = z
  .string()
  .trim()
  .min(1)
  .max(120)
  .regex(NAME_PATTERN, "letters, digits, spaces and . , ' ( ) & / - only");

export const email = z.email().max(254);

export const PASSWORD_MIN_LENGTH = 12;

/** New passwords; the upper bound keeps scrypt's work per request bounded. */
export const newPassword = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(256);
