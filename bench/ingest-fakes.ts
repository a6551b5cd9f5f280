import { createFakeBluesky } from '../tests/fakes/bluesky';
import { createFeedSite } from '../tests/fakes/feed-site';
import { createFakeMastodon } from '../tests/fakes/mastodon';
import { createGraphFake } from '../tests/fakes/meta/facebook-instagram';
import { createThreadsFake } from '../tests/fakes/meta/threads';
import { testImage } from '../tests/fakes/platform-context';
import { createFakePlc } from '../tests/fakes/plc';
import { createFakeX } from '../tests/fakes/x';
import { createFakeYoutube } from '../tests/fakes/youtube';

/**
 * The ingest benchmark's platforms, in a process of their own (so their work is not counted as
 * Gaung's): the fakes of every kind a source reads, each office account seeded with its new items.
 * Reads `{ perKind, items }` as JSON on stdin; writes one line `accounts <json>` with the sources to
 * add and the environment that points Gaung at the fakes.
 */

export interface BenchAccount {
  kind: 'rss' | 'mastodon' | 'instagram' | 'facebook' | 'threads' | 'x' | 'bluesky' | 'youtube';
  url: string;
  handle: string | null;
  accountId: string | null;
  settings: Record<string, unknown>;
  credentials: Record<string, unknown> | null;
}

const X_CLIENT = 'gaung-bench-ingest';

const input = await new Promise<string>((resolve) => {
  let text = '';
  process.stdin.on('data', (chunk) => {
    text += chunk;
    if (text.includes('\n')) resolve(text);
  });
});
const { perKind, items } = JSON.parse(input) as { perKind: number; items: number };

const site = createFeedSite();
const mastodon = createFakeMastodon();
const graph = createGraphFake();
const threads = createThreadsFake();
const x = createFakeX();
const pds = createFakeBluesky();
const plc = createFakePlc();
const youtube = createFakeYoutube();
await Promise.all([
  site.start(),
  mastodon.start(),
  graph.start(),
  threads.start(),
  x.start(),
  pds.start(),
  plc.start(),
  youtube.start(),
]);
x.registerClient(X_CLIENT);
const still = await testImage({ width: 320, height: 180, format: 'jpeg', hue: 200 });

/** Each item published a few minutes apart within the last hour: new to a source added now. */
const at = (index: number) => new Date(Date.now() - (items - index) * 5 * 60_000);
const text = (n: number, index: number) =>
  `Kantor ${n}: layanan paspor hari Sabtu, kabar ${index + 1}. Informasi lengkap di kantor kami. #imigrasi #paspor`;

const accounts: BenchAccount[] = [];
for (let n = 0; n < perKind; n++) {
  const feed = site.feed(`/kantor-${n}/feed.xml`, { format: 'rss', title: `Kantor ${n}` });
  for (let i = 0; i < items; i++)
    feed.add({ title: `Kabar ${i + 1}`, summary: `<p>${text(n, i)}</p>`, published: at(i) });
  accounts.push({
    kind: 'rss',
    url: feed.url,
    handle: null,
    accountId: null,
    settings: {},
    credentials: null,
  });

  const account = mastodon.addAccount({ username: `kantor_${n}` });
  for (let i = 0; i < items; i++) mastodon.addStatus(account.id, text(n, i), { createdAt: at(i) });
  accounts.push({
    kind: 'mastodon',
    url: `${mastodon.url}/@kantor_${n}`,
    handle: `kantor_${n}`,
    accountId: account.id,
    settings: {},
    credentials: null,
  });

  const page = graph.createPage(`Kantor ${n}`);
  const { igUserId } = graph.linkInstagram(page.pageId, `kantor_ig_${n}`);
  for (let i = 0; i < items; i++)
    graph.postIgMedia(igUserId, { caption: text(n, i), media: [], createdAt: at(i).getTime() });
  accounts.push({
    kind: 'instagram',
    url: `https://www.instagram.com/kantor_ig_${n}/`,
    handle: `kantor_ig_${n}`,
    accountId: null,
    settings: { igUserId },
    credentials: { accessToken: page.pageToken },
  });

  const fbPage = graph.createPage(`Kantor Imigrasi ${n}`);
  for (let i = 0; i < items; i++)
    graph.postOnPage(fbPage.pageId, { message: text(n, i), createdAt: at(i).getTime() });
  accounts.push({
    kind: 'facebook',
    url: `https://www.facebook.com/${fbPage.pageId}`,
    handle: fbPage.pageId,
    accountId: null,
    settings: { pageId: fbPage.pageId },
    credentials: { pageAccessToken: fbPage.pageToken },
  });

  const threadsUser = threads.createUser(`kantor_th_${n}`);
  for (let i = 0; i < items; i++)
    threads.postThread(threadsUser.userId, { text: text(n, i), createdAt: at(i).getTime() });
  accounts.push({
    kind: 'threads',
    url: `https://www.threads.net/@kantor_th_${n}`,
    handle: `kantor_th_${n}`,
    accountId: null,
    settings: { userId: threadsUser.userId },
    credentials: { accessToken: threadsUser.token },
  });

  const xUser = x.addUser({ username: `kantor_x_${n}` });
  const tokens = x.issueTokens(xUser.id, { clientId: X_CLIENT, ttlSeconds: 86_400 });
  for (let i = 0; i < items; i++) x.addPost(xUser.id, text(n, i), at(i));
  accounts.push({
    kind: 'x',
    url: `https://x.com/${xUser.username}`,
    handle: xUser.username,
    accountId: null,
    settings: { userId: xUser.id, username: xUser.username },
    credentials: {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: tokens.expiresAt.toISOString(),
    },
  });

  const handle = `kantor-${n}.bsky.test`;
  const bsky = pds.addAccount({ handle, appPassword: 'unused-here' });
  plc.register(bsky.did, { handle, pds: pds.url });
  for (let i = 0; i < items; i++) pds.addPost(bsky.did, text(n, i), { createdAt: at(i) });
  accounts.push({
    kind: 'bluesky',
    url: `https://bsky.app/profile/${handle}`,
    handle,
    accountId: null,
    settings: { did: bsky.did },
    credentials: null,
  });

  const channel = youtube.addChannel({ title: `Kantor ${n}` });
  for (let i = 0; i < items; i++)
    youtube.uploadOnYoutube(channel.id, {
      title: `Kabar ${i + 1} kantor ${n}`,
      description: text(n, i),
      durationSeconds: 90,
      still,
      publishedAt: at(i),
    });
  accounts.push({
    kind: 'youtube',
    url: `https://www.youtube.com/channel/${channel.id}`,
    handle: null,
    accountId: null,
    settings: { channelId: channel.id },
    credentials: null,
  });
}

const env = {
  GAUNG_X_API_URL: x.url,
  GAUNG_X_UPLOAD_URL: x.url,
  GAUNG_X_CLIENT_ID: X_CLIENT,
  GAUNG_GRAPH_API_URL: graph.url,
  GAUNG_THREADS_API_URL: threads.url,
  GAUNG_PLC_DIRECTORY_URL: plc.url,
  GAUNG_YOUTUBE_API_URL: youtube.url,
  GAUNG_YOUTUBE_FEEDS_URL: youtube.url,
};
process.stdout.write(`accounts ${JSON.stringify({ env, accounts })}\n`);

process.once('SIGTERM', async () => {
  await Promise.allSettled([
    site.stop(),
    mastodon.stop(),
    graph.stop(),
    threads.stop(),
    x.stop(),
    pds.stop(),
    plc.stop(),
    youtube.stop(),
  ]);
  process.exit(0);
});
