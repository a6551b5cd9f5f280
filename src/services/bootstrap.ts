import { sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import { auditEvents, units, users } from '../db/schema';
import { hashPassword } from '../infra/crypto';

const BOOTSTRAP_LOCK_KEY = 7_302_418_002;

/** Whether any unit exists yet (a fresh installation has none, and so nobody can sign in). */
export async function hasOrganisation(ctx: AppContext): Promise<boolean> {
  const [unit] = await ctx.db.select({ id: units.id }).from(units).limit(1);
  return unit !== undefined;
}

/**
 * First start with GAUNG_BOOTSTRAP_ADMIN_EMAIL/PASSWORD: creates the national unit and its admin.
 * Runs once: when any unit exists, it changes nothing.
 */
export async function bootstrapAdmin(ctx: AppContext): Promise<'created' | 'exists' | 'not-configured'> {
  const { GAUNG_BOOTSTRAP_ADMIN_EMAIL: email, GAUNG_BOOTSTRAP_ADMIN_PASSWORD: password } = ctx.config;
  if (!email || !password) return 'not-configured';
  const passwordHash = await hashPassword(password);
  return ctx.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK_KEY})`);
    const [existing] = await tx.select({ id: units.id }).from(units).limit(1);
    if (existing) return 'exists';
    const id = crypto.randomUUID();
    await tx.insert(units).values({
      id,
      kind: 'national',
      name: 'Nasional',
      slug: 'nasional',
      timeZone: 'Asia/Jakarta',
      path: `/${id}/`,
    });
    const [admin] = await tx
      .insert(users)
      .values({ unitId: id, email, name: 'Administrator', role: 'admin', passwordHash })
      .returning({ id: users.id });
    await tx.insert(auditEvents).values({
      actorId: null,
      unitId: id,
      action: 'bootstrap.admin_created',
      targetType: 'user',
      targetId: admin!.id,
      details: { email },
    });
    ctx.log.info({ email }, 'created the national unit and its first admin');
    return 'created';
  });
}
