import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Gaung's Prometheus figures, on a registry of its own (one per process, or per test app). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gaung_process_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'gaung_http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'gaung_http_request_duration_seconds',
      help: 'HTTP request duration by route',
      labelNames: ['method', 'route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    queueJobs: new Gauge({
      name: 'gaung_queue_jobs',
      help: 'Jobs in each BullMQ queue by state',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
    }),
    deliveriesDue: new Gauge({
      name: 'gaung_deliveries_due',
      help: 'Scheduled deliveries whose time has come (on active channels)',
      registers: [registry],
    }),
    deliveriesQueued: new Gauge({
      name: 'gaung_deliveries_queued',
      help: 'Publish jobs in Redis (waiting, delayed or running)',
      registers: [registry],
    }),
    deliveriesPublishing: new Gauge({
      name: 'gaung_deliveries_publishing',
      help: 'Deliveries claimed by a worker right now',
      registers: [registry],
    }),
    deliveriesNeedingAttention: new Gauge({
      name: 'gaung_deliveries_needing_attention',
      help: 'Deliveries that are failed, unsure (unknown) or waiting for a person, by status',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    deliveriesPublished: new Counter({
      name: 'gaung_deliveries_published_total',
      help: 'Deliveries published, by platform',
      labelNames: ['platform'] as const,
      registers: [registry],
    }),
    deliveriesFailed: new Counter({
      name: 'gaung_deliveries_failed_total',
      help: 'Deliveries that ended failed, by platform',
      labelNames: ['platform'] as const,
      registers: [registry],
    }),
    publishAttempts: new Counter({
      name: 'gaung_publish_attempts_total',
      help: 'Publish attempts and reconciliation checks, by platform and outcome',
      labelNames: ['platform', 'outcome'] as const,
      registers: [registry],
    }),
    publishLateness: new Histogram({
      name: 'gaung_publish_lateness_seconds',
      help: 'Start of a publish attempt minus the time it was due',
      labelNames: ['platform'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 3600],
      registers: [registry],
    }),
    sourcePolls: new Counter({
      name: 'gaung_source_polls_total',
      help: 'Polls of office sources, by source kind and outcome (polled, failed)',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    }),
    sourceItemsImported: new Counter({
      name: 'gaung_source_items_imported_total',
      help: 'Items of office sources brought in as posts, by source kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
