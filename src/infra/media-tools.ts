import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import type { Metadata, Sharp } from 'sharp';
import type {
  EncodingAttempt,
  ImageFormat,
  ImagePlan,
  VideoContainer,
  VideoPlan,
} from '../domain/media-rules';

/**
 * The I/O under media handling: sniffing bytes, reading image headers, decoding with sharp, and
 * ffprobe/ffmpeg for video (optional: without them videos are accepted unprobed, without thumbnails).
 */

let sharpModule: Promise<typeof import('sharp')> | undefined;

/** sharp (libvips) is loaded on the first image, not at start: an idle process does not carry it. */
function loadSharp(): Promise<typeof import('sharp')> {
  sharpModule ??= import('sharp').then((module) => {
    // libvips' operation cache keeps decoded images around; media are processed once each.
    module.default.cache(false);
    return module;
  });
  return sharpModule;
}

/** file-type, imported once (each `import()` resolves the specifier again). */
let fileType: Promise<typeof import('file-type')> | undefined;

/** Bytes file-type needs to recognise every format it knows. */
const SAMPLE_BYTES = 4100;

export interface Sniffed {
  /** The sniffed MIME type, undefined when file-type recognises nothing. */
  mime: string | undefined;
  /** Bytes seen while sniffing (0: the file is empty). */
  sampled: number;
  /** The whole stream again, sample included, with backpressure intact. */
  stream: Readable;
}

/** Reads the first few KB of `source` to decide its type from the bytes; the rest is not buffered. */
export async function sniff(source: Readable): Promise<Sniffed> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let sampled = 0;
  let ended = false;
  while (sampled < SAMPLE_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(next.value);
    sampled += next.value.length;
  }
  const sample = Buffer.concat(head);
  fileType ??= import('file-type');
  const { fileTypeFromBuffer } = await fileType;
  const type = sampled > 0 ? await fileTypeFromBuffer(sample.subarray(0, SAMPLE_BYTES)) : undefined;
  async function* replay() {
    yield sample;
    if (ended) return;
    while (true) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const stream = Readable.from(replay(), { objectMode: false });
  // Destroying the replay (a refused upload) must release the source too.
  stream.once('close', () => {
    if (!source.destroyed && !source.readableEnded) source.destroy();
  });
  return { mime: type?.mime, sampled, stream };
}

export class PixelLimitError extends Error {
  constructor() {
    super('Input image exceeds pixel limit');
    this.name = this.constructor.name;
  }
}

export interface ImageFacts {
  format: string;
  /** As displayed, after EXIF orientation. */
  width: number;
  height: number;
  animated: boolean;
  hasAlpha: boolean;
  /** Carries EXIF, XMP or IPTC data: camera details and often the place the photo was taken. */
  hasMetadata: boolean;
}

const isPixelLimit = (error: unknown) => /pixel limit/i.test((error as Error).message);

const THUMBNAIL_SIDE = 320;

/**
 * A small WebP of the image's first frame. It decodes the whole image, so a truncated or corrupt
 * file fails here (sharp's `failOn: 'error'`). Effort 1 of 6: on photos, a third less CPU than the
 * default 4 and about as little as 0, for a file about 9 % larger than at 4.
 */
function thumbnail(image: Sharp): Promise<Buffer> {
  return image
    .autoOrient()
    .resize(THUMBNAIL_SIDE, THUMBNAIL_SIDE, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 70, effort: 1 })
    .toBuffer();
}

/**
 * An image's facts and its thumbnail, from one sharp pipeline: the header is read first, so a
 * decompression bomb is refused (PixelLimitError) before any pixel is decoded; then the thumbnail
 * decodes the whole image, which rejects a damaged or incomplete file.
 */
export async function examineImage(
  file: string,
  maxPixels: number,
): Promise<{ facts: ImageFacts; thumbnail: Buffer }> {
  const { default: sharp } = await loadSharp();
  const image = sharp(file, { limitInputPixels: maxPixels, failOn: 'error' });
  let meta: Metadata;
  try {
    meta = await image.metadata();
  } catch (error) {
    if (isPixelLimit(error)) throw new PixelLimitError();
    throw error;
  }
  if (!meta.width || !meta.height) throw new Error('image without dimensions');
  if (meta.width * meta.height > maxPixels) throw new PixelLimitError();
  return {
    facts: {
      format: meta.format,
      width: meta.autoOrient?.width ?? meta.width,
      height: meta.autoOrient?.height ?? meta.height,
      animated: (meta.pages ?? 1) > 1,
      hasAlpha: meta.hasAlpha ?? false,
      hasMetadata: Boolean(meta.exif || meta.xmp || meta.iptc),
    },
    thumbnail: await thumbnail(image),
  };
}

/** The thumbnail of a decoded video frame. */
export async function thumbnailOf(frame: Buffer, maxPixels: number): Promise<Buffer> {
  const { default: sharp } = await loadSharp();
  try {
    return await thumbnail(sharp(frame, { limitInputPixels: maxPixels, failOn: 'error' }));
  } catch (error) {
    if (isPixelLimit(error)) throw new PixelLimitError();
    throw error;
  }
}

const WHITE = { r: 255, g: 255, b: 255, alpha: 1 };

/** Encodes an image as planned, at the attempt's quality and scale. */
export async function encodeImage(
  file: string,
  plan: ImagePlan,
  attempt: EncodingAttempt,
  maxPixels: number,
): Promise<{ data: Buffer; width: number; height: number }> {
  const { default: sharp } = await loadSharp();
  const animated = !plan.still && (plan.format === 'gif' || plan.format === 'webp');
  let image = sharp(file, { limitInputPixels: maxPixels, failOn: 'error', animated }).autoOrient();
  const canvasWidth = Math.max(1, Math.round(plan.canvasWidth * attempt.scale));
  const canvasHeight = Math.max(1, Math.round(plan.canvasHeight * attempt.scale));
  // `contain` scales the picture into the canvas and pads the rest (a no-op at the original size).
  image = image.resize(canvasWidth, canvasHeight, { fit: 'contain', background: WHITE });
  if (plan.flatten) image = image.flatten({ background: WHITE });
  const encoders: Record<ImageFormat, (target: Sharp) => Sharp> = {
    jpeg: (target) => target.jpeg({ quality: attempt.quality }),
    png: (target) => target.png({ compressionLevel: 9 }),
    webp: (target) => target.webp({ quality: attempt.quality }),
    gif: (target) => target.gif(),
  };
  const { data, info } = await encoders[plan.format](image).toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.pageHeight ?? info.height };
}

// ---------------------------------------------------------------------------------------------
// ffprobe and ffmpeg

export class ToolMissingError extends Error {
  constructor(command: string) {
    super(`${command} is not installed`);
    this.name = this.constructor.name;
  }
}

/** Runs a command without a shell; resolves with its stdout, rejects with the end of its stderr. */
function run(
  command: string,
  args: string[],
  options: { timeoutMs: number; maxStdout: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let failure: Error | null = null;
    const timer = setTimeout(() => {
      failure = new Error(`${command} took longer than ${options.timeoutMs} ms`);
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > options.maxStdout) {
        failure = new Error(`${command} wrote more than ${options.maxStdout} bytes`);
        child.kill('SIGKILL');
        return;
      }
      out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString()).slice(-2000);
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(error.code === 'ENOENT' ? new ToolMissingError(command) : error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (failure) return reject(failure);
      if (code !== 0) return reject(new Error(`${command} exited with ${code}: ${err.trim()}`));
      resolve(Buffer.concat(out));
    });
  });
}

const availability = new Map<string, Promise<boolean>>();

/** Whether `command` can be run (checked once per process). */
export function toolAvailable(command: string): Promise<boolean> {
  let known = availability.get(command);
  if (!known) {
    known = run(command, ['-version'], { timeoutMs: 10_000, maxStdout: 1024 * 1024 }).then(
      () => true,
      () => false,
    );
    availability.set(command, known);
  }
  return known;
}

export interface VideoFacts {
  durationMs: number | null;
  /** As displayed, after the rotation tag. */
  width: number | null;
  height: number | null;
  videoCodec: string | null;
  audioCodec: string | null;
  frameRate: number | null;
  bitRate: number | null;
  rotation: number;
  formatName: string | null;
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  disposition?: { attached_pic?: number };
  side_data_list?: { rotation?: number }[];
  tags?: { rotate?: string };
}

interface ProbeOutput {
  format?: { duration?: string; format_name?: string; bit_rate?: string };
  streams?: ProbeStream[];
}

export class NoVideoStreamError extends Error {
  constructor() {
    super('the file has no video stream');
    this.name = this.constructor.name;
  }
}

const rate = (value: string | undefined) => {
  const [num, den] = (value ?? '').split('/').map(Number);
  return num && den ? Math.round((num / den) * 100) / 100 : null;
};

const finite = (value: string | undefined) => {
  const number = Number(value);
  return value !== undefined && Number.isFinite(number) ? number : null;
};

/** ffprobe's view of a video file; rejects when the container cannot be read. */
export async function probeVideo(ffprobe: string, file: string): Promise<VideoFacts> {
  const stdout = await run(
    ffprobe,
    ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '--', file],
    { timeoutMs: 30_000, maxStdout: 4 * 1024 * 1024 },
  );
  const probe = JSON.parse(stdout.toString()) as ProbeOutput;
  const streams = probe.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video) throw new NoVideoStreamError();
  const audio = streams.find((s) => s.codec_type === 'audio');
  const rotation = Math.round(
    video.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation ??
      Number(video.tags?.rotate ?? 0),
  );
  const sideways = Math.abs(rotation) % 180 === 90;
  const duration = finite(probe.format?.duration);
  return {
    durationMs: duration === null ? null : Math.round(duration * 1000),
    width: (sideways ? video.height : video.width) ?? null,
    height: (sideways ? video.width : video.height) ?? null,
    videoCodec: video.codec_name ?? null,
    audioCodec: audio?.codec_name ?? null,
    frameRate: rate(video.avg_frame_rate) ?? rate(video.r_frame_rate),
    bitRate: finite(probe.format?.bit_rate),
    rotation,
    formatName: probe.format?.format_name ?? null,
  };
}

/** A PNG of one frame (a second in, or the middle of a shorter video), at most 640 wide. */
export async function videoFrame(ffmpeg: string, file: string, durationMs: number | null): Promise<Buffer> {
  const at = durationMs === null ? 0 : Math.min(1, durationMs / 2000);
  return run(
    ffmpeg,
    [
      '-v',
      'error',
      '-ss',
      at.toFixed(3),
      '-i',
      file,
      '-frames:v',
      '1',
      '-vf',
      "scale='min(640,iw)':-2",
      '-f',
      'image2pipe',
      '-c:v',
      'png',
      'pipe:1',
    ],
    { timeoutMs: 60_000, maxStdout: 32 * 1024 * 1024 },
  );
}

/** The first video and audio streams only, without the container's metadata and chapters. */
const WITHOUT_METADATA = ['-map', '0:v:0', '-map', '0:a:0?', '-map_metadata', '-1', '-map_chapters', '-1'];

/**
 * Copies the first video and audio streams, without re-encoding, into a new MP4 or MOV container
 * without the original's metadata: no recording place, device or dates, no chapters, no data tracks
 * (timed metadata, timecode). The rotation matrix is part of the video track and stays, so a video
 * filmed upright still plays upright.
 */
export async function copyWithoutMetadata(
  ffmpeg: string,
  input: string,
  output: string,
  container: VideoContainer,
): Promise<void> {
  await run(
    ffmpeg,
    [
      '-v',
      'error',
      '-y',
      '-i',
      input,
      ...WITHOUT_METADATA,
      '-c',
      'copy',
      '-movflags',
      '+faststart',
      '-f',
      container,
      output,
    ],
    { timeoutMs: 10 * 60_000, maxStdout: 1024 * 1024 },
  );
}

/** Two minutes, plus ten times the video's length (an unknown length counts as ten minutes). */
const transcodeTimeoutMs = (durationMs: number | null) => 2 * 60_000 + 10 * (durationMs ?? 10 * 60_000);

/**
 * Re-encodes the first video and audio streams as H.264 and AAC in MP4, as planned. The picture is
 * turned upright by the rotation tag, and container metadata (the place a phone recorded) is dropped.
 */
export async function transcodeToH264(
  ffmpeg: string,
  input: string,
  output: string,
  plan: VideoPlan,
  durationMs: number | null,
): Promise<void> {
  await run(
    ffmpeg,
    [
      '-v',
      'error',
      '-y',
      '-i',
      input,
      ...WITHOUT_METADATA,
      '-vf',
      'scale=trunc(iw/2)*2:trunc(ih/2)*2',
      '-c:v',
      'libx264',
      '-preset',
      plan.preset,
      '-crf',
      String(plan.crf),
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-b:a',
      String(plan.audioBitRate),
      '-movflags',
      '+faststart',
      '-f',
      'mp4',
      output,
    ],
    { timeoutMs: transcodeTimeoutMs(durationMs), maxStdout: 1024 * 1024 },
  );
}
