import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import sharp from 'sharp';
import type { App } from '../../src/app';

/** Real media files made in the test: images with sharp, videos with ffmpeg (see ./ffmpeg.ts). */

const run = promisify(execFile);

export function solidImage(width: number, height: number, options: { alpha?: boolean } = {}) {
  return sharp({
    create: {
      width,
      height,
      channels: options.alpha ? 4 : 3,
      background: options.alpha ? { r: 200, g: 30, b: 30, alpha: 0.5 } : { r: 30, g: 120, b: 200 },
    },
  });
}

/** Random noise compresses badly: the way to make large files from small pictures. */
export function noiseImage(width: number, height: number) {
  return sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 60 },
    },
  });
}

export async function animatedGif(width: number, height: number, frames = 3): Promise<Buffer> {
  const pages = await Promise.all(
    Array.from({ length: frames }, (_, i) =>
      sharp({ create: { width, height, channels: 3, background: { r: i * 80, g: 40, b: 200 - i * 60 } } })
        .png()
        .toBuffer(),
    ),
  );
  return sharp(pages, { join: { animated: true } })
    .gif({ delay: 100 })
    .toBuffer();
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real, valid 1-bit PNG of width × height (20,000² is 400 megapixels in ~50 KB). */
export function decompressionBomb(width = 20_000, height = 20_000): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale
  const rows = Buffer.alloc((1 + Math.ceil(width / 8)) * height);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', zlib.deflateSync(rows, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A short test-pattern video made by ffmpeg (H.264 unless `codec`, with AAC audio unless `silent`).
 * `rotation` tags the picture the way a phone held upright does: stored sideways, shown turned.
 * `location` (ISO 6709, e.g. `+06.1750+106.8283/`) is written into the container's user data (a
 * `loci` atom), and in a MOV also as Apple's `com.apple.quicktime.location.ISO6709` key, the way
 * iPhones write it.
 */
export async function makeVideo(options: {
  format: 'mp4' | 'mov';
  seconds: number;
  width?: number;
  height?: number;
  fps?: number;
  silent?: boolean;
  codec?: 'h264' | 'hevc';
  rotation?: 90 | 270;
  location?: string;
}): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gaung-video-'));
  const file = path.join(dir, `clip.${options.format}`);
  const encoded = options.rotation ? path.join(dir, `sideways.${options.format}`) : file;
  const size = `${options.width ?? 320}x${options.height ?? 240}`;
  const audio = options.silent ? [] : ['-f', 'lavfi', '-i', `sine=frequency=440:duration=${options.seconds}`];
  const location = !options.location
    ? []
    : options.format === 'mov'
      ? [
          '-metadata',
          `location=${options.location}`,
          '-metadata',
          `com.apple.quicktime.location.ISO6709=${options.location}`,
          '-movflags',
          'use_metadata_tags',
        ]
      : ['-metadata', `location=${options.location}`];
  try {
    await run('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `testsrc=size=${size}:rate=${options.fps ?? 25}:duration=${options.seconds}`,
      ...audio,
      '-c:v',
      options.codec === 'hevc' ? 'libx265' : 'libx264',
      ...(options.codec === 'hevc' ? ['-x265-params', 'log-level=error', '-tag:v', 'hvc1'] : []),
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      ...(options.silent ? [] : ['-c:a', 'aac', '-shortest']),
      ...location,
      '-f',
      options.format,
      encoded,
    ]);
    if (options.rotation)
      await run('ffmpeg', [
        '-v',
        'error',
        '-i',
        encoded,
        '-c',
        'copy',
        '-metadata:s:v:0',
        `rotate=${options.rotation}`,
        ...location,
        '-f',
        options.format,
        file,
      ]);
    return await readFile(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs `use` on a temporary file holding `bytes`. */
async function withFile<T>(bytes: Buffer, use: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gaung-probe-'));
  const file = path.join(dir, 'clip');
  try {
    await writeFile(file, bytes);
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What ffprobe says about a video held in memory, container and stream metadata (`tags`) included. */
export function probe(bytes: Buffer): Promise<{
  format: { duration: string; format_name: string; tags?: Record<string, string> };
  streams: {
    codec_type: string;
    codec_name: string;
    width?: number;
    height?: number;
    side_data_list?: { rotation?: number }[];
    tags?: Record<string, string>;
  }[];
}> {
  return withFile(bytes, async (file) => {
    const { stdout } = await run('ffprobe', [
      '-v',
      'error',
      '-print_format',
      'json',
      '-show_format',
      '-show_streams',
      file,
    ]);
    return JSON.parse(stdout);
  });
}

/**
 * A hash of the packets of the first video and audio streams: equal for two files when one holds
 * the other's streams copied as they are, not re-encoded.
 */
export function packetHashes(bytes: Buffer): Promise<string> {
  return withFile(bytes, async (file) => {
    const { stdout } = await run('ffmpeg', [
      '-v',
      'error',
      '-i',
      file,
      '-map',
      '0:v:0',
      '-map',
      '0:a:0?',
      '-c',
      'copy',
      '-f',
      'streamhash',
      '-hash',
      'sha256',
      '-',
    ]);
    return stdout;
  });
}

export type FormPart =
  | { name: string; value: string }
  | { name: string; filename: string; contentType?: string; data: Buffer };

/** A multipart/form-data body for app.inject. */
export function multipart(parts: FormPart[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----gaung${randomUUID()}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if ('value' in part) {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`,
        ),
      );
    } else {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\n` +
            `Content-Type: ${part.contentType ?? 'application/octet-stream'}\r\n\r\n`,
        ),
        part.data,
        Buffer.from('\r\n'),
      );
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(chunks),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

/** Every file under `dir`, relative, sorted (empty when the directory does not exist). */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

export interface StreamedUpload {
  status: number | null;
  body: string;
  /** Bytes of the file written to the socket when the response (or the end) came. */
  sentBeforeResponse: number;
  error: string | null;
}

/**
 * Uploads a file over real HTTP in chunks, the way a phone on a slow link does: `head` first,
 * then zero-filled chunks up to `totalBytes`. Stops writing as soon as a response arrives;
 * `abortAfter` destroys the connection after that many file bytes.
 */
export function streamUpload(
  url: string,
  options: {
    headers: Record<string, string>;
    fileName: string;
    contentType: string;
    head: Buffer;
    totalBytes: number;
    chunkBytes?: number;
    abortAfter?: number;
    onAbort?: () => void;
    beforeAbort?: () => Promise<void>;
  },
): Promise<StreamedUpload> {
  const boundary = `----gaung${randomUUID()}`;
  const opening = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${options.fileName}"\r\nContent-Type: ${options.contentType}\r\n\r\n`,
  );
  const closing = Buffer.from(`\r\n--${boundary}--\r\n`);
  const chunkBytes = options.chunkBytes ?? 64 * 1024;
  return new Promise((resolve) => {
    let sent = 0;
    let responded = false;
    let settled = false;
    const finish = (result: StreamedUpload) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const request = http.request(url, {
      method: 'POST',
      headers: {
        ...options.headers,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(opening.length + options.totalBytes + closing.length),
      },
    });
    request.on('response', (response) => {
      responded = true;
      const sentBeforeResponse = sent;
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () =>
        finish({ status: response.statusCode ?? null, body, sentBeforeResponse, error: null }),
      );
      response.on('error', () =>
        finish({ status: response.statusCode ?? null, body, sentBeforeResponse, error: null }),
      );
    });
    request.on('error', (error) => {
      if (!responded) finish({ status: null, body: '', sentBeforeResponse: sent, error: error.message });
    });
    const write = async () => {
      request.write(opening);
      const zeros = Buffer.alloc(chunkBytes);
      while (sent < options.totalBytes && !responded && !request.destroyed) {
        const piece =
          sent === 0 ? options.head : zeros.subarray(0, Math.min(chunkBytes, options.totalBytes - sent));
        if (options.abortAfter !== undefined && sent + piece.length > options.abortAfter) {
          await options.beforeAbort?.();
          request.destroy();
          options.onAbort?.();
          finish({ status: null, body: '', sentBeforeResponse: sent, error: 'aborted by the client' });
          return;
        }
        const flushed = request.write(piece);
        sent += piece.length;
        if (!flushed) await new Promise<void>((resolve) => request.once('drain', () => resolve()));
      }
      if (!responded && !request.destroyed) request.end(closing);
    };
    write().catch(() => {});
  });
}

/** POST /api/v1/media through app.inject, with optional form fields before the file. */
export function uploadMedia(
  app: { inject: App['inject'] },
  user: { headers: Record<string, string> },
  file: { filename: string; data: Buffer; contentType?: string },
  fields: Record<string, string> = {},
) {
  const form = multipart([
    ...Object.entries(fields).map(([name, value]) => ({ name, value })),
    { name: 'file', ...file },
  ]);
  return app.inject({
    method: 'POST',
    url: '/api/v1/media',
    headers: { ...user.headers, ...form.headers },
    payload: form.payload,
  });
}
