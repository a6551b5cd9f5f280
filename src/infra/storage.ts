import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Config } from '../../config/env';

/**
 * Where media bytes live: content-addressed by sha256, so identical files are stored once. Bytes
 * are first streamed into a staging file (hashed and counted on the way, never held in memory),
 * inspected there, then committed under their hash or discarded. Local disk under
 * `${GAUNG_DATA_DIR}/media` by default; S3-compatible object storage when GAUNG_S3_BUCKET is set.
 */

export class BlobTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`more than ${limit} bytes`);
    this.name = this.constructor.name;
    this.limit = limit;
  }
}

export class BlobMissingError extends Error {
  constructor(sha256: string) {
    super(`blob ${sha256} is not in storage`);
    this.name = this.constructor.name;
  }
}

/** Bytes in a staging file, not yet part of the store. */
export interface StagedBlob {
  readonly sha256: string;
  readonly bytes: number;
  /** The staging file, for inspection (sharp, ffprobe) before committing. */
  readonly path: string;
  /** Moves the bytes under their hash (atomically: a reader never sees a partial blob). */
  commit(): Promise<void>;
  /** Removes the staging file. Safe to call after commit and more than once. */
  discard(): Promise<void>;
}

/** Inclusive byte range, as in HTTP Range. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobStorage {
  readonly description: string;
  /** The staging directory (same file system as the blobs for local storage). */
  readonly stagingDir: string;
  /** Streams `source` into a staging file; rejects with BlobTooLargeError as soon as it passes `maxBytes`. */
  stage(source: BlobSource, options?: { maxBytes?: number }): Promise<StagedBlob>;
  /** Stage and commit. */
  put(source: BlobSource): Promise<{ sha256: string; bytes: number }>;
  open(sha256: string, range?: ByteRange): Promise<Readable>;
  /** A local file with the blob's bytes (for sharp and ffmpeg); `release` removes a downloaded copy. */
  localFile(sha256: string): Promise<{ path: string; release(): Promise<void> }>;
  exists(sha256: string): Promise<boolean>;
  /** The blob's length in bytes, or null when it is not stored. */
  size(sha256: string): Promise<number | null>;
  delete(sha256: string): Promise<void>;
  /** Removes staging files older than `olderThanMs` (left by a crash mid-upload); returns how many. */
  sweepStaging(olderThanMs: number, now: Date): Promise<number>;
  close(): Promise<void>;
}

const SHA256 = /^[0-9a-f]{64}$/;

function checkHash(sha256: string): string {
  // A hash from the database becomes a path or key: never let anything else through.
  if (!SHA256.test(sha256)) throw new Error(`not a sha256: ${JSON.stringify(sha256)}`);
  return sha256;
}

/** `ab/cd/abcd…`: two directory levels keep directories small. */
const shardedPath = (sha256: string) => `${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${checkHash(sha256)}`;

/** Bytes to stage: a stream (read with backpressure) or chunks already in memory. */
export type BlobSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** Writes `source` into a new file in `dir`, hashing and counting; nothing stays behind on failure. */
async function stageToFile(
  dir: string,
  source: BlobSource,
  maxBytes: number | undefined,
): Promise<{ path: string; sha256: string; bytes: number }> {
  const file = path.join(dir, `${randomUUID()}.part`);
  const hash = createHash('sha256');
  let bytes = 0;
  // Opened before reading, so a failure can never race the file's creation; the directory is made
  // the first time it is missing.
  const create = () => open(file, 'wx', 0o600);
  const handle = await create().catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
    await mkdir(dir, { recursive: true });
    return create();
  });
  try {
    // Each chunk is written before the next is read; leaving the loop early releases the source.
    for await (const chunk of source) {
      bytes += chunk.length;
      if (maxBytes !== undefined && bytes > maxBytes) throw new BlobTooLargeError(maxBytes);
      hash.update(chunk);
      for (let done = 0; done < chunk.length; )
        done += (await handle.write(chunk, done, chunk.length - done)).bytesWritten;
    }
    // Synced to disk before the handle closes: a committed blob survives a crash.
    await handle.sync();
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(file, { force: true });
    throw error;
  }
  return { path: file, sha256: hash.digest('hex'), bytes };
}

async function sweep(dir: string, olderThanMs: number, now: Date): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => null);
    if (info && now.getTime() - info.mtimeMs > olderThanMs) {
      await rm(file, { force: true, recursive: true });
      removed += 1;
    }
  }
  return removed;
}

/** Blobs under `${root}/sha256/ab/cd/<hash>`, staging in `${root}/tmp`. */
export function createLocalStorage(root: string): BlobStorage {
  const stagingDir = path.join(root, 'tmp');
  const blobPath = (sha256: string) => path.join(root, 'sha256', shardedPath(sha256));

  const storage: BlobStorage = {
    description: `local disk (${root})`,
    stagingDir,
    async stage(source, options = {}) {
      const staged = await stageToFile(stagingDir, source, options.maxBytes);
      let done = false;
      return {
        ...staged,
        async commit() {
          if (done) return;
          const target = blobPath(staged.sha256);
          await mkdir(path.dirname(target), { recursive: true });
          await rename(staged.path, target);
          done = true;
        },
        async discard() {
          if (done) return;
          done = true;
          await rm(staged.path, { force: true });
        },
      };
    },
    async put(source) {
      const staged = await storage.stage(source);
      await staged.commit();
      return { sha256: staged.sha256, bytes: staged.bytes };
    },
    async open(sha256, range) {
      const file = blobPath(sha256);
      if (!(await storage.exists(sha256))) throw new BlobMissingError(sha256);
      return createReadStream(file, range ? { start: range.start, end: range.end } : {});
    },
    async localFile(sha256) {
      if (!(await storage.exists(sha256))) throw new BlobMissingError(sha256);
      return { path: blobPath(sha256), release: async () => {} };
    },
    async exists(sha256) {
      return (await storage.size(sha256)) !== null;
    },
    async size(sha256) {
      return stat(blobPath(sha256)).then(
        (info) => (info.isFile() ? info.size : null),
        () => null,
      );
    },
    async delete(sha256) {
      await rm(blobPath(sha256), { force: true });
    },
    sweepStaging: (olderThanMs, now) => sweep(stagingDir, olderThanMs, now),
    async close() {},
  };
  return storage;
}

export interface S3Options {
  bucket: string;
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  prefix: string;
  /** Local staging directory: bytes are hashed and inspected before they are uploaded. */
  stagingDir: string;
}

/**
 * S3-compatible object storage (AWS S3, MinIO, Cloudflare R2, Ceph…) through @aws-sdk/client-s3,
 * loaded only when configured. Every object is uploaded from a staging file of known length, so a
 * single PutObject suffices (up to 5 GB, far above the media limits).
 */
export async function createS3Storage(options: S3Options): Promise<BlobStorage> {
  const { S3Client, PutObjectCommand, GetObjectCommand, HeadObjectCommand, DeleteObjectCommand } =
    await import('@aws-sdk/client-s3');
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials:
      options.accessKeyId && options.secretAccessKey
        ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
        : undefined,
    // The SDK's default trailing checksums (aws-chunked bodies) are refused by many S3-compatible stores.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const prefix = options.prefix && !options.prefix.endsWith('/') ? `${options.prefix}/` : options.prefix;
  const keyOf = (sha256: string) => `${prefix}sha256/${shardedPath(sha256)}`;
  const Bucket = options.bucket;
  const notFound = (error: unknown) =>
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;

  const upload = async (file: string, sha256: string, bytes: number) => {
    await client.send(
      new PutObjectCommand({
        Bucket,
        Key: keyOf(sha256),
        Body: createReadStream(file),
        ContentLength: bytes,
        ContentType: 'application/octet-stream',
      }),
    );
  };

  const storage: BlobStorage = {
    description: `S3 bucket ${options.bucket}${options.endpoint ? ` at ${options.endpoint}` : ''}`,
    stagingDir: options.stagingDir,
    async stage(source, stageOptions = {}) {
      const staged = await stageToFile(options.stagingDir, source, stageOptions.maxBytes);
      let done = false;
      return {
        ...staged,
        async commit() {
          if (done) return;
          await upload(staged.path, staged.sha256, staged.bytes);
          done = true;
          await rm(staged.path, { force: true });
        },
        async discard() {
          if (done) return;
          done = true;
          await rm(staged.path, { force: true });
        },
      };
    },
    async put(source) {
      const staged = await storage.stage(source);
      try {
        await staged.commit();
      } finally {
        await staged.discard();
      }
      return { sha256: staged.sha256, bytes: staged.bytes };
    },
    async open(sha256, range) {
      try {
        const response = await client.send(
          new GetObjectCommand({
            Bucket,
            Key: keyOf(sha256),
            Range: range ? `bytes=${range.start}-${range.end}` : undefined,
          }),
        );
        return response.Body as Readable;
      } catch (error) {
        if (notFound(error) || (error as Error).name === 'NoSuchKey') throw new BlobMissingError(sha256);
        throw error;
      }
    },
    async localFile(sha256) {
      const staged = await stageToFile(options.stagingDir, await storage.open(sha256), undefined);
      return { path: staged.path, release: () => rm(staged.path, { force: true }) };
    },
    async exists(sha256) {
      return (await storage.size(sha256)) !== null;
    },
    async size(sha256) {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket, Key: keyOf(sha256) }));
        return head.ContentLength ?? null;
      } catch (error) {
        if (notFound(error)) return null;
        throw error;
      }
    },
    async delete(sha256) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: keyOf(sha256) }));
    },
    sweepStaging: (olderThanMs, now) => sweep(options.stagingDir, olderThanMs, now),
    async close() {
      client.destroy();
    },
  };
  return storage;
}

/** The storage the configuration asks for. */
export async function createStorage(config: Config): Promise<BlobStorage> {
  const root = path.join(config.dataDir, 'media');
  if (!config.GAUNG_S3_BUCKET) return createLocalStorage(root);
  if (Boolean(config.GAUNG_S3_ACCESS_KEY_ID) !== Boolean(config.GAUNG_S3_SECRET_ACCESS_KEY))
    throw new Error(
      'GAUNG_S3_ACCESS_KEY_ID and GAUNG_S3_SECRET_ACCESS_KEY: set both, or neither to use the default AWS credentials',
    );
  return createS3Storage({
    bucket: config.GAUNG_S3_BUCKET,
    endpoint: config.GAUNG_S3_ENDPOINT,
    region: config.GAUNG_S3_REGION,
    accessKeyId: config.GAUNG_S3_ACCESS_KEY_ID,
    secretAccessKey: config.GAUNG_S3_SECRET_ACCESS_KEY,
    forcePathStyle: config.GAUNG_S3_FORCE_PATH_STYLE,
    prefix: config.GAUNG_S3_PREFIX,
    stagingDir: path.join(root, 'tmp'),
  });
}
