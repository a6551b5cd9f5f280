import { z } from 'zod';
import { isTimeZone, isUsableSlug, NAME_PATTERN, SLUG_PATTERN } from '../domain/org';
import { LOCALES, ROLES, UNIT_KINDS } from '../domain/vocabulary';

/** Inputs and views of units and people, shared by the API and the web app. */

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

export const unitViewSchema = z.object({
  id: z.uuid(),
  parentId: z.uuid().nullable(),
  kind: z.enum(UNIT_KINDS),
  name: z.string(),
  slug: z.string(),
  timeZone: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const userViewSchema = z.object({
  id: z.uuid(),
  unitId: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  locale: z.enum(LOCALES),
  disabled: z.boolean(),
  disabledAt: z.string().nullable(),
  passwordMustChange: z.boolean().describe('Set by an admin; the person must choose their own password'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const userListQuery = z.strictObject({
  unitId: z.uuid().optional(),
  role: z.enum(ROLES).optional(),
  disabled: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  q: z.string().trim().min(1).max(100).optional(),
  cursor: z.string().max(254).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const userPage = z.object({ users: z.array(userViewSchema), nextCursor: z.string().nullable() });

export const createUserBody = z.strictObject({
  email,
  name: personName,
  role: z.enum(ROLES),
  unitId: z.uuid(),
  locale: z.enum(LOCALES).optional(),
  password: newPassword.describe('The first password; the person changes it after signing in'),
});

export const updateUserBody = z.strictObject({
  name: personName.optional(),
  locale: z.enum(LOCALES).optional(),
  role: z.enum(ROLES).optional(),
  unitId: z.uuid().optional(),
  disabled: z.boolean().optional(),
});

export const resetPasswordBody = z.strictObject({ password: newPassword });

export const unitList = z.object({ units: z.array(unitViewSchema) });

export const createUnitBody = z.strictObject({
  parentId: z.uuid(),
  kind: z.enum(['regional', 'office']),
  name: unitName,
  slug: unitSlug,
  timeZone: timeZone.optional().describe("Defaults to the parent's time zone"),
});

export const updateUnitBody = z.strictObject({
  name: unitName.optional(),
  slug: unitSlug.optional(),
  timeZone: timeZone.optional(),
  parentId: z.uuid().optional(),
});
