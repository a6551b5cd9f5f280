import { PLATFORMS, type Platform } from '../../domain/vocabulary';
import type { Inbox } from '../../services/reviews/inbox';
import type { BulkChannel } from '../../services/reviews/screen';
import type { PendingRuleApproval } from '../../services/source-rules';
import type { UnitRow } from '../../services/units';
import { Csrf, Excerpt, PlatformName, Time } from '../components';
import { useEnv } from '../env';
import { Layout } from '../layout';
import { formatTime } from '../time';
import { type BulkOutcome, BulkPanel, BulkSummary } from './bulk';
import { Age, LevelDecisions, Shortcuts } from './parts';

/** Humas: the inbox of posts waiting at the reviewer's level. */

/** What auto-approval rules will approve, each with its time, a stop button and a link to the rule. */
function AutomaticLane(props: { entries: PendingRuleApproval[] }) {
  const { t, locale, zone } = useEnv();
  if (props.entries.length === 0) return null;
  return (
    <section class="lane" data-lane="automatic" aria-labelledby="automatic-title">
      <h2 id="automatic-title">{t.inbox.automaticTitle}</h2>
      <ul>
        {props.entries.map((entry) => (
          <li data-post={entry.postId} data-rule={entry.ruleId}>
            <a href={`/review/${entry.postId}`}>{entry.excerpt}</a> · {entry.unitName}
            <p>
              {entry.publishAt
                ? t.inbox.automaticAt(formatTime(entry.publishAt, locale, zone))
                : t.inbox.automaticSlot(formatTime(entry.decideAt, locale, zone))}{' '}
              · {entry.channelNames.join(', ')} · {t.inbox.byRule(entry.authorName)}
            </p>
            <form method="post" action={`/inbox/rules/${entry.sourceId}/${entry.ruleId}/stop`} class="inline">
              <Csrf />
              <input type="hidden" name="post" value={entry.postId} />
              <button type="submit">{t.inbox.stopRule}</button>{' '}
              <a href={`/sources#rule-${entry.ruleId}`}>{t.inbox.editRule}</a>
            </form>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function InboxPage(props: {
  inbox: Inbox;
  units: UnitRow[];
  unit?: string;
  platform?: Platform;
  q?: string;
  forwarded: boolean;
  notice?: string | null;
  error?: string | null;
  bulkChannels: BulkChannel[];
  bulk?: BulkOutcome;
  automatic: PendingRuleApproval[];
}) {
  const { t } = useEnv();
  const { inbox } = props;
  const items = inbox.items;
  const query = new URLSearchParams();
  if (props.unit) query.set('unit', props.unit);
  if (props.platform) query.set('platform', props.platform);
  if (props.q) query.set('q', props.q);
  if (props.forwarded) query.set('forwarded', '1');
  return (
    <Layout title={t.inbox.title} notice={props.notice} error={props.error}>
      <p class="lead" data-total={inbox.total}>
        {t.inbox.waiting(inbox.total)}
      </p>
      <AutomaticLane entries={props.automatic} />
      <form method="get" action="/inbox" class="filters">
        <div class="field">
          <label for="unit">{t.inbox.unit}</label>
          <select id="unit" name="unit">
            <option value="">{t.common.all}</option>
            {props.units.map((u) => (
              <option value={u.id} selected={u.id === props.unit}>
                {u.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="platform">{t.inbox.platform}</label>
          <select id="platform" name="platform" aria-describedby="platform-hint">
            <option value="">{t.common.all}</option>
            {PLATFORMS.map((p) => (
              <option value={p} selected={p === props.platform}>
                {t.platform[p]}
              </option>
            ))}
          </select>
          <small class="hint" id="platform-hint">
            {t.inbox.platformHint}
          </small>
        </div>
        <div class="field">
          <label for="q">{t.posts.search}</label>
          <input id="q" name="q" type="search" value={props.q ?? ''} />
        </div>
        <label class="check">
          <input type="checkbox" name="forwarded" value="1" checked={props.forwarded} />{' '}
          {t.inbox.onlyForwarded}
        </label>
        <button type="submit" class="button">
          {t.common.filter}
        </button>
      </form>
      {inbox.units.length > 0 ? (
        <details class="counts">
          <summary>{t.inbox.perUnit}</summary>
          <table>
            <thead>
              <tr>
                <th scope="col">{t.inbox.unit}</th>
                <th scope="col">{t.inbox.count}</th>
                <th scope="col">{t.inbox.oldest}</th>
              </tr>
            </thead>
            <tbody>
              {inbox.units.map((row) => (
                <tr>
                  <td>
                    <a href={`/inbox?unit=${row.unit.id}`}>{row.unit.name}</a>
                  </td>
                  <td>{row.count}</td>
                  <td>
                    <Age seconds={row.oldestAgeSeconds} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ) : null}
      {props.bulk ? <BulkSummary outcome={props.bulk} /> : null}
      {items.length === 0 ? <p class="empty">{t.inbox.empty}</p> : null}
      <form method="post" action="/inbox/bulk" id="bulk-form">
        <Csrf />
        <ol class="list inbox" data-inbox>
          {items.map((item) => (
            <li class="item" data-post={item.id}>
              <input
                type="checkbox"
                name="post"
                value={`${item.id}:${item.version}`}
                aria-label={t.inbox.select(item.unit.name)}
                data-select
              />
              {item.thumbnailMediaId ? (
                <img
                  class="thumb"
                  src={`/api/v1/media/${item.thumbnailMediaId}/thumbnail`}
                  alt=""
                  width={64}
                  height={64}
                  loading="lazy"
                />
              ) : null}
              <a href={`/review/${item.id}`} class="item-title" data-item>
                <Excerpt text={item.body || t.posts.untitled} max={200} />
              </a>
              <div class="meta">
                {item.arrival === 'forwarded' ? (
                  <>
                    <span class="badge" data-forwarded>
                      {t.inbox.forwarded}
                    </span>{' '}
                  </>
                ) : null}
                {item.overdue ? (
                  <>
                    <span class="badge badge-overdue" data-overdue title={t.inbox.overdueHint}>
                      {t.inbox.overdue}
                    </span>{' '}
                  </>
                ) : null}
                {item.unit.name} · {item.author.name} · <Time at={item.submittedAt} /> ·{' '}
                <Age seconds={item.ageSeconds} />
                {item.sourcePlatform ? (
                  <>
                    {' · '}
                    <PlatformName platform={item.sourcePlatform} />
                  </>
                ) : null}
              </div>
              <LevelDecisions decisions={item.decisions} />
            </li>
          ))}
        </ol>
        {items.length > 0 ? <BulkPanel channels={props.bulkChannels} /> : null}
      </form>
      {inbox.nextCursor ? (
        <nav class="pager" aria-label={t.common.pages}>
          <a
            href={`/inbox?${query.toString()}${query.size ? '&' : ''}cursor=${encodeURIComponent(inbox.nextCursor)}`}
            rel="next"
          >
            {t.common.nextPage}
          </a>
        </nav>
      ) : null}
      <Shortcuts
        keys={[
          ['j', t.shortcuts.next],
          ['k', t.shortcuts.previous],
          ['Enter', t.shortcuts.open],
        ]}
      />
    </Layout>
  );
}
