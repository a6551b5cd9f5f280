import type { NotificationView } from '../../services/notifications';
import { ActionButton, ExternalLink, Time } from '../components';
import { useEnv } from '../env';
import type { Messages } from '../i18n/index';
import { Layout } from '../layout';

/** The signed-in person's in-app notifications. */

function NotificationLine(props: { item: NotificationView }) {
  const { t } = useEnv();
  const { item } = props;
  const data = item.data;
  // What the line names: the channel of a publish outcome, the office of a post waiting for review.
  const channel =
    typeof data.channelName === 'string'
      ? data.channelName
      : typeof data.officeName === 'string'
        ? data.officeName
        : '';
  const kind = item.kind as keyof Messages['notifications']['kinds'];
  const describe = t.notifications.kinds[kind];
  return (
    <li class={`item${item.readAt ? '' : ' unread'}`}>
      <div class="item-head">
        {item.postId ? (
          <a href={`/posts/${item.postId}`}>{describe ? describe(channel) : item.kind}</a>
        ) : describe ? (
          describe(channel)
        ) : (
          item.kind
        )}
      </div>
      <div class="meta">
        <Time at={item.createdAt} />
      </div>
      {typeof data.comment === 'string' ? <p class="comment">{data.comment}</p> : null}
      {typeof data.error === 'string' ? <p class="error-text">{data.error}</p> : null}
      {typeof data.url === 'string' ? (
        <p>
          <ExternalLink href={data.url} />
        </p>
      ) : null}
    </li>
  );
}

export function NotificationsPage(props: {
  items: NotificationView[];
  unread: number;
  notice?: string | null;
}) {
  const { t } = useEnv();
  return (
    <Layout title={t.notifications.title} notice={props.notice}>
      {props.unread > 0 ? (
        <ActionButton action="/notifications/read" label={t.notifications.markAllRead} />
      ) : null}
      {props.items.length === 0 ? <p class="empty">{t.notifications.empty}</p> : null}
      <ul class="list">
        {props.items.map((item) => (
          <NotificationLine item={item} />
        ))}
      </ul>
    </Layout>
  );
}
