/**
 * Server memory while a 200 MB video is uploaded: starts the real server (`src/server.ts`, what
 * `npm start` runs) as a child process on PGlite with its own data directory, measures its idle
 * RSS, uploads a 200 MB MP4 over HTTP to POST /api/v1/media, and reports the server's peak RSS
 * (kernel high-water mark, reset after idle). Baseline from the same run: the same upload to a bare
 * Fastify + @fastify/multipart server that discards the stream. Writes its section of docs/benchmarks.md.
 *
 *   npm run bench:media            (needs ffmpeg to make the video; BENCH_MEDIA_BYTES to change the size)
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import multipart from '@fastify/multipart';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { loadConfig } from '../config/env';
import { openDatabase } from '../src/db/client';
import { apiTokens, units, users } from '../src/db/schema';
import { randomToken, sha256Hex } from '../src/infra/crypto';
import { FFMPEG_MISSING, ffmpegInstalled } from '../tests/helpers/ffmpeg';
import { root, writeSection } from './measure';

const SIZE = Number(process.env.BENCH_MEDIA_BYTES ?? 200 * 1024 * 1024);
const TARGET_ABOVE_IDLE = 150 * 1024 * 1024;
const run = promisify(execFile);
const MB = 1024 * 1024;

/** The baseline: multipart parsing and nothing else, the floor any streaming upload pays. */
async function baselineServer(): Promise<void> {
  const app = Fastify({ logger: false });
  await app.register(multipart, { limits: { fileSize: 2 ** 40, files: 1 } });
  app.post('/upload', async (request, reply) => {
    let bytes = 0;
    for await (const part of request.parts()) {
      if (part.type !== 'file') continue;
      await pipeline(
        part.file,
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            bytes += chunk.length;
            callback();
          },
        }),
      );
    }
    return reply.code(201).send({ bytes });
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  console.log(`BASELINE LISTENING ${address}`);
}

/** A real 2-second MP4 (moov first), grown to `size` bytes with an ISO BMFF `free` box at the end. */
async function makeVideo(dir: string, size: number): Promise<string> {
  const small = path.join(dir, 'small.mp4');
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=1280x720:rate=25:duration=2',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:duration=2',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-shortest',
    '-movflags',
    '+faststart',
    small,
  ]);
  const video = await readFile(small);
  const padding = size - video.length;
  if (padding < 8 || size >= 2 ** 32)
    throw new Error('BENCH_MEDIA_BYTES must be between the clip size and 4 GB');
  const file = path.join(dir, 'upload.mp4');
  const out = createWriteStream(file);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(padding, 0);
  header.write('free', 4, 'ascii');
  const chunk = randomBytes(MB);
  await new Promise<void>((resolve, reject) => {
    out.on('error', reject);
    out.write(video);
    out.write(header);
    let left = padding - 8;
    const pump = () => {
      while (left > 0) {
        const piece = chunk.subarray(0, Math.min(chunk.length, left));
        left -= piece.length;
        if (!out.write(piece)) return void out.once('drain', pump);
      }
      out.end(resolve);
    };
    pump();
  });
  await rm(small);
  return file;
}

function readStatus(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** Resets the kernel's peak-RSS counter, so VmHWM covers the upload only (Linux; may need root). */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

interface Child {
  pid: number;
  url: string;
  stop(): Promise<void>;
  output(): string;
}

function startChild(args: string[], env: Record<string, string>, ready: RegExp): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match)
        resolve({
          pid: child.pid!,
          url: match[1]!,
          output: () => output,
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child exited with ${code}:\n${output}`)));
  });
}

async function upload(
  url: string,
  file: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; ms: number }> {
  const size = (await stat(file)).size;
  const boundary = `----gaungbench${randomBytes(8).toString('hex')}`;
  const opening = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
  );
  const closing = Buffer.from(`\r\n--${boundary}--\r\n`);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      headers: {
        ...headers,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(opening.length + size + closing.length),
      },
    });
    request.on('response', (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body, ms: performance.now() - started }),
      );
    });
    request.on('error', reject);
    request.write(opening);
    const source = createReadStream(file);
    source.on('end', () => request.end(closing));
    source.pipe(request, { end: false });
  });
}

interface Measurement {
  idle: number;
  peak: number;
  peakSource: 'VmHWM' | 'sampled';
  after: number;
  ms: number;
  status: number;
}

async function measure(
  child: Child,
  doUpload: () => Promise<{ status: number; body: string; ms: number }>,
): Promise<Measurement> {
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const idle = readStatus(child.pid).rss;
  const exact = resetPeak(child.pid);
  let sampled = idle;
  const timer = setInterval(() => {
    sampled = Math.max(sampled, readStatus(child.pid).rss);
  }, 20);
  const result = await doUpload();
  clearInterval(timer);
  const status = readStatus(child.pid);
  if (result.status >= 300) throw new Error(`upload failed with ${result.status}: ${result.body}`);
  return {
    idle,
    peak: exact ? Math.max(status.hwm, sampled) : sampled,
    peakSource: exact ? 'VmHWM' : 'sampled',
    after: status.rss,
    ms: result.ms,
    status: result.status,
  };
}

/** A unit, a contributor and an API token, written before the server opens the same PGlite directory. */
async function seed(dataDir: string): Promise<string> {
  const config = loadConfig({ GAUNG_DATA_DIR: dataDir, NODE_ENV: 'development' });
  const database = await openDatabase(config);
  try {
    await database.migrate();
    const unitId = crypto.randomUUID();
    await database.db.insert(units).values({
      id: unitId,
      kind: 'national',
      name: 'Nasional',
      slug: 'nasional',
      timeZone: 'Asia/Jakarta',
      path: `/${unitId}/`,
    });
    const [user] = await database.db
      .insert(users)
      .values({
        unitId,
        email: 'bench@gaung.test',
        name: 'Bench',
        role: 'contributor',
        passwordHash: 'unused',
      })
      .returning({ id: users.id });
    const token = randomToken('gaung_');
    await database.db
      .insert(apiTokens)
      .values({ userId: user!.id, name: 'bench', tokenHash: sha256Hex(token), prefix: token.slice(0, 12) });
    return token;
  } finally {
    await database.close();
  }
}

/** Removes the queue keys the server left under its prefix (when Redis is the shared one, not a child). */
async function forgetRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } catch {
    // A private redis-server child went away with the server, and its keys with it.
  } finally {
    redis.disconnect();
  }
}

const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

async function main() {
  if (!ffmpegInstalled) {
    console.error(`bench:media makes its video with ffmpeg and probes it with ffprobe: ${FFMPEG_MISSING}`);
    process.exit(1);
  }
  const work = await mkdtemp(path.join(os.tmpdir(), 'gaung-bench-media-'));
  try {
    const load = os.loadavg();
    console.log(`making a ${mb(SIZE)} MP4…`);
    const file = await makeVideo(work, SIZE);
    const dataDir = path.join(work, 'data');
    const token = await seed(dataDir);
    const redisPrefix = `gaung-bench-${randomBytes(4).toString('hex')}`;

    const server = await startChild(
      ['src/server.ts'],
      {
        GAUNG_DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'info',
        NODE_ENV: 'development',
        GAUNG_SECRET_KEY: randomBytes(32).toString('base64'),
        GAUNG_REDIS_PREFIX: redisPrefix,
        GAUNG_DEMO: '0',
      },
      /"address":"(http:\/\/[^"]+)"[^\n]*Gaung is listening/,
    );
    let gaung: Measurement;
    let stored: { bytes: number; durationMs: number | null };
    try {
      console.log('uploading to Gaung…');
      let body = '';
      gaung = await measure(server, async () => {
        const result = await upload(`${server.url}/api/v1/media`, file, { authorization: `Bearer ${token}` });
        body = result.body;
        return result;
      });
      stored = JSON.parse(body);
    } finally {
      await server.stop();
      await forgetRedisKeys(redisPrefix);
    }
    if (stored.bytes !== SIZE) throw new Error(`stored ${stored.bytes} bytes, sent ${SIZE}`);

    const bare = await startChild(
      ['bench/media-upload.ts', '--baseline-server'],
      {},
      /BASELINE LISTENING (http:\/\/\S+)/,
    );
    let baseline: Measurement;
    try {
      console.log('uploading to the bare multipart server…');
      baseline = await measure(bare, () => upload(`${bare.url}/upload`, file, {}));
    } finally {
      await bare.stop();
    }

    const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
    const rows = [
      ['Gaung (`src/server.ts`, PGlite, local disk)', gaung],
      ['baseline: Fastify + @fastify/multipart, stream discarded', baseline],
    ] as const;
    const above = gaung.peak - gaung.idle;
    const section = [
      `## Media upload: server memory for a ${mb(SIZE)} video`,
      '',
      'Command: `npm run bench:media` (bench/media-upload.ts).',
      '',
      `Machine: ${cpu}, ${os.cpus().length} cores (nproc), ${Math.round(os.totalmem() / 1024 ** 3)} GB RAM, Node ${process.version}, ffmpeg/ffprobe installed. Load average at the start: ${load.map((l) => l.toFixed(2)).join(' / ')} (the machine is shared).`,
      '',
      `What: the real server (\`node --import tsx src/server.ts\`, API and workers in one process, PGlite in its own data directory) receives a ${mb(SIZE)} MP4 (a real 2-second 720p clip, padded with a \`free\` box) in one multipart POST /api/v1/media over loopback HTTP. The upload is streamed to a staging file while it is hashed and counted, sniffed, probed with ffprobe, thumbnailed with ffmpeg, then committed under its sha256. Idle RSS is read 3 s after start; peak RSS is the kernel's high-water mark (${gaung.peakSource}) reset after the idle reading, so it covers the upload only.`,
      '',
      '| server | idle RSS | peak RSS during upload | peak above idle | RSS after | upload time |',
      '|---|---:|---:|---:|---:|---:|',
      ...rows.map(
        ([name, m]) =>
          `| ${name} | ${mb(m.idle)} | ${mb(m.peak)} | ${mb(m.peak - m.idle)} | ${mb(m.after)} | ${(m.ms / 1000).toFixed(1)} s |`,
      ),
      '',
      `Target: peak under 150 MB above idle — ${above < TARGET_ABOVE_IDLE ? 'met' : 'NOT met'} (${mb(above)}). The bytes never sit in memory: they flow through a hash and a byte counter into a file, with backpressure from the disk.`,
      '',
    ].join('\n');
    writeSection('media-upload', section);
    console.log(section);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv.includes('--baseline-server')) await baselineServer();
else await main();
