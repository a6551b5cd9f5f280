import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channels, deliveries, postLevels, postMedia, units } from '../../src/db/schema';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, type TestOrg, type TestUser, type UnitKey } from '../helpers/org';
import { createPostVia, insertChannel, insertMedia } from '../helpers/posts';

interface PageItem {
  id: string;
  thumbnailMediaId: string | null;
  decisions: {
    unit: { id: string; name: string };
    decision: string | null;
    channels: string[];
    note: string | null;
    forwarded: boolean;
    forwardNote: string | null;
  }[];
}

/** A small deterministic generator, so a failure names the seed that shows it. */
function rng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The inbox page answers each post's thumbnail and the levels' decisions from its one query: on an
 * organisation where the levels approved, passed and forwarded at random, every page (walked with a
 * cursor) equals what the tables say, read one by one.
 */
describe.each(testDrivers())('inbox page data on %s', (driver) => {
  const SEED = Number(process.env.INBOX_SEED ?? 20_261_207);
  let t: TestApp;
  let org: TestOrg;
  // A fixed clock, so the waiting times of two requests agree.
  let clock = new Date('2030-05-01T01:00:00.000Z');
  const levelChannels = new Map<string, string[]>();

  const api = async (user: TestUser, url: string, payload: object) => {
    const response = await t.app.inject({
      method: 'POST',
      url: `/api/v1${url}`,
      headers: user.headers,
      payload,
    });
    if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
    return response.json() as { version: number };
  };

  beforeAll(async () => {
    t = await createTestApp(driver, { now: () => clock });
    org = await seedTestOrg(t.ctx);
    for (const level of ['national', 'regionA', 'regionB'] as const) {
      const unit = org.units[level];
      levelChannels.set(unit.id, [
        await insertChannel(t.ctx, unit, 'sandbox', { name: `Kanal ${level} 1` }),
        await insertChannel(t.ctx, unit, 'sandbox', { name: `Kanal ${level} 2` }),
      ]);
    }
    const random = rng(SEED);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    const offices: UnitKey[] = ['officeA1', 'officeA2', 'officeB1', 'officeB2'];
    for (let i = 0; i < 14; i++) {
      clock = new Date(clock.getTime() + 60_000);
      const office = pick(offices);
      const region = office.startsWith('officeA') ? 'regionA' : 'regionB';
      const photos = random() < 0.5 ? [] : [await insertMedia(t.ctx, org.units[office])];
      if (photos.length && random() < 0.5) photos.push(await insertMedia(t.ctx, org.units[office]));
      const post = await createPostVia(t.app, org.user(office, 'contributor'), {
        body: `Kabar ${i} dari ${office}`,
        media: photos.map((id) => ({ id })),
      });
      let version = post.version;
      const regional = org.user(region, 'reviewer');
      const own = levelChannels.get(org.units[region].id)!;
      const step = random();
      if (step < 0.3)
        version = (
          await api(regional, `/posts/${post.id}/approve`, {
            version,
            targets: own.slice(0, 1 + (i % 2)).map((channelId) => ({ channelId, at: 'now' })),
          })
        ).version;
      else if (step < 0.45)
        version = (await api(regional, `/posts/${post.id}/pass`, { version, note: 'bukan untuk kami' }))
          .version;
      if ((step < 0.3 || (step >= 0.45 && step < 0.6)) && random() < 0.6)
        version = (await api(regional, `/posts/${post.id}/forward`, { version, note: `usul ${i}` })).version;
      if (random() < 0.3)
        await api(org.user('national', 'reviewer'), `/posts/${post.id}/approve`, {
          version,
          targets: [{ channelId: levelChannels.get(org.units.national.id)![0]!, at: 'now' }],
        });
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Each post's first photo and the levels' decisions, read from the tables one by one. */
  const expected = async (postId: string): Promise<Omit<PageItem, 'id'>> => {
    const [first] = await t.ctx.db
      .select({ id: postMedia.mediaId })
      .from(postMedia)
      .where(eq(postMedia.postId, postId))
      .orderBy(postMedia.position)
      .limit(1);
    const levels = await t.ctx.db
      .select({
        unitId: postLevels.unitId,
        name: units.name,
        path: units.path,
        decision: postLevels.decision,
        note: postLevels.note,
        forwardedAt: postLevels.forwardedAt,
        forwardNote: postLevels.forwardNote,
      })
      .from(postLevels)
      .innerJoin(units, eq(units.id, postLevels.unitId))
      .where(eq(postLevels.postId, postId));
    const delivered = await t.ctx.db
      .select({ unitId: channels.unitId, name: channels.name })
      .from(deliveries)
      .innerJoin(channels, eq(channels.id, deliveries.channelId))
      .where(eq(deliveries.postId, postId));
    return {
      thumbnailMediaId: first?.id ?? null,
      decisions: levels
        .filter((level) => level.decision !== null || level.forwardedAt !== null)
        .sort((a, b) => b.path.length - a.path.length || a.unitId.localeCompare(b.unitId))
        .map((level) => ({
          unit: { id: level.unitId, name: level.name },
          decision: level.decision,
          channels: delivered
            .filter((d) => d.unitId === level.unitId)
            .map((d) => d.name)
            .sort(),
          note: level.note,
          forwarded: level.forwardedAt !== null,
          forwardNote: level.forwardNote,
        })),
    };
  };

  it('answers thumbnails and the levels’ decisions as the tables hold them, page after page', async () => {
    const seen = new Set<string>();
    let thumbnails = 0;
    for (const reviewer of [org.user('national', 'reviewer'), org.user('regionA', 'reviewer')]) {
      const whole = await t.app.inject({ url: '/api/v1/reviews?limit=200', headers: reviewer.headers });
      expect(whole.statusCode).toBe(200);
      const all = whole.json().items as PageItem[];
      const walked: PageItem[] = [];
      let cursor: string | null = null;
      do {
        const response = await t.app.inject({
          url: `/api/v1/reviews?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
          headers: reviewer.headers,
        });
        const body = response.json() as { items: PageItem[]; nextCursor: string | null };
        walked.push(...body.items);
        cursor = body.nextCursor;
      } while (cursor);
      expect(walked).toEqual(all);
      for (const item of all) {
        expect({ thumbnailMediaId: item.thumbnailMediaId, decisions: item.decisions }, item.id).toEqual(
          await expected(item.id),
        );
        for (const d of item.decisions) {
          seen.add(`${d.decision}:${d.channels.length}`);
          if (d.forwarded) seen.add('forwarded');
        }
        if (item.thumbnailMediaId) thumbnails += 1;
      }
    }
    // Not vacuous: the seed makes levels approve to one and two channels, pass and forward, and attach photos.
    expect([...seen].sort()).toEqual(
      expect.arrayContaining(['approved:1', 'approved:2', 'forwarded', 'passed:0']),
    );
    expect(thumbnails).toBeGreaterThan(2);
  });
});
