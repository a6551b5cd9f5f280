import { sql } from 'drizzle-orm';
import type { AppContext } from '../context';
import { auditEvents, channels, postingSlots, units, users } from '../db/schema';
import type { Role, UnitKind } from '../domain/vocabulary';
import { hashPassword, randomToken } from '../infra/crypto';
import { seedDemoHistory } from './demo-history';

const DEMO_LOCK_KEY = 7_302_418_003;

interface DemoUnit {
  key: string;
  name: string;
  slug: string;
  kind: UnitKind;
  parent?: string;
  timeZone: string;
}

const DEMO_UNITS: DemoUnit[] = [
  {
    key: 'national',
    name: 'Direktorat Jenderal (Nasional)',
    slug: 'nasional',
    kind: 'national',
    timeZone: 'Asia/Jakarta',
  },
  {
    key: 'jatim',
    name: 'Kanwil Jawa Timur',
    slug: 'kanwil-jatim',
    kind: 'regional',
    parent: 'national',
    timeZone: 'Asia/Jakarta',
  },
  {
    key: 'sulsel',
    name: 'Kanwil Sulawesi Selatan',
    slug: 'kanwil-sulsel',
    kind: 'regional',
    parent: 'national',
    timeZone: 'Asia/Makassar',
  },
  {
    key: 'surabaya',
    name: 'Kantor Surabaya',
    slug: 'kantor-surabaya',
    kind: 'office',
    parent: 'jatim',
    timeZone: 'Asia/Jakarta',
  },
  {
    key: 'malang',
    name: 'Kantor Malang',
    slug: 'kantor-malang',
    kind: 'office',
    parent: 'jatim',
    timeZone: 'Asia/Jakarta',
  },
  {
    key: 'makassar',
    name: 'Kantor Makassar',
    slug: 'kantor-makassar',
    kind: 'office',
    parent: 'sulsel',
    timeZone: 'Asia/Makassar',
  },
];

const DEMO_USERS: Array<{ unit: string; role: Role; email: string; name: string }> = [
  { unit: 'national', role: 'admin', email: 'admin@demo.gaung', name: 'Admin Nasional' },
  { unit: 'national', role: 'reviewer', email: 'humas@demo.gaung', name: 'Humas Pusat' },
  { unit: 'surabaya', role: 'contributor', email: 'surabaya@demo.gaung', name: 'Kantor Surabaya' },
  { unit: 'makassar', role: 'contributor', email: 'makassar@demo.gaung', name: 'Kantor Makassar' },
  { unit: 'malang', role: 'contributor', email: 'malang@demo.gaung', name: 'Kantor Malang' },
];

/**
 * GAUNG_DEMO=1 on a first start: a small organisation with one user per role and national channels
 * on the `sandbox` platform, which publishes into Gaung's own timeline, and a few weeks of history
 * (see demo-history.ts). Sign-ins are printed once.
 */
export async function seedDemo(
  ctx: AppContext,
): Promise<Array<{ email: string; password: string; role: Role }> | null> {
  if (!ctx.config.GAUNG_DEMO) return null;
  const people = await Promise.all(
    DEMO_USERS.map(async (user) => {
      const password = randomToken('', 9);
      return { ...user, password, passwordHash: await hashPassword(password) };
    }),
  );
  const created = await ctx.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${DEMO_LOCK_KEY})`);
    const [existing] = await tx.select({ id: units.id }).from(units).limit(1);
    if (existing) return false;
    const ids = new Map<string, { id: string; path: string }>();
    for (const unit of DEMO_UNITS) {
      const id = crypto.randomUUID();
      const parent = unit.parent ? ids.get(unit.parent)! : undefined;
      const path = `${parent?.path ?? '/'}${id}/`;
      ids.set(unit.key, { id, path });
      await tx.insert(units).values({
        id,
        parentId: parent?.id ?? null,
        kind: unit.kind,
        name: unit.name,
        slug: unit.slug,
        timeZone: unit.timeZone,
        path,
      });
    }
    const userIds = new Map<string, string>();
    for (const person of people) {
      const [user] = await tx
        .insert(users)
        .values({
          unitId: ids.get(person.unit)!.id,
          email: person.email,
          name: person.name,
          role: person.role,
          passwordHash: person.passwordHash,
        })
        .returning({ id: users.id });
      userIds.set(person.email, user!.id);
    }
    const national = ids.get('national')!.id;
    const channelIds: string[] = [];
    for (const name of ['Sandbox — Akun Nasional A', 'Sandbox — Akun Nasional B']) {
      const [channel] = await tx
        .insert(channels)
        .values({
          unitId: national,
          platform: 'sandbox',
          name,
          handle: name,
          timeZone: 'Asia/Jakarta',
          dailyCap: 8,
          minSpacingMinutes: 60,
        })
        .returning({ id: channels.id });
      channelIds.push(channel!.id);
      await tx.insert(postingSlots).values(
        ['0 9 * * *', '0 12 * * *', '0 16 * * *', '0 19 * * *'].map((cron) => ({
          channelId: channel!.id,
          cron,
        })),
      );
    }
    const offices = people.filter((person) => person.role === 'contributor');
    await seedDemoHistory(tx, {
      now: ctx.now(),
      offices: offices.map((person) => ({
        ...ids.get(person.unit)!,
        name: person.name,
        authorId: userIds.get(person.email)!,
      })),
      nationalId: national,
      reviewerId: userIds.get('humas@demo.gaung')!,
      channelIds,
      publicUrl: ctx.config.publicUrl,
    });
    await tx
      .insert(auditEvents)
      .values({ unitId: national, action: 'demo.seeded', details: { users: people.length } });
    return true;
  });
  if (!created) return null;
  return people.map(({ email, password, role }) => ({ email, password, role }));
}
