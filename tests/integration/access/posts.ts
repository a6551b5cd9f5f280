import { createPostVia } from '../../helpers/posts';
import { accessTable, type ByUnit, call, everyone, type MatrixEnv, statuses } from './table';

/** Posts of an office: a draft and a submitted post of office A1, written by its contributor. */

/** A fresh post of office A1 for calls that change it. */
export const officeA1Post = (env: MatrixEnv, submit: boolean) =>
  createPostVia(
    env.app,
    env.org.user('officeA1', 'contributor'),
    { body: 'Pelayanan paspor hari Sabtu' },
    { submit },
  );

/** Who may read a submitted post of office A1: its office, and reviewers and admins above. */
export const readingSubmitted = (ok: number): ByUnit => ({
  national: [404, ok, ok],
  regionA: [404, ok, ok],
  regionB: [404, 404, 404],
  officeA1: [ok, ok, ok],
  officeA2: [404, 404, 404],
  officeB1: [404, 404, 404],
  officeB2: [404, 404, 404],
});

/** A draft stays inside office A1. */
export const insideOfficeA1 = (ok: number): ByUnit => ({
  national: [404, 404, 404],
  regionA: [404, 404, 404],
  regionB: [404, 404, 404],
  officeA1: [ok, ok, ok],
  officeA2: [404, 404, 404],
  officeB1: [404, 404, 404],
  officeB2: [404, 404, 404],
});

/** Who may read a submitted post of office A1: its office, and reviewers and admins above. */
const readSubmitted = (ok: number) => statuses(readingSubmitted(ok));

/** A draft stays inside office A1. */
const officeA1Only = (ok: number) => statuses(insideOfficeA1(ok));

export const postsTable = accessTable({
  name: 'posts',
  setup: async (env) => ({ draft: await officeA1Post(env, false), submitted: await officeA1Post(env, true) }),
  rows: [
    {
      route: 'POST /api/v1/posts',
      case: 'a draft in the own unit',
      request: () => call('POST', '/api/v1/posts', { body: 'Kabar dari kantor' }),
      expect: everyone(201),
    },
    {
      route: 'GET /api/v1/posts',
      request: () => call('GET', '/api/v1/posts'),
      expect: everyone(200),
    },
    {
      route: 'GET /api/v1/posts/:id',
      case: 'submitted',
      request: (_actor, f) => call('GET', `/api/v1/posts/${f.submitted.id}`),
      expect: readSubmitted(200),
    },
    {
      route: 'GET /api/v1/posts/:id',
      case: 'draft',
      request: (_actor, f) => call('GET', `/api/v1/posts/${f.draft.id}`),
      expect: officeA1Only(200),
    },
    {
      route: 'PATCH /api/v1/posts/:id',
      case: 'edit a draft',
      request: async (_actor, _f, env) => {
        const post = await officeA1Post(env, false);
        return call('PATCH', `/api/v1/posts/${post.id}`, { version: post.version, body: 'Diperbarui' });
      },
      expect: officeA1Only(200),
    },
    {
      route: 'POST /api/v1/posts/:id/submit',
      request: async (_actor, _f, env) => {
        const post = await officeA1Post(env, false);
        return call('POST', `/api/v1/posts/${post.id}/submit`, { version: post.version });
      },
      expect: officeA1Only(200),
    },
    {
      route: 'POST /api/v1/posts/:id/withdraw',
      case: 'a submitted post',
      request: async (_actor, _f, env) => {
        const post = await officeA1Post(env, true);
        return call('POST', `/api/v1/posts/${post.id}/withdraw`, { version: post.version });
      },
      expect: statuses({
        national: [404, 403, 403],
        regionA: [404, 403, 403],
        regionB: [404, 404, 404],
        officeA1: [200, 200, 200],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'GET /api/v1/posts/:id/events',
      request: (_actor, f) => call('GET', `/api/v1/posts/${f.submitted.id}/events`),
      expect: readSubmitted(200),
    },
    {
      route: 'GET /api/v1/posts/:id/comments',
      request: (_actor, f) => call('GET', `/api/v1/posts/${f.submitted.id}/comments`),
      expect: readSubmitted(200),
    },
    {
      route: 'POST /api/v1/posts/:id/comments',
      request: (_actor, f) =>
        call('POST', `/api/v1/posts/${f.submitted.id}/comments`, { body: 'Mohon foto lain' }),
      expect: readSubmitted(201),
    },
  ],
});
