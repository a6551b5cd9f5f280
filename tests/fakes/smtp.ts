import { createServer, type Server, type Socket } from 'node:net';

/**
 * A tiny SMTP sink (RFC 5321 without extensions): accepts every message on loopback and keeps it,
 * so tests see exactly what a real mail server would have received. No TLS and no AUTH are
 * advertised, so clients speak plain SMTP.
 */

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The message as sent (headers and body), with dot-stuffing undone. */
  data: string;
  headers: Record<string, string>;
  body: string;
}

export interface SmtpSink {
  url: string;
  messages: ReceivedMail[];
  /** Answers the next `times` DATA commands with a temporary failure (451). */
  failNext(times: number): void;
  stop(): Promise<void>;
}

/** Headers with folded lines joined; RFC 2047 encoded words decoded (nodemailer encodes non-ASCII subjects). */
function parseMessage(data: string): { headers: Record<string, string>; body: string } {
  const split = data.indexOf('\r\n\r\n');
  const head = split >= 0 ? data.slice(0, split) : data;
  const rawBody = split >= 0 ? data.slice(split + 4) : '';
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  const encoding = headers['content-transfer-encoding']?.toLowerCase();
  let body = rawBody;
  if (encoding === 'quoted-printable') body = decodeQuotedPrintable(rawBody);
  else if (encoding === 'base64') body = Buffer.from(rawBody.replace(/\s+/g, ''), 'base64').toString('utf8');
  return { headers, body };
}

function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_all, _charset: string, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQuotedPrintable(text.replaceAll('_', ' ')),
    );
}

function decodeQuotedPrintable(text: string): string {
  const bytes: number[] = [];
  const source = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < source.length; i++) {
    if (source[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(source.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(source.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(source[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  let failures = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = '';
    let inData = false;
    let data: string[] = [];
    let from = '';
    let to: string[] = [];
    const reply = (line: string) => socket.write(`${line}\r\n`);
    reply('220 gaung-test-smtp ESMTP ready');

    const command = (line: string) => {
      const verb = line.slice(0, 4).toUpperCase();
      switch (verb) {
        case 'EHLO':
          socket.write('250-gaung-test-smtp\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n');
          return;
        case 'HELO':
          return reply('250 gaung-test-smtp');
        case 'MAIL':
          from = /<([^>]*)>/.exec(line)?.[1] ?? '';
          to = [];
          return reply('250 OK');
        case 'RCPT':
          to.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
          return reply('250 OK');
        case 'DATA':
          if (to.length === 0) return reply('503 RCPT first');
          inData = true;
          data = [];
          return reply('354 End data with <CR><LF>.<CR><LF>');
        case 'RSET':
          from = '';
          to = [];
          return reply('250 OK');
        case 'NOOP':
          return reply('250 OK');
        case 'QUIT':
          reply('221 Bye');
          socket.end();
          return;
        default:
          return reply('502 Command not implemented');
      }
    };

    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let index = buffer.indexOf('\r\n');
      while (index >= 0) {
        const line = buffer.slice(0, index);
        buffer = buffer.slice(index + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            if (failures > 0) {
              failures -= 1;
              reply('451 Try again later');
            } else {
              const text = data.join('\r\n');
              messages.push({ from, to, data: text, ...parseMessage(text) });
              reply('250 OK: queued');
            }
          } else data.push(line.startsWith('..') ? line.slice(1) : line);
        } else command(line);
        index = buffer.indexOf('\r\n');
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    failNext(times) {
      failures = times;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The parts of a multipart message (the plain-text and HTML alternatives), each decoded. */
export function mailParts(mail: ReceivedMail): { type: string; body: string }[] {
  const type = mail.headers['content-type'] ?? '';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!boundary) return [{ type, body: mail.body }];
  return mail.body
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((chunk) => {
      const part = parseMessage(chunk.replace(/^\r\n/, ''));
      return { type: part.headers['content-type'] ?? '', body: part.body };
    });
}

/** The plain-text part of a message (the whole body when it has no parts). */
export const mailText = (mail: ReceivedMail) =>
  mailParts(mail).find((part) => part.type.startsWith('text/plain'))?.body ?? mail.body;
