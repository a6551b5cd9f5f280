import { z } from 'zod';

/** Views of API tokens. */

export const tokenViewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string().describe('The first characters of the secret, to tell tokens apart'),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

export const createTokenBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  currentPassword: z.string().min(1).max(300),
});

export const createdTokenView = z.object({ token: tokenViewSchema, secret: z.string() });

export const tokenList = z.object({ tokens: z.array(tokenViewSchema) });
