import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import sharp from 'sharp';
import type { Platform } from '../../src/domain/vocabulary';
import type {
  NetworkReach,
  PlatformApps,
  PlatformContext,
  PlatformEndpoints,
  PublishMedia,
  PublishRequest,
  PublishResult,
  RetractRequest,
} from '../../src/platforms/types';

/**
 * What adapter tests need around a fake platform: a PlatformContext whose credentials live in a
 * versioned store (so compare-and-set rotation can be tested with two workers), media built from
 * bytes, and generated test images and video.
 */

export interface CredentialStore {
  current: Record<string, unknown>;
  version: number;
  expiresAt: Date | null;
}

export function createCredentialStore(initial: Record<string, unknown>): CredentialStore {
  return { current: structuredClone(initial), version: 1, expiresAt: null };
}

export interface TestPlatformContext extends PlatformContext {
  rateLimits: { remaining: number; resetAt: Date; scope: 'channel' | 'app' }[];
  warnings: object[];
}

const UNUSED = 'http://127.0.0.1:9';

export function createPlatformContext(options: {
  platform: Platform;
  store: CredentialStore;
  settings?: Record<string, unknown>;
  endpoints?: Partial<PlatformEndpoints>;
  apps?: PlatformApps;
  /** The fakes listen on loopback, so by default settings URLs may reach it. */
  reach?: NetworkReach;
}): TestPlatformContext {
  let loadedVersion = options.store.version;
  let credentials = structuredClone(options.store.current);
  // Like the engine's context: `credentials` follows the last successful save or reload.
  const context: TestPlatformContext = {
    channel: { id: 'channel-under-test', platform: options.platform, settings: options.settings ?? {} },
    get credentials() {
      return credentials;
    },
    endpoints: {
      xApi: UNUSED,
      xUpload: UNUSED,
      graph: UNUSED,
      threads: UNUSED,
      threadsAuth: UNUSED,
      telegram: UNUSED,
      youtube: UNUSED,
      googleAuth: UNUSED,
      googleToken: UNUSED,
      tiktok: UNUSED,
      tiktokAuth: UNUSED,
      ...options.endpoints,
    },
    apps: options.apps ?? {},
    reach: options.reach ?? 'any',
    rateLimits: [],
    warnings: [],
    async saveCredentials(next, expiresAt) {
      if (options.store.version !== loadedVersion) return false;
      options.store.current = structuredClone(next);
      options.store.expiresAt = expiresAt;
      options.store.version += 1;
      loadedVersion = options.store.version;
      credentials = structuredClone(next);
      return true;
    },
    async reloadCredentials() {
      loadedVersion = options.store.version;
      credentials = structuredClone(options.store.current);
      return credentials;
    },
    onRateLimit(state) {
      context.rateLimits.push(state);
    },
    log: {
      info() {},
      warn(obj) {
        context.warnings.push(obj);
      },
    },
  };
  return context;
}

export function mediaFromBuffer(
  buffer: Buffer,
  options: {
    kind: 'image' | 'video';
    mime: string;
    width?: number;
    height?: number;
    durationMs?: number;
    altText?: string;
  },
): PublishMedia {
  const sha256 = createHash('sha256').update(buffer).digest('hex');
  return {
    id: sha256.slice(0, 16),
    kind: options.kind,
    mime: options.mime,
    bytes: buffer.length,
    width: options.width ?? null,
    height: options.height ?? null,
    durationMs: options.durationMs ?? null,
    altText: options.altText ?? '',
    sha256,
    open: async () => Readable.from([buffer]),
    publicUrl: () => `https://media.invalid/${sha256}`,
  };
}

export async function testImage(
  options: { width?: number; height?: number; format?: 'png' | 'jpeg'; hue?: number } = {},
): Promise<Buffer> {
  const { width = 64, height = 48, format = 'png', hue = 120 } = options;
  const image = sharp({
    create: { width, height, channels: 3, background: { r: hue % 256, g: (hue * 3) % 256, b: 90 } },
  });
  return format === 'png' ? image.png().toBuffer() : image.jpeg().toBuffer();
}

/** A short H.264 MP4 made by ffmpeg (installed on the test machine), generated once per process. */
let videoCache: Promise<Buffer> | null = null;
export function testVideo(): Promise<Buffer> {
  videoCache ??= (async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gaung-video-'));
    const file = path.join(dir, 'clip.mp4');
    try {
      await promisify(execFile)('ffmpeg', [
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc=size=160x120:rate=10:duration=1',
        '-pix_fmt',
        'yuv420p',
        '-c:v',
        'libx264',
        '-movflags',
        '+faststart',
        file,
      ]);
      return await readFile(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return videoCache;
}

export function publishRequest(overrides: Partial<PublishRequest> & { deliveryId: string }): PublishRequest {
  return {
    mode: 'copy',
    text: 'Pelayanan paspor di Kantor Imigrasi Pontianak kini buka hari Sabtu.',
    media: [],
    link: null,
    sourceUrl: null,
    firstAttemptAt: new Date(),
    ...overrides,
  };
}

/** The retraction of what `published` made for `request`, as the engine builds it. */
export function retractRequest(
  request: Pick<PublishRequest, 'deliveryId' | 'mode' | 'sourceUrl'>,
  published: PublishResult,
  overrides: Partial<RetractRequest> = {},
): RetractRequest {
  return {
    deliveryId: request.deliveryId,
    mode: request.mode,
    remoteId: published.remoteId,
    remoteIds: published.remoteIds ?? [],
    remoteUrl: published.url,
    publishedAt: new Date(),
    sourceUrl: request.sourceUrl,
    reason: 'Salah tanggal layanan',
    ...overrides,
  };
}
