import { createHmac, randomUUID } from 'node:crypto';
import { isAxiosError } from 'axios';
import { z } from 'zod';
import { classifyHttpError, createHttpClient } from './http';
import {
  type AccountInfo,
  type Capabilities,
  type ErrorClass,
  type PlatformAdapter,
  type PlatformContext,
  PlatformError,
  type PublishRequest,
  type PublishResult,
  type RetractResult,
} from './types';

/**
 * Webhook: a signed JSON POST to a URL of the channel's owner (an intranet, a website, a chat
 * bridge). What a receiver gets:
 *
 *   POST <settings.url>   Content-Type: application/json
 *   X-Gaung-Delivery:  the delivery id, the same on every attempt
 *   X-Gaung-Timestamp: Unix seconds when this attempt was signed
 *   X-Gaung-Signature: sha256=<hex HMAC-SHA256 over `${timestamp}.${raw body}` with the channel's secret>
 *   body: { type: 'delivery', deliveryId, mode, text, link, sourceUrl, media: [{ url, kind, mime, altText, sha256 }], sentAt }
 *         (with `replyTo: { id, url }` when it is a correction answering an earlier delivery),
 *         or { type: 'retraction', deliveryId, remoteId, reason, sentAt } when a published delivery is withdrawn
 *         (X-Gaung-Delivery is then `retraction-<delivery id>`; a 404 answer means it is gone already),
 *         or { type: 'ping', sentAt } when the channel is verified.
 *
 * The receiver answers 2xx, optionally with `{ id, url }`, rejects a stale timestamp (replay), and
 * dedupes by X-Gaung-Delivery, answering a repeat as it answered the first. Because of that dedupe a
 * re-send is safe: reconciliation is `idempotent`, and after an unsure attempt the engine simply sends
 * again. Media URLs are signed and expire: the receiver fetches them when it receives the call.
 */

const credentialsSchema = z.strictObject({
  secret: z.string().min(16, 'at least 16 characters; generate one with openssl rand -hex 32'),
});
const settingsSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }),
});

const capabilities: Capabilities = {
  text: true,
  images: true,
  video: true,
  repost: true,
  quote: true,
  metrics: false,
  reconcile: 'idempotent',
  mediaByUrl: true,
  retract: 'api',
  replies: true,
};

export const SIGNATURE_HEADER = 'x-gaung-signature';
export const TIMESTAMP_HEADER = 'x-gaung-timestamp';
export const DELIVERY_HEADER = 'x-gaung-delivery';

/** The signature a receiver recomputes: HMAC-SHA256 over `${timestamp}.${body}`. */
export const webhookSignature = (secret: string, timestamp: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

const receipt = z.object({ id: z.string().min(1).optional(), url: z.url().optional() });

export function classifyWebhookError(error: unknown): ErrorClass {
  if (error instanceof PlatformError) return error.classification;
  const classification = classifyHttpError(error);
  // 403: the receiver refuses our signature, so the channel's secret must be set again.
  if (isAxiosError(error) && error.response?.status === 403)
    return { kind: 'auth', message: classification.message, httpStatus: 403 };
  return classification;
}

export function createWebhookAdapter(options: { timeoutMs?: number } = {}): PlatformAdapter {
  /** Signs and sends one payload. The URL may embed a secret, so the axios error (which holds it) is dropped. */
  async function send(ctx: PlatformContext, deliveryId: string, payload: Record<string, unknown>) {
    const { secret } = credentialsSchema.parse(ctx.credentials);
    const { url } = settingsSchema.parse(ctx.channel.settings);
    const body = JSON.stringify(payload);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const http = createHttpClient(url, {
      timeoutMs: options.timeoutMs,
      signal: ctx.signal,
      reach: ctx.reach,
    });
    try {
      const response = await http.post<unknown>('', body, {
        headers: {
          'content-type': 'application/json',
          [DELIVERY_HEADER]: deliveryId,
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: webhookSignature(secret, timestamp, body),
        },
        // The body is already the exact string that was signed.
        transformRequest: [(data: unknown) => data],
      });
      return { url, answer: receipt.safeParse(response.data).data ?? {} };
    } catch (error) {
      throw new PlatformError(classifyWebhookError(error));
    }
  }

  async function deliver(ctx: PlatformContext, request: PublishRequest): Promise<PublishResult> {
    const { answer } = await send(ctx, request.deliveryId, {
      type: 'delivery',
      deliveryId: request.deliveryId,
      mode: request.mode,
      text: request.text,
      link: request.link,
      sourceUrl: request.sourceUrl,
      ...(request.replyTo ? { replyTo: { id: request.replyTo.remoteId, url: request.replyTo.url } } : {}),
      media: request.media.map((medium) => ({
        url: medium.publicUrl(),
        kind: medium.kind,
        mime: medium.mime,
        altText: medium.altText,
        sha256: medium.sha256,
      })),
      sentAt: new Date().toISOString(),
    });
    // The endpoint itself is no address of the post (and may embed a secret): only the receiver's own.
    return { remoteId: answer.id ?? request.deliveryId, url: answer.url ?? null };
  }

  return {
    platform: 'webhook',
    capabilities,
    credentialsSchema,
    settingsSchema,
    privateSettings: ['url'],
    publish: deliver,
    repost: deliver,
    quote: deliver,

    /** The receiver dedupes by delivery id: "not found" lets the engine send again without risk. */
    async findPublished() {
      return null;
    },

    async retract(ctx, request): Promise<RetractResult> {
      try {
        await send(ctx, `retraction-${request.deliveryId}`, {
          type: 'retraction',
          deliveryId: request.deliveryId,
          remoteId: request.remoteId,
          reason: request.reason,
          sentAt: new Date().toISOString(),
        });
      } catch (error) {
        if (!(error instanceof PlatformError && error.classification.httpStatus === 404)) throw error;
      }
      return { outcome: 'retracted' };
    },

    async verifyCredentials(ctx): Promise<AccountInfo> {
      const { url } = await send(ctx, `ping-${randomUUID()}`, {
        type: 'ping',
        sentAt: new Date().toISOString(),
      });
      return { remoteId: url, handle: new URL(url).host };
    },

    classifyError: (error) => classifyWebhookError(error),
  };
}

export const webhookAdapter = createWebhookAdapter();
