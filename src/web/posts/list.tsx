import { POST_STATUSES, type PostStatus } from '../../domain/vocabulary';
import type { DeliverySummary } from '../../services/deliveries';
import type { PostSummary } from '../../services/posts';
import { Excerpt, ExternalLink, Pager, PostStatusBadge, Time } from '../components';
import { useEnv } from '../env';
import { Layout } from '../layout';

/** The office's list of its posts, with the links of those published. */

export function PostsPage(props: {
  items: PostSummary[];
  links: Map<string, DeliverySummary[]>;
  status?: PostStatus;
  q?: string;
  nextCursor: string | null;
  notice?: string | null;
}) {
  const { t } = useEnv();
  return (
    <Layout title={t.posts.title} notice={props.notice}>
      <p>
        <a class="button primary" href="/posts/new">
          {t.nav.newPost}
        </a>
      </p>
      <form method="get" action="/posts" class="filters">
        <div class="field">
          <label for="status">{t.posts.status}</label>
          <select id="status" name="status">
            <option value="">{t.common.all}</option>
            {POST_STATUSES.map((s) => (
              <option value={s} selected={s === props.status}>
                {t.postStatus[s]}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="q">{t.posts.search}</label>
          <input id="q" name="q" type="search" value={props.q ?? ''} />
        </div>
        <button type="submit" class="button">
          {t.common.filter}
        </button>
      </form>
      {props.items.length === 0 ? <p class="empty">{t.posts.empty}</p> : null}
      <ul class="list">
        {props.items.map((post) => (
          <li class="item">
            <div class="item-head">
              <PostStatusBadge status={post.status} />
              <a href={`/posts/${post.id}`} class="item-title">
                <Excerpt text={post.body || t.posts.untitled} max={140} />
              </a>
            </div>
            <div class="meta">
              {post.unit.name} · {post.author.name} · <Time at={post.submittedAt ?? post.createdAt} />
            </div>
            <PublishedLinks deliveries={props.links.get(post.id) ?? []} />
          </li>
        ))}
      </ul>
      <Pager base="/posts" query={{ status: props.status, q: props.q }} nextCursor={props.nextCursor} />
    </Layout>
  );
}

function PublishedLinks(props: {
  deliveries: { channel: { name: string }; remoteUrl: string | null; status: string }[];
}) {
  const { t } = useEnv();
  const published = props.deliveries.filter((d) => d.status === 'published' && d.remoteUrl);
  if (published.length === 0) return null;
  return (
    <p class="links">
      {t.posts.publishedOn}{' '}
      {published.map((d, index) => (
        <span>
          {index > 0 ? ', ' : ''}
          <ExternalLink href={d.remoteUrl}>{d.channel.name}</ExternalLink>
        </span>
      ))}
    </p>
  );
}
