// Prometheus metrics through prom-client: request durations by route, event-loop lag and process figures, database queries and pool.
import fp from 'fastify-plugin';
import client from 'prom-client';
import type pg from 'pg';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: client.Registry;
  }
  interface FastifyRequest {
    startedAt: bigint;
  }
}

/** Created before the database so that its query hook can feed the histogram. */
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const http = new client.Histogram({
    name: 'noper_http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const queries = new client.Histogram({
    name: 'noper_db_query_duration_seconds',
    help: 'Database query duration',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [registry],
  });
  return { registry, http, onQuery: (ms: number) => queries.observe(ms / 1000) };
}

export type Metrics = ReturnType<typeof createMetrics>;

export default fp(
  async (app, opts: { metrics: Metrics; pool: pg.Pool | undefined; sockets: () => number }) => {
    const { registry, http } = opts.metrics;
    const pool = opts.pool;
    new client.Gauge({
      name: 'noper_db_pool_connections',
      help: 'PostgreSQL pool connections by state (SQLite: one embedded connection)',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        if (pool) {
          this.set({ state: 'total' }, pool.totalCount);
          this.set({ state: 'idle' }, pool.idleCount);
          this.set({ state: 'waiting' }, pool.waitingCount);
        } else this.set({ state: 'total' }, 1);
      },
    });
    new client.Gauge({
      name: 'noper_websocket_connections',
      help: 'Open live-update sockets in this process',
      registers: [registry],
      collect() {
        this.set(opts.sockets());
      },
    });
    app.decorate('metrics', registry);
    app.decorateRequest('startedAt', 0n);
    app.addHook('onRequest', async (req) => {
      req.startedAt = process.hrtime.bigint();
    });
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      http.observe({ method: req.method, route, status: String(reply.statusCode) }, Number(process.hrtime.bigint() - req.startedAt) / 1e9);
    });
  },
  { name: 'noper-metrics' },
);
