import { asc } from 'drizzle-orm';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiTokens,
  auditEvents,
  channels,
  deliveries,
  media,
  postEvents,
  posts,
  sessions,
  units,
  users,
} from '../../src/db/schema';
import { createTestApp, type TestApp } from '../helpers/context';
import { testDrivers } from '../helpers/db';
import { seedTestOrg, TEST_PASSWORD, type TestOrg } from '../helpers/org';
import { createPostVia, insertChannel, insertMedia } from '../helpers/posts';

/**
 * Bad input to every endpoint of units, users, sign-in, tokens and audit, and to the post, review,
 * media and delivery endpoints that take a body: each answer is a 4xx
 * problem+json that names the field, and nothing stored changes.
 */

type Json = Record<string, unknown>;

interface Endpoint {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: (org: TestOrg) => string;
  /** A body that would be accepted; every case spoils one thing in it. */
  body?: (org: TestOrg) => Json;
  required?: string[];
  /** Fields holding names of people or units: SQL and HTML must be refused there. */
  names?: string[];
  /** Query parameters with a value that must be refused, and a too-long value for each. */
  query?: Record<string, string>;
  /** Sent without credentials. */
  anonymous?: boolean;
  /** String fields where an empty value is a valid one (alt text may be cleared). */
  emptyOk?: string[];
  /** Further spoilt bodies, inside lists: [title, changes to the valid body, the field named]. */
  more?: Array<[string, Json, string]>;
}

/** An id of nothing: the body is refused before any lookup, so the target need not exist. */
const NOWHERE = '00000000-0000-4000-8000-000000000000';

const ENDPOINTS: Endpoint[] = [
  {
    method: 'POST',
    url: () => '/units',
    body: (org) => ({
      parentId: org.units.regionA.id,
      kind: 'office',
      name: 'Kantor Baru',
      slug: 'kantor-baru',
    }),
    required: ['parentId', 'kind', 'name', 'slug'],
    names: ['name'],
  },
  {
    method: 'PATCH',
    url: (org) => `/units/${org.units.officeA1.id}`,
    body: (org) => ({
      name: 'Kantor A1',
      slug: 'kantor-a1-baru',
      timeZone: 'Asia/Jakarta',
      parentId: org.units.regionA.id,
    }),
    names: ['name'],
  },
  { method: 'GET', url: (org) => `/units/${org.units.officeA1.id}` },
  {
    method: 'POST',
    url: () => '/users',
    body: (org) => ({
      email: 'baru@gaung.test',
      name: 'Orang Baru',
      role: 'contributor',
      unitId: org.units.officeA1.id,
      locale: 'id',
      password: 'kata-sandi-baru-123',
    }),
    required: ['email', 'name', 'role', 'unitId', 'password'],
    names: ['name'],
  },
  {
    method: 'PATCH',
    url: (org) => `/users/${org.user('officeA1', 'contributor').id}`,
    body: (org) => ({
      name: 'Nama',
      locale: 'en',
      role: 'reviewer',
      unitId: org.units.officeA2.id,
      disabled: true,
    }),
    names: ['name'],
  },
  { method: 'GET', url: (org) => `/users/${org.user('officeA1', 'contributor').id}` },
  {
    method: 'GET',
    url: () => '/users',
    query: { unitId: 'bukan-uuid', role: 'superadmin', disabled: 'mungkin', limit: 'banyak', q: '' },
  },
  {
    method: 'POST',
    url: () => '/auth/login',
    body: (org) => ({ email: org.user('officeA1', 'admin').email, password: TEST_PASSWORD }),
    required: ['email', 'password'],
    anonymous: true,
  },
  {
    method: 'POST',
    url: () => '/auth/password',
    body: () => ({ currentPassword: TEST_PASSWORD, newPassword: 'sandi-baru-yang-panjang' }),
    required: ['currentPassword', 'newPassword'],
  },
  {
    method: 'POST',
    url: () => '/tokens',
    body: () => ({ name: 'skrip', expiresAt: '2999-01-01T00:00:00Z', currentPassword: TEST_PASSWORD }),
    required: ['name', 'currentPassword'],
  },
  { method: 'DELETE', url: () => `/tokens/${crypto.randomUUID()}` },
  { method: 'GET', url: () => '/tokens', query: { anything: '1' } },
  {
    method: 'GET',
    url: () => '/audit',
    query: {
      unitId: '1 or 1=1',
      action: "x' or '1'='1",
      from: 'kemarin',
      to: '2024-13-45',
      cursor: '-1',
      limit: '0',
    },
  },
  { method: 'GET', url: () => '/me', query: { debug: '1' } },
  // Posts, reviews, media, channels and deliveries.
  {
    method: 'POST',
    url: () => `/posts/${NOWHERE}/comments`,
    body: () => ({ body: 'Mohon cek ejaan judul.' }),
    required: ['body'],
  },
  {
    method: 'POST',
    url: () => `/posts/${NOWHERE}/withdraw`,
    body: () => ({ version: 1, reason: 'Acara dibatalkan' }),
  },
  {
    method: 'POST',
    url: () => `/posts/${NOWHERE}/request-changes`,
    body: () => ({ version: 1, comment: 'Tambahkan jam layanan.' }),
    required: ['version', 'comment'],
  },
  {
    method: 'POST',
    url: () => `/posts/${NOWHERE}/reject`,
    body: () => ({ version: 1, reason: 'Bukan untuk akun nasional.' }),
    required: ['version', 'reason'],
  },
  {
    method: 'PATCH',
    url: () => `/media/${NOWHERE}`,
    body: () => ({ altText: 'Petugas melayani pemohon paspor' }),
    required: ['altText'],
    emptyOk: ['altText'],
  },
  {
    method: 'PATCH',
    url: () => `/deliveries/${NOWHERE}`,
    body: () => ({ dueAt: '2999-01-01T09:00:00+07:00', version: 1 }),
    required: ['dueAt', 'version'],
  },
  {
    method: 'POST',
    url: () => `/deliveries/${NOWHERE}/confirm`,
    body: () => ({ url: 'https://x.com/imigrasi/status/1', version: 1 }),
    required: ['url'],
  },
  { method: 'POST', url: () => `/deliveries/${NOWHERE}/retry`, body: () => ({ version: 1 }) },
  { method: 'POST', url: () => `/deliveries/${NOWHERE}/cancel`, body: () => ({ version: 1 }) },
  {
    method: 'POST',
    url: () => `/posts/${NOWHERE}/approve`,
    body: () => ({
      version: 1,
      targets: [{ channelId: NOWHERE, at: '2999-01-01T09:00:00+07:00' }],
      comment: 'Layak tayang',
    }),
    required: ['version', 'targets'],
    more: [
      [
        'a target channel id that is not one',
        { targets: [{ channelId: 'bukan-uuid', at: 'now' }] },
        'targets.0.channelId',
      ],
      [
        'a target time that is not one',
        { targets: [{ channelId: NOWHERE, at: 'besok pagi' }] },
        'targets.0.at',
      ],
      [
        'a target mode that does not exist',
        { targets: [{ channelId: NOWHERE, at: 'now', mode: 'blast' }] },
        'targets.0.mode',
      ],
      [
        'a target text of 100 kB',
        { targets: [{ channelId: NOWHERE, at: 'now', text: 'a'.repeat(100_000) }] },
        'targets.0.text',
      ],
      [
        'an unknown field in a target',
        { targets: [{ channelId: NOWHERE, at: 'now', priority: 'tinggi' }] },
        'targets.0.priority',
      ],
      ['a target that is not an object', { targets: ['semua'] }, 'targets.0'],
    ],
  },
  {
    method: 'POST',
    url: () => '/channels',
    body: (org) => ({
      unitId: org.units.regionA.id,
      platform: 'sandbox',
      name: 'Kanal Baru',
      minSpacingMinutes: 30,
      slots: ['0 9 * * *'],
    }),
    required: ['unitId', 'platform', 'name'],
  },
  {
    method: 'PATCH',
    url: () => `/channels/${NOWHERE}`,
    body: () => ({ name: 'Kanal Lama', paused: true, minSpacingMinutes: 30 }),
  },
  {
    method: 'PUT',
    url: () => `/channels/${NOWHERE}/slots`,
    body: () => ({ slots: ['0 9 * * *'] }),
    required: ['slots'],
    more: [
      ['a slot of 200 characters', { slots: ['0 9 * * *', '1'.repeat(200)] }, 'slots.1'],
      ['a slot that is not text', { slots: [9] }, 'slots.0'],
      ['101 slots', { slots: Array.from({ length: 101 }, (_, i) => `${i % 60} 9 * * *`) }, 'slots'],
    ],
  },
  {
    method: 'POST',
    url: () => `/channels/${NOWHERE}/connect/meta`,
    body: () => ({ userAccessToken: 'token-pengguna-meta', pageId: '1234567890' }),
    required: ['userAccessToken'],
  },
];

const WRONG_TYPE: Record<string, unknown> = { string: 12345, number: 'x', boolean: 'yes', object: 'x' };
const SQL_NAMES = ["Robert'); DROP TABLE units; --", "x' OR '1'='1"];
const HTML_NAMES = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', 'Kantor <b>Tebal</b>'];

interface Case {
  title: string;
  request: InjectOptions;
  status: number;
  /** The field the problem must name; null where the body could not even be read. */
  field: string | null;
  code?: string;
}

function casesFor(endpoint: Endpoint, org: TestOrg): Case[] {
  const url = `/api/v1${endpoint.url(org)}`;
  const method = endpoint.method;
  const json = (title: string, payload: unknown, field: string | null, status = 400): Case => ({
    title,
    request: { method, url, payload: payload as Json },
    status,
    field,
  });
  const cases: Case[] = [];
  const idParam = /\/(units|users|tokens)\/[0-9a-f-]{36}$/.exec(url);
  if (idParam)
    for (const id of ['not-a-uuid', "1' OR '1'='1", '<script>'])
      cases.push({
        title: `id ${id}`,
        request: {
          method,
          url: url.replace(/[0-9a-f-]{36}$/, encodeURIComponent(id)),
          ...(endpoint.body ? { payload: endpoint.body(org) } : {}),
        },
        status: 400,
        field: 'id',
      });
  for (const [name, value] of Object.entries(endpoint.query ?? {})) {
    cases.push({
      title: `query ${name}=${value}`,
      request: { method, url, query: { [name]: value } },
      status: 400,
      field: name,
    });
    cases.push({
      title: `query ${name} too long`,
      request: { method, url, query: { [name]: 'x'.repeat(5_000) } },
      status: 400,
      field: name,
    });
  }
  if (!endpoint.body) return cases;
  const valid = endpoint.body(org);
  cases.push({
    title: 'malformed JSON',
    request: { method, url, headers: { 'content-type': 'application/json' }, payload: '{"name": "Kantor' },
    status: 400,
    field: null,
    code: 'malformed_json',
  });
  cases.push(json('an array instead of an object', [valid], 'body'));
  cases.push(json('an unknown field', { ...valid, isAdmin: true }, 'isAdmin'));
  cases.push(
    json('an unknown field that would grant power', { ...valid, role: 'admin', unitPath: '/' }, 'unitPath'),
  );
  for (const field of endpoint.required ?? []) {
    const { [field]: _, ...rest } = valid;
    cases.push(json(`${field} missing`, rest, field));
  }
  for (const [field, value] of Object.entries(valid)) {
    cases.push(json(`${field} of the wrong type`, { ...valid, [field]: WRONG_TYPE[typeof value] }, field));
    cases.push(json(`${field} null`, { ...valid, [field]: null }, field));
    if (typeof value === 'string') {
      cases.push(json(`${field} of 200 kB`, { ...valid, [field]: 'a'.repeat(200_000) }, field));
      if (!endpoint.emptyOk?.includes(field))
        cases.push(json(`${field} empty`, { ...valid, [field]: '' }, field));
    }
  }
  const firstString = Object.entries(valid).find(([, value]) => typeof value === 'string')?.[0] ?? 'padding';
  cases.push({
    ...json(`${firstString} of 10 MB`, { ...valid, [firstString]: 'a'.repeat(10 * 1024 * 1024) }, null, 413),
    code: 'body_too_large',
  });
  for (const field of endpoint.names ?? [])
    for (const name of [...SQL_NAMES, ...HTML_NAMES])
      cases.push(json(`${field} = ${name}`, { ...valid, [field]: name }, field));
  for (const [title, change, field] of endpoint.more ?? [])
    cases.push(json(title, { ...valid, ...change }, field));
  return cases;
}

describe.each(testDrivers())('bad input on %s', (driver) => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await createTestApp(driver);
    org = await seedTestOrg(t.ctx);
  });
  afterAll(async () => {
    await t.close();
  });

  const snapshot = async () =>
    JSON.stringify({
      units: await t.ctx.db.select().from(units).orderBy(asc(units.id)),
      users: await t.ctx.db.select().from(users).orderBy(asc(users.id)),
      sessions: await t.ctx.db.select().from(sessions).orderBy(asc(sessions.id)),
      apiTokens: await t.ctx.db.select().from(apiTokens).orderBy(asc(apiTokens.id)),
      auditEvents: await t.ctx.db.select().from(auditEvents).orderBy(asc(auditEvents.id)),
      posts: await t.ctx.db.select().from(posts).orderBy(asc(posts.id)),
      postEvents: await t.ctx.db.select().from(postEvents).orderBy(asc(postEvents.id)),
      media: await t.ctx.db.select().from(media).orderBy(asc(media.id)),
      channels: await t.ctx.db.select().from(channels).orderBy(asc(channels.id)),
      deliveries: await t.ctx.db.select().from(deliveries).orderBy(asc(deliveries.id)),
    });

  it('answers every case with a 4xx problem naming the field, and changes nothing stored', async () => {
    const admin = org.user('national', 'admin');
    // The token's last_used_at is written on first use; use it once so the snapshot is stable.
    expect((await t.app.inject({ url: '/api/v1/me', headers: admin.headers })).statusCode).toBe(200);
    const before = await snapshot();
    const failures: string[] = [];
    let count = 0;
    for (const endpoint of ENDPOINTS)
      for (const c of casesFor(endpoint, org)) {
        count++;
        const headers = { ...(endpoint.anonymous ? {} : admin.headers), ...(c.request.headers as object) };
        const response = await t.app.inject({ ...c.request, headers });
        const where = `${endpoint.method} ${endpoint.url(org)} — ${c.title}`;
        const problem = response.headers['content-type']?.toString().startsWith('application/problem+json')
          ? (response.json() as { status: number; code: string; errors?: Array<{ field: string }> })
          : null;
        if (response.statusCode !== c.status || !problem || problem.status !== c.status)
          failures.push(`${where}: ${response.statusCode} ${response.body.slice(0, 200)}`);
        else if (c.field && !problem.errors?.some((e) => e.field === c.field))
          failures.push(`${where}: no error for "${c.field}" in ${JSON.stringify(problem.errors)}`);
        else if (c.code && problem.code !== c.code) failures.push(`${where}: code ${problem.code}`);
      }
    expect(failures).toEqual([]);
    expect(count).toBeGreaterThan(150);
    expect(await snapshot()).toBe(before);
  });

  it('refuses another office’s posts and media, and stale versions, naming what and changing nothing', async () => {
    const author = org.user('officeB1', 'contributor');
    const draft = await createPostVia(t.app, author, { body: 'Draf kantor B1' }, { submit: false });
    const submitted = await createPostVia(t.app, author, { body: 'Diajukan kantor B1' });
    const foreignMedia = await insertMedia(t.ctx, org.units.officeB1);
    const outsider = org.user('officeA1', 'admin').headers;
    const reviewer = org.user('regionB', 'reviewer').headers;
    // Each token's last_used_at is written on first use; use them once so the snapshot is stable.
    for (const headers of [outsider, reviewer, author.headers, org.user('officeA1', 'contributor').headers])
      await t.app.inject({ url: '/api/v1/me', headers });
    const before = await snapshot();
    const cases: Array<[string, InjectOptions, number, string]> = [
      [
        'comment on another office’s draft',
        {
          method: 'POST',
          url: `/api/v1/posts/${draft.id}/comments`,
          headers: outsider,
          payload: { body: 'Halo' },
        },
        404,
        'not_found',
      ],
      [
        'edit another office’s draft',
        {
          method: 'PATCH',
          url: `/api/v1/posts/${draft.id}`,
          headers: outsider,
          payload: { version: draft.version, body: 'Diubah' },
        },
        404,
        'not_found',
      ],
      [
        'alt text of another office’s medium',
        {
          method: 'PATCH',
          url: `/api/v1/media/${foreignMedia}`,
          headers: outsider,
          payload: { altText: 'Diubah' },
        },
        404,
        'not_found',
      ],
      [
        'a post in another office pointing at this office’s medium',
        {
          method: 'POST',
          url: '/api/v1/posts',
          headers: org.user('officeA1', 'contributor').headers,
          payload: { body: 'Pinjam foto', media: [{ id: foreignMedia }] },
        },
        400,
        'validation_failed',
      ],
      [
        'a decision on a stale version',
        {
          method: 'POST',
          url: `/api/v1/posts/${submitted.id}/request-changes`,
          headers: reviewer,
          payload: { version: submitted.version + 5, comment: 'Lama' },
        },
        409,
        'stale_version',
      ],
      [
        'an edit of a stale version',
        {
          method: 'PATCH',
          url: `/api/v1/posts/${submitted.id}`,
          headers: author.headers,
          payload: { version: submitted.version - 1, body: 'Lama' },
        },
        409,
        'stale_version',
      ],
    ];
    const failures: string[] = [];
    for (const [title, request, status, code] of cases) {
      const response = await t.app.inject(request);
      const problem = response.headers['content-type']?.toString().startsWith('application/problem+json')
        ? (response.json() as { code: string })
        : null;
      if (response.statusCode !== status || problem?.code !== code)
        failures.push(`${title}: ${response.statusCode} ${response.body.slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
    expect(await snapshot()).toBe(before);
  });

  it('refuses approvals, channels and deliveries of another office, over-long texts and stale versions, naming the field and changing nothing', async () => {
    const inAWeek = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const officeB1 = await createPostVia(t.app, org.user('officeB1', 'contributor'), {
      body: 'Layanan paspor Sabtu',
    });
    const regionAChannel = await insertChannel(t.ctx, org.units.regionA, 'sandbox', {
      name: 'Sandbox Kanwil A',
    });
    const regionBX = await insertChannel(t.ctx, org.units.regionB, 'x', { name: 'X Kanwil B' });
    const regionBSandbox = await insertChannel(t.ctx, org.units.regionB, 'sandbox', {
      name: 'Sandbox Kanwil B',
    });
    // A delivery of region B, for the steps on it.
    const approved = await createPostVia(t.app, org.user('officeB1', 'contributor'), {
      body: 'Jadwal layanan',
    });
    const approval = await t.app.inject({
      method: 'POST',
      url: `/api/v1/posts/${approved.id}/approve`,
      headers: org.user('regionB', 'reviewer').headers,
      payload: { version: approved.version, targets: [{ channelId: regionBSandbox, at: inAWeek }] },
    });
    expect(approval.statusCode, approval.body).toBe(200);
    const delivery = (approval.json() as { deliveries: Array<{ id: string; version: number }> })
      .deliveries[0]!;
    const outsider = org.user('regionA', 'admin').headers;
    const reviewer = org.user('regionB', 'reviewer').headers;
    const admin = org.user('regionB', 'admin').headers;
    for (const headers of [outsider, reviewer, admin]) await t.app.inject({ url: '/api/v1/me', headers });
    const before = await snapshot();
    const approve = (targets: Json[], version = officeB1.version): InjectOptions => ({
      method: 'POST',
      url: `/api/v1/posts/${officeB1.id}/approve`,
      headers: reviewer,
      payload: { version, targets },
    });
    /**
     * [title, request, status, code, the field named: `errors[].field`, or `targets[i].issues[].field`
     * for a target; none where the refused thing is the one in the path, or its version: a stale
     * version is answered with the current one, `currentVersion`].
     */
    const cases: Array<[string, InjectOptions, number, string, string]> = [
      [
        'approve onto another office’s channel',
        approve([{ channelId: regionAChannel, at: inAWeek }]),
        422,
        'invalid_targets',
        'targets.0.channelId',
      ],
      [
        'approve onto a channel that does not exist',
        approve([{ channelId: crypto.randomUUID(), at: inAWeek }]),
        422,
        'invalid_targets',
        'targets.0.channelId',
      ],
      [
        'approve with a text over X’s limit',
        approve([{ channelId: regionBX, at: inAWeek, text: 'Layanan paspor. '.repeat(30) }]),
        422,
        'invalid_targets',
        'targets.0.text',
      ],
      [
        'approve a stale version',
        approve([{ channelId: regionBSandbox, at: inAWeek }], officeB1.version + 3),
        409,
        'stale_version',
        '',
      ],
      [
        'rename another office’s channel',
        {
          method: 'PATCH',
          url: `/api/v1/channels/${regionBSandbox}`,
          headers: outsider,
          payload: { name: 'Diambil' },
        },
        404,
        'not_found',
        '',
      ],
      [
        'posting slots of another office’s channel',
        {
          method: 'PUT',
          url: `/api/v1/channels/${regionBSandbox}/slots`,
          headers: outsider,
          payload: { slots: ['0 9 * * *'] },
        },
        404,
        'not_found',
        '',
      ],
      [
        'a posting slot that is not a schedule',
        {
          method: 'PUT',
          url: `/api/v1/channels/${regionBSandbox}/slots`,
          headers: admin,
          payload: { slots: ['0 9 * * *', 'tiap pagi'] },
        },
        400,
        'validation_failed',
        'slots.1',
      ],
      [
        'a channel in another office’s unit',
        {
          method: 'POST',
          url: '/api/v1/channels',
          headers: outsider,
          payload: { unitId: org.units.regionB.id, platform: 'sandbox', name: 'Kanal Titipan' },
        },
        404,
        'not_found',
        'unitId',
      ],
      [
        'connect another office’s channel',
        {
          method: 'POST',
          url: `/api/v1/channels/${regionBSandbox}/connect/meta`,
          headers: outsider,
          payload: { userAccessToken: 'token-pengguna-meta' },
        },
        404,
        'not_found',
        '',
      ],
      [
        'cancel another office’s delivery',
        { method: 'POST', url: `/api/v1/deliveries/${delivery.id}/cancel`, headers: outsider, payload: {} },
        404,
        'not_found',
        '',
      ],
      [
        'retry another office’s delivery',
        { method: 'POST', url: `/api/v1/deliveries/${delivery.id}/retry`, headers: outsider, payload: {} },
        404,
        'not_found',
        '',
      ],
      [
        'cancel a stale version of a delivery',
        {
          method: 'POST',
          url: `/api/v1/deliveries/${delivery.id}/cancel`,
          headers: reviewer,
          payload: { version: delivery.version + 2 },
        },
        409,
        'stale_version',
        '',
      ],
      [
        'retry a delivery that has not failed',
        {
          method: 'POST',
          url: `/api/v1/deliveries/${delivery.id}/retry`,
          headers: reviewer,
          payload: { version: delivery.version },
        },
        409,
        'invalid_transition',
        '',
      ],
    ];
    const failures: string[] = [];
    for (const [title, request, status, code, field] of cases) {
      const response = await t.app.inject(request);
      const problem = response.headers['content-type']?.toString().startsWith('application/problem+json')
        ? (response.json() as {
            code: string;
            errors?: Array<{ field: string }>;
            targets?: Array<{ issues: Array<{ field: string }> }>;
            currentVersion?: number;
          })
        : null;
      const targetField = /^targets\.(\d+)\.(\w+)$/.exec(field);
      const named = !field
        ? code !== 'stale_version' || typeof problem?.currentVersion === 'number'
        : targetField
          ? problem?.targets?.[Number(targetField[1])]?.issues.some((issue) => issue.field === targetField[2])
          : problem?.errors?.some((error) => error.field === field);
      if (response.statusCode !== status || problem?.code !== code || !named)
        failures.push(`${title}: ${response.statusCode} ${response.body.slice(0, 300)}`);
    }
    expect(failures).toEqual([]);
    expect(await snapshot()).toBe(before);
  });

  it('stores names with apostrophes verbatim (parameterised SQL, not refused)', async () => {
    const response = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${org.user('officeB1', 'contributor').id}`,
      headers: org.user('national', 'admin').headers,
      payload: { name: "Dr. Siti Nur'aini, S.H. (Humas) & Tim/Kanim-Bali" },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().name).toBe("Dr. Siti Nur'aini, S.H. (Humas) & Tim/Kanim-Bali");
  });
});
