import { z } from 'zod';
import { email, newPassword, unitViewSchema, userViewSchema } from './org';

/** Views of the signed-in session. */

export const meSchema = z.object({
  user: userViewSchema,
  unit: unitViewSchema,
  csrfToken: z
    .string()
    .optional()
    .describe('For cookie-authenticated writes: send it as the x-csrf-token header or the _csrf form field'),
});

export const loginBody = z.strictObject({ email, password: z.string().min(1).max(256) });

export const changePasswordBody = z.strictObject({
  currentPassword: z.string().min(1).max(256),
  newPassword,
});
