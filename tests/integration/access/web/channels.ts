import { eq } from 'drizzle-orm';
import { channels } from '../../../../src/db/schema';
import { insertChannel } from '../../../helpers/posts';
import { adminsOverRegionA, regionAChannel } from '../channels';
import { anyone, form, page, signedIn, webTable } from './table';

/**
 * The channel admin pages, on channels of region A: seen by its subtree and the offices below;
 * managed by the admins over it (the national admin, region A's admin).
 */

export const manageChannel = (ok: number) => signedIn(adminsOverRegionA(ok));

interface Fixtures {
  channel: string;
  youtube: string;
  tiktok: string;
  facebook: string;
}

export const channelsWebTable = webTable<Fixtures>({
  name: 'channel pages',
  setup: async (env) => {
    const regionA = env.org.units.regionA;
    return {
      channel: await regionAChannel(env),
      youtube: await insertChannel(env.ctx, regionA, 'youtube', { name: 'YouTube Kanwil A' }),
      tiktok: await insertChannel(env.ctx, regionA, 'tiktok', { name: 'TikTok Kanwil A' }),
      facebook: await insertChannel(env.ctx, regionA, 'facebook', { name: 'FB Kanwil A' }),
    };
  },
  rows: [
    { route: 'GET /admin/channels', request: () => page('/admin/channels'), expect: anyone(200) },
    {
      route: 'POST /admin/channels',
      case: 'a channel of region A',
      request: (_actor, _f, { org }) =>
        form('/admin/channels', { unitId: org.units.regionA.id, platform: 'sandbox', name: 'Sandbox Baru' }),
      expect: manageChannel(303),
    },
    {
      route: 'GET /admin/channels/:id',
      request: (_actor, f) => page(`/admin/channels/${f.channel}`),
      expect: manageChannel(200),
    },
    {
      route: 'POST /admin/channels/:id',
      case: 'name, slots and limits',
      request: async (_actor, f, { ctx }) => {
        const [channel] = await ctx.db.select().from(channels).where(eq(channels.id, f.channel));
        return form(`/admin/channels/${f.channel}`, {
          name: 'Sandbox Kanwil A',
          timeZone: 'Asia/Jakarta',
          slots: '0 9 * * *',
          dailyCap: '',
          minSpacingMinutes: '0',
          creditTemplate: channel!.creditTemplate,
        });
      },
      expect: manageChannel(303),
    },
    {
      route: 'POST /admin/channels/:id/connect',
      case: 'a sandbox channel (no credentials to give)',
      request: (_actor, f) => form(`/admin/channels/${f.channel}/connect`),
      expect: manageChannel(303),
    },
    {
      route: 'POST /admin/channels/:id/youtube',
      request: (_actor, f) =>
        form(`/admin/channels/${f.youtube}/youtube`, { madeForKids: 'false', privacyStatus: 'public' }),
      expect: manageChannel(303),
    },
    {
      route: 'POST /admin/channels/:id/tiktok',
      request: (_actor, f) =>
        form(`/admin/channels/${f.tiktok}/tiktok`, { unaudited: 'true', privacyLevel: 'SELF_ONLY' }),
      expect: manageChannel(303),
    },
    {
      route: 'POST /admin/channels/:id/meta',
      case: 'the Graph API unreachable here',
      request: (_actor, f) =>
        form(`/admin/channels/${f.facebook}/meta`, { userAccessToken: 'token-pengguna-meta' }),
      expect: manageChannel(422),
    },
    {
      route: 'POST /admin/channels/:id/verify',
      request: (_actor, f) => form(`/admin/channels/${f.channel}/verify`),
      expect: manageChannel(200),
    },
    {
      route: 'POST /admin/channels/:id/pause',
      request: (_actor, f) => form(`/admin/channels/${f.channel}/pause`, { paused: 'false' }),
      expect: manageChannel(303),
    },
    {
      route: 'POST /admin/channels/:id/archive',
      request: async (_actor, _f, env) => form(`/admin/channels/${await regionAChannel(env)}/archive`),
      expect: manageChannel(303),
    },
  ],
});
