import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfigOrExit } from '../config/env';
import { type AppContext, closeContext, createContext } from './context';
import { createLogger } from './logger';
import { email as emailSchema, newPassword } from './schemas/org';
import { findUserByEmail, resetPassword } from './services/users';

/**
 * `npm run admin:reset-password -- --email someone@example.org [--stdin]`: the operator's way to set
 * a password nobody in the app may set, a national admin's above all (admins of one unit never
 * reset each other). With `--stdin` the new password is the first line of standard input; without
 * it a temporary one is printed, which the person replaces at their next sign-in. Either way the
 * person's sessions end, their API tokens are revoked and the audit trail records the reset.
 */

export interface CommandIo {
  stdin: AsyncIterable<Buffer | string>;
  out: (line: string) => void;
}

export class UsageError extends Error {}

async function firstLine(stdin: AsyncIterable<Buffer | string>): Promise<string> {
  let text = '';
  for await (const chunk of stdin) {
    text += chunk.toString();
    if (text.includes('\n') || text.length > 4096) break;
  }
  return text.split(/\r?\n/, 1)[0] ?? '';
}

export async function resetPasswordCommand(ctx: AppContext, argv: string[], io: CommandIo): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { email: { type: 'string' }, stdin: { type: 'boolean', default: false } },
    strict: true,
  });
  const address = emailSchema.safeParse(values.email ?? '');
  if (!address.success) throw new UsageError('--email: give the e-mail address of the person');
  const user = await findUserByEmail(ctx, address.data);
  if (!user) throw new UsageError(`--email: no user has the address ${address.data}`);
  let password: string;
  if (values.stdin) {
    const typed = newPassword.safeParse(await firstLine(io.stdin));
    if (!typed.success) throw new UsageError(`the password on stdin: ${typed.error.issues[0]?.message}`);
    password = typed.data;
  } else {
    password = randomBytes(15).toString('base64url');
  }
  await resetPassword(ctx, null, user.id, password, null, { mustChange: !values.stdin, via: 'cli' });
  if (values.stdin) io.out(`password of ${user.email} set; their sessions and API tokens are ended`);
  else
    io.out(
      `temporary password of ${user.email}: ${password}\n(they choose their own at the next sign-in; their sessions and API tokens are ended)`,
    );
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // Logs go to stderr, so standard output carries only the answer.
  const ctx = await createContext(config, createLogger(config.LOG_LEVEL, pino.destination(2)));
  try {
    await resetPasswordCommand(ctx, process.argv.slice(2), {
      stdin: process.stdin,
      out: (line) => console.log(line),
    });
  } catch (error) {
    if (!(error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')))
      throw error;
    console.error(`gaung: ${(error as Error).message}`);
    process.exitCode = 1;
  } finally {
    await closeContext(ctx);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
