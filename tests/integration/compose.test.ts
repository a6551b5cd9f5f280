import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/process';

/** `docker compose config` (v2 plugin) or `docker-compose config` (v1), whichever this machine has. */
function composeCommand(): string[] | null {
  if (spawnSync('docker', ['compose', 'version']).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version']).status === 0) return ['docker-compose'];
  return null;
}

describe('docker-compose.yml', () => {
  it('validates with docker compose config', (context) => {
    const command = composeCommand();
    if (!command) {
      if (process.env.CI === 'true')
        throw new Error('CI needs docker compose or docker-compose to validate the file');
      context.skip();
      return;
    }
    const [binary, ...args] = command;
    const output = execFileSync(binary!, [...args, 'config'], {
      cwd: REPO_ROOT,
      env: { ...process.env, GAUNG_SECRET_KEY: Buffer.alloc(32, 1).toString('base64') },
      encoding: 'utf8',
    });
    for (const service of ['postgres:', 'redis:', 'api:', 'worker:']) expect(output).toContain(service);
    expect(output).toContain('--role=worker');
  });
});
