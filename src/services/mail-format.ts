/**
 * The shape of every e-mail Gaung sends: a plain-text part and an HTML part built from the same
 * blocks, so both say the same thing. Everything that came from people is escaped in the HTML.
 */

export interface MailLink {
  label: string;
  url: string;
}

export type MailBlock =
  | { kind: 'paragraph'; text: string }
  | { kind: 'heading'; text: string }
  /** A list; each item may link somewhere and carry a second line (a note, figures). */
  | { kind: 'list'; items: { text: string; url?: string; detail?: string }[] }
  /** Label–value pairs (figures of a period). */
  | { kind: 'table'; rows: [string, string][] }
  | { kind: 'link'; link: MailLink };

export interface ComposedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

/** Only http(s) URLs become links; anything else is shown as text. */
const safeUrl = (url: string) => (/^https?:\/\//i.test(url) ? url : null);

function textOf(block: MailBlock): string {
  switch (block.kind) {
    case 'paragraph':
      return block.text;
    case 'heading':
      return `${block.text}\n${'-'.repeat(Math.min(block.text.length, 60))}`;
    case 'list':
      return block.items
        .map((item) =>
          [`- ${item.text}`, item.detail ? `  ${item.detail}` : null, item.url ? `  ${item.url}` : null]
            .filter(Boolean)
            .join('\n'),
        )
        .join('\n');
    case 'table':
      return block.rows.map(([label, value]) => `${label}: ${value}`).join('\n');
    case 'link':
      return `${block.link.label}: ${block.link.url}`;
  }
}

function htmlOf(block: MailBlock): string {
  const link = (text: string, url: string | undefined) => {
    const href = url ? safeUrl(url) : null;
    return href ? `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>` : escapeHtml(text);
  };
  switch (block.kind) {
    case 'paragraph':
      return `<p>${escapeHtml(block.text).replaceAll('\n', '<br>')}</p>`;
    case 'heading':
      return `<h2 style="font-size:16px;margin:20px 0 8px">${escapeHtml(block.text)}</h2>`;
    case 'list':
      return `<ul>${block.items
        .map(
          (item) =>
            `<li>${link(item.text, item.url)}${item.detail ? `<br><small>${escapeHtml(item.detail)}</small>` : ''}</li>`,
        )
        .join('')}</ul>`;
    case 'table':
      return `<table cellpadding="4">${block.rows
        .map(
          ([label, value]) =>
            `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`,
        )
        .join('')}</table>`;
    case 'link':
      return `<p>${link(block.link.label, block.link.url)}</p>`;
  }
}

/** Renders the blocks as the two parts of one e-mail. */
export function renderMail(to: string, subject: string, blocks: MailBlock[], footer: string): ComposedMail {
  const text = [...blocks.map(textOf), '--', footer].join('\n\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif;line-height:1.4">${blocks
    .map(htmlOf)
    .join('')}<hr><p><small>${escapeHtml(footer)}</small></p></body></html>`;
  return { to, subject, text, html };
}

export const excerpt = (text: string, length = 140) =>
  text.length > length ? `${text.slice(0, length - 1)}…` : text;
