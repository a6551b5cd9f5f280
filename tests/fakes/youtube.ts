import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { loadDiscoveryValidator } from './discovery';
import { createFakeServer, type FakeServer } from './harness';
import { specPath } from './specs';

/**
 * A fake of Google's OAuth 2.0 endpoints and the YouTube Data API v3, on loopback. Every API
 * request is checked against the official discovery document (query parameters and the resource
 * in the body, unknown fields refused); what the document leaves to prose is enforced as the
 * reference pages describe it: title ≤ 100 characters and description ≤ 5,000 bytes without "<"
 * or ">", tags ≤ 500 characters, a required made-for-kids answer, the `part` parameter naming
 * what the body sets, the scopes each method requires, expiring access tokens, the project's daily
 * quotas (403 quotaExceeded) and the resumable upload protocol: a session opened with the
 * metadata, chunks in multiples of 256 KiB with Content-Range, 308 Resume Incomplete with the
 * Range stored so far, status queries (`bytes * /total`), and sessions that expire (404).
 */

const SCOPE = 'https://www.googleapis.com/auth/';
const GRANULE = 256 * 1024;
/** https://developers.google.com/youtube/v3/determine_quota_cost */
const UNIT_COST: Record<string, number> = {
  'channels.list': 1,
  'playlistItems.list': 1,
  'playlistItems.insert': 50,
  'videos.list': 1,
  'videos.delete': 50,
  'thumbnails.set': 50,
};
/** https://developers.google.com/youtube/v3/docs/videoCategories: assignable categories. */
const CATEGORIES = new Set([
  '1',
  '2',
  '10',
  '15',
  '17',
  '19',
  '20',
  '22',
  '23',
  '24',
  '25',
  '26',
  '27',
  '28',
  '29',
]);

export interface FakeVideo {
  id: string;
  channelId: string;
  snippet: {
    title: string;
    description: string;
    tags?: string[];
    categoryId: string;
    defaultLanguage?: string;
  };
  status: { privacyStatus: string; selfDeclaredMadeForKids: boolean };
  bytes: Buffer;
  mime: string;
  thumbnail: { mime: string; bytes: number } | null;
  publishedAt: Date;
  views: number;
  likes: number;
  comments: number;
  /** For videos the channel uploaded on YouTube (read as a source): a Short, its length, its still. */
  short?: boolean;
  durationSeconds?: number;
  still?: Buffer;
}

interface FakeChannel {
  id: string;
  title: string;
  customUrl: string;
  uploads: string;
  playlists: Map<string, string[]>;
}

interface Token {
  channelId: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
}

interface Session {
  id: string;
  channelId: string;
  scopes: string[];
  metadata: { snippet: FakeVideo['snippet']; status: FakeVideo['status'] };
  total: number;
  mime: string;
  received: Buffer[];
  stored: number;
  expired: boolean;
  video: FakeVideo | null;
}

export interface FakeYoutube {
  server: FakeServer;
  url: string;
  /** Base of Google's consent page and token endpoint on the fake. */
  authUrl: string;
  tokenUrl: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  registerClient(clientId: string, clientSecret: string): void;
  addChannel(options: { title: string; customUrl?: string }): FakeChannel;
  addPlaylist(channelId: string): string;
  playlist(channelId: string, playlistId: string): string[];
  issueTokens(
    channelId: string,
    options: { clientId: string; scopes?: string[]; expiresInSeconds?: number },
  ): { accessToken: string; refreshToken: string; expiresAt: Date };
  /** The consent screen: the user approves, Google redirects with this code. */
  consent(authorizeUrl: string, channelId: string): { code: string; state: string; redirectUri: string };
  revoke(refreshToken: string): void;
  expireAccessTokens(): void;
  expireSessions(): void;
  /** The next upload chunks store only their first half (rounded down to 256 KiB) and drop the connection. */
  dropMidChunk(times: number): void;
  setQuota(quota: { uploads?: number; units?: number }): void;
  usage(): { uploads: number; units: number };
  videos(channelId: string): FakeVideo[];
  chunkRequests(): { range: string; bytes: number }[];
  /** Runs before each upload PUT is handled, with its Content-Range (to expire sessions or cut chunks then). */
  beforeChunk(hook: ((range: string) => void) | null): void;
  /** The channel uploads a video or Short on YouTube itself: it appears in the channel feed and videos.list. */
  uploadOnYoutube(
    channelId: string,
    video: {
      title: string;
      description: string;
      short?: boolean;
      durationSeconds: number;
      still: Buffer;
      publishedAt?: Date;
    },
  ): FakeVideo;
  /** An API key of the operator's project (videos.list with `key` and no token). */
  registerApiKey(key: string): void;
  deleteVideo(id: string): void;
}

type Reply = FastifyReply;

const googleError = (reply: Reply, code: number, reason: string, message: string, domain = 'youtube.api') =>
  reply.code(code).send({
    error: {
      code,
      message,
      errors: [{ message, domain, reason }],
      status: code === 401 ? 'UNAUTHENTICATED' : undefined,
    },
  });

export function createFakeYoutube(): FakeYoutube {
  const server = createFakeServer({ bodyLimit: 200 * 1024 * 1024 });
  const { app } = server;
  const discovery = loadDiscoveryValidator(specPath('youtube-v3-discovery.json'));
  const clients = new Map<string, string>();
  const channels = new Map<string, FakeChannel>();
  const videos: FakeVideo[] = [];
  const tokens = new Map<string, Token>();
  const refreshTokens = new Map<string, { channelId: string; clientId: string; scopes: string[] }>();
  const codes = new Map<
    string,
    { channelId: string; clientId: string; redirectUri: string; challenge: string; scopes: string[] }
  >();
  const sessions = new Map<string, Session>();
  let quota = { uploads: 100, units: 10_000 };
  let used = { uploads: 0, units: 0 };
  let midChunkDrops = 0;
  let chunkHook: ((range: string) => void) | null = null;
  const apiKeys = new Set<string>();
  const chunks: { range: string; bytes: number }[] = [];

  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.removeContentTypeParser('application/x-www-form-urlencoded');
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  const id = (length: number) => randomBytes(length).toString('base64url').slice(0, length);

  /** Auth, scopes and quota for one discovery method; answers the error itself and returns null. */
  const admit = (request: FastifyRequest, reply: Reply, methodId: string, query: Record<string, unknown>) => {
    const problems = discovery.query(methodId, query);
    if (problems.length > 0) {
      googleError(reply, 400, 'invalidParameter', problems.join('; '), 'global');
      return null;
    }
    const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
    // An API key reads public data (videos.list), as the operator's project.
    if (!bearer && query.key !== undefined && methodId === 'videos.list') {
      if (!apiKeys.has(String(query.key))) {
        googleError(reply, 400, 'keyInvalid', 'API key not valid. Please pass a valid API key.', 'global');
        return null;
      }
      const cost = UNIT_COST[methodId] ?? 1;
      if (used.units + cost > quota.units) {
        googleError(
          reply,
          403,
          'quotaExceeded',
          'The request cannot be completed because you have exceeded your quota.',
          'youtube.quota',
        );
        return null;
      }
      used.units += cost;
      return { channelId: '', clientId: '', scopes: [], expiresAt: Number.POSITIVE_INFINITY };
    }
    const token = bearer ? tokens.get(bearer) : undefined;
    if (!token || token.expiresAt < Date.now()) {
      googleError(reply, 401, 'authError', 'Invalid Credentials', 'global');
      return null;
    }
    const allowed = discovery.method(methodId).scopes ?? [];
    if (!token.scopes.some((scope) => allowed.includes(scope))) {
      googleError(
        reply,
        403,
        'insufficientPermissions',
        'Request had insufficient authentication scopes.',
        'global',
      );
      return null;
    }
    const cost = UNIT_COST[methodId] ?? 1;
    if (methodId === 'videos.insert' ? used.uploads >= quota.uploads : used.units + cost > quota.units) {
      googleError(
        reply,
        403,
        'quotaExceeded',
        'The request cannot be completed because you have exceeded your quota.',
        'youtube.quota',
      );
      return null;
    }
    if (methodId === 'videos.insert') used.uploads += 1;
    else used.units += cost;
    return token;
  };

  const queryOf = (request: FastifyRequest) => request.query as Record<string, unknown>;

  /** The checks the Video reference states in prose; a reason and message, or null. */
  function videoProblem(body: Record<string, unknown>, part: string[]): [string, string] | null {
    for (const key of Object.keys(body))
      if (!['kind', 'etag', 'id'].includes(key) && !part.includes(key))
        return ['unexpectedPart', `The request sets ${key}, but part does not name it`];
    const snippet = body.snippet as FakeVideo['snippet'] | undefined;
    const status = body.status as Partial<FakeVideo['status']> | undefined;
    if (!snippet?.title || Array.from(snippet.title).length > 100 || /[<>]/.test(snippet.title))
      return ['invalidTitle', 'The request metadata specifies an invalid or empty video title.'];
    if (
      snippet.description !== undefined &&
      (Buffer.byteLength(snippet.description) > 5000 || /[<>]/.test(snippet.description))
    )
      return ['invalidDescription', 'The request metadata specifies an invalid video description.'];
    if (snippet.tags) {
      const length =
        snippet.tags.reduce((sum, tag) => sum + tag.length + (/\s/.test(tag) ? 2 : 0), 0) +
        Math.max(0, snippet.tags.length - 1);
      if (length > 500) return ['invalidTags', 'The request metadata specifies invalid video keywords.'];
    }
    if (!snippet.categoryId || !CATEGORIES.has(snippet.categoryId))
      return ['invalidCategoryId', 'The snippet.categoryId property specifies an invalid category ID.'];
    if (status?.selfDeclaredMadeForKids === undefined)
      return [
        'invalidVideoMetadata',
        'The request must say whether the video is made for kids (status.selfDeclaredMadeForKids).',
      ];
    return null;
  }

  // --- Google OAuth 2.0 -------------------------------------------------------------------------

  app.post('/token', async (request, reply) => {
    const form = request.body as Record<string, string>;
    const oauthError = (error: string, description: string, code = 400) =>
      reply.code(code).send({ error, error_description: description });
    if (!form.client_id || clients.get(form.client_id) !== form.client_secret)
      return oauthError('invalid_client', 'The OAuth client was not found.', 401);
    if (form.grant_type === 'authorization_code') {
      const grant = codes.get(form.code ?? '');
      codes.delete(form.code ?? '');
      if (!grant || grant.clientId !== form.client_id)
        return oauthError('invalid_grant', 'Malformed auth code.');
      if (grant.redirectUri !== form.redirect_uri) return oauthError('redirect_uri_mismatch', 'Bad Request');
      const challenge = createHash('sha256')
        .update(form.code_verifier ?? '')
        .digest('base64url');
      if (challenge !== grant.challenge) return oauthError('invalid_grant', 'Invalid code verifier.');
      const issued = issue(grant.channelId, grant.clientId, grant.scopes, 3599);
      return { ...issued.answer, refresh_token: issued.refreshToken };
    }
    if (form.grant_type === 'refresh_token') {
      const grant = refreshTokens.get(form.refresh_token ?? '');
      if (!grant || grant.clientId !== form.client_id)
        return oauthError('invalid_grant', 'Token has been expired or revoked.');
      const accessToken = `ya29.${id(40)}`;
      tokens.set(accessToken, { ...grant, expiresAt: Date.now() + 3599_000 });
      return {
        access_token: accessToken,
        expires_in: 3599,
        scope: grant.scopes.join(' '),
        token_type: 'Bearer',
      };
    }
    return oauthError('unsupported_grant_type', `Invalid grant_type: ${form.grant_type}`);
  });

  function issue(channelId: string, clientId: string, scopes: string[], expiresIn: number) {
    const accessToken = `ya29.${id(40)}`;
    const refreshToken = `1//${id(40)}`;
    tokens.set(accessToken, { channelId, clientId, scopes, expiresAt: Date.now() + expiresIn * 1000 });
    refreshTokens.set(refreshToken, { channelId, clientId, scopes });
    return {
      accessToken,
      refreshToken,
      answer: {
        access_token: accessToken,
        expires_in: expiresIn,
        scope: scopes.join(' '),
        token_type: 'Bearer',
      },
    };
  }

  // --- YouTube Data API ---------------------------------------------------------------------------

  app.get('/youtube/v3/channels', async (request, reply) => {
    const token = admit(request, reply, 'channels.list', queryOf(request));
    if (!token) return reply;
    const channel = channels.get(token.channelId)!;
    return {
      kind: 'youtube#channelListResponse',
      items: [
        {
          kind: 'youtube#channel',
          id: channel.id,
          snippet: { title: channel.title, customUrl: channel.customUrl },
          contentDetails: { relatedPlaylists: { likes: '', uploads: channel.uploads } },
        },
      ],
    };
  });

  app.get('/youtube/v3/playlistItems', async (request, reply) => {
    const query = queryOf(request);
    const token = admit(request, reply, 'playlistItems.list', query);
    if (!token) return reply;
    const channel = [...channels.values()].find(
      (c) => c.uploads === query.playlistId || c.playlists.has(String(query.playlistId)),
    );
    if (!channel) return googleError(reply, 404, 'playlistNotFound', 'The playlist cannot be found.');
    const ids =
      channel.uploads === query.playlistId
        ? videos
            .filter((v) => v.channelId === channel.id)
            .map((v) => v.id)
            .reverse()
        : channel.playlists.get(String(query.playlistId))!;
    const size = Math.min(Number(query.maxResults ?? 5), 50);
    const start = Number(query.pageToken ?? 0);
    const page = ids.slice(start, start + size);
    return {
      kind: 'youtube#playlistItemListResponse',
      items: page.map((videoId, i) => {
        const video = videos.find((v) => v.id === videoId)!;
        return {
          kind: 'youtube#playlistItem',
          id: id(24),
          snippet: {
            publishedAt: video.publishedAt.toISOString(),
            channelId: channel.id,
            title: video.snippet.title,
            description: video.snippet.description,
            playlistId: query.playlistId,
            position: start + i,
            resourceId: { kind: 'youtube#video', videoId },
          },
        };
      }),
      ...(start + size < ids.length ? { nextPageToken: String(start + size) } : {}),
      pageInfo: { totalResults: ids.length, resultsPerPage: size },
    };
  });

  app.post('/youtube/v3/playlistItems', async (request, reply) => {
    const query = queryOf(request);
    const problems = discovery.body('playlistItems.insert', request.body);
    if (problems.length > 0)
      return googleError(reply, 400, 'invalidParameter', problems.join('; '), 'global');
    const token = admit(request, reply, 'playlistItems.insert', query);
    if (!token) return reply;
    const body = request.body as { snippet?: { playlistId?: string; resourceId?: { videoId?: string } } };
    const playlist = channels.get(token.channelId)!.playlists.get(body.snippet?.playlistId ?? '');
    if (!playlist) return googleError(reply, 404, 'playlistNotFound', 'The playlist cannot be found.');
    const videoId = body.snippet?.resourceId?.videoId ?? '';
    if (!videos.some((v) => v.id === videoId))
      return googleError(reply, 404, 'videoNotFound', 'Video not found.');
    playlist.unshift(videoId);
    return { kind: 'youtube#playlistItem', id: id(24), snippet: body.snippet };
  });

  app.get('/youtube/v3/videos', async (request, reply) => {
    const query = queryOf(request);
    const token = admit(request, reply, 'videos.list', query);
    if (!token) return reply;
    const wanted = String(query.id ?? '').split(',');
    const parts = String(query.part ?? '').split(',');
    const thumbnail = (v: FakeVideo, name: string, width: number, height: number) => ({
      url: `${server.url}/vi/${v.id}/${name}.jpg`,
      width,
      height,
    });
    return {
      kind: 'youtube#videoListResponse',
      items: videos
        .filter((v) => wanted.includes(v.id))
        .map((v) => ({
          kind: 'youtube#video',
          id: v.id,
          ...(parts.includes('snippet')
            ? {
                snippet: {
                  publishedAt: v.publishedAt.toISOString(),
                  channelId: v.channelId,
                  title: v.snippet.title,
                  description: v.snippet.description,
                  thumbnails: {
                    default: thumbnail(v, 'default', 120, 90),
                    high: thumbnail(v, 'hqdefault', 480, 360),
                    maxres: thumbnail(v, 'maxresdefault', 1280, 720),
                  },
                  categoryId: v.snippet.categoryId,
                },
              }
            : {}),
          ...(parts.includes('contentDetails')
            ? {
                contentDetails: {
                  duration: `PT${Math.floor((v.durationSeconds ?? 0) / 60)}M${(v.durationSeconds ?? 0) % 60}S`,
                },
              }
            : {}),
          ...(parts.includes('statistics')
            ? {
                statistics: {
                  viewCount: String(v.views),
                  likeCount: String(v.likes),
                  favoriteCount: '0',
                  commentCount: String(v.comments),
                },
              }
            : {}),
        })),
    };
  });

  /** The public channel feed: the latest 15 uploads as Atom, as www.youtube.com serves it (no auth, no quota). */
  app.get('/feeds/videos.xml', async (request, reply) => {
    const channelId = String((request.query as { channel_id?: string }).channel_id ?? '');
    const channel = channels.get(channelId);
    if (!channel) return reply.code(404).type('text/html').send('<html><body>Not Found</body></html>');
    const xml = (value: string) =>
      value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    const latest = videos
      .filter((v) => v.channelId === channelId && v.status.privacyStatus === 'public')
      .sort((a, b) => b.publishedAt.getTime() - a.publishedAt.getTime())
      .slice(0, 15);
    const atomTime = (at: Date) => at.toISOString().replace(/\.\d{3}Z$/, '+00:00');
    const entries = latest.map((v) => {
      const link = v.short
        ? `https://www.youtube.com/shorts/${v.id}`
        : `https://www.youtube.com/watch?v=${v.id}`;
      return ` <entry>
  <id>yt:video:${v.id}</id>
  <yt:videoId>${v.id}</yt:videoId>
  <yt:channelId>${channelId}</yt:channelId>
  <title>${xml(v.snippet.title)}</title>
  <link rel="alternate" href="${link}"/>
  <author>
   <name>${xml(channel.title)}</name>
   <uri>https://www.youtube.com/channel/${channelId}</uri>
  </author>
  <published>${atomTime(v.publishedAt)}</published>
  <updated>${atomTime(v.publishedAt)}</updated>
  <media:group>
   <media:title>${xml(v.snippet.title)}</media:title>
   <media:content url="https://www.youtube.com/v/${v.id}?version=3" type="application/x-shockwave-flash" width="640" height="390"/>
   <media:thumbnail url="${server.url}/vi/${v.id}/hqdefault.jpg" width="480" height="360"/>
   <media:description>${xml(v.snippet.description.slice(0, 150))}</media:description>
   <media:community>
    <media:starRating count="${v.likes}" average="5.00" min="1" max="5"/>
    <media:statistics views="${v.views}"/>
   </media:community>
  </media:group>
 </entry>`;
    });
    return reply.type('application/atom+xml; charset=UTF-8').send(`<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/" xmlns="http://www.w3.org/2005/Atom">
 <link rel="self" href="http://www.youtube.com/feeds/videos.xml?channel_id=${channelId}"/>
 <id>yt:channel:${channelId.slice(2)}</id>
 <yt:channelId>${channelId.slice(2)}</yt:channelId>
 <title>${xml(channel.title)}</title>
 <link rel="alternate" href="https://www.youtube.com/channel/${channelId}"/>
 <author>
  <name>${xml(channel.title)}</name>
  <uri>https://www.youtube.com/channel/${channelId}</uri>
 </author>
 <published>2015-03-01T00:00:00+00:00</published>
${entries.join('\n')}
</feed>
`);
  });

  /** Thumbnails, as i.ytimg.com serves them (404 for a video that has none or is gone). */
  app.get<{ Params: { id: string; name: string } }>('/vi/:id/:name', async (request, reply) => {
    const video = videos.find((v) => v.id === request.params.id);
    if (!video?.still) return reply.code(404).send('');
    return reply.type('image/jpeg').send(video.still);
  });

  app.delete('/youtube/v3/videos', async (request, reply) => {
    const query = queryOf(request);
    const token = admit(request, reply, 'videos.delete', query);
    if (!token) return reply;
    const index = videos.findIndex((v) => v.id === query.id && v.channelId === token.channelId);
    if (index < 0)
      return googleError(
        reply,
        404,
        'videoNotFound',
        'The video that you are trying to delete cannot be found.',
      );
    videos.splice(index, 1);
    return reply.code(204).send();
  });

  app.post('/upload/youtube/v3/thumbnails/set', async (request, reply) => {
    const query = queryOf(request);
    const token = admit(request, reply, 'thumbnails.set', query);
    if (!token) return reply;
    const method = discovery.method('thumbnails.set');
    const type = String(request.headers['content-type'] ?? '').split(';')[0]!;
    const body = request.body as Buffer;
    if (!method.mediaUpload!.accept.includes(type))
      return googleError(reply, 400, 'mediaBodyRequired', `Media type '${type}' is not supported.`);
    if (!Buffer.isBuffer(body) || body.length === 0 || body.length > Number(method.mediaUpload!.maxSize))
      return googleError(reply, 400, 'mediaBodyRequired', 'The thumbnail is missing or larger than 2 MB.');
    const video = videos.find((v) => v.id === query.videoId && v.channelId === token.channelId);
    if (!video)
      return googleError(
        reply,
        404,
        'videoNotFound',
        'The video that you are trying to update cannot be found.',
      );
    video.thumbnail = { mime: type, bytes: body.length };
    return {
      kind: 'youtube#thumbnailSetResponse',
      items: [{ default: { url: `https://i.ytimg.com/vi/${video.id}/default.jpg` } }],
    };
  });

  // Opening a resumable session: the metadata now, the bytes later.
  app.post('/upload/youtube/v3/videos', async (request, reply) => {
    const query = queryOf(request);
    if (query.uploadType !== 'resumable')
      return googleError(reply, 400, 'invalidParameter', 'This fake takes resumable uploads only', 'global');
    const problems = discovery.body('videos.insert', request.body);
    if (problems.length > 0)
      return googleError(reply, 400, 'invalidParameter', problems.join('; '), 'global');
    const part = String(query.part ?? '').split(',');
    const problem =
      request.body && typeof request.body === 'object'
        ? videoProblem(request.body as Record<string, unknown>, part)
        : ['invalidVideoMetadata', 'No metadata'];
    if (problem) return googleError(reply, 400, problem[0]!, problem[1]!);
    const total = Number(request.headers['x-upload-content-length']);
    const mime = String(request.headers['x-upload-content-type'] ?? '');
    const accept = discovery.method('videos.insert').mediaUpload!;
    if (!Number.isInteger(total) || total <= 0 || total > Number(accept.maxSize))
      return googleError(
        reply,
        400,
        'invalidParameter',
        'X-Upload-Content-Length is missing or too large',
        'global',
      );
    if (!mime.startsWith('video/') && mime !== 'application/octet-stream')
      return googleError(
        reply,
        400,
        'invalidParameter',
        `X-Upload-Content-Type ${mime} is not a video`,
        'global',
      );
    const token = admit(request, reply, 'videos.insert', query);
    if (!token) return reply;
    const session: Session = {
      id: id(32),
      channelId: token.channelId,
      scopes: token.scopes,
      metadata: request.body as Session['metadata'],
      total,
      mime,
      received: [],
      stored: 0,
      expired: false,
      video: null,
    };
    sessions.set(session.id, session);
    reply.header(
      'location',
      `${server.url}/upload/youtube/v3/videos?uploadType=resumable&upload_id=${session.id}`,
    );
    return reply.code(200).send();
  });

  const finish = (session: Session): FakeVideo => {
    if (session.video) return session.video;
    const video: FakeVideo = {
      id: id(11),
      channelId: session.channelId,
      snippet: session.metadata.snippet,
      status: session.metadata.status,
      bytes: Buffer.concat(session.received),
      mime: session.mime,
      thumbnail: null,
      publishedAt: new Date(),
      views: 0,
      likes: 0,
      comments: 0,
    };
    videos.push(video);
    session.video = video;
    return video;
  };

  const videoResource = (video: FakeVideo) => ({
    kind: 'youtube#video',
    id: video.id,
    snippet: { ...video.snippet, channelId: video.channelId, publishedAt: video.publishedAt.toISOString() },
    status: { ...video.status, uploadStatus: 'uploaded' },
  });

  const incomplete = (reply: Reply, session: Session) => {
    if (session.stored > 0) reply.header('range', `bytes=0-${session.stored - 1}`);
    return reply.code(308).send();
  };

  // The upload itself: chunks, and status queries after a dropped connection.
  app.put('/upload/youtube/v3/videos', async (request, reply) => {
    chunkHook?.(String(request.headers['content-range'] ?? ''));
    const session = sessions.get(String(queryOf(request).upload_id ?? ''));
    if (!session || session.expired)
      return googleError(reply, 404, 'notFound', 'The upload session was not found or has expired.');
    const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
    const token = bearer ? tokens.get(bearer) : undefined;
    if (!token || token.expiresAt < Date.now() || token.channelId !== session.channelId)
      return googleError(reply, 401, 'authError', 'Invalid Credentials', 'global');
    const range = String(request.headers['content-range'] ?? '');
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const status = /^bytes \*\/(\d+)$/.exec(range);
    if (status) {
      if (Number(status[1]) !== session.total)
        return googleError(reply, 400, 'badRequest', 'Content-Range total does not match the session');
      if (session.video) return reply.code(201).send(videoResource(session.video));
      return incomplete(reply, session);
    }
    const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(range);
    if (!match) return googleError(reply, 400, 'badRequest', 'Failed to parse Content-Range header.');
    const [first, last, total] = [Number(match[1]), Number(match[2]), Number(match[3])];
    chunks.push({ range, bytes: body.length });
    if (total !== session.total || last >= total || last - first + 1 !== body.length)
      return googleError(
        reply,
        400,
        'badRequest',
        'Content-Range does not match the bytes sent or the session',
      );
    if (first !== session.stored)
      return googleError(
        reply,
        400,
        'badRequest',
        `The session holds ${session.stored} bytes; the chunk starts at ${first}`,
      );
    const final = last === total - 1;
    if (!final && body.length % GRANULE !== 0)
      return googleError(reply, 400, 'badRequest', 'Chunks other than the last must be multiples of 256 KiB');
    if (midChunkDrops > 0 && body.length >= 2 * GRANULE) {
      midChunkDrops -= 1;
      const kept = Math.floor(body.length / 2 / GRANULE) * GRANULE;
      session.received.push(body.subarray(0, kept));
      session.stored += kept;
      reply.hijack();
      request.raw.socket.destroy();
      return reply;
    }
    session.received.push(body);
    session.stored += body.length;
    if (!final) return incomplete(reply, session);
    return reply.code(201).send(videoResource(finish(session)));
  });

  const fake: FakeYoutube = {
    server,
    get url() {
      return server.url;
    },
    get authUrl() {
      return `${server.url}/o/oauth2/v2/auth`;
    },
    get tokenUrl() {
      return `${server.url}/token`;
    },
    async start() {
      await server.start();
    },
    stop: () => server.stop(),
    registerClient(clientId, clientSecret) {
      clients.set(clientId, clientSecret);
    },
    addChannel(options) {
      const channelId = `UC${id(22)}`;
      const channel: FakeChannel = {
        id: channelId,
        title: options.title,
        customUrl: options.customUrl ?? `@${options.title.toLowerCase().replace(/\W+/g, '')}`,
        uploads: `UU${channelId.slice(2)}`,
        playlists: new Map(),
      };
      channels.set(channelId, channel);
      return channel;
    },
    addPlaylist(channelId) {
      const playlistId = `PL${id(32)}`;
      channels.get(channelId)!.playlists.set(playlistId, []);
      return playlistId;
    },
    playlist: (channelId, playlistId) => channels.get(channelId)?.playlists.get(playlistId) ?? [],
    issueTokens(channelId, options) {
      const scopes =
        options.scopes ?? ['youtube.upload', 'youtube.readonly', 'youtube.force-ssl'].map((s) => SCOPE + s);
      const issued = issue(channelId, options.clientId, scopes, options.expiresInSeconds ?? 3599);
      return {
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        expiresAt: new Date(Date.now() + (options.expiresInSeconds ?? 3599) * 1000),
      };
    },
    consent(authorizeUrl, channelId) {
      const url = new URL(authorizeUrl);
      const p = url.searchParams;
      if (`${url.origin}${url.pathname}` !== fake.authUrl)
        throw new Error(`not the fake's consent page: ${authorizeUrl}`);
      for (const required of ['client_id', 'redirect_uri', 'scope', 'state', 'code_challenge'])
        if (!p.get(required)) throw new Error(`the consent URL lacks ${required}`);
      if (
        p.get('response_type') !== 'code' ||
        p.get('code_challenge_method') !== 'S256' ||
        p.get('access_type') !== 'offline'
      )
        throw new Error('Google wants response_type=code, S256 PKCE and access_type=offline here');
      if (!clients.has(p.get('client_id')!)) throw new Error('unknown OAuth client');
      const code = `4/${id(40)}`;
      codes.set(code, {
        channelId,
        clientId: p.get('client_id')!,
        redirectUri: p.get('redirect_uri')!,
        challenge: p.get('code_challenge')!,
        scopes: p.get('scope')!.split(' '),
      });
      return { code, state: p.get('state')!, redirectUri: p.get('redirect_uri')! };
    },
    revoke(refreshToken) {
      const grant = refreshTokens.get(refreshToken);
      refreshTokens.delete(refreshToken);
      if (grant) for (const [token, t] of tokens) if (t.channelId === grant.channelId) tokens.delete(token);
    },
    expireAccessTokens() {
      for (const token of tokens.values()) token.expiresAt = Date.now() - 1;
    },
    expireSessions() {
      for (const session of sessions.values()) session.expired = true;
    },
    dropMidChunk(times) {
      midChunkDrops = times;
    },
    setQuota(next) {
      quota = { ...quota, ...next };
      used = { uploads: 0, units: 0 };
    },
    usage: () => ({ ...used }),
    videos: (channelId) => videos.filter((v) => v.channelId === channelId),
    chunkRequests: () => [...chunks],
    beforeChunk(hook) {
      chunkHook = hook;
    },
    uploadOnYoutube(channelId, upload) {
      const video: FakeVideo = {
        id: id(11),
        channelId,
        snippet: { title: upload.title, description: upload.description, categoryId: '25' },
        status: { privacyStatus: 'public', selfDeclaredMadeForKids: false },
        bytes: Buffer.alloc(0),
        mime: 'video/mp4',
        thumbnail: { mime: 'image/jpeg', bytes: upload.still.length },
        publishedAt: upload.publishedAt ?? new Date(),
        views: 0,
        likes: 0,
        comments: 0,
        short: upload.short ?? false,
        durationSeconds: upload.durationSeconds,
        still: upload.still,
      };
      videos.push(video);
      return video;
    },
    registerApiKey(key) {
      apiKeys.add(key);
    },
    deleteVideo(videoId) {
      const index = videos.findIndex((v) => v.id === videoId);
      if (index >= 0) videos.splice(index, 1);
    },
  };
  return fake;
}
