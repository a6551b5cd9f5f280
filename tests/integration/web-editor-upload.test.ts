import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client';
import { id as msg } from '../../src/web/i18n/id';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { type FormPart, filesUnder, multipart, noiseImage, solidImage } from '../helpers/media';
import { seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { signIn, type TestSession } from '../helpers/session';

/**
 * The post editor without JavaScript: the form is multipart and carries one file, checked like an
 * upload to the media API. A photo goes with the first save; "attach" adds another to a draft and
 * comes back to the editor; a refused file is named next to the file input with everything typed
 * kept; a forged CSRF token stores nothing.
 */

describe.each(testDrivers())('uploading from the post editor without JavaScript on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  let office: TestSession;
  let mediaDir: string;
  let postId = '';

  beforeAll(async () => {
    // Small limits, so that a picture of noise passes the image limit and the hard limit of any upload.
    t = await createTestApp(driver, {
      env: { GAUNG_MEDIA_MAX_IMAGE_BYTES: '200000', GAUNG_MEDIA_MAX_VIDEO_BYTES: '300000' },
    });
    org = await seedTestOrg(t.ctx);
    office = await signIn(t.app, org.user('officeA1', 'contributor').email, TEST_PASSWORD);
    mediaDir = path.join(t.config.dataDir, 'media');
  });
  afterAll(async () => {
    await t?.close();
    await rm(t.config.dataDir, { recursive: true, force: true });
  });

  /** The editor's fields in the order a browser sends them: the token first, the file in the middle. */
  const submit = (
    url: string,
    fields: Record<string, string>,
    file: FormPart | null,
    csrf = office.csrfToken,
  ) => {
    const { version, intent, ...rest } = fields;
    const body = multipart([
      { name: '_csrf', value: csrf },
      ...(version ? [{ name: 'version', value: version }] : []),
      ...Object.entries(rest).map(([name, value]) => ({ name, value })),
      file ?? { name: 'file', filename: '', data: Buffer.alloc(0) },
      { name: 'tags', value: 'paspor, layanan' },
      { name: 'intent', value: intent ?? 'save' },
    ]);
    return t.app.inject({
      method: 'POST',
      url,
      headers: { cookie: office.cookie.cookie, ...body.headers },
      payload: body.payload,
    });
  };

  const photo = async (shade: number, filename = 'kegiatan.jpg'): Promise<FormPart> => ({
    name: 'file',
    filename,
    contentType: 'image/jpeg',
    data: await solidImage(320 + shade, 240)
      .jpeg()
      .toBuffer(),
  });

  const mediaRows = async () =>
    Number((await queryRows<{ n: number }>(t.ctx.db, sql`select count(*)::int as n from media`))[0]!.n);

  const postOf = async (id: string) =>
    (await t.app.inject({ url: `/api/v1/posts/${id}`, headers: office.cookie })).json() as {
      body: string;
      tags: string[];
      version: number;
      media: { id: string; altText: string }[];
    };

  it('creates a draft with a photo in one submit', async () => {
    const response = await submit('/posts', { body: 'Layanan paspor Sabtu pagi.' }, await photo(0));
    expect(response.statusCode).toBe(303);
    postId = /^\/posts\/([0-9a-f-]{36})\?ok=saved$/.exec(response.headers.location as string)![1]!;
    const post = await postOf(postId);
    expect(post.body).toBe('Layanan paspor Sabtu pagi.');
    expect(post.tags).toEqual(['paspor', 'layanan']);
    expect(post.media).toHaveLength(1);
  });

  it('attaches a second photo to the draft and shows the editor again for its alt text', async () => {
    const before = await postOf(postId);
    const first = before.media[0]!.id;
    const response = await submit(
      `/posts/${postId}`,
      {
        version: String(before.version),
        body: 'Layanan paspor Sabtu pagi.',
        media: first,
        [`alt_${first}`]: 'Petugas di loket',
        intent: 'attach',
      },
      await photo(1, 'antrean.jpg'),
    );
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`/posts/${postId}/edit#media-title`);
    const after = await postOf(postId);
    expect(after.media.map((m) => m.id)[0]).toBe(first);
    expect(after.media).toHaveLength(2);
    expect(after.media[0]!.altText).toBe('Petugas di loket');

    const editor = await t.app.inject({ url: response.headers.location as string, headers: office.cookie });
    expect(editor.statusCode).toBe(200);
    expect(editor.body).toContain('enctype="multipart/form-data"');
    expect(editor.body).toContain(`name="alt_${after.media[1]!.id}"`);
    expect(editor.body).toContain(msg.editor.attach);
  });

  it('refuses a web page named .jpg next to the file input and keeps what was typed', async () => {
    const rows = await mediaRows();
    const response = await submit(
      '/posts',
      { body: 'Teks yang tidak boleh hilang.', sourceUrl: 'https://example.org/asal' },
      {
        name: 'file',
        filename: 'foto.jpg',
        contentType: 'image/jpeg',
        data: Buffer.from('<!doctype html><html><body>bukan foto</body></html>'),
      },
    );
    expect(response.statusCode).toBe(415);
    expect(response.body).toContain(
      `<span class="field-error" id="upload-error">${msg.fieldProblems.unsupported_media_type}</span>`,
    );
    expect(response.body).toContain('aria-invalid="true"');
    expect(response.body).toContain('Teks yang tidak boleh hilang.</textarea>');
    expect(response.body).toContain('value="https://example.org/asal"');
    // The field after the file is kept too.
    expect(response.body).toContain('value="paspor, layanan"');
    expect(await mediaRows()).toBe(rows);
  });

  it('refuses a file larger than any upload may be and keeps what was typed, after the file too', async () => {
    const rows = await mediaRows();
    const data = await noiseImage(600, 600).png().toBuffer();
    expect(data.length).toBeGreaterThan(300_001);
    const response = await submit(
      '/posts',
      { body: 'Foto terlalu besar.' },
      { name: 'file', filename: 'besar.png', contentType: 'image/png', data },
    );
    expect(response.statusCode).toBe(413);
    expect(response.body).toContain(
      `<span class="field-error" id="upload-error">${msg.fieldProblems.media_too_large}</span>`,
    );
    expect(response.body).toContain('Foto terlalu besar.</textarea>');
    expect(response.body).toContain('value="paspor, layanan"');
    expect(await mediaRows()).toBe(rows);
    expect(await filesUnder(path.join(mediaDir, 'tmp'))).toEqual([]);
  });

  it('refuses a forged CSRF token, or a token after the file, without storing anything', async () => {
    const rows = await mediaRows();
    const files = await filesUnder(mediaDir);
    const forged = await submit('/posts', { body: 'Palsu.' }, await photo(2), 'forged');
    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain(msg.problems.csrf_failed);

    const late = multipart([
      await photo(3),
      { name: '_csrf', value: office.csrfToken },
      { name: 'body', value: 'Token terlambat.' },
    ]);
    const afterFile = await t.app.inject({
      method: 'POST',
      url: '/posts',
      headers: { cookie: office.cookie.cookie, ...late.headers },
      payload: late.payload,
    });
    expect(afterFile.statusCode).toBe(403);
    expect(await mediaRows()).toBe(rows);
    expect(await filesUnder(mediaDir)).toEqual(files);
  });

  const postRows = async () =>
    Number((await queryRows<{ n: number }>(t.ctx.db, sql`select count(*)::int as n from posts`))[0]!.n);

  /**
   * Posts a multipart form over real HTTP: `first`, then up to `count` fields of `size` bytes,
   * written only while no response has come. Tells how many bytes were written before it came
   * (socket buffers take a few MB the server never reads; reading the fields would take 30 MB).
   */
  const flood = (
    url: string,
    headers: Record<string, string>,
    first: { name: string; value: string }[] = [],
    count = 300,
    size = 300_000,
  ) => {
    const boundary = '----gaungflood';
    const part = (name: string, value: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const filler = part('body', 'x'.repeat(size));
    return new Promise<{ status: number; location?: string; sent: number }>((resolve, reject) => {
      let sent = 0;
      let responded = false;
      const request = http.request(url, {
        method: 'POST',
        headers: { ...headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
      });
      const answered = new Promise<void>((done) =>
        request.on('response', (response) => {
          responded = true;
          const at = sent;
          response.resume();
          response.on('end', () => {
            request.destroy();
            resolve({ status: response.statusCode!, location: response.headers.location, sent: at });
          });
          done();
        }),
      );
      request.on('error', (error) => {
        if (!responded) reject(error);
      });
      (async () => {
        const opening = first.map((f) => part(f.name, f.value)).join('');
        request.write(opening);
        sent += opening.length;
        for (let i = 0; i < count && !responded; i++) {
          const flushed = request.write(filler);
          sent += filler.length;
          if (!flushed) await Promise.race([once(request, 'drain'), answered]);
        }
        if (!responded) request.end(`--${boundary}--\r\n`);
      })().catch(() => {});
    });
  };

  it('reads nothing of a multipart form from someone not signed in, or before its CSRF token', async () => {
    const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const before = await postRows();
    for (const url of ['/posts', `/posts/${postId}`]) {
      const anonymous = await flood(`${base}${url}`, {});
      expect(anonymous.status, url).toBe(303);
      expect(anonymous.location).toMatch(/^\/login/);
      expect(anonymous.sent, 'bytes written before the answer').toBeLessThan(20_000_000);
    }
    for (const first of [[], [{ name: '_csrf', value: 'forged' }]]) {
      const noToken = await flood(`${base}/posts`, office.cookie, first);
      expect(noToken.status).toBe(403);
      expect(noToken.sent, 'bytes written before the answer').toBeLessThan(20_000_000);
    }
    expect(await postRows()).toBe(before);
  });

  it('refuses more fields than the editor has, and a body cut off at the field size, storing nothing', async () => {
    const before = await postRows();
    const many = await submit(
      '/posts',
      Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`alt_${randomUUID()}`, `alt ${i}`])),
      null,
    );
    expect(many.statusCode).toBe(400);
    // Within the field size the body would be cut to 65,536 characters and saved without its end.
    const long = await submit('/posts', { body: 'ꦲ'.repeat(70_000) }, null);
    expect(long.statusCode).toBe(400);
    expect(await postRows()).toBe(before);
  });

  it('still refuses fields the editor does not have', async () => {
    const response = await submit('/posts', { body: 'Teks.', admin: '1' }, null);
    expect(response.statusCode).toBe(400);
  });
});
