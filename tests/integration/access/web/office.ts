import { TEST_PASSWORD } from '../../../helpers/org';
import { insideOfficeA1, officeA1Post, readingSubmitted } from '../posts';
import { anyone, form, json, page, signedIn, webTable } from './table';

/**
 * An office's own pages: its posts (a draft and a submitted post of office A1, written by its
 * contributor), comments, notifications and the person's account.
 */

/** A submitted post of office A1: its office, and the reviewers and admins above. */
export const readSubmitted = (ok: number) => signedIn(readingSubmitted(ok));

/** A draft stays inside office A1. */
export const officeA1Only = (ok: number) => signedIn(insideOfficeA1(ok));

export const officeTable = webTable({
  name: 'office pages',
  setup: async (env) => ({ draft: await officeA1Post(env, false), submitted: await officeA1Post(env, true) }),
  rows: [
    { route: 'GET /', request: () => page('/'), expect: anyone(303) },
    { route: 'GET /posts', request: () => page('/posts'), expect: anyone(200) },
    { route: 'GET /posts/new', request: () => page('/posts/new'), expect: anyone(200) },
    {
      route: 'POST /posts',
      case: 'a draft in the own unit',
      request: () => form('/posts', { body: 'Kabar dari kantor' }),
      expect: anyone(303),
    },
    {
      route: 'GET /posts/:id',
      case: 'submitted',
      request: (_actor, f) => page(`/posts/${f.submitted.id}`),
      expect: readSubmitted(200),
    },
    {
      route: 'GET /posts/:id',
      case: 'draft',
      request: (_actor, f) => page(`/posts/${f.draft.id}`),
      expect: officeA1Only(200),
    },
    {
      route: 'GET /posts/:id/edit',
      case: 'draft',
      request: (_actor, f) => page(`/posts/${f.draft.id}/edit`),
      expect: officeA1Only(200),
    },
    {
      route: 'POST /posts/:id',
      case: 'edit a draft',
      request: async (_actor, _f, env) => {
        const post = await officeA1Post(env, false);
        return form(`/posts/${post.id}`, { version: String(post.version), body: 'Diperbarui' });
      },
      expect: officeA1Only(303),
    },
    {
      route: 'POST /posts/:id/submit',
      request: async (_actor, _f, env) => {
        const post = await officeA1Post(env, false);
        return form(`/posts/${post.id}/submit`, { version: String(post.version) });
      },
      expect: officeA1Only(303),
    },
    {
      route: 'POST /posts/:id/withdraw',
      case: 'a submitted post',
      request: async (_actor, _f, env) => {
        const post = await officeA1Post(env, true);
        return form(`/posts/${post.id}/withdraw`, { version: String(post.version) });
      },
      expect: signedIn({
        national: [404, 403, 403],
        regionA: [404, 403, 403],
        regionB: [404, 404, 404],
        officeA1: [303, 303, 303],
        officeA2: [404, 404, 404],
        officeB1: [404, 404, 404],
        officeB2: [404, 404, 404],
      }),
    },
    {
      route: 'POST /posts/:id/comments',
      request: (_actor, f) => form(`/posts/${f.submitted.id}/comments`, { body: 'Mohon foto lain' }),
      expect: readSubmitted(303),
    },
    {
      route: 'POST /ui/preview',
      request: () => json('POST', '/ui/preview', { body: 'Pratinjau kabar kantor' }),
      // A JSON endpoint: callers without a session get 401 problem+json, not the sign-in page.
      expect: { ...anyone(200), anonymous: 401, revoked: 401, disabled: 401 },
    },
    { route: 'GET /notifications', request: () => page('/notifications'), expect: anyone(200) },
    { route: 'POST /notifications/read', request: () => form('/notifications/read'), expect: anyone(303) },
    { route: 'GET /account', request: () => page('/account'), expect: anyone(200) },
    {
      route: 'POST /account/locale',
      request: () => form('/account/locale', { locale: 'id' }),
      expect: anyone(303),
    },
    {
      route: 'POST /account/notifications',
      request: () => form('/account/notifications', { dailyDigest: 'on' }),
      expect: anyone(303),
    },
    {
      route: 'POST /account/password',
      case: 'a new password of the person’s own',
      request: () =>
        form('/account/password', {
          currentPassword: TEST_PASSWORD,
          newPassword: 'kata-sandi-baru-matriks-9',
        }),
      expect: anyone(303),
    },
  ],
});
