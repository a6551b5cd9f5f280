import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AtpAgent } from '@atproto/api';
import { envToCfg, envToSecrets, PDS } from '@atproto/pds';
import { createFakePlc, type FakePlc } from '../fakes/plc';

/**
 * A real Bluesky PDS for tests: @atproto/pds 0.4 in this process on Node 20 (SQLite in a temporary
 * directory, blobs on disk), with an in-memory PLC directory for its DIDs. Handles end in `.test`.
 */
export interface TestPds {
  url: string;
  plc: FakePlc;
  /** One password for every account made here. */
  password: string;
  /** A new account; its handle must end in `.test`. */
  createAccount(handle: string): Promise<{ handle: string; did: string }>;
  /** An agent logged in as the account. */
  login(handle: string): Promise<AtpAgent>;
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

export async function startTestPds(): Promise<TestPds> {
  const plc = createFakePlc();
  await plc.start();
  const dir = await mkdtemp(path.join(tmpdir(), 'gaung-pds-'));
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const password = `sandi-${randomBytes(6).toString('hex')}`;
  const env = {
    devMode: true,
    port,
    hostname: 'localhost',
    dataDirectory: dir,
    blobstoreDiskLocation: path.join(dir, 'blobs'),
    didPlcUrl: plc.url,
    serviceHandleDomains: ['.test'],
    jwtSecret: randomBytes(16).toString('hex'),
    adminPassword: randomBytes(16).toString('hex'),
    plcRotationKeyK256PrivateKeyHex: randomBytes(32).toString('hex'),
    inviteRequired: false,
    disableSsrfProtection: true,
  };
  const pds = await PDS.create(envToCfg(env), envToSecrets(env));
  await pds.start();
  return {
    url,
    plc,
    password,
    async createAccount(handle) {
      const agent = new AtpAgent({ service: url });
      const created = await agent.createAccount({ email: `${handle}@imigrasi.test`, handle, password });
      return { handle, did: created.data.did };
    },
    async login(handle) {
      const agent = new AtpAgent({ service: url });
      await agent.login({ identifier: handle, password });
      return agent;
    },
    async stop() {
      await pds.destroy();
      await plc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
