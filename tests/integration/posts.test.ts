import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, type TestOrg } from '../helpers/org';
import { createPostVia, insertMedia } from '../helpers/posts';

describe.each(testDrivers())('posts on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;
  const url = '/api/v1/posts';

  beforeAll(async () => {
    t = await createTestApp(driver);
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates a draft with variants, ordered media with alt text, tags and a preferred window', async () => {
    const author = org.user('officeA1', 'contributor');
    const [first, second] = [
      await insertMedia(t.ctx, org.units.officeA1),
      await insertMedia(t.ctx, org.units.officeA1),
    ];
    const response = await t.app.inject({
      method: 'POST',
      url,
      headers: author.headers,
      payload: {
        body: 'Pelayanan paspor simpatik di Kantor Imigrasi hari Sabtu 🇮🇩',
        variants: { x: 'Paspor simpatik hari Sabtu!' },
        media: [{ id: second, altText: 'Antrean pemohon' }, { id: first }],
        sourceUrl: 'https://x.com/imigrasi_a1/status/1234567890',
        tags: ['#Imigrasi', 'PasporSimpatik', 'imigrasi'],
        preferredFrom: '2030-01-01T01:00:00Z',
        preferredTo: '2030-01-01T09:00:00Z',
      },
    });
    expect(response.statusCode).toBe(201);
    const post = response.json();
    expect(post).toMatchObject({
      status: 'draft',
      version: 1,
      unit: { id: org.units.officeA1.id, name: 'Kantor A1' },
      author: { id: author.id },
      variants: { x: 'Paspor simpatik hari Sabtu!' },
      tags: ['Imigrasi', 'PasporSimpatik'],
      preferredFrom: '2030-01-01T01:00:00.000Z',
      deliveries: [],
    });
    expect(
      post.media.map((m: { id: string; position: number; altText: string }) => [m.id, m.position, m.altText]),
    ).toEqual([
      [second, 0, 'Antrean pemohon'],
      [first, 1, 'Foto kegiatan'],
    ]);
  });

  it('refuses media of another unit as a field error that reveals nothing, and stores nothing', async () => {
    const author = org.user('officeA1', 'contributor');
    const foreign = await insertMedia(t.ctx, org.units.officeB1);
    const response = await t.app.inject({
      method: 'POST',
      url,
      headers: author.headers,
      payload: { body: 'Dengan foto kantor lain', media: [{ id: foreign }] },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'validation_failed',
      errors: [{ field: 'media.0.id', code: 'not_found' }],
    });
    const list = await t.app.inject({
      url: `${url}?q=${encodeURIComponent('kantor lain')}`,
      headers: author.headers,
    });
    expect(list.json().items).toEqual([]);
  });

  it('rejects unknown fields and a window that ends before it starts', async () => {
    const headers = org.user('officeA1', 'contributor').headers;
    const unknown = await t.app.inject({
      method: 'POST',
      url,
      headers,
      payload: { body: 'x', status: 'approved' },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors).toContainEqual(
      expect.objectContaining({ field: 'status', code: 'unknown_field' }),
    );
    const window = await t.app.inject({
      method: 'POST',
      url,
      headers,
      payload: { body: 'x', preferredFrom: '2030-01-02T00:00:00Z', preferredTo: '2030-01-01T00:00:00Z' },
    });
    expect(window.statusCode).toBe(400);
    expect(window.json().errors).toEqual([expect.objectContaining({ field: 'preferredTo' })]);
  });

  it('bumps the version on every edit and answers a stale edit with 409 and the current version', async () => {
    const author = org.user('officeA1', 'contributor');
    const post = await createPostVia(t.app, author, { body: 'Versi pertama' }, { submit: false });
    const edit = (version: number, body: string) =>
      t.app.inject({
        method: 'PATCH',
        url: `${url}/${post.id}`,
        headers: author.headers,
        payload: { version, body },
      });
    const second = await edit(1, 'Versi kedua');
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ version: 2, body: 'Versi kedua' });
    const stale = await edit(1, 'Menimpa tanpa melihat');
    expect(stale.statusCode).toBe(409);
    expect(stale.headers['content-type']).toContain('application/problem+json');
    expect(stale.json()).toMatchObject({ code: 'stale_version', currentVersion: 2 });
    const stored = await t.app.inject({ url: `${url}/${post.id}`, headers: author.headers });
    expect(stored.json()).toMatchObject({ version: 2, body: 'Versi kedua' });
  });

  it('lets exactly one of two concurrent edits of the same version win', async () => {
    const author = org.user('officeA1', 'contributor');
    const colleague = org.user('officeA1', 'admin');
    const post = await createPostVia(t.app, author, { body: 'Sebelum' }, { submit: false });
    const results = await Promise.all(
      [author, colleague].map((user, i) =>
        t.app.inject({
          method: 'PATCH',
          url: `${url}/${post.id}`,
          headers: user.headers,
          payload: { version: 1, body: `Sesudah ${i}` },
        }),
      ),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    const stored = (await t.app.inject({ url: `${url}/${post.id}`, headers: author.headers })).json();
    expect(stored.version).toBe(2);
    const winner = results.find((r) => r.statusCode === 200)!.json();
    expect(stored.body).toBe(winner.body);
  });

  it('submits and withdraws through the state machine, refusing what it refuses', async () => {
    const author = org.user('officeA1', 'contributor');
    const empty = await createPostVia(t.app, author, { body: '   ' }, { submit: false });
    const refusedEmpty = await t.app.inject({
      method: 'POST',
      url: `${url}/${empty.id}/submit`,
      headers: author.headers,
    });
    expect(refusedEmpty.statusCode).toBe(422);
    expect(refusedEmpty.json().code).toBe('empty_post');

    const post = await createPostVia(t.app, author, { body: 'Siap dikirim' });
    expect(post).toMatchObject({ status: 'submitted', version: 2 });
    const again = await t.app.inject({
      method: 'POST',
      url: `${url}/${post.id}/submit`,
      headers: author.headers,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'invalid_transition', postStatus: 'submitted' });

    const withdrawn = await t.app.inject({
      method: 'POST',
      url: `${url}/${post.id}/withdraw`,
      headers: author.headers,
      payload: { version: 2, reason: 'Salah tanggal' },
    });
    expect(withdrawn.statusCode).toBe(200);
    expect(withdrawn.json()).toMatchObject({ status: 'withdrawn', version: 3 });
    const edit = await t.app.inject({
      method: 'PATCH',
      url: `${url}/${post.id}`,
      headers: author.headers,
      payload: { version: 3, body: 'Terlambat' },
    });
    expect(edit.statusCode).toBe(409);
    expect(edit.json().code).toBe('invalid_transition');

    const events = (await t.app.inject({ url: `${url}/${post.id}/events`, headers: author.headers })).json()
      .events;
    expect(events.map((e: { kind: string; toStatus: string | null }) => [e.kind, e.toStatus])).toEqual([
      ['edit', 'draft'],
      ['transition', 'submitted'],
      ['transition', 'withdrawn'],
    ]);
    expect(events[2]).toMatchObject({
      fromStatus: 'submitted',
      body: 'Salah tanggal',
      actor: { id: author.id },
    });
  });

  it('hides posts from other units (404), drafts from reviewers above, and refuses edits from outside the office', async () => {
    const author = org.user('officeA1', 'contributor');
    const draft = await createPostVia(t.app, author, { body: 'Draf rahasia' }, { submit: false });
    const submitted = await createPostVia(t.app, author, { body: 'Sudah dikirim' });
    const get = (id: string, unit: Parameters<TestOrg['user']>[0], role: Parameters<TestOrg['user']>[1]) =>
      t.app.inject({ url: `${url}/${id}`, headers: org.user(unit, role).headers });
    expect((await get(draft.id, 'officeA2', 'contributor')).statusCode).toBe(404);
    expect((await get(draft.id, 'regionA', 'reviewer')).statusCode).toBe(404);
    expect((await get(draft.id, 'officeA1', 'reviewer')).statusCode).toBe(200);
    expect((await get(submitted.id, 'regionA', 'reviewer')).statusCode).toBe(200);
    expect((await get(submitted.id, 'national', 'admin')).statusCode).toBe(200);
    expect((await get(submitted.id, 'regionB', 'reviewer')).statusCode).toBe(404);

    const reviewerEdit = await t.app.inject({
      method: 'PATCH',
      url: `${url}/${submitted.id}`,
      headers: org.user('regionA', 'reviewer').headers,
      payload: { version: submitted.version, body: 'Diubah dari atas' },
    });
    expect(reviewerEdit.statusCode).toBe(403);
    const outsider = await t.app.inject({
      method: 'POST',
      url: `${url}/${submitted.id}/withdraw`,
      headers: org.user('officeB1', 'admin').headers,
    });
    expect(outsider.statusCode).toBe(404);
    const anonymous = await t.app.inject({ url: `${url}/${submitted.id}` });
    expect(anonymous.statusCode).toBe(401);
  });

  it('keeps a comment thread visible to the office and its reviewers, without changing the version', async () => {
    const author = org.user('officeA1', 'contributor');
    const post = await createPostVia(t.app, author, { body: 'Mohon masukan' });
    const reviewer = org.user('national', 'reviewer');
    const comment = await t.app.inject({
      method: 'POST',
      url: `${url}/${post.id}/comments`,
      headers: reviewer.headers,
      payload: { body: 'Foto kurang terang, tolong ganti.' },
    });
    expect(comment.statusCode).toBe(201);
    expect(comment.json()).toMatchObject({
      kind: 'comment',
      actor: { id: reviewer.id },
      body: 'Foto kurang terang, tolong ganti.',
    });
    await t.app.inject({
      method: 'POST',
      url: `${url}/${post.id}/comments`,
      headers: author.headers,
      payload: { body: 'Baik, segera kami ganti.' },
    });
    const thread = (await t.app.inject({ url: `${url}/${post.id}/comments`, headers: author.headers })).json()
      .comments;
    expect(thread.map((c: { body: string }) => c.body)).toEqual([
      'Foto kurang terang, tolong ganti.',
      'Baik, segera kami ganti.',
    ]);
    const stored = (await t.app.inject({ url: `${url}/${post.id}`, headers: author.headers })).json();
    expect(stored.version).toBe(post.version);
    const outsider = await t.app.inject({
      method: 'POST',
      url: `${url}/${post.id}/comments`,
      headers: org.user('officeB1', 'contributor').headers,
      payload: { body: 'Ikut komentar' },
    });
    expect(outsider.statusCode).toBe(404);
  });

  it('lists what each actor may see, with filters', async () => {
    const a2 = org.user('officeA2', 'contributor');
    const b1 = org.user('officeB1', 'contributor');
    const draftA2 = await createPostVia(t.app, a2, { body: 'Razia orang asing di Batam' }, { submit: false });
    const submittedA2 = await createPostVia(t.app, a2, { body: 'Razia gabungan pengawasan orang asing' });
    const submittedB1 = await createPostVia(t.app, b1, { body: 'Pengawasan orang asing di Makassar' });
    const list = async (user: ReturnType<TestOrg['user']>, query = '') =>
      (await t.app.inject({ url: `${url}${query}`, headers: user.headers }))
        .json()
        .items.map((p: { id: string }) => p.id);

    const ownOffice = await list(a2);
    expect(ownOffice).toEqual(expect.arrayContaining([draftA2.id, submittedA2.id]));
    expect(ownOffice).not.toContain(submittedB1.id);

    const regionA = await list(org.user('regionA', 'reviewer'));
    expect(regionA).toContain(submittedA2.id);
    expect(regionA).not.toContain(draftA2.id);
    expect(regionA).not.toContain(submittedB1.id);

    const national = org.user('national', 'reviewer');
    expect(await list(national, `?q=${encodeURIComponent('orang asing')}`)).toEqual([
      submittedB1.id,
      submittedA2.id,
    ]);
    expect(await list(national, `?q=razia&status=submitted`)).toEqual([submittedA2.id]);
    expect(await list(national, `?unit=${org.units.regionB.id}&q=asing`)).toEqual([submittedB1.id]);
    expect(await list(national, `?author=${b1.id}`)).toEqual([submittedB1.id]);
    expect(await list(a2, `?status=draft,withdrawn&q=razia`)).toEqual([draftA2.id]);

    const hiddenUnit = await t.app.inject({
      url: `${url}?unit=${org.units.officeB1.id}`,
      headers: a2.headers,
    });
    expect(hiddenUnit.statusCode).toBe(404);
    const badStatus = await t.app.inject({ url: `${url}?status=published`, headers: a2.headers });
    expect(badStatus.statusCode).toBe(400);
  });

  it('pages with a cursor that stays stable while new posts arrive', async () => {
    const author = org.user('officeB2', 'contributor');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await createPostVia(t.app, author, { body: `Halaman ${i}` }, { submit: false })).id);
    const page = async (cursor?: string) =>
      (
        await t.app.inject({
          url: `${url}?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          headers: author.headers,
        })
      ).json() as { items: { id: string }[]; nextCursor: string | null };
    const first = await page();
    expect(first.items.map((p) => p.id)).toEqual([ids[4], ids[3]]);
    const newcomer = await createPostVia(t.app, author, { body: 'Datang belakangan' }, { submit: false });
    const second = await page(first.nextCursor!);
    const third = await page(second.nextCursor!);
    expect([...second.items, ...third.items].map((p) => p.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(third.nextCursor).toBeNull();
    expect((await page()).items[0]!.id).toBe(newcomer.id);
    const forged = await t.app.inject({ url: `${url}?cursor=bm9wZQ`, headers: author.headers });
    expect(forged.statusCode).toBe(400);
    expect(forged.json().errors[0].field).toBe('cursor');
  });
});
