import type { WebRequest } from './table';
import { json, nationalAdmin, page, webTable } from './table';

/**
 * The BullMQ dashboard at /admin/queues: admins of the root unit only, everyone else 403 before the
 * dashboard sees the request. It is read-only, so its writes answer the national admin with a
 * refusal of its own (405, or 400 where the body is checked first; pausing all is a no-op).
 * Requests name the real `publish` queue and a job that does not exist.
 */

const Q = '/admin/queues';
const JOB = `${Q}/api/queues/publish/no-such-job`;

/** [route, request, what the national admin gets]. */
const ROUTES: Array<[string, WebRequest, number]> = [
  ['GET /admin/queues', page(Q), 200],
  ['GET /admin/queues*', page(`${Q}/static/unknown.js`), 404],
  ['GET /admin/queues/job-schedulers', page(`${Q}/job-schedulers`), 200],
  ['GET /admin/queues/metrics-history', page(`${Q}/metrics-history`), 200],
  ['GET /admin/queues/queue/:queueName', page(`${Q}/queue/publish`), 200],
  ['GET /admin/queues/queue/:queueName/:jobId', page(`${Q}/queue/publish/no-such-job`), 200],
  ['GET /admin/queues/api/job-schedulers', page(`${Q}/api/job-schedulers`), 200],
  ['GET /admin/queues/api/queues', page(`${Q}/api/queues`), 200],
  ['GET /admin/queues/api/redis/stats', page(`${Q}/api/redis/stats`), 200],
  ['GET /admin/queues/api/queues/:queueName/:jobId', page(JOB), 404],
  ['GET /admin/queues/api/queues/:queueName/:jobId/flow', page(`${JOB}/flow`), 404],
  ['GET /admin/queues/api/queues/:queueName/:jobId/logs', page(`${JOB}/logs`), 200],
  [
    'GET /admin/queues/api/queues/:queueName/default-job-options',
    page(`${Q}/api/queues/publish/default-job-options`),
    200,
  ],
  [
    'GET /admin/queues/api/queues/:queueName/job-data-schema',
    page(`${Q}/api/queues/publish/job-data-schema`),
    200,
  ],
  ['GET /admin/queues/api/queues/:queueName/metrics', page(`${Q}/api/queues/publish/metrics`), 200],
  ['GET /admin/queues/api/queues/:queueName/rate-limit', page(`${Q}/api/queues/publish/rate-limit`), 200],
  ['GET /admin/queues/api/queues/:queueName/workers', page(`${Q}/api/queues/publish/workers`), 200],
  [
    'PATCH /admin/queues/api/queues/:queueName/:jobId/delay',
    json('PATCH', `${JOB}/delay`, { delay: 1000 }),
    400,
  ],
  [
    'PATCH /admin/queues/api/queues/:queueName/:jobId/priority',
    json('PATCH', `${JOB}/priority`, { priority: 1 }),
    405,
  ],
  [
    'PATCH /admin/queues/api/queues/:queueName/:jobId/update-data',
    json('PATCH', `${JOB}/update-data`, {}),
    400,
  ],
  [
    'PATCH /admin/queues/api/queues/:queueName/job-schedulers/:schedulerId',
    json('PATCH', `${Q}/api/queues/publish/job-schedulers/none`, {}),
    400,
  ],
  ['POST /admin/queues/api/queues/:queueName/add', json('POST', `${Q}/api/queues/publish/add`, {}), 405],
  ['PUT /admin/queues/api/queues/:queueName/:jobId/clean', json('PUT', `${JOB}/clean`), 405],
  ['PUT /admin/queues/api/queues/:queueName/:jobId/promote', json('PUT', `${JOB}/promote`), 405],
  [
    'PUT /admin/queues/api/queues/:queueName/:jobId/remove-unprocessed-children',
    json('PUT', `${JOB}/remove-unprocessed-children`),
    405,
  ],
  ['PUT /admin/queues/api/queues/:queueName/:jobId/retry', json('PUT', `${JOB}/retry`), 405],
  [
    'PUT /admin/queues/api/queues/:queueName/clean/:queueStatus',
    json('PUT', `${Q}/api/queues/publish/clean/failed`),
    405,
  ],
  [
    'PUT /admin/queues/api/queues/:queueName/concurrency',
    json('PUT', `${Q}/api/queues/publish/concurrency`),
    400,
  ],
  ['PUT /admin/queues/api/queues/:queueName/empty', json('PUT', `${Q}/api/queues/publish/empty`), 405],
  [
    'PUT /admin/queues/api/queues/:queueName/job-schedulers/:schedulerId/remove',
    json('PUT', `${Q}/api/queues/publish/job-schedulers/none/remove`),
    405,
  ],
  [
    'PUT /admin/queues/api/queues/:queueName/job-schedulers/:schedulerId/run',
    json('PUT', `${Q}/api/queues/publish/job-schedulers/none/run`),
    405,
  ],
  [
    'PUT /admin/queues/api/queues/:queueName/obliterate',
    json('PUT', `${Q}/api/queues/publish/obliterate`),
    405,
  ],
  ['PUT /admin/queues/api/queues/:queueName/pause', json('PUT', `${Q}/api/queues/publish/pause`), 405],
  ['PUT /admin/queues/api/queues/:queueName/promote', json('PUT', `${Q}/api/queues/publish/promote`), 405],
  [
    'PUT /admin/queues/api/queues/:queueName/rate-limit',
    json('PUT', `${Q}/api/queues/publish/rate-limit`),
    405,
  ],
  [
    'PUT /admin/queues/api/queues/:queueName/rate-limit/release',
    json('PUT', `${Q}/api/queues/publish/rate-limit/release`),
    405,
  ],
  ['PUT /admin/queues/api/queues/:queueName/resume', json('PUT', `${Q}/api/queues/publish/resume`), 405],
  [
    'PUT /admin/queues/api/queues/:queueName/retry/:queueStatus',
    json('PUT', `${Q}/api/queues/publish/retry/failed`),
    405,
  ],
  // Pausing or resuming all queues skips read-only ones: done, with nothing to do.
  ['PUT /admin/queues/api/queues/pause', json('PUT', `${Q}/api/queues/pause`), 200],
  ['PUT /admin/queues/api/queues/resume', json('PUT', `${Q}/api/queues/resume`), 200],
];

export const queuesTable = webTable({
  name: 'queue dashboard',
  rows: ROUTES.map(([route, request, admin]) => ({
    route,
    request: () => request,
    // The dashboard answers problem+json, never the sign-in page: callers without a session get 401.
    expect: { ...nationalAdmin(admin), anonymous: 401, revoked: 401, disabled: 401 },
  })),
});
