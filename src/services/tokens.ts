import { and, desc, eq, isNull } from 'drizzle-orm';
import type { AppContext } from '../context';
import { apiTokens } from '../db/schema';
import { invalid, notFound } from '../domain/errors';
import { type Actor, authorize } from '../domain/permissions';
import { randomToken, sha256Hex } from '../infra/crypto';
import { recordAudit } from './audit';
import { confirmPassword } from './auth';

/** API tokens for automation: shown once, stored as sha256, named, expiring, revocable. */

export const TOKEN_PREFIX = 'gaung_';
/** How much of a secret lists show, so a person can tell their tokens apart. */
const SHOWN_CHARACTERS = 12;

export type TokenRow = typeof apiTokens.$inferSelect;

export interface TokenView {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export const tokenView = (row: TokenRow): TokenView => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  createdAt: row.createdAt.toISOString(),
  expiresAt: row.expiresAt?.toISOString() ?? null,
  lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  revokedAt: row.revokedAt?.toISOString() ?? null,
});

/** Tokens are their owner's alone: nobody else sees them, not even an admin. */
const authorizeOwner = (actor: Actor, ownerId: string) =>
  authorize(actor, 'token.manage', { type: 'token', ownerId }, 'Token');

export async function listTokens(ctx: AppContext, actor: Actor): Promise<TokenRow[]> {
  authorizeOwner(actor, actor.userId);
  return ctx.db
    .select()
    .from(apiTokens)
    .where(eq(apiTokens.userId, actor.userId))
    .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id));
}

/**
 * Creates a token for the actor once their current password is confirmed (a stolen session cannot
 * mint itself a lasting credential); the secret is returned here and never again.
 */
export async function createToken(
  ctx: AppContext,
  actor: Actor & { email: string },
  input: { name: string; expiresAt?: Date; currentPassword: string },
  ip: string | null,
): Promise<{ token: TokenRow; secret: string }> {
  authorizeOwner(actor, actor.userId);
  const now = ctx.now();
  if (input.expiresAt && input.expiresAt <= now)
    throw invalid([{ field: 'expiresAt', message: 'must be in the future' }]);
  await confirmPassword(ctx, actor, input.currentPassword);
  const secret = randomToken(TOKEN_PREFIX);
  const token = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiTokens)
      .values({
        userId: actor.userId,
        name: input.name,
        tokenHash: sha256Hex(secret),
        prefix: secret.slice(0, SHOWN_CHARACTERS),
        createdAt: now,
        expiresAt: input.expiresAt ?? null,
      })
      .returning();
    await recordAudit(ctx, tx, {
      actorId: actor.userId,
      unitId: actor.unitId,
      action: 'token.created',
      targetType: 'token',
      targetId: row!.id,
      ip,
      details: { name: row!.name, prefix: row!.prefix, expiresAt: row!.expiresAt?.toISOString() ?? null },
    });
    return row!;
  });
  return { token, secret };
}

/** Revokes a token at once; revoking a revoked token changes nothing. */
export async function revokeToken(
  ctx: AppContext,
  actor: Actor,
  tokenId: string,
  ip: string | null,
): Promise<void> {
  const [token] = await ctx.db.select().from(apiTokens).where(eq(apiTokens.id, tokenId));
  if (!token) throw notFound('Token');
  authorizeOwner(actor, token.userId);
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiTokens)
      .set({ revokedAt: ctx.now() })
      .where(and(eq(apiTokens.id, tokenId), isNull(apiTokens.revokedAt)))
      .returning();
    if (!row) return;
    await recordAudit(ctx, tx, {
      actorId: actor.userId,
      unitId: actor.unitId,
      action: 'token.revoked',
      targetType: 'token',
      targetId: row.id,
      ip,
      details: { name: row.name, prefix: row.prefix },
    });
  });
}
