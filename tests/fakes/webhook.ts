import { randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  webhookSignature,
} from '../../src/platforms/webhook';
import { createFakeServer, type FakeServer } from './harness';

/**
 * A webhook receiver that behaves as Gaung's webhook contract asks (see src/platforms/webhook.ts):
 * it verifies the HMAC signature over the raw body, refuses timestamps older than five minutes,
 * validates the payload, and dedupes by X-Gaung-Delivery, answering a repeat as it answered the
 * first. Tests read what it received and stored.
 */

const media = z.strictObject({
  url: z.url(),
  kind: z.enum(['image', 'video']),
  mime: z.string().min(1),
  altText: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

const payload = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('delivery'),
    deliveryId: z.string().min(1),
    mode: z.enum(['copy', 'repost', 'quote']),
    text: z.string(),
    link: z.string().nullable(),
    sourceUrl: z.string().nullable(),
    media: z.array(media),
    sentAt: z.iso.datetime(),
  }),
  z.strictObject({ type: z.literal('ping'), sentAt: z.iso.datetime() }),
  z.strictObject({
    type: z.literal('retraction'),
    deliveryId: z.string().min(1),
    remoteId: z.string().nullable(),
    reason: z.string().min(1),
    sentAt: z.iso.datetime(),
  }),
]);

export type WebhookPayload = z.infer<typeof payload>;

export interface StoredDelivery {
  id: string;
  deliveryId: string;
  payload: WebhookPayload;
  /** How many signed calls carried this delivery id. */
  received: number;
  /** Set when a retraction message withdrew it: the reason and how many signed retraction calls came. */
  retracted: { reason: string; received: number } | null;
}

export interface WebhookReceiver {
  server: FakeServer;
  /** The URL a channel posts to. */
  url: string;
  secret: string;
  stored(): StoredDelivery[];
  pings(): number;
  /** Whether deliveries are answered with `{ id, url }` (default) or with an empty 204, as many receivers do. */
  receipts: boolean;
  start(): Promise<string>;
  stop(): Promise<void>;
}

const TOLERANCE_SECONDS = 300;

export function createWebhookReceiver(secret: string): WebhookReceiver {
  const server = createFakeServer();
  const byDelivery = new Map<string, StoredDelivery>();
  let pings = 0;
  // The signature covers the raw bytes: keep the body as a string and parse it after checking.
  server.app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
    done(null, body),
  );

  server.app.post('/hooks/gaung', async (request, reply) => {
    const raw = typeof request.body === 'string' ? request.body : '';
    const timestamp = String(request.headers[TIMESTAMP_HEADER] ?? '');
    const signature = Buffer.from(String(request.headers[SIGNATURE_HEADER] ?? ''));
    const expected = Buffer.from(webhookSignature(secret, timestamp, raw));
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected))
      return reply.code(401).send({ error: 'invalid signature' });
    if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS)
      return reply.code(401).send({ error: 'stale timestamp' });
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return reply.code(400).send({ error: 'body is not JSON' });
    }
    const parsed = payload.safeParse(body);
    if (!parsed.success) return reply.code(422).send({ error: z.prettifyError(parsed.error) });
    if (parsed.data.type === 'ping') {
      pings += 1;
      return { ok: true };
    }
    const deliveryId = String(request.headers[DELIVERY_HEADER] ?? '');
    if (parsed.data.type === 'retraction') {
      // X-Gaung-Delivery is `retraction-<delivery id>`; a delivery never received is 404 ("gone").
      if (deliveryId !== `retraction-${parsed.data.deliveryId}`)
        return reply.code(422).send({ error: 'delivery header and body differ' });
      const target = byDelivery.get(parsed.data.deliveryId);
      if (!target) return reply.code(404).send({ error: 'no such delivery' });
      target.retracted = {
        reason: parsed.data.reason,
        received: (target.retracted?.received ?? 0) + 1,
      };
      return { ok: true };
    }
    if (deliveryId !== parsed.data.deliveryId)
      return reply.code(422).send({ error: 'delivery header and body differ' });
    const known = byDelivery.get(deliveryId);
    if (known) known.received += 1;
    const stored = known ?? {
      id: randomUUID(),
      deliveryId,
      payload: parsed.data,
      received: 1,
      retracted: null,
    };
    byDelivery.set(deliveryId, stored);
    if (!receiver.receipts) return reply.code(204).send();
    return { id: stored.id, url: `${server.url}/posts/${stored.id}` };
  });

  const receiver: WebhookReceiver = {
    server,
    url: '',
    secret,
    stored: () => [...byDelivery.values()],
    pings: () => pings,
    receipts: true,
    async start() {
      await server.start();
      receiver.url = `${server.url}/hooks/gaung`;
      return receiver.url;
    },
    stop: () => server.stop(),
  };
  return receiver;
}
