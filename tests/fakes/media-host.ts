import { randomUUID } from 'node:crypto';
import type { PublishMedia } from '../../src/platforms/types';
import { createFakeServer } from './harness';
import { mediaFromBuffer } from './platform-context';

/**
 * Serves test media the way Gaung's signed media URLs do, for the platforms that fetch media
 * themselves (Facebook, Instagram, Threads): their fakes download what `publicUrl()` names.
 */
export interface MediaHost {
  url: string;
  /** Serves the bytes and returns them as a PublishMedia whose publicUrl points here. */
  add(bytes: Buffer, options: { kind: 'image' | 'video'; mime: string; altText?: string }): PublishMedia;
  /** A medium whose URL answers 404, like an expired signed URL. */
  missing(options: { kind: 'image' | 'video'; mime: string }): PublishMedia;
  stop(): Promise<void>;
}

export async function createMediaHost(): Promise<MediaHost> {
  const server = createFakeServer();
  const files = new Map<string, { bytes: Buffer; mime: string }>();
  server.app.get<{ Params: { id: string } }>('/media/:id', async (request, reply) => {
    const file = files.get(request.params.id);
    if (!file) return reply.code(404).send('not found');
    return reply.type(file.mime).send(file.bytes);
  });
  await server.start();
  const hosted = (bytes: Buffer, options: { kind: 'image' | 'video'; mime: string; altText?: string }) => {
    const id = randomUUID();
    return {
      id,
      medium: {
        ...mediaFromBuffer(bytes, options),
        publicUrl: () => `${server.url}/media/${id}?expires=${Date.now() + 3_600_000}&sig=test`,
      },
    };
  };
  return {
    url: server.url,
    add(bytes, options) {
      const { id, medium } = hosted(bytes, options);
      files.set(id, { bytes, mime: options.mime });
      return medium;
    },
    missing: (options) => hosted(Buffer.alloc(16), options).medium,
    stop: () => server.stop(),
  };
}
