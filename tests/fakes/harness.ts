import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * The common machinery of the fake platforms: a Fastify server on loopback, a log of what it
 * received, a timeline tests can read, and faults injected on demand. Each platform's fake adds
 * its routes, auth checks and spec validation on top.
 */

export type Fault =
  /** Answer with this status, headers and body instead of handling the request. */
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body?: unknown }
  /** Handle the request, but answer only after `ms`. */
  | { kind: 'slow'; ms: number }
  /** Close the connection without handling the request (nothing stored). */
  | { kind: 'drop-before' }
  /** Handle the request (the post is stored), then close the connection without answering. */
  | { kind: 'drop-after' };

interface ArmedFault {
  fault: Fault;
  remaining: number;
  match: (request: FastifyRequest) => boolean;
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  at: Date;
}

export interface FakeServer {
  app: FastifyInstance;
  /** Base URL, e.g. http://127.0.0.1:41234 (set once started). */
  url: string;
  received: ReceivedRequest[];
  /** Arms a fault for the next `times` requests that `match` (default: every request). */
  inject(fault: Fault, options?: { times?: number; match?: (request: FastifyRequest) => boolean }): void;
  /** Fails each matching request with probability `rate`, choosing among `faults` (for soak tests). */
  chaos(rate: number, faults: Fault[], match?: (request: FastifyRequest) => boolean): void;
  clearFaults(): void;
  start(): Promise<string>;
  stop(): Promise<void>;
}

export function createFakeServer(options: { bodyLimit?: number } = {}): FakeServer {
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimit ?? 100 * 1024 * 1024 });
  const armed: ArmedFault[] = [];
  let chaos: { rate: number; faults: Fault[]; match: (request: FastifyRequest) => boolean } | null = null;
  const received: ReceivedRequest[] = [];
  const pending = new WeakMap<FastifyRequest, Fault>();

  const take = (request: FastifyRequest): Fault | undefined => {
    const index = armed.findIndex((a) => a.remaining > 0 && a.match(request));
    if (index >= 0) {
      const entry = armed[index]!;
      entry.remaining -= 1;
      if (entry.remaining === 0) armed.splice(index, 1);
      return entry.fault;
    }
    if (chaos?.match(request) && Math.random() < chaos.rate)
      return chaos.faults[Math.floor(Math.random() * chaos.faults.length)];
    return undefined;
  };

  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    received.push({
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: request.body,
      at: new Date(),
    });
    const fault = take(request);
    if (!fault) return;
    if (fault.kind === 'respond') {
      for (const [name, value] of Object.entries(fault.headers ?? {})) reply.header(name, value);
      return reply.code(fault.status).send(fault.body ?? '');
    }
    if (fault.kind === 'drop-before') {
      reply.hijack();
      request.raw.socket.destroy();
      return reply;
    }
    pending.set(request, fault);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const fault = pending.get(request);
    if (fault?.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    if (fault?.kind === 'drop-after') {
      request.raw.socket.destroy();
      reply.hijack();
    }
    return payload;
  });

  const server: FakeServer = {
    app,
    url: '',
    received,
    inject(fault, { times = 1, match = () => true } = {}) {
      armed.push({ fault, remaining: times, match });
    },
    chaos(rate, faults, match = () => true) {
      chaos = rate > 0 ? { rate, faults, match } : null;
    },
    clearFaults() {
      armed.length = 0;
      chaos = null;
    },
    async start() {
      server.url = await app.listen({ host: '127.0.0.1', port: 0 });
      return server.url;
    },
    async stop() {
      await app.close();
    },
  };
  return server;
}
