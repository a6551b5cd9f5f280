import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../domain/errors';
import { requireActor } from '../http/auth';
import { readableChannel } from '../services/channels';
import { listSandboxPosts, type SandboxPost } from '../services/sandbox-timeline';
import { ExternalLink, Time } from './components';
import { useEnv } from './env';
import type { WebOptions } from './kit';
import { Layout } from './layout';

/**
 * A sandbox channel's timeline: where the `sandbox` platform "publishes", so a demo or a dry run
 * shows what each national account would have posted. Its posts' links point here.
 */

interface SandboxMedium {
  mediaId: string;
  kind: 'image' | 'video';
  altText: string;
}

function SandboxPage(props: { channelName: string; posts: SandboxPost[] }) {
  const { t } = useEnv();
  return (
    <Layout title={t.sandbox.title(props.channelName)}>
      <p class="lead">{t.sandbox.intro}</p>
      {props.posts.length === 0 ? <p class="empty">{t.sandbox.empty}</p> : null}
      <ol class="list press">
        {props.posts.map((post) => (
          <li class="item" id={post.id}>
            <div class="meta">
              <strong>{t.sandbox.kinds[post.kind as keyof typeof t.sandbox.kinds] ?? post.kind}</strong> ·{' '}
              <Time at={post.createdAt} />
            </div>
            {post.text ? <p class="text">{post.text}</p> : null}
            {post.refersTo ? (
              <p>
                {t.sandbox.original}: <ExternalLink href={post.refersTo} />
              </p>
            ) : null}
            {(post.media as SandboxMedium[]).map((medium) =>
              medium.kind === 'image' ? (
                <img src={`/api/v1/media/${medium.mediaId}/thumbnail`} alt={medium.altText} loading="lazy" />
              ) : (
                <p>
                  {t.sandbox.video}: {medium.altText}
                </p>
              ),
            )}
          </li>
        ))}
      </ol>
    </Layout>
  );
}

export const sandboxRoutes: FastifyPluginAsyncZod<WebOptions> = async (app, { kit }) => {
  const { ctx } = kit;

  app.get(
    '/sandbox/:channelId',
    { schema: { hide: true, params: z.strictObject({ channelId: z.uuid() }) } },
    async (request, reply) => {
      const { channel } = await readableChannel(ctx, requireActor(request), request.params.channelId);
      if (channel.platform !== 'sandbox') throw notFound('Channel');
      const posts = await listSandboxPosts(ctx.db, channel.id);
      const env = await kit.env(request, reply);
      return kit.page(request, reply, env, <SandboxPage channelName={channel.name} posts={posts} />);
    },
  );
};
