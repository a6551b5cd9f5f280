import { eq } from 'drizzle-orm';
import { units } from '../../../../src/db/schema';
import { insertChannel } from '../../../helpers/posts';
import { anyone, form, json, open, page, signedIn, webTable } from './table';

/**
 * The public pages (sign-in, the press room, the transparency page, assets), signing out, Telegram's
 * webhook deliveries, and the sandbox timeline.
 */

interface Fixtures {
  sandbox: string;
  slug: string;
}

export const publicTable = webTable<Fixtures>({
  name: 'public pages',
  setup: async (env) => {
    // The transparency page is off by default; the organisation turns it on here.
    await env.ctx.db
      .update(units)
      .set({ transparencyPage: true })
      .where(eq(units.id, env.org.units.national.id));
    const [office] = await env.ctx.db
      .select({ slug: units.slug })
      .from(units)
      .where(eq(units.id, env.org.units.officeA1.id));
    return {
      sandbox: await insertChannel(env.ctx, env.org.units.officeA1, 'sandbox', { name: 'Sandbox Kantor A1' }),
      slug: office!.slug,
    };
  },
  rows: [
    {
      route: 'GET /login',
      request: () => page('/login'),
      // Signed-in people are sent on to their start page.
      expect: { ...anyone(303), anonymous: 200, revoked: 200, disabled: 200 },
    },
    {
      route: 'POST /login',
      case: 'without the nonce of the sign-in page',
      request: (actor, _f, { org }) => ({
        ...form('/login', {
          _login: 'bukan-nonce',
          email: actor.user?.email ?? org.user('national', 'admin').email,
          password: 'salah',
        }),
        csrf: false,
      }),
      expect: open(403),
    },
    { route: 'POST /logout', request: () => form('/logout'), expect: open(303) },
    { route: 'GET /press', request: () => page('/press'), expect: open(200) },
    { route: 'GET /press/feed.json', request: () => page('/press/feed.json'), expect: open(200) },
    { route: 'GET /press/feed.xml', request: () => page('/press/feed.xml'), expect: open(200) },
    {
      route: 'GET /press/:slug',
      case: 'office A1',
      request: (_a, f) => page(`/press/${f.slug}`),
      expect: open(200),
    },
    {
      route: 'GET /press/:slug/feed.json',
      request: (_a, f) => page(`/press/${f.slug}/feed.json`),
      expect: open(200),
    },
    {
      route: 'GET /press/:slug/feed.xml',
      request: (_a, f) => page(`/press/${f.slug}/feed.xml`),
      expect: open(200),
    },
    {
      route: 'GET /press/media/:postId/:position',
      case: 'a post that was never published',
      request: () => page(`/press/media/${crypto.randomUUID()}/0`),
      expect: open(404),
    },
    { route: 'GET /transparency', request: () => page('/transparency'), expect: open(200) },
    { route: 'GET /assets/:name', request: () => page('/assets/gaung.css'), expect: open(200) },
    {
      route: 'GET /media-public/:id/:platform',
      case: 'without a signature',
      request: () => page(`/media-public/${crypto.randomUUID()}/x`),
      expect: open(403),
    },
    {
      // Telegram's deliveries to the source bot's webhook: only its secret token opens it, no session or token.
      route: 'POST /hooks/telegram/source',
      case: 'without the secret token',
      request: () => json('POST', '/hooks/telegram/source', { update_id: 1 }),
      expect: open(401),
    },
    {
      // The sandbox platform's timeline of a channel of office A1: read like the channel.
      route: 'GET /sandbox/:channelId',
      request: (_a, f) => page(`/sandbox/${f.sandbox}`),
      expect: signedIn({
        national: [404, 200, 200],
        regionA: [404, 200, 200],
        regionB: [404, 404, 404],
        officeA1: [200, 200, 200],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
  ],
});
