import type { AppContext } from '../../src/context';
import { apiTokens, units, users } from '../../src/db/schema';
import type { Role, UnitKind } from '../../src/domain/vocabulary';
import { hashPassword, randomToken, sha256Hex } from '../../src/infra/crypto';

/**
 * A test organisation written straight to the database: national; regions A and B; offices A1, A2
 * (under A) and B1, B2 (under B); one user per role in every unit, each with an API token.
 */

export const TEST_PASSWORD = 'kata-sandi-uji-12345';

export interface TestUnit {
  id: string;
  path: string;
  name: string;
  kind: UnitKind;
}

export interface TestUser {
  id: string;
  email: string;
  role: Role;
  unitId: string;
  token: string;
  /** `{ authorization: 'Bearer …' }` for app.inject. */
  headers: { authorization: string };
}

export const UNIT_KEYS = [
  'national',
  'regionA',
  'regionB',
  'officeA1',
  'officeA2',
  'officeB1',
  'officeB2',
] as const;
export type UnitKey = (typeof UNIT_KEYS)[number];

export interface TestOrg {
  units: Record<UnitKey, TestUnit>;
  /** `org.user('officeA1', 'contributor')`. */
  user(unit: UnitKey, role: Role): TestUser;
}

let passwordHash: Promise<string> | undefined;

export async function createTestUnit(
  ctx: AppContext,
  input: { name: string; kind: UnitKind; parent?: TestUnit; timeZone?: string },
): Promise<TestUnit> {
  const id = crypto.randomUUID();
  const path = `${input.parent?.path ?? '/'}${id}/`;
  await ctx.db.insert(units).values({
    id,
    parentId: input.parent?.id ?? null,
    kind: input.kind,
    name: input.name,
    slug: `${input.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${id.slice(0, 6)}`,
    timeZone: input.timeZone ?? 'Asia/Jakarta',
    path,
  });
  return { id, path, name: input.name, kind: input.kind };
}

export async function createTestUser(
  ctx: AppContext,
  input: { unit: TestUnit; role: Role; email?: string; name?: string },
): Promise<TestUser> {
  passwordHash ??= hashPassword(TEST_PASSWORD);
  const email = input.email ?? `${input.role}.${crypto.randomUUID().slice(0, 8)}@gaung.test`;
  const [user] = await ctx.db
    .insert(users)
    .values({
      unitId: input.unit.id,
      email,
      name: input.name ?? `${input.role} of ${input.unit.name}`,
      role: input.role,
      passwordHash: await passwordHash,
    })
    .returning({ id: users.id });
  const token = randomToken('gaung_');
  await ctx.db.insert(apiTokens).values({
    userId: user!.id,
    name: 'test',
    tokenHash: sha256Hex(token),
    prefix: token.slice(0, 12),
  });
  return {
    id: user!.id,
    email,
    role: input.role,
    unitId: input.unit.id,
    token,
    headers: { authorization: `Bearer ${token}` },
  };
}

export async function seedTestOrg(ctx: AppContext): Promise<TestOrg> {
  const national = await createTestUnit(ctx, { name: 'Nasional', kind: 'national' });
  const regionA = await createTestUnit(ctx, { name: 'Kanwil A', kind: 'regional', parent: national });
  const regionB = await createTestUnit(ctx, {
    name: 'Kanwil B',
    kind: 'regional',
    parent: national,
    timeZone: 'Asia/Makassar',
  });
  const officeA1 = await createTestUnit(ctx, { name: 'Kantor A1', kind: 'office', parent: regionA });
  const officeA2 = await createTestUnit(ctx, { name: 'Kantor A2', kind: 'office', parent: regionA });
  const officeB1 = await createTestUnit(ctx, {
    name: 'Kantor B1',
    kind: 'office',
    parent: regionB,
    timeZone: 'Asia/Makassar',
  });
  const officeB2 = await createTestUnit(ctx, {
    name: 'Kantor B2',
    kind: 'office',
    parent: regionB,
    timeZone: 'Asia/Jayapura',
  });
  const unitMap = { national, regionA, regionB, officeA1, officeA2, officeB1, officeB2 };
  const people = new Map<string, TestUser>();
  for (const key of UNIT_KEYS)
    for (const role of ['contributor', 'reviewer', 'admin'] as const)
      people.set(`${key}.${role}`, await createTestUser(ctx, { unit: unitMap[key], role }));
  return {
    units: unitMap,
    user(unit, role) {
      return people.get(`${unit}.${role}`)!;
    },
  };
}
