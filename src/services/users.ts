import { and, asc, eq, gt, isNotNull, isNull, like, type SQL, sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import { uniqueViolation } from '../db/errors';
import { sessions, units, users } from '../db/schema';
import { AppError, notFound, notFoundAt } from '../domain/errors';
import { type Actor, authorize, decide, type Resource } from '../domain/permissions';
import { type Locale, ROLES, type Role } from '../domain/vocabulary';
import { hashPassword } from '../infra/crypto';
import { changesOf, recordAudit } from './audit';
import { endCredentials, forgetFailedLogins } from './auth';
import { findUnit, listVisibleUnits, type UnitRow } from './units';

/** The people of the organisation: a unit, a role, a locale, and whether they may still sign in. */

export type UserRow = typeof users.$inferSelect;

export interface UserView {
  id: string;
  unitId: string;
  email: string;
  name: string;
  role: Role;
  locale: Locale;
  disabled: boolean;
  disabledAt: string | null;
  /** The password was set by an admin; the person chooses their own at the next sign-in. */
  passwordMustChange: boolean;
  createdAt: string;
  updatedAt: string;
}

export const userView = (row: UserRow): UserView => ({
  id: row.id,
  unitId: row.unitId,
  email: row.email,
  name: row.name,
  role: row.role,
  locale: row.locale,
  disabled: row.disabledAt !== null,
  disabledAt: row.disabledAt?.toISOString() ?? null,
  passwordMustChange: row.passwordMustChange,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/** A user with the path of their unit, which is what permissions are decided on. */
export async function loadUser(ctx: AppContext, id: string): Promise<UserRow & { unitPath: string }> {
  const [row] = await ctx.db
    .select({ user: users, unitPath: units.path })
    .from(users)
    .innerJoin(units, eq(units.id, users.unitId))
    .where(eq(users.id, id));
  if (!row) throw notFound('User');
  return { ...row.user, unitPath: row.unitPath };
}

type LoadedUser = Awaited<ReturnType<typeof loadUser>>;

/** The resource a user is to `authorize`, as they are now. */
const userResource = (user: LoadedUser) =>
  ({ type: 'user', userId: user.id, unitPath: user.unitPath, role: user.role }) satisfies Resource;

/** A user the actor may see (themselves, or someone an admin is over), or 404. */
export async function readUser(ctx: AppContext, actor: Actor, id: string): Promise<LoadedUser> {
  const user = await loadUser(ctx, id);
  authorize(actor, 'user.read', userResource(user), 'User');
  return user;
}

/** The unit someone is put into (a new user, or one moved or given another role), once the actor may put them there. */
async function placeIn(
  ctx: AppContext,
  actor: Actor,
  user: { id?: string; role: Role },
  unitId: string,
): Promise<UnitRow> {
  const unit = await findUnit(ctx.db, unitId);
  if (!unit) throw notFoundAt('Unit', 'unitId');
  authorize(
    actor,
    'user.create',
    { type: 'user', userId: user.id, unitPath: unit.path, role: user.role },
    'Unit',
    'unitId',
  );
  return unit;
}

export interface UserQuery {
  role?: Role;
  disabled?: boolean;
  /** Part of a name or e-mail address. */
  q?: string;
  /** The e-mail address of the last user of the previous page. */
  cursor?: string;
  limit: number;
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Users of the subtree of `unitId` (default: the actor's unit), by e-mail address; for the admins over it. */
export async function listUsers(
  ctx: AppContext,
  actor: Actor,
  query: UserQuery & { unitId?: string },
): Promise<{ users: UserRow[]; nextCursor: string | null }> {
  const scope = query.unitId ? await findUnit(ctx.db, query.unitId) : { path: actor.unitPath };
  if (!scope) throw notFoundAt('Unit', 'unitId');
  authorize(actor, 'user.list', { type: 'unit', unitPath: scope.path }, 'Unit', query.unitId && 'unitId');
  const scopePath = scope.path;
  const needle = query.q ? `%${escapeLike(query.q.toLowerCase())}%` : undefined;
  const conditions: (SQL | undefined)[] = [
    like(units.path, `${scopePath}%`),
    query.role ? eq(users.role, query.role) : undefined,
    query.disabled === undefined
      ? undefined
      : query.disabled
        ? isNotNull(users.disabledAt)
        : isNull(users.disabledAt),
    needle ? sql`(lower(${users.name}) like ${needle} or ${users.email} like ${needle})` : undefined,
    query.cursor ? gt(users.email, query.cursor) : undefined,
  ];
  const rows = await ctx.db
    .select({ user: users })
    .from(users)
    .innerJoin(units, eq(units.id, users.unitId))
    .where(and(...conditions))
    .orderBy(asc(users.email))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit).map((row) => row.user);
  return { users: page, nextCursor: rows.length > query.limit ? page.at(-1)!.email : null };
}

const emailTaken = () =>
  new AppError('email_taken', 409, 'Another user already has this e-mail address', {
    errors: [{ field: 'email', message: 'already in use', code: 'email_taken' }],
  });

async function orEmailTaken<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (uniqueViolation(error) === 'users_email_key') throw emailTaken();
    throw error;
  }
}

export interface NewUser {
  email: string;
  name: string;
  role: Role;
  unitId: string;
  locale?: Locale;
  /** The first password, set by the admin and passed on to the person. */
  password: string;
}

export async function createUser(
  ctx: AppContext,
  actor: Actor,
  input: NewUser,
  ip: string | null,
): Promise<UserRow> {
  await placeIn(ctx, actor, input, input.unitId);
  const email = input.email.toLowerCase();
  const passwordHash = await hashPassword(input.password);
  return orEmailTaken(() =>
    ctx.db.transaction(async (tx) => {
      const now = ctx.now();
      const [row] = await tx
        .insert(users)
        .values({
          unitId: input.unitId,
          email,
          name: input.name,
          role: input.role,
          locale: input.locale ?? 'id',
          passwordHash,
          passwordChangedAt: now,
          passwordMustChange: true,
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      await recordAudit(ctx, tx, {
        actorId: actor.userId,
        unitId: row!.unitId,
        action: 'user.created',
        targetType: 'user',
        targetId: row!.id,
        ip,
        details: { email, name: row!.name, role: row!.role, locale: row!.locale },
      });
      return row!;
    }),
  );
}

export interface UserPatch {
  name?: string;
  role?: Role;
  unitId?: string;
  locale?: Locale;
  disabled?: boolean;
}

/**
 * Changes a user; disabling ends their sessions at once (their tokens stop working with the flag).
 * Name and locale are the person's own or an admin's over them; role, unit and access an admin's.
 */
export async function updateUser(
  ctx: AppContext,
  actor: Actor,
  userId: string,
  patch: UserPatch,
  ip: string | null,
): Promise<UserRow> {
  const current = await loadUser(ctx, userId);
  if (patch.role === undefined && patch.unitId === undefined && patch.disabled === undefined)
    authorize(actor, 'user.profile', userResource(current), 'User');
  else {
    authorize(actor, 'user.update', userResource(current), 'User');
    if (patch.unitId)
      await placeIn(ctx, actor, { id: current.id, role: patch.role ?? current.role }, patch.unitId);
    else
      authorize(
        actor,
        'user.create',
        { ...userResource(current), role: patch.role ?? current.role },
        'Unit',
        'unitId',
      );
  }
  return ctx.db.transaction(async (tx) => {
    const [user] = await tx.select().from(users).where(eq(users.id, userId)).for('update');
    if (!user) throw notFound('User');
    const { disabled, ...fields } = patch;
    const changes = changesOf(user, fields);
    if (disabled !== undefined && disabled !== (user.disabledAt !== null))
      changes.disabled = { from: !disabled, to: disabled };
    if (Object.keys(changes).length === 0) return user;
    const now = ctx.now();
    const [row] = await tx
      .update(users)
      .set({
        ...fields,
        ...(changes.disabled ? { disabledAt: disabled ? now : null } : {}),
        updatedAt: now,
      })
      .where(eq(users.id, userId))
      .returning();
    const ended = disabled
      ? await tx.delete(sessions).where(eq(sessions.userId, userId)).returning({ id: sessions.id })
      : [];
    await recordAudit(ctx, tx, {
      actorId: actor.userId,
      unitId: row!.unitId,
      action: 'user.updated',
      targetType: 'user',
      targetId: userId,
      ip,
      details: { changes, ...(ended.length > 0 ? { sessionsEnded: ended.length } : {}) },
    });
    return row!;
  });
}

/**
 * A new password set for someone else: by an admin of a higher rank over them, or (`actor` null) by
 * an operator with `npm run admin:reset-password`. Their sessions end and their API tokens are
 * revoked at once, the failed sign-ins counted against the account are forgotten, and unless
 * `mustChange` is false they must choose a password of their own when they next sign in.
 */
export async function resetPassword(
  ctx: AppContext,
  actor: Actor | null,
  userId: string,
  password: string,
  ip: string | null,
  options: { mustChange?: boolean; via?: 'cli' } = {},
): Promise<UserRow> {
  if (actor) authorize(actor, 'user.credentials', userResource(await loadUser(ctx, userId)), 'User');
  const passwordHash = await hashPassword(password);
  const row = await ctx.db.transaction(async (tx) => {
    const now = ctx.now();
    const [updated] = await tx
      .update(users)
      .set({
        passwordHash,
        passwordChangedAt: now,
        passwordMustChange: options.mustChange ?? true,
        updatedAt: now,
      })
      .where(eq(users.id, userId))
      .returning();
    if (!updated) throw notFound('User');
    const ended = await endCredentials(ctx, tx, userId);
    await recordAudit(ctx, tx, {
      actorId: actor?.userId ?? null,
      unitId: updated.unitId,
      action: 'user.password_reset',
      targetType: 'user',
      targetId: userId,
      ip,
      details: { ...ended, ...(options.via ? { via: options.via } : {}) },
    });
    return updated;
  });
  await forgetFailedLogins(ctx, row.email);
  return row;
}

/** A user by e-mail address (any case), for the operator's command line. */
export async function findUserByEmail(ctx: AppContext, email: string): Promise<UserRow | undefined> {
  const [row] = await ctx.db
    .select()
    .from(users)
    .where(eq(sql`lower(${users.email})`, email.toLowerCase()));
  return row;
}

/**
 * The people page: the users of the actor's subtree, the units they see, the units where they may
 * put people and the roles they may give.
 */
export async function userDirectory(
  ctx: AppContext,
  actor: Actor,
  query: { q?: string; cursor?: string; limit: number },
): Promise<{
  page: { users: UserRow[]; nextCursor: string | null };
  units: UnitRow[];
  placeable: UnitRow[];
  roles: Role[];
}> {
  const [page, units] = await Promise.all([listUsers(ctx, actor, query), listVisibleUnits(ctx, actor)]);
  const placeable = units.filter(
    (u) => decide(actor, 'user.create', { type: 'user', unitPath: u.path, role: 'contributor' }) === 'allow',
  );
  const roles = ROLES.filter(
    (role) => decide(actor, 'user.create', { type: 'user', unitPath: actor.unitPath, role }) === 'allow',
  );
  return { page, units, placeable, roles };
}
