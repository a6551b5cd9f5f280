import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createFakeServer, type FakeServer } from './harness';

/**
 * A small S3-compatible object store (path-style: `/<bucket>/<key>`) for testing Gaung's S3
 * storage: PutObject, GetObject (with Range), HeadObject, DeleteObject. It checks what a real
 * store would refuse: a SigV4 Authorization header for the expected access key and region, a
 * payload hash that matches the body, and no aws-chunked bodies (many S3-compatible stores lack them).
 */

export interface FakeS3 extends FakeServer {
  objects: Map<string, Buffer>;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

const xmlError = (reply: FastifyReply, status: number, code: string, message: string) =>
  reply
    .code(status)
    .type('application/xml')
    .send(
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    );

export function createFakeS3(options: { bucket?: string } = {}): FakeS3 {
  const server = createFakeServer({ bodyLimit: 200 * 1024 * 1024 });
  const fake: FakeS3 = Object.assign(server, {
    objects: new Map<string, Buffer>(),
    bucket: options.bucket ?? 'gaung-media',
    accessKeyId: 'GAUNGTESTKEY',
    secretAccessKey: 'gaung-test-secret-key',
    region: 'ap-southeast-3',
  });
  const { app } = server;
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  /** The object key, or an answer already sent. */
  const authorised = (request: FastifyRequest, reply: FastifyReply): string | null => {
    const { bucket, '*': key } = request.params as { bucket: string; '*': string };
    const auth = request.headers.authorization ?? '';
    const credential = new RegExp(
      `^AWS4-HMAC-SHA256 Credential=${fake.accessKeyId}/\\d{8}/${fake.region}/s3/aws4_request, ?SignedHeaders=[a-z0-9;-]+, ?Signature=[0-9a-f]{64}$`,
    );
    if (!credential.test(auth)) {
      xmlError(reply, 403, 'SignatureDoesNotMatch', 'missing or malformed SigV4 authorization');
      return null;
    }
    if (bucket !== fake.bucket) {
      xmlError(reply, 404, 'NoSuchBucket', 'The specified bucket does not exist');
      return null;
    }
    return key;
  };

  app.put('/:bucket/*', async (request, reply) => {
    const key = authorised(request, reply);
    if (key === null) return reply;
    if (String(request.headers['content-encoding'] ?? '').includes('aws-chunked'))
      return xmlError(reply, 501, 'NotImplemented', 'aws-chunked uploads are not supported');
    const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
    const declared = request.headers['x-amz-content-sha256'];
    const actual = createHash('sha256').update(body).digest('hex');
    if (typeof declared !== 'string')
      return xmlError(reply, 400, 'InvalidRequest', 'x-amz-content-sha256 is required');
    if (/^[0-9a-f]{64}$/.test(declared) && declared !== actual)
      return xmlError(reply, 400, 'XAmzContentSHA256Mismatch', 'payload hash does not match');
    fake.objects.set(key, body);
    return reply.header('etag', `"${createHash('md5').update(body).digest('hex')}"`).send('');
  });

  app.get('/:bucket/*', async (request, reply) => {
    const key = authorised(request, reply);
    if (key === null) return reply;
    const object = fake.objects.get(key);
    if (!object) return xmlError(reply, 404, 'NoSuchKey', 'The specified key does not exist.');
    reply.type('application/octet-stream').header('accept-ranges', 'bytes');
    const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(Number(range[2]), object.length - 1);
      return reply
        .code(206)
        .header('content-range', `bytes ${start}-${end}/${object.length}`)
        .send(object.subarray(start, end + 1));
    }
    return reply.send(object);
  });

  app.delete('/:bucket/*', async (request, reply) => {
    const key = authorised(request, reply);
    if (key === null) return reply;
    fake.objects.delete(key);
    return reply.code(204).send();
  });

  return fake;
}
