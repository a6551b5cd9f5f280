import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries, notifications, sandboxPosts, sources, units, users } from '../../src/db/schema';
import { CREDIT_PLACEHOLDERS } from '../../src/domain/rendering';
import { LOCALES, type Locale } from '../../src/domain/vocabulary';
import { en } from '../../src/web/i18n/en';
import { id } from '../../src/web/i18n/id';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, TEST_PASSWORD, type TestOrg, type TestUser } from '../helpers/org';
import { insertChannel, insertMedia } from '../helpers/posts';
import { signIn } from '../helpers/session';

/**
 * Every page of the web app, rendered in Indonesian and in English: no dictionary key, unfilled
 * placeholder or stray value (undefined, NaN, [object Object], a function's source) reaches the
 * reader, and no text of the other language is left behind. The dictionaries' types already make a
 * missing key a compile error; this catches what types cannot (a key printed instead of looked up).
 */

type Role = 'contributor' | 'reviewer' | 'admin' | 'visitor';

/** Dotted paths of every entry of a dictionary, and its string leaves. */
function walk(node: unknown, prefix: string, paths: string[], strings: string[]): void {
  if (typeof node === 'string') {
    paths.push(prefix);
    strings.push(node);
  } else if (typeof node === 'function') paths.push(prefix);
  else if (node && typeof node === 'object')
    for (const [key, value] of Object.entries(node))
      walk(value, prefix ? `${prefix}.${key}` : key, paths, strings);
}

const idPaths: string[] = [];
const idStrings: string[] = [];
walk(id, '', idPaths, idStrings);
const enStrings: string[] = [];
walk(en, '', [], enStrings);
/** Sentences that exist in one language only: finding one on a page of the other is an untranslated string. */
const onlyIn: Record<Locale, string[]> = {
  id: idStrings.filter((s) => s.length >= 12 && !enStrings.includes(s) && !/[{}]/.test(s)),
  en: enStrings.filter((s) => s.length >= 12 && !idStrings.includes(s) && !/[{}]/.test(s)),
};

/** What a reader sees: the text between tags (attribute values excluded), entities decoded. */
const visibleText = (html: string) =>
  html
    .replace(/<template[\s\S]*?<\/template>/g, ' ')
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

/** The page routes of the web app as registered (GET, outside the API and the static files). */
function registeredPages(app: TestApp['app']): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    const path = `${stack[depth - 1] ?? ''}${match[2]}`;
    stack[depth] = path;
    if (match[3]?.split(', ').includes('GET')) routes.push(path);
  }
  const notPages =
    /^\/(api\/|docs|admin\/queues|assets\/|media-public\/|healthz|readyz|metrics|press\/feed\.|press\/media\/)|^\/$|^\/press\/:slug\/feed\./;
  return [...new Set(routes.filter((path) => !notPages.test(path)))].sort();
}

describe.each(testDrivers())('web pages in both languages on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  const cookies = new Map<string, string>();
  const ids = {
    draft: '',
    changes: '',
    waiting: '',
    approved: '',
    published: '',
    retracted: '',
    channel: '',
    regionSlug: '',
  };

  const people = (): Record<Exclude<Role, 'visitor'>, TestUser> => ({
    contributor: org.user('officeA1', 'contributor'),
    reviewer: org.user('national', 'reviewer'),
    admin: org.user('national', 'admin'),
  });

  async function api(user: TestUser, url: string, payload: object, method: 'POST' | 'PATCH' = 'POST') {
    const response = await t.app.inject({ method, url: `/api/v1${url}`, headers: user.headers, payload });
    if (response.statusCode >= 300)
      throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.json() as { id: string; version: number };
  }

  beforeAll(async () => {
    t = await createTestApp(driver);
    org = await seedTestOrg(t.ctx);
    const { contributor, reviewer, admin } = people();
    const [region] = await t.ctx.db
      .select({ slug: units.slug })
      .from(units)
      .where(eq(units.id, org.units.regionA.id));
    ids.regionSlug = region!.slug;
    await t.ctx.db
      .update(units)
      .set({ transparencyPage: true, transparencyInternal: true })
      .where(eq(units.id, org.units.national.id));
    ids.channel = await insertChannel(t.ctx, org.units.national, 'sandbox', {
      name: 'Sandbox Nasional',
      slots: ['0 9 * * *', '0 15 * * *'],
    });
    // A second channel, so the review page of the approved post offers one to add.
    await insertChannel(t.ctx, org.units.national, 'mastodon', { name: 'Mastodon Nasional' });
    const mediumId = await insertMedia(t.ctx, org.units.officeA1);
    await t.ctx.db.insert(sandboxPosts).values([
      { channelId: ids.channel, idempotencyKey: 'a', kind: 'post', text: 'Layanan paspor', media: [] },
      {
        channelId: ids.channel,
        idempotencyKey: 'b',
        kind: 'repost',
        text: '',
        refersTo: 'https://x.com/kanim/status/1',
        media: [{ mediaId: mediumId, kind: 'video', mime: 'video/mp4', altText: 'Antrean' }],
      },
    ]);
    const content = {
      body: 'Layanan paspor hari Sabtu dibuka pukul 08.00 WIB. #Imigrasi',
      tags: ['Paspor'],
      media: [{ id: mediumId }],
    };
    const submitted = async () => {
      const post = await api(contributor, '/posts', content);
      return api(contributor, `/posts/${post.id}/submit`, { version: post.version });
    };
    ids.draft = (await api(contributor, '/posts', content)).id;
    const changes = await submitted();
    ids.changes = changes.id;
    await api(reviewer, `/posts/${changes.id}/comments`, { body: 'Mohon tambahkan tautan.' });
    await api(reviewer, `/posts/${changes.id}/request-changes`, {
      version: changes.version,
      comment: 'Perlu tautan asli.',
    });
    ids.waiting = (await submitted()).id;
    const approved = await submitted();
    ids.approved = approved.id;
    await api(reviewer, `/posts/${approved.id}/approve`, {
      version: approved.version,
      targets: [{ channelId: ids.channel, mode: 'copy', at: 'next-slot' }],
    });
    const publishedPost = async () => {
      const post = await submitted();
      const approval = await api(reviewer, `/posts/${post.id}/approve`, {
        version: post.version,
        targets: [{ channelId: ids.channel, mode: 'copy', at: 'now' }],
      });
      await t.ctx.db
        .update(deliveries)
        .set({ status: 'published', publishedAt: new Date(), remoteUrl: 'https://sandbox.example/p/1' })
        .where(eq(deliveries.postId, post.id));
      return { id: post.id, version: approval.version };
    };
    const published = await publishedPost();
    ids.published = published.id;
    // A retraction a person has to finish by hand: the progress page with its confirm button.
    const retracted = await publishedPost();
    ids.retracted = retracted.id;
    await api(reviewer, `/posts/${retracted.id}/retract`, {
      version: retracted.version,
      reason: 'Jadwal layanan keliru',
    });
    await t.ctx.db
      .update(deliveries)
      .set({ status: 'retraction_needs_attention', lastError: 'Hapus sendiri di platform' })
      .where(eq(deliveries.postId, retracted.id));
    await t.ctx.db.insert(notifications).values({
      userId: contributor.id,
      kind: 'delivery.published',
      postId: published.id,
      data: { channelName: 'Sandbox Nasional', url: 'https://sandbox.example/p/1' },
    });
    await api(contributor, '/tokens', { name: 'Skrip unggah kantor', currentPassword: TEST_PASSWORD });
    // Sources as the poller leaves them: one failing (its last error shown), one paused.
    const now = new Date();
    await t.ctx.db.insert(sources).values([
      {
        unitId: org.units.officeA1.id,
        createdBy: contributor.id,
        kind: 'rss',
        url: 'https://kantor-a1.example/feed/',
        title: 'Berita Kantor A1',
        autoSubmit: true,
        tags: ['Paspor'],
        since: now,
        nextPollAt: new Date(now.getTime() + 3_600_000),
        lastPolledAt: now,
        failures: 2,
        lastError: 'https://kantor-a1.example/feed/ answered HTTP 503',
        itemsImported: 4,
      },
      {
        unitId: org.units.officeA1.id,
        createdBy: contributor.id,
        kind: 'mastodon',
        url: 'https://mastodon.example/@kantora1',
        since: now,
        nextPollAt: now,
        pausedAt: now,
      },
    ]);
    await api(admin, '/tokens', { name: 'Laporan mingguan', currentPassword: TEST_PASSWORD });
    for (const [role, user] of Object.entries(people()))
      cookies.set(role, (await signIn(t.app, user.email, TEST_PASSWORD)).cookie.cookie);
  });

  afterAll(async () => {
    await t?.close();
  });

  const pages = (): [Role, string, string][] => [
    ['contributor', '/posts', '/posts'],
    ['contributor', '/posts/new', '/posts/new'],
    ['contributor', '/posts/:id', `/posts/${ids.changes}`],
    ['contributor', '/posts/:id/edit', `/posts/${ids.draft}/edit`],
    ['contributor', '/notifications', '/notifications'],
    ['contributor', '/account', '/account'],
    ['contributor', '/sources', '/sources'],
    ['reviewer', '/sources', '/sources'],
    ['reviewer', '/inbox', '/inbox'],
    ['reviewer', '/review/:id', `/review/${ids.waiting}`],
    ['reviewer', '/review/:id', `/review/${ids.approved}`],
    ['reviewer', '/calendar', '/calendar'],
    ['reviewer', '/calendar', '/calendar?view=month'],
    ['reviewer', '/deliveries', '/deliveries'],
    ['reviewer', '/reports', '/reports'],
    ['reviewer', '/posts/:id', `/posts/${ids.approved}`],
    ['reviewer', '/posts/:id', `/posts/${ids.published}`],
    ['reviewer', '/posts/:id/retract', `/posts/${ids.published}/retract`],
    ['reviewer', '/posts/:id/retraction', `/posts/${ids.retracted}/retraction`],
    ['contributor', '/posts/:id/retraction', `/posts/${ids.retracted}/retraction`],
    ['admin', '/admin/channels', '/admin/channels'],
    ['admin', '/admin/channels/:id', `/admin/channels/${ids.channel}`],
    ['reviewer', '/sandbox/:channelId', `/sandbox/${ids.channel}`],
    ['admin', '/admin/units', '/admin/units'],
    ['admin', '/admin/review', '/admin/review'],
    ['admin', '/admin/users', '/admin/users'],
    ['admin', '/admin/tokens', '/admin/tokens'],
    ['admin', '/admin/audit', '/admin/audit'],
    ['admin', '/admin/working-time', '/admin/working-time'],
    ['admin', '/admin/blackouts', '/admin/blackouts'],
    ['visitor', '/login', '/login'],
    ['visitor', '/press', '/press'],
    ['visitor', '/press/:slug', `/press/${ids.regionSlug}`],
    ['visitor', '/transparency', '/transparency'],
    ['admin', '/admin/transparency', '/admin/transparency'],
  ];

  it('covers every page the web app registers', () => {
    const covered = [...new Set(pages().map(([, route]) => route))].sort();
    expect(registeredPages(t.app)).toEqual(covered);
  });

  for (const locale of LOCALES)
    it(`renders every page in ${locale} without keys, placeholders or the other language`, async () => {
      // A signed-in person reads in the locale of their user row.
      for (const user of Object.values(people()))
        await t.ctx.db.update(users).set({ locale }).where(eq(users.id, user.id));
      const problems: string[] = [];
      const check = async (role: Role, url: string, expectStatus = 200) => {
        const headers: Record<string, string> = role === 'visitor' ? {} : { cookie: cookies.get(role)! };
        const response = await t.app.inject({
          url: role === 'visitor' ? `${url}?lang=${locale}` : url,
          headers,
        });
        if (response.statusCode !== expectStatus) {
          problems.push(`${url}: status ${response.statusCode}`);
          return;
        }
        const html = response.body;
        if (!html.includes(`<html lang="${locale}">`)) problems.push(`${url}: not marked as ${locale}`);
        const text = visibleText(html);
        for (const path of idPaths)
          if (new RegExp(`(^|[^\\w.])${path.replace(/\./g, '\\.')}($|[^\\w.])`).test(text))
            problems.push(`${url}: raw key ${path}`);
        for (const stray of ['undefined', 'NaN', '[object Object]', '=>', 'function'])
          if (text.includes(stray)) problems.push(`${url}: "${stray}" in the text`);
        for (const match of text.matchAll(/\{([a-z_]+)\}/g))
          if (!(CREDIT_PLACEHOLDERS as readonly string[]).includes(match[1]!))
            problems.push(`${url}: placeholder ${match[0]}`);
        const other = locale === 'id' ? 'en' : 'id';
        for (const sentence of onlyIn[other])
          if (text.includes(sentence)) problems.push(`${url}: ${other} text "${sentence}"`);
      };
      for (const [role, , url] of pages()) await check(role, url);
      // The error page too.
      await check('contributor', '/posts/00000000-0000-4000-8000-000000000000', 404);
      expect(problems).toEqual([]);
    });
});
