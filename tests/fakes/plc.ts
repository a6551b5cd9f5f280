import { createFakeServer, type FakeServer } from './harness';

/**
 * A small in-memory did:plc directory (what plc.directory serves): DID documents built from the
 * latest operation of each DID, the operation log, and POST of signed operations as a PDS sends
 * them when it creates an account or changes a handle. Operations must have the documented shape
 * (type, rotationKeys, verificationMethods, alsoKnownAs, services, prev, sig); signatures are not
 * verified, which is the one thing the real directory does beyond this.
 */

interface PlcOperation {
  type: 'plc_operation';
  rotationKeys: string[];
  verificationMethods: Record<string, string>;
  alsoKnownAs: string[];
  services: Record<string, { type: string; endpoint: string }>;
  prev: string | null;
  sig: string;
}

export interface FakePlc {
  server: FakeServer;
  url: string;
  /** Registers a DID whose PDS and handle a test chose (an account of the fake PDS). */
  register(did: string, account: { handle: string; pds: string }): void;
  start(): Promise<string>;
  stop(): Promise<void>;
}

const isOperation = (value: unknown): value is PlcOperation => {
  const op = value as Partial<PlcOperation> | null;
  return (
    !!op &&
    op.type === 'plc_operation' &&
    Array.isArray(op.rotationKeys) &&
    op.rotationKeys.every((k) => typeof k === 'string' && k.startsWith('did:key:')) &&
    typeof op.verificationMethods === 'object' &&
    Array.isArray(op.alsoKnownAs) &&
    typeof op.services === 'object' &&
    (op.prev === null || typeof op.prev === 'string') &&
    typeof op.sig === 'string'
  );
};

export function createFakePlc(): FakePlc {
  const server = createFakeServer();
  const logs = new Map<string, { operation: PlcOperation; cid: string; createdAt: string }[]>();

  const append = (did: string, operation: PlcOperation) => {
    const log = logs.get(did) ?? [];
    log.push({
      operation,
      cid: `bafyreiplc${did.slice(8)}${log.length}`,
      createdAt: new Date().toISOString(),
    });
    logs.set(did, log);
  };

  const document = (did: string, op: PlcOperation) => ({
    '@context': [
      'https://www.w3.org/ns/did/v1',
      'https://w3id.org/security/multikey/v1',
      'https://w3id.org/security/suites/secp256k1-2019/v1',
    ],
    id: did,
    alsoKnownAs: op.alsoKnownAs,
    verificationMethod: Object.entries(op.verificationMethods).map(([name, key]) => ({
      id: `${did}#${name}`,
      type: 'Multikey',
      controller: did,
      publicKeyMultibase: key.replace(/^did:key:/, ''),
    })),
    service: Object.entries(op.services).map(([name, service]) => ({
      id: `#${name}`,
      type: service.type,
      serviceEndpoint: service.endpoint,
    })),
  });

  const latest = (did: string) => logs.get(did)?.at(-1);
  const notFound = (did: string) => ({ message: `DID not registered: ${did}` });

  server.app.get<{ Params: { did: string } }>('/:did', async (request, reply) => {
    const entry = latest(request.params.did);
    if (!entry) return reply.code(404).send(notFound(request.params.did));
    return reply.type('application/did+ld+json').send(document(request.params.did, entry.operation));
  });
  server.app.get<{ Params: { did: string } }>('/:did/data', async (request, reply) => {
    const entry = latest(request.params.did);
    if (!entry) return reply.code(404).send(notFound(request.params.did));
    const { rotationKeys, verificationMethods, alsoKnownAs, services } = entry.operation;
    return { did: request.params.did, rotationKeys, verificationMethods, alsoKnownAs, services };
  });
  server.app.get<{ Params: { did: string } }>('/:did/log/last', async (request, reply) => {
    const entry = latest(request.params.did);
    return entry ? entry.operation : reply.code(404).send(notFound(request.params.did));
  });
  server.app.get<{ Params: { did: string } }>('/:did/log/audit', async (request, reply) => {
    const log = logs.get(request.params.did);
    if (!log) return reply.code(404).send(notFound(request.params.did));
    return log.map((entry) => ({ did: request.params.did, nullified: false, ...entry }));
  });
  server.app.post<{ Params: { did: string } }>('/:did', async (request, reply) => {
    const { did } = request.params;
    if (!/^did:plc:[a-z2-7]{24}$/.test(did)) return reply.code(400).send({ message: `Invalid DID: ${did}` });
    if (!isOperation(request.body)) return reply.code(400).send({ message: 'Invalid operation' });
    const previous = latest(did);
    // A genesis operation has no `prev`; every later one names one (its CID is not checked here).
    if ((previous === undefined) !== (request.body.prev === null))
      return reply.code(400).send({ message: 'Operation does not follow the last one' });
    append(did, request.body);
    return reply.send();
  });

  const fake: FakePlc = {
    server,
    url: '',
    register(did, account) {
      append(did, {
        type: 'plc_operation',
        rotationKeys: ['did:key:zQ3shtest'],
        verificationMethods: { atproto: 'did:key:zQ3shtest' },
        alsoKnownAs: [`at://${account.handle}`],
        services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: account.pds } },
        prev: latest(did)?.cid ?? null,
        sig: 'test',
      });
    },
    async start() {
      fake.url = await server.start();
      return fake.url;
    },
    stop: () => server.stop(),
  };
  return fake;
}
