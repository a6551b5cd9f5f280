import { z } from 'zod';
import type { DeliveryMode } from '../domain/vocabulary';
import {
  type AccountInfo,
  type Capabilities,
  type ErrorClass,
  type PlatformAdapter,
  type PlatformContext,
  PlatformError,
  type PublishRequest,
  type PublishResult,
} from './types';

/**
 * Sandbox: Gaung's own timeline, for demos and dry runs. Publishing writes to an injected
 * timeline (the database in production, see services/sandbox-timeline), keyed by the delivery id:
 * a retry finds the post it already wrote, so reconciliation is `idempotent`.
 */

/** A medium as the sandbox keeps it: by Gaung media id, since signed URLs expire. */
export interface SandboxMedium {
  mediaId: string;
  kind: 'image' | 'video';
  mime: string;
  altText: string;
}

export type SandboxPostKind = 'post' | 'repost' | 'quote' | 'reply';

export interface SandboxPostInput {
  channelId: string;
  idempotencyKey: string;
  /** `post` for a copy (the table's default), else the delivery mode. */
  kind: SandboxPostKind;
  text: string;
  media: SandboxMedium[];
  /** The office's original post, for reposts and quotes; the post answered, for a reply. */
  refersTo: string | null;
}

export interface SandboxTimeline {
  /** Writes the post unless one with the same channel and key exists; then answers that one. */
  insert(post: SandboxPostInput): Promise<{ id: string; created: boolean }>;
  find(channelId: string, idempotencyKey: string): Promise<{ id: string } | null>;
  /** Takes a post off the timeline; removing one that is gone already is not an error. */
  remove(channelId: string, id: string): Promise<void>;
}

const credentialsSchema = z.strictObject({});
const settingsSchema = z.strictObject({});

const capabilities: Capabilities = {
  text: true,
  images: true,
  video: true,
  repost: true,
  quote: true,
  metrics: false,
  reconcile: 'idempotent',
  mediaByUrl: false,
  retract: 'api',
  replies: true,
};

const invalid = (message: string) => new PlatformError({ kind: 'invalid', message });

export function createSandboxAdapter(timeline: SandboxTimeline, publicUrl: string): PlatformAdapter {
  const postUrl = (channelId: string, id: string) =>
    `${publicUrl.replace(/\/+$/, '')}/sandbox/${channelId}#${id}`;

  async function write(
    ctx: PlatformContext,
    request: PublishRequest,
    kind: DeliveryMode,
  ): Promise<PublishResult> {
    if (kind !== 'copy' && !request.sourceUrl)
      throw invalid(`a sandbox ${kind} needs the original post's address`);
    if (kind === 'copy' && request.text.trim() === '' && request.media.length === 0)
      throw invalid('a sandbox post needs text or media');
    const reply = kind === 'copy' ? request.replyTo : null;
    const { id } = await timeline.insert({
      channelId: ctx.channel.id,
      idempotencyKey: request.deliveryId,
      kind: reply ? 'reply' : kind === 'copy' ? 'post' : kind,
      // A repost republishes the original as it is: none of our text goes out.
      text: kind === 'repost' ? '' : request.text,
      media:
        kind === 'repost'
          ? []
          : request.media.map((m) => ({ mediaId: m.id, kind: m.kind, mime: m.mime, altText: m.altText })),
      refersTo: reply
        ? (reply.url ?? postUrl(ctx.channel.id, reply.remoteId))
        : kind === 'copy'
          ? null
          : request.sourceUrl,
    });
    return { remoteId: id, url: postUrl(ctx.channel.id, id) };
  }

  return {
    platform: 'sandbox',
    capabilities,
    credentialsSchema,
    settingsSchema,
    publish: (ctx, request) => write(ctx, request, 'copy'),
    repost: (ctx, request) => write(ctx, request, 'repost'),
    quote: (ctx, request) => write(ctx, request, 'quote'),

    async findPublished(ctx, request) {
      const found = await timeline.find(ctx.channel.id, request.deliveryId);
      return found ? { remoteId: found.id, url: postUrl(ctx.channel.id, found.id) } : null;
    },

    async retract(ctx, request) {
      if (request.remoteId) await timeline.remove(ctx.channel.id, request.remoteId);
      return { outcome: 'retracted' };
    },

    async verifyCredentials(ctx): Promise<AccountInfo> {
      return { remoteId: ctx.channel.id, handle: 'sandbox', name: 'Gaung sandbox' };
    },

    /** Nothing leaves the process: a failure is the database's, and worth another attempt. */
    classifyError(error): ErrorClass {
      if (error instanceof PlatformError) return error.classification;
      return { kind: 'retry', message: (error as Error)?.message ?? String(error) };
    },
  };
}
