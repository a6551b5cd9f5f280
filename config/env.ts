import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

/**
 * Every environment variable Gaung reads, parsed once at boot. A missing or malformed value
 * stops the process with a message naming the variable. The README's configuration table
 * lists the same variables; keep both in step.
 */

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .transform((u) => u.replace(/\/+$/, ''));

const postgresUrl = z.string().refine((v) => /^postgres(ql)?:\/\/[^\s]+$/.test(v) && URL.canParse(v), {
  message: 'must be a postgres:// or postgresql:// URL',
});

const redisUrl = z.string().refine((v) => /^rediss?:\/\/[^\s]*$/.test(v) && URL.canParse(v), {
  message: 'must be a redis:// or rediss:// URL',
});

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** `host:port,host:port`: Sentinels or Cluster nodes, parsed into ioredis' shape. */
const redisNodes = z
  .string()
  .refine(
    (v) => v.split(',').every((node) => /^[^\s:,]+:\d{1,5}$/.test(node.trim())),
    'must be a comma-separated list of host:port',
  )
  .transform((v) =>
    v.split(',').map((node) => {
      const at = node.trim().lastIndexOf(':');
      return { host: node.trim().slice(0, at), port: Number(node.trim().slice(at + 1)) };
    }),
  );

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(item: string): boolean {
  if (PROXY_NAMES.has(item)) return true;
  const [address, prefix, ...rest] = item.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Which X-Forwarded-For hops are believed: a count of proxies in front of Gaung (`1`: the one
 * reverse proxy), or the proxies' own addresses and ranges (`10.0.0.5,10.0.1.0/24`, also `loopback`,
 * `linklocal`, `uniquelocal`). `false`/`0`: none. `true` is refused: it would believe every hop,
 * so anyone could choose their address (and escape the per-address sign-in limit) with a header.
 */
const trustProxy = z.string().transform((value, ctx): false | number | string[] => {
  const text = value.trim().toLowerCase();
  if (['false', 'no', '0'].includes(text)) return false;
  if (['true', 'yes'].includes(text)) {
    ctx.addIssue({
      code: 'custom',
      message:
        'trusting every hop lets clients choose their address; give the number of proxies in front of Gaung (1) or their addresses (10.0.0.5,10.0.1.0/24)',
    });
    return z.NEVER;
  }
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops > 20) {
      ctx.addIssue({ code: 'custom', message: 'a hop count from 0 to 20' });
      return z.NEVER;
    }
    return hops === 0 ? false : hops;
  }
  const items = text.split(',').map((item) => item.trim());
  const bad = items.filter((item) => !isProxyAddress(item));
  if (bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `${bad.map((item) => JSON.stringify(item)).join(', ')}: not a hop count, an IP address or a CIDR range`,
    });
    return z.NEVER;
  }
  return items;
});

/** A hash tag (`{gaung}`) puts every key in one Cluster slot, as BullMQ's scripts and Gaung's own need. */
const HASH_TAGGED = /\{[^{}]+\}/;

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(3000),
  GAUNG_PUBLIC_URL: httpUrl.optional(),
  GAUNG_TRUST_PROXY: trustProxy.default(false),
  GAUNG_ALLOW_PRIVATE_URLS: bool.default(false),
  /** Bearer token Prometheus presents at /metrics; unset, /metrics answers 404. */
  GAUNG_METRICS_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]{16,200}$/, '16 to 200 printable characters, no spaces')
    .optional(),
  GAUNG_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_POOL_MAX: int(1, 200).default(10),
  REDIS_URL: redisUrl.optional(),
  /** Sentinels watching the primary (instead of REDIS_URL); REDIS_SENTINEL_NAME names the primary. */
  REDIS_SENTINELS: redisNodes.optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).default('mymaster'),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  /** Some Cluster nodes (the rest are discovered); instead of REDIS_URL and REDIS_SENTINELS. */
  REDIS_CLUSTER_NODES: redisNodes.optional(),
  /** For the Sentinel-managed primary and replicas, or the Cluster nodes (REDIS_URL carries its own). */
  REDIS_USERNAME: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).optional(),
  /** TLS to the Sentinels and the primary, or to the Cluster nodes. */
  REDIS_TLS: bool.default(false),
  /** Default `gaung`, or `{gaung}` with REDIS_CLUSTER_NODES (the hash tag keeps every key in one slot). */
  GAUNG_REDIS_PREFIX: z
    .string()
    .regex(
      /^(?=.{1,42}$)[A-Za-z0-9_.-]*(\{[A-Za-z0-9_.-]+\})?[A-Za-z0-9_.-]*$/,
      'letters, digits, "_", "." and "-", with at most one {hash tag}',
    )
    .refine((v) => v.length > 0 && v !== '{}')
    .optional(),
  GAUNG_SECRET_KEY: z
    .string()
    .refine(
      (v) => Buffer.from(v, 'base64').length === 32,
      'must be 32 random bytes in base64 (openssl rand -base64 32)',
    )
    .optional(),
  GAUNG_SECRET_KEY_PREVIOUS: z
    .string()
    .refine(
      (v) => v.split(',').every((k) => Buffer.from(k.trim(), 'base64').length === 32),
      'must be a comma-separated list of 32-byte base64 keys',
    )
    .optional(),
  GAUNG_BOOTSTRAP_ADMIN_EMAIL: z.email().optional(),
  GAUNG_BOOTSTRAP_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  GAUNG_DEMO: bool.default(false),
  GAUNG_WORKER_CONCURRENCY: int(1, 256).default(8),
  GAUNG_HORIZON_SECONDS: int(5, 3600).default(120),
  GAUNG_FAIR_SHARE_DAYS: int(1, 90).default(7),
  GAUNG_SWEEP_EVERY_MS: int(500, 600_000).default(15_000),
  /** How often each office source is read for new items (failures wait longer, doubling up to 6 h). */
  GAUNG_SOURCE_POLL_SECONDS: int(30, 86_400).default(300),
  /** X sources: X's read allowance is small and paid per read, so they are read less often. */
  GAUNG_SOURCE_POLL_SECONDS_X: int(60, 86_400).default(1_800),
  GAUNG_SHUTDOWN_TIMEOUT_MS: int(100, 60_000).default(8_000),
  /** A claimed delivery belongs to its worker this long; a live worker extends it, a dead one's expires into reconciliation. */
  GAUNG_LEASE_SECONDS: int(5, 3600).default(60),
  /** Attempts that may reach a platform before a delivery is marked failed (rate limits do not count). */
  GAUNG_MAX_ATTEMPTS: int(1, 100).default(8),
  /** First retry after about this long, doubling each time (with jitter) up to GAUNG_RETRY_MAX_MS. */
  GAUNG_RETRY_BASE_MS: int(10, 3_600_000).default(30_000),
  GAUNG_RETRY_MAX_MS: int(10, 86_400_000).default(3_600_000),
  /** After an unsure attempt, how long to let the platform settle before asking whether the post exists. */
  GAUNG_RECONCILE_DELAY_MS: int(0, 3_600_000).default(10_000),
  /** Failed sign-ins count until this many seconds pass without one; then the slate is clean. */
  GAUNG_LOGIN_WINDOW_SECONDS: int(1, 86_400).default(900),
  GAUNG_LOGIN_MAX_FAILURES: int(1, 1_000).default(10),
  /** Per client IP; higher than per account because a whole office may share one address. */
  GAUNG_LOGIN_MAX_FAILURES_PER_IP: int(1, 100_000).default(100),
  SMTP_URL: z
    .string()
    .refine((v) => /^smtps?:\/\//.test(v) && URL.canParse(v), 'must be an smtp:// or smtps:// URL')
    .optional(),
  GAUNG_MAIL_FROM: z.string().min(3).default('Gaung <gaung@localhost>'),
  GAUNG_X_API_URL: httpUrl.default('https://api.x.com'),
  GAUNG_X_UPLOAD_URL: httpUrl.default('https://api.x.com'),
  GAUNG_X_CLIENT_ID: z.string().min(1).optional(),
  GAUNG_X_CLIENT_SECRET: z.string().min(1).optional(),
  GAUNG_GRAPH_API_URL: httpUrl.default('https://graph.facebook.com/v23.0'),
  GAUNG_THREADS_API_URL: httpUrl.default('https://graph.threads.net/v1.0'),
  /** Threads' authorization window (its consent page). */
  GAUNG_THREADS_AUTH_URL: httpUrl.default('https://threads.net/oauth/authorize'),
  /** The Threads app id and secret (a Meta app with the Threads use case has its own pair). */
  GAUNG_THREADS_APP_ID: z.string().min(1).optional(),
  GAUNG_THREADS_APP_SECRET: z.string().min(1).optional(),
  GAUNG_META_APP_ID: z.string().min(1).optional(),
  GAUNG_META_APP_SECRET: z.string().min(1).optional(),
  GAUNG_TELEGRAM_API_URL: httpUrl.default('https://api.telegram.org'),
  /** The bot offices add to their Telegram channels as an administrator, so Gaung reads the channel as a source. */
  GAUNG_TELEGRAM_SOURCE_BOT_TOKEN: z
    .string()
    .regex(/^[0-9]{1,20}:[A-Za-z0-9_-]{30,64}$/, 'must be a bot token as @BotFather gives it')
    .optional(),
  /** The did:plc directory Bluesky sources resolve account DIDs with. */
  GAUNG_PLC_DIRECTORY_URL: httpUrl.default('https://plc.directory'),
  /** Both the Data API (/youtube/v3) and its upload endpoint (/upload/youtube/v3) live under this host. */
  GAUNG_YOUTUBE_API_URL: httpUrl.default('https://www.googleapis.com'),
  /** Where public YouTube channel feeds (/feeds/videos.xml) are read, for YouTube sources. */
  GAUNG_YOUTUBE_FEEDS_URL: httpUrl.default('https://www.youtube.com'),
  /** The Cloud project's API key: YouTube sources read titles, descriptions and deletions with videos.list. */
  GAUNG_YOUTUBE_API_KEY: z.string().min(1).optional(),
  GAUNG_GOOGLE_AUTH_URL: httpUrl.default('https://accounts.google.com/o/oauth2/v2/auth'),
  GAUNG_GOOGLE_TOKEN_URL: httpUrl.default('https://oauth2.googleapis.com/token'),
  GAUNG_GOOGLE_CLIENT_ID: z.string().min(1).optional(),
  GAUNG_GOOGLE_CLIENT_SECRET: z.string().min(1).optional(),
  /** The Cloud project's daily YouTube quotas (shared by every YouTube channel); Google's defaults. */
  GAUNG_YOUTUBE_DAILY_UPLOADS: int(1, 1_000_000).default(100),
  GAUNG_YOUTUBE_DAILY_UNITS: int(1, 100_000_000).default(10_000),
  /** Where the project's quota day ends: Google resets it at midnight Pacific Time. */
  GAUNG_YOUTUBE_QUOTA_TIME_ZONE: z
    .string()
    .refine((zone) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone')
    .default('America/Los_Angeles'),
  /** TikTok's Open API host: the Content Posting API, OAuth token endpoint and Display API live under it. */
  GAUNG_TIKTOK_API_URL: httpUrl.default('https://open.tiktokapis.com'),
  /** TikTok's Login Kit consent page (web, v2). */
  GAUNG_TIKTOK_AUTH_URL: httpUrl.default('https://www.tiktok.com/v2/auth/authorize/'),
  GAUNG_TIKTOK_CLIENT_KEY: z.string().min(1).optional(),
  GAUNG_TIKTOK_CLIENT_SECRET: z.string().min(1).optional(),
  /** Uploads: originals above these are cut off while streaming. Images are re-encoded per platform, so they may exceed every platform's own limit. */
  GAUNG_MEDIA_MAX_IMAGE_BYTES: int(1024, 2 ** 31).default(30_000_000),
  /** Threads and Facebook take videos of up to 1 GB by URL, the largest of the platforms. */
  GAUNG_MEDIA_MAX_VIDEO_BYTES: int(1024, 2 ** 40).default(1_000_000_000),
  /** Width × height; larger images are refused from their header, before any decoding (48 MP phone photos fit). */
  GAUNG_MEDIA_MAX_PIXELS: int(1, 1_000_000_000).default(50_000_000),
  /** Media that no post refers to are deleted this long after upload. */
  GAUNG_MEDIA_GC_GRACE_HOURS: int(1, 24 * 365).default(7 * 24),
  /** Lifetime of signed media URLs handed to platforms that fetch media themselves. */
  GAUNG_MEDIA_URL_TTL_SECONDS: int(60, 7 * 24 * 3600).default(6 * 3600),
  GAUNG_FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
  GAUNG_FFPROBE_PATH: z.string().min(1).default('ffprobe'),
  /** Setting a bucket stores media in S3-compatible object storage instead of the data directory. */
  GAUNG_S3_BUCKET: z.string().min(1).optional(),
  GAUNG_S3_ENDPOINT: httpUrl.optional(),
  GAUNG_S3_REGION: z.string().min(1).default('us-east-1'),
  GAUNG_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  GAUNG_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** MinIO and most self-hosted stores need path-style addressing. */
  GAUNG_S3_FORCE_PATH_STYLE: bool.default(false),
  GAUNG_S3_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_./-]{0,200}$/, 'letters, digits, "_", ".", "/" and "-" only')
    .default(''),
});

export type Env = z.infer<typeof schema>;

export interface Config extends Omit<Env, 'GAUNG_REDIS_PREFIX'> {
  GAUNG_REDIS_PREFIX: string;
  /** Absolute data directory. */
  dataDir: string;
  /** Base URL at which platforms and browsers reach this instance. */
  publicUrl: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** Variables that changed name: a deployment still setting the old one is told, not silently ignored. */
const RENAMED: readonly (readonly [string, string])[] = [
  ['GAUNG_FEED_POLL_SECONDS', 'GAUNG_SOURCE_POLL_SECONDS'],
];

/** Parses the environment; throws ConfigError naming every bad variable. Empty strings count as unset. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  for (const [old, now] of RENAMED)
    if (source[old] !== undefined && source[old] !== '')
      throw new ConfigError(`invalid configuration: ${old} is now called ${now}; rename it`);
  const env: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = source[key];
    if (value !== undefined && value !== '') env[key] = value;
  }
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const config = parsed.data;
  const topologies = [config.REDIS_URL, config.REDIS_SENTINELS, config.REDIS_CLUSTER_NODES].filter(Boolean);
  if (topologies.length > 1)
    throw new ConfigError(
      'invalid configuration: REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES: set one of them, not several',
    );
  const prefix = config.GAUNG_REDIS_PREFIX ?? (config.REDIS_CLUSTER_NODES ? '{gaung}' : 'gaung');
  if (config.REDIS_CLUSTER_NODES && !HASH_TAGGED.test(prefix))
    throw new ConfigError(
      `invalid configuration: GAUNG_REDIS_PREFIX: must hold a hash tag such as {${prefix}} with REDIS_CLUSTER_NODES, so every key lands in one slot`,
    );
  return {
    ...config,
    GAUNG_REDIS_PREFIX: prefix,
    dataDir: path.resolve(config.GAUNG_DATA_DIR),
    publicUrl: config.GAUNG_PUBLIC_URL ?? `http://localhost:${config.PORT}`,
  };
}

/** The configuration of a process entry: an environment that does not parse ends the process with the reason. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`gaung: ${error.message}`);
    process.exit(1);
  }
}
